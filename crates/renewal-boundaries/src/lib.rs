//! Area boundaries (wards, LSOAs) read from GeoJSON, and point-in-polygon assignment of
//! WGS84 longitude/latitude points to them.
//!
//! Made for police.uk street-level crimes, whose rows carry coordinates but sometimes no LSOA,
//! and whose LSOA (2011) does not nest in later wards anyway.
//!
//! ```
//! use renewal_boundaries::{BoundarySet, Located};
//! let geojson = br#"{"type": "FeatureCollection", "features": [
//!   {"type": "Feature", "properties": {"WD13CD": "E05000001", "WD13NM": "Square"},
//!    "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#;
//! let set = BoundarySet::from_geojson(geojson, "square.json", None).unwrap();
//! assert_eq!(set.vintage().unwrap().to_string(), "WD13");
//! match set.locate(0.5, 0.5) {
//!     Located::Inside(area) => assert_eq!(area.code, "E05000001"),
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(set.locate(2.0, 0.5), Located::Outside);
//! ```
//!
//! Coordinates are taken as planar lon/lat: fine for areas the size of wards, where edges are
//! a few hundred metres long and the published boundaries are generalised anyway.
//!
//! Architecture: no IO here; callers read the file and pass the bytes and a name for errors.

mod geojson;

use std::collections::HashMap;

use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Coord, MultiPolygon};
use renewal_geo::{Level, Vintage};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

pub use geojson::{GeoJsonOptions, geometry_from_geojson, geometry_to_geojson};

/// One area: its GSS code, its name when the file gives one, and its boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub code: String,
    pub name: Option<String>,
    /// Boundary in WGS84 longitude (x) / latitude (y). A GeoJSON `Polygon` becomes a
    /// one-part multipolygon.
    pub polygon: MultiPolygon<f64>,
    /// The file (as named by the caller) this area was read from.
    pub source: String,
}

impl Area {
    /// The boundary as a GeoJSON geometry object's text (see [`geometry_to_geojson`]): how the
    /// warehouse stores it, readable by anything that reads GeoJSON.
    pub fn geometry_json(&self) -> String {
        geometry_to_geojson(&self.polygon).to_string()
    }

    /// `[min_lon, min_lat, max_lon, max_lat]`; `None` only for an empty boundary, which the
    /// reader never produces.
    pub fn bounding_box(&self) -> Option<[f64; 4]> {
        let rect = self.polygon.bounding_rect()?;
        Some([rect.min().x, rect.min().y, rect.max().x, rect.max().y])
    }
}

/// Where a point fell. See [`BoundarySet::locate`] for the rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Located<'a> {
    Inside(&'a Area),
    Outside,
    /// The point is in the interior of two or more areas (overlapping polygons), sorted by code.
    Ambiguous(Vec<&'a Area>),
}

impl<'a> Located<'a> {
    /// The area, when exactly one was found.
    pub fn area(&self) -> Option<&'a Area> {
        match self {
            Located::Inside(area) => Some(area),
            _ => None,
        }
    }
}

/// How a point relates to one candidate area; see [`BoundarySet::positions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Inside,
    OnBoundary,
}

#[derive(Debug, thiserror::Error)]
pub enum BoundaryError {
    /// The bytes are not JSON; `line` and `column` are 1-based, as serde_json counts them.
    #[error("{file}: line {line}, column {column}: not valid JSON: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// `index` counts from 0, as in the file's `features` array (`.features[17]` in jq).
    #[error("{file}: feature {index}: {message}")]
    Feature {
        file: String,
        index: usize,
        message: String,
    },
    #[error("area {code} appears twice: in {first} and in {second}")]
    DuplicateCode {
        code: String,
        first: String,
        second: String,
    },
    #[error("cannot merge boundary sets: {0}")]
    Merge(String),
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// A set of areas of one level (and vintage, when known), indexed for point lookup by an
/// R-tree over their bounding boxes.
#[derive(Debug, Clone)]
pub struct BoundarySet {
    vintage: Option<Vintage>,
    level: Level,
    areas: Vec<Area>,
    by_code: HashMap<String, usize>,
    tree: RTree<Entry>,
}

impl BoundarySet {
    /// Reads a GeoJSON `FeatureCollection` of `Polygon` / `MultiPolygon` features (holes
    /// allowed) in WGS84 longitude/latitude.
    ///
    /// `code_property` names the property holding the GSS code (`wd22cd`, `WD13CD`,
    /// `lsoa11cd`, `area_code`, ...). When `None`, it is the property of the first feature
    /// that is an ONS code header (`Vintage::from_ons_header` gives a `Code` role); if there
    /// are several (`WD13CD` and `LAD13CD`), the finest level wins, and two at that level are
    /// an error. The name property is found to match (see [`GeoJsonOptions`]).
    ///
    /// The vintage is read from an ONS code header and is `None` for property names such as
    /// `area_code`; then the level comes from the first code's GSS entity (`E05` → ward), and
    /// [`BoundarySet::from_geojson_with`] can state the vintage. Every code is checked with
    /// `renewal_geo::validate_code` for that level; codes must be unique.
    ///
    /// `source_name` (usually the file name) prefixes every error, with the 0-based feature
    /// index: `wards.json: feature 17: E05000976: geometry type LineString is not a polygon`.
    /// A declared `crs` other than CRS84 / EPSG:4326, or coordinates outside ±180/±90 (such as
    /// British National Grid metres), are rejected, not reprojected.
    pub fn from_geojson(
        bytes: &[u8],
        source_name: &str,
        code_property: Option<&str>,
    ) -> Result<BoundarySet, BoundaryError> {
        Self::from_geojson_with(
            bytes,
            source_name,
            &GeoJsonOptions {
                code_property,
                ..GeoJsonOptions::default()
            },
        )
    }

    /// The property names of a GeoJSON file's first feature (empty when it has none), so a
    /// caller can recognise the file's layout before reading it. Only a JSON syntax error is
    /// an error here; [`BoundarySet::from_geojson_with`] reports everything else.
    pub fn first_feature_properties(
        bytes: &[u8],
        source_name: &str,
    ) -> Result<Vec<String>, BoundaryError> {
        geojson::first_properties(bytes, source_name)
    }

    /// [`BoundarySet::from_geojson`] with the name property and the vintage stated as well.
    /// A stated vintage that contradicts the code property's header is an error.
    pub fn from_geojson_with(
        bytes: &[u8],
        source_name: &str,
        options: &GeoJsonOptions<'_>,
    ) -> Result<BoundarySet, BoundaryError> {
        let parsed = geojson::parse(bytes, source_name, options)?;
        let mut by_code = HashMap::with_capacity(parsed.areas.len());
        for (index, area) in parsed.areas.iter().enumerate() {
            if let Some(first) = by_code.insert(area.code.clone(), index) {
                return Err(BoundaryError::Feature {
                    file: source_name.to_owned(),
                    index,
                    message: format!("code {} already used by feature {first}", area.code),
                });
            }
        }
        Ok(Self::build(
            parsed.vintage,
            parsed.level,
            parsed.areas,
            by_code,
        ))
    }

    /// Combines sets of the same level and vintage (say the four South Yorkshire districts'
    /// ward files) into one. Areas keep their order, set by set. A code found in two sets is
    /// an error naming both sources; so are mixed levels or vintages, and an empty input.
    pub fn merge(
        sets: impl IntoIterator<Item = BoundarySet>,
    ) -> Result<BoundarySet, BoundaryError> {
        let mut sets = sets.into_iter();
        let first = sets
            .next()
            .ok_or_else(|| BoundaryError::Merge("no boundary sets given".to_owned()))?;
        let (vintage, level) = (first.vintage, first.level);
        let mut areas = first.areas;
        let mut by_code = first.by_code;
        for set in sets {
            if set.level != level || set.vintage != vintage {
                let describe = |v: Option<Vintage>, l: Level| {
                    v.map_or_else(
                        || format!("{} (vintage unknown)", l.describe()),
                        |v| v.to_string(),
                    )
                };
                return Err(BoundaryError::Merge(format!(
                    "{} areas from {} cannot join {} areas from {}",
                    describe(set.vintage, set.level),
                    set.areas.first().map_or("?", |a| a.source.as_str()),
                    describe(vintage, level),
                    areas.first().map_or("?", |a| a.source.as_str()),
                )));
            }
            for area in set.areas {
                if let Some(&existing) = by_code.get(&area.code) {
                    return Err(BoundaryError::DuplicateCode {
                        code: area.code,
                        first: areas[existing].source.clone(),
                        second: area.source,
                    });
                }
                by_code.insert(area.code.clone(), areas.len());
                areas.push(area);
            }
        }
        Ok(Self::build(vintage, level, areas, by_code))
    }

    fn build(
        vintage: Option<Vintage>,
        level: Level,
        areas: Vec<Area>,
        by_code: HashMap<String, usize>,
    ) -> BoundarySet {
        let entries = areas
            .iter()
            .enumerate()
            .filter_map(|(index, area)| {
                // Parsing guarantees at least three positions per ring, so a box exists.
                let rect = area.polygon.bounding_rect()?;
                let (min, max) = (rect.min(), rect.max());
                Some(GeomWithData::new(
                    Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                    index,
                ))
            })
            .collect();
        BoundarySet {
            vintage,
            level,
            areas,
            by_code,
            tree: RTree::bulk_load(entries),
        }
    }

    /// The vintage, when the code property named it (`WD13CD`) or the caller stated it.
    pub fn vintage(&self) -> Option<Vintage> {
        self.vintage
    }

    /// The level of every area in the set.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The areas, in file order (set by set after a merge).
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// The area with this code.
    pub fn area(&self, code: &str) -> Option<&Area> {
        self.by_code.get(code).map(|&i| &self.areas[i])
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The area containing the point (`lon`, `lat` in WGS84 degrees).
    ///
    /// - A point in the interior of exactly one area is [`Located::Inside`] it, even if it
    ///   also lies on another area's boundary.
    /// - A point in no interior but on the boundary of one or more areas (a shared border,
    ///   a vertex where several wards meet, the outer edge of the coverage) goes,
    ///   deterministically, to the area with the **smallest code** among them, as `Inside`.
    ///   [`BoundarySet::positions`] tells such points apart when that matters.
    /// - A point in the interior of two or more areas (overlapping polygons, which a clean
    ///   boundary file does not have) is [`Located::Ambiguous`], areas sorted by code.
    /// - Anything else, including non-finite coordinates, is [`Located::Outside`].
    ///
    /// Tests are exact (robust predicates), on the areas whose bounding boxes contain the
    /// point; the R-tree finds those.
    pub fn locate(&self, lon: f64, lat: f64) -> Located<'_> {
        let mut inside: Vec<&Area> = Vec::new();
        let mut border: Option<&Area> = None;
        for (area, position) in self.positions(lon, lat) {
            match position {
                Position::Inside => inside.push(area),
                Position::OnBoundary => {
                    if border.is_none_or(|b| area.code < b.code) {
                        border = Some(area);
                    }
                }
            }
        }
        match inside.len() {
            0 => border.map_or(Located::Outside, Located::Inside),
            1 => Located::Inside(inside[0]),
            _ => {
                inside.sort_by(|a, b| a.code.cmp(&b.code));
                Located::Ambiguous(inside)
            }
        }
    }

    /// Every area whose interior or boundary holds the point, with which of the two, sorted
    /// by code. Empty for points outside every area or with non-finite coordinates.
    pub fn positions(&self, lon: f64, lat: f64) -> Vec<(&Area, Position)> {
        if !(lon.is_finite() && lat.is_finite()) {
            return Vec::new();
        }
        let coord = Coord { x: lon, y: lat };
        let mut found: Vec<(&Area, Position)> = self
            .tree
            .locate_all_at_point(&[lon, lat])
            .filter_map(|entry| {
                let area = &self.areas[entry.data];
                position_in(&area.polygon, &coord).map(|p| (area, p))
            })
            .collect();
        found.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        found
    }
}

/// Position of a point in a multipolygon, part by part: inside if inside any part, on the
/// boundary if on the boundary of any part. (geo's own multipolygon rule counts boundaries
/// mod 2, which would put a point on an edge shared by two parts of one area outside it.)
fn position_in(polygon: &MultiPolygon<f64>, coord: &Coord<f64>) -> Option<Position> {
    let mut on_boundary = false;
    for part in &polygon.0 {
        match part.coordinate_position(coord) {
            CoordPos::Inside => return Some(Position::Inside),
            CoordPos::OnBoundary => on_boundary = true,
            CoordPos::Outside => {}
        }
    }
    on_boundary.then_some(Position::OnBoundary)
}

#[cfg(test)]
mod tests;
