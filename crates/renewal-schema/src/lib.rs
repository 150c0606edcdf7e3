//! The declarative dataset formats under `data-schemas/`, parsed into typed definitions.
//!
//! A new vintage or a new publisher's layout of a known dataset is a new TOML file, not new
//! code. The files are embedded at build time ([`Catalog::embedded`]) and can be replaced at run
//! time from a directory ([`Catalog::load_dir`]).
//!
//! Layout: `datasets/<family>/<name>.toml`, where the family folder decides how the file is read
//! (`iod` → [`IodFormat`], `lookup` → [`LookupFormat`], `population` → [`PopulationFormat`]).
//!
//! Architecture invariant: this crate only describes formats; it never opens a data file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use renewal_geo::{Fit, Vintage};
use serde::Deserialize;
use sha2::{Digest, Sha256};

mod indicator;
pub mod lm3;
pub mod parents;
pub mod period;
pub mod plan;
pub mod population;
pub mod postcodes;
pub mod spend;

pub use indicator::{
    IndicatorDef, NativeGeography, PolarityName, PopulationDef, SourceDef, ValueType,
    dataset_matches,
};
pub use period::{Period, PeriodType};
pub use population::{PopulationFormat, Sex};
pub use postcodes::{PostcodeColumns, PostcodeField, PostcodeFormat};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("reading schema directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a value column of an Indices of Deprivation file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    Score,
    Rank,
    Decile,
    Transformed,
    Denominator,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Score => "score",
            Measure::Rank => "rank",
            Measure::Decile => "decile",
            Measure::Transformed => "transformed",
            Measure::Denominator => "denominator",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value column: where it is in the file and what it means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueColumn {
    /// The header exactly as published (matched after trimming whitespace).
    pub header: String,
    /// Other spellings of the same column in other files of the same edition (File 1's XLSX
    /// says "Index of Multiple Deprivation (IMD) Rank" where the CSVs add "(where 1 is most
    /// deprived)").
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `imd`, `income`, … or `population_total` etc. for denominators.
    pub domain: String,
    pub measure: Measure,
    /// Multiplier into the canonical unit, e.g. 0.01 where a publisher gives a rate in percent.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Decimal places to round to after scaling, so re-published figures compare equal to the
    /// official ones at the official precision.
    #[serde(default)]
    pub decimals: Option<u32>,
}

impl ValueColumn {
    pub fn answers_to(&self, header: &str) -> bool {
        self.header == header || self.aliases.iter().any(|a| a == header)
    }
}

/// The identifying columns of an LSOA-level file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IodKeys {
    pub lsoa_code: String,
    #[serde(default)]
    pub lsoa_name: Option<String>,
    #[serde(default)]
    pub lad_code: Option<String>,
    #[serde(default)]
    pub lad_name: Option<String>,
}

/// Keep only rows whose `column` equals `equals` (e.g. English rows of a UK-wide file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    pub column: String,
    pub equals: String,
}

/// A layout in which Indices of Deprivation figures are published.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IodFormat {
    pub id: String,
    /// IoD edition, e.g. `2019`.
    pub vintage: String,
    pub description: String,
    /// The geography the LSOA codes belong to.
    pub lsoa_vintage: Vintage,
    /// The local authority geography of the LAD codes the file carries, if any.
    #[serde(default)]
    pub lad_vintage: Option<Vintage>,
    /// Number of LSOAs nationally that ranks are out of (N in METHODS.md).
    pub national_lsoa_count: u32,
    /// Headers that must all be present for a file to be read with this format, in addition to
    /// the key columns. Lets two formats with the same keys be told apart.
    #[serde(default)]
    pub recognise: Vec<String>,
    pub keys: IodKeys,
    #[serde(default)]
    pub filter: Option<RowFilter>,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
    pub columns: Vec<ValueColumn>,
}

impl IodFormat {
    /// Every header this format needs to see before it claims a file.
    pub fn required_headers(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.keys.lsoa_code.as_str())
            .chain(self.keys.lad_code.as_deref())
            .chain(self.recognise.iter().map(String::as_str))
            .chain(self.filter.as_ref().map(|f| f.column.as_str()))
    }

    /// Does a file with these headers belong to this format? It must have every required header
    /// and at least one value column.
    pub fn matches(&self, headers: &[String]) -> bool {
        let present: BTreeSet<&str> = headers.iter().map(|h| h.trim()).collect();
        self.required_headers().all(|h| present.contains(h))
            && present.iter().any(|h| self.column(h).is_some())
    }

    pub fn column(&self, header: &str) -> Option<&ValueColumn> {
        let header = header.trim();
        self.columns.iter().find(|c| c.answers_to(header))
    }

    fn check(&self, file: &str) -> Result<(), SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: file.to_owned(),
            message,
        };
        if self.national_lsoa_count == 0 {
            return Err(invalid("national_lsoa_count must be positive".into()));
        }
        let mut headers = BTreeSet::new();
        let mut cells = BTreeSet::new();
        for c in &self.columns {
            for h in std::iter::once(&c.header).chain(&c.aliases) {
                if !headers.insert(h.as_str()) {
                    return Err(invalid(format!("header {h:?} is listed twice")));
                }
            }
            if !cells.insert((c.domain.as_str(), c.measure)) {
                return Err(invalid(format!(
                    "two columns map to domain {:?} measure {}",
                    c.domain, c.measure
                )));
            }
            if c.domain.is_empty()
                || !c
                    .domain
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(invalid(format!(
                    "domain {:?} must be lower_snake_case",
                    c.domain
                )));
            }
            if matches!(c.measure, Measure::Rank | Measure::Decile) && c.scale.is_some() {
                return Err(invalid(format!(
                    "{:?}: ranks and deciles cannot be scaled",
                    c.header
                )));
            }
        }
        Ok(())
    }
}

/// A layout of published area-level IoD summaries (File 10 and the like): one row per area,
/// value columns mapped to (domain, measure) such as (`imd`, `average_score`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IodSummaryFormat {
    pub id: String,
    pub vintage: String,
    pub description: String,
    /// The geography of the area codes, e.g. `LAD19`.
    pub area_vintage: Vintage,
    pub keys: SummaryKeys,
    pub columns: Vec<SummaryColumn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryKeys {
    pub area_code: String,
    #[serde(default)]
    pub area_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryColumn {
    pub header: String,
    pub domain: String,
    /// `average_score`, `rank_of_average_score`, `extent`, `scale`, …
    pub measure: String,
}

impl IodSummaryFormat {
    /// A sheet belongs to this format when it has the area code column and at least one value
    /// column (headers compared after trimming).
    pub fn matches(&self, headers: &[String]) -> bool {
        let present: BTreeSet<&str> = headers.iter().map(|h| h.trim()).collect();
        present.contains(self.keys.area_code.as_str())
            && present.iter().any(|h| self.column(h).is_some())
    }

    pub fn column(&self, header: &str) -> Option<&SummaryColumn> {
        let header = header.trim();
        self.columns.iter().find(|c| c.header == header)
    }

    fn check(&self, file: &str) -> Result<(), SchemaError> {
        let mut cells = BTreeSet::new();
        let mut headers = BTreeSet::new();
        for c in &self.columns {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            };
            let problem = if !headers.insert(c.header.as_str()) {
                Some(format!("header {:?} is listed twice", c.header))
            } else if !cells.insert((c.domain.as_str(), c.measure.as_str())) {
                Some(format!("two columns map to {} {}", c.domain, c.measure))
            } else if !ok(&c.domain) || !ok(&c.measure) {
                Some(format!(
                    "{:?}: domain and measure must be lower_snake_case",
                    c.header
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                return Err(SchemaError::Invalid {
                    file: file.to_owned(),
                    message,
                });
            }
        }
        Ok(())
    }
}

/// A layout of area-by-period statistics (census tables, benefit counts, service-performance
/// indicators): each row gives an area, a period and one or more values, and the format says
/// which column is which. Read into one long `observations` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationFormat {
    pub id: String,
    /// `census`, `benefits` or `services`: which `renewal ingest` command reads it.
    pub family: String,
    pub description: String,
    /// Kinds of area the codes may name (`lsoa`, `lad`, `county`, …); others are errors.
    pub area_types: Vec<String>,
    pub period_type: PeriodType,
    pub columns: ObservationColumns,
    /// The indicator when the file has no indicator column.
    #[serde(default)]
    pub indicator: Option<String>,
    /// The unit when the file has no unit column.
    #[serde(default)]
    pub unit: Option<String>,
    /// For rates: the population the rate is out of, stated so it is never guessed.
    #[serde(default)]
    pub base: Option<String>,
    /// Extra headers that must be present to claim a file.
    #[serde(default)]
    pub recognise: Vec<String>,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Value columns of the long layout; empty for the wide layout.
    #[serde(default)]
    pub values: Vec<ObservationValue>,
    /// The wide ("bulk") layout: every column nobody names is a category's value.
    #[serde(default)]
    pub wide: Option<WideLayout>,
}

/// Nomis bulk downloads put one category per column, headed `<topic><separator><category>`
/// (`General health: Very good health`). The topic becomes the indicator and the rest the
/// category, both verbatim, so long and wide files of one table give the same rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WideLayout {
    /// Between topic and category in each value column's header.
    pub separator: String,
    /// What every value column holds (`count`).
    pub measure: String,
}

/// Which header holds each field. `category = "*"` means the one column no other field names,
/// as in Nomis tables whose category column is named after the topic (`general_health`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationColumns {
    pub area_code: String,
    #[serde(default)]
    pub area_name: Option<String>,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub indicator: Option<String>,
    #[serde(default)]
    pub indicator_code: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    /// `higher-is-better`, `lower-is-better` or `no-judgement`, for files that say.
    #[serde(default)]
    pub polarity: Option<String>,
    /// The ward vintage (`WD19`, `WD24`) of the file's ward codes. Optional in a file: a file
    /// without the column still matches the format, and its wards carry no vintage.
    #[serde(default)]
    pub ward_vintage: Option<String>,
}

/// A value column; `measure` names it unless the file has a measure column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationValue {
    pub header: String,
    #[serde(default)]
    pub measure: Option<String>,
}

/// Marks the category column as "whichever column is left over".
pub const ANY_OTHER_COLUMN: &str = "*";

impl ObservationFormat {
    /// Headers named by this format (the leftover-category marker excluded).
    pub fn named_headers(&self) -> Vec<&str> {
        let c = &self.columns;
        [
            Some(c.area_code.as_str()),
            c.area_name.as_deref(),
            c.period.as_deref(),
            c.indicator.as_deref(),
            c.indicator_code.as_deref(),
            c.category.as_deref().filter(|h| *h != ANY_OTHER_COLUMN),
            c.measure.as_deref(),
            c.unit.as_deref(),
            c.polarity.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(self.values.iter().map(|v| v.header.as_str()))
        .chain(self.recognise.iter().map(String::as_str))
        .collect()
    }

    /// A file belongs to this format when it has every named header (and, for a leftover
    /// category, exactly one header nobody names or ignores; for the wide layout, at least one
    /// value column and every such column headed `<topic><separator><category>`).
    pub fn matches(&self, headers: &[String]) -> bool {
        let present: BTreeSet<&str> = headers.iter().map(|h| h.trim()).collect();
        let named = self.named_headers();
        if !named.iter().all(|h| present.contains(h)) {
            return false;
        }
        if let Some(wide) = &self.wide {
            let columns = self.wide_columns(headers);
            return !columns.is_empty()
                && columns.iter().all(|(_, h)| split_wide(h, wide).is_some());
        }
        if self.columns.category.as_deref() == Some(ANY_OTHER_COLUMN) {
            return self.leftover(headers).is_some();
        }
        true
    }

    /// The single header neither named nor ignored, for `category = "*"`.
    pub fn leftover<'h>(&self, headers: &'h [String]) -> Option<&'h str> {
        let named = self.named_headers();
        let mut rest = headers
            .iter()
            .map(|h| h.trim())
            .filter(|h| !named.contains(h) && !self.ignore.iter().any(|i| i == h))
            .filter(|h| Some(*h) != self.columns.ward_vintage.as_deref());
        match (rest.next(), rest.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// Wide layout: the (index, header) of every column neither named nor ignored.
    pub fn wide_columns<'h>(&self, headers: &'h [String]) -> Vec<(usize, &'h str)> {
        let named = self.named_headers();
        headers
            .iter()
            .map(|h| h.trim())
            .enumerate()
            .filter(|(_, h)| !named.contains(h) && !self.ignore.iter().any(|i| i == h))
            .filter(|(_, h)| Some(*h) != self.columns.ward_vintage.as_deref())
            .collect()
    }

    /// Wide layout: a value column's header as (topic, category).
    pub fn split_wide<'h>(&self, header: &'h str) -> Option<(&'h str, &'h str)> {
        self.wide.as_ref().and_then(|w| split_wide(header, w))
    }

    fn check(&self, file: &str) -> Result<(), SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: file.to_owned(),
            message,
        };
        match (&self.wide, self.values.is_empty()) {
            (None, true) => {
                return Err(invalid(
                    "at least one value column is needed (or a [wide] layout)".into(),
                ));
            }
            (Some(_), false) => {
                return Err(invalid(
                    "a [wide] layout takes its values from the category columns; remove `values`"
                        .into(),
                ));
            }
            (Some(w), true) if w.separator.is_empty() => {
                return Err(invalid("[wide] separator must not be empty".into()));
            }
            _ => {}
        }
        if self.wide.is_some() && self.columns.category.is_some() {
            return Err(invalid(
                "a [wide] layout has no category column: categories are in the headers".into(),
            ));
        }
        if self.columns.indicator.is_none() && self.indicator.is_none() && self.wide.is_none() {
            return Err(invalid(
                "give an indicator column or a constant indicator".into(),
            ));
        }
        for v in &self.values {
            if v.measure.is_none() && self.columns.measure.is_none() {
                return Err(invalid(format!(
                    "value column {:?} needs a measure: name one, or give a measure column",
                    v.header
                )));
            }
        }
        for t in &self.area_types {
            t.parse::<renewal_geo::AreaType>().map_err(invalid)?;
        }
        Ok(())
    }
}

fn split_wide<'h>(header: &'h str, wide: &WideLayout) -> Option<(&'h str, &'h str)> {
    let (topic, category) = header.split_once(wide.separator.as_str())?;
    let (topic, category) = (topic.trim(), category.trim());
    (!topic.is_empty() && !category.is_empty()).then_some((topic, category))
}

/// The police.uk street-level crime layout: which header holds each field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrimeFormat {
    pub id: String,
    pub description: String,
    pub columns: CrimeColumns,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrimeColumns {
    pub crime_id: String,
    pub month: String,
    pub reported_by: String,
    pub falls_within: String,
    pub longitude: String,
    pub latitude: String,
    pub location: String,
    pub lsoa_code: String,
    pub lsoa_name: String,
    pub crime_type: String,
    pub last_outcome: String,
    pub context: String,
}

impl CrimeColumns {
    /// (field, header) pairs in file order.
    pub fn all(&self) -> [(&'static str, &str); 12] {
        [
            ("crime_id", &self.crime_id),
            ("month", &self.month),
            ("reported_by", &self.reported_by),
            ("falls_within", &self.falls_within),
            ("longitude", &self.longitude),
            ("latitude", &self.latitude),
            ("location", &self.location),
            ("lsoa_code", &self.lsoa_code),
            ("lsoa_name", &self.lsoa_name),
            ("crime_type", &self.crime_type),
            ("last_outcome", &self.last_outcome),
            ("context", &self.context),
        ]
    }
}

/// A layout of ONS LSOA → ward → local authority lookups. The vintages are read from the
/// headers themselves (`WD19CD` → WD19), so one format serves every year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupFormat {
    pub id: String,
    pub description: String,
    /// Whether wards built from these LSOAs are exact or best-fit.
    pub fit: FitName,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// A layout of ONS change lookups between two LSOA vintages (LSOA11 → LSOA21), used to bridge
/// figures between geographies. The vintages are read from the `LSOAyyCD` headers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeFormat {
    pub id: String,
    pub description: String,
    /// The header of the change indicator column (`CHGIND`).
    pub change_column: String,
    /// Indicator value → change (`U` → unchanged, `S` → split, …).
    pub changes: BTreeMap<String, renewal_geo::bridge::Change>,
    /// Headers known and deliberately not stored.
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl BridgeFormat {
    /// Does a file with these headers belong to this format: a change column and two LSOA code
    /// columns?
    pub fn matches(&self, headers: &[String]) -> bool {
        let lsoa_codes = headers
            .iter()
            .filter(|h| {
                matches!(
                    Vintage::from_ons_header(h),
                    Some((v, renewal_geo::HeaderRole::Code)) if v.level == renewal_geo::Level::Lsoa
                )
            })
            .count();
        lsoa_codes == 2 && headers.iter().any(|h| h.trim() == self.change_column)
    }
}

/// A layout of GeoJSON boundary files (`datasets/boundaries/`): which feature properties hold
/// each area's code and name, and whether they say the vintage. A file belongs to the first
/// format (in file-name order) whose code property its first feature has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryFormat {
    /// Recorded as each source's format in the manifest.
    pub id: String,
    /// What files of this layout are, in a line.
    pub description: String,
    /// The property holding the GSS code, matched ignoring case (`area_code`). Absent: the
    /// ONS code header (`WD19CD`, `lsoa21cd`, …), which also states the vintage.
    #[serde(default)]
    pub code_property: Option<String>,
    /// The property holding the area name (`area_name`). Absent: the ONS name header of the
    /// code's vintage (`WD19NM`), when the file has one.
    #[serde(default)]
    pub name_property: Option<String>,
    /// Levels such files may hold: `lsoa`, `ward` (and `lad`).
    pub levels: Vec<String>,
}

impl BoundaryFormat {
    /// The code property of a feature with these property names, if this format reads it.
    pub fn code_property_in<'a>(
        &self,
        properties: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        properties.into_iter().find(|p| match &self.code_property {
            Some(c) => c.eq_ignore_ascii_case(p),
            None => matches!(
                Vintage::from_ons_header(p),
                Some((v, renewal_geo::HeaderRole::Code)) if self.allows(v.level)
            ),
        })
    }

    /// Whether files of this format may hold areas of `level`.
    pub fn allows(&self, level: renewal_geo::Level) -> bool {
        self.levels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(level_word(level)))
    }

    /// Whether the property names state the vintage (ONS headers do; `area_code` does not).
    pub fn states_vintage(&self) -> bool {
        self.code_property.is_none()
    }

    fn check(&self, path: &str) -> Result<(), SchemaError> {
        let known = ["lsoa", "ward", "lad"];
        if self.levels.is_empty() {
            return Err(SchemaError::Invalid {
                file: path.to_owned(),
                message: "levels is empty".into(),
            });
        }
        if let Some(l) = self
            .levels
            .iter()
            .find(|l| !known.contains(&l.to_ascii_lowercase().as_str()))
        {
            return Err(SchemaError::Invalid {
                file: path.to_owned(),
                message: format!("unknown level {l:?} (known: lsoa, ward, lad)"),
            });
        }
        if self.code_property.is_none() && self.name_property.is_some() {
            return Err(SchemaError::Invalid {
                file: path.to_owned(),
                message: "name_property needs code_property (ONS headers find their own name)"
                    .into(),
            });
        }
        Ok(())
    }
}

/// The word schema files use for a level.
fn level_word(level: renewal_geo::Level) -> &'static str {
    match level {
        renewal_geo::Level::Lsoa => "lsoa",
        renewal_geo::Level::Ward => "ward",
        renewal_geo::Level::Lad => "lad",
    }
}

/// Serde-friendly wrapper so schema files can say `fit = "best-fit"`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
pub struct FitName(pub Fit);

impl TryFrom<String> for FitName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse().map(FitName)
    }
}

/// One schema file and a hash of its text, recorded in provenance so a change of format
/// definition is visible (and defeats the "unchanged source" shortcut).
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: String,
    pub sha256: String,
}

/// Every format Renewal knows.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub iod: Vec<(SchemaFile, IodFormat)>,
    pub iod_summary: Vec<(SchemaFile, IodSummaryFormat)>,
    pub observations: Vec<(SchemaFile, ObservationFormat)>,
    pub crime: Vec<(SchemaFile, CrimeFormat)>,
    pub lookup: Vec<(SchemaFile, LookupFormat)>,
    /// Change lookups between LSOA vintages (`datasets/bridge/`).
    pub bridge: Vec<(SchemaFile, BridgeFormat)>,
    /// `datasets/population/`: LSOA population estimates and census counts.
    pub population: Vec<(SchemaFile, PopulationFormat)>,
    /// `datasets/boundaries/`: GeoJSON boundary files of wards and LSOAs.
    pub boundaries: Vec<(SchemaFile, BoundaryFormat)>,
    /// `datasets/postcodes/`: ONS postcode directory layouts.
    pub postcodes: Vec<(SchemaFile, PostcodeFormat)>,
    pub indicators: Vec<(SchemaFile, IndicatorDef)>,
    /// `datasets/lm3/`: LM3 survey returns (supplier returns, re-spend returns).
    pub lm3: Vec<(SchemaFile, lm3::Lm3Format)>,
    /// `editions.toml`: which IoD edition a request without one means.
    pub editions: Editions,
    /// `datasets/spend/` and `datasets/suppliers/`: spend files, supplier registers, payee words.
    pub spend: spend::SpendCatalog,
    /// `datasets/parents/`: district or LSOA → parent-area lookups (PFA, ICB, region …).
    pub parents: Vec<(SchemaFile, parents::ParentsFormat)>,
    /// `plans/`: report views over many indicators (the Local Performance Plan).
    pub plans: Vec<(SchemaFile, plan::PlanDef)>,
}

/// `data-schemas/editions.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Editions {
    /// The edition meant when a request names none (kept stable: see the file's comment).
    #[serde(default)]
    pub default: Option<String>,
}

/// The word a request uses for "the newest edition there is".
pub const NEWEST_EDITION: &str = "newest";

impl Catalog {
    /// The formats compiled into this build.
    pub fn embedded() -> Result<Catalog, SchemaError> {
        Catalog::from_files(
            embedded::EMBEDDED
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string())),
        )
    }

    /// The formats in a `data-schemas/` directory.
    pub fn load_dir(dir: &Path) -> Result<Catalog, SchemaError> {
        let mut files = Vec::new();
        walk(dir, dir, &mut files)?;
        files.sort();
        Catalog::from_files(files)
    }

    fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalog, SchemaError> {
        let mut catalog = Catalog::default();
        let mut ids = BTreeMap::new();
        for (path, text) in files {
            let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
            let file = SchemaFile {
                path: path.clone(),
                sha256,
            };
            let toml_err = |source| SchemaError::Toml {
                file: path.clone(),
                source: Box::new(source),
            };
            let id = match path.split('/').collect::<Vec<_>>().as_slice() {
                ["datasets", "iod", _] => {
                    let format: IodFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.iod.push((file, format));
                    id
                }
                ["datasets", "iod-summary", _] => {
                    let format: IodSummaryFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.iod_summary.push((file, format));
                    id
                }
                ["datasets", "observations", _] => {
                    let format: ObservationFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.observations.push((file, format));
                    id
                }
                ["datasets", "crime", _] => {
                    let format: CrimeFormat = toml::from_str(&text).map_err(toml_err)?;
                    let id = format.id.clone();
                    catalog.crime.push((file, format));
                    id
                }
                ["datasets", "population", _] => {
                    let format: PopulationFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.population.push((file, format));
                    id
                }
                ["datasets", "lookup", _] => {
                    let format: LookupFormat = toml::from_str(&text).map_err(toml_err)?;
                    let id = format.id.clone();
                    catalog.lookup.push((file, format));
                    id
                }
                ["datasets", "boundaries", _] => {
                    let format: BoundaryFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.boundaries.push((file, format));
                    id
                }
                ["datasets", "postcodes", _] => {
                    let format: PostcodeFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.postcodes.push((file, format));
                    id
                }
                ["datasets", "bridge", _] => {
                    let format: BridgeFormat = toml::from_str(&text).map_err(toml_err)?;
                    let id = format.id.clone();
                    catalog.bridge.push((file, format));
                    id
                }
                ["datasets", "lm3", _] => {
                    let format: lm3::Lm3Format = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.lm3.push((file, format));
                    id
                }
                ["datasets", "parents", _] => {
                    let format: parents::ParentsFormat = toml::from_str(&text).map_err(toml_err)?;
                    format.check(&path)?;
                    let id = format.id.clone();
                    catalog.parents.push((file, format));
                    id
                }
                ["datasets", family @ ("spend" | "suppliers"), name] => {
                    catalog.spend.load(family, name, &text, file)?
                }
                ["indicators", _] => {
                    let def: IndicatorDef = toml::from_str(&text).map_err(toml_err)?;
                    def.check(&path)?;
                    let id = format!("indicator {}", def.id);
                    catalog.indicators.push((file, def));
                    id
                }
                ["plans", _] => {
                    let def: plan::PlanDef = toml::from_str(&text).map_err(toml_err)?;
                    def.check(&path)?;
                    let id = format!("plan {}", def.id);
                    catalog.plans.push((file, def));
                    id
                }
                ["editions.toml"] => {
                    catalog.editions = toml::from_str(&text).map_err(toml_err)?;
                    continue;
                }
                _ => continue,
            };
            if let Some(other) = ids.insert(id.clone(), path.clone()) {
                return Err(SchemaError::Invalid {
                    file: path,
                    message: format!("format id {id:?} is already used by {other}"),
                });
            }
        }
        Ok(catalog)
    }

    /// A report view by id (`lpp`).
    pub fn plan(&self, id: &str) -> Option<&plan::PlanDef> {
        self.plans.iter().map(|(_, d)| d).find(|d| d.id == id)
    }

    /// An indicator definition by id.
    pub fn indicator(&self, id: &str) -> Option<&IndicatorDef> {
        self.indicators.iter().map(|(_, d)| d).find(|d| d.id == id)
    }

    /// The IoD formats of one edition.
    pub fn iod_formats(&self, vintage: &str) -> impl Iterator<Item = &(SchemaFile, IodFormat)> {
        self.iod.iter().filter(move |(_, f)| f.vintage == vintage)
    }

    /// The area-summary formats of one edition.
    pub fn iod_summary_formats(
        &self,
        vintage: &str,
    ) -> impl Iterator<Item = &(SchemaFile, IodSummaryFormat)> {
        self.iod_summary
            .iter()
            .filter(move |(_, f)| f.vintage == vintage)
    }

    /// The observation formats a `renewal ingest <family>` command reads.
    pub fn observation_formats(
        &self,
        family: &str,
    ) -> impl Iterator<Item = &(SchemaFile, ObservationFormat)> {
        self.observations
            .iter()
            .filter(move |(_, f)| f.family == family)
    }

    /// The hash of a schema file by its path, if this catalog has it.
    pub fn schema_sha256(&self, path: &str) -> Option<&str> {
        let files = self
            .iod
            .iter()
            .map(|(f, _)| f)
            .chain(self.iod_summary.iter().map(|(f, _)| f))
            .chain(self.observations.iter().map(|(f, _)| f))
            .chain(self.crime.iter().map(|(f, _)| f))
            .chain(self.lookup.iter().map(|(f, _)| f))
            .chain(self.bridge.iter().map(|(f, _)| f))
            .chain(self.population.iter().map(|(f, _)| f))
            .chain(self.boundaries.iter().map(|(f, _)| f))
            .chain(self.lm3.iter().map(|(f, _)| f))
            .chain(self.spend.files())
            .chain(self.postcodes.iter().map(|(f, _)| f))
            .chain(self.parents.iter().map(|(f, _)| f));
        files
            .into_iter()
            .find(|f| f.path == path)
            .map(|f| f.sha256.as_str())
    }

    /// The parent types the parents layouts declare (the closed vocabulary, without `user`).
    pub fn parent_types(&self) -> BTreeSet<&str> {
        self.parents
            .iter()
            .flat_map(|(_, f)| f.parents.iter().map(|p| p.kind.as_str()))
            .filter(|k| *k != parents::USER_TYPE)
            .collect()
    }

    /// The IoD editions with at least one format.
    pub fn iod_vintages(&self) -> BTreeSet<&str> {
        self.iod.iter().map(|(_, f)| f.vintage.as_str()).collect()
    }

    /// The newest IoD edition with a format (editions are years, compared as numbers).
    pub fn newest_edition(&self) -> Option<&str> {
        self.iod_vintages()
            .into_iter()
            .max_by_key(|v| (v.parse::<u32>().unwrap_or(0), *v))
    }

    /// The edition a request means: `None` or empty is the declared default (`editions.toml`,
    /// else the oldest edition known, never silently the newest), `newest` the newest edition,
    /// anything else must be a known edition.
    pub fn resolve_edition(&self, requested: Option<&str>) -> Result<String, SchemaError> {
        let known = self.iod_vintages();
        let unknown = |e: &str| SchemaError::Invalid {
            file: "editions".into(),
            message: format!(
                "unknown IoD edition {e:?} (known: {}, or {NEWEST_EDITION})",
                known.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        };
        let requested = requested.map(str::trim).filter(|e| !e.is_empty());
        let edition = match requested {
            None => match &self.editions.default {
                Some(d) => d.clone(),
                None => known
                    .iter()
                    .min_by_key(|v| v.parse::<u32>().unwrap_or(u32::MAX))
                    .map(|v| v.to_string())
                    .ok_or_else(|| unknown(""))?,
            },
            Some(e) if e.eq_ignore_ascii_case(NEWEST_EDITION) => self
                .newest_edition()
                .map(str::to_owned)
                .ok_or_else(|| unknown(e))?,
            Some(e) => e.to_owned(),
        };
        if known.contains(edition.as_str()) {
            Ok(edition)
        } else {
            Err(unknown(&edition))
        }
    }
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) -> Result<(), SchemaError> {
    let io = |source| SchemaError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, root, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Io {
                path: path.clone(),
                source,
            })?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, text));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped schema file parses and passes its checks.
    fn edition_format(year: &str) -> (String, String) {
        (
            format!("datasets/iod/{year}.toml"),
            format!(
                "id = \"iod{year}\"\nvintage = \"{year}\"\ndescription = \"x\"\n\
                 lsoa_vintage = \"LSOA11\"\nnational_lsoa_count = 10\n\
                 columns = [{{ header = \"S\", domain = \"imd\", measure = \"score\" }}]\n\
                 [keys]\nlsoa_code = \"L\"\n"
            ),
        )
    }

    #[test]
    fn editions_resolve_to_the_declared_default_or_the_newest_on_request() {
        let files = vec![
            edition_format("2019"),
            edition_format("2025"),
            edition_format("2015"),
            (
                "editions.toml".to_owned(),
                "default = \"2019\"\n".to_owned(),
            ),
        ];
        let catalog = Catalog::from_files(files.clone()).unwrap();
        assert_eq!(catalog.resolve_edition(None).unwrap(), "2019");
        assert_eq!(catalog.resolve_edition(Some("")).unwrap(), "2019");
        assert_eq!(catalog.resolve_edition(Some("newest")).unwrap(), "2025");
        assert_eq!(catalog.resolve_edition(Some("2015")).unwrap(), "2015");
        let err = catalog
            .resolve_edition(Some("2010"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2010") && err.contains("2015, 2019, 2025"),
            "{err}"
        );

        // Without a declared default the oldest edition is meant, never silently the newest.
        let catalog = Catalog::from_files(files.into_iter().take(3)).unwrap();
        assert_eq!(catalog.resolve_edition(None).unwrap(), "2015");
    }

    #[test]
    fn embedded_schemas_are_valid() {
        let catalog = Catalog::embedded().unwrap();
        assert!(embedded::EMBEDDED.len() >= catalog.iod.len() + catalog.lookup.len());
        for (file, format) in &catalog.iod {
            assert!(file.path.starts_with("datasets/iod/"), "{}", file.path);
            assert!(!format.columns.is_empty(), "{}", file.path);
        }
        assert!(catalog.iod_vintages().contains("2019"));
        assert!(catalog.iod_vintages().contains("2015"));
        assert!(!catalog.lookup.is_empty());
        let file10 = catalog.iod_summary_formats("2019").next().unwrap();
        // Published headers end in a space; matching trims.
        let header = [
            "Local Authority District code (2019)",
            "IMD - Average score ",
        ]
        .map(String::from);
        assert!(file10.1.matches(&header));
        assert_eq!(
            file10.1.column("IMD 2019 - Extent ").unwrap().measure,
            "extent"
        );
    }

    #[test]
    fn official_2019_format_recognises_file_2_header() {
        let catalog = Catalog::embedded().unwrap();
        let header: Vec<String> = [
            "LSOA code (2011)",
            "LSOA name (2011)",
            "Local Authority District code (2019)",
            "Local Authority District name (2019)",
            "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
        ]
        .map(String::from)
        .to_vec();
        let matching: Vec<_> = catalog
            .iod_formats("2019")
            .filter(|(_, f)| f.matches(&header))
            .map(|(_, f)| f.id.as_str())
            .collect();
        assert_eq!(matching, ["iod2019-official"]);
        assert!(
            catalog
                .iod_formats("2015")
                .all(|(_, f)| !f.matches(&header))
        );
    }

    /// The 2025 edition is built in: the GM File 2 and File 5 headers (LSOA 2021, LAD 2024)
    /// and the File 6 headers the sample generator writes are read by exactly one format, with
    /// the edition's national count and vintages declared in the schema file.
    #[test]
    fn official_2025_format_recognises_files_2_5_and_6() {
        let catalog = Catalog::embedded().unwrap();
        let keys = [
            "LSOA code (2021)",
            "LSOA name (2021)",
            "Local Authority District code (2024)",
            "Local Authority District name (2024)",
        ];
        let with = |extra: &[&str]| -> Vec<String> {
            keys.iter().chain(extra).map(|h| h.to_string()).collect()
        };
        let file2 = with(&[
            "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
            "Income Decile (where 1 is most deprived 10% of LSOAs)",
        ]);
        let file5 = with(&[
            "Index of Multiple Deprivation (IMD) Score",
            "Income Score (rate)",
        ]);
        let file6 = with(&[
            "Total population: mid 2022 (excluding prisoners)",
            "Dependent Children aged 0-15: mid 2022 (excluding prisoners)",
            "Population aged 16-59: mid 2022 (excluding prisoners)",
            "Older population aged 60 and over: mid 2022 (excluding prisoners)",
            "Working age population 18-66: for use with Employment Deprivation Domain (excluding prisoners)",
        ]);
        for header in [&file2, &file5, &file6] {
            let matching: Vec<_> = catalog
                .iod_formats("2025")
                .filter(|(_, f)| f.matches(header))
                .map(|(_, f)| f.id.as_str())
                .collect();
            assert_eq!(matching, ["iod2025-official"], "{header:?}");
            assert!(catalog.iod_formats("2019").all(|(_, f)| !f.matches(header)));
        }
        let (_, format) = catalog.iod_formats("2025").next().unwrap();
        assert_eq!(format.national_lsoa_count, 33755);
        assert_eq!(format.lsoa_vintage.to_string(), "LSOA21");
        assert_eq!(
            format.lad_vintage.map(|v| v.to_string()).as_deref(),
            Some("LAD24")
        );
        for (header, domain) in [
            (
                "Total population: mid 2022 (excluding prisoners)",
                "population_total",
            ),
            (
                "Total population: mid-2022 (excluding prisoners)",
                "population_total",
            ),
            (
                "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners) ",
                "population_working_age",
            ),
            ("Income Score (rate)", "income"),
        ] {
            assert_eq!(
                format.column(header).map(|c| c.domain.as_str()),
                Some(domain),
                "{header}"
            );
        }
        // The same domain and measure vocabulary as 2019.
        let cells = |v: &str| -> BTreeSet<(String, Measure)> {
            let (_, f) = catalog
                .iod_formats(v)
                .find(|(_, f)| f.id.ends_with("-official"))
                .unwrap();
            f.columns
                .iter()
                .map(|c| (c.domain.clone(), c.measure))
                .collect()
        };
        assert_eq!(cells("2025"), cells("2019"));

        let (_, file10) = catalog.iod_summary_formats("2025").next().unwrap();
        assert_eq!(file10.area_vintage.to_string(), "LAD24");
        let sheet =
            ["Local Authority District code (2024)", "IMD 2025 - Extent "].map(String::from);
        assert!(file10.matches(&sheet));
        assert_eq!(
            file10
                .column("IMD 2025 - Rank of local concentration ")
                .unwrap()
                .measure,
            "rank_of_local_concentration"
        );
        assert_eq!(catalog.newest_edition(), Some("2025"));
    }

    #[test]
    fn rejects_unknown_fields_and_duplicate_cells() {
        let bad = r#"
            id = "x"
            vintage = "2019"
            description = "d"
            lsoa_vintage = "LSOA11"
            national_lsoa_count = 10
            surprise = 1
            keys = { lsoa_code = "a" }
            columns = []
        "#;
        let err = Catalog::from_files([("datasets/iod/x.toml".into(), bad.into())]).unwrap_err();
        assert!(err.to_string().contains("surprise"), "{err}");

        let dup = r#"
            id = "x"
            vintage = "2019"
            description = "d"
            lsoa_vintage = "LSOA11"
            national_lsoa_count = 10
            keys = { lsoa_code = "a" }
            columns = [
              { header = "s1", domain = "imd", measure = "score" },
              { header = "s2", domain = "imd", measure = "score" },
            ]
        "#;
        let err = Catalog::from_files([("datasets/iod/x.toml".into(), dup.into())]).unwrap_err();
        assert!(err.to_string().contains("two columns"), "{err}");
    }
}
