//! The questions LSP analysts ask (issue 4), answered from cached aggregates with the
//! statistics of METHODS.md (computed in renewal-stats), one question per module: gaps against
//! the authority or England ([`gap`]), which areas a question pools ([`selection`]), deprived
//! areas against the rest ([`versus`]), narrowing-the-gap series ([`trend`]) over period labels
//! ([`periods`]), and targets ([`targets`]). What they share lives here: the gap of one figure
//! against another, the period a question picks, and how withheld figures are named.

mod change;
mod gap;
mod lpp;
mod periods;
mod selection;
mod targets;
mod trend;
mod versus;

pub use change::{CHANGE_COLUMNS, ChangeRequest, change_vs_similar};
pub use gap::{Benchmark, GAP_COLUMNS, GapRequest, GapRow, gap_table};
pub use lpp::{DEFAULT_PLAN, LPP_COLUMNS, LppRequest, VALUES_NOT_POOLED, local_performance_plan};
pub use periods::{financial_years, period_position};
pub use selection::Selection;
pub use targets::target_status;
pub use trend::{TrendRequest, narrowing, narrowing_vs_england};
pub use versus::{SelectionRequest, authority_code, deprived_vs_england, deprived_vs_rest};
pub(crate) use versus::{absent, england_coverage};

use renewal_schema::{IndicatorDef, PolarityName};
use renewal_stats::{Comparison, Interval, Polarity};

use crate::aggregate::{Aggregate, Evaluated};
use crate::{QueryError, Result};

pub(crate) fn polarity(def: &IndicatorDef) -> Polarity {
    match def.polarity {
        PolarityName::HigherIsBetter => Polarity::HigherIsBetter,
        PolarityName::LowerIsBetter => Polarity::LowerIsBetter,
        PolarityName::NoJudgement => Polarity::NoJudgement,
    }
}

fn comparison_name(c: Comparison) -> &'static str {
    match c {
        Comparison::Better => "better",
        Comparison::Similar => "similar",
        Comparison::Worse => "worse",
        Comparison::Higher => "higher",
        Comparison::Lower => "lower",
    }
}

/// A value against a benchmark value: gap (area − benchmark, in the indicator's unit, so
/// percentage points for percentages), MOVER interval for the gap, ratio, Fingertips
/// comparisons at 95% and 99.8%.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Gap {
    pub gap: Option<f64>,
    pub interval: Option<Interval>,
    pub ratio: Option<f64>,
    pub comparison_95: Option<&'static str>,
    pub comparison_998: Option<&'static str>,
}

pub(crate) fn gap(def: &IndicatorDef, area: &Evaluated, benchmark: &Evaluated) -> Gap {
    let (Some(v), Some(b)) = (area.value, benchmark.value) else {
        return Gap::default();
    };
    let p = polarity(def);
    let interval = match (area.ci95, benchmark.ci95) {
        (Some(i1), Some(i2)) => Some(renewal_stats::mover_difference(v, i1, b, i2)),
        _ => None,
    };
    Gap {
        gap: Some(v - b),
        interval,
        ratio: (b != 0.0).then(|| v / b),
        comparison_95: area
            .ci95
            .map(|i| comparison_name(renewal_stats::compare(v, i, b, p))),
        comparison_998: area
            .ci998
            .map(|i| comparison_name(renewal_stats::compare(v, i, b, p))),
    }
}

fn pick_period(agg: &Aggregate, period: Option<&str>) -> Result<String> {
    match period {
        Some(p) if agg.periods.iter().any(|q| q == p) => Ok(p.to_owned()),
        Some(p) => Err(QueryError::NotFound(format!(
            "indicator {} has no period {p:?}; it has {}",
            agg.indicator.id,
            agg.periods.join(", ")
        ))),
        None => agg
            .latest_period()
            .map(String::from)
            .ok_or_else(|| QueryError::Precondition("no periods".into())),
    }
}

fn withheld_name(e: &Evaluated) -> Option<&'static str> {
    e.withheld.map(|w| w.as_str())
}

/// The note an answer with withheld figures carries.
fn disclosure_note(below: usize, complementary: usize, threshold: f64) -> String {
    format!(
        "disclosure control: {below} figures withheld as counts below {threshold}, {complementary} \
         more withheld because with the figures released they would reveal one (complementary \
         suppression; ARCHITECTURE.md, \"Disclosure control\")"
    )
}
