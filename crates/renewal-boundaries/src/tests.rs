use serde_json::{Value, json};

use super::*;

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

fn ward(code: &str, name: &str, geometry: Value) -> Value {
    feature(json!({"WD13CD": code, "WD13NM": name}), geometry)
}

fn collection(features: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

fn polygon(rings: Vec<Value>) -> Value {
    json!({"type": "Polygon", "coordinates": rings})
}

/// West (E05000002) and East (E05000001) share the edge x = 1; Holed has a hole filled by
/// Island; Split is two separate squares; Halves is two squares of one ward touching at x = 21.
fn fixture() -> BoundarySet {
    let bytes = collection(vec![
        ward(
            "E05000002",
            "West",
            polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
        ),
        ward(
            "E05000001",
            "East",
            polygon(vec![square(1.0, 0.0, 2.0, 1.0)]),
        ),
        ward(
            "E05000003",
            "Holed",
            polygon(vec![square(3.0, 0.0, 6.0, 3.0), square(4.0, 1.0, 5.0, 2.0)]),
        ),
        ward(
            "E05000004",
            "Island",
            polygon(vec![square(4.0, 1.0, 5.0, 2.0)]),
        ),
        ward(
            "E05000005",
            "Split",
            json!({"type": "MultiPolygon", "coordinates": [
                [square(10.0, 0.0, 11.0, 1.0)],
                [square(12.0, 0.0, 13.0, 1.0)],
            ]}),
        ),
        ward(
            "E05000006",
            "Halves",
            json!({"type": "MultiPolygon", "coordinates": [
                [square(20.0, 0.0, 21.0, 1.0)],
                [square(21.0, 0.0, 22.0, 1.0)],
            ]}),
        ),
    ]);
    BoundarySet::from_geojson(&bytes, "fixture.json", None).unwrap()
}

fn code_at(set: &BoundarySet, lon: f64, lat: f64) -> Option<&str> {
    match set.locate(lon, lat) {
        Located::Inside(area) => Some(area.code.as_str()),
        Located::Outside => None,
        Located::Ambiguous(areas) => panic!("({lon}, {lat}) ambiguous: {areas:?}"),
    }
}

#[test]
fn reads_properties_and_vintage() {
    let set = fixture();
    assert_eq!(set.len(), 6);
    assert_eq!(set.vintage(), Some(Vintage::new(Level::Ward, 13)));
    assert_eq!(set.level(), Level::Ward);
    let west = set.area("E05000002").unwrap();
    assert_eq!(west.name.as_deref(), Some("West"));
    assert_eq!(west.source, "fixture.json");
    assert_eq!(set.areas()[1].code, "E05000001", "file order kept");
    assert_eq!(
        set.area("E05000003").unwrap().polygon.0[0]
            .interiors()
            .len(),
        1
    );
}

#[test]
fn inside_and_outside() {
    let set = fixture();
    assert_eq!(code_at(&set, 0.5, 0.5), Some("E05000002"));
    assert_eq!(code_at(&set, 1.5, 0.5), Some("E05000001"));
    assert_eq!(code_at(&set, 2.5, 0.5), None);
    assert_eq!(code_at(&set, -0.5, 0.5), None);
    assert_eq!(code_at(&set, 0.5, 7.0), None);
    assert_eq!(code_at(&set, f64::NAN, 0.5), None);
    assert_eq!(code_at(&set, 0.5, f64::INFINITY), None);
}

#[test]
fn shared_edge_goes_to_smallest_code() {
    let set = fixture();
    // West is first in the file but East has the smaller code.
    assert_eq!(code_at(&set, 1.0, 0.5), Some("E05000001"));
    assert_eq!(code_at(&set, 1.0, 1.0), Some("E05000001"), "shared corner");
    let positions = set.positions(1.0, 0.5);
    let seen: Vec<_> = positions
        .iter()
        .map(|(a, p)| (a.code.as_str(), *p))
        .collect();
    assert_eq!(
        seen,
        [
            ("E05000001", Position::OnBoundary),
            ("E05000002", Position::OnBoundary)
        ]
    );
    // The outer edge of the coverage belongs to the one area there.
    assert_eq!(code_at(&set, 0.0, 0.5), Some("E05000002"));
}

#[test]
fn holes() {
    let set = fixture();
    assert_eq!(code_at(&set, 3.5, 0.5), Some("E05000003"));
    // In the hole: the island, not the holed ward.
    assert_eq!(code_at(&set, 4.5, 1.5), Some("E05000004"));
    // On the hole's edge: both boundaries, smallest code.
    assert_eq!(code_at(&set, 4.0, 1.5), Some("E05000003"));

    // Without the island, the hole is outside.
    let bytes = collection(vec![ward(
        "E05000003",
        "Holed",
        polygon(vec![square(3.0, 0.0, 6.0, 3.0), square(4.0, 1.0, 5.0, 2.0)]),
    )]);
    let alone = BoundarySet::from_geojson(&bytes, "holed.json", None).unwrap();
    assert_eq!(code_at(&alone, 4.5, 1.5), None);
    assert_eq!(code_at(&alone, 5.5, 2.5), Some("E05000003"));
}

#[test]
fn multipolygons() {
    let set = fixture();
    assert_eq!(code_at(&set, 10.5, 0.5), Some("E05000005"));
    assert_eq!(code_at(&set, 12.5, 0.5), Some("E05000005"));
    assert_eq!(code_at(&set, 11.5, 0.5), None, "between the parts");
    // An edge shared by two parts of one area is in that area (not outside by mod-2 rule).
    assert_eq!(code_at(&set, 21.0, 0.5), Some("E05000006"));
}

#[test]
fn overlapping_interiors_are_ambiguous() {
    let bytes = collection(vec![
        ward(
            "E05000009",
            "Big",
            polygon(vec![square(0.0, 0.0, 2.0, 2.0)]),
        ),
        ward(
            "E05000008",
            "Small",
            polygon(vec![square(1.0, 1.0, 3.0, 3.0)]),
        ),
    ]);
    let set = BoundarySet::from_geojson(&bytes, "overlap.json", None).unwrap();
    match set.locate(1.5, 1.5) {
        Located::Ambiguous(areas) => {
            let codes: Vec<_> = areas.iter().map(|a| a.code.as_str()).collect();
            assert_eq!(codes, ["E05000008", "E05000009"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(code_at(&set, 0.5, 0.5), Some("E05000009"));
    // Inside one, on the other's boundary: the interior wins.
    assert_eq!(code_at(&set, 1.0, 1.5), Some("E05000009"));
    assert_eq!(set.locate(1.5, 1.5).area(), None);
}

#[test]
fn unclosed_rings_are_closed() {
    let bytes = collection(vec![ward(
        "E05000001",
        "Open",
        polygon(vec![json!([[0, 0], [1, 0], [1, 1], [0, 1]])]),
    )]);
    let set = BoundarySet::from_geojson(&bytes, "open.json", None).unwrap();
    assert_eq!(code_at(&set, 0.5, 0.5), Some("E05000001"));
}

#[test]
fn property_detection() {
    // Lower-case ONS headers, with a district code beside the ward code: the ward wins.
    let bytes = collection(vec![feature(
        json!({"lad22cd": "E08000001", "wd22nm": "Town", "wd22cd": "E05000650"}),
        polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
    )]);
    let set = BoundarySet::from_geojson(&bytes, "lower.json", None).unwrap();
    assert_eq!(set.vintage(), Some(Vintage::new(Level::Ward, 22)));
    assert_eq!(set.areas()[0].code, "E05000650");
    assert_eq!(set.areas()[0].name.as_deref(), Some("Town"));

    // The same file with the code property named.
    let named = BoundarySet::from_geojson(&bytes, "lower.json", Some("wd22cd")).unwrap();
    assert_eq!(named.areas()[0].name.as_deref(), Some("Town"));

    // LSOA.
    let bytes = collection(vec![feature(
        json!({"LSOA11CD": "E01004766", "LSOA11NM": "Bolton 005A"}),
        polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
    )]);
    let set = BoundarySet::from_geojson(&bytes, "lsoa.json", None).unwrap();
    assert_eq!(set.vintage(), Some(Vintage::new(Level::Lsoa, 11)));
    assert_eq!(set.level(), Level::Lsoa);

    // Trafford Data Lab style: `area_code` / `area_name`, no vintage; level from the code.
    let bytes = collection(vec![feature(
        json!({"area_code": "E05000650", "area_name": "Astley Bridge", "lat": 0.5}),
        polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
    )]);
    let set = BoundarySet::from_geojson(&bytes, "gm.geojson", Some("area_code")).unwrap();
    assert_eq!(set.vintage(), None);
    assert_eq!(set.level(), Level::Ward);
    assert_eq!(set.areas()[0].name.as_deref(), Some("Astley Bridge"));
    let stated = BoundarySet::from_geojson_with(
        &bytes,
        "gm.geojson",
        &GeoJsonOptions {
            code_property: Some("area_code"),
            name_property: None,
            vintage: Some(Vintage::new(Level::Ward, 22)),
        },
    )
    .unwrap();
    assert_eq!(stated.vintage(), Some(Vintage::new(Level::Ward, 22)));
    // ...but not detected.
    let err = BoundarySet::from_geojson(&bytes, "gm.geojson", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gm.geojson: feature 0: no property is an ONS code header such as WD22CD or LSOA11CD \
         (properties: area_code, area_name, lat); name the code property"
    );

    // A name property that is null is no name.
    let bytes = collection(vec![feature(
        json!({"WD13CD": "E05000001", "WD13NM": null}),
        polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
    )]);
    let set = BoundarySet::from_geojson(&bytes, "null.json", None).unwrap();
    assert_eq!(set.areas()[0].name, None);
}

fn error_of(features: Vec<Value>, code_property: Option<&str>) -> String {
    BoundarySet::from_geojson(&collection(features), "bad.geojson", code_property)
        .unwrap_err()
        .to_string()
}

fn good(code: &str) -> Value {
    ward(code, "Good", polygon(vec![square(0.0, 0.0, 1.0, 1.0)]))
}

#[test]
fn errors_name_file_and_feature() {
    let line = ward(
        "E05000003",
        "Line",
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
    );
    assert_eq!(
        error_of(vec![good("E05000001"), good("E05000002"), line], None),
        "bad.geojson: feature 2: E05000003: geometry type LineString is not a polygon"
    );
    assert_eq!(
        error_of(
            vec![
                good("E05000001"),
                feature(json!({"WD13NM": "x"}), json!(null))
            ],
            None
        ),
        "bad.geojson: feature 1: no property WD13CD"
    );
    assert_eq!(
        error_of(vec![ward("E05000001", "x", json!(null))], None),
        "bad.geojson: feature 0: E05000001: feature has no geometry"
    );
    assert_eq!(
        error_of(vec![good("E05000001"), good("E01000001")], None),
        "bad.geojson: feature 1: \"E01000001\" is not a valid ward code \
         (expected E05/W05 followed by six digits)"
    );
    assert_eq!(
        error_of(vec![good("E05000001"), good("E05000001")], None),
        "bad.geojson: feature 1: code E05000001 already used by feature 0"
    );
    assert_eq!(
        error_of(
            vec![feature(
                json!({"area_code": "E02000001"}),
                polygon(vec![square(0.0, 0.0, 1.0, 1.0)])
            )],
            Some("area_code")
        ),
        "bad.geojson: feature 0: code \"E02000001\" names a msoa, not an LSOA, ward or \
         local authority district"
    );
    let bng = ward(
        "E05000001",
        "Grid",
        polygon(vec![square(430000.0, 390000.0, 431000.0, 391000.0)]),
    );
    assert_eq!(
        error_of(vec![bng], None),
        "bad.geojson: feature 0: E05000001: exterior ring: position 0 (430000, 390000) is not \
         a WGS84 longitude/latitude (they look like projected metres, e.g. British National \
         Grid EPSG:27700 eastings/northings; reproject to EPSG:4326 first)"
    );
    let hole = ward(
        "E05000001",
        "Hole",
        polygon(vec![square(0.0, 0.0, 3.0, 3.0), json!([[1, 1], [2, 2]])]),
    );
    assert_eq!(
        error_of(vec![hole], None),
        "bad.geojson: feature 0: E05000001: hole 1: ring has 2 positions, too few for a polygon"
    );
    let multi = ward(
        "E05000001",
        "Multi",
        json!({"type": "MultiPolygon", "coordinates": [[square(0.0, 0.0, 1.0, 1.0)], [[["a", 0]]]]}),
    );
    assert_eq!(
        error_of(vec![multi], None),
        "bad.geojson: feature 0: E05000001: polygon 1: exterior ring: position 0 is not \
         [longitude, latitude]: [\"a\",0]"
    );
    let two = feature(
        json!({"WD13CD": "E05000001", "WD14CD": "E05000001"}),
        polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
    );
    assert_eq!(
        error_of(vec![two], None),
        "bad.geojson: feature 0: properties WD13CD and WD14CD are both ward code headers; \
         name the one to use"
    );
}

#[test]
fn file_level_errors() {
    let err = |bytes: &[u8]| {
        BoundarySet::from_geojson(bytes, "f.geojson", None)
            .unwrap_err()
            .to_string()
    };
    // JSON syntax errors say where, without serde_json's own "at line L column C" repeated.
    assert_eq!(
        err(b"{\n  \"type\": x"),
        "f.geojson: line 2, column 11: not valid JSON: expected value"
    );
    assert_eq!(
        err(br#"{"type": "Feature"}"#),
        "f.geojson: GeoJSON type Feature is not a FeatureCollection"
    );
    assert_eq!(
        err(br#"{"type": "FeatureCollection", "features": []}"#),
        "f.geojson: the FeatureCollection has no features"
    );
    let mut with_crs = json!({"type": "FeatureCollection", "features": [good("E05000001")]});
    with_crs["crs"] =
        json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}});
    assert_eq!(
        err(&serde_json::to_vec(&with_crs).unwrap()),
        "f.geojson: coordinate reference system urn:ogc:def:crs:EPSG::27700 is not WGS84 \
         longitude/latitude (CRS84 / EPSG:4326); reproject the file first \
         (e.g. ogr2ogr -t_srs EPSG:4326)"
    );
    with_crs["crs"] =
        json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}});
    let set =
        BoundarySet::from_geojson(&serde_json::to_vec(&with_crs).unwrap(), "f", None).unwrap();
    assert_eq!(set.len(), 1);

    let bytes = collection(vec![good("E05000001")]);
    let conflicting = BoundarySet::from_geojson_with(
        &bytes,
        "f.geojson",
        &GeoJsonOptions {
            vintage: Some(Vintage::new(Level::Ward, 22)),
            ..GeoJsonOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        conflicting.to_string(),
        "f.geojson: vintage WD22 was given but property WD13CD says WD13"
    );
}

#[test]
fn merging() {
    let one =
        BoundarySet::from_geojson(&collection(vec![good("E05000001")]), "a.json", None).unwrap();
    let two = BoundarySet::from_geojson(
        &collection(vec![ward(
            "E05000002",
            "Next",
            polygon(vec![square(1.0, 0.0, 2.0, 1.0)]),
        )]),
        "b.json",
        None,
    )
    .unwrap();
    let merged = BoundarySet::merge([one.clone(), two.clone()]).unwrap();
    assert_eq!(merged.len(), 2);
    assert_eq!(merged.vintage(), Some(Vintage::new(Level::Ward, 13)));
    assert_eq!(code_at(&merged, 1.5, 0.5), Some("E05000002"));
    assert_eq!(merged.area("E05000002").unwrap().source, "b.json");
    assert_eq!(code_at(&merged, 1.0, 0.5), Some("E05000001"));

    let dup = BoundarySet::merge([one.clone(), two, one.clone()]).unwrap_err();
    assert_eq!(
        dup.to_string(),
        "area E05000001 appears twice: in a.json and in a.json"
    );
    let lsoa = BoundarySet::from_geojson(
        &collection(vec![feature(
            json!({"LSOA11CD": "E01000001"}),
            polygon(vec![square(0.0, 0.0, 1.0, 1.0)]),
        )]),
        "l.json",
        None,
    )
    .unwrap();
    assert_eq!(
        BoundarySet::merge([one, lsoa]).unwrap_err().to_string(),
        "cannot merge boundary sets: LSOA11 areas from l.json cannot join WD13 areas from a.json"
    );
    assert!(BoundarySet::merge(Vec::new()).is_err());
}
