//! Where public money lands (issue 16): a body's payments located through its supplier
//! register and the ONS Postcode Directory, then broken down by place (district, ward, LSOA,
//! the national or local IMD decile of the supplier's LSOA), by service area, expense type,
//! supplier and kind of payee, for a period ([`spend_by_place`]) or per financial year against a
//! baseline of earlier years ([`spend_by_year`]).
//!
//! A payment's supplier is the register identity with the payment's company number; failing
//! that, the first identity with its normalised name (`supplier_key`), unless both give a
//! company number and they differ; a redacted payee is never matched.
//!
//! Three rules hold for every answer:
//! - **Nothing is silently dropped.** A payment whose supplier cannot be located lands in a
//!   `not located` row, so a breakdown's rows always sum to the period's total, in integer
//!   pence; the notes say how much was matched by company number, by name, and why the rest
//!   was not located.
//! - **Only organisations are named.** A payee is named only when the ingest classified it as
//!   an organisation or the register knows it; every other payee (redacted, or a name that may
//!   be a person's) is folded into one [`PRIVATE_PAYEES`] row.
//! - **Money stays integer.** Totals are sums of `net_pence`; only shares, baselines (means)
//!   and changes against them are fractions.

mod load;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use renewal_geo::{Fit, Level, Vintage};
use renewal_warehouse::{Manifest, Warehouse};
use serde::Serialize;

use crate::answer::{Answer, Kind, to_batches};
use crate::engine::Engine;
use crate::geography::load_lookup;
use crate::tables::{DatasetPins, resolve, session};
use crate::{Basis, QueryError, Result};

use load::{Imd, Payment, Place, Supplier};

/// The one row every payee that may not be named is aggregated into.
pub const PRIVATE_PAYEES: &str = "(individuals, redacted and unclassified payees)";
/// The row of organisations outside the top N of the `supplier` breakdown.
pub const OTHER_ORGANISATIONS: &str = "(other organisations)";
/// The row of payments whose supplier could not be placed.
pub const NOT_LOCATED: &str = "not located";
/// Suppliers named by the `supplier` breakdown unless a request says otherwise.
pub const DEFAULT_TOP: usize = 20;
/// The postcode directory dataset unless a request names another.
pub const POSTCODES_DATASET: &str = "postcodes";

/// The payments a question covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Period {
    /// A financial year, April to March: `2021-22`.
    FinancialYear(String),
    /// Payment dates from `from` to `to` inclusive (`YYYY-MM-DD`).
    Dates {
        /// First day.
        from: String,
        /// Last day.
        to: String,
    },
}

impl Period {
    /// The financial year's first calendar year (`2021-22` → 2021), or `None` for dates.
    fn start_year(&self) -> Option<i32> {
        match self {
            Period::FinancialYear(fy) => fy.get(0..4)?.parse().ok(),
            Period::Dates { .. } => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Period::FinancialYear(fy) => fy.clone(),
            Period::Dates { from, to } => format!("{from} to {to}"),
        }
    }
}

/// `YYYY-YY` with YY the year after YYYY.
fn financial_year(start: i32) -> String {
    format!("{start}-{:02}", (start + 1).rem_euclid(100))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s.bytes()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && matches!(s[5..7].parse::<u8>(), Ok(1..=12))
        && matches!(s[8..10].parse::<u8>(), Ok(1..=31))
}

impl std::str::FromStr for Period {
    type Err = String;
    /// `2021-22` (a financial year) or `2021-04-01..2021-09-30` (dates, inclusive).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some((from, to)) = s.split_once("..") {
            if !is_date(from) || !is_date(to) {
                return Err(format!("{s:?}: dates are YYYY-MM-DD..YYYY-MM-DD"));
            }
            if from > to {
                return Err(format!("{s:?}: the first date is after the last"));
            }
            return Ok(Period::Dates {
                from: from.into(),
                to: to.into(),
            });
        }
        if crate::questions::financial_years(&[s]) {
            return Ok(Period::FinancialYear(s.into()));
        }
        Err(format!(
            "{s:?}: a financial year (2021-22) or dates (2021-04-01..2021-09-30)"
        ))
    }
}

/// How a question groups payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// The supplier's district (from its postcode), inside or outside the body's own.
    District,
    /// The supplier's ward, through an LSOA → ward lookup of the edition's LSOA vintage.
    Ward,
    /// The supplier's LSOA in the edition's LSOA vintage.
    Lsoa,
    /// The national IMD decile of the supplier's LSOA (1 = most deprived 10%).
    Decile,
    /// The decile of the supplier's LSOA among the body's own district's LSOAs, ranked by IMD
    /// rank: `ceil(10·r/n)`. Suppliers outside the district have none.
    LocalDecile,
    /// Service area as published.
    Service,
    /// Expense type as published.
    Expense,
    /// The top N organisations; the rest aggregated.
    Supplier,
    /// SME, charity, other organisation, or not named.
    Kind,
}

impl Breakdown {
    /// The name used on the command line and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Breakdown::District => "district",
            Breakdown::Ward => "ward",
            Breakdown::Lsoa => "lsoa",
            Breakdown::Decile => "decile",
            Breakdown::LocalDecile => "local-decile",
            Breakdown::Service => "service",
            Breakdown::Expense => "expense",
            Breakdown::Supplier => "supplier",
            Breakdown::Kind => "kind",
        }
    }

    /// Every breakdown, in the order the help lists them.
    pub const ALL: [Breakdown; 9] = [
        Breakdown::District,
        Breakdown::Ward,
        Breakdown::Lsoa,
        Breakdown::Decile,
        Breakdown::LocalDecile,
        Breakdown::Service,
        Breakdown::Expense,
        Breakdown::Supplier,
        Breakdown::Kind,
    ];

    fn needs_lsoa(self) -> bool {
        matches!(
            self,
            Breakdown::Ward | Breakdown::Lsoa | Breakdown::Decile | Breakdown::LocalDecile
        )
    }

    fn needs_imd(self) -> bool {
        matches!(self, Breakdown::Decile | Breakdown::LocalDecile)
    }

    /// Breakdowns whose groups are places, so a payment may have none (`not located`).
    fn is_place(self) -> bool {
        self.needs_lsoa() || self == Breakdown::District
    }
}

impl std::str::FromStr for Breakdown {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Breakdown::ALL
            .into_iter()
            .find(|b| b.as_str() == s || (s == "local" && *b == Breakdown::LocalDecile))
            .ok_or_else(|| {
                format!(
                    "breakdown {s:?}: one of {}",
                    Breakdown::ALL.map(Breakdown::as_str).join(", ")
                )
            })
    }
}

/// A spend question.
#[derive(Debug, Clone)]
pub struct SpendRequest {
    /// The payments dataset (`spend-…`).
    pub spend: String,
    /// The supplier register dataset (`suppliers-…`).
    pub suppliers: String,
    /// The postcode directory dataset ([`POSTCODES_DATASET`] by default).
    pub postcodes: String,
    /// Which payments.
    pub period: Period,
    /// How to group them.
    pub breakdown: Breakdown,
    /// Organisations named by the `supplier` breakdown.
    pub top: usize,
    /// IoD edition whose LSOA vintage and ranks place suppliers (`None`: the default edition,
    /// `Catalog::resolve_edition`).
    pub edition: Option<String>,
    /// Ward vintage for the `ward` breakdown; optional when one lookup fits.
    pub ward_vintage: Option<Vintage>,
}

/// How a payment's supplier was found in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Number(usize),
    Name(usize),
    None,
}

/// Where a payment's supplier is, or why it is not known.
#[derive(Debug, Clone, Copy)]
enum Status<'a> {
    NoMatch,
    NoPostcode,
    NotInDirectory,
    Located(&'a Place),
}

/// Everything read once for a question: the register, the directory rows it needs, the IMD
/// and ward lookup where the breakdown needs them.
struct Context {
    /// The payments dataset version every read of the question uses.
    spend: Manifest,
    basis: BTreeMap<String, u64>,
    method: Vec<String>,
    fit: Fit,
    suppliers: Vec<Supplier>,
    by_number: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
    places: HashMap<String, Place>,
    imd: Option<Imd>,
    /// LSOA → (ward code, ward name, district code).
    wards: HashMap<String, (String, String, String)>,
    notes: Vec<String>,
}

impl Context {
    fn matched(&self, p: &Payment) -> Match {
        // A redacted payee is never matched: its "name" is a marker, not a supplier.
        if p.payee == "redacted" {
            return Match::None;
        }
        if let Some(i) = p
            .company_number
            .as_ref()
            .and_then(|n| self.by_number.get(n))
        {
            return Match::Number(*i);
        }
        match self.by_key.get(&p.supplier_key) {
            // Both give a company number and they differ: two companies sharing a name.
            Some(i)
                if p.company_number.is_some() && self.suppliers[*i].company_number.is_some() =>
            {
                Match::None
            }
            Some(i) => Match::Name(*i),
            None => Match::None,
        }
    }

    fn status(&self, m: Match) -> Status<'_> {
        let i = match m {
            Match::Number(i) | Match::Name(i) => i,
            Match::None => return Status::NoMatch,
        };
        match &self.suppliers[i].postcode {
            None => Status::NoPostcode,
            Some(pc) => match self.places.get(pc) {
                None => Status::NotInDirectory,
                Some(place) => Status::Located(place),
            },
        }
    }
}

/// One payment with its match and location.
struct Located<'a> {
    payment: &'a Payment,
    matched: Match,
    status: Status<'a>,
}

impl Located<'_> {
    fn supplier<'c>(&self, ctx: &'c Context) -> Option<&'c Supplier> {
        match self.matched {
            Match::Number(i) | Match::Name(i) => ctx.suppliers.get(i),
            Match::None => None,
        }
    }

    /// Only organisations are named: the ingest said so, or the register knows the payee.
    fn named(&self) -> bool {
        self.payment.payee != "redacted"
            && (self.payment.payee == "organisation" || self.matched != Match::None)
    }

    /// The supplier identity: company number where known, else the normalised name.
    fn identity(&self, ctx: &Context) -> String {
        let s = self.supplier(ctx);
        s.and_then(|s| s.company_number.clone())
            .or_else(|| self.payment.company_number.clone())
            .or_else(|| s.map(|s| s.supplier_key.clone()))
            .unwrap_or_else(|| self.payment.supplier_key.clone())
    }

    fn lsoa(&self) -> Option<&str> {
        match self.status {
            Status::Located(p) => p
                .lsoa
                .as_deref()
                .filter(|c| renewal_geo::validate_code(Level::Lsoa, c).is_ok()),
            _ => None,
        }
    }
}

/// A group of a breakdown: its place in the order, code, name and whether it lies inside the
/// body's own district.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Group {
    class: u8,
    order: i64,
    code: Option<String>,
    name: String,
    inside: Option<bool>,
}

impl Group {
    fn new(class: u8, code: Option<String>, name: impl Into<String>) -> Group {
        Group {
            class,
            order: 0,
            code,
            name: name.into(),
            inside: None,
        }
    }
}

const LAST: u8 = 9;

fn not_located() -> Group {
    Group::new(LAST, None, NOT_LOCATED)
}

#[derive(Debug, Default, Clone)]
struct Sums {
    payments: i64,
    net_pence: i64,
    payees: BTreeSet<String>,
    /// Redacted payments: their payees cannot be told apart, so they are not counted.
    redacted: i64,
}

/// The district of each LSOA of the body's district, ranked among themselves by IMD rank:
/// LSOA → `ceil(10·r/n)`.
fn local_deciles(imd: &Imd, area: &str) -> HashMap<String, u8> {
    let mut own: Vec<(&String, f64)> = imd
        .lsoas
        .iter()
        .filter(|(_, (_, _, lad))| lad.as_deref() == Some(area))
        .map(|(code, (rank, _, _))| (code, *rank))
        .collect();
    own.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    let n = own.len() as f64;
    own.iter()
        .enumerate()
        .map(|(i, (code, _))| {
            let r = (i + 1) as f64;
            ((*code).clone(), (10.0 * r / n).ceil() as u8)
        })
        .collect()
}

fn group_of(
    l: &Located<'_>,
    breakdown: Breakdown,
    ctx: &Context,
    local: &HashMap<String, HashMap<String, u8>>,
) -> Group {
    let p = l.payment;
    if breakdown.is_place() && !matches!(l.status, Status::Located(_)) {
        return not_located();
    }
    let no_lsoa = || {
        Group::new(
            LAST - 1,
            None,
            "no English or Welsh LSOA in the postcode directory",
        )
    };
    match breakdown {
        Breakdown::District => {
            let Status::Located(place) = l.status else {
                return not_located();
            };
            match &place.lad_code {
                Some(lad) => {
                    let inside = p.body_area.as_ref().map(|a| a == lad);
                    let name = match inside {
                        Some(true) => "inside",
                        Some(false) => "outside",
                        None => "district",
                    };
                    Group {
                        inside,
                        ..Group::new(0, Some(lad.clone()), name)
                    }
                }
                None => Group::new(LAST - 1, None, "no district in the postcode directory"),
            }
        }
        Breakdown::Lsoa => match l.lsoa() {
            Some(lsoa) => Group::new(0, Some(lsoa.into()), lsoa),
            None => no_lsoa(),
        },
        Breakdown::Ward => match l.lsoa() {
            Some(lsoa) => match ctx.wards.get(lsoa) {
                Some((code, name, lad)) => Group {
                    inside: p.body_area.as_ref().map(|a| a == lad),
                    ..Group::new(0, Some(code.clone()), name.clone())
                },
                None => Group::new(LAST - 2, None, "LSOA not in the ward lookup"),
            },
            None => no_lsoa(),
        },
        Breakdown::Decile => {
            let decile = l
                .lsoa()
                .and_then(|c| ctx.imd.as_ref()?.lsoas.get(c))
                .map(|x| x.1);
            match (l.lsoa(), decile) {
                (Some(_), Some(d)) => Group {
                    order: i64::from(d),
                    ..Group::new(0, Some(d.to_string()), format!("decile {d}"))
                },
                (Some(_), None) => Group::new(LAST - 2, None, "LSOA not in the IoD edition"),
                (None, _) => no_lsoa(),
            }
        }
        Breakdown::LocalDecile => {
            let decile = match (l.lsoa(), &p.body_area) {
                (Some(c), Some(area)) => local.get(area).and_then(|m| m.get(c)).copied(),
                _ => None,
            };
            match (l.lsoa(), decile) {
                (Some(_), Some(d)) => Group {
                    order: i64::from(d),
                    inside: Some(true),
                    ..Group::new(0, Some(d.to_string()), format!("local decile {d}"))
                },
                (Some(_), None) => Group {
                    inside: Some(false),
                    ..Group::new(LAST - 2, None, "outside the body's district")
                },
                (None, _) => no_lsoa(),
            }
        }
        Breakdown::Service => match &p.service_area {
            Some(s) => Group::new(0, None, s.clone()),
            None => Group::new(1, None, "(not stated)"),
        },
        Breakdown::Expense => match &p.expense_type {
            Some(s) => Group::new(0, None, s.clone()),
            None => Group::new(1, None, "(not stated)"),
        },
        Breakdown::Supplier => {
            if l.named() {
                let name = l
                    .supplier(ctx)
                    .map(|s| s.supplier_name.clone())
                    .unwrap_or_else(|| p.supplier_name.clone());
                Group::new(0, Some(l.identity(ctx)), name)
            } else {
                Group::new(2, None, PRIVATE_PAYEES)
            }
        }
        Breakdown::Kind => {
            let s = l.supplier(ctx);
            let charity =
                p.charity_number.is_some() || s.is_some_and(|s| s.charity_number.is_some());
            let (order, name) = if !l.named() {
                (3, "not named")
            } else if charity {
                (1, "charity")
            } else if s.and_then(|s| s.sme) == Some(true) {
                (0, "sme")
            } else {
                (2, "other organisation")
            };
            Group {
                order,
                ..Group::new(0, None, name)
            }
        }
    }
}

/// Payments grouped: each group's sums, and the period's total.
struct Grouped {
    groups: Vec<(Group, Sums)>,
    total: i64,
}

fn group_payments(
    located: &[Located<'_>],
    breakdown: Breakdown,
    ctx: &Context,
    local: &HashMap<String, HashMap<String, u8>>,
    named: Option<&HashSet<String>>,
    top: usize,
) -> Grouped {
    let mut sums: HashMap<Group, Sums> = HashMap::new();
    let mut total = 0i64;
    for l in located {
        let g = group_of(l, breakdown, ctx, local);
        let s = sums.entry(g).or_default();
        s.payments += 1;
        s.net_pence += l.payment.net_pence;
        total += l.payment.net_pence;
        if l.payment.payee == "redacted" {
            s.redacted += 1;
        } else {
            s.payees.insert(l.identity(ctx));
        }
    }
    let mut groups: Vec<(Group, Sums)> = sums.into_iter().collect();
    let by_money = matches!(
        breakdown,
        Breakdown::Service | Breakdown::Expense | Breakdown::Supplier
    );
    groups.sort_by(|(a, x), (b, y)| {
        (a.class, a.order)
            .cmp(&(b.class, b.order))
            .then_with(|| {
                if by_money {
                    y.net_pence.cmp(&x.net_pence)
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.name.cmp(&b.name))
    });
    if breakdown == Breakdown::Supplier {
        groups = keep_top(groups, named, top);
    }
    Grouped { groups, total }
}

/// The `top` organisations (or those of `named`, to keep one set across years) keep their
/// rows; the other organisations share one row.
fn keep_top(
    groups: Vec<(Group, Sums)>,
    named: Option<&HashSet<String>>,
    top: usize,
) -> Vec<(Group, Sums)> {
    let mut out = Vec::new();
    let mut other = Sums::default();
    let mut kept = 0;
    for (g, s) in groups {
        if g.class != 0 {
            out.push((g, s));
            continue;
        }
        let keep = match named {
            Some(set) => g.code.as_ref().is_some_and(|c| set.contains(c)),
            None => kept < top,
        };
        if keep {
            kept += 1;
            out.push((g, s));
        } else {
            other.payments += s.payments;
            other.net_pence += s.net_pence;
            other.payees.extend(s.payees);
        }
    }
    if other.payments > 0 {
        let at = out
            .iter()
            .position(|(g, _)| g.class > 0)
            .unwrap_or(out.len());
        out.insert(at, (Group::new(1, None, OTHER_ORGANISATIONS), other));
    }
    out
}

/// Columns of [`spend_by_place`].
pub const PLACE_COLUMNS: [(&str, Kind); 7] = [
    ("group_code", Kind::Text),
    ("group_name", Kind::Text),
    ("inside", Kind::Flag),
    ("payments", Kind::Integer),
    ("payees", Kind::Integer),
    ("net_pence", Kind::Integer),
    ("share", Kind::Number),
];

/// Columns of [`spend_by_year`].
pub const YEAR_COLUMNS: [(&str, Kind); 11] = [
    ("financial_year", Kind::Text),
    ("group_code", Kind::Text),
    ("group_name", Kind::Text),
    ("inside", Kind::Flag),
    ("payments", Kind::Integer),
    ("payees", Kind::Integer),
    ("net_pence", Kind::Integer),
    ("share", Kind::Number),
    ("baseline_pence", Kind::Number),
    ("change_pence", Kind::Number),
    ("change_pct", Kind::Number),
];

#[derive(Debug, Serialize)]
struct PlaceRow {
    group_code: Option<String>,
    group_name: String,
    inside: Option<bool>,
    payments: i64,
    /// Distinct payees; empty for a group holding redacted payments, whose payees cannot be
    /// told apart.
    payees: Option<i64>,
    net_pence: i64,
    share: Option<f64>,
}

#[derive(Debug, Serialize)]
struct YearRow {
    financial_year: String,
    group_code: Option<String>,
    group_name: String,
    inside: Option<bool>,
    payments: i64,
    payees: Option<i64>,
    net_pence: i64,
    share: Option<f64>,
    baseline_pence: Option<f64>,
    change_pence: Option<f64>,
    change_pct: Option<f64>,
}

impl YearRow {
    fn new(financial_year: &str, row: PlaceRow, baseline: Option<f64>) -> YearRow {
        let change = baseline.map(|b| row.net_pence as f64 - b);
        YearRow {
            financial_year: financial_year.into(),
            group_code: row.group_code,
            group_name: row.group_name,
            inside: row.inside,
            payments: row.payments,
            payees: row.payees,
            net_pence: row.net_pence,
            share: row.share,
            baseline_pence: baseline,
            change_pence: change,
            change_pct: match (change, baseline) {
                (Some(c), Some(b)) if b != 0.0 => Some(100.0 * c / b.abs()),
                _ => None,
            },
        }
    }
}

/// `1 payment`, `2 payments`.
fn plural(n: i64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn share(part: i64, total: i64) -> Option<f64> {
    (total != 0).then(|| part as f64 / total as f64)
}

fn pct(part: i64, total: i64) -> String {
    match share(part, total) {
        Some(s) => format!("{:.1}%", 100.0 * s),
        None => "-".into(),
    }
}

fn rows(grouped: &Grouped) -> Vec<PlaceRow> {
    grouped
        .groups
        .iter()
        .map(|(g, s)| PlaceRow {
            group_code: g.code.clone(),
            group_name: g.name.clone(),
            inside: g.inside,
            payments: s.payments,
            payees: (s.redacted == 0).then_some(s.payees.len() as i64),
            net_pence: s.net_pence,
            share: share(s.net_pence, grouped.total),
        })
        .collect()
}

async fn context(engine: &Engine, request: &SpendRequest, pins: &DatasetPins) -> Result<Context> {
    let warehouse = engine.warehouse();
    let spend = kind(warehouse, &request.spend, "spend", pins).await?;
    let register = kind(warehouse, &request.suppliers, "suppliers", pins).await?;
    let postcodes = kind(warehouse, &request.postcodes, "postcodes", pins).await?;
    let mut basis = BTreeMap::new();
    for m in [&spend, &register, &postcodes] {
        basis.insert(m.dataset.clone(), m.version);
    }
    let mut method = vec![format!(
        "payments of {} v{} matched to {} v{} by company number, else by normalised name; \
         located by the register's postcode in {} v{}",
        spend.dataset,
        spend.version,
        register.dataset,
        register.version,
        postcodes.dataset,
        postcodes.version
    )];
    let ctx = session();
    let mut notes = Vec::new();
    let mut iod = None;
    let mut lsoa_column = None;
    if request.breakdown.needs_lsoa() {
        let edition = engine
            .catalog()
            .resolve_edition(request.edition.as_deref())
            .map_err(|e| QueryError::InvalidArgument(e.to_string()))?;
        let m = resolve(warehouse, &renewal_warehouse::ids::iod(&edition), pins).await?;
        let vintage = m.vintage.get("lsoa").cloned().ok_or_else(|| {
            QueryError::Precondition(format!("{} records no LSOA vintage", m.dataset))
        })?;
        method.push(format!(
            "supplier LSOAs in {vintage}, the LSOA geography of {} v{}",
            m.dataset, m.version
        ));
        lsoa_column = Some(vintage.to_ascii_lowercase());
        iod = Some(m);
    }
    let suppliers = load::suppliers(&ctx, warehouse, &register).await?;
    let mut by_number = HashMap::new();
    let mut by_key = HashMap::new();
    let mut shared_keys = 0;
    for (i, s) in suppliers.iter().enumerate() {
        if let Some(n) = &s.company_number {
            by_number.entry(n.clone()).or_insert(i);
        }
        if by_key.contains_key(&s.supplier_key) {
            shared_keys += 1;
        } else {
            by_key.insert(s.supplier_key.clone(), i);
        }
    }
    if shared_keys > 0 {
        notes.push(format!(
            "{shared_keys} register identities share a normalised name with an earlier one; a \
             payment matched by name takes the first"
        ));
    }
    let wanted: HashSet<String> = suppliers
        .iter()
        .filter_map(|s| s.postcode.clone())
        .collect();
    let places = load::places(&ctx, warehouse, &postcodes, &wanted, lsoa_column.as_deref()).await?;
    let mut imd = None;
    let mut fit = Fit::Exact;
    let mut wards = HashMap::new();
    if let Some(m) = &iod {
        basis.insert(m.dataset.clone(), m.version);
        if request.breakdown.needs_imd() {
            imd = Some(load::imd(&ctx, warehouse, m).await?);
        }
        if request.breakdown == Breakdown::Ward {
            let lsoa = m.vintage.get("lsoa").cloned().unwrap_or_default();
            let lookup = ward_lookup(warehouse, &lsoa, request.ward_vintage, pins).await?;
            basis.insert(lookup.dataset.clone(), lookup.version);
            let lookup = load_lookup(warehouse, lookup).await?;
            fit = lookup.fit;
            method.push(format!(
                "LSOAs assigned to {} wards by {} v{} ({})",
                lookup.ward_vintage, lookup.manifest.dataset, lookup.manifest.version, lookup.fit
            ));
            for r in lookup.rows {
                wards.insert(r.lsoa_code, (r.ward_code, r.ward_name, r.lad_code));
            }
        }
    }
    if let Some(t) = spend.table("duplicates").filter(|t| t.rows > 0) {
        notes.push(format!(
            "payments left out of {} as repeats of a payment in an earlier file of the same \
             ingest: {} (all periods; table duplicates)",
            spend.dataset, t.rows
        ));
    }
    Ok(Context {
        spend,
        basis,
        method,
        fit,
        suppliers,
        by_number,
        by_key,
        places,
        imd,
        wards,
        notes,
    })
}

/// The manifest of `dataset`, refused unless it is of `kind`.
async fn kind(
    warehouse: &Warehouse,
    dataset: &str,
    kind: &str,
    pins: &DatasetPins,
) -> Result<Manifest> {
    let m = resolve(warehouse, dataset, pins).await?;
    if m.kind != kind {
        return Err(QueryError::InvalidArgument(format!(
            "dataset {dataset} is of kind {}, not {kind}",
            m.kind
        )));
    }
    Ok(m)
}

/// The LSOA → ward lookup from `lsoa` LSOAs, of `ward` vintage when given; refused when
/// several fit and none is named.
async fn ward_lookup(
    warehouse: &Warehouse,
    lsoa: &str,
    ward: Option<Vintage>,
    pins: &DatasetPins,
) -> Result<Manifest> {
    let prefix = renewal_warehouse::ids::lookup_prefix(lsoa);
    let mut found = Vec::new();
    for id in warehouse.datasets().await? {
        if !id.starts_with(&prefix) {
            continue;
        }
        let m = resolve(warehouse, &id, pins).await?;
        let vintage = m.vintage.get("ward").cloned().unwrap_or_default();
        if m.kind == "lookup" && ward.is_none_or(|w| w.to_string() == vintage) {
            found.push(m);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(QueryError::Precondition(match ward {
            Some(w) => format!("no {lsoa} → {w} ward lookup in the warehouse; ingest one"),
            None => format!("no {lsoa} → ward lookup in the warehouse; ingest one"),
        })),
        _ => Err(QueryError::InvalidArgument(format!(
            "several {lsoa} → ward lookups ({}); name a ward vintage",
            found
                .iter()
                .map(|m| m.vintage.get("ward").cloned().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn locate<'a>(ctx: &'a Context, payments: &'a [Payment]) -> Vec<Located<'a>> {
    payments
        .iter()
        .map(|p| {
            let matched = ctx.matched(p);
            Located {
                payment: p,
                matched,
                status: ctx.status(matched),
            }
        })
        .collect()
}

/// LSOA → local decile for each body district in the payments, and a note for each district
/// the IoD edition has no LSOAs in (an error when local deciles are the breakdown asked for).
type LocalMaps = HashMap<String, HashMap<String, u8>>;

fn local_maps(
    ctx: &Context,
    payments: &[Payment],
    breakdown: Breakdown,
) -> Result<(LocalMaps, Vec<String>)> {
    let mut out = HashMap::new();
    let mut notes = Vec::new();
    let Some(imd) = &ctx.imd else {
        return Ok((out, notes));
    };
    let areas: BTreeSet<&String> = payments
        .iter()
        .filter_map(|p| p.body_area.as_ref())
        .collect();
    for area in areas {
        let map = local_deciles(imd, area);
        if map.is_empty() {
            let why = format!(
                "the IoD edition has no LSOAs in the body's district {area} (its districts are \
                 of its own vintage), so there are no local deciles"
            );
            if breakdown == Breakdown::LocalDecile {
                return Err(QueryError::Precondition(why));
            }
            notes.push(why);
            continue;
        }
        out.insert(area.clone(), map);
    }
    Ok((out, notes))
}

/// The notes every spend answer carries: how much was matched and located, and how.
fn location_notes(located: &[Located<'_>], period: &str) -> Vec<String> {
    let total: i64 = located.iter().map(|l| l.payment.net_pence).sum();
    let sum = |f: &dyn Fn(&Located<'_>) -> bool| -> (i64, usize) {
        located
            .iter()
            .filter(|l| f(l))
            .fold((0, 0), |(s, n), l| (s + l.payment.net_pence, n + 1))
    };
    let by_number = sum(&|l| matches!(l.matched, Match::Number(_))).0;
    let by_name = sum(&|l| matches!(l.matched, Match::Name(_))).0;
    let no_match = sum(&|l| matches!(l.status, Status::NoMatch)).0;
    let no_postcode = sum(&|l| matches!(l.status, Status::NoPostcode)).0;
    let not_in = sum(&|l| matches!(l.status, Status::NotInDirectory)).0;
    let (terminated, terminated_n) =
        sum(&|l| matches!(l.status, Status::Located(p) if p.terminated));
    let not_located = no_match + no_postcode + not_in;
    let mut notes = vec![
        format!(
            "{period}: {}, {total} pence in all (net; refunds negative)",
            plural(located.len() as i64, "payment")
        ),
        format!(
            "matched to the register exactly (company number): {by_number} pence ({}); by name: \
             {by_name} pence ({}); not matched: {no_match} pence ({})",
            pct(by_number, total),
            pct(by_name, total),
            pct(no_match, total)
        ),
        format!(
            "not located: {not_located} pence ({}): no supplier match {no_match} pence ({}); \
             matched but no postcode {no_postcode} pence ({}); postcode not in the directory \
             {not_in} pence ({})",
            pct(not_located, total),
            pct(no_match, total),
            pct(no_postcode, total),
            pct(not_in, total)
        ),
    ];
    if terminated_n > 0 {
        notes.push(format!(
            "terminated postcodes used (still located, flagged): {terminated} pence ({}) in {}",
            pct(terminated, total),
            plural(terminated_n as i64, "payment")
        ));
    }
    notes
}

/// Notes for the breakdown itself: inside/outside, the most deprived 10% and 20%, the
/// private aggregate.
fn breakdown_notes(
    located: &[Located<'_>],
    breakdown: Breakdown,
    ctx: &Context,
    local: &HashMap<String, HashMap<String, u8>>,
    grouped: &Grouped,
) -> Vec<String> {
    let total = grouped.total;
    let mut notes = Vec::new();
    let areas: BTreeSet<&str> = located
        .iter()
        .filter_map(|l| l.payment.body_area.as_deref())
        .collect();
    let area_text = areas.iter().copied().collect::<Vec<_>>().join(", ");
    match breakdown {
        Breakdown::District | Breakdown::Ward => {
            if areas.is_empty() {
                notes.push(
                    "the body's own district is not recorded (ingest with --body-area), so \
                     inside/outside is not stated"
                        .into(),
                );
            } else {
                let sum = |v: Option<bool>| -> i64 {
                    grouped
                        .groups
                        .iter()
                        .filter(|(g, _)| g.class == 0 && g.inside == v)
                        .map(|(_, s)| s.net_pence)
                        .sum()
                };
                let (inside, outside) = (sum(Some(true)), sum(Some(false)));
                let rest = total - inside - outside;
                notes.push(format!(
                    "inside the body's district ({area_text}): {inside} pence ({}); outside: \
                     {outside} pence ({}); not placed in a district: {rest} pence ({})",
                    pct(inside, total),
                    pct(outside, total),
                    pct(rest, total)
                ));
            }
        }
        Breakdown::Decile | Breakdown::LocalDecile => {
            let national = |max: u8| -> i64 {
                located
                    .iter()
                    .filter(|l| {
                        l.lsoa()
                            .and_then(|c| ctx.imd.as_ref()?.lsoas.get(c))
                            .is_some_and(|x| x.1 <= max)
                    })
                    .map(|l| l.payment.net_pence)
                    .sum()
            };
            let (n10, n20) = (national(1), national(2));
            notes.push(format!(
                "in the most deprived 10% of LSOAs nationally: {n10} pence ({}); 20%: {n20} pence \
                 ({}) of the period's total",
                pct(n10, total),
                pct(n20, total)
            ));
            if areas.is_empty() {
                notes.push(
                    "the body's own district is not recorded (ingest with --body-area), so no \
                     local deciles"
                        .into(),
                );
            } else if !local.is_empty() {
                let locally = |max: u8| -> i64 {
                    located
                        .iter()
                        .filter(|l| {
                            let area = l.payment.body_area.as_ref();
                            l.lsoa()
                                .and_then(|c| local.get(area?)?.get(c))
                                .is_some_and(|d| *d <= max)
                        })
                        .map(|l| l.payment.net_pence)
                        .sum()
                };
                let (l10, l20) = (locally(1), locally(2));
                notes.push(format!(
                    "in the most deprived 10% of {area_text}'s own LSOAs (local deciles, ranked \
                     among themselves): {l10} pence ({}); 20%: {l20} pence ({}) of the period's total",
                    pct(l10, total),
                    pct(l20, total)
                ));
            }
        }
        _ => {}
    }
    if let Some((_, s)) = grouped
        .groups
        .iter()
        .find(|(g, _)| g.name == PRIVATE_PAYEES)
    {
        let one = s.redacted == 0 && s.payees.len() == 1;
        notes.push(format!(
            "{PRIVATE_PAYEES}: {}, {} pence, never named: {} not known to be organisations, {}{}",
            plural(s.payments, "payment"),
            s.net_pence,
            plural(s.payees.len() as i64, "payee"),
            plural(s.redacted, "redacted payment"),
            if one {
                "; this aggregate is a single payee's spend"
            } else {
                ""
            }
        ));
    }
    notes
}

fn answer_basis(ctx: &Context) -> Basis {
    Basis {
        datasets: ctx.basis.clone(),
        method: ctx.method.join("; "),
        fit: ctx.fit,
        bridges: Vec::new(),
    }
}

/// Spend of one period broken down by place, service, expense type, supplier or kind of payee.
///
/// Columns [`PLACE_COLUMNS`]: `group_code` (district, ward, LSOA, decile or supplier identity;
/// empty for the rows that are not one), `group_name`, `inside` (the place lies in the body's
/// own district), `payments`, `payees` (distinct; empty where redacted payments are counted),
/// `net_pence` (exact) and `share` of the period's total (a proportion). The rows sum to the
/// period's total; the notes say how payments were matched and located.
pub async fn spend_by_place(
    engine: &Engine,
    request: &SpendRequest,
    pins: &DatasetPins,
) -> Result<Answer> {
    let ctx = context(engine, request, pins).await?;
    let payments =
        load::payments(&session(), engine.warehouse(), &ctx.spend, &request.period).await?;
    if payments.is_empty() {
        return Err(QueryError::NotFound(format!(
            "{} has no payments in {}",
            request.spend,
            request.period.label()
        )));
    }
    let located = locate(&ctx, &payments);
    let (local, local_notes) = local_maps(&ctx, &payments, request.breakdown)?;
    let grouped = group_payments(&located, request.breakdown, &ctx, &local, None, request.top);
    let mut notes = location_notes(&located, &request.period.label());
    notes.extend(breakdown_notes(
        &located,
        request.breakdown,
        &ctx,
        &local,
        &grouped,
    ));
    notes.extend(local_notes);
    notes.extend(ctx.notes.iter().cloned());
    let (schema, batches) = to_batches(&PLACE_COLUMNS, &rows(&grouped))?;
    Ok(Answer {
        schema,
        batches,
        basis: answer_basis(&ctx),
        notes,
    })
}

/// The same breakdown for a financial year and each of the `baseline_years` before it, with
/// the chosen year's change against the baseline: the mean of those years (refused, naming
/// it, when any of them has no payments).
///
/// Columns [`YEAR_COLUMNS`]: the baseline years' rows first, then the chosen year's, whose
/// `baseline_pence` (mean), `change_pence` and `change_pct` (change ÷ |baseline| × 100) are
/// filled. A group absent in a year counts as zero spend that year. The `supplier`
/// breakdown names the chosen year's top N in every year, so a supplier's rows line up.
pub async fn spend_by_year(
    engine: &Engine,
    request: &SpendRequest,
    baseline_years: usize,
    pins: &DatasetPins,
) -> Result<Answer> {
    let Some(start) = request.period.start_year() else {
        return Err(QueryError::InvalidArgument(
            "a baseline needs a financial year (e.g. 2021-22), not dates".into(),
        ));
    };
    if baseline_years == 0 {
        return Err(QueryError::InvalidArgument(
            "a baseline needs at least one earlier year".into(),
        ));
    }
    let ctx = context(engine, request, pins).await?;
    let years: Vec<String> = (0..=baseline_years as i32)
        .rev()
        .map(|k| financial_year(start - k))
        .collect();
    let mut per_year = Vec::new();
    let mut missing = Vec::new();
    for fy in &years {
        let payments = load::payments(
            &session(),
            engine.warehouse(),
            &ctx.spend,
            &Period::FinancialYear(fy.clone()),
        )
        .await?;
        if payments.is_empty() {
            missing.push(fy.clone());
        }
        per_year.push(payments);
    }
    if !missing.is_empty() {
        return Err(QueryError::Precondition(format!(
            "{} has no payments in {}: a {baseline_years}-year baseline for {} needs {}",
            request.spend,
            missing.join(", "),
            request.period.label(),
            years[..baseline_years].join(", ")
        )));
    }
    let located: Vec<Vec<Located<'_>>> = per_year.iter().map(|p| locate(&ctx, p)).collect();
    let all: Vec<Payment> = per_year.iter().flatten().cloned().collect();
    let (local, local_notes) = local_maps(&ctx, &all, request.breakdown)?;
    let named: Option<HashSet<String>> = (request.breakdown == Breakdown::Supplier).then(|| {
        group_payments(
            &located[baseline_years],
            request.breakdown,
            &ctx,
            &local,
            None,
            request.top,
        )
        .groups
        .iter()
        .filter(|(g, _)| g.class == 0)
        .filter_map(|(g, _)| g.code.clone())
        .collect()
    });
    let grouped: Vec<Grouped> = located
        .iter()
        .map(|l| {
            group_payments(
                l,
                request.breakdown,
                &ctx,
                &local,
                named.as_ref(),
                request.top,
            )
        })
        .collect();
    // The baseline of a group: the mean of its spend over the baseline years (zero where a
    // year has none).
    let key = |g: &Group| (g.class, g.order, g.code.clone(), g.name.clone());
    let mut baseline: HashMap<_, i64> = HashMap::new();
    for g in &grouped[..baseline_years] {
        for (group, s) in &g.groups {
            *baseline.entry(key(group)).or_default() += s.net_pence;
        }
    }
    let n = baseline_years as f64;
    let mut out = Vec::new();
    for (fy, g) in years.iter().zip(&grouped).take(baseline_years) {
        out.extend(rows(g).into_iter().map(|row| YearRow::new(fy, row, None)));
    }
    let last = &grouped[baseline_years];
    let mut chosen_rows: Vec<(Group, Sums)> = last.groups.clone();
    // Groups of the baseline years with no spend in the chosen year still show their change.
    let present: HashSet<_> = last.groups.iter().map(|(g, _)| key(g)).collect();
    let mut absent: Vec<Group> = Vec::new();
    for g in &grouped[..baseline_years] {
        for (group, _) in &g.groups {
            if !present.contains(&key(group)) && !absent.iter().any(|a| key(a) == key(group)) {
                absent.push(group.clone());
            }
        }
    }
    chosen_rows.extend(absent.into_iter().map(|g| (g, Sums::default())));
    for (group, s) in &chosen_rows {
        let base = baseline.get(&key(group)).copied().unwrap_or(0) as f64 / n;
        let row = PlaceRow {
            group_code: group.code.clone(),
            group_name: group.name.clone(),
            inside: group.inside,
            payments: s.payments,
            payees: (s.redacted == 0).then_some(s.payees.len() as i64),
            net_pence: s.net_pence,
            share: share(s.net_pence, last.total),
        };
        out.push(YearRow::new(&request.period.label(), row, Some(base)));
    }
    let totals: Vec<String> = years
        .iter()
        .zip(&grouped)
        .map(|(fy, g)| format!("{fy}: {} pence", g.total))
        .collect();
    let base_total: i64 = grouped[..baseline_years].iter().map(|g| g.total).sum();
    let mut notes = vec![format!(
        "totals by financial year: {}; baseline (mean of {}) {:.2} pence",
        totals.join(", "),
        years[..baseline_years].join(", "),
        base_total as f64 / n
    )];
    notes.extend(location_notes(
        &located[baseline_years],
        &request.period.label(),
    ));
    notes.extend(breakdown_notes(
        &located[baseline_years],
        request.breakdown,
        &ctx,
        &local,
        last,
    ));
    notes.extend(local_notes);
    notes.extend(ctx.notes.iter().cloned());
    let (schema, batches) = to_batches(&YEAR_COLUMNS, &out)?;
    Ok(Answer {
        schema,
        batches,
        basis: answer_basis(&ctx),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supplier(key: &str, number: Option<&str>) -> Supplier {
        Supplier {
            supplier_name: key.into(),
            supplier_key: key.into(),
            company_number: number.map(String::from),
            charity_number: None,
            postcode: None,
            sme: None,
        }
    }

    fn payment(key: &str, number: Option<&str>, payee: &str) -> Payment {
        Payment {
            body_area: None,
            net_pence: 1,
            supplier_name: key.into(),
            supplier_key: key.into(),
            company_number: number.map(String::from),
            charity_number: None,
            service_area: None,
            expense_type: None,
            payee: payee.into(),
        }
    }

    #[test]
    fn company_number_first_then_name_unless_the_numbers_disagree() {
        let suppliers = vec![
            supplier("acme", Some("00000001")),
            supplier("bravo", None),
            supplier("acme", Some("00000002")),
        ];
        let ctx = Context {
            spend: serde_json::from_str(
                r#"{"manifest_format": 1, "dataset": "spend-x", "version": 1, "kind": "spend",
                    "vintage": {}, "attributes": {}, "sources": [], "schemas": [], "tables": [],
                    "fingerprint": "", "created_at": "2026-01-01T00:00:00Z", "program": "test"}"#,
            )
            .unwrap(),
            basis: BTreeMap::new(),
            method: vec![],
            fit: Fit::Exact,
            by_number: HashMap::from([("00000001".into(), 0), ("00000002".into(), 2)]),
            by_key: HashMap::from([("acme".into(), 0), ("bravo".into(), 1)]),
            suppliers,
            places: HashMap::new(),
            imd: None,
            wards: HashMap::new(),
            notes: vec![],
        };
        let check = |p: Payment, want: Match| assert_eq!(ctx.matched(&p), want);
        // The number wins over the name, even when the name's first identity differs.
        check(
            payment("acme", Some("00000002"), "organisation"),
            Match::Number(2),
        );
        // No number on the payment: by name, the first identity with that key.
        check(payment("acme", None, "organisation"), Match::Name(0));
        // A number the register does not know, and the name's identity has another one.
        check(
            payment("acme", Some("00000009"), "organisation"),
            Match::None,
        );
        // A number the register does not know, and the name's identity has none: by name.
        check(
            payment("bravo", Some("00000009"), "organisation"),
            Match::Name(1),
        );
        // A redacted payee is never matched, whatever its text.
        check(payment("bravo", None, "redacted"), Match::None);
    }
}
