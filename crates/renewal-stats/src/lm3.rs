//! Local Multiplier 3 (LM3) from survey returns: how much of a body's spend with its suppliers
//! is re-spent inside its boundary over two further rounds.
//!
//! Method (New Economics Foundation, Sacks J., "The Money Trail: measuring your impact on the
//! local economy using LM3", 2002):
//!
//! - **Round 1** (R1): the body's spend with its surveyed suppliers in the period (its ledger).
//! - **Round 2** (R2): what those suppliers spend locally out of that income, on staff living
//!   inside the boundary and on suppliers based inside it. A responding supplier *i* with total
//!   expenditure T, local staff spend S and local supplier spend P contributes
//!   `R1_i × S / T` (staff part) and `R1_i × P / T` (supplier part). A supplier that did not
//!   respond takes the **round-1-weighted mean share of the responders**, the staff and
//!   supplier parts separately: `Σ_resp R1_j·S_j/T_j ÷ Σ_resp R1_j`, and likewise for P.
//! - **Round 3** (R3): what the local staff and local suppliers re-spend locally:
//!   `R2_staff × s_staff + R2_suppliers × s_suppliers`, where `s_t` is the income-weighted
//!   local re-spend share of respondents of type *t*, `Σ local spend ÷ Σ income`.
//! - **LM3 = (R1 + R2 + R3) ÷ R1.**
//!
//! Where a round has no responses at all (no responding supplier with round-1 spend; no
//! re-spend respondent of a type whose round-2 part is not zero), the caller must give an
//! explicit proxy share (from NEF's guidance or a comparable study): this module never invents
//! one, and says which proxy is missing. Every proxy used is named in the result, whether taken
//! from the responders or given.
//!
//! All money arithmetic is exact: pence are integers and every share and round is a rational
//! number (`Exact`), so the rounds add up to the penny whatever the order; only the final
//! ratio is offered as `f64` for display.

use std::fmt;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// How the figures are computed, in a sentence, for answers' notes.
pub const METHOD: &str = "LM3 (NEF, The Money Trail, 2002): round 1 = the body's spend with \
     its surveyed suppliers; round 2 = each responding supplier's round 1 × (local staff spend, \
     local supplier spend) / its total spend, non-responders at the round-1-weighted mean shares \
     of the responders; round 3 = round 2 staff part × the income-weighted local re-spend share \
     of staff respondents + round 2 supplier part × that of supplier respondents; \
     LM3 = (R1 + R2 + R3) / R1";

/// An exact non-negative rational amount (pence) or share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exact(BigRational);

impl Exact {
    /// Zero.
    pub fn zero() -> Exact {
        Exact(BigRational::zero())
    }

    /// A whole number.
    pub fn whole(n: i64) -> Exact {
        Exact(BigRational::from_integer(BigInt::from(n)))
    }

    /// `numer / denom`; `None` when `denom` is zero.
    pub fn ratio(numer: i64, denom: i64) -> Option<Exact> {
        (denom != 0).then(|| Exact(BigRational::new(numer.into(), denom.into())))
    }

    /// Parses a share written as a decimal (`0.25`, `.3`, `1`) or a fraction (`1/4`), exactly,
    /// and insists it lies in 0..=1.
    pub fn parse_share(text: &str) -> Result<Exact, Lm3Error> {
        let t = text.trim();
        let bad = || Lm3Error::Invalid(format!("{t:?} is not a share between 0 and 1"));
        let value = if let Some((n, d)) = t.split_once('/') {
            let n: BigInt = n.trim().parse().map_err(|_| bad())?;
            let d: BigInt = d.trim().parse().map_err(|_| bad())?;
            if d.is_zero() {
                return Err(bad());
            }
            BigRational::new(n, d)
        } else {
            let (int, frac) = t.split_once('.').unwrap_or((t, ""));
            let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
                return Err(bad());
            }
            let whole: BigInt = format!("0{int}{frac}").parse().map_err(|_| bad())?;
            let scale = num_traits::pow(BigInt::from(10), frac.len());
            BigRational::new(whole, scale)
        };
        if value.is_negative() || value > BigRational::one() {
            return Err(bad());
        }
        Ok(Exact(value))
    }

    /// Rounded to the nearest whole number, halves away from zero (pence, for display).
    pub fn rounded(&self) -> i64 {
        let (n, d) = (self.0.numer(), self.0.denom());
        let two = BigInt::from(2);
        let magnitude = (n.abs() * &two + d) / (d * &two);
        let signed = if n.is_negative() {
            -magnitude
        } else {
            magnitude
        };
        signed
            .to_i64()
            .unwrap_or(if n.is_negative() { i64::MIN } else { i64::MAX })
    }

    /// The nearest double.
    pub fn to_f64(&self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }

    /// Numerator and denominator in lowest terms, as text (`911/540`).
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.0.numer(), self.0.denom())
    }

    fn add(&self, other: &Exact) -> Exact {
        Exact(&self.0 + &other.0)
    }

    fn mul(&self, other: &Exact) -> Exact {
        Exact(&self.0 * &other.0)
    }

    fn div(&self, other: &Exact) -> Option<Exact> {
        (!other.0.is_zero()).then(|| Exact(&self.0 / &other.0))
    }

    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Display for Exact {
    /// Six decimals (exact values are available through [`Exact::fraction`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_f64();
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        f.write_str(s)
    }
}

/// One surveyed supplier: the body's spend with it and its return, if it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierReturn {
    /// The body's spend with the supplier in the period (pence, from the ledger).
    pub round1_pence: i64,
    /// The supplier's answer, or `None` when it did not respond.
    pub response: Option<Response>,
}

/// A supplier's answer to the round-2 survey (pence, same period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// Everything the supplier spent: staff, suppliers and the rest.
    pub total_spend_pence: i64,
    /// Paid to staff living inside the boundary.
    pub local_staff_pence: i64,
    /// Paid to suppliers based inside the boundary.
    pub local_supplier_pence: i64,
}

/// Who a round-3 respondent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Respondent {
    /// A round-2 supplier's member of staff living inside the boundary.
    Staff,
    /// A round-2 supplier's supplier based inside the boundary.
    Supplier,
}

impl Respondent {
    /// `staff` or `supplier`.
    pub fn as_str(self) -> &'static str {
        match self {
            Respondent::Staff => "staff",
            Respondent::Supplier => "supplier",
        }
    }
}

/// One round-3 return: what a respondent received and how much of it they spent locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RespendReturn {
    /// Staff or local supplier.
    pub respondent: Respondent,
    /// Received from the round-2 supplier in the period (pence).
    pub income_pence: i64,
    /// Spent inside the boundary out of that income (pence).
    pub local_spend_pence: i64,
}

/// Shares to use where a round has no responses, given by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    /// Round 2 local shares (staff, suppliers) of every supplier, when none responded.
    pub round2: Option<(Exact, Exact)>,
    /// Local re-spend share of staff, when no staff responded.
    pub staff_respend: Option<Exact>,
    /// Local re-spend share of local suppliers, when none responded.
    pub supplier_respend: Option<Exact>,
}

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyKind {
    /// Round 2 shares for suppliers without a return.
    Round2,
    /// Round 3 share of local staff.
    StaffRespend,
    /// Round 3 share of local suppliers.
    SupplierRespend,
}

impl ProxyKind {
    /// How the CLI option and messages name it.
    pub fn name(self) -> &'static str {
        match self {
            ProxyKind::Round2 => "round2-proxy",
            ProxyKind::StaffRespend => "staff-respend-proxy",
            ProxyKind::SupplierRespend => "supplier-respend-proxy",
        }
    }
}

/// Where a proxy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyOrigin {
    /// The round-1-weighted mean shares of this many responding suppliers.
    Responders(usize),
    /// Given by the caller.
    Given,
}

/// A proxy the result rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUse {
    /// Which.
    pub kind: ProxyKind,
    /// Where from.
    pub origin: ProxyOrigin,
    /// The shares applied: (staff, suppliers) for round 2; one share (twice) for round 3.
    pub shares: (Exact, Exact),
    /// The amount (pence) it was applied to: non-responders' round 1, or a round-2 part.
    pub applied_to: Exact,
    /// How many suppliers (round 2) it was applied to; 0 for round 3.
    pub suppliers: usize,
}

impl ProxyUse {
    /// One line for an answer's notes.
    pub fn describe(&self) -> String {
        let from = match self.origin {
            ProxyOrigin::Responders(n) => {
                format!("the round-1-weighted mean shares of the {n} responding suppliers")
            }
            ProxyOrigin::Given => format!("given (--{})", self.kind.name()),
        };
        match self.kind {
            ProxyKind::Round2 => format!(
                "round 2 proxy for {} non-responding supplier(s) with {} pence of round 1: local \
                 staff share {}, local supplier share {}, {from}",
                self.suppliers,
                self.applied_to.rounded(),
                self.shares.0,
                self.shares.1
            ),
            ProxyKind::StaffRespend | ProxyKind::SupplierRespend => format!(
                "round 3 proxy: local re-spend share {} of {} ({} pence of round 2), {from}",
                self.shares.0,
                if self.kind == ProxyKind::StaffRespend {
                    "local staff"
                } else {
                    "local suppliers"
                },
                self.applied_to.rounded()
            ),
        }
    }
}

/// The LM3 result: every round, the response rates and the proxies used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lm3 {
    /// Round 1 (pence).
    pub round1_pence: i64,
    /// Round 2 spent on local staff (pence, exact).
    pub round2_staff: Exact,
    /// Round 2 spent with local suppliers (pence, exact).
    pub round2_suppliers: Exact,
    /// Round 3 re-spent locally by local staff (pence, exact).
    pub round3_staff: Exact,
    /// Round 3 re-spent locally by local suppliers (pence, exact).
    pub round3_suppliers: Exact,
    /// (R1 + R2 + R3) / R1.
    pub lm3: Exact,
    /// Suppliers surveyed.
    pub suppliers: usize,
    /// Suppliers that returned the survey.
    pub responding: usize,
    /// Round 1 of the responding suppliers (pence).
    pub round1_responding_pence: i64,
    /// Staff respondents of round 3.
    pub staff_respondents: usize,
    /// Supplier respondents of round 3.
    pub supplier_respondents: usize,
    /// The round-3 share applied to round 2's staff part.
    pub staff_respend_share: Exact,
    /// The round-3 share applied to round 2's supplier part.
    pub supplier_respend_share: Exact,
    /// The proxies used (from responders or given).
    pub proxies: Vec<ProxyUse>,
    /// Proxies the caller gave that the survey made unnecessary.
    pub unused_proxies: Vec<ProxyKind>,
}

impl Lm3 {
    /// R2, both parts.
    pub fn round2(&self) -> Exact {
        self.round2_staff.add(&self.round2_suppliers)
    }

    /// R3, both parts.
    pub fn round3(&self) -> Exact {
        self.round3_staff.add(&self.round3_suppliers)
    }

    /// R1 + R2 + R3.
    pub fn total(&self) -> Exact {
        Exact::whole(self.round1_pence)
            .add(&self.round2())
            .add(&self.round3())
    }

    /// Responding suppliers ÷ suppliers surveyed.
    pub fn response_rate_by_count(&self) -> Exact {
        Exact::ratio(self.responding as i64, self.suppliers as i64).unwrap_or_else(Exact::zero)
    }

    /// Round 1 of responding suppliers ÷ round 1.
    pub fn response_rate_by_spend(&self) -> Exact {
        Exact::ratio(self.round1_responding_pence, self.round1_pence).unwrap_or_else(Exact::zero)
    }
}

/// Why LM3 cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lm3Error {
    /// A round has no responses and the caller gave no proxy for it.
    MissingProxy {
        /// The proxy needed.
        kind: ProxyKind,
        /// Why it is needed.
        why: String,
    },
    /// The returns cannot be right (negative money, a local share above 1, no round 1).
    Invalid(String),
}

impl fmt::Display for Lm3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lm3Error::MissingProxy { kind, why } => write!(
                f,
                "{why}: give --{} (an explicit share, e.g. from NEF's LM3 guidance); none is \
                 assumed",
                kind.name()
            ),
            Lm3Error::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Lm3Error {}

/// Computes LM3 from the supplier returns, the re-spend returns and the caller's proxies (see
/// the module documentation for the method).
pub fn lm3(
    suppliers: &[SupplierReturn],
    respend: &[RespendReturn],
    proxies: &Proxies,
) -> Result<Lm3, Lm3Error> {
    let invalid = |m: String| Err(Lm3Error::Invalid(m));
    if suppliers.is_empty() {
        return invalid("no supplier returns: round 1 is empty".into());
    }
    // Round 1 and the responders' exact round-2 parts.
    let mut round1: i64 = 0;
    let mut round1_responding: i64 = 0;
    let mut responding = 0usize;
    let (mut resp_staff, mut resp_suppliers) = (Exact::zero(), Exact::zero());
    let (mut non_responding, mut round1_non_responding) = (0usize, 0i64);
    for (i, s) in suppliers.iter().enumerate() {
        if s.round1_pence < 0 {
            return invalid(format!("supplier {}: round 1 spend is negative", i + 1));
        }
        round1 = round1
            .checked_add(s.round1_pence)
            .ok_or_else(|| Lm3Error::Invalid("round 1 overflows".into()))?;
        match &s.response {
            Some(r) => {
                let Response {
                    total_spend_pence: t,
                    local_staff_pence: st,
                    local_supplier_pence: sp,
                } = *r;
                if t <= 0 || st < 0 || sp < 0 || st.checked_add(sp).is_none_or(|l| l > t) {
                    return invalid(format!(
                        "supplier {}: local spends ({st} + {sp} pence) must be non-negative and \
                         at most a positive total spend ({t} pence)",
                        i + 1
                    ));
                }
                let r1 = Exact::whole(s.round1_pence);
                let total = Exact::whole(t);
                resp_staff = resp_staff.add(
                    &r1.mul(&Exact::whole(st))
                        .div(&total)
                        .unwrap_or_else(Exact::zero),
                );
                resp_suppliers = resp_suppliers.add(
                    &r1.mul(&Exact::whole(sp))
                        .div(&total)
                        .unwrap_or_else(Exact::zero),
                );
                round1_responding += s.round1_pence;
                responding += 1;
            }
            None => {
                non_responding += 1;
                round1_non_responding += s.round1_pence;
            }
        }
    }
    if round1 == 0 {
        return invalid("round 1 is zero: LM3 is undefined".into());
    }

    let mut used = Vec::new();
    let mut unused = Vec::new();
    // Non-responders: the responders' round-1-weighted mean shares, else the caller's proxy.
    let (mut round2_staff, mut round2_suppliers) = (resp_staff.clone(), resp_suppliers.clone());
    let weighted = Exact::whole(round1_responding);
    if round1_non_responding > 0 {
        let shares = match (resp_staff.div(&weighted), resp_suppliers.div(&weighted)) {
            (Some(a), Some(b)) => {
                if proxies.round2.is_some() {
                    unused.push(ProxyKind::Round2);
                }
                Some(((a, b), ProxyOrigin::Responders(responding)))
            }
            _ => proxies.round2.clone().map(|p| (p, ProxyOrigin::Given)),
        };
        let Some(((staff_share, supplier_share), origin)) = shares else {
            return Err(Lm3Error::MissingProxy {
                kind: ProxyKind::Round2,
                why: format!(
                    "no supplier with round 1 spend responded, so round 2 of the {non_responding} \
                     non-responding supplier(s) has no basis"
                ),
            });
        };
        let applied = Exact::whole(round1_non_responding);
        round2_staff = round2_staff.add(&applied.mul(&staff_share));
        round2_suppliers = round2_suppliers.add(&applied.mul(&supplier_share));
        used.push(ProxyUse {
            kind: ProxyKind::Round2,
            origin,
            shares: (staff_share, supplier_share),
            applied_to: applied,
            suppliers: non_responding,
        });
    } else if proxies.round2.is_some() {
        unused.push(ProxyKind::Round2);
    }

    // Round 3: the income-weighted local re-spend share of each respondent type.
    let mut share_of = |kind: Respondent,
                        part: &Exact,
                        proxy: &Option<Exact>,
                        proxy_kind: ProxyKind|
     -> Result<(Exact, usize), Lm3Error> {
        let mut income = Exact::zero();
        let mut local = Exact::zero();
        let mut n = 0usize;
        for (i, r) in respend
            .iter()
            .enumerate()
            .filter(|(_, r)| r.respondent == kind)
        {
            if r.income_pence < 0 || r.local_spend_pence < 0 || r.local_spend_pence > r.income_pence
            {
                return Err(Lm3Error::Invalid(format!(
                    "re-spend return {}: local spend ({} pence) must be non-negative and at most \
                     the income ({} pence)",
                    i + 1,
                    r.local_spend_pence,
                    r.income_pence
                )));
            }
            income = income.add(&Exact::whole(r.income_pence));
            local = local.add(&Exact::whole(r.local_spend_pence));
            n += 1;
        }
        if let Some(share) = local.div(&income) {
            if proxy.is_some() {
                unused.push(proxy_kind);
            }
            return Ok((share, n));
        }
        match proxy {
            Some(p) => {
                used.push(ProxyUse {
                    kind: proxy_kind,
                    origin: ProxyOrigin::Given,
                    shares: (p.clone(), p.clone()),
                    applied_to: part.clone(),
                    suppliers: 0,
                });
                Ok((p.clone(), n))
            }
            // Nothing to re-spend: no share is needed.
            None if part.is_zero() => Ok((Exact::zero(), n)),
            None => Err(Lm3Error::MissingProxy {
                kind: proxy_kind,
                why: format!(
                    "no {} respondent with income re-spend returns, so round 3 of the local {} \
                     part of round 2 has no basis",
                    kind.as_str(),
                    if kind == Respondent::Staff {
                        "staff"
                    } else {
                        "supplier"
                    }
                ),
            }),
        }
    };
    let (staff_share, staff_n) = share_of(
        Respondent::Staff,
        &round2_staff,
        &proxies.staff_respend,
        ProxyKind::StaffRespend,
    )?;
    let (supplier_share, supplier_n) = share_of(
        Respondent::Supplier,
        &round2_suppliers,
        &proxies.supplier_respend,
        ProxyKind::SupplierRespend,
    )?;
    let round3_staff = round2_staff.mul(&staff_share);
    let round3_suppliers = round2_suppliers.mul(&supplier_share);
    let r1 = Exact::whole(round1);
    let total = r1
        .add(&round2_staff)
        .add(&round2_suppliers)
        .add(&round3_staff)
        .add(&round3_suppliers);
    let lm3 = total.div(&r1).unwrap_or_else(Exact::zero);
    Ok(Lm3 {
        round1_pence: round1,
        round2_staff,
        round2_suppliers,
        round3_staff,
        round3_suppliers,
        lm3,
        suppliers: suppliers.len(),
        responding,
        round1_responding_pence: round1_responding,
        staff_respondents: staff_n,
        supplier_respondents: supplier_n,
        staff_respend_share: staff_share,
        supplier_respend_share: supplier_share,
        proxies: used,
        unused_proxies: unused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(n: i64, d: i64) -> Exact {
        Exact::ratio(n, d).unwrap()
    }

    fn supplier(r1: i64, response: Option<(i64, i64, i64)>) -> SupplierReturn {
        SupplierReturn {
            round1_pence: r1,
            response: response.map(|(t, s, p)| Response {
                total_spend_pence: t,
                local_staff_pence: s,
                local_supplier_pence: p,
            }),
        }
    }

    fn respend(respondent: Respondent, income: i64, local: i64) -> RespendReturn {
        RespendReturn {
            respondent,
            income_pence: income,
            local_spend_pence: local,
        }
    }

    /// The hand-worked example: three suppliers, one not responding; two staff respondents and
    /// one supplier respondent. Amounts in pence (£600 = 60 000 p).
    fn worked() -> (Vec<SupplierReturn>, Vec<RespendReturn>) {
        (
            vec![
                // A: R1 £600; total £900, local staff £300 (1/3), local suppliers £150 (1/6).
                supplier(60_000, Some((90_000, 30_000, 15_000))),
                // B: R1 £300; total £400, local staff £100 (1/4), local suppliers £100 (1/4).
                supplier(30_000, Some((40_000, 10_000, 10_000))),
                // C: R1 £100; no return.
                supplier(10_000, None),
            ],
            vec![
                // Staff: £200 of which £50 local, £100 of which £70 local.
                respend(Respondent::Staff, 20_000, 5_000),
                respend(Respondent::Staff, 10_000, 7_000),
                // Supplier: £300 of which £100 local.
                respend(Respondent::Supplier, 30_000, 10_000),
            ],
        )
    }

    #[test]
    fn hand_worked_example() {
        let (s, r) = worked();
        let got = lm3(&s, &r, &Proxies::default()).unwrap();
        // R1 = 60 000 + 30 000 + 10 000 = 100 000 p (£1,000).
        assert_eq!(got.round1_pence, 100_000);
        // Responders: A staff 60 000 × 1/3 = 20 000, suppliers 60 000 × 1/6 = 10 000;
        //             B staff 30 000 × 1/4 = 7 500,  suppliers 30 000 × 1/4 = 7 500.
        // Weighted mean shares over responders' R1 = 90 000:
        //   staff (20 000 + 7 500) / 90 000 = 27 500 / 90 000 = 11/36,
        //   suppliers (10 000 + 7 500) / 90 000 = 17 500 / 90 000 = 7/36.
        // C: staff 10 000 × 11/36 = 27 500/9, suppliers 10 000 × 7/36 = 17 500/9.
        // R2 staff = 27 500 + 27 500/9 = 275 000/9 (£305.555…);
        // R2 suppliers = 17 500 + 17 500/9 = 175 000/9 (£194.444…); R2 = 450 000/9 = 50 000.
        assert_eq!(got.round2_staff, ex(275_000, 9));
        assert_eq!(got.round2_suppliers, ex(175_000, 9));
        assert_eq!(got.round2(), Exact::whole(50_000));
        // Staff re-spend share (5 000 + 7 000) / (20 000 + 10 000) = 12 000 / 30 000 = 2/5;
        // supplier share 10 000 / 30 000 = 1/3.
        assert_eq!(got.staff_respend_share, ex(2, 5));
        assert_eq!(got.supplier_respend_share, ex(1, 3));
        // R3 staff = 275 000/9 × 2/5 = 110 000/9; R3 suppliers = 175 000/9 × 1/3 = 175 000/27;
        // R3 = 330 000/27 + 175 000/27 = 505 000/27 (£187.037…).
        assert_eq!(got.round3_staff, ex(110_000, 9));
        assert_eq!(got.round3_suppliers, ex(175_000, 27));
        assert_eq!(got.round3(), ex(505_000, 27));
        // Total = 100 000 + 50 000 + 505 000/27 = 4 555 000/27; LM3 = 4 555 000/2 700 000
        // = 911/540 = 1.687037…
        assert_eq!(got.total(), ex(4_555_000, 27));
        assert_eq!(got.lm3, ex(911, 540));
        assert_eq!(got.lm3.fraction(), "911/540");
        assert_eq!(got.lm3.to_string(), "1.687037");
        // Pence for display: 275 000/9 = 30 555.55… → 30 556; 505 000/27 = 18 703.7… → 18 704.
        assert_eq!(got.round2_staff.rounded(), 30_556);
        assert_eq!(got.round3().rounded(), 18_704);
        // Response: 2 of 3 suppliers; 90 000 of 100 000 p of round 1.
        assert_eq!((got.suppliers, got.responding), (3, 2));
        assert_eq!(got.response_rate_by_count(), ex(2, 3));
        assert_eq!(got.response_rate_by_spend(), ex(9, 10));
        assert_eq!((got.staff_respondents, got.supplier_respondents), (2, 1));
        // The non-responder's proxy is named: the responders' weighted means.
        assert_eq!(got.proxies.len(), 1);
        let p = &got.proxies[0];
        assert_eq!(p.kind, ProxyKind::Round2);
        assert_eq!(p.origin, ProxyOrigin::Responders(2));
        assert_eq!(p.shares, (ex(11, 36), ex(7, 36)));
        assert_eq!(p.applied_to, Exact::whole(10_000));
        assert!(
            p.describe()
                .contains("1 non-responding supplier(s) with 10000 pence"),
            "{}",
            p.describe()
        );
        assert!(got.unused_proxies.is_empty());
    }

    #[test]
    fn missing_rounds_need_explicit_proxies() {
        let (s, r) = worked();
        // Nobody responded to round 2.
        let silent: Vec<_> = s.iter().map(|x| supplier(x.round1_pence, None)).collect();
        let err = lm3(&silent, &r, &Proxies::default()).unwrap_err();
        assert!(
            matches!(
                &err,
                Lm3Error::MissingProxy {
                    kind: ProxyKind::Round2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("--round2-proxy"), "{err}");
        // With a given round-2 proxy of (1/4, 1/10): R2 = 100 000 × 7/20 = 35 000.
        let proxies = Proxies {
            round2: Some((ex(1, 4), ex(1, 10))),
            ..Proxies::default()
        };
        let got = lm3(&silent, &r, &proxies).unwrap();
        assert_eq!(got.round2_staff, Exact::whole(25_000));
        assert_eq!(got.round2_suppliers, Exact::whole(10_000));
        assert_eq!(got.proxies[0].origin, ProxyOrigin::Given);
        // R3 = 25 000 × 2/5 + 10 000 × 1/3 = 10 000 + 10 000/3; LM3 = (100 000 + 35 000 +
        // 40 000/3) / 100 000 = 445 000/300 000 = 89/60.
        assert_eq!(got.lm3, ex(89, 60));
        assert_eq!(got.response_rate_by_count(), Exact::zero());

        // No staff respondents: the staff re-spend proxy is required and named.
        let suppliers_only: Vec<_> = r
            .iter()
            .copied()
            .filter(|x| x.respondent == Respondent::Supplier)
            .collect();
        let err = lm3(&s, &suppliers_only, &Proxies::default()).unwrap_err();
        assert!(
            matches!(
                &err,
                Lm3Error::MissingProxy {
                    kind: ProxyKind::StaffRespend,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("--staff-respend-proxy"), "{err}");
        let err = lm3(
            &s,
            &[],
            &Proxies {
                staff_respend: Some(ex(1, 2)),
                ..Proxies::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                &err,
                Lm3Error::MissingProxy {
                    kind: ProxyKind::SupplierRespend,
                    ..
                }
            ),
            "{err}"
        );
        // Given: staff 1/2 → R3 staff = 275 000/9 × 1/2 = 137 500/9.
        let got = lm3(
            &s,
            &suppliers_only,
            &Proxies {
                staff_respend: Some(ex(1, 2)),
                round2: Some((ex(1, 2), ex(1, 2))),
                ..Proxies::default()
            },
        )
        .unwrap();
        assert_eq!(got.round3_staff, ex(137_500, 9));
        assert_eq!(got.staff_respondents, 0);
        // The round-2 proxy was given but the responders made it unnecessary.
        assert_eq!(got.unused_proxies, vec![ProxyKind::Round2]);
        assert!(got.proxies.iter().any(|p| p.kind == ProxyKind::StaffRespend
            && p.origin == ProxyOrigin::Given
            && p.applied_to == ex(275_000, 9)));

        // A round-2 part of zero needs no re-spend share at all.
        let no_staff = vec![supplier(10_000, Some((10_000, 0, 5_000)))];
        let got = lm3(&no_staff, &r[2..], &Proxies::default()).unwrap();
        // R1 10 000, R2 5 000 (suppliers), R3 5 000 × 1/3; LM3 = (15 000 + 5 000/3)/10 000 = 5/3.
        assert_eq!(got.lm3, ex(5, 3));
    }

    #[test]
    fn impossible_returns_are_refused() {
        let over = vec![supplier(10_000, Some((10_000, 6_000, 5_000)))];
        let err = lm3(&over, &[], &Proxies::default()).unwrap_err();
        assert!(matches!(err, Lm3Error::Invalid(_)), "{err}");
        let zero_total = vec![supplier(10_000, Some((0, 0, 0)))];
        assert!(lm3(&zero_total, &[], &Proxies::default()).is_err());
        let respend_over = vec![respend(Respondent::Staff, 100, 101)];
        let ok = vec![supplier(10_000, Some((10_000, 1_000, 0)))];
        assert!(matches!(
            lm3(&ok, &respend_over, &Proxies::default()),
            Err(Lm3Error::Invalid(_))
        ));
        assert!(matches!(
            lm3(&[], &[], &Proxies::default()),
            Err(Lm3Error::Invalid(_))
        ));
        let nothing = vec![supplier(0, None)];
        assert!(matches!(
            lm3(&nothing, &[], &Proxies::default()),
            Err(Lm3Error::Invalid(_))
        ));
    }

    #[test]
    fn shares_parse_exactly() {
        assert_eq!(Exact::parse_share("0.25").unwrap(), ex(1, 4));
        assert_eq!(Exact::parse_share(" .3 ").unwrap(), ex(3, 10));
        assert_eq!(Exact::parse_share("1").unwrap(), Exact::whole(1));
        assert_eq!(Exact::parse_share("1/3").unwrap(), ex(1, 3));
        for bad in ["", ".", "1.5", "-0.1", "0,3", "abc", "1/0", "3/2", "1e-3"] {
            assert!(Exact::parse_share(bad).is_err(), "{bad:?}");
        }
        // Halves round away from zero.
        assert_eq!(ex(5, 2).rounded(), 3);
        assert_eq!(ex(7, 3).rounded(), 2);
        assert_eq!(Exact::whole(0).to_string(), "0");
    }
}
