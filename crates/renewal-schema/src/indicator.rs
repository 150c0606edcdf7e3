//! Indicator definitions (`data-schemas/indicators/*.toml`): what an indicator measures, and
//! how its numerator and denominator are read from warehouse tables at its native geography.
//! The query engine compiles them to SQL; nothing here opens a table.

use serde::{Deserialize, Serialize};

use crate::SchemaError;

/// One indicator. Values are `numerator / denominator × multiplier` for every area, after
/// summing numerators and denominators over the area's members (METHODS.md, "Indicators").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The PAT 17 outcome or family it belongs to (`worklessness`, `crime`, `health`,
    /// `education`, `deprivation`, `services`).
    pub theme: String,
    pub value_type: ValueType,
    /// 100 for percentages, 1,000 for rates per 1,000, 1 for scores.
    pub multiplier: f64,
    /// How values read: `%`, `per 1,000 residents`, `score`.
    pub unit: String,
    pub polarity: PolarityName,
    /// The publication the data come from.
    pub source: String,
    /// The geography numerator and denominator are read at: `lsoa` (any vintage), `lsoa11`,
    /// `lsoa21`, `ward` or `lad`. Larger areas are built by summing members.
    pub native_geography: NativeGeography,
    /// Which periods exist, in words (the data say exactly).
    #[serde(default)]
    pub periods: Option<String>,
    pub numerator: SourceDef,
    /// Absent for indicators published only as values (no aggregation is possible). With a
    /// [`PopulationDef`] this is the declared fallback: used for the areas and periods that no
    /// population estimate covers.
    #[serde(default)]
    pub denominator: Option<SourceDef>,
    /// The population base of a per-resident rate, read for each period from population
    /// estimates (`renewal ingest population`): the estimate for the period's own year,
    /// failing that the nearest earlier year, then the nearest later one, then `denominator`.
    #[serde(default)]
    pub population: Option<PopulationDef>,
}

/// An indicator's population base, taken from population datasets period by period.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationDef {
    /// Population datasets to read (a dataset id or pattern with `*`).
    #[serde(default = "default_population_dataset")]
    pub dataset: String,
    /// The age band (`all_ages`, `16-64`, `0-15`, `65+`, …) as population datasets name it.
    pub age_band: String,
    /// `persons`, `females` or `males`.
    #[serde(default = "default_sex")]
    pub sex: String,
    /// In words, for answers: "residents aged 16-64".
    pub describe: String,
}

fn default_population_dataset() -> String {
    "population-*".into()
}
fn default_sex() -> String {
    "persons".into()
}

/// What kind of number an indicator is; decides its confidence interval (METHODS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueType {
    /// A share of a population: Wilson interval.
    Proportion,
    /// Events per population: Byar / exact Poisson interval.
    Rate,
    /// A population-weighted average score (numerator = Σ score × population): no interval.
    Score,
    /// A published value that cannot be aggregated.
    Value,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Proportion => "proportion",
            ValueType::Rate => "rate",
            ValueType::Score => "score",
            ValueType::Value => "value",
        }
    }

    /// Whether the numerator is a count of people or events, so small values disclose.
    pub fn counts(self) -> bool {
        matches!(self, ValueType::Proportion | ValueType::Rate)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolarityName {
    HigherIsBetter,
    LowerIsBetter,
    NoJudgement,
}

impl PolarityName {
    pub fn as_str(self) -> &'static str {
        match self {
            PolarityName::HigherIsBetter => "higher-is-better",
            PolarityName::LowerIsBetter => "lower-is-better",
            PolarityName::NoJudgement => "no-judgement",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NativeGeography {
    /// LSOAs of whichever vintage the chosen lookup has (census tables come in both).
    Lsoa,
    Lsoa11,
    Lsoa21,
    Ward,
    Lad,
}

impl NativeGeography {
    pub fn as_str(self) -> &'static str {
        match self {
            NativeGeography::Lsoa => "lsoa",
            NativeGeography::Lsoa11 => "lsoa11",
            NativeGeography::Lsoa21 => "lsoa21",
            NativeGeography::Ward => "ward",
            NativeGeography::Lad => "lad",
        }
    }

    pub fn is_lsoa(self) -> bool {
        matches!(
            self,
            NativeGeography::Lsoa | NativeGeography::Lsoa11 | NativeGeography::Lsoa21
        )
    }

    /// The LSOA vintage, for LSOA-native indicators that fix one.
    pub fn lsoa_vintage(self) -> Option<renewal_geo::Vintage> {
        match self {
            NativeGeography::Lsoa11 => "LSOA11".parse().ok(),
            NativeGeography::Lsoa21 => "LSOA21".parse().ok(),
            _ => None,
        }
    }
}

/// Where a numerator or denominator comes from: rows of one warehouse table, filtered, with
/// SQL expressions for the area code, the period and the value to sum.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    /// A dataset id, or a pattern with `*` (`census-*general-health*`): every matching
    /// dataset's current version is read, and two of them covering the same area and period
    /// is an error rather than a double count.
    pub dataset: String,
    #[serde(default = "default_table")]
    pub table: String,
    /// SQL boolean expression over the table's columns.
    #[serde(default, rename = "where")]
    pub filter: Option<String>,
    #[serde(default = "default_area")]
    pub area: String,
    /// SQL expression for the period label; absent when one value serves every period (a
    /// population denominator).
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default = "default_value")]
    pub value: String,
    /// Weights each value by another row of the same table and area (`value × weight` is
    /// summed): how a population-weighted score's numerator is built. SQL boolean expression
    /// selecting the weight rows, whose `value` column is the weight.
    #[serde(default)]
    pub weight_where: Option<String>,
    /// An area the table has no row for had none (police.uk lists every crime), within the
    /// authorities the table covers; otherwise a missing row is a missing value.
    #[serde(default)]
    pub absent_means_zero: bool,
}

fn default_table() -> String {
    "observations".into()
}
fn default_area() -> String {
    "area_code".into()
}
fn default_value() -> String {
    "value".into()
}

impl IndicatorDef {
    pub(crate) fn check(&self, file: &str) -> Result<(), SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: file.to_owned(),
            message,
        };
        if !self
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(format!(
                "indicator id {:?} must be lowercase letters, digits and '-'",
                self.id
            )));
        }
        if !(self.multiplier.is_finite() && self.multiplier > 0.0) {
            return Err(invalid("multiplier must be a positive number".into()));
        }
        match (self.value_type, &self.denominator) {
            (ValueType::Value, Some(_)) => {
                return Err(invalid(
                    "value_type \"value\" has no denominator; use proportion, rate or score".into(),
                ));
            }
            (ValueType::Proportion | ValueType::Rate | ValueType::Score, None) => {
                return Err(invalid(format!(
                    "value_type {:?} needs a denominator",
                    self.value_type.as_str()
                )));
            }
            _ => {}
        }
        if self.numerator.period.is_none() {
            return Err(invalid(
                "the numerator needs a period expression: periods come from the numerator".into(),
            ));
        }
        if self.population.is_some()
            && self.value_type != ValueType::Rate
            && self.value_type != ValueType::Proportion
        {
            return Err(invalid(
                "a population base applies to rates and proportions of residents only".into(),
            ));
        }
        if self
            .denominator
            .as_ref()
            .is_some_and(|d| d.absent_means_zero)
        {
            return Err(invalid(
                "absent_means_zero applies to numerators only: a missing population is missing"
                    .into(),
            ));
        }
        for s in std::iter::once(&self.numerator).chain(&self.denominator) {
            if s.dataset.is_empty() || s.table.is_empty() {
                return Err(invalid("a source needs a dataset and a table".into()));
            }
            // Sources are embedded in generated SQL; a semicolon would start another statement.
            let exprs = [
                Some(&s.area),
                s.period.as_ref(),
                Some(&s.value),
                s.filter.as_ref(),
                s.weight_where.as_ref(),
            ];
            if exprs.into_iter().flatten().any(|e| e.contains(';')) {
                return Err(invalid("source expressions must not contain ';'".into()));
            }
        }
        Ok(())
    }
}

/// Whether `id` matches a dataset pattern (`*` matches any run of characters).
pub fn dataset_matches(pattern: &str, id: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(dataset_matches("iod-2019", "iod-2019"));
        assert!(!dataset_matches("iod-2019", "iod-2015"));
        assert!(dataset_matches(
            "census-*general-health*",
            "census-2021-general-health-lsoa-trafford"
        ));
        assert!(dataset_matches("crime-*", "crime-street"));
        assert!(!dataset_matches("crime-*", "census-crime"));
    }
}
