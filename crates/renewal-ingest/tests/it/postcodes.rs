//! Postcode directories: the three shared extracts ingest, one row of each checked by hand
//! against the file, counts against an independent Python reading, and bad input refused at
//! the cell.

use std::io::Write as _;
use std::path::Path;

use polars::prelude::*;
use renewal_ingest::postcodes::{PostcodeOptions, read_postcodes};
use renewal_ingest::{IngestError, NoProgress};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};
use renewal_warehouse::Draft;

use crate::{catalog, table};

fn read(path: &Path) -> Result<Draft, IngestError> {
    read_postcodes(path, &catalog(), &PostcodeOptions::default(), &NoProgress)
}

/// One row of the table as text cells (`None` for null), by postcode.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    lad_code: Option<String>,
    lsoa11: Option<String>,
    lsoa21: Option<String>,
    introduced: Option<String>,
    terminated: Option<String>,
    is_terminated: bool,
    source: String,
    line: u64,
}

fn row(df: &DataFrame, postcode: &str) -> Row {
    let pcs = df.column("postcode").unwrap().str().unwrap();
    let i = (0..df.height())
        .find(|&i| pcs.get(i) == Some(postcode))
        .unwrap_or_else(|| panic!("{postcode} is in the table"));
    let text = |c: &str| {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .map(str::to_owned)
    };
    Row {
        lad_code: text("lad_code"),
        lsoa11: text("lsoa11"),
        lsoa21: text("lsoa21"),
        introduced: text("introduced"),
        terminated: text("terminated"),
        is_terminated: df
            .column("is_terminated")
            .unwrap()
            .bool()
            .unwrap()
            .get(i)
            .unwrap(),
        source: text("source").unwrap(),
        line: df.column("line").unwrap().u64().unwrap().get(i).unwrap(),
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// tests/reference/postcode_counts.py on `path`: (rows, terminated, lsoa11 non-empty,
/// lsoa21 non-empty or -1 without the column, without an English/Welsh LSOA).
fn python_counts(path: &Path) -> (u64, u64, u64, i64, u64) {
    let out = renewal_test_support::python_reference("postcode_counts.py", [path]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let n = |k: &str| v[k].as_u64().unwrap();
    (
        n("rows"),
        n("terminated"),
        n("lsoa11"),
        v["lsoa21"].as_i64().unwrap_or(-1),
        n("without_ew_lsoa"),
    )
}

/// Our figures in the same shape, from the table and the draft's notes (which say when the
/// file had no 2021 LSOA column).
fn our_counts(draft: &Draft) -> (u64, u64, u64, i64, u64) {
    let df = table(draft, "postcodes");
    let col = |c: &str| df.column(c).unwrap().str().unwrap().clone();
    let (l11, l21) = (col("lsoa11"), col("lsoa21"));
    let ew = |v: Option<&str>| v.is_some_and(|c| c.starts_with("E01") || c.starts_with("W01"));
    let without = (0..df.height())
        .filter(|&i| !ew(l11.get(i)) && !ew(l21.get(i)))
        .count() as u64;
    let flags = df.column("is_terminated").unwrap().bool().unwrap().clone();
    let terminated = (0..df.height())
        .filter(|&i| flags.get(i) == Some(true))
        .count() as u64;
    let with21 = if note_with(draft, "with a 2011 LSOA code").contains("no 2021 LSOA column") {
        -1
    } else {
        (df.height() - l21.null_count()) as i64
    };
    (
        df.height() as u64,
        terminated,
        (df.height() - l11.null_count()) as u64,
        with21,
        without,
    )
}

fn note_with<'d>(draft: &'d Draft, text: &str) -> &'d str {
    draft
        .notes
        .iter()
        .find(|n| n.contains(text))
        .unwrap_or_else(|| panic!("a note says {text:?}: {:?}", draft.notes))
}

#[test]
fn postcodes_the_random_100000_extract_ingests_and_counts_agree_with_python() {
    let Some(root) = shared_data() else { return };
    let path = shared_file(
        &root,
        "geography/postcodes/onspd_100000_random_postcodes.csv",
    );
    let draft = read(&path).unwrap();
    assert_eq!(draft.dataset, "postcodes");
    assert_eq!(draft.kind, "postcodes");
    let source = &draft.sources[0];
    assert_eq!(source.format, "onspd-column-subset");
    assert_eq!(source.rows, 100_000);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(source.size, bytes.len() as u64);
    assert_eq!(source.sha256, renewal_warehouse::sha256_hex(&bytes));
    let df = table(&draft, "postcodes");
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "postcode",
            "lad_code",
            "lsoa11",
            "lsoa21",
            "introduced",
            "terminated",
            "is_terminated",
            "source",
            "line"
        ]
    );
    // Line 2 of the file: `W1K 3RH,E09000033,E14000639,E01004761`.
    assert_eq!(
        row(&df, "W1K 3RH"),
        Row {
            lad_code: s("E09000033"),
            lsoa11: s("E01004761"),
            lsoa21: None,
            introduced: None,
            terminated: None,
            is_terminated: false,
            source: "onspd_100000_random_postcodes.csv".into(),
            line: 2,
        }
    );
    // Line 5, `CA110FP,E07000030,E14000877,E01019335`: squeezed to seven, read as pcds.
    let ca = row(&df, "CA11 0FP");
    assert_eq!((ca.lad_code, ca.line), (s("E07000030"), 5));
    // The old Newport outward code is a directory postcode, not an error.
    assert!(row(&df, "NPT 4UY").line > 1);
    assert!(note_with(&draft, "legacy outward code").starts_with("90 postcodes"));
    assert_eq!(our_counts(&draft), python_counts(&path));
    assert_eq!(our_counts(&draft), (100_000, 0, 99_687, -1, 9_401));
    // Counted apart with Python's csv and collections.Counter on the first letter of oslaua.
    assert_eq!(
        note_with(&draft, "by the district code's country"),
        "by the district code's country: no district 313, England 85350, Channel Islands 250, \
         Isle of Man 240, Scotland 8598, Wales 5249"
    );
}

#[test]
fn postcodes_the_2024_header_sample_flags_terminated_postcodes() {
    let Some(root) = shared_data() else { return };
    let path = shared_file(&root, "geography/postcodes/onspd_aug2024_header_sample.csv");
    let draft = read(&path).unwrap();
    assert_eq!(draft.sources[0].format, "onspd-2024");
    let df = table(&draft, "postcodes");
    // The file has its header and four data rows.
    assert_eq!(df.height(), 4);
    // Line 2: "AL1 1AA","AL1  1AA","AL1 1AA","199002","199405",…,"E07000240" (oslaua),
    // …,"E01023743" (lsoa11),…,"E01023743" (lsoa21),…
    assert_eq!(
        row(&df, "AL1 1AA"),
        Row {
            lad_code: s("E07000240"),
            lsoa11: s("E01023743"),
            lsoa21: s("E01023743"),
            introduced: s("199002"),
            terminated: s("199405"),
            is_terminated: true,
            source: "onspd_aug2024_header_sample.csv".into(),
            line: 2,
        }
    );
    // Line 5: IM1 1AD, doterm empty: live; the Isle of Man's pseudo codes kept as published.
    assert_eq!(
        row(&df, "IM1 1AD"),
        Row {
            lad_code: s("M99999999"),
            lsoa11: s("M99999999"),
            lsoa21: s("M99999999"),
            introduced: s("199405"),
            terminated: None,
            is_terminated: false,
            source: "onspd_aug2024_header_sample.csv".into(),
            line: 5,
        }
    );
    assert_eq!(our_counts(&draft), python_counts(&path));
    assert_eq!(our_counts(&draft), (4, 3, 4, 4, 2));
}

#[test]
fn postcodes_the_2025_header_sample_reads_by_pattern_plain_and_gzipped() {
    let Some(root) = shared_data() else { return };
    let path = shared_file(&root, "geography/postcodes/onspd_nov2025_header_sample.csv");
    let draft = read(&path).unwrap();
    assert_eq!(draft.sources[0].format, "onspd-2025");
    assert!(note_with(&draft, "read as onspd-2025").contains("lad_code from lad25cd"));
    let df = table(&draft, "postcodes");
    assert_eq!(df.height(), 4);
    // Line 2: "AB1 0AA",…,"198001","199606",…,"S12000033" (lad25cd),…,"S01006514"
    // (lsoa11cd),…,"S01013490" (lsoa21cd),…
    let want = Row {
        lad_code: s("S12000033"),
        lsoa11: s("S01006514"),
        lsoa21: s("S01013490"),
        introduced: s("198001"),
        terminated: s("199606"),
        is_terminated: true,
        source: "onspd_nov2025_header_sample.csv".into(),
        line: 2,
    };
    assert_eq!(row(&df, "AB1 0AA"), want);
    assert_eq!(our_counts(&draft), python_counts(&path));
    assert_eq!(our_counts(&draft), (4, 4, 4, 4, 4));

    // Gzipped, with the absolute decompressed-size limit set absurdly low: a streaming read is
    // not bound by it (see the module docs), and the table is the same.
    let dir = temp_dir();
    let gz = dir.path().join("onspd_nov2025_header_sample.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&path).unwrap()).unwrap();
    let gz_bytes = enc.finish().unwrap();
    std::fs::write(&gz, &gz_bytes).unwrap();
    let mut options = PostcodeOptions::default();
    options.limits.max_decompressed_bytes = 10;
    let zipped = read_postcodes(&gz, &catalog(), &options, &NoProgress).unwrap();
    assert_eq!(
        zipped.sources[0].sha256,
        renewal_warehouse::sha256_hex(&gz_bytes)
    );
    assert_eq!(zipped.sources[0].size, gz_bytes.len() as u64);
    let zdf = table(&zipped, "postcodes");
    assert_eq!(zdf.height(), 4);
    assert_eq!(
        row(&zdf, "AB1 0AA"),
        Row {
            source: "onspd_nov2025_header_sample.csv.gz".into(),
            ..want
        }
    );
    assert_eq!(python_counts(&gz), (4, 4, 4, 4, 4));
}

const HEADER_2025: &str = "pcd7,pcd8,pcds,dointr,doterm,lad25cd,lsoa11cd,lsoa21cd";

fn location(err: &IngestError) -> (u64, usize, String) {
    let loc = err
        .location()
        .unwrap_or_else(|| panic!("a located error: {err}"));
    let col = loc
        .column
        .clone()
        .unwrap_or_else(|| panic!("a column: {err}"));
    (loc.line.unwrap(), col.index, col.header)
}

#[test]
fn postcodes_a_duplicate_is_an_error_at_its_cell_naming_the_first() {
    let dir = temp_dir();
    // Line 4 repeats line 2's postcode in another spelling.
    let text = format!(
        "{HEADER_2025}\n\
         M1 1AE,M1  1AE,M1 1AE,198001,,E08000003,E01033653,E01033653\n\
         M1 1AF,M1  1AF,M1 1AF,198001,,E08000003,E01033653,E01033653\n\
         m11ae,M1  1AE,m1 1ae,198001,,E08000003,E01033653,E01033653\n"
    );
    let path = write_file(dir.path(), "dup.csv", text);
    let err = read(&path).unwrap_err();
    assert_eq!(location(&err), (4, 3, "pcds".into()), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("M1 1AE is listed twice (first at line 2)"),
        "{msg}"
    );
    assert!(msg.starts_with("dup.csv, line 4, column 3"), "{msg}");
}

#[test]
fn postcodes_a_bad_postcode_or_date_is_an_error_at_its_cell() {
    let dir = temp_dir();
    // A blank line (3) and CRLF endings: line numbers are the physical lines an editor shows.
    let bad_key = format!(
        "{HEADER_2025}\r\n\
         M1 1AE,M1  1AE,M1 1AE,198001,,E08000003,E01033653,E01033653\r\n\
         \r\n\
         M1 1AF,M1  1AF,NOT A PC,198001,,E08000003,E01033653,E01033653\r\n"
    );
    let err = read(&write_file(dir.path(), "key.csv", bad_key)).unwrap_err();
    assert_eq!(location(&err), (4, 3, "pcds".into()), "{err}");
    assert!(
        err.to_string().contains("\"NOT A PC\" is not a postcode"),
        "{err}"
    );

    let bad_date = format!(
        "{HEADER_2025}\n\
         M1 1AE,M1  1AE,M1 1AE,198001,,E08000003,E01033653,E01033653\n\
         M1 1AF,M1  1AF,M1 1AF,198001,2019-04,E08000003,E01033653,E01033653\n"
    );
    let err = read(&write_file(dir.path(), "date.csv", bad_date)).unwrap_err();
    assert_eq!(location(&err), (3, 5, "doterm".into()), "{err}");
    assert!(
        err.to_string().contains("not a month written YYYYMM"),
        "{err}"
    );

    let bad_month = format!("{HEADER_2025}\nM1 1AE,M1  1AE,M1 1AE,198013,,E08000003,,\n");
    let err = read(&write_file(dir.path(), "month.csv", bad_month)).unwrap_err();
    assert_eq!(location(&err), (2, 4, "dointr".into()), "{err}");

    let short = format!("{HEADER_2025}\nM1 1AE,M1  1AE,M1 1AE,198001\n");
    let err = read(&write_file(dir.path(), "short.csv", short)).unwrap_err();
    assert_eq!(err.location().unwrap().line, Some(2), "{err}");
    assert!(
        err.to_string().contains("4 fields, but the header has 8"),
        "{err}"
    );

    let unknown = "postcode,district\nM1 1AE,E08000003\n";
    let err = read(&write_file(dir.path(), "other.csv", unknown)).unwrap_err();
    assert!(
        err.to_string().contains("not a postcode directory"),
        "{err}"
    );

    let empty_cells = format!("{HEADER_2025}\n,,,198001,,E08000003,,\n");
    let err = read(&write_file(dir.path(), "nokey.csv", empty_cells)).unwrap_err();
    assert_eq!(location(&err), (2, 3, "pcds".into()), "{err}");

    let header_only = format!("{HEADER_2025}\n");
    let err = read(&write_file(dir.path(), "none.csv", header_only)).unwrap_err();
    assert!(err.to_string().contains("no postcodes"), "{err}");
}

#[test]
fn postcodes_physical_lines_survive_blank_lines_and_empty_codes_are_null() {
    let dir = temp_dir();
    let text = format!(
        "\u{feff}{HEADER_2025}\n\
         \n\
         \n\
         GY1 1AA,GY1  1AA,GY1 1AA,199001,,L99999999,,\n\
         \n\
         CF10 1AA,CF101AA,CF10 1AA,200012,201504,W06000015,W01001939,W01001939\n"
    );
    let draft = read(&write_file(dir.path(), "lines.csv", text)).unwrap();
    let df = table(&draft, "postcodes");
    let gy = row(&df, "GY1 1AA");
    assert_eq!((gy.line, gy.lsoa11, gy.lsoa21), (4, None, None));
    let cf = row(&df, "CF10 1AA");
    assert_eq!((cf.line, cf.is_terminated), (6, true));
    assert!(note_with(&draft, "no English or Welsh LSOA").starts_with("1 postcodes"));
    assert!(note_with(&draft, "country").contains("Channel Islands 1, Wales 1"));
}

#[test]
fn postcodes_a_gzip_bomb_is_refused_by_its_inflate_ratio() {
    let dir = temp_dir();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(format!("{HEADER_2025}\n").as_bytes())
        .unwrap();
    // Blank lines are skipped by the parser, so only the ratio can stop this.
    let blank = vec![b'\n'; 1 << 20];
    for _ in 0..16 {
        enc.write_all(&blank).unwrap();
    }
    let path = dir.path().join("bomb.csv.gz");
    std::fs::write(&path, enc.finish().unwrap()).unwrap();
    let err = read(&path).unwrap_err();
    assert!(err.to_string().contains("decompression bomb"), "{err}");
}

#[test]
fn postcodes_a_line_longer_than_the_limit_is_refused() {
    let dir = temp_dir();
    let mut text = format!("{HEADER_2025}\n").into_bytes();
    text.extend(std::iter::repeat_n(b'x', 2 << 20));
    let err = read(&write_file(dir.path(), "long.csv", text)).unwrap_err();
    assert!(err.to_string().contains("line 2 is longer than"), "{err}");
}

#[test]
fn postcodes_a_truncated_gzip_is_an_error_naming_the_file() {
    let dir = temp_dir();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut text = format!("{HEADER_2025}\n");
    // 2,000 distinct postcodes, M1 0AA to M10 9ZA.
    let letters = b"ABDEFGHJLNPQRSTUWXYZ";
    for i in 0..2000 {
        let pc = format!(
            "M{} {}{}A",
            1 + i / 200,
            (i / 20) % 10,
            char::from(letters[i % 20])
        );
        text.push_str(&format!(
            "{pc},{pc},{pc},198001,,E08000003,E01033653,E01033653\n"
        ));
    }
    enc.write_all(text.as_bytes()).unwrap();
    let bytes = enc.finish().unwrap();
    let path = dir.path().join("cut.csv.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = read(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("cut.csv.gz"), "{msg}");
    assert!(msg.contains("gzip data is truncated or corrupt"), "{msg}");
}
