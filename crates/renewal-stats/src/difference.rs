//! Confidence intervals for a gap (area − benchmark) built from the two estimates' own
//! intervals: MOVER, "method of variance estimates recovery" (Newcombe 1998, method 10, for
//! proportions; Zou & Donner 2008 in general).

use crate::{Confidence, Interval, rate_interval, wilson};

/// Interval for `p1 − p2` from each estimate's interval:
/// lower = d − sqrt((p1 − l1)² + (u2 − p2)²), upper = d + sqrt((u1 − p1)² + (p2 − l2)²).
/// The two estimates must be independent, so for "area versus the rest" pass the complement,
/// never a total that contains the area. Asymmetric intervals (Wilson near 0 or 1, Poisson
/// with few events) stay asymmetric, which is the point of the method.
pub fn mover_difference(p1: f64, i1: Interval, p2: f64, i2: Interval) -> Interval {
    let d = p1 - p2;
    Interval {
        lower: d - ((p1 - i1.lower).powi(2) + (i2.upper - p2).powi(2)).sqrt(),
        upper: d + ((i1.upper - p1).powi(2) + (p2 - i2.lower).powi(2)).sqrt(),
    }
}

/// Newcombe's hybrid score interval for `x1/n1 − x2/n2`: MOVER over two Wilson intervals. The
/// limits lie in −1..=1 as a proportion difference must. `None` when either Wilson interval
/// is undefined.
pub fn proportion_difference(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    confidence: Confidence,
) -> Option<Interval> {
    let i1 = wilson(x1, n1, confidence)?;
    let i2 = wilson(x2, n2, confidence)?;
    Some(mover_difference(x1 / n1, i1, x2 / n2, i2))
}

/// Interval for the difference of two rates `x / n × multiplier`, MOVER over the METHODS.md
/// rate intervals (exact Poisson below 10 events, Byar from 10). `None` when either rate
/// interval is undefined.
pub fn rate_difference(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    multiplier: f64,
    confidence: Confidence,
) -> Option<Interval> {
    let i1 = rate_interval(x1, n1, multiplier, confidence)?;
    let i2 = rate_interval(x2, n2, multiplier, confidence)?;
    Some(mover_difference(
        x1 / n1 * multiplier,
        i1,
        x2 / n2 * multiplier,
        i2,
    ))
}
