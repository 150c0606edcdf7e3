//! Numbers as published: `29,199`, `1296.00`, `-0.532`, `1.2E-05`.

/// Parses a published number. Thousands separators are accepted only in their proper places,
/// so `1,2` (a European decimal, or two values run together) is an error, not 12.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty where a number is expected".into());
    }
    let plain;
    let candidate = if t.contains(',') {
        if !has_valid_grouping(t) {
            return Err(format!(
                "{t:?} is not a number (misplaced thousands separator)"
            ));
        }
        plain = t.replace(',', "");
        plain.as_str()
    } else {
        t
    };
    match candidate.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{t:?} is not a number")),
    }
}

/// Parses a whole number, allowing the `1296.00` style some exports use.
pub fn parse_whole(text: &str) -> Result<i64, String> {
    let v = parse_number(text)?;
    if v.fract() != 0.0 || v.abs() > 9.0e15 {
        return Err(format!("{:?} is not a whole number", text.trim()));
    }
    Ok(v as i64)
}

/// Parses an amount of money in pounds, as published (`-438.80`, `1,296.5`, `665`), into whole
/// pence, exactly: no floating point is involved, and more than two decimal places is an
/// error rather than a rounding.
pub fn parse_pence(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty where an amount is expected".into());
    }
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let not_amount = || format!("{t:?} is not an amount of money");
    let (int_part, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let int_digits = if int_part.contains(',') {
        if !has_valid_grouping(int_part) {
            return Err(format!(
                "{t:?} is not an amount of money (misplaced thousands separator)"
            ));
        }
        int_part.replace(',', "")
    } else {
        int_part.to_owned()
    };
    if int_digits.is_empty() || !int_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_amount());
    }
    let frac = frac.unwrap_or("");
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_amount());
    }
    if frac.len() > 2 {
        return Err(format!(
            "{t:?} has more than two decimal places: not an amount in pounds and pence"
        ));
    }
    let pounds: i64 = int_digits
        .parse()
        .map_err(|_| format!("{t:?} is too large an amount"))?;
    let pence: i64 = format!("{frac:0<2}").parse().map_err(|_| not_amount())?;
    let total = pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pence))
        .ok_or_else(|| format!("{t:?} is too large an amount"))?;
    Ok(if negative { -total } else { total })
}

fn has_valid_grouping(t: &str) -> bool {
    let unsigned = t.strip_prefix('-').unwrap_or(t);
    let int_part = unsigned.split('.').next().unwrap_or("");
    if unsigned[int_part.len()..].contains(',') {
        return false;
    }
    let mut groups = int_part.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Rounds half away from zero to `decimals` places, the way published tables are rounded.
pub fn round_to(value: f64, decimals: u32) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let ok = [
            ("29,199", 29199.0),
            ("1,296.00", 1296.0),
            ("1296.00", 1296.0),
            ("-0.532", -0.532),
            (" 12.389 ", 12.389),
            ("1.2E-05", 1.2e-5),
            ("1,000,000", 1e6),
        ];
        for (text, want) in ok {
            assert_eq!(parse_number(text), Ok(want), "{text}");
        }
        for bad in [
            "",
            "1,2",
            "12,34,567",
            "1.000,5",
            "abc",
            "NaN",
            "inf",
            "1,2345",
            ",123",
        ] {
            assert!(parse_number(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(parse_whole("1296.00"), Ok(1296));
        assert_eq!(parse_whole("32,844"), Ok(32844));
        assert_eq!(
            parse_whole("12.5"),
            Err("\"12.5\" is not a whole number".to_owned())
        );
    }

    #[test]
    fn pence_are_exact() {
        for (text, want) in [
            ("-438.80", -43880),
            ("477.4", 47740),
            ("665", 66500),
            ("8239117.05", 823911705),
            ("1,296.50", 129650),
            (" -2500 ", -250000),
            ("0.07", 7),
            ("-0.5", -50),
            ("12.", 1200),
        ] {
            assert_eq!(parse_pence(text), Ok(want), "{text}");
        }
        for bad in [
            "",
            "-",
            "1.234",
            "10298896.31.",
            "1,2",
            "abc",
            "£5",
            "1e3",
            "--5",
            ".5",
            "5 00",
            "1.2.3",
            "1,000.5x",
        ] {
            assert!(parse_pence(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rounding_recovers_published_precision() {
        // mySociety writes the income rate in percent with float noise.
        assert_eq!(round_to(56.89999999999999 * 0.01, 3), 0.569);
        assert_eq!(round_to(53.400000000000006 * 0.01, 3), 0.534);
        assert_eq!(round_to(-0.0005, 3), -0.001);
    }
}
