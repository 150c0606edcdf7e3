//! `renewal ingest lm3-survey` and `renewal lm3` end to end: the hand-worked example of
//! renewal-stats as files, the proxies, a bad return, and the sample's survey.

use std::path::{Path, PathBuf};

use renewal_test_support::temp_dir;

use crate::{Renewal, parse_csv};

const LM3_HEADER: &str = "round,part,pence,share_of_round1,responses,surveyed,response_rate_by_count,response_rate_by_spend,basis";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// renewal-stats' worked example: R1 £1,000 from three suppliers (C silent); LM3 = 911/540.
fn worked(dir: &Path) -> (PathBuf, PathBuf) {
    (
        write(
            dir,
            "vale_lm3_survey.csv",
            "Supplier,Company Number,Round 1 Spend,Responded,Total Spend,Local Staff Spend,Local Supplier Spend\n\
             A Ltd,,600.00,Yes,900.00,300.00,150.00\n\
             B Ltd,,300.00,Yes,400.00,100.00,100.00\n\
             C Ltd,,100.00,No,,,\n",
        ),
        write(
            dir,
            "vale_lm3_respend.csv",
            "Supplier,Respondent Type,Income,Local Spend\n\
             A Ltd,staff,200.00,50.00\n\
             B Ltd,staff,100.00,70.00\n\
             A Ltd,supplier,300.00,100.00\n",
        ),
    )
}

/// The rows of `renewal lm3` keyed by (round, part).
fn rows(csv: &str) -> Vec<Vec<String>> {
    let (header, rows) = parse_csv(csv);
    assert_eq!(header.join(","), LM3_HEADER, "{csv}");
    rows
}

fn row<'a>(rows: &'a [Vec<String>], round: &str, part: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == round && r[1] == part)
        .unwrap_or_else(|| panic!("no row {round} {part}"))
}

fn close(text: &str, want: f64) {
    let got: f64 = text.parse().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} != {want}");
}

#[test]
fn worked_example_end_to_end() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let (survey, respend) = worked(dir.path());
    let out = r.ok([
        Path::new("ingest"),
        Path::new("lm3-survey"),
        &survey,
        &respend,
    ]);
    assert!(
        out.starts_with("published lm3-vale version 1: 6 rows in 2 tables from 2 files"),
        "{out}"
    );
    let result = r.run(["lm3", "--dataset", "lm3-vale"]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let csv = String::from_utf8(result.stdout).unwrap();
    let rows = rows(&csv);
    assert_eq!(rows.len(), 8, "{csv}");
    // Hand-worked (renewal-stats lm3::tests::hand_worked_example), in pence.
    assert_eq!(row(&rows, "1", "spend with suppliers")[2], "100000");
    assert_eq!(row(&rows, "2", "local staff")[2], "30556"); // 275 000/9
    assert_eq!(row(&rows, "2", "local suppliers")[2], "19444"); // 175 000/9
    assert_eq!(row(&rows, "2", "all")[2], "50000");
    assert_eq!(row(&rows, "3", "local staff")[2], "12222"); // 110 000/9
    assert_eq!(row(&rows, "3", "local suppliers")[2], "6481"); // 175 000/27
    assert_eq!(row(&rows, "3", "all")[2], "18704"); // 505 000/27
    let total = row(&rows, "total", "lm3");
    assert_eq!(total[2], "168704"); // 4 555 000/27
    close(&total[3], 911.0 / 540.0);
    assert!(total[8].contains("911/540"), "{}", total[8]);
    // Response rates: 2 of 3 suppliers, 90% of round 1.
    let r2 = row(&rows, "2", "all");
    assert_eq!((r2[4].as_str(), r2[5].as_str()), ("2", "3"));
    close(&r2[6], 2.0 / 3.0);
    close(&r2[7], 0.9);
    assert_eq!(row(&rows, "3", "local staff")[4], "2");
    assert_eq!(row(&rows, "3", "local suppliers")[4], "1");
    // The basis and the proxy for the silent supplier are on stderr.
    let stderr = String::from_utf8(result.stderr).unwrap();
    assert!(stderr.contains("datasets: lm3-vale v1"), "{stderr}");
    assert!(
        stderr.contains("round 2 proxy for 1 non-responding supplier(s)")
            && stderr.contains("round-1-weighted mean shares of the 2 responding suppliers"),
        "{stderr}"
    );

    // JSON carries the same figure with the basis and notes.
    let json: serde_json::Value =
        serde_json::from_str(&r.ok(["lm3", "--dataset", "lm3-vale", "--format", "json"])).unwrap();
    assert_eq!(json["basis"]["datasets"]["lm3-vale"], 1);
    let last = &json["rows"][7];
    assert_eq!(last["round"], "total");
    assert!((last["share_of_round1"].as_f64().unwrap() - 911.0 / 540.0).abs() < 1e-12);
    assert!(
        json["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("LM3 (NEF, The Money Trail")
    );

    // Not an LM3 dataset.
    let out = r.run(["lm3", "--dataset", "lm3-nothing"]);
    assert!(!out.status.success());
}

#[test]
fn missing_rounds_need_explicit_proxies() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let (survey, _) = worked(dir.path());
    r.ok([Path::new("ingest"), Path::new("lm3-survey"), &survey]);
    let out = r.run(["lm3", "--dataset", "lm3-vale"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("give --staff-respend-proxy"), "{stderr}");
    let out = r.run([
        "lm3",
        "--dataset",
        "lm3-vale",
        "--staff-respend-proxy",
        "0.4",
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("give --supplier-respend-proxy"), "{stderr}");
    let result = r.run([
        "lm3",
        "--dataset",
        "lm3-vale",
        "--staff-respend-proxy",
        "0.4",
        "--supplier-respend-proxy",
        "1/3",
        "--round2-proxy",
        "0.5,0.5",
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let rows = rows(&String::from_utf8(result.stdout).unwrap());
    // The given shares equal the worked example's survey shares, so LM3 is the same 911/540.
    close(&row(&rows, "total", "lm3")[3], 911.0 / 540.0);
    assert!(row(&rows, "3", "local staff")[8].contains("proxy given (--staff-respend-proxy)"));
    let stderr = String::from_utf8(result.stderr).unwrap();
    assert!(
        stderr.contains("--round2-proxy was given but not used"),
        "{stderr}"
    );
    // A proxy must be a share.
    let out = r.run([
        "lm3",
        "--dataset",
        "lm3-vale",
        "--staff-respend-proxy",
        "1.2",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a share between 0 and 1"));
}

#[test]
fn a_share_above_one_publishes_nothing() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let bad = write(
        dir.path(),
        "bad_lm3_survey.csv",
        "Supplier,Round 1 Spend,Responded,Total Spend,Local Staff Spend,Local Supplier Spend\n\
         A Ltd,600.00,Yes,900.00,300.00,150.00\n\
         B Ltd,300.00,Yes,400.00,300.00,100.01\n",
    );
    let out = r.run([Path::new("ingest"), Path::new("lm3-survey"), &bad]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("bad_lm3_survey.csv, line 3, column 6 (\"Local Supplier Spend\")"),
        "{stderr}"
    );
    assert!(!dir.path().join("warehouse").join("lm3-bad").exists());
}

/// The sample's survey is the README's worked example: LM3 = 511/320 = 1.596875.
#[test]
fn sample_survey_gives_the_worked_lm3() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([Path::new("sample"), Path::new("--out"), &sample]);
    let spend = sample.join("spend");
    let out = r.ok([
        Path::new("ingest"),
        Path::new("lm3-survey"),
        &spend.join("renewal_vale_lm3_survey.csv"),
        &spend.join("renewal_vale_lm3_respend.csv"),
    ]);
    assert!(
        out.starts_with("published lm3-renewal-vale version 1:"),
        "{out}"
    );
    let rows = rows(&r.ok(["lm3", "--dataset", "lm3-renewal-vale"]));
    // Worked in renewal-sample's lm3 module: R1 £1,000,000, R2 £428,125, R3 £168,750.
    assert_eq!(row(&rows, "1", "spend with suppliers")[2], "100000000");
    assert_eq!(row(&rows, "2", "local staff")[2], "26875000");
    assert_eq!(row(&rows, "2", "local suppliers")[2], "15937500");
    assert_eq!(row(&rows, "3", "local staff")[2], "12093750");
    assert_eq!(row(&rows, "3", "local suppliers")[2], "4781250");
    let total = row(&rows, "total", "lm3");
    assert_eq!(total[2], "159687500");
    close(&total[3], 1.596875);
    assert!(total[8].contains("511/320"), "{}", total[8]);
    let r2 = row(&rows, "2", "all");
    assert_eq!((r2[4].as_str(), r2[5].as_str()), ("4", "5"));
    close(&r2[6], 0.8);
    close(&r2[7], 0.8);
    // A table for people.
    let table = r.ok(["lm3", "--dataset", "lm3-renewal-vale", "--format", "table"]);
    assert!(
        table.contains("| total ") && table.contains("1.596875"),
        "{table}"
    );
}
