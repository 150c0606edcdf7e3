//! An indicator's numerator and denominator at its native geography, read with DataFusion from
//! the datasets its definition names. The definition's expressions become one SQL statement per
//! (source, dataset); what comes back is small (areas × periods) and is assembled in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use renewal_schema::{IndicatorDef, SourceDef, dataset_matches};
use renewal_warehouse::{Manifest, Warehouse};

use crate::tables::{DatasetPins, float_column, register, resolve, session, string_column};
use crate::{QueryError, Result};

/// One source's sums: (area, period or none) → value (`None` when a member row lacked it).
pub(crate) type Sums = HashMap<(String, Option<String>), Option<f64>>;

/// The datasets (at the versions used) a definition's sources resolve to.
pub(crate) async fn resolve_sources(
    warehouse: &Warehouse,
    all: &[String],
    def: &IndicatorDef,
    pins: &DatasetPins,
) -> Result<(Vec<Manifest>, Vec<Manifest>)> {
    // With a population base the denominator is only the fallback: it may be absent when
    // population estimates are there.
    let populations = def
        .population
        .as_ref()
        .is_some_and(|p| all.iter().any(|d| dataset_matches(&p.dataset, d)));
    let mut out = Vec::new();
    for (i, source) in std::iter::once(&def.numerator)
        .chain(&def.denominator)
        .enumerate()
    {
        let ids: Vec<&String> = all
            .iter()
            .filter(|d| dataset_matches(&source.dataset, d))
            .collect();
        if ids.is_empty() && i == 1 && populations {
            out.push(Vec::new());
            continue;
        }
        if ids.is_empty() {
            return Err(QueryError::Precondition(format!(
                "indicator {} needs dataset {} (table {}), which is not in the warehouse",
                def.id, source.dataset, source.table
            )));
        }
        let mut manifests = Vec::new();
        for id in ids {
            manifests.push(resolve(warehouse, id, pins).await?);
        }
        out.push(manifests);
    }
    let mut out = out.into_iter();
    let numerator = out.next().unwrap_or_default();
    let denominator = out.next().unwrap_or_default();
    Ok((numerator, denominator))
}

/// One dataset's sums for a source, before they are merged with the others'.
pub(crate) struct Part {
    pub manifest: Manifest,
    pub sums: Sums,
    /// Every area the dataset's table lists (for `absent_means_zero`).
    pub areas: BTreeSet<String>,
}

/// Sums `source` per (area, period) in each dataset given that has its table.
pub(crate) async fn read_parts(
    warehouse: &Warehouse,
    indicator: &str,
    source: &SourceDef,
    datasets: &[Manifest],
) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    for manifest in datasets {
        if manifest.table(&source.table).is_none() {
            // A pattern can match datasets of another shape (crime-* and a crime table with
            // no counts); only those with the table are read.
            continue;
        }
        let ctx = session();
        register(&ctx, warehouse, manifest, &source.table, "t").await?;
        let sql = source_sql(source);
        tracing::debug!(%sql, dataset = %manifest.dataset, "indicator source");
        let batches = ctx
            .sql(&sql)
            .await
            .map_err(|e| source_error(indicator, manifest, e))?
            .collect()
            .await
            .map_err(|e| source_error(indicator, manifest, e))?;
        let mut sums: Sums = HashMap::new();
        for batch in &batches {
            let area = string_column(batch, 0)?;
            let period = string_column(batch, 1)?;
            let value = float_column(batch, 2)?;
            for i in 0..batch.num_rows() {
                let Some(a) = area[i].clone() else { continue };
                sums.insert((a, period[i].clone()), value[i]);
            }
        }
        let mut areas = BTreeSet::new();
        if source.absent_means_zero {
            let sql = format!("SELECT DISTINCT CAST({} AS VARCHAR) FROM t", source.area);
            for batch in ctx.sql(&sql).await?.collect().await? {
                areas.extend(string_column(&batch, 0)?.into_iter().flatten());
            }
        }
        parts.push(Part {
            manifest: manifest.clone(),
            sums,
            areas,
        });
    }
    Ok(parts)
}

/// Merges datasets' sums. Two datasets giving the same (area, period) would double count, so
/// that is an error naming both.
pub(crate) fn merge(
    indicator: &str,
    source: &SourceDef,
    parts: Vec<Part>,
) -> Result<(Sums, BTreeSet<String>)> {
    let mut sums: Sums = HashMap::new();
    let mut seen_in: HashMap<(String, Option<String>), String> = HashMap::new();
    let mut all_areas = BTreeSet::new();
    for part in parts {
        for (key, value) in part.sums {
            if let Some(other) = seen_in.insert(key.clone(), part.manifest.dataset.clone()) {
                return Err(QueryError::Precondition(format!(
                    "indicator {indicator}: datasets {other} and {} both give {} for {}{}; \
                     pin one or remove the other",
                    part.manifest.dataset,
                    source.value,
                    key.0,
                    key.1
                        .as_deref()
                        .map(|p| format!(", {p}"))
                        .unwrap_or_default()
                )));
            }
            sums.insert(key, value);
        }
        all_areas.extend(part.areas);
    }
    Ok((sums, all_areas))
}

fn source_error(
    indicator: &str,
    manifest: &Manifest,
    e: datafusion::error::DataFusionError,
) -> QueryError {
    // The memory pool refusing a query is the server's limit, not a fault of the definition:
    // it keeps its own error so callers can tell (RESOURCE_EXHAUSTED over gRPC).
    if matches!(
        e.find_root(),
        datafusion::error::DataFusionError::ResourcesExhausted(_)
    ) {
        return QueryError::Engine(e);
    }
    QueryError::Precondition(format!(
        "indicator {indicator}: its definition does not fit dataset {} version {}: {e}",
        manifest.dataset, manifest.version
    ))
}

/// The statement for one source over table `t`: sums of the value per area and period, NULL
/// when any row's value is missing (a partial sum would be a made-up number).
pub(crate) fn source_sql(s: &SourceDef) -> String {
    let filter = s.filter.as_deref().unwrap_or("TRUE");
    let period = s.period.as_deref().unwrap_or("NULL");
    let base = format!(
        "SELECT CAST({area} AS VARCHAR) AS area_code, CAST({period} AS VARCHAR) AS period, \
         CAST({value} AS DOUBLE) AS v FROM t WHERE {filter}",
        area = s.area,
        value = s.value,
    );
    match &s.weight_where {
        None => format!(
            "SELECT area_code, period, \
             CASE WHEN COUNT(v) = COUNT(*) THEN SUM(v) END AS value \
             FROM ({base}) GROUP BY area_code, period"
        ),
        Some(weight) => format!(
            "SELECT b.area_code, b.period, \
             CASE WHEN COUNT(b.v) = COUNT(*) AND COUNT(w.w) = COUNT(*) THEN SUM(b.v * w.w) END AS value \
             FROM ({base}) b LEFT JOIN (\
                SELECT CAST({area} AS VARCHAR) AS area_code, SUM(CAST(value AS DOUBLE)) AS w \
                FROM t WHERE {weight} GROUP BY 1) w ON w.area_code = b.area_code \
             GROUP BY b.area_code, b.period",
            area = s.area,
        ),
    }
}

/// Numerator and denominator of one native area in one period.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NativeFigure {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// (area, period) → figure, with the periods in order.
pub(crate) struct Native {
    pub figures: BTreeMap<(String, String), NativeFigure>,
    pub periods: Vec<String>,
    pub notes: Vec<String>,
}

/// Joins numerator and denominator sums. Periods come from the numerator; a denominator
/// without periods serves them all. With `zero_fill` (areas the numerator's table covers,
/// grouped by `covered`), absent numerators are zeros.
pub(crate) fn combine(
    numerator: &Sums,
    denominator: Option<&Sums>,
    zero_fill: Option<&BTreeSet<String>>,
) -> Native {
    let periods: BTreeSet<String> = numerator.keys().filter_map(|(_, p)| p.clone()).collect();
    let mut figures = BTreeMap::new();
    let den_of = |area: &str, period: &str| -> Option<Option<f64>> {
        let d = denominator?;
        d.get(&(area.to_owned(), Some(period.to_owned())))
            .or_else(|| d.get(&(area.to_owned(), None)))
            .copied()
    };
    for ((area, period), value) in numerator {
        let Some(period) = period else { continue };
        let denominator = match denominator {
            None => None,
            Some(_) => den_of(area, period).flatten(),
        };
        figures.insert(
            (area.clone(), period.clone()),
            NativeFigure {
                numerator: *value,
                denominator,
            },
        );
    }
    if let (Some(covered), Some(d)) = (zero_fill, denominator) {
        let areas: BTreeSet<&String> = d.keys().map(|(a, _)| a).collect();
        for period in &periods {
            for area in areas.iter().filter(|a| covered.contains(a.as_str())) {
                figures
                    .entry(((*area).clone(), period.clone()))
                    .or_insert_with(|| NativeFigure {
                        numerator: Some(0.0),
                        denominator: den_of(area, period).flatten(),
                    });
            }
        }
    }
    Native {
        figures,
        periods: periods.into_iter().collect(),
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(rows: &[(&str, Option<&str>, f64)]) -> Sums {
        rows.iter()
            .map(|(a, p, v)| ((a.to_string(), p.map(String::from)), Some(*v)))
            .collect()
    }

    #[test]
    fn denominators_without_periods_serve_every_period() {
        let num = sums(&[("A", Some("2021-01"), 3.0), ("A", Some("2021-02"), 4.0)]);
        let den = sums(&[("A", None, 100.0), ("B", None, 50.0)]);
        let n = combine(&num, Some(&den), None);
        assert_eq!(n.periods, ["2021-01", "2021-02"]);
        assert_eq!(n.figures.len(), 2);
        assert_eq!(
            n.figures[&("A".into(), "2021-02".into())].denominator,
            Some(100.0)
        );
        // B has no numerator and nothing says absence is zero: no figure.
        assert!(!n.figures.contains_key(&("B".into(), "2021-01".into())));

        let covered: BTreeSet<String> = ["A".to_string(), "B".to_string()].into();
        let n = combine(&num, Some(&den), Some(&covered));
        assert_eq!(
            n.figures[&("B".into(), "2021-01".into())],
            NativeFigure {
                numerator: Some(0.0),
                denominator: Some(50.0)
            }
        );
    }

    #[test]
    fn sql_uses_the_definition() {
        let s: SourceDef =
            toml::from_str("dataset = \"x\"\nwhere = \"measure = 'Count'\"\nperiod = \"period\"\n")
                .unwrap();
        let sql = source_sql(&s);
        assert!(sql.contains("WHERE measure = 'Count'"), "{sql}");
        assert!(sql.contains("CAST(period AS VARCHAR) AS period"), "{sql}");
    }
}
