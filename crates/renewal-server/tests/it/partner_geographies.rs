//! Partner geographies end to end over gRPC and Flight SQL: the sample's police force area as
//! the benchmark of AreaGap, and keys scoped to a police force area, a CSP and an integrated
//! care board (built from LSOAs, covering one authority wholly and the other in part) seeing
//! exactly the authorities inside them. Expected areas are read from the raw files (the
//! sample's lookups and the ICB file this test writes), not from the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use renewal_server::{Running, hash_key, pb};
use renewal_test_support::python_reference;
use renewal_warehouse::PublishOptions;
use tonic::Code;

use crate::flight::{client, query, texts};
use crate::*;

const PFA_KEY: &str = "pfa-key";
const CSP_KEY: &str = "csp-key";
const ICB_KEY: &str = "icb-key";
const NOWHERE_KEY: &str = "nowhere-key";
const ICB_A: &str = "E54999001";
const ICB_B: &str = "E54999002";
const LOOKUP: &str =
    "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv";
const PFA_FILE: &str = "LAD_(2024)_to_CSP_(2024)_to_PFA_(2024)_Lookup_in_EW.csv";

/// A CSV file as header → column of cells (BOM and quotes handled, nothing else).
fn raw(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines().map(|l| {
        l.trim_end_matches('\r')
            .split(',')
            .map(|f| f.trim_matches('"').to_owned())
            .collect::<Vec<_>>()
    });
    let header = lines.next().unwrap();
    lines
        .filter(|l| l.len() == header.len())
        .map(|l| header.iter().cloned().zip(l).collect())
        .collect()
}

/// The sample's LSOAs by authority, from its raw lookup.
fn lsoas_by_authority(sample: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in raw(&sample.join(LOOKUP)) {
        out.entry(r["LAD19CD"].clone())
            .or_default()
            .insert(r["LSOA11CD"].clone());
    }
    out
}

/// An ONS-layout LSOA → sub-ICB → ICB file: ICB A holds all of Brookmere and Renewal Vale's
/// three lowest-coded LSOAs, ICB B the rest of Renewal Vale.
fn write_icb(dir: &Path, sample: &Path) -> (PathBuf, BTreeSet<String>) {
    let by_lad = lsoas_by_authority(sample);
    let vale: Vec<&String> = by_lad[VALE].iter().collect();
    let mut a: BTreeSet<String> = by_lad[BROOKMERE].clone();
    a.extend(vale[..3].iter().map(|s| (*s).clone()));
    let mut text = String::from(
        "\u{feff}LSOA11CD,LSOA11NM,SICBL24CD,SICBL24CDH,SICBL24NM,ICB24CD,ICB24CDH,ICB24NM,ObjectId\r\n",
    );
    let all = by_lad.values().flatten();
    for (i, l) in all.enumerate() {
        let (icb, sub) = if a.contains(l) {
            (ICB_A, "E38999001")
        } else {
            (ICB_B, "E38999002")
        };
        text.push_str(&format!(
            "{l},{l},{sub},99X,Sub {sub},{icb},QX9,Board {icb},{}\r\n",
            i + 1
        ));
    }
    let path = dir.join("LSOA_(2011)_to_SICBL_(2024)_to_ICB_(2024)_test.csv");
    std::fs::write(&path, text).unwrap();
    (path, a)
}

fn keys(dir: &Path, pfa: &str, csp: &str) -> PathBuf {
    let path = dir.join("partner-keys.toml");
    std::fs::write(
        &path,
        format!(
            "[[key]]\npartner = \"Full\"\nsha256 = \"{}\"\nsql = true\n\n\
             [[key]]\npartner = \"Police\"\nsha256 = \"{}\"\nareas = [\"{pfa}\"]\nsql = true\n\n\
             [[key]]\npartner = \"Vale CSP\"\nsha256 = \"{}\"\nareas = [\"{csp}\"]\nsql = true\n\n\
             [[key]]\npartner = \"Board\"\nsha256 = \"{}\"\nareas = [\"{ICB_A}\"]\nsql = true\n\n\
             [[key]]\npartner = \"Nowhere\"\nsha256 = \"{}\"\nareas = [\"E23000999\"]\nsql = true\n",
            hash_key(FULL_KEY),
            hash_key(PFA_KEY),
            hash_key(CSP_KEY),
            hash_key(ICB_KEY),
            hash_key(NOWHERE_KEY),
        ),
    )
    .unwrap();
    path
}

struct World {
    f: Fixture,
    running: Running,
    pfa: (String, String),
    csp_of_vale: String,
    icb_a: BTreeSet<String>,
}

async fn world() -> World {
    let f = fixture().await;
    let (icb_file, icb_a) = write_icb(f.dir.path(), &f.sample);
    let catalog = renewal_schema::Catalog::embedded().unwrap();
    let drafts = renewal_ingest::read_parents(
        &catalog,
        &[f.sample.join(PFA_FILE), icb_file],
        &renewal_ingest::ParentsOptions::default(),
        &renewal_ingest::NoProgress,
    )
    .unwrap();
    for d in drafts {
        f.warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
    let rows = raw(&f.sample.join(PFA_FILE));
    let pfas: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r["PFA24CD"].clone(), r["PFA24NM"].clone()))
        .collect();
    assert_eq!(pfas.len(), 1, "the sample has one police force area");
    let pfa = pfas.into_iter().next().unwrap();
    let csp_of_vale = rows.iter().find(|r| r["LAD24CD"] == VALE).unwrap()["CSP24CD"].clone();
    let path = keys(f.dir.path(), &pfa.0, &csp_of_vale);
    let running = start(&f, |c| c.keys = Some(path)).await;
    World {
        f,
        running,
        pfa,
        csp_of_vale,
        icb_a,
    }
}

fn gap(authority: &str, benchmark: &str) -> pb::GapRequest {
    pb::GapRequest {
        indicator: "iod-imd-score".into(),
        authority: authority.into(),
        benchmark_name: benchmark.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn area_gap_with_the_police_force_area_as_benchmark() {
    let w = world().await;
    let ch = channel(&w.running).await;
    let (_, mut ana) = clients(&ch);
    let t = collect(ana.area_gap(authed(gap(VALE, "pfa"), FULL_KEY)).await)
        .await
        .unwrap();
    // Every Renewal Vale ward of the raw lookup, each against the one PFA.
    let wards: BTreeSet<String> = raw(&w.f.sample.join(LOOKUP))
        .into_iter()
        .filter(|r| r["LAD19CD"] == VALE)
        .map(|r| r["WD19CD"].clone())
        .collect();
    let ours: BTreeSet<String> = (0..t.rows.len())
        .map(|i| t.text(i, "area_code").unwrap())
        .collect();
    assert_eq!(ours, wards);
    // The PFA figure from the raw sample files by the independent reference.
    let s = |n: &str| w.f.sample.join(n).into_os_string();
    let reference = python_reference(
        "parent_score.py",
        [
            "--scores".into(),
            s("File_5_-_IoD2019_Scores.csv"),
            "--score-column".into(),
            "Index of Multiple Deprivation (IMD) Score".into(),
            "--lsoa-column".into(),
            "LSOA code (2011)".into(),
            "--pop".into(),
            s("File_6_-_IoD2019_Population_Denominators.csv"),
            "--lookup".into(),
            s(LOOKUP),
            "--parents".into(),
            s(PFA_FILE),
            "--member-column".into(),
            "LAD24CD".into(),
            "--parent-column".into(),
            "PFA24CD".into(),
        ]
        .map(|a: std::ffi::OsString| a),
    );
    let line = reference
        .lines()
        .find(|l| l.starts_with(&format!("{},", w.pfa.0)))
        .unwrap();
    let expected: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
    for i in 0..t.rows.len() {
        assert_eq!(t.text(i, "benchmark_code").unwrap(), w.pfa.0);
        let b = t.number(i, "benchmark_value").unwrap();
        assert!((b - expected).abs() < 1e-9, "{b} vs {expected}");
        let (v, g) = (t.number(i, "value").unwrap(), t.number(i, "gap").unwrap());
        assert!((g - (v - expected)).abs() < 1e-9);
    }
    assert!(
        t.basis.dataset_versions.contains_key("parents-pfa-2024"),
        "{:?}",
        t.basis
    );

    // Against the ICB: wards wholly in one ICB get it; a ward split between them gets none.
    let t = collect(ana.area_gap(authed(gap(VALE, "icb"), FULL_KEY)).await)
        .await
        .unwrap();
    let lookup = raw(&w.f.sample.join(LOOKUP));
    let mut icbs_of_ward: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for r in &lookup {
        let icb = if w.icb_a.contains(&r["LSOA11CD"]) {
            ICB_A
        } else {
            ICB_B
        };
        icbs_of_ward
            .entry(r["WD19CD"].clone())
            .or_default()
            .insert(icb);
    }
    let mut split = 0;
    for i in 0..t.rows.len() {
        let ward = t.text(i, "area_code").unwrap();
        let icbs = &icbs_of_ward[&ward];
        let code = t.text(i, "benchmark_code").unwrap_or_default();
        if icbs.len() == 1 {
            assert_eq!(code, *icbs.first().unwrap(), "{ward}");
            assert!(t.number(i, "benchmark_value").is_some(), "{ward}");
        } else {
            split += 1;
            assert_eq!(code, "", "{ward} straddles two ICBs");
            assert!(t.number(i, "benchmark_value").is_none());
        }
    }
    assert!(split >= 1, "the test ICBs split a ward");
    assert!(
        t.notes.iter().any(|n| n.contains("lie in no single icb")),
        "{:?}",
        t.notes
    );

    // An unknown parent type is refused, naming what there is; a bad word is an argument error.
    let (c, m) = code(collect(ana.area_gap(authed(gap(VALE, "region"), FULL_KEY)).await).await);
    assert_eq!(c, Code::FailedPrecondition, "{m}");
    assert!(m.contains("csp, icb, pfa, sub-icb"), "{m}");
    let (c, m) = code(collect(ana.area_gap(authed(gap(VALE, "No Such!"), FULL_KEY)).await).await);
    assert_eq!(c, Code::InvalidArgument, "{m}");
}

/// The authorities a key may ask AreaGap about, tried one by one.
async fn readable(w: &World, key: &str) -> BTreeSet<String> {
    let ch = channel(&w.running).await;
    let (_, mut ana) = clients(&ch);
    let mut out = BTreeSet::new();
    for a in [VALE, BROOKMERE] {
        match collect(ana.area_gap(authed(gap(a, "pfa"), key)).await).await {
            Ok(t) => {
                assert!(!t.rows.is_empty());
                out.insert(a.to_owned());
            }
            Err(s) => assert_eq!(s.code(), Code::PermissionDenied, "{a}: {s:?}"),
        }
    }
    out
}

/// The authorities a key's Flight SQL rows come from.
async fn flight_authorities(w: &World, key: &str) -> BTreeSet<String> {
    let mut c = client(&w.running, Some(key)).await;
    let b = query(&mut c, "SELECT DISTINCT lad_code FROM iod_2019__lsoa")
        .await
        .unwrap();
    texts(&b, 0).into_iter().collect()
}

#[tokio::test]
async fn keys_scoped_to_parent_areas_see_exactly_the_authorities_inside() {
    let w = world().await;
    // From the raw files: the PFA holds every district of its lookup; the CSP Renewal Vale
    // only; ICB A wholly covers the districts all of whose LSOAs it holds (Brookmere), and
    // Renewal Vale only in part, so Renewal Vale stays closed to it.
    let pfa_districts: BTreeSet<String> = raw(&w.f.sample.join(PFA_FILE))
        .into_iter()
        .filter(|r| r["PFA24CD"] == w.pfa.0)
        .map(|r| r["LAD24CD"].clone())
        .collect();
    let csp_districts: BTreeSet<String> = raw(&w.f.sample.join(PFA_FILE))
        .into_iter()
        .filter(|r| r["CSP24CD"] == w.csp_of_vale)
        .map(|r| r["LAD24CD"].clone())
        .collect();
    let icb_districts: BTreeSet<String> = lsoas_by_authority(&w.f.sample)
        .into_iter()
        .filter(|(_, lsoas)| lsoas.iter().all(|l| w.icb_a.contains(l)))
        .map(|(lad, _)| lad)
        .collect();
    assert_eq!(pfa_districts.len(), 2);
    assert_eq!(csp_districts, BTreeSet::from([VALE.to_owned()]));
    assert_eq!(icb_districts, BTreeSet::from([BROOKMERE.to_owned()]));

    for (key, expected) in [
        (PFA_KEY, &pfa_districts),
        (CSP_KEY, &csp_districts),
        (ICB_KEY, &icb_districts),
    ] {
        assert_eq!(&readable(&w, key).await, expected, "gRPC, {key}");
        assert_eq!(
            &flight_authorities(&w, key).await,
            expected,
            "Flight SQL, {key}"
        );
    }
    // A key whose area no parents dataset knows reads nothing, not everything.
    assert!(readable(&w, NOWHERE_KEY).await.is_empty());
    assert!(flight_authorities(&w, NOWHERE_KEY).await.is_empty());
    // A scoped key must name an authority, as with `authorities`.
    let ch = channel(&w.running).await;
    let (_, mut ana) = clients(&ch);
    let (c, _) = code(collect(ana.area_gap(authed(gap("", "pfa"), PFA_KEY)).await).await);
    assert_eq!(c, Code::PermissionDenied);
}
