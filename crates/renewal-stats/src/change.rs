//! Change between two periods, for one area against its most similar areas ("change against
//! similar areas": the baseline an outcome-based contract or a "what worked" review needs).
//!
//! Two methods, chosen by what the figures carry:
//!
//! - **Counts** (proportions and rates): each of the four figures (area and pooled similar
//!   areas, at the first and the second period) has a sampling variance from its own counts,
//!   by the normal approximation — p(1 − p)/n for a proportion p = x/n, x/n² for a rate — times
//!   the multiplier squared. The two periods are treated as independent samples, so the
//!   variance of a change is the sum of its two periods' variances, and that of the difference
//!   in change the sum of all four. When the same people are counted in both periods the
//!   periods are positively correlated and this overstates the variance: the interval is
//!   conservative (too wide, never too narrow).
//! - **Scores and published values** (IoD scores) have no sampling variance. The interval
//!   then comes from the spread of the similar areas' own changes: the area's change is
//!   compared with the mean of theirs as one more case from the same population (Crawford and
//!   Howell's single-case t): difference = a − x̄, interval ± t(k − 1) · s · √(1 + 1/k), where
//!   s is the standard deviation of the k similar areas' changes.

use crate::{Confidence, Interval, t_quantile};

/// How a figure's sampling variance follows from its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountKind {
    /// x of n: variance p(1 − p)/n.
    Proportion,
    /// x events over n: variance x/n² (Poisson).
    Rate,
}

/// A figure from counts: numerator x, denominator n, value x/n · multiplier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counted {
    pub numerator: f64,
    pub denominator: f64,
}

impl Counted {
    /// The value, x/n · `multiplier`; `None` without a positive denominator.
    pub fn value(&self, multiplier: f64) -> Option<f64> {
        (self.denominator > 0.0).then(|| self.numerator / self.denominator * multiplier)
    }

    /// The sampling variance of the value (in the indicator's unit, squared) by the normal
    /// approximation; `None` without a positive denominator.
    pub fn variance(&self, kind: CountKind, multiplier: f64) -> Option<f64> {
        let (x, n) = (self.numerator, self.denominator);
        if n <= 0.0 {
            return None;
        }
        let v = match kind {
            CountKind::Proportion => {
                let p = x / n;
                p * (1.0 - p) / n
            }
            CountKind::Rate => x / (n * n),
        };
        Some(v * multiplier * multiplier)
    }
}

/// A change (second period − first) with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub change: f64,
    pub interval: Interval,
}

fn normal_interval(centre: f64, variance: f64, confidence: Confidence) -> Interval {
    let half = confidence.z() * variance.sqrt();
    Interval {
        lower: centre - half,
        upper: centre + half,
    }
}

/// The change from `from` to `to` with its normal-approximation interval, the two periods
/// taken as independent samples.
pub fn counted_change(
    kind: CountKind,
    multiplier: f64,
    from: Counted,
    to: Counted,
    confidence: Confidence,
) -> Option<Change> {
    let change = to.value(multiplier)? - from.value(multiplier)?;
    let variance = from.variance(kind, multiplier)? + to.variance(kind, multiplier)?;
    Some(Change {
        change,
        interval: normal_interval(change, variance, confidence),
    })
}

/// The area's change minus the pooled similar areas' change, with the interval from the sum
/// of the four figures' variances (all four independent).
pub fn counted_difference(
    kind: CountKind,
    multiplier: f64,
    area: [Counted; 2],
    pooled: [Counted; 2],
    confidence: Confidence,
) -> Option<Change> {
    let a = area[1].value(multiplier)? - area[0].value(multiplier)?;
    let p = pooled[1].value(multiplier)? - pooled[0].value(multiplier)?;
    let mut variance = 0.0;
    for f in area.iter().chain(&pooled) {
        variance += f.variance(kind, multiplier)?;
    }
    let difference = a - p;
    Some(Change {
        change: difference,
        interval: normal_interval(difference, variance, confidence),
    })
}

/// The area's change against the mean of the similar areas' changes, for figures without a
/// sampling variance: a − x̄ ± t(k − 1) · s · √(1 + 1/k) (Crawford and Howell's single-case
/// t). `None` with fewer than two similar areas (no spread to measure).
pub fn single_case_difference(
    area_change: f64,
    similar_changes: &[f64],
    confidence: Confidence,
) -> Option<Change> {
    let k = similar_changes.len();
    if k < 2 {
        return None;
    }
    let kf = k as f64;
    let mean = similar_changes.iter().sum::<f64>() / kf;
    let var = similar_changes
        .iter()
        .map(|c| (c - mean).powi(2))
        .sum::<f64>()
        / (kf - 1.0);
    let t = t_quantile(1.0 - (1.0 - confidence.level()) / 2.0, kf - 1.0);
    let half = t * var.sqrt() * (1.0 + 1.0 / kf).sqrt();
    let difference = area_change - mean;
    Some(Change {
        change: difference,
        interval: Interval {
            lower: difference - half,
            upper: difference + half,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    /// Hand-computed: area 30/200 → 20/200 (percent), pooled 300/2000 → 280/2000.
    /// Area change −5; variances 100²·(0.15·0.85/200) = 6.375 and 100²·(0.1·0.9/200) = 4.5.
    /// Pooled change −1; variances 0.6375 and 100²·(0.14·0.86/2000) = 0.602.
    /// Difference −4, variance 6.375 + 4.5 + 0.6375 + 0.602 = 12.1145.
    #[test]
    fn proportion_change_and_difference_by_hand() {
        let c = |x, n| Counted {
            numerator: x,
            denominator: n,
        };
        let a = counted_change(
            CountKind::Proportion,
            100.0,
            c(30.0, 200.0),
            c(20.0, 200.0),
            Confidence::P95,
        )
        .unwrap();
        close(a.change, -5.0);
        let z = 1.959_963_984_540_054;
        close(a.interval.lower, -5.0 - z * 10.875f64.sqrt());
        close(a.interval.upper, -5.0 + z * 10.875f64.sqrt());
        let d = counted_difference(
            CountKind::Proportion,
            100.0,
            [c(30.0, 200.0), c(20.0, 200.0)],
            [c(300.0, 2000.0), c(280.0, 2000.0)],
            Confidence::P95,
        )
        .unwrap();
        close(d.change, -4.0);
        close(d.interval.upper, -4.0 + z * 12.1145f64.sqrt());
    }

    /// Rate per 1,000: 40 events in 2,000 → 60 in 2,000: change 10 per 1,000; variance
    /// 1000²·(40/2000² + 60/2000²) = 25.
    #[test]
    fn rate_change_by_hand() {
        let c = |x, n| Counted {
            numerator: x,
            denominator: n,
        };
        let a = counted_change(
            CountKind::Rate,
            1000.0,
            c(40.0, 2000.0),
            c(60.0, 2000.0),
            Confidence::P95,
        )
        .unwrap();
        close(a.change, 10.0);
        let z = 1.959_963_984_540_054;
        close(a.interval.lower, 10.0 - 5.0 * z);
        assert!(
            counted_change(
                CountKind::Rate,
                1.0,
                c(1.0, 0.0),
                c(1.0, 1.0),
                Confidence::P95
            )
            .is_none()
        );
    }

    /// Similar changes 1, 2, 3: mean 2, s = 1, k = 3; t(2, 0.975) = 4.302652729911275.
    /// Area change 5: difference 3 ± 4.302652729911275 · √(4/3).
    #[test]
    fn single_case_by_hand() {
        let d = single_case_difference(5.0, &[1.0, 2.0, 3.0], Confidence::P95).unwrap();
        close(d.change, 3.0);
        let half = 4.302_652_729_911_275 * (4.0f64 / 3.0).sqrt();
        assert!((d.interval.upper - (3.0 + half)).abs() < 1e-8);
        assert!((d.interval.lower - (3.0 - half)).abs() < 1e-8);
        assert!(single_case_difference(5.0, &[1.0], Confidence::P95).is_none());
    }
}
