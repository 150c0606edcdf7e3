//! `renewal sample --scale england` (at a hundredth of the size) ingests with every ingester
//! that reads its files, and the gap question answers from it; the expected figures are read
//! straight from the generated CSVs by this test, not by Renewal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use renewal_test_support::temp_dir;

use crate::{Renewal, parse_csv};

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    parse_csv(text).1
}

#[test]
fn england_sample_ingests_and_answers_the_gap() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let s = dir.path().join("england");
    let out = r.ok([
        "sample",
        "--scale",
        "england",
        "--scale-divisor",
        "100",
        "--out",
        &s.display().to_string(),
    ]);
    assert!(
        out.contains("7 files") && out.contains("328 LSOAs, 70 wards, 3 districts, 1 forces"),
        "{out}"
    );
    let p = |name: &str| s.join(name).display().to_string();
    let out = r.ok([
        "ingest",
        "lookup",
        &p("Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"),
    ]);
    assert!(out.contains("328 rows"), "{out}");
    let out = r.ok([
        "ingest",
        "imd",
        "--vintage",
        "2019",
        &p("File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"),
        &p("File_5_-_IoD2019_Scores.csv"),
        &p("File_6_-_IoD2019_Population_Denominators.csv"),
    ]);
    assert!(out.starts_with("published iod-2019 version 1:"), "{out}");
    let out = r.ok([
        "ingest",
        "benefits",
        &p("claimant_count_lsoa_monthly_2010-2019_lsoa11.csv"),
    ]);
    assert!(out.contains("39360 rows"), "{out}");
    let out = r.ok([
        "ingest",
        "crime",
        "--boundaries",
        &p("Wards_(December_2019)_Boundaries_EW_BGC.geojson"),
        &p("crime/2019-force-01-street.csv"),
    ]);
    // Every crime with coordinates but no LSOA lands in a ward: none outside every area.
    assert!(out.contains("0 fell outside every area"), "{out}");

    // The authority's wards and its December 2019 claimants, from the raw files.
    let lookup = csv_rows(Path::new(&p(
        "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
    )));
    let authority = "E08900001";
    let ward_of: BTreeMap<&str, &str> = lookup
        .iter()
        .filter(|row| row[5] == authority)
        .map(|row| (row[1].as_str(), row[3].as_str()))
        .collect();
    let wards: BTreeSet<&str> = ward_of.values().copied().collect();
    let mut claimants: BTreeMap<&str, f64> = BTreeMap::new();
    let claims = csv_rows(Path::new(&p(
        "claimant_count_lsoa_monthly_2010-2019_lsoa11.csv",
    )));
    for row in claims.iter().filter(|row| row[0] == "2019-12-01") {
        if let Some(ward) = ward_of.get(row[1].as_str()) {
            *claimants.entry(ward).or_default() += row[4].parse::<f64>().unwrap();
        }
    }

    let out = r.ok([
        "gap",
        "--indicator",
        "claimant-rate",
        "--period",
        "2019-12",
        "--authority",
        authority,
    ]);
    let (header, rows) = parse_csv(&out);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), wards.len(), "{out}");
    for row in &rows {
        let ward = row[col("area_code")].as_str();
        assert!(wards.contains(ward), "{ward}");
        assert_eq!(row[col("parent_code")], authority);
        let numerator: f64 = row[col("numerator")].parse().unwrap();
        assert_eq!(numerator, claimants[ward], "{ward}");
    }
}
