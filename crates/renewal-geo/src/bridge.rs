//! Moving LSOA-level figures between LSOA vintages (2011 ↔ 2021) through an ONS change lookup.
//!
//! The rule is one and simple, so that it can be stated in every answer: a source area whose
//! code maps to exactly one target area moves **whole** (exact); a source area that maps to
//! several targets is **apportioned** among them in proportion to the targets' weights (a
//! population the user names). Read against the ONS change indicator this gives, going
//! 2011 → 2021: unchanged (U) and merged (M) LSOAs exact, split (S) LSOAs apportioned; going
//! 2021 → 2011: U and S exact, M apportioned; irregular (X) redraws exact for the pieces that
//! fall whole into one target and apportioned otherwise. Totals are conserved either way.
//!
//! A target's figure is the sum over all of its sources; when a source's figure is missing the
//! target's is missing too (a partial sum would be a made-up number), unless the caller says an
//! absent source means zero (police.uk lists every crime).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Vintage;

/// What happened to an area between two vintages (ONS `CHGIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Same area, same code (U).
    Unchanged,
    /// One old area became several new ones (S).
    Split,
    /// Several old areas became one new one (M).
    Merged,
    /// Redrawn in a way that is neither a split nor a merge (X).
    Irregular,
}

impl Change {
    /// The word stored in the warehouse.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Unchanged => "unchanged",
            Change::Split => "split",
            Change::Merged => "merged",
            Change::Irregular => "irregular",
        }
    }

    /// The change a group of linked areas shows by its shape: `from` old areas linked to `to`
    /// new ones (a connected group of the lookup's pairs).
    pub fn of_shape(from: usize, to: usize) -> Change {
        match (from, to) {
            (1, 1) => Change::Unchanged,
            (1, _) => Change::Split,
            (_, 1) => Change::Merged,
            _ => Change::Irregular,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Change {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "unchanged" => Change::Unchanged,
            "split" => Change::Split,
            "merged" => Change::Merged,
            "irregular" => Change::Irregular,
            other => {
                return Err(format!(
                    "unknown change {other:?} (expected unchanged, split, merged or irregular)"
                ));
            }
        })
    }
}

/// Which side of a bridge a set of codes belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSide {
    /// Every code exists on both sides (unchanged areas only): no bridging is needed.
    Both,
    /// Some codes exist only in the `from` vintage.
    From,
    /// Some codes exist only in the `to` vintage.
    To,
    /// Codes that exist only in the `from` vintage *and* codes that exist only in the `to`
    /// vintage: a file mixing two geographies.
    Mixed { from_only: String, to_only: String },
    /// No code is known to the bridge.
    Unknown,
}

/// Why figures could not be moved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BridgeError {
    /// Areas that must be apportioned have targets without weights.
    #[error(
        "{} {from} areas split between {to} areas and must be apportioned, but {} {to} {} no weight: {}",
        codes.len(),
        targets.len(),
        if targets.len() == 1 { "area has" } else { "areas have" },
        list(targets)
    )]
    NoWeights {
        from: Vintage,
        to: Vintage,
        /// The source codes that needed apportioning.
        codes: Vec<String>,
        /// Their target codes lacking a (positive) weight.
        targets: Vec<String>,
    },
}

/// At most ten codes, then how many more.
fn list(codes: &[String]) -> String {
    let shown: Vec<&str> = codes.iter().take(10).map(String::as_str).collect();
    match codes.len() {
        n if n > 10 => format!("{} and {} more", shown.join(", "), n - 10),
        _ => shown.join(", "),
    }
}

/// An ONS change lookup between two LSOA vintages, usable in either direction.
#[derive(Debug, Clone)]
pub struct Bridge {
    /// The vintage figures are moved from.
    pub from: Vintage,
    /// The vintage figures are moved to.
    pub to: Vintage,
    forward: HashMap<String, Vec<String>>,
    backward: HashMap<String, Vec<String>>,
}

/// Figures moved to the target vintage, with an account of how.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved<K: Eq + Hash> {
    /// (target code, key) → value; `None` when a contributing source's value was missing.
    pub values: HashMap<(String, K), Option<f64>>,
    /// Total moved whole (sources with one target).
    pub exact_total: f64,
    /// Total apportioned (sources with several targets).
    pub apportioned_total: f64,
    /// Distinct source codes that were apportioned.
    pub apportioned_codes: BTreeSet<String>,
    /// Source codes the bridge does not know: not moved, to be reported.
    pub unknown: BTreeSet<String>,
    /// Targets left without a figure for some key because some of their sources had none.
    pub incomplete: usize,
}

impl<K: Eq + Hash> Moved<K> {
    /// Share of the moved total that was apportioned rather than moved whole (0 when nothing
    /// moved).
    pub fn apportioned_share(&self) -> f64 {
        let all = self.exact_total + self.apportioned_total;
        if all > 0.0 {
            self.apportioned_total / all
        } else {
            0.0
        }
    }
}

impl Bridge {
    /// A bridge from `(from code, to code)` pairs.
    pub fn new<'a>(
        from: Vintage,
        to: Vintage,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Bridge {
        let mut forward: HashMap<String, Vec<String>> = HashMap::new();
        let mut backward: HashMap<String, Vec<String>> = HashMap::new();
        for (a, b) in pairs {
            let f = forward.entry(a.to_owned()).or_default();
            if !f.iter().any(|x| x == b) {
                f.push(b.to_owned());
                backward.entry(b.to_owned()).or_default().push(a.to_owned());
            }
        }
        for v in forward.values_mut().chain(backward.values_mut()) {
            v.sort();
        }
        Bridge {
            from,
            to,
            forward,
            backward,
        }
    }

    /// The same lookup read the other way.
    pub fn reversed(&self) -> Bridge {
        Bridge {
            from: self.to,
            to: self.from,
            forward: self.backward.clone(),
            backward: self.forward.clone(),
        }
    }

    /// Every code of the `from` vintage the lookup lists.
    pub fn from_codes(&self) -> impl Iterator<Item = &str> {
        self.forward.keys().map(String::as_str)
    }

    /// Every code of the `to` vintage the lookup lists.
    pub fn to_codes(&self) -> impl Iterator<Item = &str> {
        self.backward.keys().map(String::as_str)
    }

    /// The target codes of one source code.
    pub fn targets(&self, from_code: &str) -> Option<&[String]> {
        self.forward.get(from_code).map(Vec::as_slice)
    }

    /// The source codes of one target code.
    pub fn sources(&self, to_code: &str) -> Option<&[String]> {
        self.backward.get(to_code).map(Vec::as_slice)
    }

    /// Whether a code exists in the `from` vintage and in the `to` vintage.
    pub fn knows(&self, code: &str) -> (bool, bool) {
        (
            self.forward.contains_key(code),
            self.backward.contains_key(code),
        )
    }

    /// Which vintage a set of codes is on, judged by the codes that exist on one side only.
    pub fn side_of<'a>(&self, codes: impl IntoIterator<Item = &'a str>) -> CodeSide {
        let mut from_only = None;
        let mut to_only = None;
        let mut known = false;
        for c in codes {
            let (f, t) = (self.forward.contains_key(c), self.backward.contains_key(c));
            known |= f || t;
            if f && !t && from_only.is_none() {
                from_only = Some(c.to_owned());
            }
            if t && !f && to_only.is_none() {
                to_only = Some(c.to_owned());
            }
        }
        match (from_only, to_only) {
            (Some(from_only), Some(to_only)) => CodeSide::Mixed { from_only, to_only },
            (Some(_), None) => CodeSide::From,
            (None, Some(_)) => CodeSide::To,
            (None, None) if known => CodeSide::Both,
            (None, None) => CodeSide::Unknown,
        }
    }

    /// Moves `values` keyed by (source code, key) to (target code, key). Sources with several
    /// targets are apportioned by `weights` (target code → weight); without a positive weight
    /// for every such target the whole move is refused, naming them. With `absent_is_zero`, a
    /// target missing some of its sources for a key still gets a figure (the absent ones count
    /// as zero); otherwise it gets none and is counted in `incomplete`.
    pub fn translate<K: Clone + Eq + Hash>(
        &self,
        values: &HashMap<(String, K), Option<f64>>,
        weights: Option<&HashMap<String, f64>>,
        absent_is_zero: bool,
    ) -> Result<Moved<K>, BridgeError> {
        let mut moved = Moved {
            values: HashMap::new(),
            exact_total: 0.0,
            apportioned_total: 0.0,
            apportioned_codes: BTreeSet::new(),
            unknown: BTreeSet::new(),
            incomplete: 0,
        };
        // Check weights first, so that a refusal lists every code at once.
        let mut unweighted = BTreeSet::new();
        let mut needing = BTreeSet::new();
        for (code, _) in values.keys() {
            if let Some(targets) = self.forward.get(code)
                && targets.len() > 1
            {
                for t in targets {
                    if !weights.and_then(|w| w.get(t)).is_some_and(|w| *w > 0.0) {
                        unweighted.insert(t.clone());
                        needing.insert(code.clone());
                    }
                }
            }
        }
        if !unweighted.is_empty() {
            return Err(BridgeError::NoWeights {
                from: self.from,
                to: self.to,
                codes: needing.into_iter().collect(),
                targets: unweighted.into_iter().collect(),
            });
        }
        let mut contributed: HashMap<(String, K), usize> = HashMap::new();
        for ((code, key), value) in values {
            let Some(targets) = self.forward.get(code) else {
                moved.unknown.insert(code.clone());
                continue;
            };
            let weight_of = |t: &String| weights.and_then(|w| w.get(t)).copied().unwrap_or(0.0);
            let total_weight: f64 = targets.iter().map(weight_of).sum();
            for t in targets {
                let share = if targets.len() == 1 {
                    1.0
                } else {
                    weight_of(t) / total_weight
                };
                let slot = moved
                    .values
                    .entry((t.clone(), key.clone()))
                    .or_insert(Some(0.0));
                *slot = match (*slot, value) {
                    (Some(acc), Some(v)) => Some(acc + v * share),
                    _ => None,
                };
                *contributed.entry((t.clone(), key.clone())).or_default() += 1;
            }
            if let Some(v) = value {
                if targets.len() == 1 {
                    moved.exact_total += v;
                } else {
                    moved.apportioned_total += v;
                    moved.apportioned_codes.insert(code.clone());
                }
            }
        }
        if !absent_is_zero {
            let before = moved.values.len();
            moved.values.retain(|(t, key), _| {
                let have = contributed.get(&(t.clone(), key.clone())).copied();
                let need = self.backward.get(t).map(Vec::len);
                have == need
            });
            moved.incomplete = before - moved.values.len();
        }
        Ok(moved)
    }

    /// The connected groups of linked codes with the change each shows, for checking a
    /// lookup's change indicator: (source codes, target codes, change).
    pub fn groups(&self) -> Vec<(Vec<String>, Vec<String>, Change)> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::new();
        let mut starts: Vec<&String> = self.forward.keys().collect();
        starts.sort();
        for start in starts {
            if seen.contains(start.as_str()) {
                continue;
            }
            let mut from = BTreeSet::new();
            let mut to = BTreeSet::new();
            let mut stack = vec![(true, start.as_str())];
            while let Some((is_from, code)) = stack.pop() {
                let set = if is_from { &mut from } else { &mut to };
                if !set.insert(code.to_owned()) {
                    continue;
                }
                let next = if is_from {
                    self.forward.get(code)
                } else {
                    self.backward.get(code)
                };
                for n in next.into_iter().flatten() {
                    stack.push((!is_from, n.as_str()));
                }
            }
            for f in &from {
                if let Some((k, _)) = self.forward.get_key_value(f.as_str()) {
                    seen.insert(k.as_str());
                }
            }
            let change = Change::of_shape(from.len(), to.len());
            out.push((from.into_iter().collect(), to.into_iter().collect(), change));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vintage {
        s.parse().unwrap()
    }

    /// A: unchanged; B → B1 + B2 (split); C + D → CD (merge); E, F ↔ EF1, EF2 (irregular:
    /// E → EF1 + EF2, F → EF2).
    fn bridge() -> Bridge {
        Bridge::new(
            v("LSOA11"),
            v("LSOA21"),
            [
                ("A", "A"),
                ("B", "B1"),
                ("B", "B2"),
                ("C", "CD"),
                ("D", "CD"),
                ("E", "EF1"),
                ("E", "EF2"),
                ("F", "EF2"),
            ],
        )
    }

    fn values(rows: &[(&str, f64)]) -> HashMap<(String, ()), Option<f64>> {
        rows.iter()
            .map(|(c, x)| ((c.to_string(), ()), Some(*x)))
            .collect()
    }

    fn get(m: &Moved<()>, code: &str) -> Option<f64> {
        m.values.get(&(code.to_owned(), ())).copied().flatten()
    }

    #[test]
    fn whole_where_one_target_apportioned_where_several() {
        let b = bridge();
        let weights: HashMap<String, f64> = [("B1", 1.0), ("B2", 3.0), ("EF1", 1.0), ("EF2", 1.0)]
            .into_iter()
            .map(|(c, w)| (c.to_string(), w))
            .collect();
        let m = b
            .translate(
                &values(&[
                    ("A", 10.0),
                    ("B", 8.0),
                    ("C", 5.0),
                    ("D", 7.0),
                    ("E", 4.0),
                    ("F", 6.0),
                ]),
                Some(&weights),
                false,
            )
            .unwrap();
        assert_eq!(get(&m, "A"), Some(10.0));
        assert_eq!(get(&m, "B1"), Some(2.0)); // 8 × 1/4
        assert_eq!(get(&m, "B2"), Some(6.0)); // 8 × 3/4
        assert_eq!(get(&m, "CD"), Some(12.0)); // merge: exact
        assert_eq!(get(&m, "EF1"), Some(2.0)); // 4 × 1/2
        assert_eq!(get(&m, "EF2"), Some(8.0)); // 4 × 1/2 + 6
        assert_eq!(m.exact_total, 10.0 + 5.0 + 7.0 + 6.0);
        assert_eq!(m.apportioned_total, 8.0 + 4.0);
        assert_eq!(m.apportioned_codes.iter().collect::<Vec<_>>(), ["B", "E"]);
        let total: f64 = m.values.values().flatten().sum();
        assert_eq!(total, 40.0);
    }

    #[test]
    fn backwards_merges_are_apportioned_and_splits_exact() {
        let b = bridge().reversed();
        assert_eq!((b.from, b.to), (v("LSOA21"), v("LSOA11")));
        let weights: HashMap<String, f64> = [("C", 1.0), ("D", 1.0), ("E", 2.0), ("F", 2.0)]
            .into_iter()
            .map(|(c, w)| (c.to_string(), w))
            .collect();
        let m = b
            .translate(
                &values(&[
                    ("A", 1.0),
                    ("B1", 2.0),
                    ("B2", 3.0),
                    ("CD", 9.0),
                    ("EF1", 1.0),
                    ("EF2", 5.0),
                ]),
                Some(&weights),
                false,
            )
            .unwrap();
        assert_eq!(get(&m, "B"), Some(5.0));
        assert_eq!(get(&m, "C"), Some(4.5));
        assert_eq!(get(&m, "D"), Some(4.5));
        assert_eq!(get(&m, "E"), Some(1.0 + 2.5));
        assert_eq!(get(&m, "F"), Some(2.5));
    }

    #[test]
    fn refuses_without_weights_naming_the_codes() {
        let err = bridge()
            .translate(&values(&[("A", 1.0), ("B", 2.0)]), None, false)
            .unwrap_err();
        assert_eq!(
            err,
            BridgeError::NoWeights {
                from: v("LSOA11"),
                to: v("LSOA21"),
                codes: vec!["B".into()],
                targets: vec!["B1".into(), "B2".into()],
            }
        );
        let text = err.to_string();
        assert!(text.contains("B1, B2"), "{text}");
        // Unchanged and merged areas need no weights.
        assert!(
            bridge()
                .translate(&values(&[("A", 1.0), ("C", 2.0), ("D", 1.0)]), None, false)
                .is_ok()
        );
    }

    #[test]
    fn partial_sources_leave_a_target_empty_unless_absence_is_zero() {
        let b = bridge();
        let only_c = values(&[("C", 5.0)]);
        let m = b.translate(&only_c, None, false).unwrap();
        assert_eq!(m.values.get(&("CD".into(), ())), None);
        assert_eq!(m.incomplete, 1);
        let m = b.translate(&only_c, None, true).unwrap();
        assert_eq!(get(&m, "CD"), Some(5.0));

        let mut missing = values(&[("C", 5.0)]);
        missing.insert(("D".into(), ()), None);
        let m = b.translate(&missing, None, false).unwrap();
        assert_eq!(m.values.get(&("CD".into(), ())), Some(&None));
    }

    #[test]
    fn codes_tell_their_side() {
        let b = bridge();
        assert_eq!(b.side_of(["A"]), CodeSide::Both);
        assert_eq!(b.side_of(["A", "B"]), CodeSide::From);
        assert_eq!(b.side_of(["A", "CD"]), CodeSide::To);
        assert_eq!(
            b.side_of(["B", "CD"]),
            CodeSide::Mixed {
                from_only: "B".into(),
                to_only: "CD".into()
            }
        );
        assert_eq!(b.side_of(["Z"]), CodeSide::Unknown);
        let m = b.translate(&values(&[("Z", 1.0)]), None, false).unwrap();
        assert!(m.unknown.contains("Z"));
    }

    #[test]
    fn groups_show_their_change() {
        let mut g = bridge().groups();
        g.sort();
        let shapes: Vec<(usize, usize, Change)> =
            g.iter().map(|(f, t, c)| (f.len(), t.len(), *c)).collect();
        assert_eq!(
            shapes,
            [
                (1, 1, Change::Unchanged),
                (1, 2, Change::Split),
                (2, 1, Change::Merged),
                (2, 2, Change::Irregular)
            ]
        );
    }
}
