//! Conformance of the ward gap query on real shared data: every ward of Barnsley and Sheffield
//! (police.uk crime per 1,000, LSOA11 → WD19) and of Trafford (census 2021 bad health, LSOA21
//! → WD22) against tests/reference/gap_reference.py, an independent standard-library Python
//! implementation that reads the source files directly, not our warehouse.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use renewal_test_support::{shared_data, shared_file, temp_dir, workspace_root};

use crate::{Renewal, parse_csv};

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
    let script = workspace_root().join("tests/reference/gap_reference.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the reference implementation: {e}"));
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    by_area(&String::from_utf8(out.stdout).unwrap())
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
