//! Councils' "spend over £500" files into `spend-<slug>` (tables `payments`, `duplicates`), and
//! contract registers and supplier lists into `suppliers-<slug>` (table `suppliers`), as the
//! issue 16 table contract defines them.
//!
//! Layouts are recognised by header through `data-schemas/datasets/spend/` and `…/suppliers/`.
//! Money is kept in whole pence (`Int64`), parsed from the published text without floating
//! point, so totals equal an independent sum of the raw files exactly; refunds stay negative.
//! Every row ends with its `source` file and physical `line`.

pub mod normal;
mod suppliers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use polars::prelude::*;
use renewal_geo::{Level, validate_code};
use renewal_schema::Catalog;
use renewal_schema::spend::{DateStyle, PayeeRules, SpendFormat, find_header};
use renewal_warehouse::{Draft, DraftTable, SchemaRef};

use crate::error::{IngestError, Location, Result};
use crate::frame::{text_column, to_parquet};
use crate::number::parse_pence;
use crate::progress::Progress;
use crate::source::{Shape, SourceBytes, TextTable, read_tables_with_shape};

pub use normal::{Number, Payee, classify, company_number, postcode, supplier_key};
pub use suppliers::{SUPPLIERS_PREFIX, SupplierOptions, read_suppliers};

/// What `renewal ingest spend` was asked for besides its files.
#[derive(Debug, Clone, Default)]
pub struct SpendOptions {
    /// Dataset id (`spend-…`; a bare slug gets the prefix). Default: `spend-` and the body
    /// as published, slugged (`Salford City Council` → `spend-salford-city-council`).
    pub dataset: Option<String>,
    /// The paying body's district code, overriding the format's.
    pub body_area: Option<String>,
}

/// The prefix of spend dataset ids.
pub const SPEND_PREFIX: &str = "spend-";

/// Byte-order marks that arrive as text: a UTF-8 BOM decoded once as Latin-1 (`ï»¿`, as in
/// Manchester's file) or twice (`Ã¯Â»Â¿` / `Ã¯»¿`, as in Salford 2020-06). A real BOM is
/// removed when the file is decoded.
const TEXT_BOMS: [&str; 4] = ["\u{feff}", "ï»¿", "Ã¯Â»Â¿", "Ã¯»¿"];

/// The headers of `table` with any BOM, real or mis-decoded, taken off the first one.
pub(crate) fn clean_headers(table: &TextTable) -> Vec<String> {
    let mut headers = table.headers.clone();
    if let Some(first) = headers.first_mut() {
        let mut h = first.as_str();
        while let Some(rest) = TEXT_BOMS.iter().find_map(|b| h.strip_prefix(b)) {
            h = rest;
        }
        *first = h.trim().to_owned();
    }
    headers
}

/// `prefix` + a slug of `text`: lower case, runs of anything not alphanumeric as one `-`.
pub(crate) fn dataset_id(prefix: &str, given: Option<&str>, body: &str) -> String {
    if let Some(id) = given {
        return if id.starts_with(prefix) {
            id.to_owned()
        } else {
            format!("{prefix}{id}")
        };
    }
    let mut slug = String::new();
    for c in body.to_lowercase().chars() {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    format!("{prefix}{}", slug.trim_end_matches('-'))
}

/// Money for notes: `£1,234.56`, `-£25.00`.
pub(crate) fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    let whole = (p / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{:02}", p % 100)
}

/// The payee word lists, which every spend and supplier dataset depends on.
pub(crate) fn payee_rules(catalog: &Catalog) -> Result<(SchemaRef, &PayeeRules)> {
    let (file, rules) = catalog.spend.payees.as_ref().ok_or_else(|| {
        IngestError::Usage(
            "data-schemas defines no datasets/spend/payees.toml (payee word lists)".into(),
        )
    })?;
    Ok((
        SchemaRef {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
        },
        rules,
    ))
}

/// Reads every source, in file-name order (then by content hash), so which of two identical
/// payments is "the earlier file's" does not depend on the order arguments were given.
pub(crate) fn read_sources(files: &[PathBuf]) -> Result<Vec<SourceBytes>> {
    if files.is_empty() {
        return Err(IngestError::Usage("no input files given".into()));
    }
    let mut sources = files
        .iter()
        .map(|p| SourceBytes::read(p))
        .collect::<Result<Vec<_>>>()?;
    sources.sort_by(|a, b| (&a.name, &a.sha256).cmp(&(&b.name, &b.sha256)));
    Ok(sources)
}

/// What makes two payments of one body the same payment: reference, date (epoch days), net
/// pence and supplier key.
type DuplicateKey = (Option<String>, i32, i64, String);

/// One payment as stored.
struct Payment {
    body: String,
    date: i32,
    financial_year: String,
    reference: Option<String>,
    net_pence: i64,
    supplier_name: String,
    supplier_key: String,
    company_number: Option<String>,
    charity_number: Option<String>,
    service_area: Option<String>,
    expense_type: Option<String>,
    payee: Payee,
    source: usize,
    line: u64,
}

/// The day count since 1970-01-01 of a date, for Arrow's Date32.
fn epoch_days(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    // Dates come from four-digit years, so the difference always fits.
    (date - epoch).num_days() as i32
}

/// The April-to-March financial year of a date: `2019-20`.
pub fn financial_year(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let start = if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{start}-{:02}", (start + 1).rem_euclid(100))
}

/// Parses a date in the format's style; anything else (including a real date in the other
/// style) is an error.
fn parse_date(text: &str, style: DateStyle) -> std::result::Result<chrono::NaiveDate, String> {
    let t = text.trim();
    let (pattern, shape, example) = match style {
        DateStyle::Iso => ("%Y-%m-%d", "YYYY-MM-DD", "2019-04-01"),
        DateStyle::Uk => ("%d/%m/%Y", "DD/MM/YYYY", "10/10/2017"),
    };
    // chrono accepts unpadded fields and signs; published dates are fixed width, so check
    // the shape too and a typo never turns into another date.
    let fixed = t.len() == shape.len()
        && t.bytes().zip(shape.bytes()).all(|(c, s)| {
            if s.is_ascii_alphabetic() {
                c.is_ascii_digit()
            } else {
                c == s
            }
        });
    match chrono::NaiveDate::parse_from_str(t, pattern) {
        Ok(d) if fixed => Ok(d),
        _ => Err(format!("{t:?} is not a date like {example} ({shape})")),
    }
}

/// Of `formats` (schema file, format, its score for these headers), the one matching the most
/// declared fields; a tie at the top is an error naming the tied formats.
fn best_format<'c, F: HasId>(
    table: &TextTable,
    formats: impl Iterator<Item = (Option<usize>, &'c renewal_schema::SchemaFile, &'c F)>,
) -> Result<Option<(&'c renewal_schema::SchemaFile, &'c F)>> {
    let mut scored: Vec<(usize, &renewal_schema::SchemaFile, &F)> = formats
        .filter_map(|(score, file, f)| score.map(|s| (s, file, f)))
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scored.as_slice() {
        [] => Ok(None),
        [(a, ..), (b, ..), ..] if a == b => Err(crate::source::ambiguous_formats(
            table,
            scored.iter().filter(|s| s.0 == *a).map(|s| s.2.id()),
        )),
        [(_, file, format), ..] => Ok(Some((file, format))),
    }
}

/// A spend or supplier format's id, for the tie and "not a known layout" messages.
pub(super) trait HasId {
    fn id(&self) -> &str;
}

impl HasId for SpendFormat {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for renewal_schema::spend::SupplierFormat {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The first table of `source` that one of `formats` reads, with its cleaned headers and the
/// best format for it ([`best_format`]); otherwise an error at line 1 saying what the file is
/// not (`what`), its header, and the known formats under `dir` of data-schemas.
pub(super) fn first_known<'t, 'c, F: HasId>(
    source_name: &str,
    tables: &'t [TextTable],
    formats: &'c [(renewal_schema::SchemaFile, F)],
    score: impl Fn(&F, &[String]) -> Option<usize>,
    what: &str,
    dir: &str,
) -> Result<(
    &'t TextTable,
    Vec<String>,
    (&'c renewal_schema::SchemaFile, &'c F),
)> {
    for table in tables {
        let headers = clean_headers(table);
        let candidates = formats
            .iter()
            .map(|(file, f)| (score(f, &headers), file, f));
        if let Some(found) = best_format(table, candidates)? {
            return Ok((table, headers, found));
        }
    }
    let known: Vec<&str> = formats.iter().map(|(_, f)| f.id()).collect();
    Err(IngestError::invalid(
        Location::file(source_name).at_line(1),
        format!(
            "not a known {what} (header {:?}); known: {} in data-schemas/datasets/{dir}/",
            tables.first().map(clean_headers).unwrap_or_default(),
            known.join(", ")
        ),
    ))
}

/// Reads spend-over-£500 files of one paying body into dataset `spend-<slug>`.
///
/// Every file must be in a known layout (`data-schemas/datasets/spend/`) and name the same
/// body; a bad date or amount is an error naming file, line and column, and nothing is
/// returned. A payment equal in (body, reference, date, net pence, supplier key) to one of an
/// earlier file (file-name order) goes to table `duplicates`, not `payments`; equal payments
/// inside one file are all kept, since councils do pay the same amount twice.
pub fn read_spend(
    catalog: &Catalog,
    files: &[PathBuf],
    options: &SpendOptions,
    progress: &dyn Progress,
) -> Result<Draft> {
    let (payee_schema, rules) = payee_rules(catalog)?;
    if let Some(area) = &options.body_area {
        validate_code(Level::Lad, area).map_err(|e| {
            IngestError::Usage(format!("--body-area {area:?} is not a district code: {e}"))
        })?;
    }
    let sources = read_sources(files)?;
    let mut payments: Vec<Payment> = Vec::new();
    // Payments that repeat an earlier file's, with the (source, line) they repeat.
    let mut duplicates: Vec<(Payment, usize, u64)> = Vec::new();
    let mut earlier: HashMap<DuplicateKey, (usize, u64)> = HashMap::new();
    let mut schemas: BTreeMap<String, SchemaRef> = BTreeMap::new();
    let mut provenance = Vec::new();
    let mut notes = Vec::new();
    let mut body: Option<(String, String)> = None; // (body, file that first named it)
    // Districts the formats read know for their bodies.
    let mut body_areas: BTreeMap<String, String> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut unparseable: BTreeMap<String, u64> = BTreeMap::new();
    let mut no_name = 0u64;
    for (index, source) in sources.into_iter().enumerate() {
        progress.start_file(&source.name, source.bytes.len() as u64);
        let tables = read_tables_with_shape(&source, Shape::TrailingEmpty, progress)?;
        let (table, headers, (schema_file, format)) = first_known(
            &source.name,
            &tables,
            &catalog.spend.spend,
            SpendFormat::score,
            "spend layout",
            "spend",
        )?;
        schemas.insert(
            schema_file.path.clone(),
            SchemaRef {
                path: schema_file.path.clone(),
                sha256: schema_file.sha256.clone(),
            },
        );
        body_areas.extend(
            format
                .body_areas
                .iter()
                .map(|(b, a)| (b.clone(), a.clone())),
        );
        let col = |names: Option<&Vec<String>>| names.and_then(|n| find_header(&headers, n));
        let c = &format.columns;
        let at = |line: u64, i: usize| table.location.at_line(line).at_column(i + 1, &headers[i]);
        let (Some(date_col), Some(name_col)) = (col(Some(&c.date)), col(Some(&c.supplier_name)))
        else {
            return Err(IngestError::Usage(format!(
                "{}: format {} matched without its date or supplier column",
                source.name, format.id
            )));
        };
        let body_col = col(c.body.as_ref());
        let net_col = col(c.net.as_ref());
        let gross_cols = c
            .gross_less_vat
            .as_ref()
            .and_then(|g| col(Some(&g.gross)).zip(col(Some(&g.vat))));
        let (ref_col, cn_col, ch_col, sa_col, et_col) = (
            col(c.reference.as_ref()),
            col(c.company_number.as_ref()),
            col(c.charity_number.as_ref()),
            col(c.service_area.as_ref()),
            col(c.expense_type.as_ref()),
        );
        let optional = |row: &crate::source::TextRow, i: Option<usize>| {
            i.map(|i| row.fields[i].clone()).filter(|v| !v.is_empty())
        };
        let mut this_file: Vec<(DuplicateKey, u64)> = Vec::new();
        let mut file_total = 0i64;
        let mut file_duplicates = 0u64;
        for row in &table.rows {
            let row_body = match (body_col, &format.body) {
                (Some(i), _) => {
                    let b = row.fields[i].clone();
                    if b.is_empty() {
                        // Salford leaves it empty on a few of its largest payments; one
                        // ingest is one body, so the cell can only mean that body.
                    }
                    b
                }
                (None, Some(b)) => b.clone(),
                (None, None) => {
                    return Err(IngestError::Usage(format!(
                        "format {} names no body",
                        format.id
                    )));
                }
            };
            match &body {
                _ if row_body.is_empty() => {}
                None => body = Some((row_body.clone(), source.name.clone())),
                Some((b, first)) if *b != row_body => {
                    let location = match body_col {
                        Some(i) => at(row.line, i),
                        None => table.location.at_line(row.line),
                    };
                    return Err(IngestError::invalid(
                        location,
                        format!(
                            "paid by {row_body:?}, but {first} is paid by {b:?}: one ingest is one body (ingest each body separately)"
                        ),
                    ));
                }
                Some(_) => {}
            }
            let date = parse_date(&row.fields[date_col], format.date_style)
                .map_err(|m| IngestError::invalid(at(row.line, date_col), m))?;
            let pence = |i: usize| {
                parse_pence(&row.fields[i]).map_err(|m| IngestError::invalid(at(row.line, i), m))
            };
            let net_pence = match (net_col, gross_cols) {
                (Some(i), _) => pence(i)?,
                (None, Some((g, v))) => pence(g)?.checked_sub(pence(v)?).ok_or_else(|| {
                    IngestError::invalid(at(row.line, g), "gross less VAT overflows")
                })?,
                (None, None) => {
                    return Err(IngestError::Usage(format!(
                        "{}: format {} matched without its amount column",
                        source.name, format.id
                    )));
                }
            };
            let supplier_name = row.fields[name_col].clone();
            if supplier_name.is_empty() {
                no_name += 1;
            }
            let mut number = |i: Option<usize>, parse: fn(&str) -> Number, what: &str| {
                let text = i.map_or("", |i| row.fields[i].as_str());
                match parse(text) {
                    Number::Given(n) => Some(n),
                    Number::Absent => None,
                    Number::Unparseable => {
                        *unparseable.entry(format!("{what} {text:?}")).or_default() += 1;
                        None
                    }
                }
            };
            let company = number(cn_col, company_number, "company number");
            let charity = number(ch_col, normal::charity_number, "charity number");
            let key = supplier_key(&supplier_name, rules);
            let payee = classify(
                &supplier_name,
                company.is_some() || charity.is_some(),
                rules,
            );
            let payment = Payment {
                body: row_body,
                date: epoch_days(date),
                financial_year: financial_year(date),
                reference: optional(row, ref_col),
                net_pence,
                supplier_name,
                supplier_key: key,
                company_number: company,
                charity_number: charity,
                service_area: optional(row, sa_col),
                expense_type: optional(row, et_col),
                payee,
                source: index,
                line: row.line,
            };
            let dup_key = (
                payment.reference.clone(),
                payment.date,
                payment.net_pence,
                payment.supplier_key.clone(),
            );
            if let Some(&(of_source, of_line)) = earlier.get(&dup_key) {
                file_duplicates += 1;
                duplicates.push((payment, of_source, of_line));
            } else {
                file_total += payment.net_pence;
                this_file.push((dup_key, row.line));
                payments.push(payment);
            }
        }
        // Only after the whole file: rows inside one file never duplicate each other.
        for (key, line) in this_file {
            earlier.entry(key).or_insert((index, line));
        }
        let rows = table.rows.len() as u64;
        notes.push(format!(
            "{}: {rows} payments ({}) read with {}{}",
            source.name,
            pounds(file_total),
            format.id,
            if file_duplicates > 0 {
                format!("; {file_duplicates} repeat an earlier file's and are in duplicates")
            } else {
                String::new()
            }
        ));
        progress.finish_file(&source.name, rows);
        names.push(source.name.clone());
        provenance.push(source.provenance(&format.id, rows));
    }
    let Some((body, _)) = body else {
        return Err(IngestError::invalid(
            Location::file(names.first().map_or("input", String::as_str)),
            "no payments were read",
        ));
    };
    let mut filled = 0u64;
    for p in payments
        .iter_mut()
        .chain(duplicates.iter_mut().map(|(p, ..)| p))
    {
        if p.body.is_empty() {
            p.body.clone_from(&body);
            filled += 1;
        }
    }
    if filled > 0 {
        notes.push(format!(
            "{filled} payments leave the paying body empty: taken as {body:?}, the body of every other payment"
        ));
    }
    let body_area = options
        .body_area
        .clone()
        .or_else(|| body_areas.get(&body).cloned());

    // Notes: what a reader of the totals needs to know.
    let refunds: Vec<i64> = payments
        .iter()
        .map(|p| p.net_pence)
        .filter(|p| *p < 0)
        .collect();
    notes.push(format!(
        "{} refunds (negative payments) kept negative, totalling {}",
        refunds.len(),
        pounds(refunds.iter().sum())
    ));
    let dup_total: i64 = duplicates.iter().map(|(p, ..)| p.net_pence).sum();
    notes.push(format!(
        "{} payments repeat one of an earlier file (same reference, date, amount and supplier): in table duplicates, {}, not counted in payments",
        duplicates.len(),
        pounds(dup_total)
    ));
    let mut classes: BTreeMap<Payee, (u64, i64)> = BTreeMap::new();
    for p in &payments {
        let e = classes.entry(p.payee).or_default();
        e.0 += 1;
        e.1 += p.net_pence;
    }
    let classes: Vec<String> = classes
        .iter()
        .map(|(c, (n, t))| format!("{} {n} ({})", c.as_str(), pounds(*t)))
        .collect();
    notes.push(format!("payees: {}", classes.join(", ")));
    if no_name > 0 {
        notes.push(format!(
            "{no_name} payments give no supplier name: kept, unclassified"
        ));
    }
    if !unparseable.is_empty() {
        let n: u64 = unparseable.values().sum();
        let shown: Vec<String> = unparseable
            .iter()
            .take(5)
            .map(|(t, n)| format!("{t} ×{n}"))
            .collect();
        notes.push(format!(
            "{n} company or charity numbers are not numbers and are stored as null: {}{}",
            shown.join(", "),
            if unparseable.len() > 5 { ", …" } else { "" }
        ));
    }
    if body_area.is_none() {
        notes.push("the paying body's district is unknown (give --body-area CODE)".into());
    }

    progress.stage("writing Parquet");
    let years: BTreeSet<&str> = payments.iter().map(|p| p.financial_year.as_str()).collect();
    let periods = match (years.first(), years.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => String::new(),
    };
    let area = body_area.as_deref();
    let mut payments_df = payments_frame(payments.iter(), &names, area, None)?;
    let mut duplicates_df = payments_frame(
        duplicates.iter().map(|(p, ..)| p),
        &names,
        area,
        Some(&duplicates),
    )?;
    let mut attributes = BTreeMap::from([("body".to_owned(), body.clone())]);
    if let Some(a) = &body_area {
        attributes.insert("body_area".to_owned(), a.clone());
    }
    let mut schemas: Vec<SchemaRef> = schemas.into_values().collect();
    schemas.push(payee_schema);
    Ok(Draft {
        dataset: dataset_id(SPEND_PREFIX, options.dataset.as_deref(), &body),
        kind: "spend".into(),
        vintage: BTreeMap::from([
            ("period_type".to_owned(), "financial_year".to_owned()),
            ("periods".to_owned(), periods),
        ]),
        attributes,
        sources: provenance,
        schemas,
        tables: vec![
            DraftTable {
                name: "payments".into(),
                parquet: to_parquet(&mut payments_df)?,
            },
            DraftTable {
                name: "duplicates".into(),
                parquet: to_parquet(&mut duplicates_df)?,
            },
        ],
        notes,
    })
}

/// The `payments` columns of the contract (plus `duplicate_of_*` for `duplicates`).
fn payments_frame<'a>(
    rows: impl Iterator<Item = &'a Payment> + Clone,
    names: &[String],
    body_area: Option<&str>,
    duplicate_of: Option<&[(Payment, usize, u64)]>,
) -> Result<DataFrame> {
    let text = |f: fn(&Payment) -> &str| rows.clone().map(f).collect::<Vec<&str>>();
    let opt = |f: fn(&Payment) -> Option<String>| rows.clone().map(f).collect::<Vec<_>>();
    let dates: Vec<i32> = rows.clone().map(|p| p.date).collect();
    let mut columns = vec![
        Column::new("body".into(), text(|p| &p.body)),
        text_column("body_area", vec![body_area.map(str::to_owned); dates.len()]),
        Column::new("payment_date".into(), dates).cast(&DataType::Date)?,
        Column::new("financial_year".into(), text(|p| &p.financial_year)),
        text_column("reference", opt(|p| p.reference.clone())),
        Column::new(
            "net_pence".into(),
            rows.clone().map(|p| p.net_pence).collect::<Vec<i64>>(),
        ),
        Column::new("supplier_name".into(), text(|p| &p.supplier_name)),
        Column::new("supplier_key".into(), text(|p| &p.supplier_key)),
        text_column("company_number", opt(|p| p.company_number.clone())),
        text_column("charity_number", opt(|p| p.charity_number.clone())),
        text_column("service_area", opt(|p| p.service_area.clone())),
        text_column("expense_type", opt(|p| p.expense_type.clone())),
        Column::new("payee".into(), text(|p| p.payee.as_str())),
        Column::new(
            "source".into(),
            rows.clone()
                .map(|p| names[p.source].as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            "line".into(),
            rows.clone().map(|p| p.line).collect::<Vec<u64>>(),
        ),
    ];
    if let Some(d) = duplicate_of {
        columns.push(Column::new(
            "duplicate_of_source".into(),
            d.iter()
                .map(|(_, s, _)| names[*s].as_str())
                .collect::<Vec<&str>>(),
        ));
        columns.push(Column::new(
            "duplicate_of_line".into(),
            d.iter().map(|(_, _, l)| *l).collect::<Vec<u64>>(),
        ));
    }
    let height = columns[0].len();
    Ok(DataFrame::new(height, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_years_run_april_to_march() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(financial_year(d(2019, 4, 1)), "2019-20");
        assert_eq!(financial_year(d(2020, 3, 31)), "2019-20");
        assert_eq!(financial_year(d(1999, 12, 1)), "1999-00");
    }

    #[test]
    fn dates_in_each_style_and_nothing_else() {
        assert_eq!(
            parse_date("10/10/2017", DateStyle::Uk).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2017, 10, 10).unwrap()
        );
        assert!(parse_date("2017-10-10", DateStyle::Uk).is_err());
        assert!(parse_date("10/10/2017", DateStyle::Iso).is_err());
        assert!(parse_date("2019-02-30", DateStyle::Iso).is_err());
        assert!(parse_date("2019-4-1", DateStyle::Iso).is_err());
        assert!(parse_date("1/10/2017", DateStyle::Uk).is_err());
    }

    #[test]
    fn slugs_and_money() {
        assert_eq!(
            dataset_id(SPEND_PREFIX, None, "Salford City Council"),
            "spend-salford-city-council"
        );
        assert_eq!(
            dataset_id(SPEND_PREFIX, None, "The Borough of Calderdale "),
            "spend-the-borough-of-calderdale"
        );
        assert_eq!(dataset_id(SPEND_PREFIX, Some("gm"), "x"), "spend-gm");
        assert_eq!(dataset_id(SPEND_PREFIX, Some("spend-gm"), "x"), "spend-gm");
        assert_eq!(pounds(-250000), "-£2,500.00");
        assert_eq!(pounds(123456789), "£1,234,567.89");
        assert_eq!(pounds(5), "£0.05");
    }
}
