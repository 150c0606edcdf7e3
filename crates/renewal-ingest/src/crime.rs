//! police.uk street-level crime. Every incident row is kept; monthly counts per LSOA × crime
//! type are built from the LSOA police.uk gives. With a boundary set, rows without an LSOA (or
//! every row, on request) are placed in an area by point-in-polygon. Rows with neither an LSOA
//! nor coordinates are counted and reported, never dropped silently.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use renewal_boundaries::{BoundarySet, Located};
use renewal_geo::{Level, validate_code};
use renewal_schema::{Catalog, PeriodType};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::{text_column, to_parquet};
use crate::number::parse_number;
use crate::progress::Progress;
use crate::source::{SourceBytes, read_tables};

#[derive(Default)]
pub struct CrimeOptions<'a> {
    /// Dataset id (default `crime-street`).
    pub dataset: Option<String>,
    /// Areas to place crimes in by their coordinates.
    pub boundaries: Option<&'a Boundaries>,
    /// Place every located crime, not only those police.uk gave no LSOA.
    pub assign_all: bool,
    /// The warehouse's LSOA change lookup, if it has one: LSOA codes found only in one of its
    /// vintages record the dataset's LSOA vintage, and files mixing the two are refused.
    pub bridge: Option<std::sync::Arc<renewal_geo::bridge::Bridge>>,
}

#[derive(Default)]
struct Rows {
    text: BTreeMap<&'static str, Vec<Option<String>>>,
    month: Vec<String>,
    longitude: Vec<Option<f64>>,
    latitude: Vec<Option<f64>>,
    area_code: Vec<Option<String>>,
    source: Vec<String>,
    line: Vec<u64>,
}

#[derive(Default)]
struct Tally {
    no_location: u64,
    outside: u64,
    ambiguous: u64,
    assigned: u64,
}

/// Boundary files merged into one set, remembered as sources: the areas a crime lands in
/// depend on them as much as on the crime file, so they are in the provenance and the
/// fingerprint (new boundaries with the same crimes are a new version, not a no-op).
pub struct Boundaries {
    pub set: BoundarySet,
    pub sources: Vec<SourceFile>,
}

/// The format name boundary files get in a manifest's sources.
pub const BOUNDARY_FORMAT: &str = "boundaries-geojson";

impl Boundaries {
    /// Reads and merges GeoJSON files (one per district is usual). `code_property` names the
    /// feature property with the area code when it is not an ONS header like `WD13CD`.
    pub fn load(paths: &[PathBuf], code_property: Option<&str>) -> Result<Boundaries> {
        let mut sets = Vec::with_capacity(paths.len());
        let mut sources = Vec::with_capacity(paths.len());
        for path in paths {
            let source = SourceBytes::read(path)?;
            let set = BoundarySet::from_geojson(&source.bytes, &source.name, code_property)
                .map_err(|e| IngestError::Usage(e.to_string()))?;
            let areas = set.areas().len() as u64;
            sets.push(set);
            sources.push(source.provenance(BOUNDARY_FORMAT, areas));
        }
        if sets.is_empty() {
            return Err(IngestError::Usage("no boundary files given".into()));
        }
        let set = BoundarySet::merge(sets).map_err(|e| IngestError::Usage(e.to_string()))?;
        Ok(Boundaries { set, sources })
    }

    /// As [`Boundaries::load`], for one file.
    pub fn load_one(path: &Path, code_property: Option<&str>) -> Result<Boundaries> {
        Self::load(&[path.to_owned()], code_property)
    }
}

pub fn read_crime(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &CrimeOptions<'_>,
    progress: &dyn Progress,
) -> Result<Draft> {
    let (schema_file, format) = catalog
        .crime
        .first()
        .ok_or_else(|| IngestError::Usage("data-schemas defines no crime format".into()))?;
    if files.is_empty() {
        return Err(IngestError::Usage("no input files given".into()));
    }
    let fields = format.columns.all();
    let mut rows = Rows::default();
    let mut tally = Tally::default();
    let mut sources = Vec::new();
    let mut notes = Vec::new();
    let mut vintage = crate::vintage::VintageWatch::new(options.bridge.clone());
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables(&source, progress)?;
        let table = tables
            .iter()
            .find(|t| fields.iter().all(|(_, h)| t.column_index(h).is_some()))
            .ok_or_else(|| {
                let missing: Vec<String> = fields
                    .iter()
                    .filter(|(_, h)| tables.iter().all(|t| t.column_index(h).is_none()))
                    .map(|(_, h)| format!("{h:?}"))
                    .collect();
                IngestError::invalid(
                    Location::file(&source.name).at_line(1),
                    format!(
                        "not a police.uk street file: missing {}",
                        missing.join(", ")
                    ),
                )
            })?;
        let index: HashMap<&str, usize> = fields
            .iter()
            .filter_map(|(f, h)| table.column_index(h).map(|i| (*f, i)))
            .collect();
        let extra: Vec<String> = table
            .headers
            .iter()
            .filter(|h| !fields.iter().any(|(_, f)| f == h))
            .map(|h| format!("{h:?}"))
            .collect();
        if !extra.is_empty() {
            notes.push(format!(
                "{}: extra columns not stored: {}",
                source.name,
                extra.join(", ")
            ));
        }
        for row in &table.rows {
            let get = |f: &str| row.fields[index[f]].as_str();
            let cell = |f: &str| table.cell(row.line, index[f]);
            let month = PeriodType::Month
                .parse(get("month"))
                .map_err(|m| IngestError::invalid(cell("month"), m))?;
            let lsoa = get("lsoa_code");
            if !lsoa.is_empty() {
                validate_code(Level::Lsoa, lsoa)
                    .map_err(|e| IngestError::invalid(cell("lsoa_code"), e.to_string()))?;
                vintage.observe(lsoa, || cell("lsoa_code"))?;
            }
            if get("crime_type").is_empty() {
                return Err(IngestError::invalid(cell("crime_type"), "empty crime type"));
            }
            let coordinate = |f: &str, limit: f64| -> Result<Option<f64>> {
                let text = get(f);
                if text.is_empty() {
                    return Ok(None);
                }
                let v = parse_number(text).map_err(|m| IngestError::invalid(cell(f), m))?;
                if v.abs() > limit {
                    return Err(IngestError::invalid(
                        cell(f),
                        format!("{v} is out of range"),
                    ));
                }
                Ok(Some(v))
            };
            let (lon, lat) = (
                coordinate("longitude", 180.0)?,
                coordinate("latitude", 90.0)?,
            );
            if lon.is_some() != lat.is_some() {
                return Err(IngestError::invalid(
                    cell("longitude"),
                    "longitude and latitude must be given together",
                ));
            }
            if lsoa.is_empty() && lon.is_none() {
                tally.no_location += 1;
            }
            let area = match (options.boundaries.map(|b| &b.set), lon.zip(lat)) {
                (Some(set), Some((x, y))) if options.assign_all || lsoa.is_empty() => {
                    match set.locate(x, y) {
                        Located::Inside(a) => {
                            tally.assigned += 1;
                            Some(a.code.clone())
                        }
                        Located::Outside => {
                            tally.outside += 1;
                            None
                        }
                        Located::Ambiguous(_) => {
                            tally.ambiguous += 1;
                            None
                        }
                    }
                }
                _ => None,
            };
            for (f, _) in &fields {
                if matches!(*f, "month" | "longitude" | "latitude") {
                    continue;
                }
                let v = get(f);
                rows.text
                    .entry(f)
                    .or_default()
                    .push((!v.is_empty()).then(|| v.to_owned()));
            }
            rows.month.push(month.label);
            rows.longitude.push(lon);
            rows.latitude.push(lat);
            rows.area_code.push(area);
            rows.source.push(source.name.clone());
            rows.line.push(row.line);
        }
        progress.finish_file(&source.name, table.rows.len() as u64);
        sources.push(source.provenance(&format.id, table.rows.len() as u64));
    }
    if rows.month.is_empty() {
        return Err(IngestError::invalid(
            Location::file(sources.first().map_or("input", |s| s.name.as_str())),
            "no crimes were read",
        ));
    }
    if tally.no_location > 0 {
        notes.push(format!(
            "{} crimes have neither an LSOA nor coordinates: kept as incidents, in no area count",
            tally.no_location
        ));
    }
    let mut attributes = BTreeMap::new();
    if let Some(Boundaries {
        set,
        sources: given,
    }) = options.boundaries
    {
        sources.extend(given.iter().cloned());
        let level = set
            .vintage()
            .map_or_else(|| set.level().to_string(), |v| v.to_string());
        attributes.insert("assigned_to".to_owned(), level.clone());
        notes.push(format!(
            "{} crimes placed in {level} areas by point-in-polygon; {} fell outside every area, {} in overlapping areas",
            tally.assigned, tally.outside, tally.ambiguous
        ));
    }

    progress.stage("counting and writing Parquet");
    let span = {
        let months: std::collections::BTreeSet<&str> =
            rows.month.iter().map(String::as_str).collect();
        match (months.first(), months.last()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => String::new(),
        }
    };
    let mut lsoa_counts = counts(
        &rows.month,
        rows.text.get("lsoa_code"),
        rows.text.get("crime_type"),
        "lsoa_code",
    )?;
    let mut area_counts = counts(
        &rows.month,
        Some(&rows.area_code),
        rows.text.get("crime_type"),
        "area_code",
    )?;
    let mut columns = vec![Column::new("month".into(), rows.month)];
    for (f, _) in &fields {
        match *f {
            "month" => {}
            "longitude" => columns.push(Column::new(
                "longitude".into(),
                std::mem::take(&mut rows.longitude),
            )),
            "latitude" => columns.push(Column::new(
                "latitude".into(),
                std::mem::take(&mut rows.latitude),
            )),
            f => columns.push(text_column(f, rows.text.remove(f).unwrap_or_default())),
        }
    }
    columns.push(text_column("area_code", rows.area_code));
    columns.push(Column::new("source".into(), rows.source));
    columns.push(Column::new("line".into(), rows.line));
    let height = columns[0].len();
    let mut crimes = DataFrame::new(height, columns)?;
    let mut tables = vec![
        DraftTable {
            name: "crimes".into(),
            parquet: to_parquet(&mut crimes)?,
        },
        DraftTable {
            name: "lsoa_monthly_counts".into(),
            parquet: to_parquet(&mut lsoa_counts)?,
        },
    ];
    if options.boundaries.is_some() {
        tables.push(DraftTable {
            name: "area_monthly_counts".into(),
            parquet: to_parquet(&mut area_counts)?,
        });
    }
    Ok(Draft {
        dataset: options
            .dataset
            .clone()
            .unwrap_or_else(|| "crime-street".into()),
        kind: "crime".into(),
        vintage: BTreeMap::from([
            ("period_type".to_owned(), "month".to_owned()),
            ("periods".to_owned(), span),
        ])
        .into_iter()
        .chain(
            vintage
                .vintage()
                .map(|v| ("lsoa".to_owned(), v.to_string())),
        )
        .collect(),
        attributes,
        sources,
        schemas: vec![SchemaRef {
            path: schema_file.path.clone(),
            sha256: schema_file.sha256.clone(),
        }],
        tables,
        notes,
    })
}

/// Crimes per month × area × crime type, for rows that have an area.
fn counts(
    months: &[String],
    areas: Option<&Vec<Option<String>>>,
    types: Option<&Vec<Option<String>>>,
    area_column: &str,
) -> Result<DataFrame> {
    let mut tally: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
    if let (Some(areas), Some(types)) = (areas, types) {
        for ((m, a), t) in months.iter().zip(areas).zip(types) {
            if let (Some(a), Some(t)) = (a, t) {
                *tally
                    .entry((m.as_str(), a.as_str(), t.as_str()))
                    .or_default() += 1;
            }
        }
    }
    let month: Vec<&str> = tally.keys().map(|k| k.0).collect();
    let area: Vec<&str> = tally.keys().map(|k| k.1).collect();
    let kind: Vec<&str> = tally.keys().map(|k| k.2).collect();
    let n: Vec<u64> = tally.values().copied().collect();
    Ok(DataFrame::new(
        n.len(),
        vec![
            Column::new("month".into(), month),
            Column::new(area_column.into(), area),
            Column::new("crime_type".into(), kind),
            Column::new("crimes".into(), n),
        ],
    )?)
}
