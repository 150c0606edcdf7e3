//! Parent-area lookups: districts or LSOAs → counties, Community Safety Partnerships, police
//! force areas, combined authorities, regions, integrated care boards, or a partner's own
//! areas. Each parent type of each vintage is its own dataset (`parents-pfa-2024`), so one ONS
//! file defining two types (CSP and PFA) publishes two datasets, each with one table
//! `parents`: member_level, member_code, member_name, parent_type, parent_code, parent_name.
//!
//! A member may lie in more than one parent of a type (CSPs follow districts that no longer
//! exist, so Buckinghamshire lies in four): every row is kept and the query side decides what
//! such a member counts towards. The same (member, parent) twice, or one parent code with two
//! names, is bad input.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use polars::prelude::*;
use renewal_geo::{Level, validate_code};
use renewal_schema::Catalog;
use renewal_schema::parents::{
    MemberLevel, RESERVED_TYPES, USER_TYPE, dataset_id, valid_type_name,
};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::to_parquet;
use crate::progress::Progress;
use crate::source::{SourceBytes, TextTable, read_tables};

/// What `renewal ingest parents` was asked for beyond the files.
#[derive(Debug, Clone, Default)]
pub struct ParentsOptions {
    /// The type name of user-defined files (`--type`); refused for ONS layouts.
    pub user_type: Option<String>,
    /// Publish under this dataset id instead of `parents-<type>-<vintage>` (one type only).
    pub dataset: Option<String>,
}

/// The vintage user-defined parents are published under: they have no ONS year.
pub const USER_VINTAGE: &str = "custom";

#[derive(Default)]
struct Rows {
    member_code: Vec<String>,
    member_name: Vec<Option<String>>,
    parent_code: Vec<String>,
    parent_name: Vec<String>,
}

struct Pending {
    kind: String,
    vintage: String,
    member_level: Level,
    /// `LAD24`, `LSOA21`; empty for user files, whose codes carry no year.
    member_vintage: String,
    rows: Rows,
    /// (member, parent) → where first seen.
    seen: HashMap<(String, String), Location>,
    /// parent → (name, where first seen).
    names: HashMap<String, (String, Location)>,
    members_in: HashMap<String, u32>,
    sources: Vec<SourceFile>,
    schema: SchemaRef,
    format: String,
}

/// Reads parent-area lookups into one draft per (parent type, vintage).
pub fn read_parents(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &ParentsOptions,
    progress: &dyn Progress,
) -> Result<Vec<Draft>> {
    if catalog.parents.is_empty() {
        return Err(IngestError::Usage(
            "data-schemas defines no parents layout".into(),
        ));
    }
    if let Some(t) = &options.user_type {
        let official = catalog.parent_types();
        if !valid_type_name(t)
            || RESERVED_TYPES.contains(&t.as_str())
            || official.contains(t.as_str())
        {
            return Err(IngestError::Usage(format!(
                "--type {t:?}: a user-defined parent type is lowercase letters, digits and '-', \
                 and not a level or an ONS type ({})",
                official.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables(&source, progress)?;
        let found = tables.iter().find_map(|t| {
            catalog
                .parents
                .iter()
                .find_map(|(file, f)| f.matches(&t.headers).map(|yy| (t, file, f, yy)))
        });
        let Some((table, schema_file, format, yy)) = found else {
            return Err(IngestError::invalid(
                Location::file(&source.name).at_line(1),
                format!(
                    "not a known parent-area lookup layout (known: {})",
                    catalog
                        .parents
                        .iter()
                        .map(|(_, f)| f.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let user = format.is_user();
        if user != options.user_type.is_some() {
            return Err(IngestError::Usage(if user {
                format!(
                    "{}: a user-defined parents file needs --type NAME",
                    source.name
                )
            } else {
                format!(
                    "{}: --type names user-defined parents; this is the ONS layout {}",
                    source.name, format.id
                )
            }));
        }
        let vintage = match &yy.parent {
            Some(yy) => format!("20{yy}"),
            None => USER_VINTAGE.to_owned(),
        };
        let col = |h: &str| {
            let h = yy.fill(h);
            table
                .headers
                .iter()
                .position(|x| x.trim().eq_ignore_ascii_case(&h))
        };
        let member_col = col(&format.member_code).ok_or_else(|| {
            IngestError::invalid(table.location.at_line(1), "no member code column")
        })?;
        let member_name_col = format.member_name.as_deref().and_then(col);
        let member_level = member_level(table, member_col, format.member_level)?;
        let member_vintage = match (&yy.member, member_level) {
            (Some(yy), Level::Lsoa) => format!("LSOA{yy}"),
            (Some(yy), _) => format!("LAD{yy}"),
            (None, _) => String::new(),
        };
        let rows = table.rows.len() as u64;
        if rows == 0 {
            return Err(IngestError::invalid(
                table.location.clone(),
                "the lookup has no rows",
            ));
        }
        repeated_rows(table, member_col, format, &col)?;
        let provenance = source.provenance(&format.id, rows);
        for p in &format.parents {
            let kind = match (&options.user_type, p.kind.as_str()) {
                (Some(t), USER_TYPE) => t.clone(),
                _ => p.kind.clone(),
            };
            let (Some(code_col), Some(name_col)) = (col(&p.code), col(&p.name)) else {
                return Err(IngestError::invalid(
                    table.location.at_line(1),
                    format!("no {kind} code or name column"),
                ));
            };
            let id = dataset_id(&kind, &vintage);
            let entry = pending.entry(id.clone()).or_insert_with(|| Pending {
                kind: kind.clone(),
                vintage: vintage.clone(),
                member_level,
                member_vintage: member_vintage.clone(),
                rows: Rows::default(),
                seen: HashMap::new(),
                names: HashMap::new(),
                members_in: HashMap::new(),
                sources: Vec::new(),
                schema: SchemaRef {
                    path: schema_file.path.clone(),
                    sha256: schema_file.sha256.clone(),
                },
                format: format.id.clone(),
            });
            if entry.member_level != member_level || entry.member_vintage != member_vintage {
                return Err(IngestError::invalid(
                    table.cell(1, member_col),
                    format!(
                        "members are {} here but {} in another file for {id}",
                        describe(member_level, &member_vintage),
                        describe(entry.member_level, &entry.member_vintage)
                    ),
                ));
            }
            for row in &table.rows {
                let member = row.fields[member_col].trim();
                validate_code(member_level, member).map_err(|e| {
                    IngestError::invalid(table.cell(row.line, member_col), e.to_string())
                })?;
                let code = row.fields[code_col].trim();
                check_parent_code(code, &p.prefixes, &kind)
                    .map_err(|m| IngestError::invalid(table.cell(row.line, code_col), m))?;
                let name = row.fields[name_col].trim();
                if name.is_empty() {
                    return Err(IngestError::invalid(
                        table.cell(row.line, name_col),
                        format!("{kind} {code} has no name"),
                    ));
                }
                let here = table.cell(row.line, code_col);
                match entry.names.get(code) {
                    Some((other, there)) if other != name => {
                        return Err(IngestError::invalid(
                            table.cell(row.line, name_col),
                            format!(
                                "{kind} {code} is named {name:?} here but {other:?} at {there}"
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        entry
                            .names
                            .insert(code.to_owned(), (name.to_owned(), here.clone()));
                    }
                }
                let key = (member.to_owned(), code.to_owned());
                if let Some(there) = entry.seen.get(&key) {
                    // A wider type repeats on every row of a narrower one (a district in
                    // three CSPs of one PFA): one pair is kept. A whole row repeated is an
                    // error, found below for the file.
                    let _ = there;
                    continue;
                }
                entry.seen.insert(key, here);
                *entry.members_in.entry(member.to_owned()).or_default() += 1;
                entry.rows.member_code.push(member.to_owned());
                entry
                    .rows
                    .member_name
                    .push(member_name_col.map(|i| row.fields[i].trim().to_owned()));
                entry.rows.parent_code.push(code.to_owned());
                entry.rows.parent_name.push(name.to_owned());
            }
            entry.sources.push(provenance.clone());
        }
        progress.finish_file(&provenance.name, rows);
    }
    progress.stage("writing Parquet");
    if options.dataset.is_some() && pending.len() != 1 {
        return Err(IngestError::Usage(format!(
            "--dataset names one dataset, but the files define {} ({})",
            pending.len(),
            pending.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    pending
        .into_iter()
        .map(|(id, p)| draft(options.dataset.clone().unwrap_or(id), p))
        .collect()
}

/// Refuses a row whose member and parents all repeat an earlier row's.
fn repeated_rows(
    table: &TextTable,
    member_col: usize,
    format: &renewal_schema::parents::ParentsFormat,
    col: &dyn Fn(&str) -> Option<usize>,
) -> Result<()> {
    let cols: Vec<usize> = format.parents.iter().filter_map(|p| col(&p.code)).collect();
    let mut seen: HashMap<Vec<&str>, u64> = HashMap::new();
    for row in &table.rows {
        let key: Vec<&str> = std::iter::once(member_col)
            .chain(cols.iter().copied())
            .map(|i| row.fields[i].trim())
            .collect();
        if let Some(line) = seen.get(&key) {
            return Err(IngestError::invalid(
                table.cell(row.line, member_col),
                format!(
                    "{} is listed with the same parents twice (also on line {line})",
                    key[0]
                ),
            ));
        }
        seen.insert(key, row.line);
    }
    Ok(())
}

fn describe(level: Level, vintage: &str) -> String {
    if vintage.is_empty() {
        level.describe().to_owned()
    } else {
        vintage.to_owned()
    }
}

/// The member level of a file: declared by the layout, or (user files) told by the first
/// member's GSS prefix; every member is then checked against it.
fn member_level(table: &TextTable, column: usize, declared: MemberLevel) -> Result<Level> {
    Ok(match declared {
        MemberLevel::Lad => Level::Lad,
        MemberLevel::Lsoa => Level::Lsoa,
        MemberLevel::Detect => {
            let Some(row) = table.rows.first() else {
                return Ok(Level::Lad);
            };
            let code = row.fields[column].trim();
            if validate_code(Level::Lsoa, code).is_ok() {
                Level::Lsoa
            } else if validate_code(Level::Lad, code).is_ok() {
                Level::Lad
            } else {
                return Err(IngestError::invalid(
                    table.cell(row.line, column),
                    format!("{code:?} is neither an LSOA nor a local authority district code"),
                ));
            }
        }
    })
}

/// A parent code: non-empty, and for types with GSS entities, one of them and six digits.
fn check_parent_code(
    code: &str,
    prefixes: &[String],
    kind: &str,
) -> std::result::Result<(), String> {
    if code.is_empty() {
        return Err(format!("empty {kind} code"));
    }
    if prefixes.is_empty() {
        return Ok(());
    }
    let ok = code.len() == 9
        && prefixes.iter().any(|p| code.starts_with(p.as_str()))
        && code.as_bytes()[3..].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{code:?} is not a valid {kind} code (expected {} followed by six digits)",
            prefixes.join("/")
        ))
    }
}

fn draft(id: String, p: Pending) -> Result<Draft> {
    let shared = p.members_in.values().filter(|n| **n > 1).count();
    let mut notes = Vec::new();
    if shared > 0 {
        notes.push(format!(
            "{shared} {} lie in more than one {}: they count towards none of them, so those {} get no figure",
            p.member_level.describe(),
            p.kind,
            p.kind
        ));
    }
    let rows = p.rows;
    let height = rows.member_code.len();
    let level = match p.member_level {
        Level::Lsoa => "lsoa",
        _ => "lad",
    };
    let mut df = DataFrame::new(
        height,
        vec![
            Column::new("member_level".into(), vec![level; height]),
            Column::new("member_code".into(), rows.member_code),
            Column::new("member_name".into(), rows.member_name),
            Column::new("parent_type".into(), vec![p.kind.as_str(); height]),
            Column::new("parent_code".into(), rows.parent_code),
            Column::new("parent_name".into(), rows.parent_name),
        ],
    )?
    .sort(
        ["parent_code", "member_code"],
        SortMultipleOptions::default(),
    )?;
    let mut vintage = BTreeMap::from([
        ("parent".to_owned(), p.vintage),
        ("member_level".to_owned(), level.to_owned()),
    ]);
    if !p.member_vintage.is_empty() {
        vintage.insert("member".to_owned(), p.member_vintage);
    }
    Ok(Draft {
        dataset: id,
        kind: "parents".into(),
        vintage,
        attributes: BTreeMap::from([
            ("parent_type".to_owned(), p.kind),
            ("format".to_owned(), p.format),
        ]),
        sources: p.sources,
        schemas: vec![p.schema],
        tables: vec![DraftTable {
            name: "parents".into(),
            parquet: to_parquet(&mut df)?,
        }],
        notes,
    })
}
