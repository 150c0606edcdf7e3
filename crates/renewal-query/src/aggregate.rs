//! An indicator summed to every reportable area and period, once per set of dataset versions.
//! Every question is answered from an [`Aggregate`]; the [`crate::Engine`] keeps them keyed by
//! the versions they were built from, so a refresh (a new version) simply misses the cache.

use std::collections::{BTreeMap, HashMap};

use renewal_schema::{IndicatorDef, NativeGeography, ValueType};
use renewal_stats::disclosure::{Cell, Protection, Withheld};
use renewal_stats::{Confidence, Interval};
use serde::Serialize;

use crate::Basis;
use crate::geography::{Area, AreaLevel, Membership};
use crate::native::Native;

/// An area's numerator and denominator in one period. Both are `None` when any member lacked
/// data: a sum over some members only would be a made-up number.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// Members with data / members the area has.
    pub members: u32,
    pub expected: u32,
}

impl Figure {
    pub fn complete(&self) -> bool {
        self.members == self.expected
    }
}

pub struct Aggregate {
    pub indicator: IndicatorDef,
    /// The level the data come at (LSOA, ward or authority); every other level sums these.
    pub native_level: AreaLevel,
    /// (level, area) → its native member codes.
    pub members: HashMap<(AreaLevel, String), Vec<String>>,
    pub periods: Vec<String>,
    pub areas: BTreeMap<(AreaLevel, String), Area>,
    pub figures: HashMap<(AreaLevel, String, String), Figure>,
    pub basis: Basis,
    pub notes: Vec<String>,
    /// The LSOA vintage of the native figures, when they are LSOAs of a known vintage.
    pub lsoa_vintage: Option<renewal_geo::Vintage>,
    /// The lookup's English LSOAs and their vintage: whether the geography itself covers
    /// England (a partnership's lookup holds only its own areas), for any native level.
    pub lookup_english_lsoas: (usize, Option<renewal_geo::Vintage>),
    /// Parent area code → its type (`pfa`, `icb` …), for areas of [`AreaLevel::Parent`].
    pub parent_type: HashMap<String, String>,
    /// Per parent type, what the parent lookup could not place (said when the type is used).
    pub parent_notes: BTreeMap<String, Vec<String>>,
    /// Per parent type, the dataset and version its areas come from.
    pub parent_datasets: BTreeMap<String, (String, u64)>,
    /// Per parent type, native code → the parent it counts towards.
    parent_members: HashMap<String, HashMap<String, String>>,
    /// Disclosure control: the threshold and, per period, the withheld native cells and their
    /// protection groups (empty for indicators that are not counts).
    threshold: f64,
    protection: HashMap<String, Protection>,
}

impl Aggregate {
    /// Sums native figures into every area they belong to.
    pub(crate) fn build(
        indicator: IndicatorDef,
        native: Native,
        membership: &Membership,
        basis: Basis,
        mut notes: Vec<String>,
    ) -> Aggregate {
        #[derive(Default)]
        struct Acc {
            numerator: f64,
            denominator: f64,
            members: u32,
            missing: bool,
        }
        let value_only = indicator.value_type == ValueType::Value;
        let mut acc: HashMap<(AreaLevel, String, String), Acc> = HashMap::new();
        let mut unplaced = std::collections::BTreeSet::new();
        let mut areas = BTreeMap::new();
        for ((code, period), f) in &native.figures {
            let Some(targets) = membership.of_member.get(code) else {
                unplaced.insert(code.clone());
                continue;
            };
            for (level, area) in targets {
                // Published values are never summed: they exist at their own level only.
                if value_only && area != code {
                    continue;
                }
                let a = acc
                    .entry((*level, area.clone(), period.clone()))
                    .or_default();
                a.members += 1;
                match (f.numerator, f.denominator, value_only) {
                    (Some(n), _, true) => a.numerator += n,
                    (Some(n), Some(d), false) => {
                        a.numerator += n;
                        a.denominator += d;
                    }
                    _ => a.missing = true,
                }
                if let Some(area) = membership.area(*level, area) {
                    areas
                        .entry((*level, area.code.clone()))
                        .or_insert(area.clone());
                }
            }
        }
        if !unplaced.is_empty() {
            let examples: Vec<_> = unplaced.iter().take(3).cloned().collect();
            notes.push(format!(
                "{} areas in the data are not in the lookup and count towards no larger area (e.g. {})",
                unplaced.len(),
                examples.join(", ")
            ));
        }
        let mut incomplete: BTreeMap<AreaLevel, u32> = BTreeMap::new();
        let figures = acc
            .into_iter()
            .map(|(key, a)| {
                let expected = if value_only {
                    1
                } else {
                    membership
                        .expected
                        .get(&(key.0, key.1.clone()))
                        .copied()
                        .unwrap_or(a.members)
                };
                let whole = !a.missing && a.members == expected;
                // Parent areas speak through their own notes, given when their type is
                // asked for: every answer would otherwise carry them.
                if !whole && key.0 != AreaLevel::Parent {
                    *incomplete.entry(key.0).or_default() += 1;
                }
                let figure = Figure {
                    numerator: whole.then_some(a.numerator),
                    denominator: (whole && !value_only).then_some(a.denominator),
                    members: if a.missing { 0 } else { a.members },
                    expected,
                };
                (key, figure)
            })
            .collect();
        for (level, n) in incomplete {
            notes.push(format!(
                "{n} {level} figures are left empty because some of their member areas have no data",
                level = level.as_str()
            ));
        }
        let mut members: HashMap<(AreaLevel, String), Vec<String>> = HashMap::new();
        for (native_code, targets) in &membership.of_member {
            for t in targets {
                members
                    .entry(t.clone())
                    .or_default()
                    .push(native_code.clone());
            }
        }
        for list in members.values_mut() {
            list.sort();
        }
        let mut parent_members: HashMap<String, HashMap<String, String>> = HashMap::new();
        for ((level, code), natives) in &members {
            if *level != AreaLevel::Parent {
                continue;
            }
            let Some(kind) = membership.parent_type.get(code) else {
                continue;
            };
            let index = parent_members.entry(kind.clone()).or_default();
            for n in natives {
                index.insert(n.clone(), code.clone());
            }
        }
        let native_level = match indicator.native_geography {
            NativeGeography::Ward => AreaLevel::Ward,
            NativeGeography::Lad => AreaLevel::Lad,
            _ => AreaLevel::Lsoa,
        };
        Aggregate {
            indicator,
            native_level,
            members,
            periods: native.periods,
            areas,
            figures,
            basis,
            notes,
            lsoa_vintage: None,
            lookup_english_lsoas: (0, None),
            parent_type: membership.parent_type.clone(),
            parent_notes: membership.parent_notes.clone(),
            parent_datasets: membership.parent_datasets.clone(),
            parent_members,
            threshold: crate::DEFAULT_DISCLOSURE_THRESHOLD,
            protection: HashMap::new(),
        }
    }

    /// Chooses, per period, the native cells withheld at `threshold` and their protection
    /// groups (`renewal_stats::disclosure`): LSOAs are protected first among those sharing
    /// their key in `refinement` (the same ward in every vintage), then in their authority;
    /// wards in their authority; native authorities in England.
    pub(crate) fn protect(&mut self, threshold: f64, refinement: &HashMap<String, String>) {
        self.threshold = threshold;
        self.protection.clear();
        if !self.indicator.value_type.counts() {
            return;
        }
        let mut group_of: HashMap<&str, &str> = HashMap::new();
        if self.native_level == AreaLevel::Lad {
            for ((level, code), _) in self.members.iter() {
                if *level == AreaLevel::Lad {
                    group_of.insert(code.as_str(), crate::ENGLAND_CODE);
                }
            }
        } else {
            for ((level, lad), natives) in self.members.iter() {
                if *level == AreaLevel::Lad {
                    for n in natives {
                        group_of.insert(n.as_str(), lad.as_str());
                    }
                }
            }
        }
        let mut by_period: HashMap<&str, Vec<Cell<'_>>> = HashMap::new();
        for ((level, code, period), f) in &self.figures {
            if *level != self.native_level {
                continue;
            }
            let (Some(count), Some(group)) = (f.numerator, group_of.get(code.as_str())) else {
                continue;
            };
            by_period.entry(period.as_str()).or_default().push(Cell {
                code: code.as_str(),
                group: refinement.get(code).map(String::as_str).unwrap_or(group),
                parent: group,
                count,
            });
        }
        let protection: HashMap<String, Protection> = by_period
            .into_iter()
            .map(|(period, mut cells)| {
                cells.sort_by(|a, b| a.code.cmp(b.code));
                (
                    period.to_owned(),
                    renewal_stats::disclosure::protect(&cells, threshold),
                )
            })
            .collect();
        self.protection = protection;
    }

    /// Why a sum of native cells with count `x` in `period` is withheld, if it is.
    fn withheld<'a>(
        &self,
        x: f64,
        codes: impl IntoIterator<Item = &'a String>,
        period: &str,
    ) -> Option<Withheld> {
        if !self.indicator.value_type.counts() {
            return None;
        }
        // A figure splitting a protection group is `complementary` whatever its own count, so
        // the flag says nothing about the count; only a figure that splits none is flagged for
        // its own count being small.
        let split = self
            .protection
            .get(period)
            .and_then(|p| p.release(codes.into_iter().map(|c| (c.as_str(), 1.0))));
        split.or((x < self.threshold).then_some(Withheld::BelowThreshold))
    }

    fn released(&self, x: Option<f64>, n: Option<f64>, why: Option<Withheld>) -> Assessed {
        match why {
            Some(w) => (
                Evaluated {
                    value: None,
                    ci95: None,
                    ci998: None,
                    suppressed: true,
                    withheld: Some(w),
                },
                None,
            ),
            None => (self.evaluate(x, n, self.threshold), x.zip(n)),
        }
    }

    /// An area's figure after disclosure control: its value and intervals, and its numerator
    /// and denominator when released. Withheld figures say why; nothing derived from them may
    /// be published.
    pub fn assess(&self, level: AreaLevel, code: &str, period: &str) -> Assessed {
        let Some(f) = self.figure(level, code, period) else {
            return self.released(None, None, None);
        };
        let why = match (f.numerator, self.members.get(&(level, code.to_owned()))) {
            (Some(x), Some(m)) => self.withheld(x, m, period),
            (Some(x), None) => self.withheld(x, [&code.to_owned()], period),
            (None, _) => None,
        };
        self.released(f.numerator, f.denominator, why)
    }

    /// Native cells pooled (a selection or the rest of an authority) after disclosure
    /// control, with the number of cells pooled. `None` counts when any lacks data.
    pub fn assess_set(&self, codes: &[&String], period: &str) -> (Assessed, usize) {
        let Some((x, n, _)) = self.pool(codes.iter().copied(), period) else {
            return (self.released(None, None, None), codes.len());
        };
        let why = self.withheld(x, codes.iter().copied(), period);
        (self.released(Some(x), Some(n), why), codes.len())
    }

    /// Withheld native cells in `period` (primary and complementary).
    pub fn withheld_cells(&self, period: &str) -> usize {
        self.protection
            .get(period)
            .map(|p| p.withheld_cells())
            .unwrap_or(0)
    }

    pub fn figure(&self, level: AreaLevel, code: &str, period: &str) -> Option<&Figure> {
        self.figures
            .get(&(level, code.to_owned(), period.to_owned()))
    }

    /// The parent types this aggregate has parent areas of.
    pub fn parent_types(&self) -> std::collections::BTreeSet<&str> {
        self.parent_type.values().map(String::as_str).collect()
    }

    /// The parent area of type `kind` that wholly contains area (`level`, `code`): the one
    /// parent every native member of the area counts towards. `None` when the area straddles
    /// parents, or some member lies in none.
    pub fn containing_parent(&self, kind: &str, level: AreaLevel, code: &str) -> Option<String> {
        if level == AreaLevel::Parent {
            return None;
        }
        let members = self.members.get(&(level, code.to_owned()))?;
        let mut found: Option<&String> = None;
        for m in members {
            let p = self.parent_of_native(kind, m)?;
            match found {
                Some(f) if f != p => return None,
                _ => found = Some(p),
            }
        }
        found.cloned()
    }

    /// The parent of type `kind` a native area counts towards, if any.
    fn parent_of_native(&self, kind: &str, native: &str) -> Option<&String> {
        self.parent_members.get(kind).and_then(|m| m.get(native))
    }

    /// Areas of a level, optionally only those whose parent is `parent`.
    pub fn areas_of(&self, level: AreaLevel, parent: Option<&str>) -> Vec<&Area> {
        self.areas
            .values()
            .filter(|a| a.level == level)
            .filter(|a| parent.is_none() || a.parent.as_deref() == parent)
            .collect()
    }

    /// Pools the native figures of `codes` in `period`: `None` when any lacks data.
    pub fn pool<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a String>,
        period: &str,
    ) -> Option<(f64, f64, u32)> {
        let (mut x, mut n, mut k) = (0.0, 0.0, 0u32);
        for c in codes {
            let f = self.figure(self.native_level, c, period)?;
            x += f.numerator?;
            n += f.denominator?;
            k += 1;
        }
        (k > 0).then_some((x, n, k))
    }

    pub fn latest_period(&self) -> Option<&str> {
        self.periods.last().map(String::as_str)
    }

    /// The indicator's value, intervals and disclosure status for numerator `x` and
    /// denominator `n`.
    pub fn evaluate(&self, x: Option<f64>, n: Option<f64>, threshold: f64) -> Evaluated {
        evaluate(&self.indicator, x, n, threshold)
    }
}

/// A figure after disclosure control: its evaluation and, when released, (numerator,
/// denominator).
pub type Assessed = (Evaluated, Option<(f64, f64)>);

/// A value with its 95% and 99.8% intervals, after disclosure control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluated {
    pub value: Option<f64>,
    pub ci95: Option<Interval>,
    pub ci998: Option<Interval>,
    /// Withheld by disclosure control: value and everything derived from it are left out.
    pub suppressed: bool,
    /// Why it is withheld (below the threshold, or complementary to a cell that is).
    pub withheld: Option<Withheld>,
}

pub fn evaluate(def: &IndicatorDef, x: Option<f64>, n: Option<f64>, threshold: f64) -> Evaluated {
    let none = Evaluated {
        value: None,
        ci95: None,
        ci998: None,
        suppressed: false,
        withheld: None,
    };
    let Some(x) = x else { return none };
    if def.value_type.counts() && x < threshold {
        return Evaluated {
            suppressed: true,
            withheld: Some(Withheld::BelowThreshold),
            ..none
        };
    }
    let m = def.multiplier;
    let interval = |c: Confidence| -> Option<Interval> {
        let n = n?;
        match def.value_type {
            ValueType::Proportion => renewal_stats::wilson(x, n, c).map(|i| Interval {
                lower: i.lower * m,
                upper: i.upper * m,
            }),
            ValueType::Rate => renewal_stats::rate_interval(x, n, m, c),
            ValueType::Score | ValueType::Value => None,
        }
    };
    let value = match (def.value_type, n) {
        (ValueType::Value, _) => Some(x * m),
        (_, Some(n)) if n > 0.0 => Some(x / n * m),
        _ => None,
    };
    Evaluated {
        value,
        ci95: interval(Confidence::P95),
        ci998: interval(Confidence::P998),
        suppressed: false,
        withheld: None,
    }
}
