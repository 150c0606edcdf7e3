//! Partner geographies on real shared data: the wards of Manchester against Greater
//! Manchester Police's area (IoD2019 IMD score, LSOA11 → WD19 → LAD19 against the ONS LAD24 →
//! CSP24 → PFA24 lookup). The PFA value is checked against tests/reference/parent_score.py,
//! which sums the member LSOAs straight from the raw files; the districts of 2019 that the
//! 2024 lookup no longer has are named in the notes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use renewal_test_support::{shared_data, shared_file, temp_dir};

use crate::{Renewal, parse_csv, python_reference};

const LOOKUP: &str =
    "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv";
const PFA: &str = "geography/LAD_(2024)_to_CSP_(2024)_to_PFA_(2024)_Lookup_in_EW.csv";
const POP: &str = "imd/2019/File_6_-_IoD2019_Population_Denominators.csv";
const SCORES: &str = "imd/2019/UK_IMD_E.csv";

/// (parent code → value) and the districts the reference finds in no parent.
fn reference(root: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let arg = |p: &str| shared_file(root, p).into_os_string();
    let args: Vec<std::ffi::OsString> = vec![
        "--scores".into(),
        arg(SCORES),
        "--score-column".into(),
        "overall_local_score".into(),
        "--lsoa-column".into(),
        "lsoa".into(),
        "--pop".into(),
        arg(POP),
        "--lookup".into(),
        arg(LOOKUP),
        "--parents".into(),
        arg(PFA),
        "--member-column".into(),
        "LAD24CD".into(),
        "--parent-column".into(),
        "PFA24CD".into(),
    ];
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (_, rows) = parse_csv(&python_reference("parent_score.py", &args));
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for r in rows {
        if r[0] == "missing" {
            missing = r[1].split(';').map(str::to_owned).collect();
        } else {
            values.insert(r[0].clone(), r[1].clone());
        }
    }
    (values, missing)
}

#[test]
fn manchester_wards_against_their_police_force_area_match_the_reference() {
    let Some(root) = shared_data() else { return };
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    r.ok([
        Path::new("ingest"),
        Path::new("lookup"),
        &shared_file(&root, LOOKUP),
    ]);
    let mut imd: Vec<PathBuf> = ["ingest", "imd", "--vintage", "2019"]
        .map(PathBuf::from)
        .into();
    imd.extend([shared_file(&root, POP), shared_file(&root, SCORES)]);
    r.ok(&imd);
    r.ok([
        Path::new("ingest"),
        Path::new("parents"),
        &shared_file(&root, PFA),
    ]);

    let out = r.run([
        "gap",
        "--indicator",
        "iod-imd-score",
        "--level",
        "ward",
        "--authority",
        "E08000003",
        "--benchmark",
        "pfa",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (header, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (values, missing) = reference(&root);
    // The raw PFA file puts Manchester (LAD24 E08000003) in Greater Manchester, E23000005.
    let gmp = "E23000005";
    let theirs: f64 = values[gmp].parse().unwrap();
    // Manchester has 32 wards in WD19.
    assert_eq!(rows.len(), 32);
    for row in &rows {
        assert_eq!(row[col("benchmark_code")], gmp);
        let ours: f64 = row[col("benchmark_value")].parse().unwrap();
        assert!((ours - theirs).abs() < 1e-9, "{ours} vs {theirs}");
        let value: f64 = row[col("value")].parse().unwrap();
        let gap: f64 = row[col("gap")].parse().unwrap();
        assert!((gap - (value - theirs)).abs() < 1e-9);
    }
    // Every 2019 district the 2024 lookup lacks is named (28: Buckinghamshire's four,
    // Cumbria's six, Northamptonshire's seven, North Yorkshire's seven, Somerset's four).
    assert_eq!(missing.len(), 28, "{missing:?}");
    for d in &missing {
        assert!(stderr.contains(d.as_str()), "{d} not reported:\n{stderr}");
    }
    // Cumbria (its districts abolished in 2023) therefore gets no figure, and says so.
    assert!(stderr.contains("pfa areas get no figure"), "{stderr}");
    assert!(stderr.contains("E23000002") || values["E23000002"].is_empty());

    // Districts against their PFA: every district of the reference with a value agrees.
    let out = r.ok([
        "gap",
        "--indicator",
        "iod-imd-score",
        "--level",
        "lad",
        "--benchmark",
        "pfa",
        "--format",
        "csv",
    ]);
    let (header, rows) = parse_csv(&out);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut compared = 0;
    for row in &rows {
        let code = &row[col("benchmark_code")];
        let theirs = values.get(code).map(String::as_str).unwrap_or("");
        let ours = &row[col("benchmark_value")];
        match (ours.parse::<f64>(), theirs.parse::<f64>()) {
            (Ok(a), Ok(b)) => {
                assert!(
                    (a - b).abs() < 1e-9,
                    "{} in {code}: {a} vs {b}",
                    row[col("area_code")]
                );
                compared += 1;
            }
            _ => assert_eq!(ours.as_str(), theirs, "{} in {code}", row[col("area_code")]),
        }
    }
    assert!(compared > 250, "only {compared} districts compared");

    // CSPs follow pre-reorganisation districts: a district the raw file puts in several CSPs
    // (Bournemouth, Christchurch and Poole; East Suffolk) lies in no single CSP, so it has no
    // CSP benchmark, and the CSPs it touches have no figure.
    let text = std::fs::read_to_string(shared_file(&root, PFA)).unwrap();
    let (header, raw) = parse_csv(text.trim_start_matches('\u{feff}'));
    let (lad, csp) = (
        header.iter().position(|h| h.trim() == "LAD24CD").unwrap(),
        header.iter().position(|h| h.trim() == "CSP24CD").unwrap(),
    );
    let mut csps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &raw {
        csps.entry(r[lad].clone())
            .or_default()
            .push(r[csp].trim().to_owned());
    }
    let out = r.ok([
        "gap",
        "--indicator",
        "iod-imd-score",
        "--level",
        "lad",
        "--benchmark",
        "csp",
        "--format",
        "csv",
    ]);
    let (header, rows) = parse_csv(&out);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut shared = 0;
    for row in &rows {
        let code = &row[col("area_code")];
        match csps.get(code).map(Vec::as_slice) {
            Some([one]) => assert_eq!(&row[col("benchmark_code")], one, "{code}"),
            Some(_) => {
                shared += 1;
                assert_eq!(row[col("benchmark_code")], "", "{code}");
                assert_eq!(row[col("benchmark_value")], "", "{code}");
            }
            None => assert_eq!(row[col("benchmark_code")], "", "{code}"),
        }
    }
    assert_eq!(
        shared, 2,
        "BCP and East Suffolk are districts of 2019 in several CSPs"
    );
}
