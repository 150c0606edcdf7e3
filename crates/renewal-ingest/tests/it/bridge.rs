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
        e.contains("lsoa11_lsoa21.csv") && e.contains("line 5") && e.contains("CHGIND") && e.contains("\"Q\""),
        "{e}"
    );
    let e = error(&format!("{GOOD}E01000003,C,E01040003,C,U,E09000001,L\n"));
    assert!(e.contains("line 5") && e.contains("marked unchanged"), "{e}");
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
