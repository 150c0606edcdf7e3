//! The Fingertips recent-trend marker: the chi-squared test for trend (Armitage) over the last
//! few points of a series, with time scores 0, 1, 2, ….

use serde::{Deserialize, Serialize};

/// χ² on one degree of freedom above which a trend is significant at 99.8% (METHODS.md);
/// equals `chi_squared_quantile(0.998, 1.0)` to four decimals.
pub const TREND_THRESHOLD: f64 = 9.5495;

/// The direction Fingertips shows beside an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrendMarker {
    Increasing,
    Decreasing,
    NoSignificantChange,
}

/// Result of a test for trend. The direction is the sign of the score statistic
/// U = Σ x_t (t − t̄): the value moved up or down on average across all the points, not merely
/// between the first and the last.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub chi_squared: f64,
    /// −1, 0 or 1.
    pub slope_sign: i8,
    /// Points that entered the test (those with a positive denominator).
    pub points: usize,
    pub marker: TrendMarker,
}

/// Chi-squared test for trend in proportions `x / n` (Armitage 1955), points in time order.
/// p̄ = Σx/Σn, t̄ = Σ n t / Σ n, U = Σ x_t (t − t̄), V = p̄(1 − p̄) Σ n_t (t − t̄)², χ² = U²/V,
/// the statistic R's `prop.trend.test` reports (no N/(N − 1) factor).
///
/// A point with `n ≤ 0` or a NaN is missing (a suppressed year, say): it is skipped but keeps
/// its place in time, so the years either side stay two apart. `None` with fewer than 3 usable
/// points, or when a usable point is infinite, negative or has `x > n`. When every point is 0%
/// or every point is 100% there is nothing to test: χ² = 0, no significant change.
pub fn proportion_trend(points: &[(f64, f64)]) -> Option<Trend> {
    armitage(points, true, |mean| mean * (1.0 - mean))
}

/// The Poisson analogue for rates `count / population`: as [`proportion_trend`] with
/// V = λ̄ Σ n_t (t − t̄)², λ̄ = Σx/Σn, because a Poisson count's variance is its mean. The
/// multiplier does not matter: χ² is the same per person or per 1,000.
pub fn rate_trend(points: &[(f64, f64)]) -> Option<Trend> {
    armitage(points, false, |mean| mean)
}

fn armitage(
    points: &[(f64, f64)],
    bounded_by_n: bool,
    variance: impl Fn(f64) -> f64,
) -> Option<Trend> {
    // (t, x, n): the score is the position in the caller's series, before skipping.
    let used: Vec<(f64, f64, f64)> = points
        .iter()
        .enumerate()
        .filter(|&(_, &(x, n))| !x.is_nan() && !n.is_nan() && n > 0.0)
        .map(|(t, &(x, n))| (t as f64, x, n))
        .collect();
    let invalid = |&(_, x, n): &(f64, f64, f64)| {
        !x.is_finite() || !n.is_finite() || x < 0.0 || (bounded_by_n && x > n)
    };
    if used.len() < 3 || used.iter().any(invalid) {
        return None;
    }
    let total_n: f64 = used.iter().map(|p| p.2).sum();
    let total_x: f64 = used.iter().map(|p| p.1).sum();
    let mean = total_x / total_n;
    let t_bar = used.iter().map(|&(t, _, n)| n * t).sum::<f64>() / total_n;
    let u: f64 = used.iter().map(|&(t, x, _)| x * (t - t_bar)).sum();
    let spread: f64 = used.iter().map(|&(t, _, n)| n * (t - t_bar).powi(2)).sum();
    let v = variance(mean) * spread;
    // A flat series gives U that is zero only up to rounding; without this it would carry an
    // arbitrary sign.
    let u_scale: f64 = used.iter().map(|&(t, x, _)| x * (t - t_bar).abs()).sum();
    let flat = u.abs() <= 1e-12 * u_scale;
    if v <= 0.0 || flat {
        return Some(Trend {
            chi_squared: 0.0,
            slope_sign: 0,
            points: used.len(),
            marker: TrendMarker::NoSignificantChange,
        });
    }
    let chi_squared = u * u / v;
    let slope_sign: i8 = if u > 0.0 { 1 } else { -1 };
    let marker = match (chi_squared > TREND_THRESHOLD, slope_sign) {
        (false, _) => TrendMarker::NoSignificantChange,
        (true, 1) => TrendMarker::Increasing,
        (true, _) => TrendMarker::Decreasing,
    };
    Some(Trend {
        chi_squared,
        slope_sign,
        points: used.len(),
        marker,
    })
}

/// Whether a gap moved toward zero over a series ([`gap_direction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapDirection {
    /// The slope is significant at 99.8% and opposite in sign to the mean gap.
    Narrowing,
    /// The slope is significant at 99.8% and the same sign as the mean gap.
    Widening,
    NoSignificantChange,
    /// Fewer than three points with a usable interval.
    TooFewPoints,
}

impl GapDirection {
    /// The label answers carry (`narrowing`, `widening`, `no-significant-change`,
    /// `too-few-points`).
    pub fn as_str(self) -> &'static str {
        match self {
            GapDirection::Narrowing => "narrowing",
            GapDirection::Widening => "widening",
            GapDirection::NoSignificantChange => "no-significant-change",
            GapDirection::TooFewPoints => "too-few-points",
        }
    }
}

/// Whether a gap series moves significantly toward zero: weighted least squares of the gap on
/// time, weights 1/se² with se = (upper − lower) / (2 × 1.96) from each gap's 95% interval, and
/// the slope's z = b·√Sxx (its standard error is 1/√Sxx under those weights) tested two-sided
/// at 99.8%, the level Fingertips uses for trends. Points are `(time, gap, 95% interval)`; a
/// point whose interval has no width or is not finite carries no weight and is skipped.
pub fn gap_direction(points: &[(f64, f64, crate::Interval)]) -> GapDirection {
    let z95 = crate::Confidence::P95.z();
    let usable: Vec<(f64, f64, f64)> = points
        .iter()
        .filter_map(|(t, g, i)| {
            let se = (i.upper - i.lower) / (2.0 * z95);
            (se > 0.0 && se.is_finite()).then_some((*t, *g, 1.0 / (se * se)))
        })
        .collect();
    if usable.len() < 3 {
        return GapDirection::TooFewPoints;
    }
    let sw: f64 = usable.iter().map(|p| p.2).sum();
    let tbar = usable.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
    let gbar = usable.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
    let sxx: f64 = usable.iter().map(|p| p.2 * (p.0 - tbar).powi(2)).sum();
    if sxx <= 0.0 {
        return GapDirection::NoSignificantChange;
    }
    let slope = usable
        .iter()
        .map(|p| p.2 * (p.0 - tbar) * (p.1 - gbar))
        .sum::<f64>()
        / sxx;
    let z = slope * sxx.sqrt();
    if z.abs() <= crate::Confidence::P998.z() {
        GapDirection::NoSignificantChange
    } else if slope * gbar < 0.0 {
        GapDirection::Narrowing
    } else {
        GapDirection::Widening
    }
}
