//! LSOA change lookups (LSOA11 → LSOA21): the shared ONS file ingests as a bridge, and every
//! malformed row is refused with its place.

use std::collections::{BTreeMap, BTreeSet};

use renewal_ingest::{NoProgress, read_lookups};
use renewal_test_support::{shared_data, shared_file, temp_dir};

use crate::{catalog, table};

const LOOKUP: &str = "geography/LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup_for_England_and_Wales.csv";

#[test]
fn the_ons_change_lookup_is_a_bridge_with_every_pair() {
    let Some(root) = shared_data() else { return };
    let drafts = read_lookups(&catalog(), &[shared_file(&root, LOOKUP)], &NoProgress).unwrap();
    assert_eq!(drafts.len(), 1);
    let d = &drafts[0];
    assert_eq!(d.dataset, "bridge-lsoa11-lsoa21");
    assert_eq!(d.kind, "bridge");
    assert_eq!(d.vintage["from"], "LSOA11");
    assert_eq!(d.vintage["to"], "LSOA21");
    assert_eq!(d.vintage["lad"], "LAD22");
    let df = table(d, "bridge");
    // One row per pair in the file (README: 33,647 U + 1,900 S + 239 M + 9 X).
    assert_eq!(df.height(), 35_795);
    let col = |n: &str| df.column(n).unwrap().str().unwrap().clone();
    let (from, to, change) = (col("from_code"), col("to_code"), col("change"));
    let mut by_change: BTreeMap<String, usize> = BTreeMap::new();
    let mut froms = BTreeSet::new();
    let mut tos = BTreeSet::new();
    for i in 0..df.height() {
        *by_change
            .entry(change.get(i).unwrap().to_owned())
            .or_default() += 1;
        froms.insert(from.get(i).unwrap());
        tos.insert(to.get(i).unwrap());
    }
    assert_eq!(
        by_change,
        BTreeMap::from([
            ("irregular".to_owned(), 9),
            ("merged".to_owned(), 239),
            ("split".to_owned(), 1_900),
            ("unchanged".to_owned(), 33_647),
        ])
    );
    // England's 32,844 LSOAs of 2011 and 33,755 of 2021, plus Wales's.
    assert_eq!(froms.iter().filter(|c| c.starts_with('E')).count(), 32_844);
    assert_eq!(tos.iter().filter(|c| c.starts_with('E')).count(), 33_755);
    assert_eq!(d.attributes["from_lsoas"], froms.len().to_string());
}

fn write(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("lsoa11_lsoa21.csv");
    std::fs::write(
        &path,
        format!("LSOA11CD,LSOA11NM,LSOA21CD,LSOA21NM,CHGIND,LAD22CD,LAD22NM\n{body}"),
    )
    .unwrap();
    path
}

fn error(body: &str) -> String {
    let dir = temp_dir();
    let path = write(dir.path(), body);
    read_lookups(&catalog(), &[path], &NoProgress)
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

const GOOD: &str = "E01000001,A,E01000001,A,U,E09000001,L\n\
                    E01000002,B,E01040001,B1,S,E09000001,L\n\
                    E01000002,B,E01040002,B2,S,E09000001,L\n";

#[test]
fn a_small_bridge_reads() {
    let dir = temp_dir();
    let drafts = read_lookups(&catalog(), &[write(dir.path(), GOOD)], &NoProgress).unwrap();
    assert_eq!(table(&drafts[0], "bridge").height(), 3);
}

#[test]
fn bad_rows_are_refused_with_their_place() {
    // Line numbers count the header as line 1.
    let e = error(&format!("{GOOD}E01000003,C,E01000003,C,Q,E09000001,L\n"));
    assert!(
        e.contains("lsoa11_lsoa21.csv")
            && e.contains("line 5")
            && e.contains("CHGIND")
            && e.contains("\"Q\""),
        "{e}"
    );
    let e = error(&format!("{GOOD}E01000003,C,E01040003,C,U,E09000001,L\n"));
    assert!(
        e.contains("line 5") && e.contains("marked unchanged"),
        "{e}"
    );
    let e = error(&format!("{GOOD}E01000002,B,E01040002,B2,S,E09000001,L\n"));
    assert!(e.contains("line 5") && e.contains("listed twice"), "{e}");
    let e = error(&format!("{GOOD}E01000004,D,E01040004,D,S,E09000001,L\n"));
    assert!(
        e.contains("line 5") && e.contains("marked split") && e.contains("unchanged"),
        "{e}"
    );
    let e = error(&format!("{GOOD}E05000004,D,E01040004,D,M,E09000001,L\n"));
    assert!(e.contains("line 5") && e.contains("LSOA11CD"), "{e}");
}

/// Reads a CSV with the csv crate, not Renewal's readers: header, rows.
fn simple_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(|c| c.trim().to_owned()).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

/// The bridge's properties on the real ONS lookup, with real weights: IoD2019's mid-2015
/// populations on 2011 LSOAs (File 6) and Census 2021 usual residents on 2021 LSOAs.
#[test]
fn bridge_properties_on_the_shared_lookup() {
    use renewal_geo::bridge::{Bridge, Change};
    use std::collections::HashMap;

    let Some(root) = shared_data() else { return };
    let drafts = read_lookups(&catalog(), &[shared_file(&root, LOOKUP)], &NoProgress).unwrap();
    let df = table(&drafts[0], "bridge");
    let col = |n: &str| df.column(n).unwrap().str().unwrap().clone();
    let (from, to) = (col("from_code"), col("to_code"));
    let pairs: Vec<(String, String)> = (0..df.height())
        .map(|i| {
            (
                from.get(i).unwrap().to_owned(),
                to.get(i).unwrap().to_owned(),
            )
        })
        .collect();
    let bridge = Bridge::new(
        "LSOA11".parse().unwrap(),
        "LSOA21".parse().unwrap(),
        pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())),
    );

    // Every LSOA11 of the WD19 lookup and every LSOA21 of the WD24 lookup is accounted for,
    // and nothing else.
    let codes_of = |rel: &str, header: &str| -> BTreeSet<String> {
        let (h, rows) = simple_csv(&shared_file(&root, rel));
        let i = column(&h, header);
        rows.into_iter().map(|r| r[i].clone()).collect()
    };
    let lsoa11 = codes_of(
        "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
        "LSOA11CD",
    );
    let lsoa21 = codes_of(
        "geography/LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv",
        "LSOA21CD",
    );
    let bridged11: BTreeSet<String> = bridge.from_codes().map(str::to_owned).collect();
    let bridged21: BTreeSet<String> = bridge.to_codes().map(str::to_owned).collect();
    assert_eq!(bridged11, lsoa11);
    assert_eq!(bridged21, lsoa21);

    // Weights and counts: File 6 total population (England's 2011 LSOAs) and Census 2021
    // usual residents summed over the six age groups (2021 LSOAs).
    let (h, rows) = simple_csv(&shared_file(
        &root,
        "imd/2019/File_6_-_IoD2019_Population_Denominators.csv",
    ));
    let (c, p) = (
        column(&h, "LSOA code (2011)"),
        column(&h, "Total population: mid 2015 (excluding prisoners)"),
    );
    let pop11: HashMap<String, f64> = rows
        .iter()
        .map(|r| (r[c].clone(), r[p].replace(',', "").parse::<f64>().unwrap()))
        .collect();
    assert_eq!(pop11.len(), 32_844);
    let (h, rows) = simple_csv(&shared_file(
        &root,
        "population/census2021_usual_residents_age6_lsoa21_ew.csv",
    ));
    let (c, o) = (
        column(&h, "Lower layer Super Output Areas Code"),
        column(&h, "Observation"),
    );
    let mut pop21: HashMap<String, f64> = HashMap::new();
    for r in &rows {
        *pop21.entry(r[c].clone()).or_default() += r[o].parse::<f64>().unwrap();
    }
    let england21: f64 = pop21
        .iter()
        .filter(|(k, _)| k.starts_with('E'))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(england21, 56_489_608.0); // the README's figure

    let keyed = |m: &HashMap<String, f64>| -> HashMap<(String, ()), Option<f64>> {
        m.iter().map(|(k, v)| ((k.clone(), ()), Some(*v))).collect()
    };
    let total = |m: &HashMap<(String, ()), Option<f64>>| -> f64 { m.values().flatten().sum() };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);

    // 2011 → 2021: England's total conserved; splits apportioned by Census 2021 weights.
    let counts11 = keyed(&pop11);
    let fwd = bridge.translate(&counts11, Some(&pop21), false).unwrap();
    assert!(close(total(&fwd.values), total(&counts11)));
    assert_eq!(fwd.incomplete, 0);
    assert!(fwd.unknown.is_empty());
    // Only split (and irregular) LSOAs are apportioned: about 5% of England's 2011 LSOAs.
    let groups = bridge.groups();
    let splits: BTreeSet<&str> = groups
        .iter()
        .filter(|(_, _, c)| matches!(c, Change::Split | Change::Irregular))
        .flat_map(|(f, _, _)| f.iter().map(String::as_str))
        .filter(|c| bridge.targets(c).is_some_and(|t| t.len() > 1))
        .filter(|c| c.starts_with('E'))
        .collect();
    assert_eq!(fwd.apportioned_codes.len(), splits.len());
    assert!(fwd.apportioned_share() > 0.0 && fwd.apportioned_share() < 0.1);

    // 2021 → 2011: conserved too; merges apportioned by the 2011 populations.
    let back = bridge.reversed();
    let england_only: HashMap<String, f64> = pop21
        .iter()
        .filter(|(k, _)| k.starts_with('E'))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let counts21 = keyed(&england_only);
    let rev = back.translate(&counts21, Some(&pop11), false).unwrap();
    assert!(close(total(&rev.values), 56_489_608.0));

    // Round trips: 2011 → 2021 → 2011 returns every unchanged and split LSOA11 exactly (a
    // split's pieces each have one 2011 source); a merged group returns as a whole.
    let round = back.translate(&fwd.values, Some(&pop11), false).unwrap();
    let mut checked = 0;
    for (olds, news, change) in bridge.groups() {
        if !olds[0].starts_with('E') {
            continue;
        }
        let got = |c: &String| round.values[&(c.clone(), ())].unwrap();
        match change {
            Change::Unchanged | Change::Split => {
                assert!(close(got(&olds[0]), pop11[&olds[0]]), "{olds:?} → {news:?}");
                checked += 1;
            }
            Change::Merged => {
                let sum: f64 = olds.iter().map(got).sum();
                let want: f64 = olds.iter().map(|o| pop11[o]).sum();
                assert!(close(sum, want), "{olds:?}");
                checked += 1;
            }
            Change::Irregular => {}
        }
    }
    assert!(checked > 32_000, "{checked}");
    // 2021 → 2011 → 2021 returns every unchanged and merged LSOA21 exactly.
    let round = bridge.translate(&rev.values, Some(&pop21), false).unwrap();
    for (olds, news, change) in bridge.groups() {
        if matches!(change, Change::Unchanged | Change::Merged) && news[0].starts_with('E') {
            let got = round.values[&(news[0].clone(), ())].unwrap();
            assert!(close(got, pop21[&news[0]]), "{olds:?} → {news:?}");
        }
    }
}

fn small_bridge() -> std::sync::Arc<renewal_geo::bridge::Bridge> {
    std::sync::Arc::new(renewal_geo::bridge::Bridge::new(
        "LSOA11".parse().unwrap(),
        "LSOA21".parse().unwrap(),
        [
            ("E01000001", "E01000001"),
            ("E01000002", "E01040001"),
            ("E01000002", "E01040002"),
        ],
    ))
}

const CRIME_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context";

fn crime_row(lsoa: &str) -> String {
    format!(",2024-01,Force,Force,,,On or near X,{lsoa},Name,Burglary,,")
}

#[test]
fn codes_record_their_lsoa_vintage_and_mixed_files_are_refused() {
    use renewal_ingest::{CrimeOptions, read_crime};
    let dir = temp_dir();
    let write = |name: &str, rows: &[&str]| {
        let body: Vec<String> = rows.iter().map(|r| crime_row(r)).collect();
        renewal_test_support::write_file(
            dir.path(),
            name,
            format!("{CRIME_HEADER}\n{}\n", body.join("\n")),
        )
    };
    let options = CrimeOptions {
        bridge: Some(small_bridge()),
        ..Default::default()
    };
    // 2021-only codes (with an unchanged one) record LSOA21; 2011-only ones LSOA11.
    let new = write("new.csv", &["E01000001", "E01040001"]);
    let d = read_crime(&catalog(), &[new], &options, &NoProgress).unwrap();
    assert_eq!(d.vintage.get("lsoa").map(String::as_str), Some("LSOA21"));
    let old = write("old.csv", &["E01000002", "E01000001"]);
    let d = read_crime(
        &catalog(),
        std::slice::from_ref(&old),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(d.vintage.get("lsoa").map(String::as_str), Some("LSOA11"));
    // Unchanged codes alone tell nothing, and nothing is recorded.
    let same = write("same.csv", &["E01000001"]);
    let d = read_crime(&catalog(), &[same], &options, &NoProgress).unwrap();
    assert_eq!(d.vintage.get("lsoa"), None);

    // One file with both: refused at the second code's cell (line 3, LSOA code column).
    let mixed = write("mixed.csv", &["E01000002", "E01040002"]);
    let e = read_crime(&catalog(), &[mixed], &options, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mixed.csv, line 3, column 8")
            && e.contains("E01040002")
            && e.contains("E01000002")
            && e.contains("mix LSOA vintages"),
        "{e}"
    );
    // Two files of one dataset on different vintages: refused too.
    let new2 = write("new2.csv", &["E01040002"]);
    let e = read_crime(&catalog(), &[old, new2], &options, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("new2.csv, line 2") && e.contains("old.csv"),
        "{e}"
    );
}
