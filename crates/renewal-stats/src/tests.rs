//! Reference values come from published tables, not from this code.

use super::*;

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

#[test]
fn normal_quantiles() {
    assert!((Confidence::P95.z() - 1.959_963_984_540_054).abs() < 1e-14);
    assert!((Confidence::P998.z() - 3.090_232_306_167_813).abs() < 1e-13);
    assert!((normal_quantile(0.5)).abs() < 1e-16);
    assert!((normal_quantile(0.025) + 1.959_963_984_540_054).abs() < 1e-14);
    assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-9);
}

/// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I,
/// method 3 (Wilson score, no continuity correction), 95%.
#[test]
fn wilson_matches_newcombe_table_1() {
    let cases = [
        (81.0, 263.0, 0.2553, 0.3662),
        (15.0, 148.0, 0.0624, 0.1605),
        (0.0, 20.0, 0.0, 0.1611),
        (1.0, 29.0, 0.0061, 0.1718),
    ];
    for (x, n, lo, hi) in cases {
        let ci = wilson(x, n, Confidence::P95).unwrap();
        assert_eq!(
            (round(ci.lower, 4), round(ci.upper, 4)),
            (lo, hi),
            "{x}/{n}"
        );
    }
    assert!(wilson(5.0, 0.0, Confidence::P95).is_none());
    assert!(wilson(6.0, 5.0, Confidence::P95).is_none());
    let all = wilson(20.0, 20.0, Confidence::P95).unwrap();
    assert_eq!(all.upper, 1.0);
    assert_eq!(round(all.lower, 4), 0.8389);
}

/// Exact Poisson limits, 95%, as tabulated by Garwood (1936) and reproduced in the PHE
/// technical guidance on confidence intervals.
#[test]
fn exact_poisson_matches_garwood() {
    let cases = [
        (0.0, 0.0, 3.689),
        (1.0, 0.0253, 5.572),
        (2.0, 0.242, 7.225),
        (5.0, 1.623, 11.668),
        // 9: χ²(0.975; 20)/2 = 34.1696/2.
        (9.0, 4.115, 17.085),
    ];
    for (x, lo, hi) in cases {
        let ci = poisson_exact(x, Confidence::P95);
        let places = if x == 1.0 { 4 } else { 3 };
        assert_eq!(round(ci.lower, places), lo, "lower {x}");
        assert_eq!(round(ci.upper, 3), hi, "upper {x}");
    }
    // With no events the upper 99.8% limit solves e^-μ = 0.001: μ = ln 1000.
    let zero = poisson_exact(0.0, Confidence::P998);
    assert_eq!(zero.lower, 0.0);
    assert!((zero.upper - 1000f64.ln()).abs() < 1e-9);
}

#[test]
fn chi_squared_quantiles_match_tables() {
    // Standard table values.
    assert!((chi_squared_quantile(0.975, 2.0) - 7.377_758_908).abs() < 1e-8);
    assert!((chi_squared_quantile(0.025, 10.0) - 3.246_972_780).abs() < 1e-8);
    assert!((chi_squared_quantile(0.95, 1.0) - 3.841_458_821).abs() < 1e-8);
    assert!((chi_squared_quantile(0.999, 4.0) - 18.466_826_95).abs() < 1e-6);
}

#[test]
fn byar_is_the_methods_formula_and_close_to_exact() {
    // By hand for x = 10 at 95%: 10(1 − 0.011111 − 0.206599)³ = 10 × 0.782290³ = 4.7874, and
    // 11(1 − 1/99 + 1.959964/(3√11))³ = 18.391.
    let ci = byar(10.0, Confidence::P95);
    assert_eq!(round(ci.lower, 3), 4.787);
    assert_eq!(round(ci.upper, 3), 18.391);
    // Garwood's exact 95% limits for 10 are 4.795 and 18.390: Byar is within 0.2% there.
    for x in [10.0, 25.0, 100.0, 1000.0] {
        for c in [Confidence::P95, Confidence::P998] {
            let (a, e) = (byar(x, c), poisson_exact(x, c));
            // The approximation is coarsest in the far tail with few events.
            let tolerance = if c == Confidence::P998 && x < 25.0 {
                0.03
            } else {
                0.005
            };
            assert!(
                (a.lower - e.lower).abs() / e.lower < tolerance,
                "{x} {c:?} lower"
            );
            assert!(
                (a.upper - e.upper).abs() / e.upper < tolerance,
                "{x} {c:?} upper"
            );
        }
    }
}

#[test]
fn rates_switch_method_at_ten_events() {
    // 9 crimes among 1,500 residents per 1,000: exact; 10: Byar.
    let nine = rate_interval(9.0, 1500.0, 1000.0, Confidence::P95).unwrap();
    assert!((nine.lower - 4.115 / 1.5).abs() < 0.001);
    let ten = rate_interval(10.0, 1500.0, 1000.0, Confidence::P95).unwrap();
    assert!((ten.lower - byar(10.0, Confidence::P95).lower / 1.5).abs() < 1e-12);
    let zero = rate_interval(0.0, 1500.0, 1000.0, Confidence::P95).unwrap();
    assert_eq!(zero.lower, 0.0);
    assert!(zero.upper > 0.0);
    assert!(rate_interval(1.0, 0.0, 1000.0, Confidence::P95).is_none());
}

#[test]
fn fingertips_comparisons() {
    let ci = Interval {
        lower: 10.0,
        upper: 14.0,
    };
    let cases = [
        (9.0, Polarity::HigherIsBetter, Comparison::Better),
        (9.0, Polarity::LowerIsBetter, Comparison::Worse),
        (15.0, Polarity::HigherIsBetter, Comparison::Worse),
        (15.0, Polarity::LowerIsBetter, Comparison::Better),
        (14.0, Polarity::LowerIsBetter, Comparison::Similar),
        (10.0, Polarity::HigherIsBetter, Comparison::Similar),
        (9.0, Polarity::NoJudgement, Comparison::Higher),
        (15.0, Polarity::NoJudgement, Comparison::Lower),
    ];
    for (benchmark, polarity, want) in cases {
        assert_eq!(
            compare(12.0, ci, benchmark, polarity),
            want,
            "{benchmark} {polarity:?}"
        );
    }
}
