//! Integration tests of boundary loading and point location: the public API on a hand-made
//! file, and the real shared data (South Yorkshire 2013 wards against police.uk crimes,
//! Greater Manchester 2022 wards and 2011 LSOAs), skipped loudly when it is absent.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod real_data;

use renewal_boundaries::{BoundarySet, Located};

#[test]
fn public_api_on_a_small_file() {
    let dir = renewal_test_support::temp_dir();
    let path = renewal_test_support::write_file(
        dir.path(),
        "two.geojson",
        r#"{"type": "FeatureCollection", "features": [
          {"type": "Feature", "properties": {"wd22cd": "E05000002", "wd22nm": "North"},
           "geometry": {"type": "Polygon", "coordinates": [[[0,1],[1,1],[1,2],[0,2],[0,1]]]}},
          {"type": "Feature", "properties": {"wd22cd": "E05000001", "wd22nm": "South"},
           "geometry": {"type": "MultiPolygon", "coordinates": [
             [[[0,0],[1,0],[1,1],[0,1],[0,0]], [[0.4,0.4],[0.6,0.4],[0.6,0.6],[0.4,0.6],[0.4,0.4]]]
           ]}}]}"#,
    );
    let set =
        BoundarySet::from_geojson(&std::fs::read(&path).unwrap(), "two.geojson", None).unwrap();
    assert_eq!(set.vintage().unwrap().to_string(), "WD22");
    let code = |lon, lat| set.locate(lon, lat).area().map(|a| a.code.clone());
    assert_eq!(code(0.5, 1.5).as_deref(), Some("E05000002"));
    assert_eq!(code(0.2, 0.2).as_deref(), Some("E05000001"));
    assert_eq!(code(0.5, 0.5), None, "in the hole");
    assert_eq!(
        code(0.5, 1.0).as_deref(),
        Some("E05000001"),
        "shared edge: smallest code"
    );
    assert_eq!(set.locate(5.0, 5.0), Located::Outside);
}
