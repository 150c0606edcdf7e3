//! Area-by-period statistics: census tables, benefit counts, service-performance indicators.
//! Formats come from `data-schemas/datasets/observations/`; every file lands as one long
//! `observations` table with its period and period type on every row.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use renewal_geo::AreaType;
use renewal_schema::{ANY_OTHER_COLUMN, Catalog, ObservationFormat, Period, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::{text_column, to_parquet};
use crate::number::parse_number;
use crate::progress::Progress;
use crate::source::{SourceBytes, TextTable, ambiguous_formats, display_name, read_tables};

/// The polarities an indicator can declare (METHODS.md).
const POLARITIES: [&str; 3] = ["higher-is-better", "lower-is-better", "no-judgement"];

/// What the caller can say that the files do not.
#[derive(Debug, Clone, Default)]
pub struct ObservationOptions {
    /// Publish every file into this one dataset instead of one dataset per file.
    pub dataset: Option<String>,
    /// The period of files that do not carry one (a one-month snapshot).
    pub period: Option<String>,
    /// The warehouse's LSOA change lookup, if it has one: LSOA codes found only in one of its
    /// vintages record the dataset's LSOA vintage, and a dataset mixing the two is refused.
    pub bridge: Option<std::sync::Arc<renewal_geo::bridge::Bridge>>,
}

#[derive(Default)]
struct Rows {
    area_code: Vec<String>,
    area_name: Vec<Option<String>>,
    area_type: Vec<&'static str>,
    period: Vec<String>,
    period_type: Vec<&'static str>,
    period_start: Vec<String>,
    indicator: Vec<String>,
    indicator_code: Vec<Option<String>>,
    category: Vec<Option<String>>,
    measure: Vec<String>,
    unit: Vec<Option<String>>,
    polarity: Vec<Option<String>>,
    value: Vec<f64>,
    source: Vec<String>,
}

struct Pending {
    rows: Rows,
    sources: Vec<SourceFile>,
    schemas: BTreeMap<String, String>,
    period_types: BTreeSet<&'static str>,
    bases: BTreeSet<String>,
    notes: Vec<String>,
    /// (area, period, indicator, category, measure) → where it was first seen.
    keys: HashMap<(String, String, String, Option<String>, String), Location>,
    /// The LSOA vintage the codes have shown so far.
    vintage: crate::vintage::VintageWatch,
    /// The ward vintage the files' `ward_vintage` column gave, and where it was first given.
    ward_vintage: Option<(renewal_geo::Vintage, Location)>,
}

/// Reads files of one family (`census`, `benefits`, `services`) into drafts: one dataset per
/// file, named after it, unless `options.dataset` gathers them.
pub fn read_observations(
    catalog: &Catalog,
    family: &str,
    files: &[PathBuf],
    options: &ObservationOptions,
    progress: &dyn Progress,
) -> Result<Vec<Draft>> {
    let formats: Vec<_> = catalog.observation_formats(family).collect();
    if formats.is_empty() {
        return Err(IngestError::Usage(format!(
            "data-schemas defines no {family} formats"
        )));
    }
    if files.is_empty() {
        return Err(IngestError::Usage("no input files given".into()));
    }
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables(&source, progress)?;
        let (table, (schema_file, format)) = recognise(&source.name, &tables, &formats, family)?;
        let dataset = match &options.dataset {
            Some(d) => d.clone(),
            None => default_dataset(family, path),
        };
        let p = pending.entry(dataset).or_insert_with(|| Pending {
            rows: Rows::default(),
            sources: Vec::new(),
            schemas: BTreeMap::new(),
            period_types: BTreeSet::new(),
            bases: BTreeSet::new(),
            notes: Vec::new(),
            keys: HashMap::new(),
            vintage: crate::vintage::VintageWatch::new(options.bridge.clone()),
            ward_vintage: None,
        });
        let rows = read_table(table, format, &source.name, options.period.as_deref(), p)?;
        progress.finish_file(&source.name, rows);
        p.schemas
            .insert(schema_file.path.clone(), schema_file.sha256.clone());
        p.period_types.insert(format.period_type.as_str());
        p.bases.extend(format.base.clone());
        p.sources.push(source.provenance(&format.id, rows));
    }
    progress.stage("writing Parquet");
    pending
        .into_iter()
        .map(|(dataset, p)| draft(family, dataset, p))
        .collect()
}

/// `census-2021-general-health-lsoa-trafford` from `2021_general_health_lsoa_trafford.csv`.
fn default_dataset(family: &str, path: &Path) -> String {
    let name = display_name(path);
    let stem = name.split('.').next().unwrap_or(&name);
    let mut slug = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.starts_with(family) {
        slug.to_owned()
    } else {
        format!("{family}-{slug}")
    }
}

/// The format reading this file: the most specific of those whose headers it has.
fn recognise<'t, 'f>(
    name: &str,
    tables: &'t [TextTable],
    formats: &[&'f (SchemaFile, ObservationFormat)],
    family: &str,
) -> Result<(&'t TextTable, &'f (SchemaFile, ObservationFormat))> {
    for table in tables {
        let matching: Vec<_> = formats
            .iter()
            .filter(|(_, f)| f.matches(&table.headers))
            .collect();
        let Some(most) = matching.iter().map(|(_, f)| f.named_headers().len()).max() else {
            continue;
        };
        let best: Vec<_> = matching
            .into_iter()
            .filter(|(_, f)| f.named_headers().len() == most)
            .collect();
        match best.as_slice() {
            [one] => return Ok((table, **one)),
            many => {
                return Err(ambiguous_formats(
                    table,
                    many.iter().map(|(_, f)| f.id.as_str()),
                ));
            }
        }
    }
    let known: Vec<_> = formats.iter().map(|(_, f)| f.id.as_str()).collect();
    let seen = tables
        .first()
        .map(|t| {
            t.headers
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Err(IngestError::invalid(
        Location::file(name).at_line(1),
        format!(
            "its header matches no {family} format (known: {}); header: {seen}",
            known.join(", ")
        ),
    ))
}

fn read_table(
    table: &TextTable,
    format: &ObservationFormat,
    file: &str,
    period_override: Option<&str>,
    into: &mut Pending,
) -> Result<u64> {
    let index = |header: &str| table.headers.iter().position(|h| h.trim() == header);
    let optional = |header: &Option<String>| header.as_deref().and_then(index);
    let c = &format.columns;
    let area_col = index(&c.area_code).ok_or_else(|| {
        IngestError::invalid(
            table.location.at_line(1),
            format!("missing column {:?}", c.area_code),
        )
    })?;
    let category_col = match c.category.as_deref() {
        Some(ANY_OTHER_COLUMN) => format.leftover(&table.headers).and_then(index),
        other => other.and_then(index),
    };
    let polarity_col = optional(&c.polarity);
    let ward_vintage_col = optional(&c.ward_vintage);
    let (name_col, period_col, indicator_col, code_col, measure_col, unit_col) = (
        optional(&c.area_name),
        optional(&c.period),
        optional(&c.indicator),
        optional(&c.indicator_code),
        optional(&c.measure),
        optional(&c.unit),
    );
    let value_cols: Vec<ValueColumn> = match &format.wide {
        None => format
            .values
            .iter()
            .filter_map(|v| {
                index(&v.header).map(|i| ValueColumn {
                    index: i,
                    measure: v.measure.as_deref(),
                    topic: None,
                })
            })
            .collect(),
        Some(wide) => format
            .wide_columns(&table.headers)
            .into_iter()
            .map(|(i, header)| {
                let (topic, category) = format.split_wide(header).ok_or_else(|| {
                    IngestError::invalid(
                        table.location.at_line(1).at_column(i, header),
                        format!(
                            "a wide {} table's value columns are headed \"<topic>{}<category>\"",
                            format.id, wide.separator
                        ),
                    )
                })?;
                Ok(ValueColumn {
                    index: i,
                    measure: Some(wide.measure.as_str()),
                    topic: Some((topic, category)),
                })
            })
            .collect::<Result<_>>()?,
    };

    let periods = match (period_col, period_override) {
        (Some(_), Some(_)) => {
            return Err(IngestError::Usage(format!(
                "{file} carries its own periods; --period only applies to files without one"
            )));
        }
        (None, Some(p)) => {
            PeriodSource::Fixed(format.period_type.parse(p).map_err(IngestError::Usage)?)
        }
        (None, None) => {
            return Err(IngestError::Usage(format!(
                "{file} ({}) does not say which {} it covers: give --period",
                format.id, format.period_type
            )));
        }
        (Some(i), None) => PeriodSource::Column(i),
    };
    let allowed: Vec<AreaType> = format
        .area_types
        .iter()
        .filter_map(|t| t.parse().ok())
        .collect();

    let mut empty = 0u64;
    for row in &table.rows {
        let cell = |i: usize| table.cell(row.line, i);
        let area = row.fields[area_col].as_str();
        let area_type = AreaType::of_code(area)
            .filter(|t| allowed.contains(t))
            .ok_or_else(|| {
                IngestError::invalid(
                    cell(area_col),
                    format!(
                        "{area:?} is not the code of a {} (format {})",
                        format.area_types.join(" or "),
                        format.id
                    ),
                )
            })?;
        if area_type == AreaType::Lsoa {
            into.vintage.observe(area, || cell(area_col))?;
        }
        if let Some(i) = ward_vintage_col {
            observe_ward_vintage(&row.fields[i], area_type, || cell(i), into)?;
        }
        let period = match &periods {
            PeriodSource::Fixed(p) => p.clone(),
            PeriodSource::Column(i) => format
                .period_type
                .parse(&row.fields[*i])
                .map_err(|m| IngestError::invalid(cell(*i), m))?,
        };
        let row_indicator = match indicator_col {
            Some(i) => row.fields[i].clone(),
            None => format.indicator.clone().unwrap_or_default(),
        };
        let row_category = category_col
            .map(|i| row.fields[i].clone())
            .filter(|s| !s.is_empty());
        let text = |i: Option<usize>| i.map(|i| row.fields[i].clone()).filter(|s| !s.is_empty());
        let polarity = text(polarity_col);
        if let (Some(p), Some(i)) = (&polarity, polarity_col)
            && !POLARITIES.contains(&p.as_str())
        {
            return Err(IngestError::invalid(
                cell(i),
                format!("polarity {p:?} is not one of {}", POLARITIES.join(", ")),
            ));
        }
        for column in &value_cols {
            let i = column.index;
            let (indicator, category) = match column.topic {
                Some((topic, category)) => (topic.to_owned(), Some(category.to_owned())),
                None => (row_indicator.clone(), row_category.clone()),
            };
            if indicator.is_empty() {
                return Err(IngestError::invalid(
                    indicator_col.map_or_else(|| table.location.at_line(row.line), cell),
                    "empty indicator",
                ));
            }
            let measure = match column.measure {
                Some(m) => m.to_owned(),
                None => text(measure_col).ok_or_else(|| {
                    IngestError::invalid(
                        measure_col.map_or_else(|| table.location.at_line(row.line), cell),
                        "empty measure",
                    )
                })?,
            };
            if row.fields[i].is_empty() {
                empty += 1;
                continue;
            }
            let value =
                parse_number(&row.fields[i]).map_err(|m| IngestError::invalid(cell(i), m))?;
            // A count below zero is a shifted column or a "suppressed" sentinel (-1, -99), and
            // would enter sums silently.
            if value < 0.0 && measure.eq_ignore_ascii_case("count") {
                return Err(IngestError::invalid(
                    cell(i),
                    format!("{value} is a negative count"),
                ));
            }
            let key = (
                area.to_owned(),
                period.label.clone(),
                indicator.clone(),
                category.clone(),
                measure.clone(),
            );
            if let Some(first) = into.keys.get(&key) {
                return Err(IngestError::invalid(
                    cell(i),
                    format!(
                        "duplicate {measure} for {area}, {}, {indicator:?}{}: already given at {first}",
                        period.label,
                        category
                            .as_deref()
                            .map(|c| format!(", {c:?}"))
                            .unwrap_or_default()
                    ),
                ));
            }
            into.keys.insert(key, cell(i));
            let r = &mut into.rows;
            r.area_code.push(area.to_owned());
            r.area_name.push(text(name_col));
            r.area_type.push(area_type.as_str());
            r.period.push(period.label.clone());
            r.period_type.push(period.kind.as_str());
            r.period_start.push(period.start.clone());
            r.indicator.push(indicator.clone());
            r.indicator_code.push(text(code_col));
            r.category.push(category.clone());
            r.measure.push(measure);
            r.unit.push(text(unit_col).or_else(|| format.unit.clone()));
            r.polarity.push(polarity.clone());
            r.value.push(value);
            r.source.push(file.to_owned());
        }
    }
    if empty > 0 {
        into.notes
            .push(format!("{file}: {empty} empty values stored as missing"));
    }
    Ok(table.rows.len() as u64)
}

/// Checks one row's `ward_vintage` cell: a ward row must name a ward vintage (`WD19`), and all
/// ward rows of a dataset the same one, because a ward code means nothing without its vintage
/// and one dataset is matched to one lookup. Other rows may leave it empty.
fn observe_ward_vintage(
    text: &str,
    area_type: AreaType,
    at: impl Fn() -> Location,
    into: &mut Pending,
) -> Result<()> {
    let text = text.trim();
    if text.is_empty() && area_type != AreaType::Ward {
        return Ok(());
    }
    let vintage = text
        .parse::<renewal_geo::Vintage>()
        .ok()
        .filter(|v| v.level == renewal_geo::Level::Ward)
        .ok_or_else(|| {
            IngestError::invalid(
                at(),
                format!("ward_vintage {text:?} is not a ward vintage such as WD19 or WD24"),
            )
        })?;
    if area_type != AreaType::Ward {
        return Ok(());
    }
    match &into.ward_vintage {
        None => into.ward_vintage = Some((vintage, at())),
        Some((first, where_first)) if *first != vintage => {
            return Err(IngestError::invalid(
                at(),
                format!(
                    "ward_vintage {vintage} differs from {first} given at {where_first}: one \
                     dataset's wards must be of one vintage (ingest them as separate files)"
                ),
            ));
        }
        Some(_) => {}
    }
    Ok(())
}

/// A column holding values: its measure, and for the wide layout the (indicator, category)
/// its header names.
struct ValueColumn<'f> {
    index: usize,
    measure: Option<&'f str>,
    topic: Option<(&'f str, &'f str)>,
}

/// Where a file's periods come from: a column, or the caller for a one-period snapshot.
enum PeriodSource {
    Fixed(Period),
    Column(usize),
}

fn draft(family: &str, dataset: String, p: Pending) -> Result<Draft> {
    let r = p.rows;
    if r.value.is_empty() {
        return Err(IngestError::invalid(
            Location::file(p.sources.first().map_or("input", |s| s.name.as_str())),
            "no values were read",
        ));
    }
    let periods: BTreeSet<&str> = r.period.iter().map(String::as_str).collect();
    let span = match (periods.first(), periods.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => String::new(),
    };
    let mut df = DataFrame::new(
        r.value.len(),
        vec![
            Column::new("area_code".into(), r.area_code),
            text_column("area_name", r.area_name),
            Column::new("area_type".into(), r.area_type),
            Column::new("period".into(), r.period),
            Column::new("period_type".into(), r.period_type),
            Column::new("period_start".into(), r.period_start),
            Column::new("indicator".into(), r.indicator),
            text_column("indicator_code", r.indicator_code),
            text_column("category", r.category),
            Column::new("measure".into(), r.measure),
            text_column("unit", r.unit),
            text_column("polarity", r.polarity),
            Column::new("value".into(), r.value),
            Column::new("source".into(), r.source),
        ],
    )?
    .sort(
        [
            "indicator",
            "period_start",
            "area_code",
            "category",
            "measure",
        ],
        SortMultipleOptions::default().with_nulls_last(true),
    )?;
    let mut notes = p.notes;
    let ward_vintage = p.ward_vintage.map(|(v, _)| v);
    if let Some(v) = ward_vintage {
        notes.push(format!(
            "ward codes are {v} wards, as the file's ward_vintage column says"
        ));
    } else if df
        .column("area_type")?
        .str()?
        .iter()
        .any(|t| t == Some("ward"))
    {
        notes.push(
            "ward codes here carry no ward vintage in the source; match them to one before \
             comparing with other ward figures"
                .into(),
        );
    }
    let mut attributes = BTreeMap::new();
    if !p.bases.is_empty() {
        attributes.insert(
            "rate_base".to_owned(),
            p.bases.into_iter().collect::<Vec<_>>().join("; "),
        );
    }
    Ok(Draft {
        dataset,
        kind: family.to_owned(),
        vintage: BTreeMap::from([
            (
                "period_type".to_owned(),
                p.period_types.into_iter().collect::<Vec<_>>().join(","),
            ),
            ("periods".to_owned(), span),
        ])
        .into_iter()
        .chain(
            p.vintage
                .vintage()
                .map(|v| ("lsoa".to_owned(), v.to_string())),
        )
        .chain(ward_vintage.map(|v| ("ward".to_owned(), v.to_string())))
        .collect(),
        attributes,
        sources: p.sources,
        schemas: p
            .schemas
            .into_iter()
            .map(|(path, sha256)| SchemaRef { path, sha256 })
            .collect(),
        tables: vec![DraftTable {
            name: "observations".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes,
    })
}
