//! Question 7 (area profile: every indicator for one area beside its authority and England) and
//! question 8 (most similar areas by standardised distance over chosen indicators).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::{AreaLevel, ENGLAND_CODE};
use crate::questions::gap;
use crate::{Basis, QueryError, Result};

#[derive(Debug, Clone, Serialize)]
struct ProfileRow {
    indicator: String,
    title: String,
    theme: String,
    period: String,
    value: Option<f64>,
    lower_95: Option<f64>,
    upper_95: Option<f64>,
    unit: String,
    polarity: &'static str,
    authority_code: Option<String>,
    authority_value: Option<f64>,
    gap_authority: Option<f64>,
    comparison_authority: Option<&'static str>,
    england_value: Option<f64>,
    gap_england: Option<f64>,
    comparison_england: Option<&'static str>,
    suppressed: bool,
    withheld: Option<&'static str>,
    authority_withheld: Option<&'static str>,
    england_withheld: Option<&'static str>,
}

const PROFILE_COLUMNS: [(&str, Kind); 20] = [
    ("indicator", Kind::Text),
    ("title", Kind::Text),
    ("theme", Kind::Text),
    ("period", Kind::Text),
    ("value", Kind::Number),
    ("lower_95", Kind::Number),
    ("upper_95", Kind::Number),
    ("unit", Kind::Text),
    ("polarity", Kind::Text),
    ("authority_code", Kind::Text),
    ("authority_value", Kind::Number),
    ("gap_authority", Kind::Number),
    ("comparison_authority", Kind::Text),
    ("england_value", Kind::Number),
    ("gap_england", Kind::Number),
    ("comparison_england", Kind::Text),
    ("suppressed", Kind::Flag),
    ("withheld", Kind::Text),
    ("authority_withheld", Kind::Text),
    ("england_withheld", Kind::Text),
];

/// Every indicator that reaches `area` (a ward, LSOA, neighbourhood or authority code), in
/// the latest period it has a figure, with its gaps. Indicators whose data are not in the
/// warehouse are listed in the notes, not silently left out.
pub async fn area_profile(engine: &Engine, area: &str, scope: &Scope) -> Result<Answer> {
    let ids: Vec<String> = engine.indicators().map(|d| d.id.clone()).collect();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut datasets = BTreeMap::new();
    let mut name = None;
    let mut fits = Vec::new();
    let mut uncovered: Vec<String> = Vec::new();
    for id in ids {
        let agg = match engine.aggregate(&id, scope).await {
            Ok(a) => a,
            Err(QueryError::Precondition(m) | QueryError::InvalidArgument(m)) => {
                notes.push(format!("{id}: {m}"));
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some(found) = agg.areas.values().find(|a| a.code == area) else {
            continue;
        };
        let level = found.level;
        let Some(period) = agg
            .periods
            .iter()
            .rev()
            .find(|p| agg.figure(level, area, p).is_some())
            .cloned()
        else {
            continue;
        };
        name.get_or_insert_with(|| found.name.clone());
        datasets.extend(agg.basis.datasets.clone());
        fits.push(agg.basis.method.clone());
        let eval = |level: AreaLevel, code: &str| agg.assess(level, code, &period).0;
        let e = eval(level, area);
        let authority = match level {
            AreaLevel::Lad => None,
            _ => found.parent.clone(),
        };
        let a = authority.as_deref().map(|c| eval(AreaLevel::Lad, c));
        // England only where the data cover it, never the sum of a partnership's authorities.
        let coverage = crate::questions::england_coverage(engine.catalog(), &agg, &period);
        let en = if coverage.covered() {
            eval(AreaLevel::England, ENGLAND_CODE)
        } else {
            uncovered.push(id.clone());
            crate::questions::absent().0
        };
        let def = &agg.indicator;
        let ga = a.map(|a| gap(def, &e, &a)).unwrap_or_default();
        let ge = gap(def, &e, &en);
        rows.push(ProfileRow {
            indicator: def.id.clone(),
            title: def.title.clone(),
            theme: def.theme.clone(),
            period,
            value: e.value,
            lower_95: e.ci95.map(|i| i.lower),
            upper_95: e.ci95.map(|i| i.upper),
            unit: def.unit.clone(),
            polarity: def.polarity.as_str(),
            authority_code: authority,
            authority_value: a.and_then(|a| a.value),
            gap_authority: ga.gap,
            comparison_authority: ga.comparison_95,
            england_value: en.value,
            gap_england: ge.gap,
            comparison_england: ge.comparison_95,
            suppressed: e.suppressed,
            withheld: e.withheld.map(|w| w.as_str()),
            authority_withheld: a.and_then(|a| a.withheld).map(|w| w.as_str()),
            england_withheld: en.withheld.map(|w| w.as_str()),
        });
    }
    if rows.is_empty() {
        return Err(QueryError::NotFound(format!(
            "no indicator in the warehouse has a figure for area {area}"
        )));
    }
    fits.dedup();
    if !uncovered.is_empty() {
        notes.push(format!(
            "no England figures for {}: their data do not cover England",
            uncovered.join(", ")
        ));
    }
    notes.insert(0, format!("{area}: {}", name.unwrap_or_default()));
    let (schema, batches) = to_batches(&PROFILE_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis: Basis {
            datasets,
            method: fits.join("; "),
            fit: renewal_geo::Fit::BestFit,
            bridges: Vec::new(),
        },
        notes,
    })
}

#[derive(Debug, Clone, Serialize)]
struct SimilarRow {
    rank: i64,
    area_code: String,
    area_name: String,
    parent_code: Option<String>,
    distance: f64,
}

const SIMILAR_COLUMNS: [(&str, Kind); 5] = [
    ("rank", Kind::Integer),
    ("area_code", Kind::Text),
    ("area_name", Kind::Text),
    ("parent_code", Kind::Text),
    ("distance", Kind::Number),
];

/// An area near another over the similarity indicators.
#[derive(Debug, Clone)]
pub(crate) struct Near {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub distance: f64,
}

/// The areas nearest one area, and what the distance was computed over.
pub(crate) struct Similarity {
    /// Nearest first (ties by code).
    pub near: Vec<Near>,
    /// Areas with a value for every indicator: the population the z-scores are taken over.
    pub areas: usize,
    pub datasets: BTreeMap<String, u64>,
    /// `indicator period` for each indicator, in the order given.
    pub periods: Vec<String>,
}

/// Picks the period of a similarity indicator.
pub(crate) type PeriodOf<'a> = &'a (dyn Fn(&crate::Aggregate) -> Result<String> + Sync);

/// What similarity is measured on: the indicators, and the period each is read at.
pub(crate) struct SimilarOn<'a> {
    pub indicators: &'a [String],
    pub period_of: PeriodOf<'a>,
}

/// The similarity method shared by [`most_similar`] and the change question: the `k` areas of
/// `level` nearest to `area` by Euclidean distance over z-scores of the chosen indicators (each
/// in the period `on.period_of` picks; z-scores over every area with a released value for all of
/// them, withheld values taking no part). Only areas for which `eligible` holds may be chosen;
/// they are still all in the population the z-scores are taken over.
pub(crate) async fn nearest(
    engine: &Engine,
    area: &str,
    level: AreaLevel,
    on: &SimilarOn<'_>,
    k: usize,
    scope: &Scope,
    eligible: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Similarity> {
    let (indicators, period_of) = (on.indicators, on.period_of);
    if indicators.is_empty() {
        return Err(QueryError::InvalidArgument(
            "indicators: name at least one".into(),
        ));
    }
    // Ordered, so the means and variances are summed in one order and the same question
    // gives the same doubles every time (gRPC and HTTP answers compared cell by cell, ETags).
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut names: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut datasets = BTreeMap::new();
    let mut methods = Vec::new();
    for (i, id) in indicators.iter().enumerate() {
        let agg = engine.aggregate(id, scope).await?;
        let period = period_of(&agg)?;
        datasets.extend(agg.basis.datasets.clone());
        methods.push(format!("{id} {period}"));
        for a in agg.areas_of(level, None) {
            // Withheld values (below the threshold or complementary) take no part.
            let (e, _) = agg.assess(level, &a.code, &period);
            let Some(v) = e.value else { continue };
            let slot = values.entry(a.code.clone()).or_default();
            if slot.len() == i {
                slot.push(v);
                names.insert(a.code.clone(), (a.name.clone(), a.parent.clone()));
            }
        }
    }
    values.retain(|_, v| v.len() == indicators.len());
    let Some(target) = values.get(area).cloned() else {
        return Err(QueryError::NotFound(format!(
            "area {area} has no {} value for every one of {}",
            level.as_str(),
            indicators.join(", ")
        )));
    };
    let n = values.len() as f64;
    let stats: Vec<(f64, f64)> = (0..indicators.len())
        .map(|i| {
            let mean = values.values().map(|v| v[i]).sum::<f64>() / n;
            let var =
                values.values().map(|v| (v[i] - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            (mean, var.sqrt())
        })
        .collect();
    let z = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(&stats)
            .map(|(x, (m, s))| if *s > 0.0 { (x - m) / s } else { 0.0 })
            .collect()
    };
    let zt = z(&target);
    let mut scored: Vec<(f64, &String)> = values
        .iter()
        .filter(|(code, _)| code.as_str() != area && eligible(code))
        .map(|(code, v)| {
            let d = z(v)
                .iter()
                .zip(&zt)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt();
            (d, code)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let near = scored
        .into_iter()
        .take(k)
        .map(|(d, code)| {
            let (name, parent) = names.get(code).cloned().unwrap_or_default();
            Near {
                code: code.clone(),
                name,
                parent,
                distance: d,
            }
        })
        .collect();
    Ok(Similarity {
        near,
        areas: values.len(),
        datasets,
        periods: methods,
    })
}

/// The `k` areas of the same level nearest to `area` by Euclidean distance over z-scores of
/// the chosen indicators (latest period of each; areas lacking any value are left out, and
/// so are withheld values).
pub async fn most_similar(
    engine: &Engine,
    area: &str,
    level: AreaLevel,
    indicators: &[String],
    k: usize,
    scope: &Scope,
) -> Result<Answer> {
    let latest = |agg: &crate::Aggregate| -> Result<String> {
        agg.latest_period()
            .map(String::from)
            .ok_or_else(|| QueryError::Precondition(format!("{} has no periods", agg.indicator.id)))
    };
    let on = SimilarOn {
        indicators,
        period_of: &latest,
    };
    let found = nearest(engine, area, level, &on, k, scope, &|_| true).await?;
    let rows: Vec<SimilarRow> = found
        .near
        .into_iter()
        .enumerate()
        .map(|(i, n)| SimilarRow {
            rank: i as i64 + 1,
            area_code: n.code,
            area_name: n.name,
            parent_code: n.parent,
            distance: n.distance,
        })
        .collect();
    let (schema, batches) = to_batches(&SIMILAR_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis: Basis {
            datasets: found.datasets,
            method: format!(
                "Euclidean distance over z-scores across {} {} areas ({})",
                found.areas,
                level.as_str(),
                found.periods.join(", ")
            ),
            fit: renewal_geo::Fit::BestFit,
            bridges: Vec::new(),
        },
        notes: Vec::new(),
    })
}
