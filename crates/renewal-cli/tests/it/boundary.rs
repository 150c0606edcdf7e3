//! End to end on the sample across the 2021 boundary change: the bridge, IoD2025, populations
//! for every year and 2024 crime on 2021 LSOAs, asked as the demo asks. One bridged cell is
//! recomputed here straight from the raw sample files (CSV parsing and arithmetic of the
//! test's own), so the engine's bridging and population bases are checked, not just run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use renewal_test_support::temp_dir;

use crate::{Renewal, parse_csv};

fn files(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(prefix) && n.ends_with(suffix)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no {prefix}*{suffix} in {}", dir.display());
    out
}

fn ingest(r: &Renewal, args: &[&str], paths: Vec<PathBuf>) -> String {
    let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    all.extend(paths.into_iter().map(Into::into));
    r.ok(all)
}

fn read(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    parse_csv(text.trim_start_matches('\u{feff}'))
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

const WEIGHTS: [&str; 4] = [
    "--ward-vintage",
    "WD24",
    "--bridge-weights",
    "population-census2021-lsoa21",
];

#[test]
fn crime_and_claimant_series_across_the_break_on_2024_wards() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([
        "sample".into(),
        "--out".into(),
        sample.display().to_string(),
        "--boundary-change".into(),
    ]);
    let bc = sample.join("boundary-change");
    let out = ingest(&r, &["ingest", "lookup"], files(&bc, "LSOA_", ".csv"));
    assert!(
        out.contains("published bridge-lsoa11-lsoa21 version 1"),
        "{out}"
    );
    assert!(
        out.contains("published lookup-lsoa21-wd24 version 1"),
        "{out}"
    );
    ingest(
        &r,
        &["ingest", "imd", "--vintage", "2019"],
        files(&sample, "File_", ""),
    );
    ingest(
        &r,
        &["ingest", "imd", "--vintage", "2025"],
        files(&bc, "File_", ".csv"),
    );
    ingest(
        &r,
        &["ingest", "population", "--lsoa-vintage", "LSOA11"],
        files(&bc, "population_mid-", "_lsoa11.csv"),
    );
    ingest(
        &r,
        &["ingest", "population"],
        files(&bc, "sapelsoasyoa_mid-", ".csv"),
    );
    ingest(
        &r,
        &["ingest", "population"],
        files(&bc, "census2021_", ".csv"),
    );
    let old_crime = files(&sample, "2021-", "-street.csv");
    let new_crime = files(&bc, "2024-", "-street.csv");

    // 2011- and 2021-coded months in one dataset: refused at the first contradicting cell,
    // nothing published.
    let mut mixed: Vec<std::ffi::OsString> = ["ingest", "crime", "--dataset", "crime-mixed"]
        .iter()
        .map(Into::into)
        .collect();
    mixed.extend([old_crime[0].clone().into(), new_crime[0].clone().into()]);
    let out = r.run(mixed);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("2024-01-renewal-vale-street.csv, line") && err.contains("mix LSOA vintages"),
        "{err}"
    );
    assert!(!r.ok(["warehouse", "list"]).contains("crime-mixed"));

    ingest(&r, &["ingest", "crime"], old_crime.clone());
    ingest(
        &r,
        &["ingest", "crime", "--dataset", "crime-street-2024"],
        new_crime.clone(),
    );
    // With the bridge in the warehouse, each crime dataset records the vintage its codes show.
    let listing: serde_json::Value =
        serde_json::from_str(&r.ok(["warehouse", "list", "--json"])).unwrap();
    let lsoa_of = |dataset: &str| {
        listing
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["dataset"] == dataset)
            .map(|m| m["vintage"]["lsoa"].clone())
    };
    assert_eq!(lsoa_of("crime-street"), Some("LSOA11".into()));
    assert_eq!(lsoa_of("crime-street-2024"), Some("LSOA21".into()));

    // Without weights the 2011-coded splits cannot be apportioned: refused, naming them.
    let out = r.run([
        "trend",
        "--indicator",
        "crime-all",
        "--authority",
        "E08999001",
        "--select",
        "areas:E05999201",
        "--ward-vintage",
        "WD24",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--bridge-weights") && err.contains("E01999081"),
        "{err}"
    );

    let trend = |ward: &str| {
        let out = r
            .command()
            .args([
                "trend",
                "--indicator",
                "crime-all",
                "--authority",
                "E08999001",
                "--select",
            ])
            .arg(format!("areas:{ward}"))
            .args(WEIGHTS)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (h, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
        (h, rows, String::from_utf8(out.stderr).unwrap())
    };
    // Millgate's gap closes, Canal Side's widens (the sample's story), over 24 months.
    let (h, rows, _) = trend("E05999203");
    assert_eq!(rows.len(), 24);
    assert_eq!(rows[0][col(&h, "period")], "2021-01");
    assert_eq!(rows[23][col(&h, "period")], "2024-12");
    assert_eq!(rows[23][col(&h, "gap_trend")], "narrowing");
    let (h, rows, stderr) = trend("E05999201");
    assert_eq!(rows[23][col(&h, "gap_trend")], "widening");
    assert!(
        stderr
            .contains("bridge: crime-street moved LSOA11 → LSOA21 through bridge-lsoa11-lsoa21 v1")
            && stderr.contains("by population-census2021-lsoa21 v1"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "2021-01 to 2021-12 (12 periods): 81 areas its own year's estimate, mid-2021"
        ),
        "{stderr}"
    );

    // Canal Side in January 2021, from the raw files: police.uk rows per 2011 LSOA, moved to
    // 2021 LSOAs (one target: whole; several: shared by Census 2021 usual residents), over the
    // mid-2021 estimates (ONS release layout, Total).
    let (wh, wards) = read(&files(&bc, "LSOA_(2021)_to_Electoral", ".csv")[0]);
    let canal: BTreeSet<String> = wards
        .iter()
        .filter(|r| r[col(&wh, "WD24CD")] == "E05999201")
        .map(|r| r[col(&wh, "LSOA21CD")].clone())
        .collect();
    let (bh, pairs) = read(&files(&bc, "LSOA_(2011)_to_LSOA_(2021)", ".csv")[0]);
    let mut targets: HashMap<String, Vec<String>> = HashMap::new();
    for p in &pairs {
        targets
            .entry(p[col(&bh, "LSOA11CD")].clone())
            .or_default()
            .push(p[col(&bh, "LSOA21CD")].clone());
    }
    let (ch, census) = read(&files(&bc, "census2021_", ".csv")[0]);
    let mut residents: HashMap<String, f64> = HashMap::new();
    for c in &census {
        *residents
            .entry(c[col(&ch, "Lower layer Super Output Areas Code")].clone())
            .or_default() += c[col(&ch, "Observation")].parse::<f64>().unwrap();
    }
    let (crh, crimes) = read(&old_crime[0]);
    let mut per_lsoa11: BTreeMap<String, f64> = BTreeMap::new();
    for c in &crimes {
        let code = &c[col(&crh, "LSOA code")];
        if !code.is_empty() {
            *per_lsoa11.entry(code.clone()).or_default() += 1.0;
        }
    }
    let mut numerator = 0.0;
    for (code, n) in &per_lsoa11 {
        let t = &targets[code];
        let total: f64 = t.iter().map(|x| residents[x]).sum();
        for x in t.iter().filter(|x| canal.contains(*x)) {
            numerator += if t.len() == 1 {
                *n
            } else {
                n * residents[x] / total
            };
        }
    }
    let (ph, pop) = read(&bc.join("sapelsoasyoa_mid-2021.csv"));
    let denominator: f64 = pop
        .iter()
        .filter(|p| canal.contains(&p[col(&ph, "LSOA 2021 Code")]))
        .map(|p| p[col(&ph, "Total")].parse::<f64>().unwrap())
        .sum();
    let want = numerator / denominator * 1000.0;
    let got: f64 = rows[0][col(&h, "value")].parse().unwrap();
    assert!(
        (got - want).abs() <= 1e-9 * want,
        "Canal Side 2021-01: engine {got}, from the raw files {want}"
    );

    // Claimants, January 2015 to 2025: 2011-coded to 2020, 2021-coded after, each year over
    // its own mid-year 16-64 population (2025 over the nearest earlier, mid-2024).
    ingest(
        &r,
        &["ingest", "benefits"],
        files(&bc, "claimant_count_lsoa_", ".csv"),
    );
    let out = r
        .command()
        .args([
            "trend",
            "--indicator",
            "claimant-rate",
            "--authority",
            "E08999001",
            "--select",
            "areas:E05999203",
        ])
        .args(WEIGHTS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let (h, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    let periods: Vec<&str> = rows.iter().map(|r| r[col(&h, "period")].as_str()).collect();
    let want: Vec<String> = (2015..=2025).map(|y| format!("{y}-01")).collect();
    assert_eq!(periods, want);
    for expected in [
        "2015-01: 81 areas its own year's estimate, mid-2015 (population-lsoa11 v1)",
        "2024-01: 81 areas its own year's estimate, mid-2024 (population-lsoa21 v1)",
        "2025-01: 81 areas the nearest earlier estimate, mid-2024 (population-lsoa21 v1)",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    // Millgate's 2024 LSOAs are all unchanged since 2011, so January 2015 is its claimants
    // over its mid-2015 Persons aged 16-64, straight from the raw files.
    let millgate: BTreeSet<String> = wards
        .iter()
        .filter(|r| r[col(&wh, "WD24CD")] == "E05999203")
        .map(|r| r[col(&wh, "LSOA21CD")].clone())
        .collect();
    assert!(millgate.iter().all(|c| targets[c] == [c.clone()]));
    let (kh, claims) = read(&bc.join("claimant_count_lsoa_2015-2020_lsoa11.csv"));
    let claimants: f64 = claims
        .iter()
        .filter(|c| {
            c[col(&kh, "date")] == "2015-01-01" && millgate.contains(&c[col(&kh, "lsoa11cd")])
        })
        .map(|c| c[col(&kh, "value")].parse::<f64>().unwrap())
        .sum();
    let (ph, pop) = read(&bc.join("population_mid-2015_lsoa11.csv"));
    let working_age: f64 = pop
        .iter()
        .filter(|p| p[col(&ph, "sex")] == "Persons" && millgate.contains(&p[col(&ph, "area_code")]))
        .map(|p| p[col(&ph, "aged_16_to_64")].parse::<f64>().unwrap())
        .sum();
    let want = 100.0 * claimants / working_age;
    let got: f64 = rows[0][col(&h, "value")].parse().unwrap();
    assert!(
        (got - want).abs() <= 1e-9 * want,
        "Millgate 2015-01: engine {got}, from the raw files {want}"
    );
}
