//! LM3 (Local Multiplier 3) survey returns: the supplier returns of round 2 and the re-spend
//! returns of round 3, in the layouts of `data-schemas/datasets/lm3/` (recognised by header).
//! All files given make one dataset, `lm3-<slug>` (kind `lm3-survey`), with tables
//! `suppliers` and `respend`; money is stored as integer pence (`Int64`), read exactly from
//! pounds with up to two decimals, never through a float.
//!
//! Every cell is checked where it is read, and an error names the file, line and column: money
//! that is negative or has more than two decimals, a `Responded` that is neither yes nor no,
//! a response whose local spends exceed its total spend (a local share above 1), local cells
//! filled in for a supplier that did not respond, a re-spend above its income, a supplier
//! listed twice, and a re-spend return naming a supplier the supplier returns do not have.
//! Nothing is returned when any cell is bad, so nothing is published.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use renewal_schema::lm3::{Lm3Field, Lm3Format, Lm3Table};
use renewal_schema::{Catalog, SchemaFile};
use renewal_warehouse::{Draft, DraftTable, SchemaRef, SourceFile};

use crate::error::{IngestError, Location, Result};
use crate::frame::to_parquet;
use crate::progress::Progress;
use crate::source::{SourceBytes, TextTable, ambiguous_formats, display_name, read_tables};
use crate::spend::normal::Number;

/// The manifest kind of LM3 survey datasets.
pub const KIND: &str = "lm3-survey";

/// What every LM3 survey dataset's id starts with.
pub const DATASET_PREFIX: &str = "lm3-";

/// Options of `renewal ingest lm3-survey`.
#[derive(Debug, Clone, Default)]
pub struct Lm3Options {
    /// The dataset id (must start with `lm3-`); by default `lm3-<slug>` from the name of the
    /// first supplier-returns file.
    pub dataset: Option<String>,
    /// The surveying body's own district (a LAD code), recorded as the dataset's `body_area`
    /// attribute: the server lets a key limited to some authorities read the survey only
    /// when this is one of them.
    pub body_area: Option<String>,
}

#[derive(Default)]
struct Suppliers {
    supplier: Vec<String>,
    company_number: Vec<Option<String>>,
    round1: Vec<i64>,
    responded: Vec<bool>,
    total: Vec<Option<i64>>,
    local_staff: Vec<Option<i64>>,
    local_supplier: Vec<Option<i64>>,
    source: Vec<String>,
    line: Vec<u64>,
}

#[derive(Default)]
struct Respend {
    supplier: Vec<String>,
    respondent_type: Vec<String>,
    income: Vec<i64>,
    local_spend: Vec<i64>,
    source: Vec<String>,
    line: Vec<u64>,
}

/// A re-spend row's supplier cell, checked once every supplier return has been read.
struct SupplierRef {
    name: String,
    location: Location,
}

/// Reads LM3 survey returns (any mix of supplier-returns and re-spend-returns files; at least
/// one of supplier returns) into one draft.
pub fn read_lm3_survey(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &Lm3Options,
    progress: &dyn Progress,
) -> Result<Draft> {
    if catalog.lm3.is_empty() {
        return Err(IngestError::Usage(
            "data-schemas defines no LM3 survey formats (datasets/lm3/)".into(),
        ));
    }
    if files.is_empty() {
        return Err(IngestError::Usage("no input files given".into()));
    }
    if let Some(area) = &options.body_area {
        renewal_geo::validate_code(renewal_geo::Level::Lad, area)
            .map_err(|e| IngestError::Usage(format!("--body-area {area:?}: {e}")))?;
    }
    if let Some(d) = &options.dataset
        && !d.starts_with(DATASET_PREFIX)
    {
        return Err(IngestError::Usage(format!(
            "LM3 survey dataset ids start with {DATASET_PREFIX} ({d:?} does not)"
        )));
    }
    let mut suppliers = Suppliers::default();
    let mut respend = Respend::default();
    let mut refs: Vec<SupplierRef> = Vec::new();
    // Supplier identity (company number, else name) → where it was first listed.
    let mut identities: HashMap<String, Location> = HashMap::new();
    let mut sources: Vec<SourceFile> = Vec::new();
    let mut schemas: BTreeMap<String, String> = BTreeMap::new();
    let mut first_supplier_file: Option<PathBuf> = None;
    let mut unreadable_numbers = 0usize;
    for path in files {
        let source = SourceBytes::read(path)?;
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables(&source, progress)?;
        let (table, (schema_file, format)) = recognise(&source.name, &tables, &catalog.lm3)?;
        let rows = match format.table {
            Lm3Table::Suppliers => {
                first_supplier_file.get_or_insert_with(|| path.clone());
                read_suppliers(
                    table,
                    format,
                    &source.name,
                    &mut suppliers,
                    &mut identities,
                    &mut unreadable_numbers,
                )?
            }
            Lm3Table::Respend => {
                read_respend(table, format, &source.name, &mut respend, &mut refs)?
            }
        };
        progress.finish_file(&source.name, rows);
        schemas.insert(schema_file.path.clone(), schema_file.sha256.clone());
        sources.push(source.provenance(&format.id, rows));
    }
    let Some(first_supplier_file) = first_supplier_file else {
        return Err(IngestError::Usage(
            "no supplier returns among the files: LM3 needs round 1 and round 2 (the \
             Supplier, Round 1 Spend, Responded, … layout)"
                .into(),
        ));
    };
    // A re-spend return belongs to a surveyed supplier.
    let known: HashMap<String, ()> = suppliers
        .supplier
        .iter()
        .map(|s| (name_key(s), ()))
        .collect();
    if let Some(r) = refs
        .iter()
        .find(|r| !known.contains_key(&name_key(&r.name)))
    {
        return Err(IngestError::invalid(
            r.location.clone(),
            format!(
                "{:?} is not a supplier of the supplier returns given with this file",
                r.name
            ),
        ));
    }

    let dataset = match &options.dataset {
        Some(d) => d.clone(),
        None => default_dataset(&first_supplier_file),
    };
    let surveyed = suppliers.supplier.len();
    let responding = suppliers.responded.iter().filter(|r| **r).count();
    let round1: i64 = suppliers.round1.iter().sum();
    let round1_responding: i64 = suppliers
        .round1
        .iter()
        .zip(&suppliers.responded)
        .filter(|(_, r)| **r)
        .map(|(p, _)| *p)
        .sum();
    let staff = respend
        .respondent_type
        .iter()
        .filter(|t| t.as_str() == "staff")
        .count();
    let mut notes = vec![
        format!(
            "{surveyed} suppliers surveyed with {round1} pence of round 1 spend; {responding} \
             responded, holding {round1_responding} pence of it"
        ),
        format!(
            "{} re-spend returns: {staff} staff, {} supplier",
            respend.supplier.len(),
            respend.supplier.len() - staff
        ),
    ];
    if unreadable_numbers > 0 {
        notes.push(format!(
            "{unreadable_numbers} company numbers are not in a Companies House form and are left \
             empty"
        ));
    }

    let tables = vec![
        DraftTable {
            name: Lm3Table::Suppliers.as_str().into(),
            parquet: to_parquet(&mut suppliers_frame(suppliers)?)?,
        },
        DraftTable {
            name: Lm3Table::Respend.as_str().into(),
            parquet: to_parquet(&mut respend_frame(respend)?)?,
        },
    ];
    Ok(Draft {
        dataset,
        kind: KIND.into(),
        vintage: BTreeMap::new(),
        attributes: BTreeMap::from([
            ("suppliers".to_owned(), surveyed.to_string()),
            ("responding_suppliers".to_owned(), responding.to_string()),
            ("staff_respondents".to_owned(), staff.to_string()),
        ])
        .into_iter()
        .chain(
            options
                .body_area
                .iter()
                .map(|a| ("body_area".to_owned(), a.clone())),
        )
        .collect(),
        sources,
        schemas: schemas
            .into_iter()
            .map(|(path, sha256)| SchemaRef { path, sha256 })
            .collect(),
        tables,
        notes,
    })
}

/// The one table of a file that one LM3 layout reads.
fn recognise<'t, 'f>(
    name: &str,
    tables: &'t [TextTable],
    formats: &'f [(SchemaFile, Lm3Format)],
) -> Result<(&'t TextTable, &'f (SchemaFile, Lm3Format))> {
    for table in tables {
        let matching: Vec<&(SchemaFile, Lm3Format)> = formats
            .iter()
            .filter(|(_, f)| f.matches(&table.headers))
            .collect();
        match matching[..] {
            [one] => return Ok((table, one)),
            [] => continue,
            _ => {
                return Err(ambiguous_formats(
                    table,
                    matching.iter().map(|(_, f)| f.id.as_str()),
                ));
            }
        }
    }
    let expected: Vec<String> = formats
        .iter()
        .map(|(_, f)| {
            let headers: Vec<&str> = f
                .table
                .fields()
                .iter()
                .filter_map(|field| f.columns.get(field).map(|c| c.header.as_str()))
                .collect();
            format!("{} ({})", f.id, headers.join(","))
        })
        .collect();
    Err(IngestError::invalid(
        Location::file(name).at_line(1),
        format!(
            "not an LM3 survey return: expected the header of {}",
            expected.join(" or ")
        ),
    ))
}

fn read_suppliers(
    table: &TextTable,
    format: &Lm3Format,
    file: &str,
    into: &mut Suppliers,
    identities: &mut HashMap<String, Location>,
    unreadable_numbers: &mut usize,
) -> Result<u64> {
    let pos = format.positions(&table.headers);
    let col = |f: Lm3Field| pos.get(&f).copied();
    let need = |f: Lm3Field| {
        col(f).ok_or_else(|| {
            IngestError::invalid(
                table.location.at_line(1),
                format!("no column for {}", f.column()),
            )
        })
    };
    let (name_i, r1_i, resp_i, total_i, staff_i, sup_i) = (
        need(Lm3Field::Supplier)?,
        need(Lm3Field::Round1Spend)?,
        need(Lm3Field::Responded)?,
        need(Lm3Field::TotalSpend)?,
        need(Lm3Field::LocalStaffSpend)?,
        need(Lm3Field::LocalSupplierSpend)?,
    );
    let number_i = col(Lm3Field::CompanyNumber);
    let mut rows = 0u64;
    for row in &table.rows {
        let cell = |i: usize| row.fields.get(i).map(|s| s.trim()).unwrap_or("");
        let at = |i: usize| table.cell(row.line, i);
        let name = cell(name_i);
        if name.is_empty() {
            return Err(IngestError::invalid(at(name_i), "the supplier is empty"));
        }
        let company_number = match number_i {
            Some(i) => match crate::spend::normal::company_number(cell(i)) {
                Number::Given(n) => Some(n),
                Number::Absent => None,
                Number::Unparseable => {
                    *unreadable_numbers += 1;
                    None
                }
            },
            None => None,
        };
        let round1 = pence(cell(r1_i)).map_err(|m| IngestError::invalid(at(r1_i), m))?;
        let responded = format.response(cell(resp_i)).ok_or_else(|| {
            IngestError::invalid(
                at(resp_i),
                format!(
                    "{:?} is neither a yes ({}) nor a no ({})",
                    cell(resp_i),
                    format.yes.join(", "),
                    format.no.join(", ")
                ),
            )
        })?;
        let (total, staff, sup) = if responded {
            let money = |i: usize| -> Result<i64> {
                if cell(i).is_empty() {
                    return Err(IngestError::invalid(
                        at(i),
                        "empty, but the supplier responded: give its amount (0 if none)",
                    ));
                }
                pence(cell(i)).map_err(|m| IngestError::invalid(at(i), m))
            };
            let (total, staff, sup) = (money(total_i)?, money(staff_i)?, money(sup_i)?);
            if total == 0 {
                return Err(IngestError::invalid(
                    at(total_i),
                    "a responding supplier's total spend must be above zero (the local shares \
                     are parts of it)",
                ));
            }
            // A local share above 1 is impossible: say which cell takes it over.
            if staff > total {
                return Err(IngestError::invalid(
                    at(staff_i),
                    format!(
                        "local staff spend {} is more than the total spend {} (a local share \
                         above 1)",
                        pounds(staff),
                        pounds(total)
                    ),
                ));
            }
            if staff + sup > total {
                return Err(IngestError::invalid(
                    at(sup_i),
                    format!(
                        "local staff spend {} + local supplier spend {} is more than the total \
                         spend {} (a local share above 1)",
                        pounds(staff),
                        pounds(sup),
                        pounds(total)
                    ),
                ));
            }
            (Some(total), Some(staff), Some(sup))
        } else {
            if let Some(i) = [total_i, staff_i, sup_i]
                .into_iter()
                .find(|i| !cell(*i).is_empty())
            {
                return Err(IngestError::invalid(
                    at(i),
                    format!(
                        "{:?} is given but Responded says the supplier did not respond; leave it \
                         empty or mark the response",
                        cell(i)
                    ),
                ));
            }
            (None, None, None)
        };
        let identity = match &company_number {
            Some(n) => format!("company {n}"),
            None => format!("name {}", name_key(name)),
        };
        let here = at(name_i);
        if let Some(first) = identities.insert(identity, here.clone()) {
            return Err(IngestError::invalid(
                here,
                format!("{name:?} is listed twice (first at {first}): one row per supplier"),
            ));
        }
        into.supplier.push(name.to_owned());
        into.company_number.push(company_number);
        into.round1.push(round1);
        into.responded.push(responded);
        into.total.push(total);
        into.local_staff.push(staff);
        into.local_supplier.push(sup);
        into.source.push(file.to_owned());
        into.line.push(row.line);
        rows += 1;
    }
    Ok(rows)
}

fn read_respend(
    table: &TextTable,
    format: &Lm3Format,
    file: &str,
    into: &mut Respend,
    refs: &mut Vec<SupplierRef>,
) -> Result<u64> {
    let pos = format.positions(&table.headers);
    let need = |f: Lm3Field| {
        pos.get(&f).copied().ok_or_else(|| {
            IngestError::invalid(
                table.location.at_line(1),
                format!("no column for {}", f.column()),
            )
        })
    };
    let (name_i, type_i, income_i, local_i) = (
        need(Lm3Field::Supplier)?,
        need(Lm3Field::RespondentType)?,
        need(Lm3Field::Income)?,
        need(Lm3Field::LocalSpend)?,
    );
    let mut rows = 0u64;
    for row in &table.rows {
        let cell = |i: usize| row.fields.get(i).map(|s| s.trim()).unwrap_or("");
        let at = |i: usize| table.cell(row.line, i);
        let name = cell(name_i);
        if name.is_empty() {
            return Err(IngestError::invalid(at(name_i), "the supplier is empty"));
        }
        let kind = format.respondent_kind(cell(type_i)).ok_or_else(|| {
            let known: Vec<String> = format
                .respondent_types
                .values()
                .flatten()
                .cloned()
                .collect();
            IngestError::invalid(
                at(type_i),
                format!(
                    "{:?} is not a respondent type (expected {})",
                    cell(type_i),
                    known.join(", ")
                ),
            )
        })?;
        let income = pence(cell(income_i)).map_err(|m| IngestError::invalid(at(income_i), m))?;
        let local = pence(cell(local_i)).map_err(|m| IngestError::invalid(at(local_i), m))?;
        if local > income {
            return Err(IngestError::invalid(
                at(local_i),
                format!(
                    "local spend {} is more than the income {} (a local share above 1)",
                    pounds(local),
                    pounds(income)
                ),
            ));
        }
        refs.push(SupplierRef {
            name: name.to_owned(),
            location: at(name_i),
        });
        into.supplier.push(name.to_owned());
        into.respondent_type.push(kind.as_str().to_owned());
        into.income.push(income);
        into.local_spend.push(local);
        into.source.push(file.to_owned());
        into.line.push(row.line);
        rows += 1;
    }
    Ok(rows)
}

fn suppliers_frame(s: Suppliers) -> Result<DataFrame> {
    let height = s.supplier.len();
    Ok(DataFrame::new(
        height,
        vec![
            Column::new(Lm3Field::Supplier.column().into(), s.supplier),
            Column::new(Lm3Field::CompanyNumber.column().into(), s.company_number),
            Column::new(Lm3Field::Round1Spend.column().into(), s.round1),
            Column::new(Lm3Field::Responded.column().into(), s.responded),
            Column::new(Lm3Field::TotalSpend.column().into(), s.total),
            Column::new(Lm3Field::LocalStaffSpend.column().into(), s.local_staff),
            Column::new(
                Lm3Field::LocalSupplierSpend.column().into(),
                s.local_supplier,
            ),
            Column::new("source".into(), s.source),
            Column::new("line".into(), s.line),
        ],
    )?)
}

fn respend_frame(r: Respend) -> Result<DataFrame> {
    let height = r.supplier.len();
    Ok(DataFrame::new(
        height,
        vec![
            Column::new(Lm3Field::Supplier.column().into(), r.supplier),
            Column::new(Lm3Field::RespondentType.column().into(), r.respondent_type),
            Column::new(Lm3Field::Income.column().into(), r.income),
            Column::new(Lm3Field::LocalSpend.column().into(), r.local_spend),
            Column::new("source".into(), r.source),
            Column::new("line".into(), r.line),
        ],
    )?)
}

/// Pounds with up to two decimals (an optional leading `£`, thousands separators only in their
/// places) as integer pence, exactly. Negative amounts are refused: survey returns are spends.
pub fn pence(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty where an amount in pounds is expected".into());
    }
    let unsigned = t.strip_prefix('£').unwrap_or(t).trim_start();
    if unsigned.starts_with('-') || unsigned.starts_with('(') {
        return Err(format!(
            "{t:?} is negative: survey amounts are spends, 0 or more"
        ));
    }
    let unsigned = unsigned.strip_prefix('+').unwrap_or(unsigned);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let not_money = || format!("{t:?} is not an amount in pounds (e.g. 1,234.50)");
    if frac.len() > 2 {
        return Err(format!(
            "{t:?} has more than two decimals: amounts are pounds and pence"
        ));
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (int.is_empty() && frac.is_empty()) {
        return Err(not_money());
    }
    let digits: String = if int.contains(',') {
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or("");
        let ok = (1..=3).contains(&first.len())
            && first.bytes().all(|b| b.is_ascii_digit())
            && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(format!("{t:?} has a misplaced thousands separator"));
        }
        int.replace(',', "")
    } else {
        int.to_owned()
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_money());
    }
    let pounds: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| not_money())?
    };
    let pennies: i64 = format!("{frac:0<2}").parse().map_err(|_| not_money())?;
    pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pennies))
        .ok_or_else(|| format!("{t:?} is too large"))
}

/// Pence as pounds for messages (`£1,234.50`).
fn pounds(pence: i64) -> String {
    let whole = (pence / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("£{grouped}.{:02}", pence % 100)
}

/// Names compared ignoring case and runs of spaces.
fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `lm3-<slug>` from a file name: its stem in lower case, words joined by `-`, without the
/// words that only say what the file is (`lm3`, `survey`, `returns`, `supplier(s)`).
fn default_dataset(path: &Path) -> String {
    let name = display_name(path);
    let stem = name.split('.').next().unwrap_or(&name).to_lowercase();
    let filler = [
        "lm3",
        "survey",
        "surveys",
        "returns",
        "return",
        "supplier",
        "suppliers",
    ];
    let words: Vec<&str> = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !filler.contains(w))
        .collect();
    if words.is_empty() {
        "lm3-survey".to_owned()
    } else {
        format!("{DATASET_PREFIX}{}", words.join("-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_become_pence_exactly() {
        for (text, want) in [
            ("0", 0),
            ("12", 1_200),
            ("12.5", 1_250),
            ("12.05", 1_205),
            ("£1,234.56", 123_456),
            ("1,000,000.00", 100_000_000),
            (".99", 99),
            (" 7.10 ", 710),
            // 0.1 + 0.2 style values are exact here: no float is involved.
            ("0.29", 29),
        ] {
            assert_eq!(pence(text), Ok(want), "{text}");
        }
        for bad in [
            "", "-1", "£-3.00", "(5.00)", "1.234", "1,23", "12a", "1.2.3", "£", ".",
        ] {
            assert!(pence(bad).is_err(), "{bad:?}");
        }
        assert_eq!(pounds(123_456_789), "£1,234,567.89");
        assert_eq!(pounds(5), "£0.05");
    }

    #[test]
    fn dataset_ids_from_file_names() {
        assert_eq!(
            default_dataset(Path::new("spend/renewal_vale_lm3_survey.csv")),
            "lm3-renewal-vale"
        );
        assert_eq!(
            default_dataset(Path::new("LM3 Supplier Returns.csv")),
            "lm3-survey"
        );
        assert_eq!(
            default_dataset(Path::new("Salford 2023-24.csv")),
            "lm3-salford-2023-24"
        );
    }
}
