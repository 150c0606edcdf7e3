//! Layouts of parent-area lookups (`datasets/parents/`): districts or LSOAs → counties,
//! Community Safety Partnerships, police force areas, combined authorities, regions, integrated
//! care boards, or a partner's own areas. Columns are named with `{yy}` for the two-digit year
//! (`PFA{yy}CD`), so a new year of an ONS lookup needs no new file; the year read from the
//! headers is the dataset's vintage.

use serde::Deserialize;

use crate::SchemaError;

/// What the members of a parent-area lookup are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberLevel {
    /// Local authority districts (lower tier).
    Lad,
    /// LSOAs.
    Lsoa,
    /// Told apart per file by the members' GSS prefixes (user-defined files).
    Detect,
}

/// One parent type a layout defines, with its columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentColumns {
    /// The parent type (`pfa`, `icb` …), or `user` for a type named on the command line.
    #[serde(rename = "type")]
    pub kind: String,
    /// Header of the parent code column, `{yy}` standing for the year.
    pub code: String,
    /// Header of the parent name column.
    pub name: String,
    /// GSS entity prefixes a code of this type must have; empty: any non-empty code.
    #[serde(default)]
    pub prefixes: Vec<String>,
}

/// A layout of parent-area lookups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentsFormat {
    pub id: String,
    pub description: String,
    pub member_level: MemberLevel,
    /// Header of the member code column, `{yy}` standing for the year.
    pub member_code: String,
    /// Header of the member name column, if the layout has one.
    #[serde(default)]
    pub member_name: Option<String>,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
    pub parents: Vec<ParentColumns>,
}

/// The parent type of user-defined files: the real type name comes from the request.
pub const USER_TYPE: &str = "user";

/// What every parent-area dataset's id starts with.
pub const PARENTS_PREFIX: &str = "parents-";

/// The dataset a parent type of one vintage is published as: `parents-pfa-2024`.
pub fn dataset_id(kind: &str, vintage: &str) -> String {
    format!("{PARENTS_PREFIX}{kind}-{vintage}").to_ascii_lowercase()
}

/// Words a user-defined parent type may not take: they already mean a level or benchmark.
pub const RESERVED_TYPES: [&str; 8] = [
    "lsoa",
    "ward",
    "neighbourhood",
    "lad",
    "authority",
    "england",
    "parent",
    USER_TYPE,
];

impl ParentsFormat {
    /// Is this the user-defined template (its type named by the request)?
    pub fn is_user(&self) -> bool {
        self.parents.iter().any(|p| p.kind == USER_TYPE)
    }

    /// Matches a file's headers: the two-digit years of the members (`{mm}`, else `{yy}`) and
    /// of the parents (`{yy}`) when every declared column is present with them, else `None`.
    /// Both are `None` for layouts without years (the user template).
    pub fn matches(&self, headers: &[String]) -> Option<Years> {
        let has = |want: &str| headers.iter().any(|h| h.trim().eq_ignore_ascii_case(want));
        let mut parents = vec![];
        for p in &self.parents {
            parents.push(p.code.as_str());
            parents.push(p.name.as_str());
        }
        let member_years: Vec<Option<String>> = if self.member_code.contains("{mm}") {
            headers
                .iter()
                .filter_map(|h| year_of(&self.member_code, "{mm}", h))
                .map(Some)
                .collect()
        } else if self.member_code.contains("{yy}") {
            headers
                .iter()
                .filter_map(|h| year_of(&self.member_code, "{yy}", h))
                .map(Some)
                .collect()
        } else {
            vec![None]
        };
        for mm in member_years {
            let fill_m = |c: &str| match &mm {
                Some(m) => c.replace("{mm}", m),
                None => c.to_owned(),
            };
            let parent_years: Vec<Option<String>> = if self.member_code.contains("{yy}") {
                vec![mm.clone()]
            } else if parents.iter().any(|c| c.contains("{yy}")) {
                headers
                    .iter()
                    .filter_map(|h| year_of(parents[0], "{yy}", h))
                    .map(Some)
                    .collect()
            } else {
                vec![None]
            };
            for yy in parent_years {
                let fill = |c: &str| match &yy {
                    Some(y) => fill_m(c).replace("{yy}", y),
                    None => fill_m(c),
                };
                if has(&fill(&self.member_code)) && parents.iter().all(|c| has(&fill(c))) {
                    return Some(Years {
                        member: mm,
                        parent: yy,
                    });
                }
            }
        }
        None
    }

    /// Checks the layout: known member level, at least one parent type, prefixes of three
    /// characters, and type names that are words of the vocabulary.
    pub fn check(&self, path: &str) -> Result<(), SchemaError> {
        let bad = |message: String| SchemaError::Invalid {
            file: path.to_owned(),
            message,
        };
        if self.parents.is_empty() {
            return Err(bad("a parents layout needs at least one [[parents]]".into()));
        }
        for p in &self.parents {
            if !valid_type_name(&p.kind) {
                return Err(bad(format!(
                    "parent type {:?} must be lowercase letters, digits and '-'",
                    p.kind
                )));
            }
            if let Some(x) = p.prefixes.iter().find(|x| x.len() != 3) {
                return Err(bad(format!("GSS prefix {x:?} is not three characters")));
            }
        }
        if self.is_user() && self.parents.len() != 1 {
            return Err(bad(
                "the user template defines exactly one parent type".into()
            ));
        }
        Ok(())
    }
}

/// A parent type name: lowercase ASCII letters, digits and `-`, starting with a letter.
pub fn valid_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The two-digit years a file's headers give a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Years {
    /// The members' year (`21` for LSOA21CD).
    pub member: Option<String>,
    /// The parents' year (`24` for ICB24CD).
    pub parent: Option<String>,
}

impl Years {
    /// Writes a header template with these years.
    pub fn fill(&self, template: &str) -> String {
        let mut t = template.to_owned();
        if let Some(m) = &self.member {
            t = t.replace("{mm}", m);
        }
        if let Some(y) = &self.parent {
            t = t.replace("{yy}", y);
        }
        t
    }
}

/// The two digits `header` has where `template` has `placeholder`, if it fits the template.
fn year_of(template: &str, placeholder: &str, header: &str) -> Option<String> {
    let (before, after) = template.split_once(placeholder)?;
    let h = header.trim().to_ascii_uppercase();
    let digits = h
        .strip_prefix(&before.to_ascii_uppercase())?
        .strip_suffix(&after.to_ascii_uppercase())?;
    (digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(s: &str) -> Vec<String> {
        s.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn year_is_read_from_the_member_header_and_required_everywhere() {
        let f: ParentsFormat = toml::from_str(
            r#"id = "x"
description = "x"
member_level = "lad"
member_code = "LAD{yy}CD"
parents = [{ type = "pfa", code = "PFA{yy}CD", name = "PFA{yy}NM" }]"#,
        )
        .unwrap();
        let years = |m: &str, p: &str| {
            Some(Years {
                member: Some(m.into()),
                parent: Some(p.into()),
            })
        };
        assert_eq!(
            f.matches(&headers("LAD24CD,LAD24NM,PFA24CD,PFA24NM,ObjectId")),
            years("24", "24")
        );
        // A parent column of another year is not this layout.
        assert_eq!(f.matches(&headers("LAD24CD,PFA23CD,PFA23NM")), None);
        assert_eq!(
            f.matches(&headers("lad23cd,pfa23cd,pfa23nm")),
            years("23", "23")
        );
        assert_eq!(f.matches(&headers("LADXXCD,PFAXXCD,PFAXXNM")), None);
        // Members and parents of different years: LSOA21 in ICB24.
        let icb: ParentsFormat = toml::from_str(
            r#"id = "x"
description = "x"
member_level = "lsoa"
member_code = "LSOA{mm}CD"
parents = [{ type = "icb", code = "ICB{yy}CD", name = "ICB{yy}NM" }]"#,
        )
        .unwrap();
        assert_eq!(
            icb.matches(&headers("LSOA21CD,ICB24CD,ICB24NM")),
            years("21", "24")
        );
        assert_eq!(icb.matches(&headers("LSOA21CD,ICB24CD,ICB23NM")), None);
    }

    #[test]
    fn type_names() {
        assert!(valid_type_name("combined-authority"));
        assert!(valid_type_name("sub-icb"));
        assert!(!valid_type_name("PFA"));
        assert!(!valid_type_name("9x"));
        assert!(!valid_type_name(""));
    }
}
