//! A deliberately small GeoJSON reader: a `FeatureCollection` of `Polygon` / `MultiPolygon`
//! features in WGS84 longitude/latitude, with string properties naming each area.
//!
//! Anything else (other geometry types, projected coordinates, a declared CRS other than
//! CRS84 / EPSG:4326) is an error naming the file and the feature, never a silent skip.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use renewal_geo::{AreaType, HeaderRole, Level, Vintage, validate_code};
use serde_json::{Map, Value};

use crate::{Area, BoundaryError};

/// Which properties of each feature hold the area code and name, and which vintage the codes
/// belong to. Every field may be left to auto-detection; see [`crate::BoundarySet::from_geojson_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GeoJsonOptions<'a> {
    /// Property holding the GSS code (`WD13CD`, `wd22cd`, `area_code`, ...).
    pub code_property: Option<&'a str>,
    /// Property holding the area name (`WD13NM`, `area_name`, ...).
    pub name_property: Option<&'a str>,
    /// Vintage of the codes, when the property names do not say (`area_code` says nothing).
    pub vintage: Option<Vintage>,
}

/// Declared coordinate reference systems that mean "longitude, latitude on WGS84".
/// EPSG:4326 formally has latitude first, but GeoJSON writers that declare it still write
/// longitude first (RFC 7946 §3.1.1 fixes the order), so it is accepted as lon/lat.
const WGS84_NAMES: [&str; 6] = [
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "OGC:CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "CRS84",
];

pub(crate) struct Parsed {
    pub vintage: Option<Vintage>,
    pub level: Level,
    pub areas: Vec<Area>,
}

pub(crate) fn parse(
    bytes: &[u8],
    source_name: &str,
    options: &GeoJsonOptions<'_>,
) -> Result<Parsed, BoundaryError> {
    let file_error = |message: String| BoundaryError::File {
        file: source_name.to_owned(),
        message,
    };
    let root: Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e, source_name))?;
    let root = root
        .as_object()
        .ok_or_else(|| file_error("top level is not a JSON object".to_owned()))?;
    match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(file_error(format!(
                "GeoJSON type {other} is not a FeatureCollection"
            )));
        }
        None => return Err(file_error("no GeoJSON \"type\" member".to_owned())),
    }
    check_crs(root.get("crs")).map_err(file_error)?;
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| file_error("no \"features\" array".to_owned()))?;
    if features.is_empty() {
        return Err(file_error(
            "the FeatureCollection has no features".to_owned(),
        ));
    }

    let feature_error = |index: usize, message: String| BoundaryError::Feature {
        file: source_name.to_owned(),
        index,
        message,
    };

    // Property names are settled on the first feature and then required of every feature.
    let first_properties = properties(&features[0]).map_err(|m| feature_error(0, m))?;
    let (code_property, detected) = match options.code_property {
        Some(p) => (p.to_owned(), Vintage::from_ons_header(p)),
        None => detect_code_property(first_properties).map_err(|m| feature_error(0, m))?,
    };
    let detected_vintage = detected.map(|(v, _)| v);
    let vintage = match (options.vintage, detected_vintage) {
        (Some(given), Some(found)) if given != found => {
            return Err(file_error(format!(
                "vintage {given} was given but property {code_property} says {found}"
            )));
        }
        (given, found) => given.or(found),
    };
    let name_property = match options.name_property {
        Some(p) => Some(p.to_owned()),
        None => detect_name_property(first_properties, &code_property),
    };

    let mut level = vintage.map(|v| v.level);
    let mut areas = Vec::with_capacity(features.len());
    for (index, feature) in features.iter().enumerate() {
        let props = properties(feature).map_err(|m| feature_error(index, m))?;
        let code = match props.get(&code_property) {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(other) => {
                return Err(feature_error(
                    index,
                    format!("property {code_property} is {other}, not a string"),
                ));
            }
            None => {
                return Err(feature_error(index, format!("no property {code_property}")));
            }
        };
        // Without a vintage, the first code settles the level and the rest must match it.
        if level.is_none() {
            level = Some(level_of_code(&code).map_err(|m| feature_error(index, m))?);
        }
        let area_level = level.unwrap_or(Level::Ward);
        validate_code(area_level, &code).map_err(|e| feature_error(index, e.to_string()))?;
        let name = match name_property.as_deref().map(|p| (p, props.get(p))) {
            None | Some((_, None | Some(Value::Null))) => None,
            Some((_, Some(Value::String(s)))) => Some(s.trim().to_owned()),
            Some((p, Some(other))) => {
                return Err(feature_error(
                    index,
                    format!("property {p} is {other}, not a string"),
                ));
            }
        };
        let polygon =
            geometry(feature).map_err(|m| feature_error(index, format!("{code}: {m}")))?;
        areas.push(Area {
            code,
            name,
            polygon,
            source: source_name.to_owned(),
        });
    }
    // `features` is non-empty, so the loop has settled the level.
    let level = level.unwrap_or(Level::Ward);
    Ok(Parsed {
        vintage,
        level,
        areas,
    })
}

/// The property names of the first feature, for recognising a file's layout before reading
/// it; empty when the file has no readable first feature (reading it then says why).
pub(crate) fn first_properties(
    bytes: &[u8],
    source_name: &str,
) -> Result<Vec<String>, BoundaryError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e, source_name))?;
    Ok(root
        .get("features")
        .and_then(|f| f.get(0))
        .and_then(|f| f.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default())
}

fn json_error(e: &serde_json::Error, source_name: &str) -> BoundaryError {
    // serde_json's text ends with " at line L column C"; the error has its own fields for it.
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    BoundaryError::Json {
        file: source_name.to_owned(),
        line: e.line(),
        column: e.column(),
        message: text.strip_suffix(&suffix).unwrap_or(&text).to_owned(),
    }
}

fn check_crs(crs: Option<&Value>) -> Result<(), String> {
    let Some(crs) = crs else { return Ok(()) };
    if crs.is_null() {
        return Ok(());
    }
    let name = crs
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    match name {
        Some(n) if WGS84_NAMES.iter().any(|w| w.eq_ignore_ascii_case(n.trim())) => Ok(()),
        Some(n) => Err(format!(
            "coordinate reference system {n} is not WGS84 longitude/latitude \
             (CRS84 / EPSG:4326); reproject the file first (e.g. ogr2ogr -t_srs EPSG:4326)"
        )),
        None => Err(format!("unreadable \"crs\" member {crs}")),
    }
}

fn properties(feature: &Value) -> Result<&Map<String, Value>, String> {
    match feature.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        Some(other) => return Err(format!("type {other} is not a Feature")),
        None => return Err("not a GeoJSON Feature (no \"type\")".to_owned()),
    }
    feature
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| "no \"properties\" object".to_owned())
}

/// The code property of a file whose caller did not name one: among the properties that are
/// ONS code headers (`WD13CD`, `lsoa11cd`, `LAD13CD`), the one at the finest level (LSOA, then
/// ward, then district), since a feature is the smallest area it names. Two candidates at that
/// level (say `WD13CD` and `WD14CD`) are an error: the caller must choose.
fn detect_code_property(
    props: &Map<String, Value>,
) -> Result<(String, Option<(Vintage, HeaderRole)>), String> {
    let mut candidates: Vec<(&String, Vintage)> = props
        .keys()
        .filter_map(|k| match Vintage::from_ons_header(k) {
            Some((v, HeaderRole::Code)) => Some((k, v)),
            _ => None,
        })
        .collect();
    candidates.sort_by_key(|(k, v)| (v.level, k.to_ascii_uppercase()));
    match candidates.as_slice() {
        [] => Err(format!(
            "no property is an ONS code header such as WD22CD or LSOA11CD (properties: {}); \
             name the code property",
            props.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        [(k, v), rest @ ..] => {
            if let Some((other, _)) = rest.iter().find(|(_, w)| w.level == v.level) {
                return Err(format!(
                    "properties {k} and {other} are both {} code headers; name the one to use",
                    v.level.describe()
                ));
            }
            Ok(((*k).clone(), Some((*v, HeaderRole::Code))))
        }
    }
}

/// The name property matching a code property: the ONS `..NM` header of the same vintage
/// (`WD13CD` → `WD13NM`, any case), else the code property with `code` replaced by `name`
/// (`area_code` → `area_name`), else none.
fn detect_name_property(props: &Map<String, Value>, code_property: &str) -> Option<String> {
    if let Some((vintage, _)) = Vintage::from_ons_header(code_property) {
        return props
            .keys()
            .find(|k| Vintage::from_ons_header(k) == Some((vintage, HeaderRole::Name)))
            .cloned();
    }
    let lower = code_property.to_ascii_lowercase();
    let at = lower.rfind("code")?;
    let mut candidate = code_property.to_owned();
    let replacement = if code_property[at..at + 4] == *"CODE" {
        "NAME"
    } else if code_property[at..at + 4] == *"Code" {
        "Name"
    } else {
        "name"
    };
    candidate.replace_range(at..at + 4, replacement);
    props.contains_key(&candidate).then_some(candidate)
}

/// The level of an area whose code carries no vintage header: read off the GSS entity code.
fn level_of_code(code: &str) -> Result<Level, String> {
    match AreaType::of_code(code) {
        Some(AreaType::Lsoa) => Ok(Level::Lsoa),
        Some(AreaType::Ward) => Ok(Level::Ward),
        Some(AreaType::Lad) => Ok(Level::Lad),
        Some(other) => Err(format!(
            "code {code:?} names a {other}, not an LSOA, ward or local authority district"
        )),
        None => Err(format!("{code:?} is not a GSS area code")),
    }
}

fn geometry(feature: &Value) -> Result<MultiPolygon<f64>, String> {
    match feature.get("geometry") {
        None | Some(Value::Null) => Err("feature has no geometry".to_owned()),
        Some(g) => geometry_from_geojson(g),
    }
}

/// A GeoJSON `Polygon` or `MultiPolygon` geometry object (not a Feature) as a multipolygon,
/// with the checks the file reader applies: WGS84 longitude/latitude, rings of at least three
/// distinct positions. The error says what is wrong, without a file name.
pub fn geometry_from_geojson(geometry: &Value) -> Result<MultiPolygon<f64>, String> {
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| "geometry has no \"type\"".to_owned())?;
    let coordinates = geometry.get("coordinates");
    match kind {
        "Polygon" => Ok(MultiPolygon(vec![polygon(coordinates)?])),
        "MultiPolygon" => {
            let parts = coordinates
                .and_then(Value::as_array)
                .ok_or_else(|| "MultiPolygon coordinates are not an array".to_owned())?;
            if parts.is_empty() {
                return Err("MultiPolygon has no polygons".to_owned());
            }
            parts
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(Some(p)).map_err(|m| format!("polygon {i}: {m}")))
                .collect::<Result<Vec<_>, _>>()
                .map(MultiPolygon)
        }
        other => Err(format!("geometry type {other} is not a polygon")),
    }
}

fn polygon(coordinates: Option<&Value>) -> Result<Polygon<f64>, String> {
    let rings = coordinates
        .and_then(Value::as_array)
        .ok_or_else(|| "polygon coordinates are not an array of rings".to_owned())?;
    let mut rings = rings.iter().enumerate().map(|(i, r)| {
        ring(r).map_err(|m| {
            if i == 0 {
                format!("exterior ring: {m}")
            } else {
                format!("hole {i}: {m}")
            }
        })
    });
    let exterior = rings
        .next()
        .ok_or_else(|| "polygon has no rings".to_owned())??;
    let holes = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn ring(value: &Value) -> Result<LineString<f64>, String> {
    let positions = value
        .as_array()
        .ok_or_else(|| "ring is not an array of positions".to_owned())?;
    let mut coords = Vec::with_capacity(positions.len());
    for (i, position) in positions.iter().enumerate() {
        let xy = position
            .as_array()
            .filter(|a| a.len() >= 2)
            .and_then(|a| Some((a[0].as_f64()?, a[1].as_f64()?)))
            .ok_or_else(|| format!("position {i} is not [longitude, latitude]: {position}"))?;
        let (x, y) = xy;
        if !(x.is_finite()
            && y.is_finite()
            && (-180.0..=180.0).contains(&x)
            && (-90.0..=90.0).contains(&y))
        {
            let hint = if x.abs() > 1000.0 && y.abs() > 1000.0 {
                " (they look like projected metres, e.g. British National Grid EPSG:27700 \
                 eastings/northings; reproject to EPSG:4326 first)"
            } else {
                ""
            };
            return Err(format!(
                "position {i} ({x}, {y}) is not a WGS84 longitude/latitude{hint}"
            ));
        }
        coords.push(Coord { x, y });
    }
    // A closed ring of a triangle has four positions; geo closes an unclosed ring itself.
    let closed = coords.len() > 1 && coords.first() == coords.last();
    let distinct = coords.len() - usize::from(closed);
    if distinct < 3 {
        return Err(format!(
            "ring has {} positions, too few for a polygon",
            coords.len()
        ));
    }
    Ok(LineString::new(coords))
}

/// A multipolygon as a GeoJSON geometry object: a `Polygon` when it has one part, else a
/// `MultiPolygon`. Rings are written closed, as RFC 7946 requires; coordinates unrounded.
pub fn geometry_to_geojson(polygon: &MultiPolygon<f64>) -> Value {
    fn ring(line: &LineString<f64>) -> Value {
        let mut coords: Vec<Value> = line.0.iter().map(|c| Value::from(vec![c.x, c.y])).collect();
        if line.0.first() != line.0.last()
            && let Some(first) = line.0.first()
        {
            coords.push(Value::from(vec![first.x, first.y]));
        }
        Value::Array(coords)
    }
    fn part(p: &Polygon<f64>) -> Value {
        Value::Array(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(ring)
                .collect(),
        )
    }
    let mut object = Map::new();
    if let [only] = polygon.0.as_slice() {
        object.insert("type".into(), "Polygon".into());
        object.insert("coordinates".into(), part(only));
    } else {
        object.insert("type".into(), "MultiPolygon".into());
        object.insert(
            "coordinates".into(),
            Value::Array(polygon.0.iter().map(part).collect()),
        );
    }
    Value::Object(object)
}
