//! Period labels as positions in time, for trajectories and trend lines.

/// Whether labels are financial years (`2016-17`): every one `YYYY-YY` with YY following
/// YYYY. Decided per series, since `2011-12` alone could be a month.
pub fn financial_years(labels: &[&str]) -> bool {
    !labels.is_empty()
        && labels.iter().all(|l| {
            l.len() == 7
                && l.as_bytes()[4] == b'-'
                && match (l[0..4].parse::<u32>(), l[5..7].parse::<u32>()) {
                    (Ok(y), Ok(t)) => (y + 1) % 100 == t,
                    _ => false,
                }
        })
}

/// A period label as a position in years, for trajectories and trend lines: financial years
/// from their start (`2016-17` → 2016), months (`2021-01` → 2021.0), census days and calendar
/// years likewise.
pub fn period_position(label: &str, financial: bool) -> Option<f64> {
    let year: f64 = label.get(0..4)?.parse::<u32>().ok()?.into();
    if financial {
        return Some(year);
    }
    match label.len() {
        4 => Some(year),
        7 => {
            let month: f64 = label.get(5..7)?.parse::<u32>().ok()?.into();
            Some(year + (month - 1.0) / 12.0)
        }
        10 => {
            let month: f64 = label.get(5..7)?.parse::<u32>().ok()?.into();
            let day: f64 = label.get(8..10)?.parse::<u32>().ok()?.into();
            Some(year + (month - 1.0) / 12.0 + (day - 1.0) / 365.0)
        }
        _ => None,
    }
}
