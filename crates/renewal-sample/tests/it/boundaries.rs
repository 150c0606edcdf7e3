//! The sample's boundary files tile its authorities: read back with serde_json and geo (not
//! the generator's code), checked against the sample's own lookups.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use geo::{Area, BooleanOps, Coord, LineString, MultiPolygon, Polygon, Validation};
use renewal_sample::{BOUNDARY_CHANGE_DIR, SampleScope, SampleSpec, write_sample_scoped};
use serde_json::Value;

/// code → shape, insisting that no code appears twice.
fn shapes(path: &Path, code_property: &str) -> BTreeMap<String, MultiPolygon<f64>> {
    let root: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for f in root["features"].as_array().unwrap() {
        let code = f["properties"][code_property].as_str().unwrap().to_owned();
        let g = &f["geometry"];
        let polygons: Vec<&Value> = match g["type"].as_str().unwrap() {
            "Polygon" => vec![&g["coordinates"]],
            "MultiPolygon" => g["coordinates"].as_array().unwrap().iter().collect(),
            other => panic!("{other}"),
        };
        let mp = MultiPolygon(
            polygons
                .into_iter()
                .map(|rings| {
                    let mut rings = rings.as_array().unwrap().iter().map(|r| {
                        let coords: Vec<Coord<f64>> = r
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| Coord {
                                x: p[0].as_f64().unwrap(),
                                y: p[1].as_f64().unwrap(),
                            })
                            .collect();
                        assert_eq!(coords.first(), coords.last(), "{code}: ring not closed");
                        assert!(coords.len() >= 4, "{code}: ring too short");
                        LineString(coords)
                    });
                    let exterior = rings.next().unwrap();
                    Polygon::new(exterior, rings.collect())
                })
                .collect(),
        );
        assert!(mp.is_valid(), "{code}: invalid geometry");
        // Plausible England: the South Pennines, within a few kilometres.
        for c in mp.0.iter().flat_map(|p| p.exterior().0.iter()) {
            assert!(
                (-2.1..-1.6).contains(&c.x) && (53.45..53.6).contains(&c.y),
                "{c:?}"
            );
        }
        assert!(out.insert(code.clone(), mp).is_none(), "{code} twice");
    }
    out
}

/// (LSOA, ward, authority) rows of a lookup CSV, by header name.
fn lookup(path: &Path, lsoa: &str, ward: &str, lad: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = |h: &str| headers.iter().position(|x| x == h).unwrap();
    let (l, w, a) = (at(lsoa), at(ward), at(lad));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[l].to_owned(), r[w].to_owned(), r[a].to_owned())
        })
        .collect()
}

fn check_tiling(
    lsoa_shapes: &BTreeMap<String, MultiPolygon<f64>>,
    ward_shapes: &BTreeMap<String, MultiPolygon<f64>>,
    rows: &[(String, String, String)],
) {
    // Exactly the lookup's areas have a shape, each one.
    let lsoas: BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let wards: BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(lsoas.len(), rows.len(), "an LSOA twice in the lookup");
    assert_eq!(lsoas, lsoa_shapes.keys().map(String::as_str).collect());
    assert_eq!(wards, ward_shapes.keys().map(String::as_str).collect());

    let overlap = |a: &MultiPolygon<f64>, b: &MultiPolygon<f64>| a.intersection(b).unsigned_area();
    for ward in &wards {
        let shape = &ward_shapes[*ward];
        let area = shape.unsigned_area();
        assert!(area > 0.0);
        let members: Vec<&MultiPolygon<f64>> = rows
            .iter()
            .filter(|r| r.1 == *ward)
            .map(|r| &lsoa_shapes[&r.0])
            .collect();
        let sum: f64 = members.iter().map(|m| m.unsigned_area()).sum();
        assert!(
            ((sum - area) / area).abs() < 1e-9,
            "{ward}: LSOAs sum to {sum}, the ward is {area}"
        );
        for (i, a) in members.iter().enumerate() {
            // Each LSOA lies inside its ward, and no two of them overlap.
            assert!(a.difference(shape).unsigned_area() < 1e-9 * area, "{ward}");
            for b in &members[i + 1..] {
                assert!(overlap(a, b) < 1e-9 * area, "{ward}: LSOAs overlap");
            }
        }
    }
    let authorities: BTreeSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(authorities.len(), 2);
    for lad in authorities {
        let of: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.2 == lad)
            .map(|r| r.1.as_str())
            .collect();
        let of: Vec<&str> = of.into_iter().collect();
        for (i, a) in of.iter().enumerate() {
            for b in &of[i + 1..] {
                let (a, b) = (&ward_shapes[*a], &ward_shapes[*b]);
                let least = a.unsigned_area().min(b.unsigned_area());
                assert!(overlap(a, b) < 1e-9 * least, "{lad}: wards overlap");
            }
        }
    }
}

#[test]
fn boundaries_tile_the_authorities_on_both_geographies() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec::default();
    write_sample_scoped(dir.path(), &spec, SampleScope::WithBoundaryChange).unwrap();
    let top = dir.path();
    let bc = top.join(BOUNDARY_CHANGE_DIR);

    let rows19 = lookup(
        &top.join(
            "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv",
        ),
        "LSOA11CD",
        "WD19CD",
        "LAD19CD",
    );
    assert_eq!(rows19.len(), 80);
    check_tiling(
        &shapes(
            &top.join("LSOA_(December_2011)_Boundaries_EW_BGC.geojson"),
            "LSOA11CD",
        ),
        &shapes(
            &top.join("Wards_(December_2019)_Boundaries_EW_BGC.geojson"),
            "WD19CD",
        ),
        &rows19,
    );

    let rows24 = lookup(
        &bc.join("LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv"),
        "LSOA21CD",
        "WD24CD",
        "LAD24CD",
    );
    assert_eq!(rows24.len(), 81);
    let lsoa21 = shapes(
        &bc.join("LSOA_(December_2021)_Boundaries_EW_BGC.geojson"),
        "LSOA21CD",
    );
    check_tiling(
        &lsoa21,
        &shapes(
            &bc.join("Wards_(May_2024)_Boundaries_UK_BGC.geojson"),
            "WD24CD",
        ),
        &rows24,
    );

    // The 2021 LSOAs cover the same land as the 2011 ones: an unchanged LSOA keeps its shape,
    // and the totals agree.
    let lsoa11 = shapes(
        &top.join("LSOA_(December_2011)_Boundaries_EW_BGC.geojson"),
        "LSOA11CD",
    );
    let total = |m: &BTreeMap<String, MultiPolygon<f64>>| {
        m.values().map(|s| s.unsigned_area()).sum::<f64>()
    };
    assert!(((total(&lsoa11) - total(&lsoa21)) / total(&lsoa11)).abs() < 1e-9);
    assert_eq!(lsoa11["E01999001"], lsoa21["E01999001"]);
    // A split LSOA's two halves, and the irregular redrawing's second LSOA in two parts.
    let split = lsoa21["E01999083"].unsigned_area() + lsoa21["E01999084"].unsigned_area();
    let whole = lsoa11["E01999015"].unsigned_area();
    assert!(((split - whole) / whole).abs() < 1e-9);
    assert_eq!(lsoa21["E01999082"].0.len(), 2);
}

#[test]
fn boundary_files_do_not_depend_on_the_seed() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let all = SampleScope::WithBoundaryChange;
    write_sample_scoped(a.path(), &SampleSpec { seed: 1 }, all).unwrap();
    write_sample_scoped(b.path(), &SampleSpec { seed: 2 }, all).unwrap();
    for name in [
        "Wards_(December_2019)_Boundaries_EW_BGC.geojson".to_owned(),
        format!("{BOUNDARY_CHANGE_DIR}/LSOA_(December_2021)_Boundaries_EW_BGC.geojson"),
    ] {
        assert_eq!(
            std::fs::read(a.path().join(&name)).unwrap(),
            std::fs::read(b.path().join(&name)).unwrap(),
            "{name}"
        );
    }
}
