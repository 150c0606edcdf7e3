//! `renewal ingest boundaries`: real boundary files (Trafford Data Lab's Greater Manchester
//! wards, martinjc's South Yorkshire 2013 wards) counted by a separate reading of the raw JSON,
//! and bad files refused at their place.

use std::collections::BTreeSet;
use std::path::PathBuf;

use renewal_geo::Vintage;
use renewal_ingest::{BoundaryOptions, IngestError, NoProgress, read_boundaries};
use renewal_test_support::{shared_data, shared_file, temp_dir, write_file};
use renewal_warehouse::{PublishOptions, Published, Warehouse};

use crate::{catalog, table};

fn read(
    files: &[PathBuf],
    vintage: Option<&str>,
) -> Result<Vec<renewal_warehouse::Draft>, IngestError> {
    let options = BoundaryOptions {
        vintage: vintage.map(|v| v.parse::<Vintage>().unwrap()),
    };
    read_boundaries(&catalog(), files, &options, &NoProgress)
}

/// The codes of a GeoJSON file's features, read with serde_json alone.
fn raw_codes(path: &PathBuf, property: &str) -> Vec<String> {
    let root: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    root["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"][property].as_str().unwrap().to_owned())
        .collect()
}

/// A text column of a frame, nulls as `None`.
fn strings(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<String>> {
    let ca = df.column(name).unwrap().str().unwrap().clone();
    (0..df.height())
        .map(|i| ca.get(i).map(str::to_owned))
        .collect()
}

fn codes_of(draft: &renewal_warehouse::Draft) -> Vec<String> {
    strings(&table(draft, "boundaries"), "code")
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

#[test]
fn greater_manchester_wards_2022_with_the_vintage_given() {
    let Some(root) = shared_data() else { return };
    let path = shared_file(&root, "geography/gm_ward22_generalised.geojson");
    let drafts = read(std::slice::from_ref(&path), Some("WD22")).unwrap();
    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    assert_eq!(draft.dataset, "boundaries-wd22");
    assert_eq!(draft.kind, "boundaries");
    let raw = raw_codes(&path, "area_code");
    let mut expected = raw.clone();
    expected.sort();
    assert_eq!(codes_of(draft), expected);
    assert_eq!(draft.sources.len(), 1);
    assert_eq!(draft.sources[0].rows, raw.len() as u64);
    assert_eq!(draft.sources[0].format, "trafford-data-lab-boundaries");

    let df = table(draft, "boundaries");
    let names = strings(&df, "name");
    assert!(
        names.contains(&Some("Astley Bridge".to_owned())),
        "{names:?}"
    );
    let once = |c: &str| strings(&df, c).into_iter().collect::<BTreeSet<_>>();
    assert_eq!(once("vintage"), BTreeSet::from([Some("WD22".to_owned())]));
    assert_eq!(once("level"), BTreeSet::from([Some("ward".to_owned())]));
    // Every geometry is GeoJSON text inside its bounding box, and the boxes are in Greater
    // Manchester.
    let geometry = df.column("geometry").unwrap().str().unwrap().clone();
    let min_lon = df.column("min_lon").unwrap().f64().unwrap().clone();
    let max_lat = df.column("max_lat").unwrap().f64().unwrap().clone();
    for i in 0..df.height() {
        let g: serde_json::Value = serde_json::from_str(geometry.get(i).unwrap()).unwrap();
        assert!(matches!(
            g["type"].as_str(),
            Some("Polygon" | "MultiPolygon")
        ));
        assert!((-2.8..-1.8).contains(&min_lon.get(i).unwrap()));
        assert!((53.3..53.75).contains(&max_lat.get(i).unwrap()));
    }

    // Its properties (area_code) do not say the year: without --vintage it is refused.
    let err = read(&[path], None).unwrap_err();
    assert!(err.to_string().contains("--vintage"), "{err}");
    assert!(err.location().is_some());
}

#[test]
fn south_yorkshire_wards_2013_four_files_one_dataset() {
    let Some(root) = shared_data() else { return };
    let files: Vec<PathBuf> = (16..=19)
        .map(|n| shared_file(&root, &format!("geography/wards2013_E080000{n}.json")))
        .collect();
    let drafts = read(&files, None).unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].dataset, "boundaries-wd13");
    let mut expected: Vec<String> = files.iter().flat_map(|f| raw_codes(f, "WD13CD")).collect();
    expected.sort();
    assert_eq!(codes_of(&drafts[0]), expected);
    assert_eq!(drafts[0].sources.len(), 4);
    // The vintage given agrees with WD13CD; another is refused.
    assert!(read(&files[..1], Some("WD13")).is_ok());
    let err = read(&files[..1], Some("WD19")).unwrap_err();
    assert!(err.to_string().contains("WD19"), "{err}");
}

const SQUARE: &str = r#"{"type": "Polygon", "coordinates": [[[-2.0, 53.0], [-1.99, 53.0], [-1.99, 53.01], [-2.0, 53.01], [-2.0, 53.0]]]}"#;

fn feature(props: &str) -> String {
    format!(r#"{{"type": "Feature", "properties": {{{props}}}, "geometry": {SQUARE}}}"#)
}

fn collection(features: &[String]) -> String {
    format!(
        "{{\n\"type\": \"FeatureCollection\",\n\"features\": [\n{}\n]\n}}\n",
        features.join(",\n")
    )
}

fn refused(name: &str, text: &str) -> IngestError {
    let dir = temp_dir();
    let path = write_file(dir.path(), name, text);
    read(&[path], None).unwrap_err()
}

#[test]
fn bad_files_are_refused_at_their_place() {
    // Not JSON: the line and column of the syntax error.
    let err = refused(
        "broken.geojson",
        "{\n\"type\": \"FeatureCollection\",\n\"features\": [ oops ]\n}\n",
    );
    let location = err.location().unwrap();
    assert_eq!(location.file, "broken.geojson");
    assert_eq!(location.line, Some(3));
    assert!(err.to_string().contains("column 15"), "{err}");

    // Projected coordinates declared as such.
    let bng = collection(&[feature(r#""WD19CD": "E05000001""#)]).replacen(
        "\"type\": \"FeatureCollection\",",
        "\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", \"properties\": {\"name\": \"urn:ogc:def:crs:EPSG::27700\"}},",
        1,
    );
    let err = refused("bng.geojson", &bng);
    assert!(
        err.to_string().contains("EPSG::27700") && err.to_string().contains("WGS84"),
        "{err}"
    );

    // The second feature lacks the code property.
    let err = refused(
        "missing.geojson",
        &collection(&[
            feature(r#""WD19CD": "E05000001""#),
            feature(r#""WD19NM": "Nowhere""#),
        ]),
    );
    assert_eq!(err.location().unwrap().file, "missing.geojson");
    assert!(
        err.to_string().contains("feature 1: no property WD19CD"),
        "{err}"
    );

    // The same code twice in a file.
    let err = refused(
        "twice.geojson",
        &collection(&[
            feature(r#""WD19CD": "E05000001""#),
            feature(r#""WD19CD": "E05000001""#),
        ]),
    );
    assert!(
        err.to_string().contains("feature 1") && err.to_string().contains("E05000001"),
        "{err}"
    );

    // An LSOA code where ward codes belong.
    let err = refused(
        "wrong.geojson",
        &collection(&[feature(r#""WD19CD": "E01000001""#)]),
    );
    assert!(
        err.to_string().contains("feature 0") && err.to_string().contains("E01000001"),
        "{err}"
    );

    // No property any format knows.
    let err = refused(
        "unknown.geojson",
        &collection(&[feature(r#""id": "E05000001""#)]),
    );
    assert!(err.to_string().contains("no boundaries format"), "{err}");

    // The same code in two files of one vintage.
    let dir = temp_dir();
    let a = write_file(
        dir.path(),
        "a.geojson",
        collection(&[feature(r#""WD19CD": "E05000001""#)]),
    );
    let b = write_file(
        dir.path(),
        "b.geojson",
        collection(&[feature(r#""WD19CD": "E05000001""#)]),
    );
    let err = read(&[a, b], None).unwrap_err();
    assert_eq!(err.location().unwrap().file, "b.geojson");
    assert!(err.to_string().contains("also in a.geojson"), "{err}");
}

#[test]
fn the_same_bytes_again_are_unchanged_and_new_bytes_a_new_version() {
    let dir = temp_dir();
    let inputs = temp_dir();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let warehouse = Warehouse::open_local(dir.path()).unwrap();
    let one = collection(&[feature(r#""WD19CD": "E05000001", "WD19NM": "One""#)]);
    let path = write_file(inputs.path(), "wards.geojson", &one);
    let publish = |path: &PathBuf| {
        let mut drafts = read(std::slice::from_ref(path), None).unwrap();
        assert_eq!(drafts.len(), 1);
        rt.block_on(warehouse.publish(drafts.remove(0), PublishOptions::default()))
            .unwrap()
    };
    assert!(
        matches!(publish(&path), Published::New(ref m) if m.version == 1 && m.dataset == "boundaries-wd19")
    );
    assert!(matches!(publish(&path), Published::Unchanged(ref m) if m.version == 1));
    let two = collection(&[
        feature(r#""WD19CD": "E05000001", "WD19NM": "One""#),
        feature(r#""WD19CD": "E05000002", "WD19NM": "Two""#),
    ]);
    let path = write_file(inputs.path(), "wards.geojson", &two);
    assert!(matches!(publish(&path), Published::New(ref m) if m.version == 2));
}
