//! IoD summaries for areas made of LSOAs (METHODS.md, "IoD summaries"): average score, average
//! rank, proportion of LSOAs in the most deprived 10% nationally, extent and local
//! concentration, with the areas ranked 1 = most deprived.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use renewal_geo::{Fit, Level, Vintage};
use renewal_warehouse::Warehouse;

use crate::tables::{DatasetPins, plain_strings, register, resolve, session};
use crate::{Basis, QueryError, Result};

/// Output columns, in order. Part of the CLI's contract: do not rename.
pub const SUMMARY_COLUMNS: [&str; 11] = [
    "area_code",
    "area_name",
    "lsoa_count",
    "population",
    "average_score",
    "rank_of_average_score",
    "average_rank",
    "rank_of_average_rank",
    "proportion_most_deprived_10pct",
    "extent",
    "local_concentration",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryLevel {
    /// Local authority districts as the IoD files themselves record them.
    Lad,
    /// Wards of a vintage, built from LSOAs through the matching lookup. `None` picks the only
    /// lookup from the IoD's LSOA geography, if there is exactly one.
    Ward(Option<Vintage>),
}

#[derive(Debug, Clone)]
pub struct SummaryRequest {
    /// IoD edition, e.g. `2019`.
    pub vintage: String,
    pub level: SummaryLevel,
    pub pins: DatasetPins,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub basis: Basis,
    /// What the reader should know: LSOAs without a ward, missing inputs.
    pub notes: Vec<String>,
}

/// Computes the summaries for every area at the requested level, sorted by area code.
pub async fn iod_summary(warehouse: &Warehouse, request: &SummaryRequest) -> Result<Summary> {
    let iod_id = renewal_warehouse::ids::iod(&request.vintage);
    let iod = resolve(warehouse, &iod_id, &request.pins).await?;
    let national: u32 = iod
        .attributes
        .get("national_lsoa_count")
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            QueryError::Precondition(format!(
                "{iod_id} version {} does not record national_lsoa_count",
                iod.version
            ))
        })?;
    let lsoa_vintage: Vintage = iod
        .vintage
        .get("lsoa")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            QueryError::Precondition(format!("{iod_id} does not record its LSOA vintage"))
        })?;

    let ctx = session();
    register(&ctx, warehouse, &iod, "iod", "iod").await?;
    register(&ctx, warehouse, &iod, "lsoa", "lsoa").await?;
    let mut datasets = BTreeMap::from([(iod.dataset.clone(), iod.version)]);
    let mut notes = Vec::new();

    let (members, basis_method, fit) = match &request.level {
        SummaryLevel::Lad => {
            let lad = iod
                .vintage
                .get("lad")
                .cloned()
                .unwrap_or_else(|| "LAD".into());
            (
                "SELECT v.*, l.lad_code AS area_code, l.lad_name AS area_name \
                 FROM v JOIN lsoa l ON l.lsoa_code = v.lsoa_code WHERE l.lad_code IS NOT NULL"
                    .to_owned(),
                format!(
                    "exact: {lsoa_vintage} LSOAs nest in the {lad} districts the IoD files name"
                ),
                Fit::Exact,
            )
        }
        SummaryLevel::Ward(ward) => {
            let lookup = pick_lookup(warehouse, lsoa_vintage, *ward, &request.pins).await?;
            register(&ctx, warehouse, &lookup, "lookup", "lookup").await?;
            datasets.insert(lookup.dataset.clone(), lookup.version);
            let fit: Fit = lookup
                .attributes
                .get("fit")
                .and_then(|f| f.parse().ok())
                .unwrap_or(Fit::BestFit);
            let ward_vintage = lookup.vintage.get("ward").cloned().unwrap_or_default();
            let unmatched = count(
                &ctx,
                "SELECT COUNT(*) FROM lsoa WHERE lsoa_code NOT IN (SELECT lsoa_code FROM lookup)",
            )
            .await?;
            if unmatched > 0 {
                notes.push(format!(
                    "{unmatched} LSOAs of {iod_id} have no {ward_vintage} ward in {} and are left out",
                    lookup.dataset
                ));
            }
            (
                "SELECT v.*, k.ward_code AS area_code, k.ward_name AS area_name \
                 FROM v JOIN lookup k ON k.lsoa_code = v.lsoa_code"
                    .to_owned(),
                format!(
                    "{fit}: {lsoa_vintage} LSOAs assigned whole to {ward_vintage} wards ({} v{})",
                    lookup.dataset, lookup.version
                ),
                fit,
            )
        }
    };

    let sql = summary_sql(&members, national);
    tracing::debug!(%sql, "IoD summary");
    let df = ctx.sql(&sql).await?;
    let schema = df.schema().inner().clone();
    let (schema, batches) = plain_strings(&schema, df.collect().await?)?;

    for (measure, missing) in [("score", "average_score"), ("population", "population")] {
        let sql = format!("SELECT COUNT(*) FROM ({sql}) WHERE {missing} IS NULL");
        let n = count(&ctx, &sql).await?;
        if n > 0 {
            notes.push(format!(
                "{n} areas have an LSOA without an IMD {measure} in {iod_id}: figures that need it are left empty"
            ));
        }
    }

    Ok(Summary {
        schema,
        batches,
        basis: Basis {
            datasets,
            method: basis_method,
            fit,
            bridges: Vec::new(),
        },
        notes,
    })
}

async fn count(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Result<i64> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let value = batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0);
    Ok(value)
}

/// Finds the lookup from `lsoa` to the requested ward vintage (or the only one there is).
async fn pick_lookup(
    warehouse: &Warehouse,
    lsoa: Vintage,
    ward: Option<Vintage>,
    pins: &DatasetPins,
) -> Result<renewal_warehouse::Manifest> {
    if let Some(ward) = ward {
        if ward.level != Level::Ward {
            return Err(QueryError::InvalidArgument(format!(
                "--ward-vintage {ward} is not a ward vintage (expected e.g. WD19)"
            )));
        }
        let id = renewal_warehouse::ids::lookup(lsoa, ward);
        return resolve(warehouse, &id, pins).await.map_err(|e| match e {
            QueryError::Precondition(_) => QueryError::Precondition(format!(
                "no {lsoa} → {ward} lookup in the warehouse (dataset {id}); ingest one with `renewal ingest lookup`"
            )),
            other => other,
        });
    }
    let prefix = renewal_warehouse::ids::lookup_prefix(lsoa);
    let candidates: Vec<String> = warehouse
        .datasets()
        .await?
        .into_iter()
        .filter(|d| d.starts_with(&prefix))
        .collect();
    match candidates.as_slice() {
        [one] => resolve(warehouse, one, pins).await,
        [] => Err(QueryError::Precondition(format!(
            "no lookup from {lsoa} to wards in the warehouse; ingest one with `renewal ingest lookup`"
        ))),
        many => Err(QueryError::InvalidArgument(format!(
            "several ward vintages are available ({}); choose one with --ward-vintage",
            many.join(", ")
        ))),
    }
}

/// The summary query. `members` yields one row per (area, LSOA) with the LSOA's IMD score
/// `score`, national rank `rnk` and population `pop` (from CTE `v`).
///
/// An area's figure is empty (NULL) when any of its LSOAs lacks an input it needs: a partial
/// sum would be a made-up number.
fn summary_sql(members: &str, national: u32) -> String {
    let n = f64::from(national);
    format!(
        r#"
WITH v AS (
    SELECT lsoa_code,
        MAX(CASE WHEN domain = 'imd' AND measure = 'score' THEN value END) AS score,
        MAX(CASE WHEN domain = 'imd' AND measure = 'rank' THEN value END) AS rnk,
        MAX(CASE WHEN domain = 'population_total' AND measure = 'denominator' THEN value END) AS pop
    FROM iod
    GROUP BY lsoa_code
),
members AS ({members}),
weighted AS (
    SELECT *,
        -- Population of this LSOA and every more deprived one in the area.
        SUM(pop) OVER (PARTITION BY area_code ORDER BY rnk ASC, lsoa_code ASC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum_pop,
        SUM(pop) OVER (PARTITION BY area_code) AS area_pop,
        -- Extent weight from the national percentile ceil(100 r / N).
        CASE
            WHEN rnk IS NULL THEN NULL
            WHEN CEIL(100.0 * rnk / {n:.1}) <= 10 THEN 1.0
            WHEN CEIL(100.0 * rnk / {n:.1}) <= 30
                THEN 0.95 - (CEIL(100.0 * rnk / {n:.1}) - 11) * 0.9 / 19.0
            ELSE 0.0
        END AS extent_weight
    FROM members
),
areas AS (
    SELECT area_code,
        MAX(area_name) AS area_name,
        COUNT(*) AS lsoa_count,
        COUNT(pop) = COUNT(*) AS has_pop,
        COUNT(rnk) = COUNT(*) AS has_rank,
        COUNT(score) = COUNT(*) AS has_score,
        SUM(pop) AS pop_sum,
        SUM(pop * score) AS pop_score,
        SUM(pop * ({n:.1} + 1.0 - rnk)) AS pop_rank,
        SUM(CASE WHEN rnk <= 0.1 * {n:.1} THEN 1 ELSE 0 END) AS in_top_decile,
        SUM(pop * extent_weight) AS pop_extent,
        -- Each LSOA, most deprived first, counts with the part of its population that still
        -- fits in the area's 10%: min(pop, max(0, 10% - population before it)).
        SUM(({n:.1} + 1.0 - rnk) * GREATEST(0.0, LEAST(pop, 0.1 * area_pop - (cum_pop - pop)))) AS lc_num,
        0.1 * MAX(area_pop) AS lc_den
    FROM weighted
    GROUP BY area_code
),
figures AS (
    SELECT area_code, area_name, lsoa_count,
        CASE WHEN has_pop THEN pop_sum END AS population,
        CASE WHEN has_pop AND has_score THEN pop_score / NULLIF(pop_sum, 0) END AS average_score,
        CASE WHEN has_pop AND has_rank THEN pop_rank / NULLIF(pop_sum, 0) END AS average_rank,
        CASE WHEN has_rank THEN CAST(in_top_decile AS DOUBLE) / lsoa_count END
            AS proportion_most_deprived_10pct,
        CASE WHEN has_pop AND has_rank THEN pop_extent / NULLIF(pop_sum, 0) END AS extent,
        CASE WHEN has_pop AND has_rank THEN lc_num / NULLIF(lc_den, 0) END AS local_concentration
    FROM areas
)
-- Areas are ranked on values rounded to 9 decimals: two wards made of one LSOA each with the
-- same score must tie, whatever rounding p*s/p left in the last bit.
SELECT area_code, area_name, lsoa_count, population,
    average_score,
    CASE WHEN average_score IS NOT NULL
        THEN RANK() OVER (ORDER BY ROUND(average_score, 9) DESC NULLS LAST) END
        AS rank_of_average_score,
    average_rank,
    CASE WHEN average_rank IS NOT NULL
        THEN RANK() OVER (ORDER BY ROUND(average_rank, 9) DESC NULLS LAST) END
        AS rank_of_average_rank,
    proportion_most_deprived_10pct,
    extent,
    local_concentration
FROM figures
ORDER BY area_code
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_names_every_output_column() {
        let sql = summary_sql("SELECT 1", 32844);
        let select = &sql[sql.rfind("SELECT area_code").unwrap()..];
        for c in SUMMARY_COLUMNS {
            assert!(select.contains(c), "{c}");
        }
        assert!(sql.contains("32844.0"));
    }
}
