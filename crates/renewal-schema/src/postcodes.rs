//! Layouts of the ONS postcode directories (the ONS Postcode Directory, ONSPD, and the National
//! Statistics Postcode Lookup, NSPL) and of re-published column subsets of them.
//!
//! Files live in `data-schemas/datasets/postcodes/`. Each names, for every field Renewal keeps
//! (postcode, district, LSOA 2011 and 2021, dates of introduction and termination), the
//! headers that may hold it; a header may contain `{yy}` for two digits, because the ONS renames
//! some columns with every release (`lad25cd`, `lad26cd`, …). A file is read with the layout
//! whose required fields are all found; when several fit, the one finding most fields wins, so
//! a full 2024 directory is not mistaken for the four-column subset whose headers it contains.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::SchemaError;

/// A field of the postcode table and the column it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostcodeField {
    /// The postcode (the key: checked, normalised, unique).
    Postcode,
    /// The local authority district code.
    LadCode,
    /// The 2011 LSOA code (or its Scottish, Northern Irish or pseudo equivalent, as published).
    Lsoa11,
    /// The 2021 LSOA code, likewise.
    Lsoa21,
    /// Month the postcode was introduced, `YYYYMM`.
    Introduced,
    /// Month the postcode was terminated, `YYYYMM`; empty while it is live.
    Terminated,
}

impl PostcodeField {
    /// Every field, in table order.
    pub const ALL: [PostcodeField; 6] = [
        PostcodeField::Postcode,
        PostcodeField::LadCode,
        PostcodeField::Lsoa11,
        PostcodeField::Lsoa21,
        PostcodeField::Introduced,
        PostcodeField::Terminated,
    ];

    /// The field's name in schema files and the column's name in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            PostcodeField::Postcode => "postcode",
            PostcodeField::LadCode => "lad_code",
            PostcodeField::Lsoa11 => "lsoa11",
            PostcodeField::Lsoa21 => "lsoa21",
            PostcodeField::Introduced => "introduced",
            PostcodeField::Terminated => "terminated",
        }
    }
}

impl fmt::Display for PostcodeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One published layout of a postcode directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostcodeFormat {
    /// Unique among all formats; recorded in provenance.
    pub id: String,
    /// One line for humans.
    pub description: String,
    /// For each field read, the headers that may hold it, in order of preference (the first
    /// present is used). Matching ignores case and surrounding spaces; `{yy}` matches two
    /// digits. Every field named here must be found, unless it is listed in `optional`.
    pub columns: BTreeMap<PostcodeField, Vec<String>>,
    /// Fields of `columns` a file may lack and still be read with this layout.
    #[serde(default)]
    pub optional: Vec<PostcodeField>,
    /// Outward codes the directory still lists although they do not have today's shape (the
    /// old Newport `NPT`, terminated long ago): accepted in the key column with a well-formed
    /// inward code, and counted in the notes. Anything else not shaped like a postcode is an
    /// error.
    #[serde(default)]
    pub legacy_outward: Vec<String>,
}

/// Where each field is in one file's header, for a format that fits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostcodeColumns {
    /// Field → (0-based column index, the header as published).
    pub found: BTreeMap<PostcodeField, (usize, String)>,
}

impl PostcodeColumns {
    /// The column index of a field, if the file has it.
    pub fn index(&self, field: PostcodeField) -> Option<usize> {
        self.found.get(&field).map(|(i, _)| *i)
    }
}

impl PostcodeFormat {
    pub(crate) fn check(&self, file: &str) -> Result<(), SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: file.to_owned(),
            message,
        };
        if !self.columns.contains_key(&PostcodeField::Postcode) {
            return Err(invalid(
                "a postcode format must name its postcode column".into(),
            ));
        }
        if self.optional.contains(&PostcodeField::Postcode) {
            return Err(invalid("the postcode column cannot be optional".into()));
        }
        for field in &self.optional {
            if !self.columns.contains_key(field) {
                return Err(invalid(format!(
                    "optional field {field} is not among the columns"
                )));
            }
        }
        for code in &self.legacy_outward {
            if code.is_empty()
                || code.len() > 4
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Err(invalid(format!(
                    "legacy outward code {code:?}: 1 to 4 capital letters or digits"
                )));
            }
        }
        for (field, headers) in &self.columns {
            if headers.is_empty() {
                return Err(invalid(format!("field {field} lists no header")));
            }
            for h in headers {
                let rest = h.replacen("{yy}", "", 1);
                if h.trim().is_empty() || rest.contains('{') || rest.contains('}') {
                    return Err(invalid(format!(
                        "header {h:?} of {field}: only one {{yy}} placeholder is understood"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Where this layout's fields are in `headers`, or `None` when a required one is missing.
    pub fn columns_in(&self, headers: &[String]) -> Option<PostcodeColumns> {
        let mut found = BTreeMap::new();
        for (field, spellings) in &self.columns {
            let hit = spellings.iter().find_map(|template| {
                headers
                    .iter()
                    .position(|h| header_matches(template, h))
                    .map(|i| (i, headers[i].trim().to_owned()))
            });
            match hit {
                Some(hit) => {
                    found.insert(*field, hit);
                }
                None if self.optional.contains(field) => {}
                None => return None,
            }
        }
        Some(PostcodeColumns { found })
    }
}

/// Whether a published header answers to a schema spelling: case-insensitive, spaces around
/// ignored, `{yy}` standing for exactly two ASCII digits.
pub fn header_matches(template: &str, header: &str) -> bool {
    let header = header.trim().to_ascii_lowercase();
    let template = template.trim().to_ascii_lowercase();
    match template.split_once("{yy}") {
        None => header == template,
        Some((before, after)) => {
            header.len() == before.len() + 2 + after.len()
                && header.starts_with(before)
                && header.ends_with(after)
                && header.as_bytes()[before.len()..before.len() + 2]
                    .iter()
                    .all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(line: &str) -> Vec<String> {
        line.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn yy_matches_two_digits_only() {
        assert!(header_matches("lad{yy}cd", "lad25cd"));
        assert!(header_matches("lad{yy}cd", " LAD26CD "));
        assert!(!header_matches("lad{yy}cd", "lad2025cd"));
        assert!(!header_matches("lad{yy}cd", "ladxxcd"));
        assert!(!header_matches("lad{yy}cd", "lad25nm"));
        assert!(header_matches("pcds", "PCDS"));
        assert!(!header_matches("pcd", "pcds"));
    }

    #[test]
    fn shipped_formats_find_their_columns() {
        let catalog = crate::Catalog::embedded().unwrap();
        let by_id = |id: &str| {
            catalog
                .postcodes
                .iter()
                .find(|(_, f)| f.id == id)
                .map(|(_, f)| f.clone())
                .unwrap_or_else(|| panic!("format {id} is shipped"))
        };
        // The real headers of the shared samples, shortened to the columns that matter plus a
        // few neighbours.
        let h2025 =
            headers("pcd7,pcd8,pcds,dointr,doterm,cty25cd,lad25cd,wd25cd,lsoa11cd,lsoa21cd");
        let cols = by_id("onspd-2025").columns_in(&h2025).unwrap();
        assert_eq!(cols.index(PostcodeField::Postcode), Some(2));
        assert_eq!(cols.index(PostcodeField::LadCode), Some(6));
        assert_eq!(cols.index(PostcodeField::Lsoa21), Some(9));
        let h2024 = headers("pcd,pcd2,pcds,dointr,doterm,oscty,oslaua,lsoa11,lsoa21");
        let cols = by_id("onspd-2024").columns_in(&h2024).unwrap();
        assert_eq!(cols.index(PostcodeField::Postcode), Some(2));
        assert_eq!(cols.index(PostcodeField::LadCode), Some(6));
        assert!(by_id("onspd-2025").columns_in(&h2024).is_none());
        let subset = headers("pcd,oslaua,pcon,lsoa11");
        let cols = by_id("onspd-column-subset").columns_in(&subset).unwrap();
        assert_eq!(cols.index(PostcodeField::Postcode), Some(0));
        assert_eq!(cols.index(PostcodeField::Lsoa21), None);
        assert!(by_id("onspd-2024").columns_in(&subset).is_none());
    }

    #[test]
    fn bad_formats_are_refused() {
        let no_key = r#"
            id = "x"
            description = "x"
            [columns]
            lad_code = ["oslaua"]
        "#;
        let format: PostcodeFormat = toml::from_str(no_key).unwrap();
        assert!(format.check("x.toml").is_err());
        let two_placeholders = r#"
            id = "x"
            description = "x"
            [columns]
            postcode = ["pcd{yy}{yy}"]
        "#;
        let format: PostcodeFormat = toml::from_str(two_placeholders).unwrap();
        assert!(format.check("x.toml").is_err());
    }
}
