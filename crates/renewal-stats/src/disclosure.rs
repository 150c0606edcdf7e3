//! Disclosure control: primary and complementary cell suppression for counts that are published
//! both at the finest geography (LSOAs) and as sums over any set of them (wards of every
//! vintage, authorities, England, `areas:` lists, neighbourhoods, IMD-decile selections).
//!
//! The rule, as in tau-argus' complementary suppression for linked tables, specialised to one
//! hierarchy whose lowest cells can be combined freely:
//!
//! 1. **Primary suppression.** A cell whose count is below the threshold `t` is withheld.
//! 2. **Protection groups.** Cells are grouped by the smallest area every published area either
//!    contains whole or misses (for LSOAs: same authority and same ward in every ward vintage —
//!    the caller's `group`), inside their authority (`parent`). In each group the primary cells
//!    and one or more *complementary* cells form one protection group. Complementary cells are
//!    taken in a fixed order that does not depend on any count (FNV-1a hash of the area code),
//!    until the group's total `T` satisfies `T − t·k ≥ t − 1` (`k ≥ 1` complementary cells),
//!    or with none when `p ≥ 2` primary cells already satisfy `t ≤ T ≤ (p − 1)(t − 1)`. Groups
//!    that cannot are pooled within their authority, topped up from its other cells; an
//!    authority that still cannot is pooled with every other such authority, topped up from
//!    anywhere; if even that fails the group is *unprotectable* and nothing touching it is
//!    released.
//! 3. **Release rule.** A figure that is a linear combination of cells is released only if, in
//!    every group, it gives all the group's cells the same coefficient (for a sum over a set
//!    of areas: contains the whole group or none of it).
//!
//! **What it guarantees.** Everything released is then a combination of exact unwithheld cells
//! and whole group totals. An attacker who knows all of those, that counts are non-negative
//! integers, that a cell withheld as below the threshold is below `t` and that a complementary
//! cell is at least `t` (a sum flagged complementary says nothing of its own count), can still
//! give each primary-withheld count every value from `0` to
//! `t − 1`: set the other primary cells to zero and give the complementary cells
//! `T − v ≥ t·k` between them (or, with no complement, spread `T − v` over the other primary
//! cells, at most `t − 1` each). The guarantee holds per group and period of one indicator; it
//! assumes the figures of different indicators or periods are not sums of one another.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Why a figure is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Withheld {
    /// Its own count is below the threshold (a cell), or it splits no protection group but its
    /// own count is below the threshold (a sum of cells).
    BelowThreshold,
    /// A cell: its count is at least the threshold, withheld to protect a small one. A sum of
    /// cells: it splits a protection group, so with the figures released it would reveal a
    /// withheld cell; nothing is implied about its own count.
    Complementary,
}

impl Withheld {
    /// The flag as written in answers: `below-threshold` or `complementary`.
    pub fn as_str(self) -> &'static str {
        match self {
            Withheld::BelowThreshold => "below-threshold",
            Withheld::Complementary => "complementary",
        }
    }
}

/// One cell offered to [`protect`]: its code, the group it is protected in first, the parent
/// group it falls back to, and its count.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    /// The cell's area code, unique among the cells.
    pub code: &'a str,
    /// The smallest area every published area either contains or misses (for LSOAs: the same
    /// authority and the same ward in every ward vintage), within `parent`.
    pub group: &'a str,
    /// The authority.
    pub parent: &'a str,
    /// The count (numerator).
    pub count: f64,
}

#[derive(Debug, Clone)]
struct Group {
    members: usize,
    protected: bool,
}

/// The withheld cells of one table (one indicator, one period) and their protection groups.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// Withheld cell → (its group, why).
    cells: HashMap<String, (usize, Withheld)>,
    groups: Vec<Group>,
}

/// FNV-1a: a fixed order over codes that says nothing about their counts.
fn order_key(code: &str) -> u64 {
    code.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The protection condition for a group of `primaries` cells below `t` and `k` complementary
/// cells (each at least `t`) with total `total`: every primary cell can still be any value in
/// `0..t`. With complements, the others can absorb any remainder, so the only bound is that
/// the remainder after `t − 1` covers the complements' minimum. Without, the other primaries
/// must be able to hold all of `total` (each at most `t − 1`), and `total` — which becomes
/// derivable — must itself not be small.
fn holds(total: f64, primaries: usize, k: usize, t: f64) -> bool {
    let eps = 1e-9;
    if k == 0 {
        primaries >= 2 && total >= t - eps && total <= (primaries - 1) as f64 * (t - 1.0) + eps
    } else {
        total - t * k as f64 >= t - 1.0 - eps
    }
}

/// Chooses the withheld cells of a table and their protection groups (module docs).
pub fn protect(cells: &[Cell<'_>], threshold: f64) -> Protection {
    let t = threshold;
    let small = |i: &usize| cells[*i].count < t;
    // Candidates for complements, in the fixed order.
    let ordered = |idx: &mut dyn Iterator<Item = usize>, used: &[bool]| -> Vec<usize> {
        let mut v: Vec<usize> = idx.filter(|&i| !used[i] && cells[i].count >= t).collect();
        v.sort_by_key(|&i| (order_key(cells[i].code), cells[i].code));
        v
    };
    // Adds complements in order until the group holds; `None` if it never does.
    let settle = |primaries: &[usize], candidates: Vec<usize>| -> Option<Vec<usize>> {
        let p = primaries.len();
        let mut total: f64 = primaries.iter().map(|&i| cells[i].count).sum();
        let mut comps = Vec::new();
        for i in candidates {
            if holds(total, p, comps.len(), t) {
                break;
            }
            total += cells[i].count;
            comps.push(i);
        }
        holds(total, p, comps.len(), t).then_some(comps)
    };
    let mut by_group: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut by_parent: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        by_group.entry((c.parent, c.group)).or_default().push(i);
        by_parent.entry(c.parent).or_default().push(i);
    }
    let mut used = vec![false; cells.len()];
    let mut settled: Vec<(Vec<usize>, Vec<usize>, bool)> = Vec::new();
    let mut take = |primaries: Vec<usize>, comps: Vec<usize>, ok: bool, used: &mut [bool]| {
        for &i in primaries.iter().chain(&comps) {
            used[i] = true;
        }
        settled.push((primaries, comps, ok));
    };
    // 1. Each group on its own.
    let mut pending: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for ((parent, _), idx) in &by_group {
        let primaries: Vec<usize> = idx.iter().copied().filter(small).collect();
        if primaries.is_empty() {
            continue;
        }
        match settle(&primaries, ordered(&mut idx.iter().copied(), &used)) {
            Some(comps) => take(primaries, comps, true, &mut used),
            None => pending.entry(parent).or_default().extend(primaries),
        }
    }
    // 2. A parent's failing groups together, topped up from the parent's unused cells.
    let mut global = Vec::new();
    for (parent, primaries) in pending {
        match settle(
            &primaries,
            ordered(&mut by_parent[parent].iter().copied(), &used),
        ) {
            Some(comps) => take(primaries, comps, true, &mut used),
            None => global.extend(primaries),
        }
    }
    // 3. Parents that cannot protect their own cells share one group, topped up from
    //    everywhere; if even that fails, nothing touching it is released.
    if !global.is_empty() {
        match settle(&global, ordered(&mut (0..cells.len()), &used)) {
            Some(comps) => take(global, comps, true, &mut used),
            None => take(global, Vec::new(), false, &mut used),
        }
    }
    let mut protection = Protection::default();
    for (primaries, comps, ok) in settled {
        let g = protection.groups.len();
        protection.groups.push(Group {
            members: primaries.len() + comps.len(),
            protected: ok,
        });
        for i in primaries {
            protection
                .cells
                .insert(cells[i].code.to_owned(), (g, Withheld::BelowThreshold));
        }
        for i in comps {
            protection
                .cells
                .insert(cells[i].code.to_owned(), (g, Withheld::Complementary));
        }
    }
    protection
}

impl Protection {
    /// Why a cell is withheld, if it is.
    pub fn status(&self, code: &str) -> Option<Withheld> {
        self.cells.get(code).map(|c| c.1)
    }

    /// Number of withheld cells (primary and complementary).
    pub fn withheld_cells(&self) -> usize {
        self.cells.len()
    }

    /// Whether a figure combining cells with these coefficients may be released: `None` if so,
    /// else why not. A single withheld cell gives its own reason; a combination that splits a
    /// group is complementary.
    pub fn release<'a>(&self, terms: impl IntoIterator<Item = (&'a str, f64)>) -> Option<Withheld> {
        // group → (cells touched, first coefficient, all equal)
        let mut touched: HashMap<usize, (usize, f64, bool)> = HashMap::new();
        let mut single = None;
        let mut n = 0usize;
        for (code, coefficient) in terms {
            n += 1;
            if coefficient == 0.0 {
                continue;
            }
            let Some(&(g, why)) = self.cells.get(code) else {
                continue;
            };
            single = Some(why);
            let e = touched.entry(g).or_insert((0, coefficient, true));
            e.0 += 1;
            e.2 &= (e.1 - coefficient).abs() <= 1e-12 * e.1.abs().max(1.0);
        }
        let splits = touched.iter().any(|(g, (k, _, equal))| {
            !self.groups[*g].protected || *k != self.groups[*g].members || !equal
        });
        if !splits {
            return None;
        }
        match (n, single) {
            (1, Some(why)) => Some(why),
            _ => Some(Withheld::Complementary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells whose group is their authority.
    fn cells<'a>(v: &'a [(&'a str, &'a str, f64)]) -> Vec<Cell<'a>> {
        v.iter()
            .map(|(code, group, count)| Cell {
                code,
                group,
                parent: group,
                count: *count,
            })
            .collect()
    }

    #[test]
    fn groups_inside_an_authority_fall_back_to_it() {
        // Ward-cells X (a = 1, b = 20) and Y (c = 2, alone): X holds on its own with b; Y has no
        // complement of its own, so it is pooled in authority A with A's unused cells (d).
        let c = [
            Cell {
                code: "a",
                group: "X",
                parent: "A",
                count: 1.0,
            },
            Cell {
                code: "b",
                group: "X",
                parent: "A",
                count: 20.0,
            },
            Cell {
                code: "c",
                group: "Y",
                parent: "A",
                count: 2.0,
            },
            Cell {
                code: "d",
                group: "Z",
                parent: "A",
                count: 30.0,
            },
        ];
        let p = protect(&c, 5.0);
        assert_eq!(p.status("b"), Some(Withheld::Complementary));
        assert_eq!(p.status("d"), Some(Withheld::Complementary));
        // X whole is released; X and Y together split Y's pooled group {c, d}.
        assert_eq!(p.release([("a", 1.0), ("b", 1.0)]), None);
        assert!(p.release([("a", 1.0), ("b", 1.0), ("c", 1.0)]).is_some());
        assert_eq!(p.release([("c", 1.0), ("d", 1.0)]), None);
    }

    #[test]
    fn nothing_small_withholds_nothing() {
        let c = cells(&[("a", "A", 5.0), ("b", "A", 12.0)]);
        let p = protect(&c, 5.0);
        assert_eq!(p.withheld_cells(), 0);
        assert_eq!(p.release([("a", 1.0)]), None);
    }

    #[test]
    fn a_small_cell_takes_a_complement_and_splitting_the_group_is_refused() {
        // a = 2 is below 5. One complement c with count ≥ 9 makes T − 5 ≥ 4.
        let c = cells(&[
            ("a", "A", 2.0),
            ("b", "A", 20.0),
            ("c", "A", 30.0),
            ("d", "B", 10.0),
        ]);
        let p = protect(&c, 5.0);
        assert_eq!(p.status("a"), Some(Withheld::BelowThreshold));
        let comps: Vec<&str> = ["b", "c"]
            .into_iter()
            .filter(|x| p.status(x) == Some(Withheld::Complementary))
            .collect();
        assert_eq!(comps.len(), 1, "one complement suffices");
        // The authority (all of A) is released; a alone, a with one unwithheld cell, or the
        // complement alone are not.
        assert_eq!(p.release([("a", 1.0), ("b", 1.0), ("c", 1.0)]), None);
        assert_eq!(p.release([("a", 1.0)]), Some(Withheld::BelowThreshold));
        assert_eq!(p.release([(comps[0], 1.0)]), Some(Withheld::Complementary));
        assert_eq!(p.release([("a", 1.0), (comps[0], 1.0)]), None);
        // Unequal shares of a group (an apportioned LSOA) split it.
        assert_eq!(
            p.release([("a", 0.5), (comps[0], 1.0)]),
            Some(Withheld::Complementary)
        );
    }

    #[test]
    fn complements_are_added_until_the_interval_is_whole() {
        // a = 0; b, c = 5 each: one complement gives T − 5 = 0 < 4, two give 10 − 10 = 0 < 4,
        // so A cannot protect a and is pooled with the rest. FNV-1a orders the candidates
        // e, d, c, b: e (50) alone gives 50 − 5 ≥ 4.
        let c = cells(&[
            ("a", "A", 0.0),
            ("b", "A", 5.0),
            ("c", "A", 5.0),
            ("d", "B", 40.0),
            ("e", "B", 50.0),
        ]);
        let p = protect(&c, 5.0);
        assert_eq!(p.status("a"), Some(Withheld::BelowThreshold));
        assert_eq!(p.status("e"), Some(Withheld::Complementary));
        for x in ["b", "c", "d"] {
            assert_eq!(p.status(x), None, "{x}");
        }
        // Neither authority total is released now; England (everything) is.
        assert!(p.release([("a", 1.0), ("b", 1.0), ("c", 1.0)]).is_some());
        assert!(p.release([("d", 1.0), ("e", 1.0)]).is_some());
        assert_eq!(
            p.release([("a", 1.0), ("b", 1.0), ("c", 1.0), ("d", 1.0), ("e", 1.0)]),
            None
        );
    }

    #[test]
    fn small_cells_that_hide_each_other_need_no_complement() {
        // 3 + 2 + 3 = 8: each could be 0 (the other two hold 8 ≤ 2·4) or 4 (4 ≥ 0 left): the
        // ward total is released and the big cell d stays public.
        let c = cells(&[
            ("a", "A", 3.0),
            ("b", "A", 2.0),
            ("c", "A", 3.0),
            ("d", "A", 50.0),
        ]);
        let p = protect(&c, 5.0);
        assert_eq!(p.status("d"), None);
        assert_eq!(p.release([("a", 1.0), ("b", 1.0), ("c", 1.0)]), None);
        // 4 + 4 = 8 > 1·4: a = 0 would need b = 8, so each is at least 4 — a complement is due.
        // (3 + 2 + 4 = 9 > 8 likewise.)
        let c = cells(&[("a", "A", 4.0), ("b", "A", 4.0), ("d", "A", 50.0)]);
        assert_eq!(protect(&c, 5.0).status("d"), Some(Withheld::Complementary));
    }

    #[test]
    fn an_unprotectable_group_releases_nothing_it_touches() {
        // Everything is small: no complement exists anywhere.
        let c = cells(&[("a", "A", 1.0), ("b", "A", 2.0)]);
        let p = protect(&c, 5.0);
        assert_eq!(
            p.release([("a", 1.0), ("b", 1.0)]),
            Some(Withheld::Complementary)
        );
    }

    #[test]
    fn the_order_of_complements_ignores_counts() {
        // Swapping counts between two candidates never changes which one is chosen.
        let x = protect(
            &cells(&[("a", "A", 1.0), ("b", "A", 30.0), ("c", "A", 40.0)]),
            5.0,
        );
        let y = protect(
            &cells(&[("a", "A", 1.0), ("b", "A", 40.0), ("c", "A", 30.0)]),
            5.0,
        );
        assert_eq!(x.status("b"), y.status("b"));
        assert_eq!(x.status("c"), y.status("c"));
    }
}
