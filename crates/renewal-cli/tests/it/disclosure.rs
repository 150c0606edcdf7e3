//! Disclosure control on the bundled sample, as a new user meets it (issue 11): `renewal
//! versus` on a single LSOA whose count is below the threshold must not let that count be
//! recovered from the same output — neither by the formula (authority value × (selected
//! + rest denominators) / 1000 − rest numerator) nor by any other figure in it.
//!
//! The true counts are read from the raw police.uk files of the sample by a simple reader of
//! its own (rows of the latest month with an LSOA code), not from the warehouse.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renewal_test_support::temp_dir;

use crate::{Renewal, parse_csv};

const AUTHORITY: &str = "E08999001";
/// crime-all is per 1,000 residents (data-schemas/indicators/crime-all.toml).
const MULTIPLIER: f64 = 1000.0;
/// The engine's default disclosure threshold.
const THRESHOLD: u32 = 5;
const LATEST_MONTH: &str = "2021-12";

/// The sample and warehouse exactly as scripts/demo.sh builds them (its first part).
pub(crate) fn demo_warehouse() -> (tempfile::TempDir, Renewal, PathBuf) {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([Path::new("sample"), Path::new("--out"), &sample]);
    let files = |prefix: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&sample)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect();
        v.sort();
        v
    };
    let f = |name: &str| sample.join(name);
    let mut runs: Vec<Vec<PathBuf>> = vec![
        vec!["ingest".into(), "lookup".into()],
        vec![
            "ingest".into(),
            "imd".into(),
            "--vintage".into(),
            "2019".into(),
        ],
        vec![
            "ingest".into(),
            "census".into(),
            f("2021_general_health_lsoa_sample.csv"),
        ],
        vec![
            "ingest".into(),
            "benefits".into(),
            "--period".into(),
            "2021-01".into(),
            f("claimant_count_lsoa_sample.csv"),
        ],
        vec![
            "ingest".into(),
            "benefits".into(),
            f("claimant_rate_la_sample.csv"),
        ],
        vec![
            "ingest".into(),
            "services".into(),
            f("best_value_indicators_sample.csv"),
        ],
        vec!["ingest".into(), "crime".into()],
    ];
    runs[0].extend(files("Lower_Layer_Super_Output_Area"));
    runs[1].extend(files("File_"));
    runs[6].extend(
        files("2021-")
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with("-renewal-vale-street.csv")),
    );
    for args in &runs {
        r.ok(args);
    }
    (dir, r, sample)
}

/// The sample's LSOAs in `AUTHORITY` (from its ONS lookup CSV) with their crime count in the
/// latest month (police.uk rows with that LSOA code; none means zero) and their mid-2015
/// population (File 6: the crime rate's denominator when no population estimate is ingested).
fn raw_figures(sample: &Path) -> BTreeMap<String, (u32, f64)> {
    let read = |prefix: &str| -> String {
        let path = std::fs::read_dir(sample)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .unwrap_or_else(|| panic!("sample has no {prefix}*"));
        let text = std::fs::read_to_string(path).unwrap();
        text.trim_start_matches('\u{feff}').to_owned()
    };
    let (header, rows) = parse_csv(&read("Lower_Layer_Super_Output_Area"));
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).unwrap();
    let (l, a) = (col(&header, "LSOA11CD"), col(&header, "LAD19CD"));
    let mut out: BTreeMap<String, (u32, f64)> = rows
        .iter()
        .filter(|r| r[a] == AUTHORITY)
        .map(|r| (r[l].clone(), (0, f64::NAN)))
        .collect();
    let crimes = read(&format!("{LATEST_MONTH}-renewal-vale-street"));
    for line in crimes.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[1], LATEST_MONTH, "{line}");
        if let Some(e) = out.get_mut(fields[7]) {
            e.0 += 1;
        }
    }
    let (header, rows) = parse_csv(&read("File_6_"));
    let (l, p) = (
        col(&header, "LSOA code (2011)"),
        col(&header, "Total population: mid 2015 (excluding prisoners)"),
    );
    for r in rows {
        if let Some(e) = out.get_mut(&r[l]) {
            e.1 = r[p].parse().unwrap();
        }
    }
    assert!(
        out.values().all(|e| e.1 > 0.0),
        "every LSOA has a population"
    );
    out
}

/// For every LSOA of the authority with a count below the threshold, `versus` on that LSOA
/// alone: no route through its output gives the count (to the nearest whole number), and no
/// interval bound of the selection is shown (each bound of a small count identifies it).
#[test]
fn versus_on_one_small_lsoa_does_not_reveal_its_count() {
    let (_dir, r, sample) = demo_warehouse();
    let raw = raw_figures(&sample);
    let authority_population: f64 = raw.values().map(|e| e.1).sum();
    let small: Vec<(&String, u32, f64)> = raw
        .iter()
        .filter(|(_, e)| e.0 < THRESHOLD)
        .map(|(l, e)| (l, e.0, e.1))
        .collect();
    assert!(
        !small.is_empty(),
        "the sample should have LSOAs with fewer than {THRESHOLD} crimes in {LATEST_MONTH}"
    );
    let mut leaks = Vec::new();
    for (lsoa, count, population) in &small {
        let select = format!("areas:{lsoa}");
        let out = r.ok([
            "versus",
            "--indicator",
            "crime-all",
            "--authority",
            AUTHORITY,
            "--select",
            &select,
            "--format",
            "csv",
        ]);
        let (header, rows) = parse_csv(&out);
        assert_eq!(rows.len(), 1, "{out}");
        let row = &rows[0];
        let text = |name: &str| -> Option<&str> {
            let i = header.iter().position(|h| h == name)?;
            Some(row[i].as_str()).filter(|v| !v.is_empty())
        };
        let get = |name: &str| -> Option<f64> { text(name).map(|v| v.parse().unwrap()) };
        assert_eq!(text("period"), Some(LATEST_MONTH), "{out}");
        // Denominators: as shown, else the public populations (File 6).
        let sd = get("selected_denominator").unwrap_or(*population);
        let rd = get("rest_denominator").unwrap_or(authority_population - population);
        assert!(
            (sd - population).abs() < 1e-6,
            "{lsoa}: {sd} vs {population}"
        );
        let per = |value: f64, n: f64| value * n / MULTIPLIER;
        let rest_count = get("rest_numerator").or_else(|| get("rest_value").map(|v| per(v, rd)));
        let rest_rate =
            get("rest_value").or_else(|| get("rest_numerator").map(|x| x / rd * MULTIPLIER));
        let mut routes: Vec<(&str, Option<f64>)> = vec![
            ("selected_numerator", get("selected_numerator")),
            (
                "selected_value × selected_denominator / 1000",
                get("selected_value").map(|v| per(v, sd)),
            ),
            (
                "authority_value × (selected + rest denominators) / 1000 − rest count",
                get("authority_value")
                    .zip(rest_count)
                    .map(|(a, rc)| per(a, sd + rd) - rc),
            ),
            (
                "(gap + rest rate) × selected_denominator / 1000",
                get("gap").zip(rest_rate).map(|(g, rr)| per(g + rr, sd)),
            ),
            (
                "ratio × rest rate × selected_denominator / 1000",
                get("ratio").zip(rest_rate).map(|(q, rr)| per(q * rr, sd)),
            ),
        ];
        for bound in ["selected_lower_95", "selected_upper_95"] {
            if get(bound).is_some() {
                routes.push((bound, Some(f64::from(*count))));
            }
        }
        for (route, estimate) in routes {
            if let Some(e) = estimate
                && (e - f64::from(*count)).abs() < 0.5
            {
                leaks.push(format!(
                    "{lsoa} ({count} crimes in {LATEST_MONTH}): {route} gives {e}\n  {out}"
                ));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} recoveries of the {} small LSOAs' counts from `renewal versus --select areas:LSOA`:\n{}",
        leaks.len(),
        small.len(),
        leaks.join("\n")
    );
}
