//! Official File 10 (district summaries) is recognised by header and stored as `lad_summary`.

use std::collections::HashMap;

use renewal_ingest::{NoProgress, read_iod};
use renewal_test_support::{temp_dir, workspace_root, write_file};

use crate::{catalog, table};

/// The IMD sheet's published headers, trailing spaces included, in golden-file column order.
const HEADER: [&str; 12] = [
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "IMD - Average rank ",
    "IMD - Rank of average rank ",
    "IMD - Average score ",
    "IMD - Rank of average score ",
    "IMD - Proportion of LSOAs in most deprived 10% nationally ",
    "IMD - Rank of proportion of LSOAs in most deprived 10% nationally ",
    "IMD 2019 - Extent ",
    "IMD 2019 - Rank of extent ",
    "IMD 2019 - Local concentration ",
    "IMD 2019 - Rank of local concentration ",
];

/// The golden copy of File 10 written back out in the published layout.
fn file10_csv() -> String {
    let golden = std::fs::read_to_string(
        workspace_root().join("tests/golden/iod2019_lad_summaries_file10.csv"),
    )
    .expect("golden File 10 copy");
    let mut out = HEADER
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for line in golden.lines().skip(1) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn file10_layout_is_stored_as_official_district_summaries() {
    let dir = temp_dir();
    let f = write_file(dir.path(), "File_10_IMD.csv", file10_csv());
    let draft = read_iod(&catalog(), "2019", &[f], &NoProgress).unwrap();
    assert_eq!(draft.sources[0].format, "iod2019-file10");
    assert_eq!(draft.sources[0].rows, 317);
    let summary = table(&draft, "lad_summary");
    assert_eq!(summary.height(), 317 * 10);
    let col = |n: &str| summary.column(n).unwrap().str().unwrap().clone();
    let (code, measure, name) = (col("area_code"), col("measure"), col("area_name"));
    let value = summary.column("value").unwrap().f64().unwrap().clone();
    let got: HashMap<(String, String), (f64, String)> = (0..summary.height())
        .map(|i| {
            (
                (
                    code.get(i).unwrap().to_owned(),
                    measure.get(i).unwrap().to_owned(),
                ),
                (value.get(i).unwrap(), name.get(i).unwrap().to_owned()),
            )
        })
        .collect();
    // Blackpool, as published: average score 45.039, rank 1.
    assert_eq!(
        got[&("E06000009".into(), "average_score".into())],
        (45.039, "Blackpool".into())
    );
    assert_eq!(
        got[&("E06000009".into(), "rank_of_average_score".into())].0,
        1.0
    );
    assert_eq!(got[&("E06000002".into(), "average_rank".into())].0, 23729.1);
    // With File 10 alone there are no LSOA figures, and the tables say so by being empty.
    assert_eq!(table(&draft, "iod").height(), 0);
}

#[test]
fn file10_with_lsoa_files_and_a_disagreeing_copy() {
    let dir = temp_dir();
    let good = write_file(dir.path(), "File_10.csv", file10_csv());
    let bad = write_file(
        dir.path(),
        "File_10_edited.csv",
        file10_csv().replace("Blackpool,26765.29,", "Blackpool,26765.30,"),
    );
    let err = read_iod(&catalog(), "2019", &[good, bad], &NoProgress).unwrap_err();
    assert!(
        err.to_string().contains(
            "conflicting values for area E06000009 imd average_rank: 26765.29 in File_10.csv, line"
        ),
        "{err}"
    );
}
