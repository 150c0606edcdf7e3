//! Maps: the gap question's answer for the wards (or LSOAs) of an authority as a GeoJSON
//! `FeatureCollection`, one `Feature` per row, with the area's boundary from the warehouse's
//! `boundaries-<vintage>` dataset of the answer's own ward (or LSOA) vintage.
//!
//! A feature's `properties` are **exactly** its row of the gap answer ([`crate::GAP_COLUMNS`],
//! nulls included), taken from the very batches [`gap_table`] returns: the map shows nothing
//! the table withholds, and a withheld area is there with its figures null and its
//! `suppressed` / `withheld` flags. An area without a boundary keeps its feature, with a null
//! geometry (RFC 7946 allows it), and is named in `notes`. The document's foreign members
//! `basis` (datasets with versions, the boundaries dataset among them; method; fit; bridges)
//! and `notes` say what it was built from.
//!
//! Geometry is parsed with serde_json and `renewal-boundaries` (no polars here), optionally
//! simplified with geo's topology-preserving Visvalingam–Whyatt in local metres, and written
//! with reduced precision for the web.

use std::collections::HashMap;

use arrow::array::RecordBatch;
use geo::{Coord, LineString, MultiPolygon, Polygon, SimplifyVwPreserve};
use renewal_warehouse::WarehouseError;
use serde_json::{Map, Value, json};

use crate::questions::gap_table;
use crate::tables::{register, session, string_column};
use crate::{AreaLevel, Basis, Engine, GapRequest, QueryError, Result, Scope};

/// Decimal places of coordinates unless asked otherwise: 6 is about 0.1 m, finer than any
/// published generalised boundary.
pub const DEFAULT_MAP_PRECISION: u8 = 6;

/// How the shapes are drawn; the figures are the gap question's.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// Simplify each boundary for the web: Visvalingam–Whyatt (topology-preserving: no ring
    /// crosses itself or collapses) in metres on the ground, removing vertices whose
    /// triangle with their neighbours is smaller than `tolerance²` square metres (a vertex
    /// `tolerance` metres off a straight line through neighbours `2 × tolerance` apart). `None`
    /// keeps every vertex.
    pub simplify_metres: Option<f64>,
    /// Decimal places of longitude and latitude (at most 15).
    pub precision: u8,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            simplify_metres: None,
            precision: DEFAULT_MAP_PRECISION,
        }
    }
}

/// The GeoJSON document and how it was built.
#[derive(Debug, Clone)]
pub struct GapMap {
    /// A GeoJSON `FeatureCollection` with foreign members `basis` and `notes`.
    pub document: Value,
    /// The gap answer's basis with the boundaries dataset added to its datasets.
    pub basis: Basis,
    /// The gap answer's notes, and areas left without a shape.
    pub notes: Vec<String>,
}

/// The gap question ([`gap_table`] with the same request and scope) as a map of an
/// authority's wards or LSOAs. Errors: `InvalidArgument` for another level, no authority or
/// bad options; `Precondition` when the warehouse has no boundaries of the answer's vintage
/// (the message names the vintage and the command to ingest them); otherwise the gap
/// question's own errors.
pub async fn gap_map(
    engine: &Engine,
    request: &GapRequest,
    scope: &Scope,
    options: &MapOptions,
) -> Result<GapMap> {
    let role = match request.level {
        AreaLevel::Ward => "ward",
        AreaLevel::Lsoa => "lsoa",
        other => {
            return Err(QueryError::InvalidArgument(format!(
                "a map shows wards or LSOAs, not level {}",
                other.as_str()
            )));
        }
    };
    if request.authority.is_none() {
        return Err(QueryError::InvalidArgument(
            "a map is of one authority's areas: name the authority".into(),
        ));
    }
    if let Some(t) = options.simplify_metres
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(QueryError::InvalidArgument(format!(
            "simplify tolerance {t} is not a distance in metres"
        )));
    }
    if options.precision > 15 {
        return Err(QueryError::InvalidArgument(format!(
            "precision {} is more decimal places than a double holds (at most 15)",
            options.precision
        )));
    }

    let answer = gap_table(engine, request, scope).await?;
    let rows = json_rows(&answer.batches)?;
    let vintage = answer_vintage(engine, &answer.basis, role).await?;
    let dataset = renewal_warehouse::ids::boundaries(&vintage);
    let manifest = match engine
        .warehouse()
        .manifest(&dataset, scope.pins.get(&dataset).copied())
        .await
    {
        Ok(m) if m.kind == "boundaries" => m,
        Ok(m) => {
            return Err(QueryError::Precondition(format!(
                "dataset {dataset} is a {} dataset, not boundaries",
                m.kind
            )));
        }
        Err(WarehouseError::NoDataset(_)) => {
            return Err(QueryError::Precondition(format!(
                "no {vintage} boundaries in the warehouse (dataset {dataset}), and this answer's \
                 {} are {vintage}; ingest them with `renewal ingest boundaries FILE.geojson` \
                 (add `--vintage {vintage}` when the file's properties do not say, as with \
                 area_code)",
                if role == "ward" { "wards" } else { "LSOAs" }
            )));
        }
        Err(e) => return Err(e.into()),
    };

    let codes: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.get("area_code").and_then(Value::as_str))
        .collect();
    let shapes = load_shapes(engine, &manifest, &codes).await?;

    let mut features = Vec::with_capacity(rows.len());
    let mut missing = Vec::new();
    for row in rows {
        let code = row
            .get("area_code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let geometry = match shapes.get(&code) {
            Some(text) => {
                let polygon = parse_geometry(text).map_err(|m| {
                    QueryError::Precondition(format!(
                        "{} v{}: area {code}'s stored geometry is unreadable: {m}",
                        manifest.dataset, manifest.version
                    ))
                })?;
                let polygon = match options.simplify_metres {
                    Some(t) if t > 0.0 => simplify(&polygon, t),
                    _ => polygon,
                };
                geometry_value(&polygon, options.precision)
            }
            None => {
                missing.push(code.clone());
                Value::Null
            }
        };
        features.push(json!({
            "type": "Feature",
            "id": code,
            "properties": Value::Object(row),
            "geometry": geometry,
        }));
    }

    let mut basis = answer.basis.clone();
    basis
        .datasets
        .insert(manifest.dataset.clone(), manifest.version);
    let mut notes = answer.notes.clone();
    if !missing.is_empty() {
        notes.push(format!(
            "{} of {} areas have no boundary in {} v{} ({}); their features have a null geometry",
            missing.len(),
            features.len(),
            manifest.dataset,
            manifest.version,
            missing.join(", ")
        ));
    }
    if let Some(t) = options.simplify_metres.filter(|t| *t > 0.0) {
        notes.push(format!(
            "boundaries simplified for display (Visvalingam–Whyatt, topology-preserving, \
             tolerance {t} m); figures are unaffected"
        ));
    }
    let document = json!({
        "type": "FeatureCollection",
        "basis": {
            "method": basis.method,
            "fit": basis.fit.to_string(),
            "datasets": basis.datasets,
            "bridges": basis.bridges,
            "boundaries": {
                "dataset": manifest.dataset,
                "version": manifest.version,
                "vintage": vintage,
            },
        },
        "notes": notes,
        "features": features,
    });
    Ok(GapMap {
        document,
        basis,
        notes,
    })
}

/// The answer's rows as JSON objects, column for column (nulls written): the rendering of
/// `renewal gap --format json` and `/api/v1/gap`, so a feature's properties are that row.
fn json_rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>> {
    let fail = |e: String| QueryError::Precondition(format!("rendering the answer as JSON: {e}"));
    match crate::render::json_rows(batches).map_err(|e| fail(e.to_string()))? {
        Value::Array(rows) => rows
            .into_iter()
            .map(|row| match row {
                Value::Object(m) => Ok(m),
                other => Err(fail(format!("a row that is not an object: {other}"))),
            })
            .collect(),
        other => Err(fail(format!("not an array: {other}"))),
    }
}

/// The ward (or LSOA) vintage of an answer: that of the one lookup its basis lists.
async fn answer_vintage(engine: &Engine, basis: &Basis, role: &str) -> Result<String> {
    let lookups: Vec<(&String, &u64)> = basis
        .datasets
        .iter()
        .filter(|(d, _)| d.starts_with("lookup-"))
        .collect();
    let [(id, version)] = lookups.as_slice() else {
        return Err(QueryError::Precondition(format!(
            "the answer names {} lookups, so its {role} vintage is not known",
            lookups.len()
        )));
    };
    let manifest = engine.warehouse().manifest(id, Some(**version)).await?;
    manifest.vintage.get(role).cloned().ok_or_else(|| {
        QueryError::Precondition(format!(
            "lookup {id} v{version} does not record its {role} vintage"
        ))
    })
}

/// code → geometry text, for the codes asked for.
async fn load_shapes(
    engine: &Engine,
    manifest: &renewal_warehouse::Manifest,
    codes: &[&str],
) -> Result<HashMap<String, String>> {
    let ctx = session();
    register(
        &ctx,
        engine.warehouse(),
        manifest,
        "boundaries",
        "boundaries",
    )
    .await?;
    // GSS codes are nine letters and digits; anything else is not filtered in SQL (and would
    // simply find no shape).
    let sql_codes: Vec<String> = codes
        .iter()
        .filter(|c| c.len() == 9 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|c| format!("'{c}'"))
        .collect();
    if sql_codes.is_empty() {
        return Ok(HashMap::new());
    }
    let batches = ctx
        .sql(&format!(
            "SELECT code, geometry FROM boundaries WHERE code IN ({})",
            sql_codes.join(", ")
        ))
        .await?
        .collect()
        .await?;
    let mut out = HashMap::new();
    for b in &batches {
        let (code, geometry) = (string_column(b, 0)?, string_column(b, 1)?);
        for (c, g) in code.into_iter().zip(geometry) {
            if let (Some(c), Some(g)) = (c, g) {
                out.insert(c, g);
            }
        }
    }
    Ok(out)
}

fn parse_geometry(text: &str) -> std::result::Result<MultiPolygon<f64>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    renewal_boundaries::geometry_from_geojson(&value)
}

/// Metres per degree of latitude, and of longitude at the equator (WGS84, rounded): plenty
/// for choosing which vertices to drop.
const METRES_PER_DEGREE: f64 = 111_320.0;

/// Simplifies in a local equirectangular projection centred on the shape, so the tolerance
/// means metres at the area's own latitude. A part or hole that would vanish is kept as it was.
fn simplify(polygon: &MultiPolygon<f64>, tolerance: f64) -> MultiPolygon<f64> {
    let coords = polygon.0.iter().flat_map(|p| p.exterior().0.iter());
    let (mut min, mut max) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
    for c in coords {
        min = (min.0.min(c.x), min.1.min(c.y));
        max = (max.0.max(c.x), max.1.max(c.y));
    }
    if min.0 > max.0 {
        return polygon.clone();
    }
    let origin = ((min.0 + max.0) / 2.0, (min.1 + max.1) / 2.0);
    let kx = METRES_PER_DEGREE * origin.1.to_radians().cos();
    let ky = METRES_PER_DEGREE;
    let to_metres = |c: &Coord<f64>| Coord {
        x: (c.x - origin.0) * kx,
        y: (c.y - origin.1) * ky,
    };
    let to_degrees = |c: &Coord<f64>| Coord {
        x: c.x / kx + origin.0,
        y: c.y / ky + origin.1,
    };
    let map_ring = |r: &LineString<f64>, f: &dyn Fn(&Coord<f64>) -> Coord<f64>| {
        LineString(r.0.iter().map(f).collect())
    };
    let parts = polygon
        .0
        .iter()
        .map(|part| {
            let projected = Polygon::new(
                map_ring(part.exterior(), &to_metres),
                part.interiors()
                    .iter()
                    .map(|h| map_ring(h, &to_metres))
                    .collect(),
            );
            let simple = projected.simplify_vw_preserve(tolerance * tolerance);
            if !ring_ok(simple.exterior()) || simple.interiors().iter().any(|h| !ring_ok(h)) {
                return part.clone();
            }
            Polygon::new(
                map_ring(simple.exterior(), &to_degrees),
                simple
                    .interiors()
                    .iter()
                    .map(|h| map_ring(h, &to_degrees))
                    .collect(),
            )
        })
        .collect();
    MultiPolygon(parts)
}

/// A closed ring of at least three distinct positions.
fn ring_ok(ring: &LineString<f64>) -> bool {
    ring.0.len() >= 4 && ring.0.first() == ring.0.last()
}

/// A GeoJSON geometry with coordinates rounded to `precision` decimals; repeated positions
/// that rounding creates are dropped, and a ring rounding would degenerate is kept unrounded.
fn geometry_value(polygon: &MultiPolygon<f64>, precision: u8) -> Value {
    let scale = 10f64.powi(i32::from(precision));
    let round = |v: f64| (v * scale).round() / scale;
    let ring = |r: &LineString<f64>| -> LineString<f64> {
        let mut out: Vec<Coord<f64>> = Vec::with_capacity(r.0.len());
        for c in &r.0 {
            let c = Coord {
                x: round(c.x),
                y: round(c.y),
            };
            if out.last() != Some(&c) {
                out.push(c);
            }
        }
        let rounded = LineString(out);
        if ring_ok(&rounded) {
            rounded
        } else {
            r.clone()
        }
    };
    let rounded = MultiPolygon(
        polygon
            .0
            .iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    );
    renewal_boundaries::geometry_to_geojson(&rounded)
}

/// Vertices of a geometry (every ring position, closing ones included): how much a map weighs.
pub fn vertex_count(geometry: &Value) -> usize {
    fn count(v: &Value, depth: usize) -> usize {
        match v {
            Value::Array(items) if depth == 0 => items.len(),
            Value::Array(items) => items.iter().map(|i| count(i, depth - 1)).sum(),
            _ => 0,
        }
    }
    let depth = match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => 1,
        Some("MultiPolygon") => 2,
        _ => return 0,
    };
    geometry.get("coordinates").map_or(0, |c| count(c, depth))
}

/// Compile-time check: the HTTP feed awaits `gap_map` inside a spawned (Send) handler.
#[allow(dead_code)]
fn _assert_send(engine: &Engine, r: &GapRequest, s: &Scope, o: &MapOptions) {
    fn send<T: Send>(_: T) {}
    send(gap_map(engine, r, s, o));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circle(n: usize, wobble: f64) -> MultiPolygon<f64> {
        // About 1 km across at 53.5° N, with a small zigzag on every vertex.
        let coords: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = 1.0 + if i % 2 == 0 { wobble } else { -wobble };
                Coord {
                    x: -2.3 + 0.0075 * r * a.cos(),
                    y: 53.5 + 0.0045 * r * a.sin(),
                }
            })
            .collect();
        MultiPolygon(vec![Polygon::new(LineString(coords), vec![])])
    }

    #[test]
    fn simplifying_drops_vertices_and_keeps_a_valid_ring() {
        let shape = circle(400, 0.002);
        let simple = simplify(&shape, 50.0);
        let before = shape.0[0].exterior().0.len();
        let after = simple.0[0].exterior().0.len();
        assert_eq!(before, 401);
        assert!(after < before / 4, "{after} of {before}");
        assert!(ring_ok(simple.0[0].exterior()));
        use geo::Validation;
        assert!(simple.is_valid());
        // A tolerance far beyond the shape still leaves a polygon, never a collapsed ring.
        let tiny = simplify(&shape, 100_000.0);
        assert!(ring_ok(tiny.0[0].exterior()));
    }

    #[test]
    fn precision_rounds_and_drops_repeated_positions() {
        let shape = MultiPolygon(vec![Polygon::new(
            LineString(vec![
                Coord { x: 0.0, y: 0.0 },
                Coord { x: 1.0, y: 0.0 },
                Coord {
                    x: 1.000_000_04,
                    y: 0.000_000_01,
                },
                Coord { x: 1.0, y: 1.0 },
                Coord { x: 0.0, y: 0.0 },
            ]),
            vec![],
        )]);
        let v = geometry_value(&shape, 6);
        assert_eq!(v["type"], "Polygon");
        assert_eq!(
            v["coordinates"],
            json!([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]])
        );
        assert_eq!(vertex_count(&v), 4);
        // Rounding that would collapse a ring keeps it as it was.
        let sliver = MultiPolygon(vec![Polygon::new(
            LineString(vec![
                Coord { x: 0.0, y: 0.0 },
                Coord {
                    x: 0.000_000_1,
                    y: 0.0,
                },
                Coord {
                    x: 0.0,
                    y: 0.000_000_1,
                },
                Coord { x: 0.0, y: 0.0 },
            ]),
            vec![],
        )]);
        assert_eq!(vertex_count(&geometry_value(&sliver, 6)), 4);
    }
}
