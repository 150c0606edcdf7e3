//! The statistics of `METHODS.md`, as pure functions: confidence intervals for proportions
//! (Wilson), counts and rates (Byar, exact Poisson below 10 events), and the Fingertips-style
//! comparison of an area with its benchmark; means (Student's t), gaps with intervals (MOVER),
//! the Fingertips trend marker (chi-squared test for trend) and gap-halving targets.
//!
//! ```
//! use renewal_stats::{Confidence, wilson};
//! // Newcombe (1998), Table I: 81 of 263, Wilson 95% interval 0.2553 to 0.3662.
//! let ci = wilson(81.0, 263.0, Confidence::P95).unwrap();
//! assert_eq!((format!("{:.4}", ci.lower), format!("{:.4}", ci.upper)), ("0.2553".into(), "0.3662".into()));
//! ```
//!
//! Architecture invariant: no IO, no data frames, no dependencies beyond serde and the num
//! crates (exact rationals for LM3's money); every function here can be checked against a
//! published table or a hand-worked example.

use serde::{Deserialize, Serialize};

pub mod change;
mod difference;
pub mod disclosure;
pub mod lm3;
mod mean;
mod target;
mod trend;

pub use change::{
    Change, CountKind, Counted, counted_change, counted_difference, single_case_difference,
};
pub use difference::{mover_difference, proportion_difference, rate_difference};
pub use disclosure::{Withheld, protect};
pub use mean::{mean_interval, t_quantile};
pub use target::{TargetAssessment, TargetLine, TargetStatus};
pub use trend::{
    GapDirection, TREND_THRESHOLD, Trend, TrendMarker, gap_direction, proportion_trend, rate_trend,
};

/// The two confidence levels Fingertips reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confidence {
    /// 95%.
    P95,
    /// 99.8%, roughly three standard deviations.
    P998,
}

impl Confidence {
    pub fn level(self) -> f64 {
        match self {
            Confidence::P95 => 0.95,
            Confidence::P998 => 0.998,
        }
    }

    /// The two-sided normal quantile z for this level.
    pub fn z(self) -> f64 {
        normal_quantile(1.0 - (1.0 - self.level()) / 2.0)
    }
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }

    fn scaled(self, factor: f64) -> Interval {
        Interval {
            lower: self.lower * factor,
            upper: self.upper * factor,
        }
    }
}

/// Wilson score interval for the proportion `x / n` (METHODS.md):
/// `(2x + z² ∓ z·sqrt(z² + 4x(1 − x/n))) / (2(n + z²))`. `None` when `n` is not positive or
/// `x` is outside `0..=n`.
pub fn wilson(x: f64, n: f64, confidence: Confidence) -> Option<Interval> {
    if n <= 0.0 || !(0.0..=n).contains(&x) {
        return None;
    }
    let z = confidence.z();
    let z2 = z * z;
    let root = z * (z2 + 4.0 * x * (1.0 - x / n)).sqrt();
    let denominator = 2.0 * (n + z2);
    Some(Interval {
        lower: ((2.0 * x + z2 - root) / denominator).max(0.0),
        upper: ((2.0 * x + z2 + root) / denominator).min(1.0),
    })
}

/// Byar's approximation to the Poisson interval of a count `x` (METHODS.md), for `x ≥ 10`.
pub fn byar(x: f64, confidence: Confidence) -> Interval {
    let z = confidence.z();
    let lower = if x > 0.0 {
        x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * x.sqrt())).powi(3)
    } else {
        0.0
    };
    let x1 = x + 1.0;
    let upper = x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * x1.sqrt())).powi(3);
    Interval { lower, upper }
}

/// Exact Poisson limits of a count `x` from the chi-squared distribution:
/// lower = χ²(α/2; 2x)/2 (0 when x = 0), upper = χ²(1 − α/2; 2x + 2)/2.
pub fn poisson_exact(x: f64, confidence: Confidence) -> Interval {
    let alpha = 1.0 - confidence.level();
    let lower = if x > 0.0 {
        chi_squared_quantile(alpha / 2.0, 2.0 * x) / 2.0
    } else {
        0.0
    };
    let upper = chi_squared_quantile(1.0 - alpha / 2.0, 2.0 * x + 2.0) / 2.0;
    Interval { lower, upper }
}

/// Interval for a count: exact Poisson below 10 events, Byar from 10 (METHODS.md).
pub fn count_interval(x: f64, confidence: Confidence) -> Interval {
    if x < 10.0 {
        poisson_exact(x, confidence)
    } else {
        byar(x, confidence)
    }
}

/// Interval for the rate `x / n × multiplier` (crime per 1,000 residents, …). `None` when `n`
/// is not positive or `x` negative.
pub fn rate_interval(x: f64, n: f64, multiplier: f64, confidence: Confidence) -> Option<Interval> {
    if n <= 0.0 || x < 0.0 {
        return None;
    }
    Some(count_interval(x, confidence).scaled(multiplier / n))
}

/// Which direction is good for an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Polarity {
    HigherIsBetter,
    LowerIsBetter,
    /// Report higher / lower only.
    NoJudgement,
}

/// How an area compares with its benchmark (Fingertips rule, METHODS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    Better,
    Similar,
    Worse,
    Higher,
    Lower,
}

/// Similar when the benchmark lies inside the area's interval; otherwise better or worse by
/// polarity (or higher / lower without one).
pub fn compare(area: f64, interval: Interval, benchmark: f64, polarity: Polarity) -> Comparison {
    if interval.contains(benchmark) {
        return Comparison::Similar;
    }
    let higher = area > benchmark;
    match (polarity, higher) {
        (Polarity::HigherIsBetter, true) | (Polarity::LowerIsBetter, false) => Comparison::Better,
        (Polarity::HigherIsBetter, false) | (Polarity::LowerIsBetter, true) => Comparison::Worse,
        (Polarity::NoJudgement, true) => Comparison::Higher,
        (Polarity::NoJudgement, false) => Comparison::Lower,
    }
}

/// Quantile of the standard normal distribution (Wichura's AS 241, about 16 digits).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let value = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -value } else { value }
}

fn poly(coefficients: &[f64; 8], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

// AS 241 coefficients exactly as published.
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    3.387_132_872_796_366_5,
    133.141_667_891_784_38,
    1_971.590_950_306_551_3,
    13_731.693_765_509_461,
    45_921.953_931_549_87,
    67_265.770_927_008_7,
    33_430.575_583_588_13,
    2_509.080_928_730_122_7,
];
// AS 241 coefficients exactly as published.
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    1.0,
    42.313_330_701_600_91,
    687.187_007_492_057_9,
    5_394.196_021_424_751,
    21_213.794_301_586_597,
    39_307.895_800_092_71,
    28_729.085_735_721_943,
    5_226.495_278_852_545,
];
// AS 241 coefficients exactly as published.
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    1.423_437_110_749_683_5,
    4.630_337_846_156_546,
    5.769_497_221_460_691,
    3.647_848_324_763_204_5,
    1.270_458_252_452_368_4,
    0.241_780_725_177_450_6,
    0.022_723_844_989_269_184,
    7.745_450_142_783_414e-4,
];
// AS 241 coefficients exactly as published.
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_759,
    1.676_384_830_183_803_8,
    0.689_767_334_985_1,
    0.148_103_976_427_480_08,
    0.015_198_666_563_616_457,
    5.475_938_084_995_345e-4,
    1.050_750_071_644_416_9e-9,
];
// AS 241 coefficients exactly as published.
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    6.657_904_643_501_103,
    5.463_784_911_164_114,
    1.784_826_539_917_291_3,
    0.296_560_571_828_504_9,
    0.026_532_189_526_576_124,
    0.001_242_660_947_388_078_4,
    2.711_555_568_743_487_6e-5,
    2.010_334_399_292_288_1e-7,
];
// AS 241 coefficients exactly as published.
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    1.0,
    0.599_832_206_555_888,
    0.136_929_880_922_735_8,
    0.014_875_361_290_850_615,
    7.868_691_311_456_133e-4,
    1.846_318_317_510_054_8e-5,
    1.421_511_758_316_446e-7,
    2.043_131_089_201_578_4e-15,
];

/// Quantile of the chi-squared distribution with `k` degrees of freedom, by bisection on the
/// regularized lower incomplete gamma function (monotone, so bisection cannot miss).
pub fn chi_squared_quantile(p: f64, k: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    let a = k / 2.0;
    let cdf = |x: f64| regularized_gamma_p(a, x / 2.0);
    let mut hi = k.max(1.0);
    while cdf(hi) < p {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-14 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// P(a, x): series for x < a + 1, Lentz's continued fraction otherwise.
fn regularized_gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut n = a;
        for _ in 0..10_000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (sum.ln() + log_prefix).exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-17 {
                break;
            }
        }
        1.0 - (log_prefix + h.ln()).exp()
    }
}

/// ln Γ(x) by the Lanczos approximation (g = 7, n = 9), about 15 digits for x > 0.
fn ln_gamma(x: f64) -> f64 {
    #[allow(clippy::excessive_precision)]
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;
