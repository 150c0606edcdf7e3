//! IoD summaries for areas made of LSOAs (METHODS.md, "IoD summaries"): average score, average
//! rank, proportion of LSOAs in the most deprived 10% nationally, extent and local
//! concentration, with the areas ranked 1 = most deprived; per domain, what File 10 publishes
//! on each domain's sheet (and the income and employment scales).
//!
//! Nothing here knows an edition: N comes from the dataset's manifest (which copied it from the
//! edition's schema file), and so do the LSOA and district vintages.

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

/// Columns added after [`SUMMARY_COLUMNS`] when a domain is asked for (`--domain`), so that every
/// figure of File 10's domain sheets has a place. Part of the CLI's contract: do not rename.
pub const DOMAIN_SUMMARY_COLUMNS: [&str; 5] = [
    "rank_of_proportion_most_deprived_10pct",
    "rank_of_extent",
    "rank_of_local_concentration",
    "scale",
    "rank_of_scale",
];

/// The domains a summary can be asked for: the IMD, its seven domains, IDACI and IDAOPI.
pub use crate::priority::DOMAINS as SUMMARY_DOMAINS;

/// The population an "X scale" counts, by domain: File 10's income scale and employment scale
/// are the numbers of income- and employment-deprived people (METHODS.md: domain numerators
/// summed), and a domain score is its numerator over this population (the income rate is out
/// of the total population, the employment rate out of the working-age population).
fn scale_population(domain: &str) -> Option<&'static str> {
    match domain {
        "income" => Some("population_total"),
        "employment" => Some("population_working_age"),
        _ => None,
    }
}

/// Only the IMD sheet of File 10 has extent and local concentration.
const EXTENT_DOMAIN: &str = "imd";

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
    /// `None`: today's IMD summary, exactly [`SUMMARY_COLUMNS`]. `Some(domain)` (one of
    /// [`SUMMARY_DOMAINS`], `imd` included): that domain's figures, with
    /// [`DOMAIN_SUMMARY_COLUMNS`] after the usual columns.
    pub domain: Option<String>,
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
    let domain = match request.domain.as_deref() {
        None => EXTENT_DOMAIN,
        Some(d) if SUMMARY_DOMAINS.contains(&d) => d,
        Some(d) => {
            return Err(QueryError::InvalidArgument(format!(
                "domain {d:?}: one of {}",
                SUMMARY_DOMAINS.join(", ")
            )));
        }
    };
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

    // Area ranks are ranks among every area of England: with only some of the edition's LSOAs
    // loaded (a partnership's own area), ranking the loaded areas would give numbers that look
    // like File 10's and are not.
    let loaded = count(&ctx, "SELECT COUNT(DISTINCT lsoa_code) FROM lsoa").await?;
    let ranked = loaded >= i64::from(national);
    if !ranked {
        notes.push(format!(
            "ranks need all {} LSOAs of IoD{}; {} loaded: every rank_of_ column is left empty",
            thousands(i64::from(national)),
            request.vintage,
            thousands(loaded)
        ));
    }
    if request.domain.is_some() {
        if domain != EXTENT_DOMAIN {
            notes.push(format!(
                "extent and local concentration are published for the IMD only: empty for {domain}"
            ));
        }
        if scale_population(domain).is_none() {
            notes.push(format!(
                "scale is published for the income and employment domains only: empty for {domain}"
            ));
        }
    }

    let shape = Shape {
        domain,
        national,
        ranked,
        extended: request.domain.is_some(),
    };
    let sql = summary_sql(&members, &shape);
    tracing::debug!(%sql, "IoD summary");
    let df = ctx.sql(&sql).await?;
    let schema = df.schema().inner().clone();
    let (schema, batches) = plain_strings(&schema, df.collect().await?)?;

    let label = if domain == EXTENT_DOMAIN {
        "IMD".to_owned()
    } else {
        domain.to_owned()
    };
    let mut checks = vec![
        (format!("{label} score"), "average_score"),
        ("IMD population".to_owned(), "population"),
    ];
    if let (true, Some(p)) = (shape.extended, scale_population(domain)) {
        checks.push((format!("{p} denominator"), "scale"));
    }
    for (what, missing) in checks {
        let sql = format!("SELECT COUNT(*) FROM ({sql}) WHERE {missing} IS NULL");
        let n = count(&ctx, &sql).await?;
        if n > 0 {
            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u', 'I']) {
                "an"
            } else {
                "a"
            };
            notes.push(format!(
                "{n} areas have an LSOA without {article} {what} in {iod_id}: figures that need it are left empty"
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

/// 33755 → "33,755", for notes people read.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
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

/// What the summary query computes: which domain, out of how many LSOAs nationally, whether
/// areas may be ranked, and whether the domain columns follow the usual eleven.
struct Shape<'a> {
    domain: &'a str,
    national: u32,
    ranked: bool,
    extended: bool,
}

/// The summary query. `members` yields one row per (area, LSOA) with the LSOA's domain score
/// `score`, national rank `rnk`, population `pop` and the scale's population `scale_pop`
/// (from CTE `v`).
///
/// An area's figure is empty (NULL) when any of its LSOAs lacks an input it needs: a partial
/// sum would be a made-up number.
fn summary_sql(members: &str, shape: &Shape<'_>) -> String {
    let n = f64::from(shape.national);
    let domain = shape.domain;
    let scale_pop = match scale_population(domain) {
        Some(p) => {
            format!("MAX(CASE WHEN domain = '{p}' AND measure = 'denominator' THEN value END)")
        }
        None => "CAST(NULL AS DOUBLE)".to_owned(),
    };
    let has_extent = domain == EXTENT_DOMAIN;
    let has_scale = scale_population(domain).is_some();
    let ranked = shape.ranked;
    // Areas are ranked on values rounded to 9 decimals: two wards made of one LSOA each with
    // the same score must tie, whatever rounding p*s/p left in the last bit. Ties share the
    // best place (RANK: 1, 2, 2, 4), as File 10's ranks of proportion and extent do.
    let rank = |column: &str| {
        format!(
            "CASE WHEN {ranked} AND {column} IS NOT NULL \
                THEN RANK() OVER (ORDER BY ROUND({column}, 9) DESC NULLS LAST) END"
        )
    };
    let extra = if shape.extended {
        format!(
            ",\n    {} AS rank_of_proportion_most_deprived_10pct,\n    {} AS rank_of_extent,\n    \
             {} AS rank_of_local_concentration,\n    scale,\n    {} AS rank_of_scale",
            rank("proportion_most_deprived_10pct"),
            rank("extent"),
            rank("local_concentration"),
            rank("scale"),
        )
    } else {
        String::new()
    };
    let rank_of_average_score = rank("average_score");
    let rank_of_average_rank = rank("average_rank");
    format!(
        r#"
WITH v AS (
    SELECT lsoa_code,
        MAX(CASE WHEN domain = '{domain}' AND measure = 'score' THEN value END) AS score,
        MAX(CASE WHEN domain = '{domain}' AND measure = 'rank' THEN value END) AS rnk,
        MAX(CASE WHEN domain = 'population_total' AND measure = 'denominator' THEN value END) AS pop,
        {scale_pop} AS scale_pop
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
        COUNT(scale_pop) = COUNT(*) AS has_scale_pop,
        SUM(pop) AS pop_sum,
        SUM(pop * score) AS pop_score,
        SUM(pop * ({n:.1} + 1.0 - rnk)) AS pop_rank,
        SUM(CASE WHEN rnk <= 0.1 * {n:.1} THEN 1 ELSE 0 END) AS in_top_decile,
        SUM(pop * extent_weight) AS pop_extent,
        -- Each LSOA, most deprived first, counts with the part of its population that still
        -- fits in the area's 10%: min(pop, max(0, 10% - population before it)).
        SUM(({n:.1} + 1.0 - rnk) * GREATEST(0.0, LEAST(pop, 0.1 * area_pop - (cum_pop - pop)))) AS lc_num,
        0.1 * MAX(area_pop) AS lc_den,
        -- The domain's deprived people: its rate times the population the rate is out of.
        SUM(scale_pop * score) AS scale_sum
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
        CASE WHEN {has_extent} AND has_pop AND has_rank THEN pop_extent / NULLIF(pop_sum, 0) END
            AS extent,
        CASE WHEN {has_extent} AND has_pop AND has_rank THEN lc_num / NULLIF(lc_den, 0) END
            AS local_concentration,
        CASE WHEN {has_scale} AND has_scale_pop AND has_score THEN scale_sum END AS scale
    FROM areas
)
SELECT area_code, area_name, lsoa_count, population,
    average_score,
    {rank_of_average_score} AS rank_of_average_score,
    average_rank,
    {rank_of_average_rank} AS rank_of_average_rank,
    proportion_most_deprived_10pct,
    extent,
    local_concentration{extra}
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
        let mut shape = Shape {
            domain: "imd",
            national: 32844,
            ranked: true,
            extended: false,
        };
        let sql = summary_sql("SELECT 1", &shape);
        let select = &sql[sql.rfind("SELECT area_code").unwrap()..];
        for c in SUMMARY_COLUMNS {
            assert!(select.contains(c), "{c}");
        }
        for c in DOMAIN_SUMMARY_COLUMNS {
            assert!(!select.contains(c), "{c}");
        }
        assert!(sql.contains("32844.0"));
        shape.extended = true;
        let sql = summary_sql("SELECT 1", &shape);
        let select = &sql[sql.rfind("SELECT area_code").unwrap()..];
        for c in DOMAIN_SUMMARY_COLUMNS {
            assert!(
                select.contains(&format!("AS {c}")) || select.contains(c),
                "{c}"
            );
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(33755), "33,755");
        assert_eq!(thousands(1702), "1,702");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000000), "1,000,000");
    }
}
