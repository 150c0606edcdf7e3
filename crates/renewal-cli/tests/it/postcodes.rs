//! `renewal ingest postcodes` end to end: the sample's directory publishes, a second run of the
//! same file is a no-op, and a bad file publishes nothing and names the cell.

use std::path::Path;

use renewal_test_support::{temp_dir, write_file};

use crate::Renewal;

#[test]
fn postcodes_ingest_publishes_once_and_bad_input_publishes_nothing() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([
        Path::new("sample"),
        Path::new("--out"),
        &sample,
        Path::new("--boundary-change"),
    ]);
    let onspd = sample.join("geography/postcodes/renewal_sample_onspd.csv");
    // 80 LSOAs × 4 postcodes, one terminated, nine beyond the sample: lines of the file.
    let lines = std::fs::read_to_string(&onspd).unwrap().lines().count();
    assert_eq!(lines, 331);
    let out = r.ok([Path::new("ingest"), Path::new("postcodes"), &onspd]);
    assert!(
        out.contains("published postcodes version 1: 330 rows"),
        "{out}"
    );
    assert!(out.contains("330 postcodes, 1 of them terminated"), "{out}");
    let again = r.ok([Path::new("ingest"), Path::new("postcodes"), &onspd]);
    assert!(again.contains("postcodes unchanged"), "{again}");
    let list = r.ok(["warehouse", "list"]);
    assert!(list.contains("rows: postcodes=330"), "{list}");
    assert!(list.contains("format onspd-2025"), "{list}");

    // A second directory with a bad date, into another dataset: refused, nothing written.
    let bad = write_file(
        dir.path(),
        "bad_onspd.csv",
        "pcd7,pcd8,pcds,dointr,doterm,lad25cd,lsoa11cd,lsoa21cd\n\
         M1 1AE,M1  1AE,M1 1AE,1980-01,,E08000003,E01033653,E01033653\n",
    );
    let out = r.run([
        Path::new("ingest"),
        Path::new("postcodes"),
        Path::new("--dataset"),
        Path::new("postcodes-bad"),
        &bad,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad_onspd.csv, line 2, column 4 (\"dointr\")"),
        "{err}"
    );
    assert!(!dir.path().join("warehouse/postcodes-bad").exists());
}
