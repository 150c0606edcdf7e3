//! Change against similar areas: an area's change in an indicator between two periods against
//! the change in its k most similar areas (similar on chosen baseline indicators), with an
//! interval for the difference in change — the baseline an outcome-based contract or a "what
//! worked" review needs. The statistics are `renewal_stats::change`.

use std::collections::BTreeSet;

use renewal_schema::ValueType;
use renewal_stats::{Confidence, CountKind, Counted, Interval};
use serde::Serialize;

use crate::aggregate::{Aggregate, Assessed};
use crate::answer::{Answer, Kind, to_batches};
use crate::engine::{Engine, Scope};
use crate::geography::AreaLevel;
use crate::profile::{SimilarOn, nearest};
use crate::{Basis, QueryError, Result};

use super::{comparison_name, polarity, withheld_name};

/// An area's change between two periods against its most similar areas' change.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    /// The outcome indicator.
    pub indicator: String,
    /// The area (an LSOA, ward, authority or neighbourhood code of `level`).
    pub area: String,
    pub level: AreaLevel,
    /// The baseline period P1.
    pub from: String,
    /// The later period P2.
    pub to: String,
    /// The indicators similarity is measured on, at the baseline.
    pub similar_on: Vec<String>,
    /// How many similar areas.
    pub k: usize,
}

#[derive(Debug, Clone, Serialize)]
struct ChangeRow {
    row_kind: &'static str,
    indicator: String,
    area_code: Option<String>,
    area_name: String,
    parent_code: Option<String>,
    rank: Option<i64>,
    distance: Option<f64>,
    from_period: String,
    to_period: String,
    from_numerator: Option<f64>,
    from_denominator: Option<f64>,
    from_value: Option<f64>,
    to_numerator: Option<f64>,
    to_denominator: Option<f64>,
    to_value: Option<f64>,
    change: Option<f64>,
    change_lower_95: Option<f64>,
    change_upper_95: Option<f64>,
    comparison_95: Option<&'static str>,
    suppressed: bool,
    withheld: Option<&'static str>,
    unit: String,
}

/// The change answer's columns, in CSV order. `row_kind` is `area` (the area itself),
/// `similar` (each similar area, with its rank and distance), `pooled` (the similar areas'
/// numerators and denominators summed per period) or `difference` (area change − similar
/// change, with its interval and comparison).
pub const CHANGE_COLUMNS: [(&str, Kind); 22] = [
    ("row_kind", Kind::Text),
    ("indicator", Kind::Text),
    ("area_code", Kind::Text),
    ("area_name", Kind::Text),
    ("parent_code", Kind::Text),
    ("rank", Kind::Integer),
    ("distance", Kind::Number),
    ("from_period", Kind::Text),
    ("to_period", Kind::Text),
    ("from_numerator", Kind::Number),
    ("from_denominator", Kind::Number),
    ("from_value", Kind::Number),
    ("to_numerator", Kind::Number),
    ("to_denominator", Kind::Number),
    ("to_value", Kind::Number),
    ("change", Kind::Number),
    ("change_lower_95", Kind::Number),
    ("change_upper_95", Kind::Number),
    ("comparison_95", Kind::Text),
    ("suppressed", Kind::Flag),
    ("withheld", Kind::Text),
    ("unit", Kind::Text),
];

/// The period a similarity indicator is read at for baseline `from`: `from` itself when the
/// indicator has it; else its latest period whose label sorts before `from` (ISO months,
/// years and financial years sort in time order); else — an IoD edition's single period, or
/// a series starting later — its earliest period.
fn baseline_period(agg: &Aggregate, from: &str) -> Result<String> {
    if agg.periods.iter().any(|p| p == from) {
        return Ok(from.to_owned());
    }
    agg.periods
        .iter()
        .rfind(|p| p.as_str() < from && p.starts_with(|c: char| c.is_ascii_digit()))
        .or(agg.periods.first())
        .cloned()
        .ok_or_else(|| QueryError::Precondition(format!("{} has no periods", agg.indicator.id)))
}

fn has_period(agg: &Aggregate, p: &str) -> Result<()> {
    if agg.periods.iter().any(|q| q == p) {
        Ok(())
    } else {
        Err(QueryError::NotFound(format!(
            "indicator {} has no period {p:?}; it has {}",
            agg.indicator.id,
            agg.periods.join(", ")
        )))
    }
}

/// One pair of figures (P1, P2) as released.
struct Pair {
    from: Assessed,
    to: Assessed,
}

impl Pair {
    fn withheld(&self) -> Option<&'static str> {
        withheld_name(&self.from.0).or(withheld_name(&self.to.0))
    }

    fn counted(&self) -> Option<[Counted; 2]> {
        let c = |a: &Assessed| {
            a.1.map(|(x, n)| Counted {
                numerator: x,
                denominator: n,
            })
        };
        Some([c(&self.from)?, c(&self.to)?])
    }

    /// The change with its interval (counts only); `None` when either figure is missing or
    /// withheld.
    fn change(&self, kind: Option<CountKind>, multiplier: f64) -> (Option<f64>, Option<Interval>) {
        if self.withheld().is_some() {
            return (None, None);
        }
        let (Some(a), Some(b)) = (self.from.0.value, self.to.0.value) else {
            return (None, None);
        };
        let interval = kind.zip(self.counted()).and_then(|(k, [f, t])| {
            renewal_stats::counted_change(k, multiplier, f, t, Confidence::P95).map(|c| c.interval)
        });
        (Some(b - a), interval)
    }
}

/// Change against similar areas: the area's change v(P2) − v(P1) with its interval, the k
/// most similar areas (similar on `similar_on` at the baseline, by the similarity method of
/// `renewal similar`), their pooled change (numerators and denominators summed per period,
/// never rates averaged), and the difference in change with its 95% interval and comparison
/// by polarity. See `renewal_stats::change` for the two interval methods.
pub async fn change_vs_similar(
    engine: &Engine,
    request: &ChangeRequest,
    scope: &Scope,
) -> Result<Answer> {
    if request.level == AreaLevel::England {
        return Err(QueryError::InvalidArgument(
            "level: England has no similar areas; use lsoa, ward, lad or neighbourhood".into(),
        ));
    }
    if request.k == 0 {
        return Err(QueryError::InvalidArgument("k: must be at least 1".into()));
    }
    if request.from == request.to {
        return Err(QueryError::InvalidArgument(
            "to: must be another period than from".into(),
        ));
    }
    let agg = engine.aggregate(&request.indicator, scope).await?;
    let def = agg.indicator.clone();
    has_period(&agg, &request.from)?;
    has_period(&agg, &request.to)?;
    let Some(area) = agg
        .areas
        .get(&(request.level, request.area.clone()))
        .cloned()
    else {
        return Err(QueryError::NotFound(format!(
            "area {} is not a {} of indicator {}'s geography",
            request.area,
            request.level.as_str(),
            def.id
        )));
    };
    let (from, to) = (request.from.as_str(), request.to.as_str());
    let level = request.level;
    // Only areas whose outcome exists in both periods can stand in the comparison.
    let both = |code: &str| {
        [from, to].iter().all(|p| {
            agg.figure(level, code, p)
                .is_some_and(|f| f.numerator.is_some())
        })
    };
    let period_of = |a: &Aggregate| baseline_period(a, from);
    let on = SimilarOn {
        indicators: &request.similar_on,
        period_of: &period_of,
    };
    let found = nearest(engine, &request.area, level, &on, request.k, scope, &both).await?;
    let kind = match def.value_type {
        ValueType::Proportion => Some(CountKind::Proportion),
        ValueType::Rate => Some(CountKind::Rate),
        ValueType::Score | ValueType::Value => None,
    };
    let m = def.multiplier;
    let pair = |code: &str| Pair {
        from: agg.assess(level, code, from),
        to: agg.assess(level, code, to),
    };
    let row = |kind_name: &'static str,
               code: Option<String>,
               name: String,
               parent: Option<String>,
               p: &Pair,
               change: (Option<f64>, Option<Interval>)| ChangeRow {
        row_kind: kind_name,
        indicator: def.id.clone(),
        area_code: code,
        area_name: name,
        parent_code: parent,
        rank: None,
        distance: None,
        from_period: from.to_owned(),
        to_period: to.to_owned(),
        from_numerator: p.from.1.map(|c| c.0),
        from_denominator: p.from.1.map(|c| c.1),
        from_value: p.from.0.value,
        to_numerator: p.to.1.map(|c| c.0),
        to_denominator: p.to.1.map(|c| c.1),
        to_value: p.to.0.value,
        change: change.0,
        change_lower_95: change.1.map(|i| i.lower),
        change_upper_95: change.1.map(|i| i.upper),
        comparison_95: None,
        suppressed: p.withheld().is_some(),
        withheld: p.withheld(),
        unit: def.unit.clone(),
    };

    let mut rows = Vec::new();
    let own = pair(&request.area);
    let own_change = own.change(kind, m);
    rows.push(row(
        "area",
        Some(area.code.clone()),
        area.name.clone(),
        area.parent.clone(),
        &own,
        own_change,
    ));
    let mut similar_changes = Vec::new();
    let mut natives = BTreeSet::new();
    for (i, n) in found.near.iter().enumerate() {
        let p = pair(&n.code);
        let c = p.change(kind, m);
        if let Some(v) = c.0 {
            similar_changes.push(v);
        }
        natives.extend(
            agg.members
                .get(&(level, n.code.clone()))
                .cloned()
                .unwrap_or_default(),
        );
        let mut r = row(
            "similar",
            Some(n.code.clone()),
            n.name.clone(),
            n.parent.clone(),
            &p,
            c,
        );
        r.rank = Some(i as i64 + 1);
        r.distance = Some(n.distance);
        rows.push(r);
    }
    let k = found.near.len();
    let codes: Vec<&String> = natives.iter().collect();
    let pooled = Pair {
        from: agg.assess_set(&codes, from).0,
        to: agg.assess_set(&codes, to).0,
    };
    let pooled_change = pooled.change(kind, m);
    rows.push(row(
        "pooled",
        None,
        format!("the {k} most similar areas, pooled"),
        None,
        &pooled,
        pooled_change,
    ));
    // The difference: for counts, area change − pooled change with the four figures'
    // variances; for scores, area change − the mean of the similar areas' changes with the
    // single-case t interval (it needs every similar area's change).
    let withheld = own.withheld().or(pooled.withheld());
    let difference = match (kind, withheld) {
        (_, Some(_)) => None,
        (Some(ck), None) => own
            .counted()
            .zip(pooled.counted())
            .and_then(|(a, p)| renewal_stats::counted_difference(ck, m, a, p, Confidence::P95)),
        (None, None) => own_change
            .0
            .filter(|_| similar_changes.len() == k)
            .and_then(|a| {
                renewal_stats::single_case_difference(a, &similar_changes, Confidence::P95)
            }),
    };
    let method = match kind {
        Some(CountKind::Proportion) => {
            "difference = area change − pooled similar change; 95% interval by the normal \
             approximation, variance p(1−p)/n per figure (times the multiplier squared), the \
             four figures (area and pooled, at both periods) taken as independent samples — \
             conservative when the same people are counted in both periods"
        }
        Some(CountKind::Rate) => {
            "difference = area change − pooled similar change; 95% interval by the normal \
             approximation, variance x/n² per figure (times the multiplier squared), the four \
             figures (area and pooled, at both periods) taken as independent samples — \
             conservative when the same people are counted in both periods"
        }
        None => {
            "difference = area change − mean of the similar areas' changes (a score has no \
             sampling variance); 95% interval from their spread, Crawford–Howell single-case t: \
             ± t(k−1)·s·√(1+1/k)"
        }
    };
    rows.push(ChangeRow {
        comparison_95: difference.map(|d| {
            comparison_name(renewal_stats::compare(
                d.change,
                d.interval,
                0.0,
                polarity(&def),
            ))
        }),
        suppressed: withheld.is_some(),
        withheld,
        ..row(
            "difference",
            None,
            format!("{} against its {k} most similar areas", area.code),
            None,
            &Pair {
                from: (blank(), None),
                to: (blank(), None),
            },
            (difference.map(|d| d.change), difference.map(|d| d.interval)),
        )
    });

    let mut notes = agg.notes.clone();
    if k < request.k {
        notes.push(format!(
            "only {k} areas could be compared (similar-on values and {} in both {from} and {to}); {} were asked for",
            def.id, request.k
        ));
    }
    if rows.iter().any(|r| r.suppressed) {
        notes.push(
            "disclosure control: a figure withheld as below-threshold has a count below the \
             threshold; complementary means it would reveal such a count with the figures \
             released; nothing built from a withheld figure is given (ARCHITECTURE.md, \
             \"Disclosure control\")"
                .into(),
        );
    }
    let mut datasets = agg.basis.datasets.clone();
    datasets.extend(found.datasets);
    let basis = Basis {
        datasets,
        method: format!(
            "{}; change = value({to}) − value({from}); similar: {k} nearest {} areas by \
             Euclidean distance over z-scores across {} areas at the baseline ({}; each \
             indicator at {from}, else its latest earlier period, else its first); {method}",
            agg.basis.method,
            level.as_str(),
            found.areas,
            found.periods.join(", ")
        ),
        fit: agg.basis.fit,
        bridges: agg.basis.bridges.clone(),
    };
    let (schema, batches) = to_batches(&CHANGE_COLUMNS, &rows)?;
    Ok(Answer {
        schema,
        batches,
        basis,
        notes,
    })
}

fn blank() -> crate::Evaluated {
    crate::Evaluated {
        value: None,
        ci95: None,
        ci998: None,
        suppressed: false,
        withheld: None,
    }
}
