//! UK postcodes in one canonical spelling, so a supplier's postcode from a contract register
//! meets the same postcode in the ONS Postcode Directory.
//!
//! Published files spell a postcode several ways: the directory's `pcd` pads the outward code to
//! four characters (`"AL1  1AA"`), `pcd7` squeezes it into seven (`"W1K3RH"` for a long one),
//! `pcds` writes one space, and registers use any case and spacing. [`normalise`] removes every
//! space, checks the shape, and writes outward code, one space, inward code: `pcds`.
//!
//! ```
//! use renewal_geo::postcode::normalise;
//! assert_eq!(normalise("m80ry").as_deref(), Some("M8 0RY"));
//! assert_eq!(normalise("AL1  1AA").as_deref(), Some("AL1 1AA"));
//! assert_eq!(normalise("N/A"), None);
//! ```

/// The canonical (`pcds`) form of `text`, or `None` when it is not shaped like a UK postcode.
///
/// The shape checked is the one every current postcode has: an outward code of a letter, an
/// optional second letter, a digit, and an optional digit or letter (2 to 4 characters), then
/// an inward code of a digit and two letters. `GIR 0AA` (the one historic exception) is
/// accepted. Whether the postcode exists is the directory's business, not this function's.
pub fn normalise(text: &str) -> Option<String> {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !squeezed.is_ascii() || !(5..=7).contains(&squeezed.len()) {
        return None;
    }
    let (outward, inward) = squeezed.split_at(squeezed.len() - 3);
    if squeezed == "GIR0AA" || (outward_ok(outward) && inward_ok(inward)) {
        Some(format!("{outward} {inward}"))
    } else {
        None
    }
}

fn outward_ok(outward: &str) -> bool {
    let b = outward.as_bytes();
    // A9, A99, AA9, AA99, A9A, AA9A.
    match b {
        [a, d] => a.is_ascii_alphabetic() && d.is_ascii_digit(),
        [a, x, y] => {
            a.is_ascii_alphabetic()
                && ((x.is_ascii_digit() && y.is_ascii_alphanumeric())
                    || (x.is_ascii_alphabetic() && y.is_ascii_digit()))
        }
        [a, l, d, y] => {
            a.is_ascii_alphabetic()
                && l.is_ascii_alphabetic()
                && d.is_ascii_digit()
                && y.is_ascii_alphanumeric()
        }
        _ => false,
    }
}

fn inward_ok(inward: &str) -> bool {
    let b = inward.as_bytes();
    matches!(b, [d, x, y] if d.is_ascii_digit() && x.is_ascii_alphabetic() && y.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn every_published_spelling_meets_one_form() {
        // pcd (padded to 8), pcd7 (squeezed to 7), pcds, and register spellings.
        for (text, want) in [
            ("AL1  1AA", "AL1 1AA"),
            ("AL1 1AA", "AL1 1AA"),
            ("W1K 3RH", "W1K 3RH"),
            ("W1K3RH", "W1K 3RH"),
            ("EC1A1BB", "EC1A 1BB"),
            (" m8 0ry ", "M8 0RY"),
            ("la14 2tb", "LA14 2TB"),
            ("M1  1AE", "M1 1AE"),
            ("B338TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("gir 0aa", "GIR 0AA"),
        ] {
            assert_eq!(normalise(text).as_deref(), Some(want), "{text:?}");
        }
    }

    #[test]
    fn what_is_not_a_postcode_is_refused() {
        for text in [
            "",
            "N/A",
            "-",
            "TBC",
            "M8",
            "M8 0R",
            "M8 0RYY",
            "8M 0RY",
            "M8 ORY",
            "M8 0R1",
            "ABCDE 1AA",
            "M8 0RÝ",
            "12345",
        ] {
            assert_eq!(normalise(text), None, "{text:?}");
        }
    }
}
