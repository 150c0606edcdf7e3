//! Area boundaries (wards, LSOAs) from GeoJSON files into datasets `boundaries-<vintage>`
//! (`boundaries-wd19`, `boundaries-lsoa21`), one per vintage, versioned like any other.
//!
//! Which property holds the code and the name is declared in `data-schemas/datasets/boundaries/`
//! and recognised from the first feature's property names, as other formats are recognised by
//! their headers: ONS files (`WD19CD` / `WD19NM`) state their vintage, Trafford Data Lab files
//! (`area_code` / `area_name`) need it given. Parsing and its checks (WGS84 only, polygons only,
//! codes valid for the level, no code twice) are `renewal-boundaries`'; this module adds the
//! table, the provenance and the located errors.
//!
//! Table `boundaries`: `code`, `name`, `level`, `vintage`, `geometry` (a GeoJSON geometry
//! object's text, so readers need no geometry library to pass it on), its bounding box
//! (`min_lon`, `min_lat`, `max_lon`, `max_lat`) and `source` (the file), sorted by code.

use std::collections::BTreeMap;
use std::path::PathBuf;

use polars::prelude::*;
use renewal_boundaries::{BoundaryError, BoundarySet, GeoJsonOptions};
use renewal_geo::Vintage;
use renewal_schema::{BoundaryFormat, Catalog, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::to_parquet;
use crate::progress::Progress;
use crate::source::SourceBytes;

/// What the files themselves may not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoundaryOptions {
    /// The vintage of every file (`WD22`): required for layouts whose properties do not state
    /// it (`area_code`), and checked against those that do.
    pub vintage: Option<Vintage>,
}

struct Pending {
    vintage: Vintage,
    sets: Vec<BoundarySet>,
    sources: Vec<SourceFile>,
    schemas: Vec<SchemaRef>,
}

/// Reads GeoJSON boundary files into one draft per vintage found. All files of one vintage
/// make one version of its dataset, so give every district's file of a vintage together.
pub fn read_boundaries(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &BoundaryOptions,
    progress: &dyn Progress,
) -> Result<Vec<Draft>> {
    if files.is_empty() {
        return Err(IngestError::Usage("no boundary files given".into()));
    }
    if catalog.boundaries.is_empty() {
        return Err(IngestError::Usage(
            "data-schemas defines no boundaries format".into(),
        ));
    }
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let (schema_file, format, set) = read_one(catalog, &source, options)?;
        let vintage = set.vintage().ok_or_else(|| {
            // `read_one` insists on a vintage; kept as an error rather than a panic.
            IngestError::invalid(Location::file(&source.name), "the vintage is unknown")
        })?;
        let areas = set.len() as u64;
        progress.finish_file(&source.name, areas);
        let id = renewal_warehouse::ids::boundaries(vintage);
        let entry = pending.entry(id).or_insert_with(|| Pending {
            vintage,
            sets: Vec::new(),
            sources: Vec::new(),
            schemas: Vec::new(),
        });
        entry.sets.push(set);
        entry.sources.push(source.provenance(&format.id, areas));
        if !entry.schemas.iter().any(|s| s.path == schema_file.path) {
            entry.schemas.push(SchemaRef {
                path: schema_file.path.clone(),
                sha256: schema_file.sha256.clone(),
            });
        }
    }
    progress.stage("writing Parquet");
    pending.into_iter().map(|(id, p)| draft(id, p)).collect()
}

/// One file: its format (by the first feature's properties) and its areas.
fn read_one<'c>(
    catalog: &'c Catalog,
    source: &SourceBytes,
    options: &BoundaryOptions,
) -> Result<(&'c SchemaFile, &'c BoundaryFormat, BoundarySet)> {
    let name = source.name.as_str();
    let properties = BoundarySet::first_feature_properties(&source.bytes, name).map_err(located)?;
    let found = catalog.boundaries.iter().find_map(|(file, format)| {
        format
            .code_property_in(properties.iter().map(String::as_str))
            .map(|p| (file, format, p.to_owned()))
    });
    let Some((schema_file, format, code_property)) = found else {
        // Without a first feature's properties the file is unreadable for another reason
        // (not a FeatureCollection, no features): the reader says which.
        if properties.is_empty() {
            BoundarySet::from_geojson(&source.bytes, name, None).map_err(located)?;
        }
        return Err(IngestError::invalid(
            Location::file(name),
            format!(
                "feature 0: no boundaries format in data-schemas/datasets/boundaries/ knows these \
                 properties ({}); expected an ONS code property such as WD19CD or LSOA21CD, or \
                 area_code",
                properties.join(", ")
            ),
        ));
    };
    if !format.states_vintage() && options.vintage.is_none() {
        return Err(IngestError::invalid(
            Location::file(name),
            format!(
                "property {code_property} does not say which year's areas these are ({}); give \
                 --vintage, e.g. --vintage WD22 or --vintage LSOA11",
                format.id
            ),
        ));
    }
    let name_property = format.name_property.as_deref().and_then(|n| {
        properties
            .iter()
            .find(|p| p.eq_ignore_ascii_case(n))
            .map(String::as_str)
    });
    let set = BoundarySet::from_geojson_with(
        &source.bytes,
        name,
        &GeoJsonOptions {
            code_property: Some(&code_property),
            name_property,
            vintage: options.vintage,
        },
    )
    .map_err(located)?;
    let level = set.level();
    if !format.allows(level) {
        return Err(IngestError::invalid(
            Location::file(name),
            format!(
                "{} boundaries are not a level format {} reads ({})",
                level.describe(),
                format.id,
                format.levels.join(", ")
            ),
        ));
    }
    match set.vintage() {
        Some(v) if v.level == level => Ok((schema_file, format, set)),
        Some(v) => Err(IngestError::invalid(
            Location::file(name),
            format!(
                "the codes are {} codes but the vintage is {v}",
                level.describe()
            ),
        )),
        None => Err(IngestError::invalid(
            Location::file(name),
            "the vintage is unknown; give --vintage",
        )),
    }
}

/// A reader's error as bad input at its place: the line and column of a JSON syntax error,
/// else the file, with the feature in the message.
fn located(e: BoundaryError) -> IngestError {
    match e {
        BoundaryError::Json {
            file,
            line,
            column,
            message,
        } => IngestError::invalid(
            Location::file(file).at_line(line as u64),
            format!("column {column}: not valid JSON: {message}"),
        ),
        BoundaryError::File { file, message } => {
            IngestError::invalid(Location::file(file), message)
        }
        BoundaryError::Feature {
            file,
            index,
            message,
        } => IngestError::invalid(Location::file(file), format!("feature {index}: {message}")),
        BoundaryError::DuplicateCode {
            code,
            first,
            second,
        } => IngestError::invalid(
            Location::file(&second),
            format!("area {code} is also in {first}; each area may have one boundary"),
        ),
        BoundaryError::Merge(message) => IngestError::Usage(message),
    }
}

fn draft(id: String, p: Pending) -> Result<Draft> {
    let set = BoundarySet::merge(p.sets).map_err(located)?;
    let mut areas: Vec<&renewal_boundaries::Area> = set.areas().iter().collect();
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    let n = areas.len();
    let level = p.vintage.level.to_string();
    let vintage = p.vintage.to_string();
    let boxes: Vec<[f64; 4]> = areas
        .iter()
        .map(|a| a.bounding_box().unwrap_or([f64::NAN; 4]))
        .collect();
    let bound = |k: usize| boxes.iter().map(|b| b[k]).collect::<Vec<f64>>();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new(
                "code".into(),
                areas.iter().map(|a| a.code.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "name".into(),
                areas.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
            ),
            Column::new("level".into(), vec![level.clone(); n]),
            Column::new("vintage".into(), vec![vintage.clone(); n]),
            Column::new(
                "geometry".into(),
                areas.iter().map(|a| a.geometry_json()).collect::<Vec<_>>(),
            ),
            Column::new("min_lon".into(), bound(0)),
            Column::new("min_lat".into(), bound(1)),
            Column::new("max_lon".into(), bound(2)),
            Column::new("max_lat".into(), bound(3)),
            Column::new(
                "source".into(),
                areas.iter().map(|a| a.source.clone()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let mut notes = Vec::new();
    let unnamed = areas.iter().filter(|a| a.name.is_none()).count();
    if unnamed > 0 {
        notes.push(format!("{unnamed} of {n} areas have no name in the file"));
    }
    Ok(Draft {
        dataset: id,
        kind: "boundaries".into(),
        vintage: BTreeMap::from([(level.clone(), vintage)]),
        attributes: BTreeMap::from([("level".to_owned(), level)]),
        sources: p.sources,
        schemas: p.schemas,
        tables: vec![DraftTable {
            name: "boundaries".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes,
    })
}
