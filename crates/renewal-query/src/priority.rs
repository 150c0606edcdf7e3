//! Question 6: priority neighbourhoods — LSOAs in the most deprived n% nationally on the IMD or
//! any domain — and "pockets": such LSOAs inside authorities that are not themselves among the
//! most deprived n% of authorities on the population-weighted average score.

use std::collections::BTreeMap;

use renewal_warehouse::Warehouse;

use crate::answer::Answer;
use crate::tables::{DatasetPins, plain_strings, register, resolve, session, string_column};
use crate::{Basis, QueryError, Result};

#[derive(Debug, Clone)]
pub struct PriorityRequest {
    /// IoD edition, `2019`.
    pub edition: String,
    /// `imd`, `income`, `health`, … as in the IoD table.
    pub domain: String,
    /// The most deprived `percent`% nationally (10 = first decile).
    pub percent: f64,
    pub authority: Option<String>,
    /// Only LSOAs in authorities outside the most deprived `percent`%.
    pub pockets_only: bool,
}

pub const DOMAINS: [&str; 10] = [
    "imd",
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "barriers",
    "living_environment",
    "idaci",
    "idaopi",
];

pub async fn priority_neighbourhoods(
    warehouse: &Warehouse,
    request: &PriorityRequest,
    pins: &DatasetPins,
) -> Result<Answer> {
    if !DOMAINS.contains(&request.domain.as_str()) {
        return Err(QueryError::InvalidArgument(format!(
            "domain {:?}: one of {}",
            request.domain,
            DOMAINS.join(", ")
        )));
    }
    if !(request.percent > 0.0 && request.percent <= 100.0) {
        return Err(QueryError::InvalidArgument(
            "percent must be above 0 and at most 100".into(),
        ));
    }
    let id = renewal_warehouse::ids::iod(&request.edition);
    let iod = resolve(warehouse, &id, pins).await?;
    let national: f64 = iod
        .attributes
        .get("national_lsoa_count")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| QueryError::Precondition(format!("{id} has no national_lsoa_count")))?;
    let ctx = session();
    register(&ctx, warehouse, &iod, "iod", "iod").await?;
    register(&ctx, warehouse, &iod, "lsoa", "lsoa").await?;
    let d = &request.domain;
    let share = request.percent / 100.0;
    let authority = request
        .authority
        .as_deref()
        .map(|a| format!("AND l.lad_code = '{}'", a.replace('\'', "''")))
        .unwrap_or_default();
    let pockets = if request.pockets_only {
        "AND r.pocket"
    } else {
        ""
    };
    // An authority is "deprived" when its population-weighted average domain score ranks in
    // the most deprived share of authorities, as the official LAD summaries rank them.
    let sql = format!(
        r#"
WITH v AS (
    SELECT lsoa_code,
        MAX(CASE WHEN domain = '{d}' AND measure = 'score' THEN value END) AS score,
        MAX(CASE WHEN domain = '{d}' AND measure = 'rank' THEN value END) AS rnk,
        MAX(CASE WHEN domain = 'population_total' AND measure = 'denominator' THEN value END) AS pop
    FROM iod GROUP BY lsoa_code
),
l AS (SELECT v.*, s.lsoa_name, s.lad_code, s.lad_name FROM v JOIN lsoa s ON s.lsoa_code = v.lsoa_code),
lad AS (
    SELECT lad_code,
        CASE WHEN COUNT(score) = COUNT(*) AND COUNT(pop) = COUNT(*)
             THEN SUM(pop * score) / SUM(pop) END AS average_score
    FROM l GROUP BY lad_code
),
r AS (
    SELECT lad_code, average_score,
        RANK() OVER (ORDER BY ROUND(average_score, 9) DESC NULLS LAST) AS lad_rank,
        COUNT(*) OVER () AS lad_count,
        RANK() OVER (ORDER BY ROUND(average_score, 9) DESC NULLS LAST) > CEIL({share} * COUNT(*) OVER ()) AS pocket
    FROM lad
)
SELECT l.lsoa_code, l.lsoa_name, l.lad_code, l.lad_name, '{d}' AS domain,
    l.score, CAST(l.rnk AS BIGINT) AS national_rank,
    CAST(CEIL(100.0 * l.rnk / {national:.1}) AS BIGINT) AS national_percentile,
    r.average_score AS lad_average_score, r.lad_rank, r.lad_count, r.pocket
FROM l JOIN r ON r.lad_code = l.lad_code
WHERE l.rnk <= {share} * {national:.1} {authority} {pockets}
ORDER BY l.rnk, l.lsoa_code
"#
    );
    let df = ctx.sql(&sql).await?;
    let schema = df.schema().inner().clone();
    let (schema, batches) = plain_strings(&schema, df.collect().await?)?;
    let mut notes = vec![format!(
        "most deprived {}% nationally on {d}: rank at most {:.0} of {national:.0} LSOAs (rank 1 = most deprived); a pocket lies in an authority outside the most deprived {}% of authorities by average score",
        request.percent,
        (share * national).floor(),
        request.percent
    )];
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        notes.push("no LSOAs match".into());
    }
    Ok(Answer {
        schema,
        batches,
        basis: Basis {
            datasets: BTreeMap::from([(iod.dataset.clone(), iod.version)]),
            method: format!("LSOAs as ranked in {} v{}", iod.dataset, iod.version),
            fit: renewal_geo::Fit::Exact,
            bridges: Vec::new(),
        },
        notes,
    })
}

/// LSOAs in IMD deciles 1..=max of an IoD edition.
pub(crate) async fn lsoas_in_deciles(
    warehouse: &Warehouse,
    edition: &str,
    max: u8,
    pins: &DatasetPins,
) -> Result<(Vec<String>, Option<renewal_geo::Vintage>)> {
    let id = renewal_warehouse::ids::iod(edition);
    let iod = resolve(warehouse, &id, pins).await?;
    let ctx = session();
    register(&ctx, warehouse, &iod, "iod", "iod").await?;
    let batches = ctx
        .sql(
            "SELECT CAST(lsoa_code AS VARCHAR) FROM iod \
             WHERE domain = 'imd' AND measure = 'decile' AND value <= $1",
        )
        .await?
        .with_param_values(vec![datafusion::scalar::ScalarValue::Float64(Some(
            f64::from(max),
        ))])?
        .collect()
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        out.extend(string_column(b, 0)?.into_iter().flatten());
    }
    if out.is_empty() {
        return Err(QueryError::Precondition(format!(
            "{id} has no IMD deciles (ingest File 1, 2 or 7)"
        )));
    }
    let vintage = iod.vintage.get("lsoa").and_then(|v| v.parse().ok());
    Ok((out, vintage))
}
