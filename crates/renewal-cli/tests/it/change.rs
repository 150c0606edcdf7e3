//! `renewal change` on a hand-built fixture: the sample's ward lookup and a Best Value file
//! written here with round counts, so every expected figure below is worked by hand (and is
//! the worked example of renewal-stats' `change` module).

use std::collections::BTreeMap;
use std::path::Path;

use renewal_test_support::temp_dir;

use crate::{Renewal, parse_csv};

/// (numerator, denominator).
type Counts = (u32, u32);

/// Wards of the sample lookup (Renewal Vale) and their BV-HOMES-01 counts (numerator,
/// denominator) in 2014-15 and 2019-20. E05999001 is the area, at 15% at the baseline;
/// E05999002, -004 and -003 are nearest (15%, 14.394%, 15.625%); the others are far (40% and
/// more). The three pool to 300/2000 and 280/2000.
const FIXTURE: [(&str, Counts, Counts); 7] = [
    ("E05999001", (30, 200), (20, 200)),
    ("E05999002", (105, 700), (98, 700)),
    ("E05999003", (100, 640), (91, 640)),
    ("E05999004", (95, 660), (91, 660)),
    ("E05999005", (400, 1000), (380, 1000)),
    ("E05999006", (450, 1000), (450, 1000)),
    ("E05999007", (500, 1000), (520, 1000)),
];

fn cells(csv: &str) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = parse_csv(csv);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

fn num(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: {:?}", row[column]))
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-9, "{what}: ours {a}, by hand {b}");
}

#[test]
fn change_against_similar_wards_equals_the_hand_worked_example() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([Path::new("sample"), Path::new("--out"), &sample]);
    let lookup = std::fs::read_dir(&sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("Lower_Layer")
        })
        .unwrap();
    r.ok([Path::new("ingest"), Path::new("lookup"), &lookup]);
    let mut csv =
        String::from("indicator_id,area_code,period,numerator,denominator,value,unit,polarity\n");
    for (ward, a, b) in FIXTURE {
        for (period, (x, n)) in [("2014-15", a), ("2019-20", b)] {
            csv.push_str(&format!(
                "BV-HOMES-01,{ward},{period},{x},{n},,percent,lower-is-better\n"
            ));
        }
    }
    let file = dir.path().join("best_value_indicators_fixture.csv");
    std::fs::write(&file, csv).unwrap();
    r.ok([Path::new("ingest"), Path::new("services"), &file]);

    let out = r.ok([
        "change",
        "--indicator",
        "bv-homes-01",
        "--area",
        "E05999001",
        "--from",
        "2014-15",
        "--to",
        "2019-20",
        "--similar-on",
        "bv-homes-01",
        "--k",
        "3",
    ]);
    let rows = cells(&out);
    let kinds: Vec<&str> = rows.iter().map(|r| r["row_kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "area",
            "similar",
            "similar",
            "similar",
            "pooled",
            "difference"
        ]
    );
    // Nearest first: |15 − 15| = 0, then |14.394 − 15| = 0.606, then |15.625 − 15| = 0.625.
    let similar: Vec<&str> = rows[1..4].iter().map(|r| r["area_code"].as_str()).collect();
    assert_eq!(similar, ["E05999002", "E05999004", "E05999003"]);
    assert_eq!(num(&rows[1], "distance"), 0.0);

    let z = 1.959_963_984_540_054;
    // Area: 15% → 10%, change −5; variance 100²(0.15·0.85/200 + 0.1·0.9/200) = 6.375 + 4.5.
    close(num(&rows[0], "change"), -5.0, "area change");
    close(
        num(&rows[0], "change_lower_95"),
        -5.0 - z * 10.875f64.sqrt(),
        "area lower",
    );
    // Pooled: 300/2000 = 15% → 280/2000 = 14%, change −1; variance 0.6375 + 0.602.
    close(num(&rows[4], "from_numerator"), 300.0, "pooled numerator");
    close(
        num(&rows[4], "to_denominator"),
        2000.0,
        "pooled denominator",
    );
    close(num(&rows[4], "change"), -1.0, "pooled change");
    close(
        num(&rows[4], "change_upper_95"),
        -1.0 + z * 1.2395f64.sqrt(),
        "pooled upper",
    );
    // Difference −4, variance 10.875 + 1.2395 = 12.1145: −4 ± 6.822, so similar.
    close(num(&rows[5], "change"), -4.0, "difference");
    close(
        num(&rows[5], "change_lower_95"),
        -4.0 - z * 12.1145f64.sqrt(),
        "difference lower",
    );
    close(
        num(&rows[5], "change_upper_95"),
        -4.0 + z * 12.1145f64.sqrt(),
        "difference upper",
    );
    assert_eq!(rows[5]["comparison_95"], "similar");
    // Each similar ward's own change: 14% − 15% = −1; (91 − 95)/6.6 = −0.60606…;
    // (91 − 100)/6.4 = −1.40625.
    close(num(&rows[1], "change"), -1.0, "E05999002");
    close(num(&rows[2], "change"), -4.0 / 6.6, "E05999004");
    close(num(&rows[3], "change"), -1.40625, "E05999003");
}
