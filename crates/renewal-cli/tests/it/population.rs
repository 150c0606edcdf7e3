//! `renewal ingest population` end to end: a good file publishes, a bad one names its cell and
//! leaves the current version as it was.

use std::path::Path;

use renewal_test_support::{temp_dir, write_file};

use crate::Renewal;

/// ONS release layout, one LSOA per entry of `totals`, 1 female and 2 males of every age
/// 0..=90 (so the right Total is 91 * 3 = 273).
fn release_csv(totals: &[u32]) -> String {
    let mut header =
        String::from("LAD 2021 Code,LAD 2021 Name,LSOA 2021 Code,LSOA 2021 Name,Total");
    for sex in ["F", "M"] {
        for a in 0..=90 {
            header.push_str(&format!(",{sex}{a}"));
        }
    }
    let mut text = header;
    for (i, total) in totals.iter().enumerate() {
        text.push_str(&format!(
            "\nE08999001,Renewal Vale,E01999{:03},Renewal Vale {i},{total}",
            i + 1
        ));
        text.push_str(&",1".repeat(91));
        text.push_str(&",2".repeat(91));
    }
    text.push('\n');
    text
}

fn versions(warehouse: &Path, dataset: &str) -> usize {
    std::fs::read_dir(warehouse.join(dataset).join("_versions"))
        .unwrap()
        .count()
}

#[test]
fn a_bad_population_file_publishes_nothing() {
    let dir = temp_dir();
    let warehouse = dir.path().join("warehouse");
    let r = Renewal::new(&warehouse);
    let good = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2022.csv",
        release_csv(&[273, 273]),
    );
    let out = r.ok([Path::new("ingest"), Path::new("population"), &good]);
    // 2 LSOAs x 3 sexes x 7 bands.
    assert!(
        out.starts_with("published population-lsoa21 version 1: 42 rows in 1 tables from 1 files"),
        "{out}"
    );

    // Mid-2023 with the second LSOA's Total one short: the whole call fails.
    let bad = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2023.csv",
        release_csv(&[273, 272]),
    );
    let out = r.run([Path::new("ingest"), Path::new("population"), &good, &bad]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "sapelsoasyoa_mid-2023.csv, line 3, column 5 (\"Total\"): E01999002 2023 persons: the file gives all_ages = 272 but its age groups sum to 273"
        ),
        "{stderr}"
    );
    assert_eq!(versions(&warehouse, "population-lsoa21"), 1);

    // Flags: --dataset must be a population id; --year must agree with the file name.
    let out = r.run([
        Path::new("ingest"),
        Path::new("population"),
        Path::new("--dataset"),
        Path::new("census-x"),
        &good,
    ]);
    assert!(!out.status.success());
    let out = r.run([
        Path::new("ingest"),
        Path::new("population"),
        Path::new("--year"),
        Path::new("2021"),
        &good,
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("sapelsoasyoa_mid-2022.csv: the file name says 2022 but --year says 2021")
    );
    assert_eq!(versions(&warehouse, "population-lsoa21"), 1);

    // The good pair publishes version 2 with both years.
    let fixed = write_file(
        dir.path(),
        "sapelsoasyoa_mid-2023.csv",
        release_csv(&[273, 273]),
    );
    let out = r.ok([Path::new("ingest"), Path::new("population"), &good, &fixed]);
    assert!(
        out.starts_with("published population-lsoa21 version 2: 84 rows in 1 tables from 2 files"),
        "{out}"
    );
}
