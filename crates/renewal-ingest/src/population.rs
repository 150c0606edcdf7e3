//! Population per LSOA: ONS mid-year estimates (open-data and release layouts) and census usual
//! residents. Layouts come from `data-schemas/datasets/population/`; every file read in one call
//! lands in one `population` table, one row per (LSOA, year, sex, age band).
//!
//! Age bands are sums of the layout's age groups (single years or published categories), as the
//! format declares them. Totals a file publishes beside its age groups, and a Persons row beside
//! Females and Males, are checked against those sums: a disagreement is an error naming the
//! cell, never resolved by preferring one figure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::Datelike;
use polars::prelude::*;
use renewal_geo::{Level, Vintage, validate_code};
use renewal_schema::population::{AgeGroup, find_years};
use renewal_schema::{Catalog, PopulationFormat, SchemaFile, Sex};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::{text_column, to_parquet};
use crate::number::parse_number;
use crate::progress::Progress;
use crate::source::{SourceBytes, TextTable, ambiguous_formats, read_tables};

/// Small-area population figures are not published for years before this (the 1981 census
/// is the earliest on anything like today's small areas), so an earlier year is a misreading.
pub const EARLIEST_PLAUSIBLE_YEAR: i32 = 1981;

/// Every population dataset id starts with this, so the query engine can find them.
pub const DATASET_PREFIX: &str = "population-";

/// What the caller can say that the files do not.
#[derive(Debug, Clone, Default)]
pub struct PopulationOptions {
    /// The dataset id (must start with `population-`); default from the format.
    pub dataset: Option<String>,
    /// The year of files that do not state it; must agree with files that do.
    pub year: Option<i32>,
    /// The LSOA geography of files whose header does not say (must agree where it does).
    pub lsoa_vintage: Option<Vintage>,
}

/// A number read from one cell, and where.
#[derive(Debug, Clone)]
struct Cell {
    value: f64,
    at: Location,
}

/// One sex of one LSOA in one year, as read from a table.
#[derive(Debug, Default)]
struct SexCells {
    /// By age group; `None` until read.
    groups: Vec<Option<Cell>>,
    /// (band, cell) totals the file publishes.
    published: Vec<(String, Cell)>,
    /// The line the figures were first seen on.
    line: Option<u64>,
}

impl SexCells {
    fn has_groups(&self) -> bool {
        self.groups.iter().any(Option::is_some)
    }
}

/// Everything a table says about one LSOA in one year.
#[derive(Debug)]
struct Entry {
    name: Option<String>,
    first_line: u64,
    sexes: BTreeMap<Sex, SexCells>,
}

/// A stored figure and where it came from, so a conflicting one can name both places.
struct Stored {
    value: f64,
    name: Option<String>,
    reference: String,
    source: String,
    at: Location,
}

#[derive(Default)]
struct Pending {
    /// (LSOA, year, sex, band) → figure.
    rows: BTreeMap<(String, i32, Sex, String), Stored>,
    sources: Vec<SourceFile>,
    schemas: BTreeMap<String, String>,
    /// Default dataset id → the file that implies it.
    datasets: BTreeMap<String, String>,
    /// LSOA vintage → the file that is on it.
    vintages: BTreeMap<Vintage, String>,
    references: BTreeSet<String>,
    notes: Vec<String>,
}

/// Reads population files into one draft of dataset kind `population`.
pub fn read_population(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &PopulationOptions,
    progress: &dyn Progress,
) -> Result<Draft> {
    let formats: Vec<&(SchemaFile, PopulationFormat)> = catalog.population.iter().collect();
    if formats.is_empty() {
        return Err(IngestError::Usage(
            "data-schemas defines no population formats".into(),
        ));
    }
    if files.is_empty() {
        return Err(IngestError::Usage("no input files given".into()));
    }
    if let Some(d) = &options.dataset
        && (!d.starts_with(DATASET_PREFIX) || d.len() == DATASET_PREFIX.len())
    {
        return Err(IngestError::Usage(format!(
            "dataset {d:?}: population dataset ids start with {DATASET_PREFIX:?}"
        )));
    }
    if let Some(v) = options.lsoa_vintage
        && v.level != Level::Lsoa
    {
        return Err(IngestError::Usage(format!(
            "--lsoa-vintage {v} is not an LSOA vintage (LSOA11, LSOA21)"
        )));
    }
    if let Some(y) = options.year {
        check_plausible(y).map_err(IngestError::Usage)?;
    }
    let mut pending = Pending::default();
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables(&source, progress)?;
        let mut read_with = BTreeSet::new();
        let mut rows = 0u64;
        let mut skipped = Vec::new();
        for table in &tables {
            let matching: Vec<_> = formats
                .iter()
                .filter(|(_, f)| f.matches(&table.headers))
                .collect();
            let (schema, format) = match matching.as_slice() {
                [] => {
                    skipped.push(table);
                    continue;
                }
                [one] => {
                    let (schema, format) = &***one;
                    (schema, format)
                }
                many => {
                    return Err(ambiguous_formats(
                        table,
                        many.iter().map(|(_, f)| f.id.as_str()),
                    ));
                }
            };
            rows += read_table(table, format, &source.name, options, &mut pending)?;
            read_with.insert(format.id.clone());
            pending
                .schemas
                .insert(schema.path.clone(), schema.sha256.clone());
            pending.references.insert(format.reference.kind.clone());
        }
        if read_with.is_empty() {
            return Err(no_format(&source.name, &tables, &formats));
        }
        for table in skipped {
            pending.notes.push(format!(
                "{}: not a population layout, skipped",
                table.location
            ));
        }
        progress.finish_file(&source.name, rows);
        let ids: Vec<String> = read_with.into_iter().collect();
        pending
            .sources
            .push(source.provenance(&ids.join("+"), rows));
    }
    progress.stage("writing Parquet");
    draft(options, pending)
}

/// The error for a file no layout reads, showing what its header was.
fn no_format(
    name: &str,
    tables: &[TextTable],
    formats: &[&(SchemaFile, PopulationFormat)],
) -> IngestError {
    let known: Vec<_> = formats.iter().map(|(_, f)| f.id.as_str()).collect();
    let (location, seen) = tables.first().map_or_else(
        || (Location::file(name), String::new()),
        |t| {
            let headers: Vec<String> = t
                .headers
                .iter()
                .take(12)
                .map(|h| format!("{h:?}"))
                .collect();
            let more = if t.headers.len() > 12 { ", …" } else { "" };
            (
                t.location.at_line(1),
                format!("{}{more}", headers.join(", ")),
            )
        },
    );
    IngestError::invalid(
        location,
        format!(
            "its header matches no population format (known: {}); header: {seen}",
            known.join(", ")
        ),
    )
}

/// The year is one population figures could be for.
fn check_plausible(year: i32) -> std::result::Result<i32, String> {
    let now = chrono::Utc::now().year();
    if (EARLIEST_PLAUSIBLE_YEAR..=now).contains(&year) {
        Ok(year)
    } else {
        Err(format!(
            "year {year} is implausible for population figures (expected {EARLIEST_PLAUSIBLE_YEAR} to {now})"
        ))
    }
}

/// Where a table's years come from.
enum YearOf<'f> {
    Fixed(i32),
    Column { index: usize, pattern: &'f str },
}

/// The year stated by a sheet or file name, checked against `--year`.
fn year_of_table(
    table: &TextTable,
    file: &str,
    format: &PopulationFormat,
    options: &PopulationOptions,
) -> Result<YearOf<'static>> {
    let at = table.location.clone();
    let stated = |year: i32, what: &str| -> Result<i32> {
        check_plausible(year)
            .map_err(|m| IngestError::invalid(at.clone(), format!("{what}: {m}")))?;
        match options.year {
            Some(y) if y != year => Err(IngestError::invalid(
                at.clone(),
                format!("{what} says {year} but --year says {y}"),
            )),
            _ => Ok(year),
        }
    };
    if let Some(pattern) = &format.year.name {
        let mut names: Vec<(&str, &str)> = Vec::new();
        if let Some(sheet) = &table.location.sheet {
            names.push(("the sheet name", sheet));
        }
        names.push(("the file name", file));
        for (what, name) in names {
            match find_years(pattern, name, false).as_slice() {
                [] => continue,
                [one] => return Ok(YearOf::Fixed(stated(*one, what)?)),
                many => {
                    return Err(IngestError::invalid(
                        at,
                        format!(
                            "{what} names several years ({}); give one file or sheet per year",
                            many.iter()
                                .map(i32::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        return options.year.map(YearOf::Fixed).ok_or_else(|| {
            IngestError::invalid(
                at,
                format!(
                    "cannot tell which year this is: neither sheet nor file name contains {pattern:?} \
                     (format {}); rename it or give --year",
                    format.id
                ),
            )
        });
    }
    if let Some(year) = format.year.fixed {
        return Ok(YearOf::Fixed(stated(
            year,
            &format!("format {}", format.id),
        )?));
    }
    options.year.map(YearOf::Fixed).ok_or_else(|| {
        IngestError::invalid(
            at,
            format!(
                "format {} does not say which year its figures are for: give --year",
                format.id
            ),
        )
    })
}

/// A value column of the wide layout: its age group and sex (`None`: the row's sex).
struct AgeCell {
    index: usize,
    group: usize,
    sex: Option<Sex>,
}

fn read_table(
    table: &TextTable,
    format: &PopulationFormat,
    file: &str,
    options: &PopulationOptions,
    into: &mut Pending,
) -> Result<u64> {
    let index = |header: &str| table.headers.iter().position(|h| h.trim() == header);
    let need = |header: &str| {
        index(header).ok_or_else(|| {
            IngestError::invalid(
                table.location.at_line(1),
                format!("missing column {header:?} (format {})", format.id),
            )
        })
    };
    let area = format
        .area_columns(&table.headers)
        .ok_or_else(|| IngestError::invalid(table.location.at_line(1), "no LSOA code column"))?;
    let code_col = need(&area.code)?;
    let name_col = area.name.as_deref().and_then(index);

    let vintage = match (area.vintage, options.lsoa_vintage) {
        (Some(header), Some(flag)) if header != flag => {
            return Err(IngestError::invalid(
                table.cell(1, code_col),
                format!("the header says the codes are {header} but --lsoa-vintage says {flag}"),
            ));
        }
        (Some(v), _) | (None, Some(v)) => v,
        (None, None) => format.lsoa_vintage,
    };
    into.vintages
        .entry(vintage)
        .or_insert_with(|| table.location.to_string());

    let years = match &format.year.column {
        Some(column) => YearOf::Column {
            index: need(column)?,
            pattern: format.year.value.as_deref().unwrap_or("{year}"),
        },
        None => year_of_table(table, file, format, options)?,
    };

    let groups: Vec<AgeGroup> = format.age_groups();
    let codes: Vec<(&str, Option<Sex>)> = if format.sex.header_codes.is_empty() {
        vec![("", None)]
    } else {
        format
            .sex
            .header_codes
            .iter()
            .map(|(c, s)| (c.as_str(), Some(*s)))
            .collect()
    };
    let mut age_cells = Vec::new();
    if !format.is_long() {
        for (code, sex) in &codes {
            for (g, group) in groups.iter().enumerate() {
                age_cells.push(AgeCell {
                    index: need(&group.key.replace("{sex}", code))?,
                    group: g,
                    sex: *sex,
                });
            }
        }
    }
    let long = match (&format.ages.category, &format.ages.value) {
        (Some(category), Some(value)) => Some((
            need(category)?,
            format.ages.category_code.as_deref().and_then(index),
            need(value)?,
        )),
        _ => None,
    };
    let mut published: Vec<(usize, &str, Option<Sex>)> = Vec::new();
    for p in &format.published {
        for (code, sex) in &codes {
            let header = p.header.replace("{sex}", code);
            // A header without {sex} is one column, however many codes there are.
            if published
                .iter()
                .any(|(i, _, _)| table.headers[*i].trim() == header)
            {
                continue;
            }
            published.push((need(&header)?, p.band.as_str(), p.sex.or(*sex)));
        }
    }
    let sex_col = format.sex.column.as_deref().map(need).transpose()?;

    let mut entries: BTreeMap<(String, i32), Entry> = BTreeMap::new();
    for row in &table.rows {
        let cell = |i: usize| table.cell(row.line, i);
        let number = |i: usize| -> Result<Cell> {
            let value =
                parse_number(&row.fields[i]).map_err(|m| IngestError::invalid(cell(i), m))?;
            if value < 0.0 {
                return Err(IngestError::invalid(
                    cell(i),
                    format!("{value} people: a count cannot be negative"),
                ));
            }
            Ok(Cell { value, at: cell(i) })
        };
        let code = row.fields[code_col].as_str();
        validate_code(Level::Lsoa, code)
            .map_err(|e| IngestError::invalid(cell(code_col), e.to_string()))?;
        let year = match &years {
            YearOf::Fixed(y) => *y,
            YearOf::Column { index, pattern } => {
                let text = &row.fields[*index];
                let year = match find_years(pattern, text, true).as_slice() {
                    [y] => *y,
                    _ => {
                        return Err(IngestError::invalid(
                            cell(*index),
                            format!("{text:?} is not a year written as {pattern:?}"),
                        ));
                    }
                };
                check_plausible(year).map_err(|m| IngestError::invalid(cell(*index), m))?;
                if let Some(y) = options.year
                    && y != year
                {
                    return Err(IngestError::invalid(
                        cell(*index),
                        format!("the file says {year} but --year says {y}"),
                    ));
                }
                year
            }
        };
        let row_sex = match (sex_col, format.sex.fixed) {
            (Some(i), _) => {
                let text = row.fields[i].as_str();
                Some(*format.sex.values.get(text).ok_or_else(|| {
                    IngestError::invalid(
                        cell(i),
                        format!(
                            "sex {text:?} is not one of {}",
                            format
                                .sex
                                .values
                                .keys()
                                .map(|k| format!("{k:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?)
            }
            (None, fixed) => fixed,
        };
        let name = name_col
            .map(|i| row.fields[i].clone())
            .filter(|n| !n.is_empty());
        let entry = entries
            .entry((code.to_owned(), year))
            .or_insert_with(|| Entry {
                name: name.clone(),
                first_line: row.line,
                sexes: BTreeMap::new(),
            });
        if entry.name.is_none() {
            entry.name = name;
        }
        // Wide layout: the row gives every age group of its sex (or of each coded sex).
        let mut row_sexes: BTreeSet<Sex> = BTreeSet::new();
        for c in &age_cells {
            let Some(sex) = c.sex.or(row_sex) else {
                continue;
            };
            let value = number(c.index)?;
            let cells = slot(entry, sex, groups.len());
            if row_sexes.insert(sex) && cells.has_groups() {
                return Err(IngestError::invalid(
                    table.location.at_line(row.line),
                    format!(
                        "{code} {sex} {year} is given twice (also line {})",
                        cells.line.unwrap_or(entry.first_line)
                    ),
                ));
            }
            cells.line.get_or_insert(row.line);
            cells.groups[c.group] = Some(value);
        }
        // Long layout: the row gives one age group.
        if let Some((category_col, category_code_col, value_col)) = long {
            let label = row.fields[category_col].as_str();
            let g = groups.iter().position(|g| g.key == label).ok_or_else(|| {
                IngestError::invalid(
                    cell(category_col),
                    format!("{label:?} is not an age category of format {}", format.id),
                )
            })?;
            if let (Some(i), Some(expected)) = (category_code_col, &groups[g].code)
                && row.fields[i] != *expected
            {
                return Err(IngestError::invalid(
                    cell(i),
                    format!(
                        "code {:?} does not go with {label:?} (expected {expected:?})",
                        row.fields[i]
                    ),
                ));
            }
            let Some(sex) = row_sex else {
                return Err(IngestError::invalid(
                    table.location.at_line(row.line),
                    "no sex for this row",
                ));
            };
            let value = number(value_col)?;
            let cells = slot(entry, sex, groups.len());
            if let Some(first) = &cells.groups[g] {
                return Err(IngestError::invalid(
                    cell(value_col),
                    format!("{code} {label:?} {year} is given twice (also {})", first.at),
                ));
            }
            cells.line.get_or_insert(row.line);
            cells.groups[g] = Some(value);
        }
        for (i, band, sex) in &published {
            let Some(sex) = sex.or(row_sex) else {
                continue;
            };
            let value = number(*i)?;
            slot(entry, sex, groups.len())
                .published
                .push((band.to_string(), value));
        }
    }

    let first_year = entries.keys().map(|k| k.1).min();
    let mut ordered: Vec<_> = entries.into_iter().collect();
    ordered.sort_by_key(|(_, e)| e.first_line);
    for ((code, year), entry) in ordered {
        let at = table.location.at_line(entry.first_line);
        let bands = derive(format, &groups, &code, year, entry.sexes, &at)?;
        let reference = format.reference_label(year);
        for (sex, band, value, line) in bands {
            let key = (code.clone(), year, sex, band);
            let place = table.location.at_line(line);
            match into.rows.get(&key) {
                Some(first) if !same(first.value, value) => {
                    return Err(IngestError::invalid(
                        place,
                        format!(
                            "{code} {reference} {} {}: {value} here but {} at {}",
                            sex, key.3, first.value, first.at
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    into.rows.insert(
                        key,
                        Stored {
                            value,
                            name: entry.name.clone(),
                            reference: reference.clone(),
                            source: file.to_owned(),
                            at: place,
                        },
                    );
                }
            }
        }
    }
    if let Some(first_year) = first_year {
        into.datasets
            .entry(format.dataset_id(vintage, first_year))
            .or_insert_with(|| table.location.to_string());
    }
    Ok(table.rows.len() as u64)
}

/// A mutable place for one sex's cells in `entry`, creating it sized for `groups` age groups.
fn slot(entry: &mut Entry, sex: Sex, groups: usize) -> &mut SexCells {
    let cells = entry.sexes.entry(sex).or_default();
    if cells.groups.is_empty() {
        cells.groups = vec![None; groups];
    }
    cells
}

/// Two counts agree (they are whole numbers in practice; the slack only absorbs float noise
/// in layouts that publish fractions).
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks one LSOA-year's figures and sums them into bands: (sex, band, value, line).
fn derive(
    format: &PopulationFormat,
    groups: &[AgeGroup],
    code: &str,
    year: i32,
    mut sexes: BTreeMap<Sex, SexCells>,
    at: &Location,
) -> Result<Vec<(Sex, String, f64, u64)>> {
    // Every sex with figures must have all its age groups.
    for (sex, cells) in &sexes {
        if !cells.has_groups() {
            continue;
        }
        if let Some(g) = cells.groups.iter().position(Option::is_none) {
            return Err(IngestError::invalid(
                at.clone(),
                format!(
                    "{code} {year} {sex}: no figure for age group {:?}",
                    groups[g].key.replace("{sex}", "")
                ),
            ));
        }
    }
    let given = |s: &BTreeMap<Sex, SexCells>, sex| s.get(&sex).is_some_and(SexCells::has_groups);
    let (p, f, m) = (
        given(&sexes, Sex::Persons),
        given(&sexes, Sex::Females),
        given(&sexes, Sex::Males),
    );
    if f != m {
        let (has, lacks) = if f {
            (Sex::Females, Sex::Males)
        } else {
            (Sex::Males, Sex::Females)
        };
        return Err(IngestError::invalid(
            at.clone(),
            format!("{code} {year}: {has} are given but {lacks} are not"),
        ));
    }
    let value = |c: &Option<Cell>| c.as_ref().map_or(0.0, |c| c.value);
    if f && m {
        let females = &sexes[&Sex::Females].groups;
        let males = &sexes[&Sex::Males].groups;
        if p {
            for (g, persons) in sexes[&Sex::Persons].groups.iter().enumerate() {
                let (pv, fv, mv) = (value(persons), value(&females[g]), value(&males[g]));
                if !same(pv, fv + mv) {
                    let at = persons
                        .as_ref()
                        .map_or_else(|| at.clone(), |c| c.at.clone());
                    let line = |c: &Option<Cell>| c.as_ref().and_then(|c| c.at.line).unwrap_or(0);
                    return Err(IngestError::invalid(
                        at,
                        format!(
                            "{code} {year}: persons {pv} but females {fv} + males {mv} = {} (lines {} and {})",
                            fv + mv,
                            line(&females[g]),
                            line(&males[g])
                        ),
                    ));
                }
            }
        } else {
            let line = sexes[&Sex::Females].line;
            let sum: Vec<Option<Cell>> = females
                .iter()
                .zip(males)
                .map(|(a, b)| {
                    Some(Cell {
                        value: value(a) + value(b),
                        at: at.clone(),
                    })
                })
                .collect();
            let persons = sexes.entry(Sex::Persons).or_default();
            persons.groups = sum;
            persons.line = persons.line.or(line);
        }
    }
    let mut out = Vec::new();
    for (sex, cells) in &sexes {
        if !cells.has_groups() {
            if let Some((band, cell)) = cells.published.first() {
                return Err(IngestError::invalid(
                    cell.at.clone(),
                    format!("{code} {year}: a {sex} {band} total but no {sex} age groups"),
                ));
            }
            continue;
        }
        let line = cells.line.or(at.line).unwrap_or(0);
        let mut sums = BTreeMap::new();
        for band in &format.bands {
            // `check` proved every declared band a sum of whole groups.
            let members = format.band_members(groups, band).unwrap_or_default();
            let total: f64 = members.iter().map(|&g| value(&cells.groups[g])).sum();
            sums.insert(band.name.as_str(), total);
            out.push((*sex, band.name.clone(), total, line));
        }
        for (band, cell) in &cells.published {
            let derived = sums.get(band.as_str()).copied().unwrap_or_default();
            if !same(derived, cell.value) {
                return Err(IngestError::invalid(
                    cell.at.clone(),
                    format!(
                        "{code} {year} {sex}: the file gives {band} = {} but its age groups sum to {derived}",
                        cell.value
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn draft(options: &PopulationOptions, p: Pending) -> Result<Draft> {
    if p.rows.is_empty() {
        return Err(IngestError::invalid(
            Location::file(p.sources.first().map_or("input", |s| s.name.as_str())),
            "no population figures were read",
        ));
    }
    if p.vintages.len() > 1 {
        let all: Vec<String> = p
            .vintages
            .iter()
            .map(|(v, at)| format!("{v} ({at})"))
            .collect();
        return Err(IngestError::Usage(format!(
            "one population dataset holds one LSOA geography, but these files are on {}; ingest them separately",
            all.join(" and ")
        )));
    }
    let vintage = p
        .vintages
        .keys()
        .next()
        .copied()
        .ok_or_else(|| IngestError::Usage("no LSOA geography was determined".into()))?;
    let dataset = match &options.dataset {
        Some(d) => d.clone(),
        None => {
            let ids: BTreeSet<&str> = p.datasets.keys().map(String::as_str).collect();
            match ids.len() {
                1 => ids.into_iter().next().unwrap_or_default().to_owned(),
                _ => {
                    return Err(IngestError::Usage(format!(
                        "these files belong in different datasets ({}); ingest them separately or gather them with --dataset",
                        p.datasets
                            .iter()
                            .map(|(id, at)| format!("{id} from {at}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
    };
    let years: BTreeSet<i32> = p.rows.keys().map(|k| k.1).collect();
    let n = p.rows.len();
    let mut lsoa = Vec::with_capacity(n);
    let mut name = Vec::with_capacity(n);
    let mut year = Vec::with_capacity(n);
    let mut reference = Vec::with_capacity(n);
    let mut sex = Vec::with_capacity(n);
    let mut band = Vec::with_capacity(n);
    let mut value = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    for ((code, y, s, b), stored) in p.rows {
        lsoa.push(code);
        name.push(stored.name);
        year.push(y);
        reference.push(stored.reference);
        sex.push(s.as_str());
        band.push(b);
        value.push(stored.value);
        source.push(stored.source);
    }
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("lsoa_code".into(), lsoa),
            text_column("lsoa_name", name),
            Column::new("year".into(), year),
            Column::new("reference".into(), reference),
            Column::new("sex".into(), sex),
            Column::new("age_band".into(), band),
            Column::new("value".into(), value),
            Column::new("source".into(), source),
        ],
    )?
    .sort(
        ["year", "lsoa_code", "sex", "age_band"],
        SortMultipleOptions::default(),
    )?;
    let attributes = BTreeMap::from([
        (
            "years".to_owned(),
            years
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        (
            "reference".to_owned(),
            p.references.into_iter().collect::<Vec<_>>().join(","),
        ),
    ]);
    Ok(Draft {
        dataset,
        kind: "population".to_owned(),
        vintage: BTreeMap::from([("lsoa".to_owned(), vintage.to_string())]),
        attributes,
        sources: p.sources,
        schemas: p
            .schemas
            .into_iter()
            .map(|(path, sha256)| SchemaRef { path, sha256 })
            .collect(),
        tables: vec![DraftTable {
            name: "population".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes: p.notes,
    })
}
