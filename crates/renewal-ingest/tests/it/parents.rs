//! Parent-area lookups: every real ONS layout in `../shared/data/geography/` reads, with row
//! counts and parents counted from the raw file by a separate simple reader; bad rows are
//! refused with file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use renewal_ingest::{IngestError, NoProgress, ParentsOptions, read_parents};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};
use renewal_warehouse::Draft;

use crate::{catalog, table};

const CSP_PFA: &str = "geography/LAD_(2024)_to_CSP_(2024)_to_PFA_(2024)_Lookup_in_EW.csv";
const UTLA: &str = "geography/LTLA_(2023)_to_UTLA_(2023)_Lookup_in_EW.csv";
const CAUTH: &str = "geography/LAD_(2023)_to_Combined_Authority_(2023)_Lookup_in_England.csv";
const REGION: &str = "geography/LAD_(2024)_to_Region_(2024)_Lookup_in_England.csv";
const ICB: &str = "geography/LSOA_(2021)_to_SICBL_(2024)_to_ICB_(2024)_Lookup_in_England.csv";

/// A deliberately naive CSV reader (quotes, BOM, CRLF), independent of the ingester: the
/// header and the data rows as fields.
fn raw(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).map(|l| {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        for c in l.trim_end_matches('\r').chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(String::new()),
                c => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    });
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// (member, parent) pairs of the raw file for the given columns.
fn raw_pairs(path: &Path, member: &str, parent: &str) -> (usize, BTreeSet<(String, String)>) {
    let (header, rows) = raw(path);
    let m = header.iter().position(|h| h == member).unwrap();
    let p = header.iter().position(|h| h == parent).unwrap();
    let pairs = rows.iter().map(|r| (r[m].clone(), r[p].clone())).collect();
    (rows.len(), pairs)
}

fn pairs(d: &Draft) -> BTreeSet<(String, String)> {
    let df = table(d, "parents");
    let m = df.column("member_code").unwrap().str().unwrap().clone();
    let p = df.column("parent_code").unwrap().str().unwrap().clone();
    (0..df.height())
        .map(|i| (m.get(i).unwrap().to_owned(), p.get(i).unwrap().to_owned()))
        .collect()
}

fn read(paths: &[std::path::PathBuf], options: &ParentsOptions) -> Vec<Draft> {
    read_parents(&catalog(), paths, options, &NoProgress).unwrap()
}

/// (dataset, member header, parent header) a file should publish.
type Expected = (&'static str, &'static str, &'static str);

#[test]
fn every_real_ons_parent_lookup_reads_with_its_raw_pairs() {
    let Some(root) = shared_data() else { return };
    // (file, datasets expected, member header, parent header per dataset)
    let cases: [(&str, &[Expected]); 5] = [
        (
            CSP_PFA,
            &[
                ("parents-csp-2024", "LAD24CD", "CSP24CD"),
                ("parents-pfa-2024", "LAD24CD", "PFA24CD"),
            ],
        ),
        (UTLA, &[("parents-utla-2023", "LTLA23CD", "UTLA23CD")]),
        (
            CAUTH,
            &[("parents-combined-authority-2023", "LAD23CD", "CAUTH23CD")],
        ),
        (REGION, &[("parents-region-2024", "LAD24CD", "RGN24CD")]),
        (
            ICB,
            &[
                ("parents-icb-2024", "LSOA21CD", "ICB24CD"),
                ("parents-sub-icb-2024", "LSOA21CD", "SICBL24CD"),
            ],
        ),
    ];
    for (file, expected) in cases {
        let path = shared_file(&root, file);
        let drafts = read(std::slice::from_ref(&path), &ParentsOptions::default());
        let ids: Vec<&str> = drafts.iter().map(|d| d.dataset.as_str()).collect();
        assert_eq!(
            ids,
            expected.iter().map(|e| e.0).collect::<Vec<_>>(),
            "{file}"
        );
        for (d, (_, member, parent)) in drafts.iter().zip(expected) {
            let (rows, raw) = raw_pairs(&path, member, parent);
            assert_eq!(d.kind, "parents");
            assert_eq!(d.sources[0].rows, rows as u64, "{file}");
            // Every distinct (member, parent) pair of the raw file, no more.
            assert_eq!(pairs(d), raw, "{file} {parent}");
            assert_eq!(table(d, "parents").height(), raw.len(), "{file} {parent}");
        }
    }
}

#[test]
fn real_lookups_record_their_vintages_and_shared_members() {
    let Some(root) = shared_data() else { return };
    let drafts = read(&[shared_file(&root, CSP_PFA)], &ParentsOptions::default());
    let csp = &drafts[0];
    let pfa = &drafts[1];
    assert_eq!(csp.vintage["member"], "LAD24");
    assert_eq!(csp.vintage["parent"], "2024");
    assert_eq!(pfa.attributes["parent_type"], "pfa");
    // Raw file: 332 rows for 318 districts; 7 districts repeat, each in several CSPs (BCP,
    // Buckinghamshire, North and West Northamptonshire, Cumberland, Westmorland and Furness,
    // East Suffolk), all within one PFA each.
    let (header, rows) = raw(&shared_file(&root, CSP_PFA));
    let lad = header.iter().position(|h| h == "LAD24CD").unwrap();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *count.entry(r[lad].as_str()).or_default() += 1;
    }
    let repeated = count.values().filter(|n| **n > 1).count();
    assert_eq!(repeated, 7);
    assert!(
        csp.notes
            .iter()
            .any(|n| n.starts_with("7 local authority district lie in more than one csp")),
        "{:?}",
        csp.notes
    );
    assert!(pfa.notes.is_empty(), "{:?}", pfa.notes);
    let pfa_codes: BTreeSet<String> = pairs(pfa).into_iter().map(|p| p.1).collect();
    assert_eq!(pfa_codes.len(), 43);
    let icb = read(&[shared_file(&root, ICB)], &ParentsOptions::default());
    assert_eq!(icb[0].vintage["member"], "LSOA21");
    assert_eq!(icb[0].vintage["member_level"], "lsoa");
}

fn err_of(dir: &Path, name: &str, body: &str, options: &ParentsOptions) -> String {
    let path = write_file(dir, name, body);
    match read_parents(&catalog(), &[path], options, &NoProgress) {
        Err(e @ IngestError::Invalid { .. }) | Err(e @ IngestError::Usage(_)) => e.to_string(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted bad input:\n{body}"),
    }
}

#[test]
fn bad_rows_are_refused_with_their_place() {
    let dir = temp_dir();
    let d = dir.path();
    let none = ParentsOptions::default();
    let head = "LAD24CD,LAD24NM,CSP24CD,CSP24NM,PFA24CD,PFA24NM,ObjectId\n";
    let good = "E08000001,Bolton,E22000001,Bolton,E23000005,Greater Manchester,1\n";
    let cases = [
        (
            format!("{head}{good}E08000002,Bury,E22000002,Bury,E99000005,Greater Manchester,2\n"),
            "pfa.csv, line 3, column 5 (\"PFA24CD\"): \"E99000005\" is not a valid pfa code (expected E23/W15 followed by six digits)",
        ),
        (
            format!("{head}{good}E0800000X,Bury,E22000002,Bury,E23000005,Greater Manchester,2\n"),
            "pfa.csv, line 3, column 1 (\"LAD24CD\")",
        ),
        (
            format!("{head}{good}E08000002,Bury,E22000002,Bury,E23000005,Manchester,2\n"),
            "pfa.csv, line 3, column 6 (\"PFA24NM\"): pfa E23000005 is named \"Manchester\" here but \"Greater Manchester\"",
        ),
        (
            format!("{head}{good}{good}"),
            "pfa.csv, line 3, column 1 (\"LAD24CD\"): E08000001 is listed with the same parents twice (also on line 2)",
        ),
        (
            format!("{head}E08000001,Bolton,E22000001,,E23000005,Greater Manchester,1\n"),
            "pfa.csv, line 2, column 4 (\"CSP24NM\"): csp E22000001 has no name",
        ),
    ];
    for (body, expected) in cases {
        let e = err_of(d, "pfa.csv", &body, &none);
        assert!(e.starts_with(expected), "{e}\nexpected {expected}");
    }
    let e = err_of(
        d,
        "odd.csv",
        "LAD24CD,XYZ24CD\nE08000001,E23000005\n",
        &none,
    );
    assert!(
        e.starts_with("odd.csv, line 1: not a known parent-area lookup layout"),
        "{e}"
    );
}

#[test]
fn user_defined_parents_need_a_type_and_one_member_level() {
    let dir = temp_dir();
    let d = dir.path();
    let body = "parent_code,parent_name,member_code\nNP1,North partnership,E08000001\nNP1,North partnership,E08000002\nNP2,South,E08000003\n";
    let path = write_file(d, "np.csv", body);
    let e = read_parents(
        &catalog(),
        std::slice::from_ref(&path),
        &ParentsOptions::default(),
        &NoProgress,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("needs --type NAME"), "{e}");
    let opts = ParentsOptions {
        user_type: Some("partnership".into()),
        dataset: None,
    };
    let drafts = read(std::slice::from_ref(&path), &opts);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].dataset, "parents-partnership-custom");
    assert_eq!(drafts[0].vintage["member_level"], "lad");
    assert_eq!(
        pairs(&drafts[0]),
        BTreeSet::from([
            ("E08000001".to_owned(), "NP1".to_owned()),
            ("E08000002".to_owned(), "NP1".to_owned()),
            ("E08000003".to_owned(), "NP2".to_owned()),
        ])
    );
    // An LSOA among district members is refused where it stands.
    let e = err_of(
        d,
        "mixed.csv",
        "parent_code,parent_name,member_code\nNP1,N,E08000001\nNP1,N,E01000001\n",
        &opts,
    );
    assert!(
        e.starts_with("mixed.csv, line 3, column 3 (\"member_code\")"),
        "{e}"
    );
    // An ONS type name or a level is not a user type.
    for t in ["pfa", "ward", "England"] {
        let o = ParentsOptions {
            user_type: Some(t.into()),
            dataset: None,
        };
        let e = err_of(d, "np.csv", body, &o);
        assert!(e.starts_with(&format!("--type {t:?}")), "{e}");
    }
}
