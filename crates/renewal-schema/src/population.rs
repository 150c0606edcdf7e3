//! Layouts of population estimates per LSOA (ONS mid-year estimates, census usual residents):
//! which header holds the LSOA, where the year comes from, how sex and age are laid out, which
//! totals the file publishes, and which age bands are derived from its age groups.
//!
//! Files live in `data-schemas/datasets/population/`. Everything that differs between
//! publishers or releases is said here, so the reader in renewal-ingest holds no layout or
//! year of its own.
//!
//! Placeholders in templates: `{year}` (four digits), `{sex}` (a sex code of the layout),
//! `{age}` (a single year of age), `{lsoa_vintage}` (e.g. `lsoa21`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use renewal_geo::{Level, Vintage};
use serde::Deserialize;

use crate::SchemaError;

/// The bands every population format must be able to give (the query engine relies on them).
pub const REQUIRED_BANDS: [&str; 4] = ["all_ages", "0-15", "16-64", "65+"];

/// Sex as stored: everyone, females or males.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Persons,
    Females,
    Males,
}

impl Sex {
    /// The stored spelling (`persons`, `females`, `males`).
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Persons => "persons",
            Sex::Females => "females",
            Sex::Males => "males",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One published layout of LSOA population counts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationFormat {
    /// Unique among all formats; recorded in provenance.
    pub id: String,
    /// One line for humans.
    pub description: String,
    /// The default dataset id, a template over `{lsoa_vintage}` and `{year}` (the earliest
    /// year read), e.g. `population-{lsoa_vintage}`.
    pub dataset: String,
    /// What the figures are (mid-year estimate, census count) and how rows are labelled.
    pub reference: ReferenceDef,
    /// The LSOA geography when the header does not say (`--lsoa-vintage` overrides it).
    pub lsoa_vintage: Vintage,
    /// The LSOA code (and name) columns this layout may carry; the first present is used.
    pub areas: Vec<AreaColumns>,
    #[serde(default)]
    /// Where the year is stated.
    pub year: YearSource,
    /// How sex is laid out.
    pub sex: SexLayout,
    /// How age groups are laid out.
    pub ages: AgeLayout,
    /// Totals the file publishes beside its age groups; each must equal the derived band.
    #[serde(default)]
    pub published: Vec<PublishedTotal>,
    /// Age bands derived by summing the layout's age groups.
    pub bands: Vec<BandDef>,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// What kind of figure a file holds and how a year is labelled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceDef {
    /// `mid-year` or `census`: recorded in the manifest's `reference` attribute.
    pub kind: String,
    /// The row label, a template over `{year}`: `mid-{year}` gives `mid-2022`.
    pub label: String,
}

/// An LSOA code column, its name column, and the vintage the header itself states.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaColumns {
    /// The header of the LSOA code column.
    pub code: String,
    /// The header of the LSOA name column, if the layout has one.
    #[serde(default)]
    pub name: Option<String>,
    /// Set when the header names the geography (`LSOA 2021 Code` → LSOA21).
    #[serde(default)]
    pub vintage: Option<Vintage>,
}

/// Where the year of a file's figures is stated. At most one source; with none the caller
/// must give the year.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearSource {
    /// A column holding the year on every row.
    #[serde(default)]
    pub column: Option<String>,
    /// How that column writes it, e.g. `{year}-06-30` (default `{year}`).
    #[serde(default)]
    pub value: Option<String>,
    /// A pattern found (case-insensitively) in the sheet name, else the file name:
    /// `mid-{year}` finds 2022 in `Mid-2022 LSOA 2021` and `sapelsoasyoa_mid-2022.csv`.
    #[serde(default)]
    pub name: Option<String>,
    /// The year the layout always refers to (a census layout).
    #[serde(default)]
    pub fixed: Option<i32>,
}

/// How sex is laid out: a column whose values name it, a code in the age columns' headers
/// (`F0`, `M0`; persons are then females plus males), or one sex throughout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SexLayout {
    /// The header of a column naming each row's sex.
    #[serde(default)]
    pub column: Option<String>,
    /// With `column`: each value as published → sex.
    #[serde(default)]
    pub values: BTreeMap<String, Sex>,
    /// Codes substituted for `{sex}` in the age columns' headers → sex.
    #[serde(default)]
    pub header_codes: BTreeMap<String, Sex>,
    /// The one sex every figure is for (census usual residents: persons).
    #[serde(default)]
    pub fixed: Option<Sex>,
}

/// The age groups of a layout: either value columns (`columns`, one per group or one per single
/// year), or one row per group with a category and a value column (`category`, `value`,
/// `categories`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeLayout {
    /// Value columns, one per age group or per single year.
    #[serde(default)]
    pub columns: Vec<AgeColumn>,
    /// The header of the column naming the age group.
    #[serde(default)]
    pub category: Option<String>,
    /// The header of a column holding the group's code, checked against the label.
    #[serde(default)]
    pub category_code: Option<String>,
    /// The header of the count column.
    #[serde(default)]
    pub value: Option<String>,
    /// The categories the category column may hold.
    #[serde(default)]
    pub categories: Vec<AgeCategory>,
}

/// Value columns for ages `from..=to` (`to` absent: `from` and over). A header containing
/// `{age}` is one column per single year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeColumn {
    /// The header, with `{age}` for one column per single year and `{sex}` for a sex code.
    pub header: String,
    /// First age covered.
    pub from: u32,
    /// Last age covered; absent for "and over".
    #[serde(default)]
    pub to: Option<u32>,
}

/// A published age category (`Aged 16 to 24 years`) covering `from..=to`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeCategory {
    /// The category exactly as published.
    pub label: String,
    /// Its code, when the layout has a code column.
    #[serde(default)]
    pub code: Option<String>,
    /// First age covered.
    pub from: u32,
    /// Last age covered; absent for "and over".
    #[serde(default)]
    pub to: Option<u32>,
}

/// A total the file publishes for a band; `sex` when the column is for one sex whatever the
/// row (ONS `Total` is persons), else the row's sex.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedTotal {
    /// The header of the total's column (may contain `{sex}`).
    pub header: String,
    /// The declared band it totals.
    pub band: String,
    /// The sex it is for, when not the row's.
    #[serde(default)]
    pub sex: Option<Sex>,
}

/// An age band `from..=to` (`to` absent: `from` and over), stored under `name`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandDef {
    /// Stored in `age_band`: `all_ages`, `0-15`, `65+`, …
    pub name: String,
    /// First age in the band.
    pub from: u32,
    /// Last age in the band; absent for "and over".
    #[serde(default)]
    pub to: Option<u32>,
}

/// One age group of a layout after expansion: a column header template (with `{sex}` left in)
/// or a category label, and the ages it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeGroup {
    /// The column header template or the category label.
    pub key: String,
    /// The category's code, for long layouts that give one.
    pub code: Option<String>,
    /// First age covered.
    pub from: u32,
    /// Last age covered; `None` for "and over".
    pub to: Option<u32>,
}

impl AgeGroup {
    fn within(&self, from: u32, to: Option<u32>) -> bool {
        self.from >= from
            && match (self.to, to) {
                (_, None) => true,
                (Some(a), Some(b)) => a <= b,
                (None, Some(_)) => false,
            }
    }

    fn overlaps(&self, from: u32, to: Option<u32>) -> bool {
        let starts_before_end = to.is_none_or(|t| self.from <= t);
        let ends_after_start = self.to.is_none_or(|t| t >= from);
        starts_before_end && ends_after_start
    }
}

impl PopulationFormat {
    /// The layout's age groups in age order.
    pub fn age_groups(&self) -> Vec<AgeGroup> {
        let mut groups = Vec::new();
        for c in &self.ages.columns {
            match (c.header.contains("{age}"), c.to) {
                (true, Some(to)) => groups.extend((c.from..=to).map(|age| AgeGroup {
                    key: c.header.replace("{age}", &age.to_string()),
                    code: None,
                    from: age,
                    to: Some(age),
                })),
                // An open-ended `{age}` column is refused by `check`; keep it whole here.
                _ => groups.push(AgeGroup {
                    key: c.header.clone(),
                    code: None,
                    from: c.from,
                    to: c.to,
                }),
            }
        }
        groups.extend(self.ages.categories.iter().map(|c| AgeGroup {
            key: c.label.clone(),
            code: c.code.clone(),
            from: c.from,
            to: c.to,
        }));
        groups.sort_by_key(|g| g.from);
        groups
    }

    /// Does the layout put one age group per row (a category column)?
    pub fn is_long(&self) -> bool {
        self.ages.category.is_some()
    }

    /// Indices into [`age_groups`](Self::age_groups) whose sum is `band`, or `None` when the
    /// groups do not add up to exactly that band.
    pub fn band_members(&self, groups: &[AgeGroup], band: &BandDef) -> Option<Vec<usize>> {
        let mut members = Vec::new();
        let mut next = band.from;
        for (i, g) in groups.iter().enumerate() {
            if g.within(band.from, band.to) {
                if g.from != next {
                    return None;
                }
                members.push(i);
                match g.to {
                    Some(t) => next = t + 1,
                    None => next = u32::MAX,
                }
            } else if g.overlaps(band.from, band.to) {
                return None;
            }
        }
        let covered = match band.to {
            Some(t) => next == t + 1,
            None => next == u32::MAX,
        };
        (covered && !members.is_empty()).then_some(members)
    }

    /// The band declared under `name`.
    pub fn band(&self, name: &str) -> Option<&BandDef> {
        self.bands.iter().find(|b| b.name == name)
    }

    /// Every header this layout names in a file whose LSOA columns are `area` (age columns
    /// expanded for each sex code).
    pub fn known_headers(&self, area: &AreaColumns) -> BTreeSet<String> {
        let mut known: BTreeSet<String> = std::iter::once(area.code.clone())
            .chain(area.name.clone())
            .chain(self.year.column.clone())
            .chain(self.sex.column.clone())
            .chain(self.ages.category.clone())
            .chain(self.ages.category_code.clone())
            .chain(self.ages.value.clone())
            .chain(self.ignore.iter().cloned())
            .collect();
        let codes: Vec<&str> = if self.sex.header_codes.is_empty() {
            vec![""]
        } else {
            self.sex.header_codes.keys().map(String::as_str).collect()
        };
        if !self.is_long() {
            for g in self.age_groups() {
                for code in &codes {
                    known.insert(g.key.replace("{sex}", code));
                }
            }
        }
        for p in &self.published {
            for code in &codes {
                known.insert(p.header.replace("{sex}", code));
            }
        }
        known
    }

    /// The LSOA columns present in `headers`, if any.
    pub fn area_columns(&self, headers: &[String]) -> Option<&AreaColumns> {
        self.areas
            .iter()
            .find(|a| headers.iter().any(|h| h.trim() == a.code))
    }

    /// A file (or sheet) is in this layout when it has an LSOA column and every header it
    /// has is one this layout names, and every header the layout needs is there.
    pub fn matches(&self, headers: &[String]) -> bool {
        let Some(area) = self.area_columns(headers) else {
            return false;
        };
        let present: BTreeSet<&str> = headers.iter().map(|h| h.trim()).collect();
        let known = self.known_headers(area);
        let ignored: BTreeSet<&str> = self.ignore.iter().map(String::as_str).collect();
        // Everything named must be present except ignored headers, which may be absent.
        known
            .iter()
            .all(|h| present.contains(h.as_str()) || ignored.contains(h.as_str()))
            && present.iter().all(|h| known.contains(*h))
    }

    /// The default dataset id for figures on `lsoa` geography, the earliest year being `year`.
    pub fn dataset_id(&self, lsoa: Vintage, year: i32) -> String {
        self.dataset
            .replace("{lsoa_vintage}", &lsoa.to_string().to_ascii_lowercase())
            .replace("{year}", &year.to_string())
    }

    /// The row label for `year`, e.g. `mid-2022`.
    pub fn reference_label(&self, year: i32) -> String {
        self.reference.label.replace("{year}", &year.to_string())
    }

    pub(crate) fn check(&self, file: &str) -> Result<(), SchemaError> {
        self.problems().map_err(|message| SchemaError::Invalid {
            file: file.to_owned(),
            message,
        })
    }

    fn problems(&self) -> Result<(), String> {
        if !self.dataset.starts_with("population-") {
            return Err(format!(
                "dataset {:?} must start with \"population-\"",
                self.dataset
            ));
        }
        if !self.reference.label.contains("{year}") {
            return Err("reference.label must contain {year}".into());
        }
        if self.lsoa_vintage.level != Level::Lsoa
            || self
                .areas
                .iter()
                .any(|a| a.vintage.is_some_and(|v| v.level != Level::Lsoa))
        {
            return Err("vintages must be LSOA vintages (LSOA11, LSOA21)".into());
        }
        if self.areas.is_empty() {
            return Err("give at least one [[areas]] code column".into());
        }
        let y = &self.year;
        let sources = [y.column.is_some(), y.name.is_some(), y.fixed.is_some()];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err("year: give at most one of column, name, fixed".into());
        }
        if y.value.is_some() && y.column.is_none() {
            return Err("year.value describes year.column; give the column".into());
        }
        for p in [&y.value, &y.name].into_iter().flatten() {
            if p.matches("{year}").count() != 1 {
                return Err(format!("year pattern {p:?} must contain {{year}} once"));
            }
        }
        let s = &self.sex;
        let modes = [
            s.column.is_some(),
            !s.header_codes.is_empty(),
            s.fixed.is_some(),
        ];
        if modes.iter().filter(|m| **m).count() != 1 {
            return Err(
                "sex: give exactly one of column (with values), header_codes, fixed".into(),
            );
        }
        if s.column.is_some() == s.values.is_empty() {
            return Err("sex.values go with sex.column, and it needs them".into());
        }
        let coded = !s.header_codes.is_empty();
        let a = &self.ages;
        match (a.columns.is_empty(), a.category.is_some()) {
            (false, false) => {
                if a.value.is_some() || a.category_code.is_some() || !a.categories.is_empty() {
                    return Err("ages: value columns take no category, value or categories".into());
                }
                for c in &a.columns {
                    if c.header.contains("{sex}") != coded {
                        return Err(format!(
                            "age column {:?}: {{sex}} belongs in the headers exactly when sex.header_codes is given",
                            c.header
                        ));
                    }
                    if c.header.contains("{age}") && c.to.is_none() {
                        return Err(format!(
                            "age column {:?}: a column per single year needs `to`",
                            c.header
                        ));
                    }
                }
            }
            (true, true) => {
                if a.value.is_none() || a.categories.is_empty() {
                    return Err("ages: a category layout needs value and categories".into());
                }
                if coded {
                    return Err("ages: a category layout cannot code sex in headers".into());
                }
            }
            _ => return Err("ages: give either columns or a category layout".into()),
        }
        let groups = self.age_groups();
        let mut next = 0u32;
        for (i, g) in groups.iter().enumerate() {
            if g.from != next {
                return Err(format!(
                    "age groups must run from 0 without gaps or overlaps; {:?} starts at {} where {next} was expected",
                    g.key, g.from
                ));
            }
            match g.to {
                Some(t) if t >= g.from => next = t + 1,
                Some(_) => return Err(format!("age group {:?} ends before it starts", g.key)),
                None if i + 1 == groups.len() => {}
                None => {
                    return Err(format!(
                        "only the last age group may be open-ended ({:?} is not last)",
                        g.key
                    ));
                }
            }
        }
        if groups.last().is_some_and(|g| g.to.is_some()) {
            return Err("the last age group must be open-ended (\"and over\")".into());
        }
        let mut names = BTreeSet::new();
        for b in &self.bands {
            if !names.insert(b.name.as_str()) {
                return Err(format!("band {:?} is declared twice", b.name));
            }
            if let Some(expected) = band_range_from_name(&b.name)
                && expected != (b.from, b.to)
            {
                return Err(format!(
                    "band {:?} must cover the ages its name says",
                    b.name
                ));
            }
            if self.band_members(&groups, b).is_none() {
                return Err(format!(
                    "band {:?} is not a sum of whole age groups of this layout",
                    b.name
                ));
            }
        }
        for r in REQUIRED_BANDS {
            if !names.contains(r) {
                return Err(format!("band {r:?} is required of every population format"));
            }
        }
        let mut headers = BTreeSet::new();
        for p in &self.published {
            if !headers.insert(p.header.as_str()) {
                return Err(format!("published total {:?} is listed twice", p.header));
            }
            if !names.contains(p.band.as_str()) {
                return Err(format!(
                    "published total {:?} names undeclared band {:?}",
                    p.header, p.band
                ));
            }
            if coded && p.sex.is_none() && !p.header.contains("{sex}") {
                return Err(format!(
                    "published total {:?}: say which sex it is for (the rows carry every sex)",
                    p.header
                ));
            }
        }
        Ok(())
    }
}

/// `all_ages` → 0 and over, `16-64` → 16..=64, `65+` → 65 and over; other names say nothing.
fn band_range_from_name(name: &str) -> Option<(u32, Option<u32>)> {
    if name == "all_ages" {
        return Some((0, None));
    }
    if let Some(from) = name.strip_suffix('+') {
        return from.parse().ok().map(|f| (f, None));
    }
    let (a, b) = name.split_once('-')?;
    Some((a.parse().ok()?, Some(b.parse().ok()?)))
}

/// Every year `pattern` (containing `{year}`) finds in `text`, compared case-insensitively;
/// `whole` demands the pattern be all of `text`. Distinct years, in the order found.
pub fn find_years(pattern: &str, text: &str, whole: bool) -> Vec<i32> {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.trim().to_ascii_lowercase();
    let Some((before, after)) = pattern.split_once("{year}") else {
        return Vec::new();
    };
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let starts: Vec<usize> = if whole {
        vec![0]
    } else {
        (0..=text.len()).collect()
    };
    for start in starts {
        let Some(rest) = text.get(start..) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(before) else {
            continue;
        };
        let digits = rest.as_bytes();
        if digits.len() < 4 || !digits[..4].iter().all(u8::is_ascii_digit) {
            continue;
        }
        // Four digits exactly: `mid-20221` is not mid-2022.
        if digits.get(4).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        // Nor is `x2022` preceded by a digit when the pattern starts with the year.
        if before.is_empty() && start > 0 && bytes[start - 1].is_ascii_digit() {
            continue;
        }
        let tail = &rest[4..];
        let ok = if whole {
            tail == after
        } else {
            tail.starts_with(after)
        };
        if ok
            && let Ok(year) = rest[..4].parse::<i32>()
            && !found.contains(&year)
        {
            found.push(year);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_found_in_names_and_cells() {
        assert_eq!(
            find_years("mid-{year}", "sapelsoasyoa_MID-2022.csv", false),
            [2022]
        );
        assert_eq!(
            find_years("mid-{year}", "Mid-2022 LSOA 2021", false),
            [2022]
        );
        assert_eq!(
            find_years("mid-{year}", "mid-2022_to_mid-2024.csv", false),
            [2022, 2024]
        );
        assert!(find_years("mid-{year}", "mid-20221.csv", false).is_empty());
        assert!(find_years("mid-{year}", "population.csv", false).is_empty());
        assert_eq!(find_years("{year}-06-30", "2022-06-30", true), [2022]);
        assert!(find_years("{year}-06-30", "2022-06-31", true).is_empty());
        assert!(find_years("{year}-06-30", "x2022-06-30", true).is_empty());
        assert_eq!(find_years("{year}", " 2021 ", true), [2021]);
    }

    #[test]
    fn band_names_state_their_ages() {
        assert_eq!(band_range_from_name("all_ages"), Some((0, None)));
        assert_eq!(band_range_from_name("16-64"), Some((16, Some(64))));
        assert_eq!(band_range_from_name("65+"), Some((65, None)));
        assert_eq!(band_range_from_name("working_age"), None);
    }
}

#[cfg(test)]
mod format_tests {
    use crate::Catalog;

    fn census(extra_band: &str) -> String {
        format!(
            r#"
id = "c"
description = "d"
dataset = "population-census{{year}}-{{lsoa_vintage}}"
lsoa_vintage = "LSOA21"
reference = {{ kind = "census", label = "census-{{year}}" }}
areas = [{{ code = "code" }}]
year = {{ fixed = 2021 }}
sex = {{ fixed = "persons" }}
ages = {{ category = "age", value = "n", categories = [
  {{ label = "young", from = 0, to = 15 }},
  {{ label = "middle", from = 16, to = 64 }},
  {{ label = "old", from = 65 }},
] }}
bands = [
  {{ name = "all_ages", from = 0 }},
  {{ name = "0-15", from = 0, to = 15 }},
  {{ name = "16-64", from = 16, to = 64 }},
  {{ name = "65+", from = 65 }},
  {extra_band}
]
"#
        )
    }

    fn load(text: String) -> Result<Catalog, String> {
        Catalog::from_files([("datasets/population/c.toml".to_owned(), text)])
            .map_err(|e| e.to_string())
    }

    #[test]
    fn bands_must_be_sums_of_whole_groups() {
        let catalog = load(census("")).unwrap();
        let format = &catalog.population[0].1;
        let groups = format.age_groups();
        let all = format.band("all_ages").unwrap();
        assert_eq!(format.band_members(&groups, all), Some(vec![0, 1, 2]));
        assert_eq!(
            format.dataset_id("LSOA21".parse().unwrap(), 2021),
            "population-census2021-lsoa21"
        );

        let err = load(census(r#"{ name = "16-59", from = 16, to = 59 },"#)).unwrap_err();
        assert!(
            err.contains("band \"16-59\" is not a sum of whole age groups"),
            "{err}"
        );
        let err = load(census(r#"{ name = "18-64", from = 16, to = 64 },"#)).unwrap_err();
        assert!(err.contains("must cover the ages its name says"), "{err}");
        let err = load(census("").replace(r#"{ name = "65+", from = 65 },"#, "")).unwrap_err();
        assert!(err.contains("band \"65+\" is required"), "{err}");
        let err = load(census("").replace(
            r#"label = "middle", from = 16"#,
            r#"label = "middle", from = 17"#,
        ))
        .unwrap_err();
        assert!(err.contains("without gaps"), "{err}");
        let err = load(census("").replace("id = \"c\"", "id = \"c\"\nsurprise = 1")).unwrap_err();
        assert!(err.contains("surprise"), "{err}");
    }

    #[test]
    fn embedded_population_formats_recognise_their_headers() {
        let catalog = Catalog::embedded().unwrap();
        let ids = |headers: &[&str]| -> Vec<String> {
            let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
            catalog
                .population
                .iter()
                .filter(|(_, f)| f.matches(&headers))
                .map(|(_, f)| f.id.clone())
                .collect()
        };
        let census = [
            "Lower layer Super Output Areas Code",
            "Lower layer Super Output Areas",
            "Age (6 categories) Code",
            "Age (6 categories)",
            "Observation",
        ];
        assert_eq!(ids(&census), ["census2021-custom-age6"]);
        let mut release = vec![
            "LAD 2021 Code".to_owned(),
            "LAD 2021 Name".to_owned(),
            "LSOA 2011 Code".to_owned(),
            "LSOA 2011 Name".to_owned(),
            "Total".to_owned(),
        ];
        for sex in ["F", "M"] {
            release.extend((0..=90).map(|a| format!("{sex}{a}")));
        }
        let refs: Vec<&str> = release.iter().map(String::as_str).collect();
        assert_eq!(ids(&refs), ["ons-sapelsoasyoa"]);
        // An extra, unknown column (F91) is not silently dropped: no format claims the file.
        release.push("F91".into());
        let refs: Vec<&str> = release.iter().map(String::as_str).collect();
        assert!(ids(&refs).is_empty());
    }
}
