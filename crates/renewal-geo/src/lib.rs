//! Statistical geographies of England (and Wales, for lookups): area codes, levels and vintages.
//!
//! A ward code such as `E05009862` only means something together with its vintage (`WD19`):
//! ward boundaries change every May. Everything in Renewal that names a ward therefore carries a
//! [`Vintage`] next to it.
//!
//! ```
//! use renewal_geo::{Level, Vintage, validate_code};
//! let v: Vintage = "WD19".parse().unwrap();
//! assert_eq!(v.level, Level::Ward);
//! assert_eq!(v.to_string(), "WD19");
//! assert!(validate_code(Level::Ward, "E05009862").is_ok());
//! assert!(validate_code(Level::Ward, "E01000001").is_err());
//! ```
//!
//! Architecture invariant: no IO and no heavy dependencies here; every other crate may use it.

pub mod bridge;
pub mod postcode;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A level of the LSOA → ward → local authority hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Lsoa,
    Ward,
    Lad,
}

impl Level {
    /// The prefix ONS uses in lookup headers (`LSOA11CD`, `WD19CD`, `LAD19CD`).
    pub fn ons_prefix(self) -> &'static str {
        match self {
            Level::Lsoa => "LSOA",
            Level::Ward => "WD",
            Level::Lad => "LAD",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Level::Lsoa => "LSOA",
            Level::Ward => "ward",
            Level::Lad => "local authority district",
        }
    }

    /// GSS entity codes (the first three characters) valid at this level.
    fn entity_prefixes(self) -> &'static [&'static str] {
        match self {
            Level::Lsoa => &["E01", "W01"],
            Level::Ward => &["E05", "W05"],
            Level::Lad => &["E06", "E07", "E08", "E09", "W06"],
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Lsoa => "lsoa",
            Level::Ward => "ward",
            Level::Lad => "lad",
        })
    }
}

impl FromStr for Level {
    type Err = GeoError;
    fn from_str(s: &str) -> Result<Self, GeoError> {
        match s.to_ascii_lowercase().as_str() {
            "lsoa" => Ok(Level::Lsoa),
            "ward" | "wd" => Ok(Level::Ward),
            "lad" | "la" | "authority" => Ok(Level::Lad),
            _ => Err(GeoError::UnknownLevel(s.to_owned())),
        }
    }
}

/// A geography level at a point in time, as ONS writes it: `LSOA11`, `WD19`, `LAD22`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vintage {
    pub level: Level,
    /// Two-digit year, as in ONS codes (`19` for 2019).
    pub year: u8,
}

impl Vintage {
    pub fn new(level: Level, year: u8) -> Vintage {
        Vintage { level, year }
    }

    /// Reads the vintage out of an ONS lookup header such as `WD19CD`, `lsoa21nm` or `LAD19CD`.
    /// Returns the vintage and whether the column holds codes (`CD`) or names (`NM`).
    pub fn from_ons_header(header: &str) -> Option<(Vintage, HeaderRole)> {
        let upper = header.trim().to_ascii_uppercase();
        let (stem, role) = if let Some(stem) = upper.strip_suffix("CD") {
            (stem, HeaderRole::Code)
        } else if let Some(stem) = upper.strip_suffix("NM") {
            (stem, HeaderRole::Name)
        } else {
            return None;
        };
        stem.parse::<Vintage>().ok().map(|v| (v, role))
    }
}

/// What an ONS lookup column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRole {
    Code,
    Name,
}

impl fmt::Display for Vintage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}", self.level.ons_prefix(), self.year)
    }
}

impl FromStr for Vintage {
    type Err = GeoError;
    fn from_str(s: &str) -> Result<Self, GeoError> {
        let upper = s.trim().to_ascii_uppercase();
        // Longest prefix first: "LAD" and "LSOA" must not be read as something shorter.
        for level in [Level::Lsoa, Level::Lad, Level::Ward] {
            if let Some(digits) = upper.strip_prefix(level.ons_prefix())
                && digits.len() == 2
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                let year = digits
                    .parse()
                    .map_err(|_| GeoError::BadVintage(s.to_owned()))?;
                return Ok(Vintage { level, year });
            }
        }
        Err(GeoError::BadVintage(s.to_owned()))
    }
}

impl Serialize for Vintage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Vintage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    #[error("unknown geography level {0:?} (expected lsoa, ward or lad)")]
    UnknownLevel(String),
    #[error("malformed vintage {0:?} (expected e.g. LSOA11, WD19, LAD19)")]
    BadVintage(String),
    #[error("{code:?} is not a valid {level} code (expected {expected})", level = .level.describe())]
    BadCode {
        level: Level,
        code: String,
        expected: String,
    },
}

/// Checks a GSS code: the entity prefix allowed at `level` followed by exactly six digits.
pub fn validate_code(level: Level, code: &str) -> Result<(), GeoError> {
    let ok = code.len() == 9
        && level.entity_prefixes().iter().any(|p| code.starts_with(p))
        && code.as_bytes()[3..].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(GeoError::BadCode {
            level,
            code: code.to_owned(),
            expected: format!(
                "{} followed by six digits",
                level.entity_prefixes().join("/")
            ),
        })
    }
}

/// Every kind of statistical area Renewal reads figures for, told apart by its GSS entity code.
/// Wider than [`Level`], which is the LSOA → ward → district hierarchy that aggregation walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaType {
    OutputArea,
    Lsoa,
    Msoa,
    Ward,
    /// Lower-tier local authority district (unitary, non-metropolitan, metropolitan, London).
    Lad,
    /// Upper-tier county council area.
    County,
    CombinedAuthority,
    Region,
    Country,
}

impl AreaType {
    const ALL: [(AreaType, &'static str, &'static [&'static str]); 9] = [
        (AreaType::OutputArea, "oa", &["E00", "W00"]),
        (AreaType::Lsoa, "lsoa", &["E01", "W01"]),
        (AreaType::Msoa, "msoa", &["E02", "W02"]),
        (AreaType::Ward, "ward", &["E05", "W05"]),
        (AreaType::Lad, "lad", &["E06", "E07", "E08", "E09", "W06"]),
        (AreaType::County, "county", &["E10"]),
        (AreaType::CombinedAuthority, "combined_authority", &["E47"]),
        (AreaType::Region, "region", &["E12"]),
        (AreaType::Country, "country", &["E92", "W92"]),
    ];

    /// The kind of area a well-formed GSS code names, or `None`.
    pub fn of_code(code: &str) -> Option<AreaType> {
        if code.len() != 9 || !code.as_bytes()[3..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        Self::ALL
            .iter()
            .find(|(_, _, prefixes)| prefixes.iter().any(|p| code.starts_with(p)))
            .map(|(t, _, _)| *t)
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(t, _, _)| *t == self)
            .map_or("", |(_, name, _)| name)
    }
}

impl fmt::Display for AreaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AreaType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(_, name, _)| *name == s)
            .map(|(t, _, _)| *t)
            .ok_or_else(|| format!("unknown area type {s:?}"))
    }
}

/// Whether a code belongs to England (E…) rather than Wales (W…).
pub fn is_english(code: &str) -> bool {
    code.starts_with('E')
}

/// How a figure for an area was obtained from its member areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fit {
    /// The area's own official figure, or built from units that nest in it exactly.
    Exact,
    /// Built from small areas assigned whole to the area they best fit (ONS best-fit lookups):
    /// close to, not equal to, the official figure.
    BestFit,
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fit::Exact => "exact",
            Fit::BestFit => "best-fit",
        })
    }
}

impl FromStr for Fit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(Fit::Exact),
            "best-fit" => Ok(Fit::BestFit),
            other => Err(format!(
                "unknown fit {other:?} (expected exact or best-fit)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_code(level: Level, code: &str, ok: bool) {
        assert_eq!(validate_code(level, code).is_ok(), ok, "{level} {code}");
    }

    #[test]
    fn codes() {
        check_code(Level::Lsoa, "E01000001", true);
        check_code(Level::Lsoa, "W01000240", true);
        check_code(Level::Lsoa, "E0100001", false);
        check_code(Level::Lsoa, "E010000012", false);
        check_code(Level::Lsoa, "E02000001", false);
        check_code(Level::Lsoa, "e01000001", false);
        check_code(Level::Lsoa, "E01O00001", false);
        check_code(Level::Ward, "E05009862", true);
        check_code(Level::Ward, "W05000001", true);
        check_code(Level::Ward, "E01012057", false);
        for lad in [
            "E06000002",
            "E07000223",
            "E08000012",
            "E09000001",
            "W06000001",
        ] {
            check_code(Level::Lad, lad, true);
        }
        check_code(Level::Lad, "E10000001", false);
        check_code(Level::Lad, "W07000001", false);
        check_code(Level::Lad, "", false);
    }

    #[test]
    fn area_types_by_code() {
        let cases = [
            ("E01006109", Some(AreaType::Lsoa)),
            ("E10000007", Some(AreaType::County)),
            ("E47000001", Some(AreaType::CombinedAuthority)),
            ("E08000001", Some(AreaType::Lad)),
            ("E12000002", Some(AreaType::Region)),
            ("E13000001", None),
            ("E0100610", None),
            ("E01O06109", None),
        ];
        for (code, want) in cases {
            assert_eq!(AreaType::of_code(code), want, "{code}");
        }
        assert_eq!(
            "combined_authority".parse::<AreaType>(),
            Ok(AreaType::CombinedAuthority)
        );
        assert_eq!(AreaType::County.to_string(), "county");
    }

    #[test]
    fn vintages_from_headers() {
        let cases = [
            ("WD19CD", Some(("WD19", HeaderRole::Code))),
            ("wd22nm", Some(("WD22", HeaderRole::Name))),
            ("LSOA11CD", Some(("LSOA11", HeaderRole::Code))),
            ("lsoa21cd", Some(("LSOA21", HeaderRole::Code))),
            ("LAD19NM", Some(("LAD19", HeaderRole::Name))),
            ("FID", None),
            ("WD2019CD", None),
            ("LADCD", None),
        ];
        for (header, expected) in cases {
            let got = Vintage::from_ons_header(header).map(|(v, r)| (v.to_string(), r));
            let expected = expected.map(|(v, r)| (v.to_owned(), r));
            assert_eq!(got, expected, "{header}");
        }
    }

    #[test]
    fn vintage_round_trip() {
        for s in ["LSOA11", "WD19", "LAD09", "WD22"] {
            let v: Vintage = s.parse().unwrap();
            assert_eq!(v.to_string(), s);
        }
        assert_eq!("wd19".parse::<Vintage>().unwrap().to_string(), "WD19");
        assert!("WD1".parse::<Vintage>().is_err());
        assert!("XX19".parse::<Vintage>().is_err());
    }
}
