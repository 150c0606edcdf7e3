//! The LM3 question: the Local Multiplier 3 of an `lm3-survey` dataset (see
//! `renewal_stats::lm3` for the method). The survey tables are read with DataFusion, the
//! arithmetic is `renewal_stats::lm3::lm3`'s (exact rationals), and the answer has one row per
//! part of each round, a row per round and the total row whose `share_of_round1` is LM3.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use renewal_stats::lm3::{
    Exact, Lm3 as Lm3Result, Proxies, ProxyKind, ProxyOrigin, RespendReturn, Respondent, Response,
    SupplierReturn,
};
use renewal_warehouse::Warehouse;
use serde::Serialize;

use crate::answer::{Kind, to_batches};

use crate::tables::{DatasetPins, register, resolve, session, string_column};
use crate::{Answer, Basis, QueryError, Result};
/// The proxies and exact shares callers build (re-exported so callers need not depend on
/// renewal-stats).
pub use renewal_stats::lm3::{Exact as Share, Proxies as Lm3Proxies};

/// The manifest kind the question reads.
pub const LM3_KIND: &str = "lm3-survey";

/// The answer's columns, in order (the CSV contract).
pub const LM3_COLUMNS: [&str; 9] = [
    "round",
    "part",
    "pence",
    "share_of_round1",
    "responses",
    "surveyed",
    "response_rate_by_count",
    "response_rate_by_spend",
    "basis",
];

const KINDS: [Kind; 9] = [
    Kind::Text,
    Kind::Text,
    Kind::Integer,
    Kind::Number,
    Kind::Integer,
    Kind::Integer,
    Kind::Number,
    Kind::Number,
    Kind::Text,
];

#[derive(Serialize)]
struct Row {
    round: &'static str,
    part: &'static str,
    pence: i64,
    share_of_round1: f64,
    responses: Option<i64>,
    surveyed: Option<i64>,
    response_rate_by_count: Option<f64>,
    response_rate_by_spend: Option<f64>,
    basis: String,
}

/// LM3 of one survey dataset (at its pinned version, or the current one), with the caller's
/// proxies for rounds without responses.
pub async fn lm3(
    warehouse: &Warehouse,
    dataset: &str,
    pins: &DatasetPins,
    proxies: &Proxies,
) -> Result<Answer> {
    let manifest = resolve(warehouse, dataset, pins).await?;
    if manifest.kind != LM3_KIND {
        return Err(QueryError::InvalidArgument(format!(
            "dataset {dataset} is a {} dataset, not an LM3 survey ({LM3_KIND}; `renewal ingest \
             lm3-survey`)",
            manifest.kind
        )));
    }
    let ctx = session();
    register(&ctx, warehouse, &manifest, "suppliers", "suppliers").await?;
    register(&ctx, warehouse, &manifest, "respend", "respend").await?;
    // No request value reaches the SQL: the dataset is chosen by its manifest, the rest is the
    // whole table, in file and line order so any error names rows in input order.
    let batches = ctx
        .sql(
            "SELECT round1_pence, responded, total_spend_pence, local_staff_pence, \
             local_supplier_pence, source, line FROM suppliers ORDER BY source, line",
        )
        .await?
        .collect()
        .await?;
    let mut suppliers = Vec::new();
    for b in &batches {
        let (r1, responded, total, staff, sup) = (
            ints(b, 0)?,
            flags(b, 1)?,
            ints(b, 2)?,
            ints(b, 3)?,
            ints(b, 4)?,
        );
        let (source, line) = (string_column(b, 5)?, ints(b, 6)?);
        for i in 0..b.num_rows() {
            let place = || {
                format!(
                    "{} line {}",
                    source[i].as_deref().unwrap_or("?"),
                    line[i].unwrap_or_default()
                )
            };
            let round1_pence = r1[i].ok_or_else(|| {
                QueryError::Precondition(format!("{}: no round 1 spend", place()))
            })?;
            let response = match (responded[i], total[i], staff[i], sup[i]) {
                (Some(true), Some(t), Some(s), Some(p)) => Some(Response {
                    total_spend_pence: t,
                    local_staff_pence: s,
                    local_supplier_pence: p,
                }),
                (Some(false), ..) => None,
                _ => {
                    return Err(QueryError::Precondition(format!(
                        "{}: a response without its amounts",
                        place()
                    )));
                }
            };
            suppliers.push(SupplierReturn {
                round1_pence,
                response,
            });
        }
    }
    let batches = ctx
        .sql(
            "SELECT respondent_type, income_pence, local_spend_pence FROM respend \
             ORDER BY source, line",
        )
        .await?
        .collect()
        .await?;
    let mut respend = Vec::new();
    for b in &batches {
        let (kind, income, local) = (string_column(b, 0)?, ints(b, 1)?, ints(b, 2)?);
        for i in 0..b.num_rows() {
            let respondent = match kind[i].as_deref() {
                Some("staff") => Respondent::Staff,
                Some("supplier") => Respondent::Supplier,
                other => {
                    return Err(QueryError::Precondition(format!(
                        "respondent type {other:?} is neither staff nor supplier"
                    )));
                }
            };
            let (Some(income_pence), Some(local_spend_pence)) = (income[i], local[i]) else {
                return Err(QueryError::Precondition(
                    "a re-spend return without its amounts".into(),
                ));
            };
            respend.push(RespendReturn {
                respondent,
                income_pence,
                local_spend_pence,
            });
        }
    }
    let result = renewal_stats::lm3::lm3(&suppliers, &respend, proxies).map_err(|e| match e {
        renewal_stats::lm3::Lm3Error::MissingProxy { .. } => {
            QueryError::InvalidArgument(format!("{dataset}: {e}"))
        }
        renewal_stats::lm3::Lm3Error::Invalid(m) => {
            QueryError::Precondition(format!("{dataset}: {m}"))
        }
    })?;
    let rows = rows(&result);
    let (schema, batches) = to_batches(&columns(), &rows)?;
    let mut notes = vec![renewal_stats::lm3::METHOD.to_owned()];
    notes.extend(result.proxies.iter().map(|p| p.describe()));
    for k in &result.unused_proxies {
        notes.push(format!(
            "--{} was given but not used: the survey has responses for that round",
            k.name()
        ));
    }
    notes.push(format!(
        "pence are rounded to the penny from exact rationals (a round's total is rounded once, \
         so it may differ by a penny from the sum of its rounded parts); LM3 = {} exactly",
        result.lm3.fraction()
    ));
    Ok(Answer {
        schema,
        batches,
        basis: Basis {
            datasets: [(manifest.dataset.clone(), manifest.version)].into(),
            method:
                "LM3 from survey returns (NEF, The Money Trail): rounds 1-3 and their sum over \
                     round 1"
                    .into(),
            fit: renewal_geo::Fit::Exact,
            bridges: Vec::new(),
        },
        notes,
    })
}

fn columns() -> Vec<(&'static str, Kind)> {
    LM3_COLUMNS.iter().copied().zip(KINDS).collect()
}

fn rows(r: &Lm3Result) -> Vec<Row> {
    let r1 = Exact::whole(r.round1_pence);
    let share = |x: &Exact| {
        // R1 is above zero (the stats refuse a zero round 1), so the ratio exists.
        x.to_f64() / r1.to_f64()
    };
    let surveyed = Some(r.suppliers as i64);
    let by_count = Some(r.response_rate_by_count().to_f64());
    let by_spend = Some(r.response_rate_by_spend().to_f64());
    let round2_basis = {
        let mut b = format!(
            "survey: {} of {} suppliers responded",
            r.responding, r.suppliers
        );
        if let Some(p) = r.proxies.iter().find(|p| p.kind == ProxyKind::Round2) {
            let from = match p.origin {
                ProxyOrigin::Responders(_) => "the responders' round-1-weighted mean shares",
                ProxyOrigin::Given => "the shares given (--round2-proxy)",
            };
            b.push_str(&format!("; {} non-responding at {from}", p.suppliers));
        }
        b
    };
    let round3_basis = |kind: ProxyKind, n: usize, share: &Exact, who: &str| match r
        .proxies
        .iter()
        .find(|p| p.kind == kind)
    {
        Some(_) => format!(
            "proxy given (--{}): local re-spend share {share}",
            kind.name()
        ),
        None if n == 0 => "no round 2 part to re-spend".to_owned(),
        None => {
            format!("survey: income-weighted local re-spend share {share} of {n} {who} respondents")
        }
    };
    vec![
        Row {
            round: "1",
            part: "spend with suppliers",
            pence: r.round1_pence,
            share_of_round1: 1.0,
            responses: None,
            surveyed,
            response_rate_by_count: None,
            response_rate_by_spend: None,
            basis: "ledger: round 1 spend of the surveyed suppliers".into(),
        },
        Row {
            round: "2",
            part: "local staff",
            pence: r.round2_staff.rounded(),
            share_of_round1: share(&r.round2_staff),
            responses: Some(r.responding as i64),
            surveyed,
            response_rate_by_count: by_count,
            response_rate_by_spend: by_spend,
            basis: round2_basis.clone(),
        },
        Row {
            round: "2",
            part: "local suppliers",
            pence: r.round2_suppliers.rounded(),
            share_of_round1: share(&r.round2_suppliers),
            responses: Some(r.responding as i64),
            surveyed,
            response_rate_by_count: by_count,
            response_rate_by_spend: by_spend,
            basis: round2_basis.clone(),
        },
        Row {
            round: "2",
            part: "all",
            pence: r.round2().rounded(),
            share_of_round1: share(&r.round2()),
            responses: Some(r.responding as i64),
            surveyed,
            response_rate_by_count: by_count,
            response_rate_by_spend: by_spend,
            basis: round2_basis,
        },
        Row {
            round: "3",
            part: "local staff",
            pence: r.round3_staff.rounded(),
            share_of_round1: share(&r.round3_staff),
            responses: Some(r.staff_respondents as i64),
            surveyed: None,
            response_rate_by_count: None,
            response_rate_by_spend: None,
            basis: round3_basis(
                ProxyKind::StaffRespend,
                r.staff_respondents,
                &r.staff_respend_share,
                "staff",
            ),
        },
        Row {
            round: "3",
            part: "local suppliers",
            pence: r.round3_suppliers.rounded(),
            share_of_round1: share(&r.round3_suppliers),
            responses: Some(r.supplier_respondents as i64),
            surveyed: None,
            response_rate_by_count: None,
            response_rate_by_spend: None,
            basis: round3_basis(
                ProxyKind::SupplierRespend,
                r.supplier_respondents,
                &r.supplier_respend_share,
                "supplier",
            ),
        },
        Row {
            round: "3",
            part: "all",
            pence: r.round3().rounded(),
            share_of_round1: share(&r.round3()),
            responses: Some((r.staff_respondents + r.supplier_respondents) as i64),
            surveyed: None,
            response_rate_by_count: None,
            response_rate_by_spend: None,
            basis: "round 3 of local staff and local suppliers together".into(),
        },
        Row {
            round: "total",
            part: "lm3",
            pence: r.total().rounded(),
            share_of_round1: r.lm3.to_f64(),
            responses: None,
            surveyed,
            response_rate_by_count: None,
            response_rate_by_spend: None,
            basis: format!(
                "LM3 = (R1 + R2 + R3) / R1 = {} ({})",
                r.lm3,
                r.lm3.fraction()
            ),
        },
    ]
}

/// Column `i` as whole numbers (`None` for nulls).
fn ints(batch: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>> {
    let col = arrow::compute::cast(batch.column(i), &DataType::Int64)?;
    let col = col.as_primitive::<Int64Type>();
    Ok((0..col.len())
        .map(|r| col.is_valid(r).then(|| col.value(r)))
        .collect())
}

/// Column `i` as flags (`None` for nulls).
fn flags(batch: &RecordBatch, i: usize) -> Result<Vec<Option<bool>>> {
    let col = arrow::compute::cast(batch.column(i), &DataType::Boolean)?;
    let col = col.as_boolean();
    Ok((0..col.len())
        .map(|r| col.is_valid(r).then(|| col.value(r)))
        .collect())
}
