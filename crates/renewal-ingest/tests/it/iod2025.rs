//! IoD2025 as a built-in edition: the shared Greater Manchester files read unchanged, and ranks
//! or deciles outside the edition's range are refused with file, line and column.

use renewal_ingest::{NoProgress, read_iod};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};

use crate::{catalog, key, table, values};

const GM_FILE_2: &str = "imd/2025/File_2_-_IoD2025_Domains_of_Deprivation_Greater_Manchester.csv";
const GM_FILE_5: &str = "imd/2025/File_5_-_IoD2025_Scores_Greater_Manchester.csv";

#[test]
fn greater_manchester_files_2_and_5_ingest_unchanged() {
    let Some(root) = shared_data() else { return };
    let files = [GM_FILE_2, GM_FILE_5].map(|f| shared_file(&root, f));
    let draft = read_iod(&catalog(), "2025", &files, &NoProgress).unwrap();
    assert_eq!(draft.dataset, "iod-2025");
    let formats: Vec<(&str, u64)> = draft
        .sources
        .iter()
        .map(|s| (s.format.as_str(), s.rows))
        .collect();
    assert_eq!(
        formats,
        [("iod2025-official", 1702), ("iod2025-official", 1702)]
    );
    assert_eq!(draft.attributes["national_lsoa_count"], "33755");
    assert_eq!(draft.vintage["lsoa"], "LSOA21");
    assert_eq!(draft.vintage["lad"], "LAD24");
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n == "covers 1702 of the 33755 LSOAs ranked nationally"),
        "{:?}",
        draft.notes
    );
    assert_eq!(table(&draft, "lsoa").height(), 1702);
    // The first data row of each file, read by eye:
    // File 2: E01004766,Bolton 005A,E08000001,Bolton,"6,907",3,"7,108",3,…
    // File 5: E01004766,Bolton 005A,E08000001,Bolton,33.083,0.353,0.169,…
    let v = values(&draft);
    assert_eq!(v[&key("E01004766", "imd", "rank")], 6907.0);
    assert_eq!(v[&key("E01004766", "imd", "decile")], 3.0);
    assert_eq!(v[&key("E01004766", "income", "rank")], 7108.0);
    assert_eq!(v[&key("E01004766", "imd", "score")], 33.083);
    assert_eq!(v[&key("E01004766", "income", "score")], 0.353);
    assert_eq!(v[&key("E01004766", "employment", "score")], 0.169);
}

const HEADER_2025: &str = "\u{feff}LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)";

fn file_2(rows: &[&str]) -> String {
    let mut s = HEADER_2025.to_owned();
    for r in rows {
        s.push_str("\r\n");
        s.push_str(r);
    }
    s + "\r\n"
}

#[test]
fn ranks_beyond_the_editions_national_count_are_refused() {
    let dir = temp_dir();
    // 33,755 is the last rank of IoD2025; 33,756 cannot exist. (It would be a valid 2019 rank
    // of nothing either: the bound is the edition's own N, read from its schema file.)
    let good = [
        "E01000001,Vale 001A,E08000001,Bolton,\"33,755\",10",
        "E01000002,Vale 001B,E08000001,Bolton,1,1",
    ];
    let f = write_file(dir.path(), "good.csv", file_2(&good));
    let v = values(&read_iod(&catalog(), "2025", &[f], &NoProgress).unwrap());
    assert_eq!(v[&key("E01000001", "imd", "rank")], 33755.0);

    let bad = [
        good[0],
        good[1],
        "E01000003,Vale 001C,E08000001,Bolton,\"33,756\",10",
    ];
    let f = write_file(dir.path(), "File_2_2025.csv", file_2(&bad));
    let err = read_iod(&catalog(), "2025", &[f], &NoProgress)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "File_2_2025.csv, line 4, column 5 (\"Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)\"): rank 33756 is outside 1..=33755"
    );

    // Deciles are 1..=10 in every edition: 11 on line 2, 0 on line 3.
    for (rows, decile, line) in [
        (
            [
                "E01000001,A,E08000001,Bolton,5,11",
                "E01000002,B,E08000001,Bolton,6,1",
            ],
            11,
            2,
        ),
        (
            [
                "E01000001,A,E08000001,Bolton,5,1",
                "E01000002,B,E08000001,Bolton,6,0",
            ],
            0,
            3,
        ),
    ] {
        let f = write_file(dir.path(), "deciles.csv", file_2(&rows));
        let err = read_iod(&catalog(), "2025", &[f], &NoProgress)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "deciles.csv, line {line}, column 6 (\"Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)\"): decile {decile} is outside 1..=10"
            )
        );
    }
}

/// A 2025 File 10 sheet (2024 district codes, "IMD 2025 - …" headers with the published
/// trailing spaces) lands in `lad_summary` as the official figures; the values are made up
/// for the test, the layout is File 10's.
#[test]
fn file10_2025_layout_is_stored_as_official_district_summaries() {
    let dir = temp_dir();
    let text = "Local Authority District code (2024),Local Authority District name (2024),\
IMD - Average score ,IMD - Rank of average score ,IMD 2025 - Extent ,IMD 2025 - Rank of local concentration \n\
E08000003,Manchester,40.5,6,0.5,4\n\
E08000009,Trafford,15.25,250,0.05,180\n";
    let f = write_file(dir.path(), "File_10_-_IoD2025_IMD.csv", text);
    let draft = read_iod(&catalog(), "2025", &[f], &NoProgress).unwrap();
    assert_eq!(draft.sources[0].format, "iod2025-file10");
    let summary = table(&draft, "lad_summary");
    assert_eq!(summary.height(), 8);
    let col = |n: &str| summary.column(n).unwrap().str().unwrap().clone();
    let (code, measure) = (col("area_code"), col("measure"));
    let value = summary.column("value").unwrap().f64().unwrap().clone();
    let find = |c: &str, m: &str| {
        (0..summary.height())
            .find(|&i| code.get(i) == Some(c) && measure.get(i) == Some(m))
            .and_then(|i| value.get(i))
    };
    assert_eq!(find("E08000003", "extent"), Some(0.5));
    assert_eq!(
        find("E08000009", "rank_of_local_concentration"),
        Some(180.0)
    );
    assert_eq!(find("E08000009", "average_score"), Some(15.25));
}
