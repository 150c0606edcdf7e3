//! Bad input is refused with the file, line and column that are wrong.

use std::io::Write;
use std::path::PathBuf;

use renewal_ingest::{IngestError, NoProgress, read_iod, read_lookups};
use renewal_test_support::{temp_dir, write_file};

use crate::{catalog, key, values};

const HEADER: &str = "\u{feff}LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Total population: mid 2015 (excluding prisoners)";

/// Rank of row `i`, written with a thousands separator as some exports do: 1100 → "1,100".
fn rank(i: usize) -> String {
    let r = 1000 + 100 * i;
    format!("\"{},{:03}\"", r / 1000, r % 1000)
}

fn rows(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            format!(
                "E01{i:06},Vale {i:03}A,E08999001,Renewal Vale,{},1{i:03}.00",
                rank(i)
            )
        })
        .collect()
}

fn csv(lines: &[String]) -> String {
    let mut s = HEADER.to_owned();
    for l in lines {
        s.push_str("\r\n");
        s.push_str(l);
    }
    s.push_str("\r\n");
    s
}

fn read(files: &[PathBuf]) -> Result<renewal_warehouse::Draft, IngestError> {
    read_iod(&catalog(), "2019", files, &NoProgress)
}

fn message(err: IngestError) -> String {
    err.to_string()
}

#[test]
fn good_file_with_thousands_separators_and_crlf() {
    let dir = temp_dir();
    let f = write_file(dir.path(), "good.csv", csv(&rows(3)));
    let v = values(&read(&[f]).unwrap());
    assert_eq!(v[&key("E01000002", "imd", "rank")], 1200.0);
    assert_eq!(
        v[&key("E01000003", "population_total", "denominator")],
        1003.0
    );
}

#[test]
fn bad_cell_halfway_names_file_line_and_column() {
    let dir = temp_dir();
    let mut lines = rows(60);
    lines[29] = lines[29].replace(&rank(30), "n/a");
    let f = write_file(dir.path(), "File_7.csv", csv(&lines));
    assert_eq!(
        message(read(&[f]).unwrap_err()),
        "File_7.csv, line 31, column 5 (\"Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)\"): \"n/a\" is not a number"
    );
}

#[test]
fn out_of_range_rank_and_fractional_rank() {
    let dir = temp_dir();
    let mut lines = rows(2);
    lines[1] = lines[1].replace(&rank(2), "40000");
    let f = write_file(dir.path(), "a.csv", csv(&lines));
    assert!(message(read(&[f]).unwrap_err()).ends_with("rank 40000 is outside 1..=32844"));
    let mut lines = rows(2);
    lines[0] = lines[0].replace(&rank(1), "11.5");
    let f = write_file(dir.path(), "b.csv", csv(&lines));
    assert_eq!(
        message(read(&[f]).unwrap_err()),
        "b.csv, line 2, column 5 (\"Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)\"): \"11.5\" is not a whole number"
    );
}

#[test]
fn malformed_codes() {
    let dir = temp_dir();
    let mut lines = rows(3);
    lines[2] = lines[2].replace("E01000003", "E0100003");
    let f = write_file(dir.path(), "c.csv", csv(&lines));
    assert_eq!(
        message(read(&[f]).unwrap_err()),
        "c.csv, line 4, column 1 (\"LSOA code (2011)\"): \"E0100003\" is not a valid LSOA code (expected E01/W01 followed by six digits)"
    );
    let mut lines = rows(3);
    lines[1] = lines[1].replace("E08999001", "E05999001");
    let f = write_file(dir.path(), "d.csv", csv(&lines));
    assert!(
        message(read(&[f]).unwrap_err())
            .starts_with("d.csv, line 3, column 3 (\"Local Authority District code (2019)\"): \"E05999001\" is not a valid local authority district code")
    );
}

#[test]
fn duplicate_lsoa_in_one_file() {
    let dir = temp_dir();
    let mut lines = rows(4);
    lines[3] = lines[1].clone();
    let f = write_file(dir.path(), "dup.csv", csv(&lines));
    assert_eq!(
        message(read(&[f]).unwrap_err()),
        "dup.csv, line 5, column 1 (\"LSOA code (2011)\"): LSOA E01000002 appears twice in this file (also line 3)"
    );
}

#[test]
fn conflicting_values_across_files_are_an_error() {
    let dir = temp_dir();
    let a = write_file(dir.path(), "a.csv", csv(&rows(3)));
    let mut lines = rows(3);
    lines[2] = lines[2].replace("1003.00", "1004.00");
    let b = write_file(dir.path(), "b.csv", csv(&lines));
    assert_eq!(
        message(read(&[a.clone(), b]).unwrap_err()),
        "a.csv, line 4: conflicting values for LSOA E01000003 population_total denominator: 1003 in a.csv, line 4 vs 1004 in b.csv, line 4"
    );
    // Agreeing files merge: the same figures from two files are one cell.
    let c = write_file(dir.path(), "c.csv", csv(&rows(3)));
    let draft = read(&[a, c]).unwrap();
    assert_eq!(values(&draft).len(), 6);
}

#[test]
fn conflicting_local_authority_across_files() {
    let dir = temp_dir();
    let a = write_file(dir.path(), "a.csv", csv(&rows(2)));
    let b = write_file(
        dir.path(),
        "b.csv",
        csv(&rows(2)).replace(
            "E01000002,Vale 002A,E08999001",
            "E01000002,Vale 002A,E08999002",
        ),
    );
    assert_eq!(
        message(read(&[a, b]).unwrap_err()),
        "b.csv, line 3, column 3 (\"Local Authority District code (2019)\"): local authority \"E08999002\" conflicts with \"E08999001\" at a.csv, line 3, column 3 (\"Local Authority District code (2019)\")"
    );
}

#[test]
fn unrecognised_empty_missing_and_truncated() {
    let dir = temp_dir();
    let f = write_file(dir.path(), "other.csv", "a,b\n1,2\n");
    let err = message(read(&[f]).unwrap_err());
    assert!(
        err.starts_with("other.csv: its header matches no Indices of Deprivation 2019 format"),
        "{err}"
    );
    let f = write_file(dir.path(), "empty.csv", "");
    assert_eq!(
        message(read(&[f]).unwrap_err()),
        "empty.csv: the file is empty"
    );
    let f = write_file(dir.path(), "ragged.csv", csv(&rows(3)) + "E01000009,x\r\n");
    assert_eq!(
        message(read(&[f]).unwrap_err()),
        "ragged.csv, line 5: 2 fields, but the header has 6"
    );
    let mut gz = flate2_gzip(csv(&rows(50)).as_bytes());
    gz.truncate(gz.len() / 2);
    let f = write_file(dir.path(), "cut.csv.gz", gz);
    assert!(
        message(read(&[f]).unwrap_err())
            .starts_with("cut.csv.gz: gzip data is truncated or corrupt")
    );
    let missing = dir.path().join("nope.csv");
    assert!(matches!(
        read(&[missing]).unwrap_err(),
        IngestError::Io { .. }
    ));
}

#[test]
fn lookup_with_a_bad_ward_code() {
    let dir = temp_dir();
    let f = write_file(
        dir.path(),
        "lookup.csv",
        "\u{feff}FID,LSOA11CD,LSOA11NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E01000001,A,E05000001,W,E09000001,L\n2,E01000002,B,E5000002,W,E09000001,L\n",
    );
    assert_eq!(
        message(read_lookups(&catalog(), &[f], &NoProgress).unwrap_err()),
        "lookup.csv, line 3, column 4 (\"WD19CD\"): \"E5000002\" is not a valid ward code (expected E05/W05 followed by six digits)"
    );
    let f = write_file(
        dir.path(),
        "noward.csv",
        "LSOA11CD,LAD19CD\nE01000001,E09000001\n",
    );
    assert!(
        message(read_lookups(&catalog(), &[f], &NoProgress).unwrap_err())
            .starts_with("noward.csv, line 1: not an LSOA to ward lookup")
    );
}

fn flate2_gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
