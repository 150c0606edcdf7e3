//! Reading the spend tables (issue 16 table contract): payments of a period, the supplier
//! register, the postcode directory rows the register needs, IMD ranks and ward lookups.
//! Every value a caller gives is bound as a SQL parameter, never pasted into the statement.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use renewal_warehouse::{Manifest, Warehouse};

use crate::tables::{float_column, register, string_column};
use crate::{QueryError, Result};

use super::Period;

/// One payment as the question needs it.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub body_area: Option<String>,
    pub net_pence: i64,
    pub supplier_name: String,
    pub supplier_key: String,
    pub company_number: Option<String>,
    pub charity_number: Option<String>,
    pub service_area: Option<String>,
    pub expense_type: Option<String>,
    /// `organisation`, `redacted` or `unclassified`.
    pub payee: String,
}

/// One supplier identity of the register.
#[derive(Debug, Clone)]
pub(crate) struct Supplier {
    pub supplier_name: String,
    pub supplier_key: String,
    pub company_number: Option<String>,
    pub charity_number: Option<String>,
    pub postcode: Option<String>,
    pub sme: Option<bool>,
}

/// A postcode of the directory: its district and its LSOA in the vintage asked for.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub lad_code: Option<String>,
    pub lsoa: Option<String>,
    pub terminated: bool,
}

fn i64_column(batch: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>> {
    let col = arrow::compute::cast(batch.column(i), &DataType::Int64)?;
    let col = col.as_primitive::<Int64Type>();
    Ok((0..col.len())
        .map(|r| col.is_valid(r).then(|| col.value(r)))
        .collect())
}

/// The first `n` columns of `batch` as text, row by row.
fn records(batch: &RecordBatch, n: usize) -> Result<Vec<Vec<Option<String>>>> {
    let columns = (0..n)
        .map(|i| string_column(batch, i))
        .collect::<Result<Vec<_>>>()?;
    Ok((0..batch.num_rows())
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect())
}

/// The payments of `period`, in file order (source, line), so "first seen" is reproducible.
pub(crate) async fn payments(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    manifest: &Manifest,
    period: &Period,
) -> Result<Vec<Payment>> {
    register(ctx, warehouse, manifest, "payments", "payments").await?;
    let select = "SELECT body_area, net_pence, supplier_name, supplier_key, \
                  company_number, charity_number, service_area, expense_type, payee, source, line \
                  FROM payments";
    let (sql, params) = match period {
        Period::FinancialYear(fy) => (
            format!("{select} WHERE financial_year = $1 ORDER BY source, line"),
            vec![ScalarValue::Utf8(Some(fy.clone()))],
        ),
        Period::Dates { from, to } => (
            format!(
                "{select} WHERE payment_date >= CAST($1 AS DATE) AND payment_date <= CAST($2 AS DATE) \
                 ORDER BY source, line"
            ),
            vec![
                ScalarValue::Utf8(Some(from.clone())),
                ScalarValue::Utf8(Some(to.clone())),
            ],
        ),
    };
    let batches = ctx
        .sql(&sql)
        .await?
        .with_param_values(params)?
        .collect()
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let text = records(b, 11)?;
        let net = i64_column(b, 1)?;
        for (row, net) in text.iter().zip(net) {
            let cell = |c: usize| row[c].clone();
            let place = || {
                format!(
                    "{} line {}",
                    cell(9).unwrap_or_default(),
                    cell(10).unwrap_or_default()
                )
            };
            let net_pence = net.ok_or_else(|| {
                QueryError::Precondition(format!(
                    "{} v{}: payment at {} has no net_pence",
                    manifest.dataset,
                    manifest.version,
                    place()
                ))
            })?;
            out.push(Payment {
                // The column, else the dataset's own attribute (contract: both may carry it).
                body_area: cell(0).or_else(|| manifest.attributes.get("body_area").cloned()),
                net_pence,
                supplier_name: cell(2).unwrap_or_default(),
                supplier_key: cell(3).unwrap_or_default(),
                company_number: cell(4),
                charity_number: cell(5),
                service_area: cell(6),
                expense_type: cell(7),
                payee: cell(8).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// The register's supplier identities in file order.
pub(crate) async fn suppliers(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    manifest: &Manifest,
) -> Result<Vec<Supplier>> {
    register(ctx, warehouse, manifest, "suppliers", "suppliers").await?;
    let batches = ctx
        .sql(
            "SELECT supplier_name, supplier_key, company_number, charity_number, postcode, \
             CAST(sme AS VARCHAR) FROM suppliers ORDER BY source, line",
        )
        .await?
        .collect()
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        for row in records(b, 6)? {
            let cell = |c: usize| row[c].clone();
            out.push(Supplier {
                supplier_name: cell(0).unwrap_or_default(),
                supplier_key: cell(1).unwrap_or_default(),
                company_number: cell(2),
                charity_number: cell(3),
                postcode: cell(4),
                sme: cell(5).map(|s| s == "true"),
            });
        }
    }
    Ok(out)
}

/// The directory rows of `wanted` postcodes (joined in DataFusion, so a full directory of
/// millions of rows is scanned, never loaded). `lsoa_column` is `lsoa11` or `lsoa21`, chosen
/// from a manifest vintage, never from a caller's text.
pub(crate) async fn places(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    manifest: &Manifest,
    wanted: &HashSet<String>,
    lsoa_column: Option<&str>,
) -> Result<HashMap<String, Place>> {
    register(ctx, warehouse, manifest, "postcodes", "postcodes").await?;
    let schema = Arc::new(Schema::new(vec![Field::new(
        "postcode",
        DataType::Utf8,
        false,
    )]));
    let mut list: Vec<&str> = wanted.iter().map(String::as_str).collect();
    list.sort_unstable();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from_iter_values(list))],
    )?;
    ctx.register_table(
        "wanted",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    let lsoa = match lsoa_column {
        Some(c) if c.bytes().all(|b| b.is_ascii_alphanumeric()) => format!("p.{c}"),
        Some(c) => {
            return Err(QueryError::Precondition(format!(
                "LSOA vintage {c:?} is not a directory column"
            )));
        }
        None => "CAST(NULL AS VARCHAR)".into(),
    };
    let sql = format!(
        "SELECT p.postcode, p.lad_code, {lsoa}, CAST(p.is_terminated AS VARCHAR) FROM postcodes p \
         JOIN wanted w ON p.postcode = w.postcode ORDER BY p.source, p.line"
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut out = HashMap::new();
    for b in &batches {
        for mut row in records(b, 4)? {
            let Some(postcode) = row[0].take() else {
                continue;
            };
            out.entry(postcode).or_insert_with(|| Place {
                lad_code: row[1].take(),
                lsoa: row[2].take(),
                terminated: row[3].as_deref() == Some("true"),
            });
        }
    }
    Ok(out)
}

/// IMD national rank and district of every LSOA of an IoD dataset version, with the
/// national decile (published, or `ceil(10·rank/N)` where only the rank is).
pub(crate) struct Imd {
    /// LSOA → (national rank, national decile, district in the edition's geography).
    pub lsoas: HashMap<String, (f64, u8, Option<String>)>,
}

pub(crate) async fn imd(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    iod: &Manifest,
) -> Result<Imd> {
    register(ctx, warehouse, iod, "iod", "iod").await?;
    register(ctx, warehouse, iod, "lsoa", "iod_lsoa").await?;
    let national: f64 = iod
        .attributes
        .get("national_lsoa_count")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            QueryError::Precondition(format!("{} has no national_lsoa_count", iod.dataset))
        })?;
    let batches = ctx
        .sql(
            "WITH v AS (SELECT lsoa_code, \
                MAX(CASE WHEN measure = 'rank' THEN value END) AS rnk, \
                MAX(CASE WHEN measure = 'decile' THEN value END) AS decile \
              FROM iod WHERE domain = 'imd' GROUP BY lsoa_code) \
             SELECT CAST(v.lsoa_code AS VARCHAR), v.rnk, v.decile, CAST(l.lad_code AS VARCHAR) \
             FROM v LEFT JOIN iod_lsoa l ON l.lsoa_code = v.lsoa_code",
        )
        .await?
        .collect()
        .await?;
    let mut lsoas = HashMap::new();
    for b in &batches {
        let codes = string_column(b, 0)?;
        let ranks = float_column(b, 1)?;
        let deciles = float_column(b, 2)?;
        let lads = string_column(b, 3)?;
        for r in 0..b.num_rows() {
            let (Some(code), Some(rank)) = (codes[r].clone(), ranks[r]) else {
                continue;
            };
            let decile = match deciles[r] {
                Some(d) => d,
                None => (10.0 * rank / national).ceil(),
            };
            lsoas.insert(code, (rank, decile.clamp(1.0, 10.0) as u8, lads[r].clone()));
        }
    }
    if lsoas.is_empty() {
        return Err(QueryError::Precondition(format!(
            "{} v{} has no IMD ranks",
            iod.dataset, iod.version
        )));
    }
    Ok(Imd { lsoas })
}
