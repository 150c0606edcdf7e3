//! `renewal map` on the bundled sample, ingested as scripts/demo.sh does plus the sample's
//! boundaries: the features are the gap answer's rows cell for cell (read from `renewal gap
//! --format json`, a separate rendering), withheld wards stay null and flagged, missing
//! boundaries are an error naming the vintage, missing shapes are notes, and simplification
//! keeps every shape a closed ring.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use renewal_test_support::temp_dir;
use serde_json::Value;

use crate::Renewal;

const VALE: &str = "E08999001";
const WARDS_2019: &str = "Wards_(December_2019)_Boundaries_EW_BGC.geojson";
const LSOAS_2011: &str = "LSOA_(December_2011)_Boundaries_EW_BGC.geojson";

fn files(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(prefix) && n.ends_with(suffix)
        })
        .collect();
    v.sort();
    v
}

fn ingest(r: &Renewal, what: &[&str], paths: Vec<PathBuf>) {
    let mut args: Vec<std::ffi::OsString> = vec!["ingest".into()];
    args.extend(what.iter().map(Into::into));
    args.extend(paths.into_iter().map(Into::into));
    r.ok(args);
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The gap answer's rows by area code, from `renewal gap --format json`.
fn gap_rows(r: &Renewal, extra: &[&str]) -> BTreeMap<String, Value> {
    let mut args = vec![
        "gap",
        "--indicator",
        "crime-all",
        "--authority",
        VALE,
        "--format",
        "json",
    ];
    args.extend(extra);
    json(&r.ok(args))["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["area_code"].as_str().unwrap().to_owned(), row.clone()))
        .collect()
}

fn map(r: &Renewal, extra: &[&str]) -> Value {
    let mut args = vec!["map", "--indicator", "crime-all", "--authority", VALE];
    args.extend(extra);
    json(&r.ok(args))
}

/// Every ring closed, at least three distinct positions, inside ±180/±90; returns the vertices.
fn check_geometry(g: &Value) -> usize {
    let polygons: Vec<&Value> = match g["type"].as_str().unwrap() {
        "Polygon" => vec![&g["coordinates"]],
        "MultiPolygon" => g["coordinates"].as_array().unwrap().iter().collect(),
        other => panic!("{other}"),
    };
    assert!(!polygons.is_empty());
    let mut n = 0;
    for rings in polygons {
        let rings = rings.as_array().unwrap();
        assert!(!rings.is_empty());
        for ring in rings {
            let ring = ring.as_array().unwrap();
            assert!(ring.len() >= 4, "{ring:?}");
            assert_eq!(ring.first(), ring.last());
            let distinct: BTreeSet<String> = ring.iter().map(|p| p.to_string()).collect();
            assert!(distinct.len() >= 3);
            for p in ring {
                let (x, y) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
                assert!(x.abs() <= 180.0 && y.abs() <= 90.0);
            }
            n += ring.len();
        }
    }
    n
}

#[test]
fn maps_are_the_gap_answer_with_shapes() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([Path::new("sample"), Path::new("--out"), &sample]);
    ingest(
        &r,
        &["lookup"],
        files(&sample, "Lower_Layer_Super_Output_Area_", ".csv"),
    );
    ingest(
        &r,
        &["imd", "--vintage", "2019"],
        files(&sample, "File_", ""),
    );
    ingest(
        &r,
        &["crime"],
        files(&sample, "2021-", "-renewal-vale-street.csv"),
    );

    // No boundaries yet: the error names the vintage and the command.
    let out = r.run(["map", "--indicator", "crime-all", "--authority", VALE]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WD19") && err.contains("renewal ingest boundaries"),
        "{err}"
    );

    // A bad boundary file publishes nothing.
    let before = r.ok(["warehouse", "list", "--json"]);
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    let out = r.run([Path::new("ingest"), Path::new("boundaries"), &bad]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.geojson, line 1"));
    assert_eq!(r.ok(["warehouse", "list", "--json"]), before);

    ingest(
        &r,
        &["boundaries"],
        vec![sample.join(WARDS_2019), sample.join(LSOAS_2011)],
    );

    // One feature per ward of the gap answer, its properties that row cell for cell.
    let rows = gap_rows(&r, &[]);
    assert_eq!(rows.len(), 8);
    let doc = map(&r, &[]);
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), rows.len());
    let mut vertices = 0;
    for f in features {
        let code = f["properties"]["area_code"].as_str().unwrap();
        assert_eq!(f["id"], code);
        assert_eq!(&f["properties"], &rows[code], "{code}");
        vertices += check_geometry(&f["geometry"]);
    }
    assert_eq!(doc["basis"]["datasets"]["boundaries-wd19"], 1);
    assert_eq!(doc["basis"]["datasets"]["crime-street"], 1);
    assert_eq!(doc["basis"]["boundaries"]["vintage"], "WD19");
    assert_eq!(doc["basis"]["fit"], "best-fit");

    // A threshold that withholds some wards: their figures are null in the map too.
    let strict = ["--disclosure-threshold", "150"];
    let rows = gap_rows(&r, &strict);
    let doc = map(&r, &strict);
    let mut withheld = 0;
    for f in doc["features"].as_array().unwrap() {
        let p = &f["properties"];
        assert_eq!(p, &rows[p["area_code"].as_str().unwrap()]);
        if p["suppressed"] == true {
            withheld += 1;
            assert!(p["withheld"].is_string());
            for k in [
                "numerator",
                "value",
                "lower_95",
                "upper_95",
                "gap",
                "ratio",
                "comparison_95",
                "rank_in_parent",
            ] {
                assert!(p[k].is_null(), "{k} of a withheld ward: {}", p[k]);
            }
            check_geometry(&f["geometry"]);
        }
    }
    assert!(withheld > 0 && withheld < rows.len(), "{withheld} withheld");

    // LSOAs, from the LSOA boundaries.
    let doc = map(&r, &["--level", "lsoa"]);
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 60);
    assert!(features.iter().all(|f| f["geometry"].is_object()));
    assert_eq!(doc["basis"]["boundaries"]["dataset"], "boundaries-lsoa11");

    // Simplified: fewer vertices, every shape still a closed ring.
    let doc = map(&r, &["--simplify", "400"]);
    let simple: usize = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| check_geometry(&f["geometry"]))
        .sum();
    assert!(
        simple < vertices,
        "{simple} vertices simplified, {vertices} before"
    );
    assert!(doc["notes"].to_string().contains("simplified"));

    // A second version lacking one ward: the ward keeps its feature, without a shape, and
    // the notes name it; the first version is still there to pin.
    let full = json(&std::fs::read_to_string(sample.join(WARDS_2019)).unwrap());
    let mut partial = full.clone();
    partial["features"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["properties"]["WD19CD"] != "E05999003");
    let path = dir.path().join("partial.geojson");
    std::fs::write(&path, partial.to_string()).unwrap();
    ingest(&r, &["boundaries"], vec![path]);
    let doc = map(&r, &[]);
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 8);
    let millgate = features.iter().find(|f| f["id"] == "E05999003").unwrap();
    assert!(millgate["geometry"].is_null());
    assert!(millgate["properties"]["value"].is_number());
    assert!(
        doc["notes"].to_string().contains("E05999003"),
        "{}",
        doc["notes"]
    );
    assert_eq!(doc["basis"]["datasets"]["boundaries-wd19"], 2);
    let pinned = map(&r, &["--at", "boundaries-wd19=1"]);
    assert!(
        pinned["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["geometry"].is_object())
    );

    // Written to a file with -o, the same document.
    let out = dir.path().join("map.geojson");
    r.ok([
        Path::new("map"),
        Path::new("--indicator"),
        Path::new("crime-all"),
        Path::new("--authority"),
        Path::new(VALE),
        Path::new("-o"),
        &out,
    ]);
    assert_eq!(json(&std::fs::read_to_string(&out).unwrap()), doc);
}

/// Across the 2021 change: 2024 wards built from bridged crime get the 2024 ward shapes, every
/// one of them (the sample's WD24 boundaries tile the same land).
#[test]
fn maps_follow_the_answers_ward_vintage() {
    let dir = temp_dir();
    let r = Renewal::new(&dir.path().join("warehouse"));
    let sample = dir.path().join("sample");
    r.ok([
        Path::new("sample"),
        Path::new("--out"),
        &sample,
        Path::new("--boundary-change"),
    ]);
    let bc = sample.join("boundary-change");
    ingest(
        &r,
        &["lookup"],
        files(&sample, "Lower_Layer_Super_Output_Area_", ".csv"),
    );
    ingest(&r, &["lookup"], files(&bc, "LSOA_", ".csv"));
    ingest(
        &r,
        &["population"],
        vec![bc.join("census2021_usual_residents_age6_lsoa21.csv")],
    );
    ingest(
        &r,
        &["crime"],
        files(&sample, "2021-", "-renewal-vale-street.csv"),
    );
    ingest(&r, &["boundaries"], files(&sample, "", ".geojson"));
    let weights = [
        "--ward-vintage",
        "WD24",
        "--bridge-weights",
        "population-census2021-lsoa21",
    ];

    // Only the 2019 shapes so far: the 2024 answer is refused, naming WD24.
    let mut args = vec!["map", "--indicator", "crime-all", "--authority", VALE];
    args.extend(weights);
    let out = r.run(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WD24") && err.contains("boundaries-wd24"),
        "{err}"
    );

    ingest(&r, &["boundaries"], files(&bc, "", ".geojson"));
    let rows = gap_rows(&r, &weights);
    assert_eq!(rows.len(), 9);
    let doc = map(&r, &weights);
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 9);
    for f in features {
        let code = f["id"].as_str().unwrap();
        assert_eq!(&f["properties"], &rows[code]);
        check_geometry(&f["geometry"]);
    }
    assert_eq!(doc["basis"]["boundaries"]["dataset"], "boundaries-wd24");
    assert!(!doc["basis"]["bridges"].as_array().unwrap().is_empty());
}
