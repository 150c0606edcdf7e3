//! Tests for the trend, difference, mean and target modules. As in `tests.rs`, reference values
//! come from published tables or from independent calculation (exact fractions or 50-digit
//! mpmath in Python), never from this code.

use super::*;

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}

// ---------------------------------------------------------------------------------------------
// Chi-squared test for trend

#[test]
fn trend_threshold_is_the_998_quantile() {
    assert_eq!(round(chi_squared_quantile(0.998, 1.0), 4), TREND_THRESHOLD);
    assert_eq!(round(Confidence::P998.z().powi(2), 4), TREND_THRESHOLD);
}

#[test]
fn proportion_trend_by_hand() {
    // x/n = 2/10, 6/20, 12/30 at t = 0, 1, 2:
    // p̄ = 20/60 = 1/3; t̄ = (0·10 + 1·20 + 2·30)/60 = 4/3;
    // U = 2(−4/3) + 6(−1/3) + 12(2/3) = 10/3;
    // Σ n(t − t̄)² = 10·16/9 + 20·1/9 + 30·4/9 = 100/3; V = (1/3)(2/3)(100/3) = 200/27;
    // χ² = (100/9)/(200/27) = 3/2.
    let trend = proportion_trend(&[(2.0, 10.0), (6.0, 20.0), (12.0, 30.0)]).unwrap();
    assert!((trend.chi_squared - 1.5).abs() < 1e-12);
    assert_eq!(trend.slope_sign, 1);
    assert_eq!(trend.points, 3);
    assert_eq!(trend.marker, TrendMarker::NoSignificantChange);

    // 50, 60, 70, 80, 100 of 500 each: p̄ = 360/2500 = 18/125, t̄ = 2,
    // U = −2·50 − 60 + 80 + 2·100 = 120, Σ n(t − t̄)² = 500·10 = 5000,
    // V = (18/125)(107/125)·5000 = 15408/25, χ² = 14400·25/15408 = 2500/107 = 23.3645.
    let trend = proportion_trend(&[
        (50.0, 500.0),
        (60.0, 500.0),
        (70.0, 500.0),
        (80.0, 500.0),
        (100.0, 500.0),
    ])
    .unwrap();
    assert!((trend.chi_squared - 2500.0 / 107.0).abs() < 1e-10);
    assert_eq!(trend.marker, TrendMarker::Increasing);
}

/// R's documentation example for `prop.trend.test` (package stats): smokers 83, 90, 129, 70 of
/// patients 86, 93, 136, 82 prints "X-squared = 8.2249, df = 1". The scores there are 1..4;
/// the statistic does not change when they are shifted to 0..3.
#[test]
fn proportion_trend_matches_r_prop_trend_test() {
    let points = [(83.0, 86.0), (90.0, 93.0), (129.0, 136.0), (70.0, 82.0)];
    let trend = proportion_trend(&points).unwrap();
    assert_eq!(round(trend.chi_squared, 4), 8.2249);
    assert_eq!(trend.slope_sign, -1);
    // Significant at 95% (3.84) but not at the 99.8% the marker uses.
    assert_eq!(trend.marker, TrendMarker::NoSignificantChange);
}

/// Rosner, "Fundamentals of Biostatistics", breast cancer by age at first birth (five groups):
/// cases 320, 1206, 1011, 463, 220 of 1742, 5638, 3904, 1555, 626. A course note reproducing
/// it prints A = U = 567.16; χ² = 129.0120 computed independently with exact fractions in
/// Python.
#[test]
fn proportion_trend_five_points_rosner() {
    let points = [
        (320.0, 1742.0),
        (1206.0, 5638.0),
        (1011.0, 3904.0),
        (463.0, 1555.0),
        (220.0, 626.0),
    ];
    let trend = proportion_trend(&points).unwrap();
    assert_eq!(round(trend.chi_squared, 4), 129.0120);
    assert_eq!(trend.marker, TrendMarker::Increasing);
}

#[test]
fn reversing_a_series_flips_the_sign_only() {
    let points = [
        (50.0, 480.0),
        (60.0, 510.0),
        (70.0, 500.0),
        (80.0, 530.0),
        (100.0, 505.0),
    ];
    let mut reversed = points;
    reversed.reverse();
    for test in [proportion_trend, rate_trend] {
        let (a, b) = (test(&points).unwrap(), test(&reversed).unwrap());
        assert!(close(a.chi_squared, b.chi_squared, 1e-12));
        assert_eq!(a.slope_sign, -b.slope_sign);
        assert_eq!(a.marker, TrendMarker::Increasing);
        assert_eq!(b.marker, TrendMarker::Decreasing);
    }
}

#[test]
fn flat_and_degenerate_series_show_no_change_not_nan() {
    let flat = [(10.0, 100.0); 5];
    // The same 10% on different denominators: U is zero only up to rounding.
    let uneven = [(10.0, 100.0), (20.0, 200.0), (5.0, 50.0), (33.0, 330.0)];
    let none = [(0.0, 100.0); 4];
    let all = [(100.0, 100.0), (50.0, 50.0), (70.0, 70.0)];
    for points in [&flat[..], &uneven[..], &none[..], &all[..]] {
        for test in [proportion_trend, rate_trend] {
            let trend = test(points).unwrap();
            assert_eq!(trend.chi_squared, 0.0, "{points:?}");
            assert_eq!(trend.slope_sign, 0, "{points:?}");
            assert_eq!(trend.marker, TrendMarker::NoSignificantChange);
        }
    }
}

#[test]
fn missing_points_keep_their_place_in_time() {
    // 10, 15, 20 of 100 at t = 0, 2, 3 (t = 1 suppressed): t̄ = 5/3,
    // U = 10(−5/3) + 15(1/3) + 20(4/3) = 15, Σ n(t − t̄)² = 100·42/9 = 1400/3,
    // V = (3/20)(17/20)(1400/3) = 119/2, χ² = 225/(119/2) = 450/119.
    let want = 450.0 / 119.0;
    for gap in [(0.0, 0.0), (f64::NAN, f64::NAN), (3.0, -1.0)] {
        let points = [(10.0, 100.0), gap, (15.0, 100.0), (20.0, 100.0)];
        let trend = proportion_trend(&points).unwrap();
        assert!((trend.chi_squared - want).abs() < 1e-12, "{gap:?}");
        assert_eq!(trend.points, 3);
    }
}

#[test]
fn trend_rejects_too_few_or_invalid_points() {
    assert!(proportion_trend(&[]).is_none());
    assert!(proportion_trend(&[(1.0, 10.0), (2.0, 10.0)]).is_none());
    assert!(proportion_trend(&[(1.0, 10.0), (0.0, 0.0), (2.0, 10.0)]).is_none());
    assert!(proportion_trend(&[(1.0, 10.0), (11.0, 10.0), (2.0, 10.0)]).is_none());
    assert!(proportion_trend(&[(1.0, 10.0), (-1.0, 10.0), (2.0, 10.0)]).is_none());
    assert!(rate_trend(&[(1.0, 10.0), (f64::INFINITY, 10.0), (2.0, 10.0)]).is_none());
    // More events than people is a proportion error but an ordinary rate.
    assert!(rate_trend(&[(1.0, 10.0), (11.0, 10.0), (2.0, 10.0)]).is_some());
}

#[test]
fn rate_trend_by_hand() {
    // 3/1000, 4/2000, 9/3000: λ̄ = 16/6000, t̄ = 8000/6000 = 4/3,
    // U = 3(−4/3) + 4(−1/3) + 9(2/3) = 2/3, Σ n(t − t̄)² = 30000/9,
    // V = (16/6000)(30000/9) = 80/9, χ² = (4/9)/(80/9) = 1/20.
    let trend = rate_trend(&[(3.0, 1000.0), (4.0, 2000.0), (9.0, 3000.0)]).unwrap();
    assert!((trend.chi_squared - 0.05).abs() < 1e-12);
    assert_eq!(trend.slope_sign, 1);

    // Crimes 120, 110, 95, 90, 80 among 100,000 each year: t̄ = 2,
    // U = −240 − 110 + 90 + 160 = −100, V = (495/500000)·100000·10 = 990,
    // χ² = 10000/990 = 10.1010 > 9.5495.
    let falling = [
        (120.0, 1e5),
        (110.0, 1e5),
        (95.0, 1e5),
        (90.0, 1e5),
        (80.0, 1e5),
    ];
    let trend = rate_trend(&falling).unwrap();
    assert!((trend.chi_squared - 1000.0 / 99.0).abs() < 1e-10);
    assert_eq!(trend.marker, TrendMarker::Decreasing);
    // Per person or per 1,000: the same test.
    let per_thousand = falling.map(|(x, n)| (x, n / 1000.0));
    let scaled = rate_trend(&per_thousand).unwrap();
    assert!(close(scaled.chi_squared, trend.chi_squared, 1e-12));
}

// ---------------------------------------------------------------------------------------------
// Difference of two estimates (MOVER)

/// Newcombe (1998), "Interval estimation for the difference between independent proportions:
/// comparison of eleven methods", Statistics in Medicine 17:873–890, Table II, method 10
/// (score interval without continuity correction), 95%. All eight rows also recomputed from the
/// formulae at 50 digits in Python; (a), (b) and (g) are reproduced in SAS by the WUSS 2016
/// paper 127.
#[test]
fn proportion_difference_matches_newcombe_table_2() {
    let cases = [
        (56.0, 70.0, 48.0, 80.0, 0.0524, 0.3339),
        (9.0, 10.0, 3.0, 10.0, 0.1705, 0.8090),
        (6.0, 7.0, 2.0, 7.0, 0.0582, 0.8062),
        (5.0, 56.0, 0.0, 29.0, -0.0381, 0.1926),
        (0.0, 10.0, 0.0, 20.0, -0.1611, 0.2775),
        (0.0, 10.0, 0.0, 10.0, -0.2775, 0.2775),
        (10.0, 10.0, 0.0, 20.0, 0.6791, 1.0),
        (10.0, 10.0, 0.0, 10.0, 0.6075, 1.0),
    ];
    for (x1, n1, x2, n2, lo, hi) in cases {
        let ci = proportion_difference(x1, n1, x2, n2, Confidence::P95).unwrap();
        assert_eq!(
            (round(ci.lower, 4), round(ci.upper, 4)),
            (lo, hi),
            "{x1}/{n1} − {x2}/{n2}"
        );
        // Swapping the groups mirrors the interval.
        let swapped = proportion_difference(x2, n2, x1, n1, Confidence::P95).unwrap();
        assert!((swapped.lower + ci.upper).abs() < 1e-15);
        assert!((swapped.upper + ci.lower).abs() < 1e-15);
    }
    // 99.8%, recomputed from the formulae at 50 digits: −0.033487 to 0.401812.
    let wide = proportion_difference(56.0, 70.0, 48.0, 80.0, Confidence::P998).unwrap();
    assert_eq!(
        (round(wide.lower, 6), round(wide.upper, 6)),
        (-0.033487, 0.401812)
    );
    assert!(proportion_difference(1.0, 0.0, 1.0, 10.0, Confidence::P95).is_none());
    assert!(proportion_difference(1.0, 10.0, 11.0, 10.0, Confidence::P95).is_none());
}

#[test]
fn mover_with_symmetric_intervals_is_root_sum_of_squares() {
    // ±3 and ±4 around 10 and 4: the difference 6 gets ±5.
    let ci = mover_difference(
        10.0,
        Interval {
            lower: 7.0,
            upper: 13.0,
        },
        4.0,
        Interval {
            lower: 0.0,
            upper: 8.0,
        },
    );
    assert_eq!((ci.lower, ci.upper), (1.0, 11.0));
}

#[test]
fn rate_difference_uses_the_methods_rate_intervals() {
    // 25 crimes per 5,000 (Byar) against 9 per 3,000 (exact; Garwood 4.115 to 17.085).
    let (x1, n1, x2, n2) = (25.0, 5000.0, 9.0, 3000.0);
    let ci = rate_difference(x1, n1, x2, n2, 1000.0, Confidence::P95).unwrap();
    let i1 = rate_interval(x1, n1, 1000.0, Confidence::P95).unwrap();
    let i2 = rate_interval(x2, n2, 1000.0, Confidence::P95).unwrap();
    assert_eq!(ci, mover_difference(5.0, i1, 3.0, i2));
    // The lower limit borrows the wide upper side of the 9-event interval:
    // 2 − sqrt((5 − l1)² + (17.085/3 − 3)²).
    let l1 = byar(25.0, Confidence::P95).lower / 5.0;
    let want = 2.0 - ((5.0 - l1).powi(2) + (17.085 / 3.0 - 3.0f64).powi(2)).sqrt();
    assert!((ci.lower - want).abs() < 1e-3);
    assert!(ci.contains(0.0));
    assert!(rate_difference(1.0, 0.0, 1.0, 10.0, 1000.0, Confidence::P95).is_none());
}

// ---------------------------------------------------------------------------------------------
// Student's t

/// Standard t tables (e.g. Fisher & Yates; NIST/SEMATECH e-Handbook, Table 1.4.2.7.5), four
/// decimals.
#[test]
fn t_quantiles_match_tables() {
    let cases = [
        (0.975, 1.0, 12.7062),
        (0.975, 10.0, 2.2281),
        (0.999, 5.0, 5.8934),
        (0.999, 30.0, 3.3852),
        (0.95, 3.0, 2.3534),
        (0.975, 9.0, 2.2622),
    ];
    for (p, df, want) in cases {
        assert_eq!(round(t_quantile(p, df), 4), want, "{p} {df}");
        assert_eq!(round(t_quantile(1.0 - p, df), 4), -want, "{p} {df}");
    }
}

#[test]
fn t_quantiles_match_closed_forms() {
    // df = 1 is Cauchy: tan(π(p − 1/2)), written as ∓cot(π·tail) so the reference itself
    // keeps its digits near the pole; df = 2: (2p − 1)/sqrt(2p(1 − p)).
    for p in [0.5001, 0.6, 0.75, 0.9, 0.975, 0.999, 0.999_999, 1e-6, 0.3] {
        let (tail, sign) = if p < 0.5 { (p, -1.0) } else { (1.0 - p, 1.0) };
        let cauchy = sign / (std::f64::consts::PI * tail).tan();
        assert!(close(t_quantile(p, 1.0), cauchy, 1e-10), "df 1, {p}");
        let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
        assert!(close(t_quantile(p, 2.0), two, 1e-10), "df 2, {p}");
    }
}

/// Fifty-digit values from mpmath (`betainc` inverted with `findroot`), including fractional
/// df and both sides of the switch to the Cornish–Fisher expansion at df = 100,000.
#[test]
fn t_quantiles_match_high_precision() {
    let cases = [
        (0.975, 9.0, 2.262_157_162_798_205_5),
        (0.95, 3.0, 2.353_363_434_801_823_9),
        (0.6, 7.0, 0.263_166_861_352_022_8),
        (0.9995, 1000.0, 3.300_282_648_423_913),
        (0.975, 4.5, 2.658_912_347_204_404),
        (0.999, 2.5, 13.822_193_110_865_965),
        (0.9999, 3.0, 22.203_742_273_204_183),
        (0.975, 99_999.0, 1.959_987_707_771_844_8),
        (0.975, 100_001.0, 1.959_987_707_297_379_2),
        (0.999, 1e6, 3.090_240_456_316_52),
        (0.999_999_9, 200_000.0, 5.199_519_779_741_435),
    ];
    for (p, df, want) in cases {
        assert!(close(t_quantile(p, df), want, 1e-10), "{p} {df}");
    }
}

#[test]
fn t_tends_to_normal() {
    assert_eq!(t_quantile(0.975, f64::INFINITY), normal_quantile(0.975));
    for p in [0.9, 0.975, 0.999] {
        let gap = t_quantile(p, 1e9) - normal_quantile(p);
        assert!(gap > 0.0 && gap < 1e-8, "{p}");
    }
    assert_eq!(t_quantile(0.5, 7.0), 0.0);
    assert_eq!(t_quantile(0.0, 7.0), f64::NEG_INFINITY);
    assert_eq!(t_quantile(1.0, 7.0), f64::INFINITY);
    assert!(t_quantile(0.9, 0.0).is_nan());
}

#[test]
fn mean_intervals() {
    // Mean 5, sd 2, n 10: 5 ± t(0.975; 9)·2/√10 = 5 ± 1.430714 (mpmath).
    let ci = mean_interval(5.0, 2.0, 10.0, Confidence::P95).unwrap();
    assert!((ci.lower - (5.0 - 1.430_713_811_941_33)).abs() < 1e-10);
    assert!((ci.upper - (5.0 + 1.430_713_811_941_33)).abs() < 1e-10);
    let wide = mean_interval(5.0, 2.0, 10.0, Confidence::P998).unwrap();
    assert!((wide.upper - (5.0 + 2.717_538_511_467_16)).abs() < 1e-10);
    let none = mean_interval(5.0, 0.0, 10.0, Confidence::P95).unwrap();
    assert_eq!((none.lower, none.upper), (5.0, 5.0));
    assert!(mean_interval(5.0, 2.0, 1.0, Confidence::P95).is_none());
    assert!(mean_interval(5.0, -1.0, 10.0, Confidence::P95).is_none());
    assert!(mean_interval(f64::NAN, 2.0, 10.0, Confidence::P95).is_none());
}

// ---------------------------------------------------------------------------------------------
// Gap targets

#[test]
fn halving_trajectory() {
    let line = TargetLine::halve(2019.0, 10.0, 2029.0);
    assert_eq!(line.target_gap, 5.0);
    let cases = [
        (2015.0, 10.0),
        (2019.0, 10.0),
        (2024.0, 7.5),
        (2027.0, 6.0),
        (2029.0, 5.0),
        (2035.0, 5.0),
    ];
    for (period, want) in cases {
        assert!((line.expected_at(period) - want).abs() < 1e-12, "{period}");
    }
    let closing = TargetLine::new(2019.0, 10.0, 2029.0, 0.0);
    assert_eq!(closing.expected_at(2024.0), 5.0);
}

#[test]
fn target_status_uses_absolute_size() {
    let line = TargetLine::halve(2019.0, 10.0, 2029.0);
    let cases = [
        (7.5, TargetStatus::OnTrack), // at the trajectory counts
        (7.6, TargetStatus::OffTrack),
        (5.0, TargetStatus::Achieved),
        (-7.0, TargetStatus::OnTrack),
        (-8.0, TargetStatus::OffTrack),
        (12.0, TargetStatus::OffTrack),
    ];
    for (gap, want) in cases {
        assert_eq!(line.status(2024.0, gap), want, "{gap}");
    }
    // A gap recorded as area − benchmark may be negative throughout.
    let behind = TargetLine::halve(2019.0, -10.0, 2029.0);
    assert_eq!(behind.status(2024.0, -7.0), TargetStatus::OnTrack);
    assert_eq!(behind.status(2024.0, -8.0), TargetStatus::OffTrack);
    assert_eq!(behind.status(2024.0, -4.0), TargetStatus::Achieved);
}

#[test]
fn a_gap_that_crosses_zero_is_judged_by_size() {
    // 4 behind → 2 behind by 2029; at 2024 the trajectory is 3.
    let line = TargetLine::halve(2019.0, 4.0, 2029.0);
    assert_eq!(line.status(2024.0, -1.0), TargetStatus::Achieved);
    assert_eq!(line.status(2024.0, -2.5), TargetStatus::OnTrack);
    assert_eq!(line.status(2024.0, -5.0), TargetStatus::OffTrack);
}

#[test]
fn off_track_within_noise_or_significantly() {
    let line = TargetLine::halve(2019.0, 10.0, 2029.0);
    let ci = |lower, upper| Interval { lower, upper };
    // Trajectory 7.5 at 2024.
    assert!(line.significantly_off_track(2024.0, ci(8.0, 10.0)));
    assert!(!line.significantly_off_track(2024.0, ci(7.0, 11.0)));
    assert!(line.significantly_off_track(2024.0, ci(-10.0, -8.0)));
    assert!(!line.significantly_off_track(2024.0, ci(6.0, 7.0)));

    let assessed = line.assess(2024.0, 9.0, Some(ci(7.0, 11.0)));
    assert_eq!(
        assessed,
        TargetAssessment {
            status: TargetStatus::OffTrack,
            expected_gap: 7.5,
            significantly_off_track: Some(false),
        }
    );
    assert_eq!(line.assess(2024.0, 9.0, None).significantly_off_track, None);
}

#[test]
fn zero_baseline_gap_must_stay_zero() {
    let line = TargetLine::halve(2019.0, 0.0, 2029.0);
    assert_eq!(line.expected_at(2024.0), 0.0);
    assert_eq!(line.status(2024.0, 0.0), TargetStatus::Achieved);
    assert_eq!(line.status(2024.0, 0.3), TargetStatus::OffTrack);
    assert_eq!(line.status(2024.0, -0.3), TargetStatus::OffTrack);
    let ci = |lower, upper| Interval { lower, upper };
    assert!(!line.significantly_off_track(2024.0, ci(-0.2, 0.8)));
    assert!(line.significantly_off_track(2024.0, ci(0.1, 0.5)));
}

#[test]
fn target_before_baseline_does_not_divide_by_zero() {
    let line = TargetLine::halve(2020.0, 10.0, 2020.0);
    assert_eq!(line.expected_at(2019.0), 10.0);
    assert_eq!(line.expected_at(2020.0), 5.0);
    let backwards = TargetLine::halve(2020.0, 10.0, 2018.0);
    for period in [2017.0, 2019.0, 2021.0] {
        assert!(backwards.expected_at(period).is_finite());
    }
}

/// A gap series at times 0..5 whose every 95% interval is the gap ± 1.96 × `se`.
fn gap_series(gaps: &[f64], se: f64) -> Vec<(f64, f64, Interval)> {
    let half = Confidence::P95.z() * se;
    gaps.iter()
        .enumerate()
        .map(|(t, &g)| {
            let interval = Interval {
                lower: g - half,
                upper: g + half,
            };
            (t as f64, g, interval)
        })
        .collect()
}

#[test]
fn gap_direction_by_hand() {
    // se 0.5 → weight 4; t̄ = 2, Sxx = 4 × 10 = 40, slope −2: z = −2√40 ≈ −12.6, far past
    // 3.09, against a mean gap of +6: narrowing. Mirrored, widening; below zero, the sign of
    // the mean gap decides.
    assert_eq!(
        gap_direction(&gap_series(&[10.0, 8.0, 6.0, 4.0, 2.0], 0.5)),
        GapDirection::Narrowing
    );
    assert_eq!(
        gap_direction(&gap_series(&[2.0, 4.0, 6.0, 8.0, 10.0], 0.5)),
        GapDirection::Widening
    );
    assert_eq!(
        gap_direction(&gap_series(&[-10.0, -8.0, -6.0, -4.0, -2.0], 0.5)),
        GapDirection::Narrowing
    );
    // se 1 → weight 1, Sxx = 10: z = slope × √10. Slope 1 gives z ≈ 3.162 > 3.0902
    // (significant, widening from a mean gap of 3); slope 0.97 gives z ≈ 3.067 (not).
    assert_eq!(
        gap_direction(&gap_series(&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0)),
        GapDirection::Widening
    );
    let gentle: Vec<f64> = (0..5).map(|t| 1.0 + 0.97 * f64::from(t)).collect();
    assert_eq!(
        gap_direction(&gap_series(&gentle, 1.0)),
        GapDirection::NoSignificantChange
    );
    assert_eq!(
        GapDirection::NoSignificantChange.as_str(),
        "no-significant-change"
    );
}

#[test]
fn gap_direction_needs_three_weighted_points() {
    assert_eq!(
        gap_direction(&gap_series(&[10.0, 2.0], 0.1)),
        GapDirection::TooFewPoints
    );
    // A zero-width interval carries no weight: three points, two usable.
    let mut points = gap_series(&[10.0, 6.0, 2.0], 0.1);
    points[1].2 = Interval {
        lower: 6.0,
        upper: 6.0,
    };
    assert_eq!(gap_direction(&points), GapDirection::TooFewPoints);
    assert_eq!(GapDirection::TooFewPoints.as_str(), "too-few-points");
}
