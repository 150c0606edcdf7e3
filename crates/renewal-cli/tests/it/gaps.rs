//! Conformance of the ward gap query on real shared data: every ward of Barnsley and Sheffield
//! (police.uk crime per 1,000, LSOA11 → WD19) and of Trafford (census 2021 bad health, LSOA21
//! → WD22) against tests/reference/gap_reference.py, an independent standard-library Python
//! implementation that reads the source files directly, not our warehouse.

use std::collections::BTreeMap;
use std::path::Path;

use renewal_test_support::{shared_data, shared_file, temp_dir};

use crate::{Renewal, parse_csv, python_reference};

/// (area_code → column → cell).
type Rows = BTreeMap<String, BTreeMap<String, String>>;

fn by_area(csv: &str) -> Rows {
    let (header, rows) = parse_csv(csv);
    let code = header.iter().position(|h| h == "area_code").unwrap();
    rows.into_iter()
        .map(|r| {
            let cells = header.iter().cloned().zip(r.iter().cloned()).collect();
            (r[code].clone(), cells)
        })
        .collect()
}

fn reference(args: &[&str], data: &Path) -> Rows {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    all.extend([std::ffi::OsStr::new("--data"), data.as_os_str()]);
    by_area(&python_reference("gap_reference.py", &all))
}

/// Every ward in both; every column the reference has equal (numbers to 1e-9 relative).
fn assert_same(ours: &Rows, theirs: &Rows, what: &str) {
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{what}: different wards"
    );
    let mut compared = 0;
    for (code, their) in theirs {
        let our = &ours[code];
        for (column, theirs) in their {
            let ours = our
                .get(column)
                .unwrap_or_else(|| panic!("{what}: we have no column {column}"));
            match (ours.parse::<f64>(), theirs.parse::<f64>()) {
                (Ok(a), Ok(b)) => assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{what} {code} {column}: ours {a}, reference {b}"
                ),
                _ => assert_eq!(ours, theirs, "{what} {code} {column}"),
            }
            compared += 1;
        }
    }
    assert!(compared > 100, "{what}: only {compared} cells compared");
}

#[test]
fn ward_crime_gaps_match_the_independent_implementation() {
    let Some(root) = shared_data() else { return };
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let lookup = shared_file(
        &root,
        "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
    );
    r.ok([Path::new("ingest"), Path::new("lookup"), &lookup]);
    let file6 = shared_file(
        &root,
        "imd/2019/File_6_-_IoD2019_Population_Denominators.csv",
    );
    r.ok([
        Path::new("ingest"),
        Path::new("imd"),
        Path::new("--vintage"),
        Path::new("2019"),
        &file6,
    ]);
    let crime = shared_file(&root, "crime/2021-01-south-yorkshire-street.csv");
    r.ok([Path::new("ingest"), Path::new("crime"), &crime]);

    for (authority, wards) in [("E08000016", 21), ("E08000019", 28)] {
        let ours = by_area(&r.ok([
            "gap",
            "--indicator",
            "crime-all",
            "--authority",
            authority,
            "--ward-vintage",
            "WD19",
        ]));
        assert_eq!(ours.len(), wards, "{authority}");
        let theirs = reference(&["crime", "--authority", authority], &root);
        assert_same(&ours, &theirs, authority);
    }
    let ours = by_area(&r.ok([
        "gap",
        "--indicator",
        "crime-burglary",
        "--authority",
        "E08000019",
    ]));
    let theirs = reference(
        &[
            "crime",
            "--authority",
            "E08000019",
            "--crime-type",
            "Burglary",
        ],
        &root,
    );
    assert_same(&ours, &theirs, "Sheffield burglary");
}

#[test]
fn ward_census_gaps_match_the_independent_implementation() {
    let Some(root) = shared_data() else { return };
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let lookup = shared_file(&root, "geography/gm_lsoa21_to_ward22_best-fit_lookup.csv");
    r.ok([Path::new("ingest"), Path::new("lookup"), &lookup]);
    let census = shared_file(&root, "census/2021_general_health_lsoa_trafford.csv");
    r.ok([Path::new("ingest"), Path::new("census"), &census]);
    let ours = by_area(&r.ok([
        "gap",
        "--indicator",
        "census-bad-health",
        "--authority",
        "E08000009",
    ]));
    assert_eq!(ours.len(), 21);
    let theirs = reference(&["census-bad-health", "--authority", "E08000009"], &root);
    assert_same(&ours, &theirs, "Trafford");
    assert!(ours.values().all(|r| r["fit"] == "best-fit"));
}

/// The indicator engine's population-weighted IMD score for all 317 districts equals the IoD
/// summary's average score (itself checked against the official File 10), and every district
/// is compared with England built from all 32,844 LSOAs.
#[test]
fn england_wide_district_scores_agree_with_the_iod_summaries() {
    let Some(root) = shared_data() else { return };
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let lookup = shared_file(
        &root,
        "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
    );
    r.ok([Path::new("ingest"), Path::new("lookup"), &lookup]);
    let mut args: Vec<std::path::PathBuf> = ["ingest", "imd", "--vintage", "2019"]
        .map(std::path::PathBuf::from)
        .into();
    for f in [
        "imd/2019/File_6_-_IoD2019_Population_Denominators.csv",
        "imd/2019/UK_IMD_E.csv",
    ] {
        args.push(shared_file(&root, f));
    }
    r.ok(&args);

    let gaps = by_area(&r.ok([
        "gap",
        "--indicator",
        "iod-imd-score",
        "--level",
        "lad",
        "--benchmark",
        "england",
    ]));
    let summary = by_area(&r.ok(["summary", "--vintage", "2019", "--level", "lad"]));
    assert_eq!(gaps.len(), 317);
    let england: f64 = gaps["E06000009"]["benchmark_value"].parse().unwrap();
    for (code, row) in &gaps {
        let ours: f64 = row["value"].parse().unwrap();
        let theirs: f64 = summary[code]["average_score"].parse().unwrap();
        assert!((ours - theirs).abs() < 1e-9, "{code}: {ours} vs {theirs}");
        assert_eq!(row["benchmark_code"], "E92000001");
        let gap: f64 = row["gap"].parse().unwrap();
        assert!((gap - (ours - england)).abs() < 1e-9);
        // Scores have no interval, so no significance judgement either.
        assert_eq!(row["comparison_95"], "");
    }
    // Blackpool is the most deprived district: rank 1 among all districts (lower is better).
    assert_eq!(gaps["E06000009"]["rank_in_parent"], "1");
}
