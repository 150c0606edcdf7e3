//! The attacker's solver: exact rational arithmetic over what one partner has been told, written
//! independently of the code under test (it shares no code with `renewal-query` or
//! `renewal-stats`).
//!
//! Unknowns are non-negative counts `x_0 … x_{n−1}`. Facts are linear relations with integer
//! coefficients (`=`, `≤`, `≥`). Two questions are asked of a count (or of any linear
//! combination of counts):
//! - is it pinned down by the equalities alone (Gaussian elimination over `BigRational`: is its
//!   coefficient vector in the row space)?
//! - how far can it move under every fact and `x ≥ 0` (an exact two-phase simplex with Bland's
//!   rule, so it always terminates)?

// A breach is built once per failed check, so its size on the error path does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// How a fact relates its combination to its right-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rel {
    Eq,
    Le,
    Ge,
}

/// `Σ coeffs[i] · x_i  rel  rhs`, with where the attacker learnt it.
#[derive(Debug, Clone)]
pub struct Fact {
    pub coeffs: BTreeMap<usize, BigInt>,
    pub rel: Rel,
    pub rhs: BigInt,
    pub why: String,
}

impl Fact {
    /// `Σ_{i ∈ vars} x_i rel rhs`.
    pub fn sum(vars: impl IntoIterator<Item = usize>, rel: Rel, rhs: i64, why: String) -> Fact {
        Fact::linear(vars.into_iter().map(|v| (v, 1)), rel, rhs, why)
    }

    /// `Σ c · x_v rel rhs` (repeated variables add up; zero coefficients are dropped).
    pub fn linear(
        terms: impl IntoIterator<Item = (usize, i64)>,
        rel: Rel,
        rhs: i64,
        why: String,
    ) -> Fact {
        let mut coeffs: BTreeMap<usize, BigInt> = BTreeMap::new();
        for (v, c) in terms {
            *coeffs.entry(v).or_insert_with(BigInt::zero) += BigInt::from(c);
        }
        coeffs.retain(|_, c| !c.is_zero());
        Fact {
            coeffs,
            rel,
            rhs: BigInt::from(rhs),
            why,
        }
    }

    /// Whether the counts `x` satisfy the fact (the attacker's self-check against the truth).
    pub fn holds(&self, x: &[i64]) -> bool {
        let lhs: BigInt = self
            .coeffs
            .iter()
            .map(|(v, c)| c * BigInt::from(x[*v]))
            .sum();
        match self.rel {
            Rel::Eq => lhs == self.rhs,
            Rel::Le => lhs <= self.rhs,
            Rel::Ge => lhs >= self.rhs,
        }
    }
}

fn q(i: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(i))
}

fn qb(i: &BigInt) -> BigRational {
    BigRational::from_integer(i.clone())
}

/// Everything one partner knows about one period: named unknowns and facts.
#[derive(Debug, Clone, Default)]
pub struct System {
    pub names: Vec<String>,
    pub facts: Vec<Fact>,
}

/// The equalities in reduced row-echelon form, each row remembering which facts it combines.
struct Echelon {
    /// (pivot column, coefficients, right-hand side, combination of facts).
    rows: Vec<(usize, Vec<BigRational>, BigRational, Vec<BigRational>)>,
    /// The equalities contradict each other (the truth cannot satisfy them: an attacker bug
    /// or a wrong figure).
    inconsistent: bool,
}

/// Why a count is not protected.
#[derive(Debug, Clone)]
pub enum Breach {
    /// The equalities give it exactly: `value = Σ multiplier × fact`.
    Pinned {
        value: BigRational,
        derivation: Vec<(usize, BigRational)>,
    },
    /// Under every fact it can only lie in `[min, max]` (`None`: unbounded above), narrower
    /// than `0..=t−1`.
    Narrow {
        min: BigRational,
        max: Option<BigRational>,
    },
}

/// The end of a simplex run.
#[derive(Debug, Clone, PartialEq)]
pub enum Lp {
    Infeasible,
    Unbounded,
    /// The objective reached the requested level (the run stopped there).
    Reached,
    Optimum(BigRational),
}

/// A dense simplex tableau: `m` constraint rows of `cols` coefficients plus the right-hand
/// side, and which column is basic in each row.
#[derive(Clone)]
struct Tableau {
    a: Vec<Vec<BigRational>>,
    basis: Vec<usize>,
    cols: usize,
    /// Columns that may enter the basis (artificial ones may not in phase 2).
    allowed: Vec<bool>,
}

impl Tableau {
    fn pivot(&mut self, r: usize, e: usize, cost: &mut [BigRational]) {
        let p = self.a[r][e].clone();
        for v in self.a[r].iter_mut() {
            if !v.is_zero() {
                *v /= &p;
            }
        }
        let nonzero: Vec<usize> = (0..=self.cols)
            .filter(|j| !self.a[r][*j].is_zero())
            .collect();
        let pivot_row = self.a[r].clone();
        let eliminate = |row: &mut [BigRational]| {
            let f = row[e].clone();
            if f.is_zero() {
                return;
            }
            for &j in &nonzero {
                let d = &f * &pivot_row[j];
                row[j] -= d;
            }
        };
        for (i, row) in self.a.iter_mut().enumerate() {
            if i != r {
                eliminate(row);
            }
        }
        eliminate(cost);
        self.basis[r] = e;
    }

    /// Reduced costs for maximising `c` (one entry per column) in the current basis; the last
    /// entry is minus the objective's current value.
    fn cost_row(&self, c: &[BigRational]) -> Vec<BigRational> {
        let mut d: Vec<BigRational> = c.to_vec();
        d.push(BigRational::zero());
        for (i, &b) in self.basis.iter().enumerate() {
            if c[b].is_zero() {
                continue;
            }
            let cb = c[b].clone();
            for (dj, a) in d.iter_mut().zip(&self.a[i]) {
                if !a.is_zero() {
                    *dj -= &cb * a;
                }
            }
        }
        d
    }

    /// Maximises the objective whose reduced costs are `d`, with Bland's rule (lowest
    /// entering index, lowest leaving basic index on ties), stopping early once the value
    /// reaches `stop_at`.
    fn run(&mut self, d: &mut [BigRational], stop_at: Option<&BigRational>) -> Lp {
        loop {
            let value = -d[self.cols].clone();
            if stop_at.is_some_and(|s| value >= *s) {
                return Lp::Reached;
            }
            let Some(e) = (0..self.cols).find(|&j| self.allowed[j] && d[j].is_positive()) else {
                return Lp::Optimum(value);
            };
            let mut leave: Option<(usize, BigRational)> = None;
            for i in 0..self.a.len() {
                let a = &self.a[i][e];
                if !a.is_positive() {
                    continue;
                }
                let ratio = &self.a[i][self.cols] / a;
                let better = match &leave {
                    None => true,
                    Some((k, best)) => {
                        ratio < *best || (ratio == *best && self.basis[i] < self.basis[*k])
                    }
                };
                if better {
                    leave = Some((i, ratio));
                }
            }
            let Some((r, _)) = leave else {
                return Lp::Unbounded;
            };
            self.pivot(r, e, d);
        }
    }
}

impl System {
    pub fn new(names: Vec<String>) -> System {
        System {
            names,
            facts: Vec::new(),
        }
    }

    pub fn vars(&self) -> usize {
        self.names.len()
    }

    pub fn add(&mut self, fact: Fact) {
        debug_assert!(fact.coeffs.keys().all(|v| *v < self.vars()));
        self.facts.push(fact);
    }

    fn echelon(&self) -> Echelon {
        let n = self.vars();
        let f = self.facts.len();
        let mut rows: Vec<(usize, Vec<BigRational>, BigRational, Vec<BigRational>)> = Vec::new();
        let mut inconsistent = false;
        for (k, fact) in self.facts.iter().enumerate() {
            if fact.rel != Rel::Eq {
                continue;
            }
            let mut v = vec![BigRational::zero(); n];
            for (i, c) in &fact.coeffs {
                v[*i] = qb(c);
            }
            let mut r = qb(&fact.rhs);
            let mut combo = vec![BigRational::zero(); f];
            combo[k] = BigRational::one();
            for (p, row, rhs, rc) in &rows {
                if v[*p].is_zero() {
                    continue;
                }
                let m = v[*p].clone();
                subtract(&mut v, row, &m);
                r -= &m * rhs;
                subtract(&mut combo, rc, &m);
            }
            let Some(p) = v.iter().position(|c| !c.is_zero()) else {
                if !r.is_zero() {
                    inconsistent = true;
                }
                continue;
            };
            let lead = v[p].clone();
            for c in v.iter_mut().chain(combo.iter_mut()) {
                *c /= &lead;
            }
            r /= &lead;
            for (_, row, rhs, rc) in rows.iter_mut() {
                if row[p].is_zero() {
                    continue;
                }
                let m = row[p].clone();
                subtract(row, &v, &m);
                *rhs -= &m * &r;
                subtract(rc, &combo, &m);
            }
            rows.push((p, v, r, combo));
        }
        Echelon { rows, inconsistent }
    }

    /// Whether the equalities alone give `Σ objective[i] · x_i` exactly, and how.
    pub fn pinned(&self, objective: &BTreeMap<usize, BigInt>) -> Option<Breach> {
        let e = self.echelon();
        pinned_in(&e, self.vars(), self.facts.len(), objective)
    }

    /// A feasible tableau for every fact and `x ≥ 0`, or `None` when there is none.
    fn feasible(&self, e: &Echelon) -> Option<Tableau> {
        let n = self.vars();
        // Rows: (coefficients over the n counts, slack sign (0: none), rhs).
        let mut rows: Vec<(Vec<BigRational>, i8, BigRational)> = Vec::new();
        for (_, row, rhs, _) in &e.rows {
            rows.push((row.clone(), 0, rhs.clone()));
        }
        for fact in self.facts.iter().filter(|f| f.rel != Rel::Eq) {
            let mut v = vec![BigRational::zero(); n];
            for (i, c) in &fact.coeffs {
                v[*i] = qb(c);
            }
            let sign = if fact.rel == Rel::Le { 1 } else { -1 };
            rows.push((v, sign, qb(&fact.rhs)));
        }
        let slacks = rows.iter().filter(|r| r.1 != 0).count();
        let m = rows.len();
        // Every row gets an artificial unless its slack can start basic.
        let mut layout = Vec::new();
        let mut artificials = 0;
        for (v, sign, rhs) in rows {
            let flip = rhs.is_negative();
            let (v, sign, rhs) = if flip {
                (v.into_iter().map(|c| -c).collect(), -sign, -rhs)
            } else {
                (v, sign, rhs)
            };
            let needs_artificial = sign != 1;
            if needs_artificial {
                artificials += 1;
            }
            layout.push((v, sign, rhs, needs_artificial));
        }
        let cols = n + slacks + artificials;
        let mut a = Vec::with_capacity(m);
        let mut basis = Vec::with_capacity(m);
        let (mut s, mut art) = (n, n + slacks);
        for (v, sign, rhs, needs_artificial) in layout {
            let mut row = v;
            row.resize(cols + 1, BigRational::zero());
            row[cols] = rhs;
            let mut basic = None;
            if sign != 0 {
                row[s] = q(i64::from(sign));
                if sign == 1 {
                    basic = Some(s);
                }
                s += 1;
            }
            if needs_artificial {
                row[art] = BigRational::one();
                basic = Some(art);
                art += 1;
            }
            a.push(row);
            basis.push(basic.unwrap_or(0));
        }
        let mut t = Tableau {
            a,
            basis,
            cols,
            allowed: vec![true; cols],
        };
        let artificial = |j: usize| j >= n + slacks;
        let c: Vec<BigRational> = (0..cols)
            .map(|j| if artificial(j) { q(-1) } else { q(0) })
            .collect();
        let mut d = t.cost_row(&c);
        match t.run(&mut d, None) {
            Lp::Optimum(v) if v.is_zero() => {}
            _ => return None,
        }
        // Drive artificials (all at zero) out of the basis, dropping rows that are redundant.
        let mut i = 0;
        while i < t.a.len() {
            if artificial(t.basis[i]) {
                match (0..n + slacks).find(|j| !t.a[i][*j].is_zero()) {
                    Some(j) => {
                        let mut dummy = vec![BigRational::zero(); cols + 1];
                        t.pivot(i, j, &mut dummy);
                    }
                    None => {
                        t.a.remove(i);
                        t.basis.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        for j in n + slacks..cols {
            t.allowed[j] = false;
        }
        Some(t)
    }

    /// Maximises `Σ objective[i] · x_i` under every fact, stopping once it reaches `stop_at`.
    pub fn maximise(&self, objective: &BTreeMap<usize, BigInt>, stop_at: Option<i64>) -> Lp {
        let e = self.echelon();
        if e.inconsistent {
            return Lp::Infeasible;
        }
        let Some(t) = self.feasible(&e) else {
            return Lp::Infeasible;
        };
        optimise(&t, objective, stop_at)
    }

    /// Checks the documented protection for a withheld count: not pinned by the equalities
    /// and, under every fact, still able to take every value `0..=t−1`. `Ok` also when the
    /// facts are infeasible (reported separately by [`System::feasible_for`]).
    pub fn protects(&self, objective: &BTreeMap<usize, BigInt>, t: i64) -> Result<(), Breach> {
        self.checker().protects(objective, t)
    }

    /// Reuses one elimination and one feasible tableau for many checks.
    pub fn checker(&self) -> Checker<'_> {
        let echelon = self.echelon();
        let tableau = if echelon.inconsistent {
            None
        } else {
            self.feasible(&echelon)
        };
        Checker {
            system: self,
            echelon,
            tableau,
        }
    }

    /// Whether `x` satisfies every fact; the first fact it breaks otherwise.
    pub fn feasible_for(&self, x: &[i64]) -> Result<(), &Fact> {
        match self.facts.iter().find(|f| !f.holds(x)) {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// A readable account of a breach of `objective`.
    pub fn explain(&self, objective: &BTreeMap<usize, BigInt>, breach: &Breach) -> String {
        let mut out = String::new();
        let target = self.show_terms(objective);
        match breach {
            Breach::Pinned { value, derivation } => {
                let _ = writeln!(out, "{target} = {value} exactly, from:");
                for (k, m) in derivation {
                    let f = &self.facts[*k];
                    let _ = writeln!(
                        out,
                        "  {m:>8} × [{}  {}  {}]   ({})",
                        self.show_terms(&f.coeffs),
                        rel_str(f.rel),
                        f.rhs,
                        f.why
                    );
                }
            }
            Breach::Narrow { min, max } => {
                let max = max
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "∞".into());
                let _ = writeln!(
                    out,
                    "{target} can only lie in [{min}, {max}] given these facts:"
                );
                for f in &self.facts {
                    let _ = writeln!(
                        out,
                        "  [{}  {}  {}]   ({})",
                        self.show_terms(&f.coeffs),
                        rel_str(f.rel),
                        f.rhs,
                        f.why
                    );
                }
            }
        }
        out
    }

    fn show_terms(&self, coeffs: &BTreeMap<usize, BigInt>) -> String {
        coeffs
            .iter()
            .map(|(v, c)| {
                if c.is_one() {
                    self.names[*v].clone()
                } else {
                    format!("{c}·{}", self.names[*v])
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

fn rel_str(r: Rel) -> &'static str {
    match r {
        Rel::Eq => "=",
        Rel::Le => "≤",
        Rel::Ge => "≥",
    }
}

/// One elimination and one feasible tableau of a [`System`], for many checks.
pub struct Checker<'a> {
    system: &'a System,
    echelon: Echelon,
    tableau: Option<Tableau>,
}

impl Checker<'_> {
    /// See [`System::protects`].
    pub fn protects(&self, objective: &BTreeMap<usize, BigInt>, t: i64) -> Result<(), Breach> {
        let s = self.system;
        if let Some(b) = pinned_in(&self.echelon, s.vars(), s.facts.len(), objective) {
            return Err(b);
        }
        let Some(tableau) = &self.tableau else {
            return Ok(());
        };
        let high = optimise(tableau, objective, Some(t - 1));
        let negated: BTreeMap<usize, BigInt> =
            objective.iter().map(|(v, c)| (*v, -c.clone())).collect();
        let low = optimise(tableau, &negated, Some(0));
        let reached = |r: &Lp| matches!(r, Lp::Reached | Lp::Unbounded);
        if reached(&high) && reached(&low) {
            return Ok(());
        }
        // Work out the whole interval for the report.
        let max = match optimise(tableau, objective, None) {
            Lp::Optimum(v) => Some(v),
            _ => None,
        };
        let min = match optimise(tableau, &negated, None) {
            Lp::Optimum(v) => -v,
            _ => BigRational::zero(),
        };
        Err(Breach::Narrow { min, max })
    }
}

fn optimise(t: &Tableau, objective: &BTreeMap<usize, BigInt>, stop_at: Option<i64>) -> Lp {
    let mut t = t.clone();
    let mut c = vec![BigRational::zero(); t.cols];
    for (v, k) in objective {
        c[*v] = qb(k);
    }
    let mut d = t.cost_row(&c);
    let stop = stop_at.map(q);
    t.run(&mut d, stop.as_ref())
}

fn pinned_in(
    e: &Echelon,
    n: usize,
    facts: usize,
    objective: &BTreeMap<usize, BigInt>,
) -> Option<Breach> {
    let mut v = vec![BigRational::zero(); n];
    for (i, c) in objective {
        v[*i] = qb(c);
    }
    let mut value = BigRational::zero();
    let mut combo = vec![BigRational::zero(); facts];
    for (p, row, rhs, rc) in &e.rows {
        if v[*p].is_zero() {
            continue;
        }
        let m = v[*p].clone();
        subtract(&mut v, row, &m);
        value += &m * rhs;
        for (c, r) in combo.iter_mut().zip(rc) {
            if !r.is_zero() {
                *c += &m * r;
            }
        }
    }
    if v.iter().any(|c| !c.is_zero()) {
        return None;
    }
    Some(Breach::Pinned {
        value,
        derivation: combo
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.is_zero())
            .collect(),
    })
}

/// `v -= m × row`.
fn subtract(v: &mut [BigRational], row: &[BigRational], m: &BigRational) {
    for (a, b) in v.iter_mut().zip(row) {
        if !b.is_zero() {
            *a -= m * b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(n: usize) -> System {
        System::new((0..n).map(|i| format!("x{i}")).collect())
    }

    fn unit(i: usize) -> BTreeMap<usize, BigInt> {
        BTreeMap::from([(i, BigInt::one())])
    }

    /// x0 + x1 = 7 and x1 = 4: x0 is 3, derived as the first fact minus the second.
    #[test]
    fn a_differenced_cell_is_pinned_with_its_derivation() {
        let mut s = system(3);
        s.add(Fact::sum([0, 1], Rel::Eq, 7, "pair".into()));
        s.add(Fact::sum([1], Rel::Eq, 4, "single".into()));
        s.add(Fact::sum([1, 2], Rel::Eq, 20, "other".into()));
        match s.protects(&unit(0), 5) {
            Err(Breach::Pinned { value, derivation }) => {
                assert_eq!(value, q(3));
                assert_eq!(derivation, vec![(0, q(1)), (1, q(-1))]);
            }
            other => panic!("x0 should be pinned: {other:?}"),
        }
        // x2 = 20 − x1 = 16 is pinned too; a sum of pinned cells is pinned.
        assert!(matches!(s.pinned(&unit(2)), Some(Breach::Pinned { value, .. }) if value == q(16)));
    }

    /// A gap between two areas is a relation with unequal coefficients: with 3·x0 − 2·x1 = 0
    /// and x0 + x1 = 5, x0 = 2.
    #[test]
    fn relations_with_other_coefficients_pin_too() {
        let mut s = system(2);
        s.add(Fact::linear([(0, 3), (1, -2)], Rel::Eq, 0, "gap".into()));
        s.add(Fact::sum([0, 1], Rel::Eq, 5, "total".into()));
        assert!(matches!(s.pinned(&unit(0)), Some(Breach::Pinned { value, .. }) if value == q(2)));
    }

    /// x0 + x1 = 30 with nothing else: x0 can be anything from 0 to 30.
    #[test]
    fn an_unpinned_cell_with_room_is_protected() {
        let mut s = system(3);
        s.add(Fact::sum([0, 1], Rel::Eq, 30, "pair".into()));
        s.add(Fact::sum([0], Rel::Le, 4, "x0 withheld".into()));
        s.add(Fact::sum([0, 1, 2], Rel::Eq, 41, "all".into()));
        assert!(s.pinned(&unit(0)).is_none());
        s.protects(&unit(0), 5).unwrap();
        // x2 = 11 is pinned: 41 − 30.
        assert!(s.pinned(&unit(2)).is_some());
    }

    /// x0 + x1 = 5 with both withheld (each ≤ 4): neither is pinned, but each lies in [1, 4]
    /// — the LP must see that 0 is impossible.
    #[test]
    fn the_lp_finds_a_lower_bound_elimination_misses() {
        let mut s = system(2);
        s.add(Fact::sum([0, 1], Rel::Eq, 5, "pair".into()));
        s.add(Fact::sum([0], Rel::Le, 4, "x0 withheld".into()));
        s.add(Fact::sum([1], Rel::Le, 4, "x1 withheld".into()));
        assert!(s.pinned(&unit(0)).is_none());
        match s.protects(&unit(0), 5) {
            Err(Breach::Narrow { min, max }) => {
                assert_eq!(min, q(1));
                assert_eq!(max, Some(q(4)));
            }
            other => panic!("x0 should be narrowed to [1, 4]: {other:?}"),
        }
        assert_eq!(s.maximise(&unit(1), None), Lp::Optimum(q(4)));
    }

    /// A pair summing to 3 caps each below 4; a complementary flag (≥ 5) on a pair whose
    /// other member is at most 4 lifts the first above 0.
    #[test]
    fn the_lp_finds_upper_bounds_and_uses_complementary_flags() {
        let mut s = system(2);
        s.add(Fact::sum([0, 1], Rel::Eq, 3, "pair".into()));
        assert!(matches!(
            s.protects(&unit(0), 5),
            Err(Breach::Narrow { max: Some(m), .. }) if m == q(3)
        ));

        let mut s = system(2);
        s.add(Fact::sum([0, 1], Rel::Ge, 5, "pair complementary".into()));
        s.add(Fact::sum([1], Rel::Le, 4, "x1 withheld".into()));
        assert!(matches!(
            s.protects(&unit(0), 5),
            Err(Breach::Narrow { min, max: None }) if min == q(1)
        ));
        // Unbounded above, but x1 still ranges over 0..=4.
        s.protects(&unit(1), 5).unwrap();
    }

    /// Contradictory facts have no solution; the truth satisfies only true facts.
    #[test]
    fn infeasible_systems_are_reported() {
        let mut s = system(2);
        s.add(Fact::sum([0, 1], Rel::Eq, 10, "pair".into()));
        s.add(Fact::sum([0], Rel::Ge, 11, "too big".into()));
        assert_eq!(s.maximise(&unit(0), None), Lp::Infeasible);
        assert!(s.feasible_for(&[10, 0]).is_err());
        let mut s = system(2);
        s.add(Fact::sum([0, 1], Rel::Eq, 10, "pair".into()));
        s.add(Fact::sum([0, 1], Rel::Eq, 11, "pair again".into()));
        assert_eq!(s.maximise(&unit(0), None), Lp::Infeasible);
        assert!(s.feasible_for(&[4, 6]).is_err());
    }
}
