//! A fictional council's spending: Renewal Vale Council's "spend over £500" files for 36
//! months (April 2021 to March 2024) in Salford City Council's layout, its contract register
//! in Salford's register layout, and a postcode directory in the ONS 2025 layout that places
//! the register's suppliers in the sample's LSOAs.
//!
//! - `spend/renewal_vale_spend_over_500_YYYY-MM.csv`: exactly the shared Salford 2020-08
//!   layout: `Authority Name,Date of Payment,DocumentNo,Gross,VAT,Net,Vendor Name,Service Area,GL Description`,
//!   no BOM, LF after every line, every data row ending in a comma (a tenth, empty field the
//!   header does not name), nothing quoted, ISO dates, amounts with two decimals, refunds
//!   negative (about 2%). Payees are the [`SUPPLIERS`] and "Redacted Personal Information".
//!   Two duplicates, deliberately: the last row of 2022-03 is repeated as the first row of
//!   2022-04 (a row of an earlier file: reported, not summed twice), and one row of 2023-06 is
//!   written twice in that file (kept: a council may pay the same amount twice).
//! - `spend/renewal_vale_contract_register.csv`: Salford's 24-column register (BOM, LF), one
//!   row per contract, for most but not all of the suppliers, some spelled differently from the
//!   spend files ("Limited" for "Ltd", capitals, "and" for "&", without "The") and some
//!   postcodes written in lower case or without the space. One supplier has three contracts at
//!   two postcodes (the most frequent is its location).
//! - `geography/postcodes/renewal_sample_onspd.csv`: the ONSPD 2025 layout's key columns
//!   (quoted, CRLF, as the ONS writes it): four postcodes in every LSOA of the sample (2011
//!   code and the 2021 code of one of its pieces, so the bridge holds), the postcodes of the
//!   suppliers beyond the sample (another district, one of them in Scotland), and one
//!   terminated postcode, which a register supplier still gives.
//!
//! Suppliers sit in three rings: inside Renewal Vale (the council's own district), in
//! Brookmere next door (outside the council's boundary but in the sample, so with an IoD
//! decile), and further away (outside the sample: no decile). Most are organisations ("Ltd",
//! "CIC", "Trust", …); two are not plainly so. The amounts come from the `spend` random
//! stream; the suppliers, their places and the register never depend on the seed.

use crate::Output;
use crate::geography2021::Geography21;
use crate::place::{AUTHORITIES, Place};
use crate::rng::Rng;
use crate::text::{Layout, Table};

/// The paying body, as its files name it.
pub(crate) const COUNCIL: &str = "Renewal Vale Council";

/// One spend file per month, April 2021 to March 2024.
pub(crate) const SPEND_FILES: [&str; 36] = [
    "spend/renewal_vale_spend_over_500_2021-04.csv",
    "spend/renewal_vale_spend_over_500_2021-05.csv",
    "spend/renewal_vale_spend_over_500_2021-06.csv",
    "spend/renewal_vale_spend_over_500_2021-07.csv",
    "spend/renewal_vale_spend_over_500_2021-08.csv",
    "spend/renewal_vale_spend_over_500_2021-09.csv",
    "spend/renewal_vale_spend_over_500_2021-10.csv",
    "spend/renewal_vale_spend_over_500_2021-11.csv",
    "spend/renewal_vale_spend_over_500_2021-12.csv",
    "spend/renewal_vale_spend_over_500_2022-01.csv",
    "spend/renewal_vale_spend_over_500_2022-02.csv",
    "spend/renewal_vale_spend_over_500_2022-03.csv",
    "spend/renewal_vale_spend_over_500_2022-04.csv",
    "spend/renewal_vale_spend_over_500_2022-05.csv",
    "spend/renewal_vale_spend_over_500_2022-06.csv",
    "spend/renewal_vale_spend_over_500_2022-07.csv",
    "spend/renewal_vale_spend_over_500_2022-08.csv",
    "spend/renewal_vale_spend_over_500_2022-09.csv",
    "spend/renewal_vale_spend_over_500_2022-10.csv",
    "spend/renewal_vale_spend_over_500_2022-11.csv",
    "spend/renewal_vale_spend_over_500_2022-12.csv",
    "spend/renewal_vale_spend_over_500_2023-01.csv",
    "spend/renewal_vale_spend_over_500_2023-02.csv",
    "spend/renewal_vale_spend_over_500_2023-03.csv",
    "spend/renewal_vale_spend_over_500_2023-04.csv",
    "spend/renewal_vale_spend_over_500_2023-05.csv",
    "spend/renewal_vale_spend_over_500_2023-06.csv",
    "spend/renewal_vale_spend_over_500_2023-07.csv",
    "spend/renewal_vale_spend_over_500_2023-08.csv",
    "spend/renewal_vale_spend_over_500_2023-09.csv",
    "spend/renewal_vale_spend_over_500_2023-10.csv",
    "spend/renewal_vale_spend_over_500_2023-11.csv",
    "spend/renewal_vale_spend_over_500_2023-12.csv",
    "spend/renewal_vale_spend_over_500_2024-01.csv",
    "spend/renewal_vale_spend_over_500_2024-02.csv",
    "spend/renewal_vale_spend_over_500_2024-03.csv",
];

/// The contract register.
pub(crate) const REGISTER: &str = "spend/renewal_vale_contract_register.csv";

/// The postcode directory.
pub(crate) const ONSPD: &str = "geography/postcodes/renewal_sample_onspd.csv";

/// What the files in `spend/` are.
pub(crate) const README: &str = "spend/README.txt";

/// The month (index into [`SPEND_FILES`]) whose last row opens the next month's file again.
pub(crate) const DUPLICATED_MONTH: usize = 11;

/// The month with one row written twice within the file.
pub(crate) const REPEATED_IN_MONTH: usize = 26;

/// The spend files' header (the rows carry one more, empty, field: see the module docs).
pub(crate) const SPEND_HEADER: &str = "Authority Name,Date of Payment,DocumentNo,Gross,VAT,Net,Vendor Name,Service Area,GL Description";

/// The name the spend files give payments to individuals.
pub(crate) const REDACTED: &str = "Redacted Personal Information";

/// Salford's contract register header, all 24 columns.
pub(crate) const REGISTER_HEADER: [&str; 24] = [
    "Directorate Name",
    "Process Used",
    "Purchasing Body",
    "Contract Reference",
    "Contract Title",
    "Contract Description",
    "Supplier Company Name",
    "Supplier Postcode",
    "Annual Value",
    "Total Contract Value (including extensions)",
    "OJEU/FTS?",
    "Start Date",
    "End Date",
    "Contract Duration (months)",
    "Option to extend (months)",
    "How many extensions",
    "Extension 1 Taken?",
    "Extension 2 Taken?",
    "Current Expiry Date",
    "SME Supplier?",
    "ProClass Classification",
    "ProClass Description",
    "Company Number",
    "Visibility",
];

/// The directory's columns: the 2025 ONSPD's, in its order, those Renewal and a reader need.
pub(crate) const ONSPD_HEADER: [&str; 11] = [
    "pcd7",
    "pcd8",
    "pcds",
    "dointr",
    "doterm",
    "lad25cd",
    "wd25cd",
    "usrtypind",
    "ctry25cd",
    "lsoa11cd",
    "lsoa21cd",
];

/// Where a supplier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// In the sample LSOA (2011, index into the place's LSOAs).
    Lsoa(usize),
    /// At the `n`th place beyond the sample ([`BEYOND`]).
    Beyond(usize),
    /// The council has no address for it (not in the register).
    Unknown,
}

/// How the register writes a supplier's postcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// `RV1 2AB`.
    Canonical,
    /// `rv1 2ab`.
    Lower,
    /// `RV12AB`.
    Squeezed,
}

/// One payee of the council.
pub(crate) struct SupplierSpec {
    /// As the spend files write it.
    pub(crate) spend_name: &'static str,
    /// As the register writes it, if the register has it.
    pub(crate) register_name: Option<&'static str>,
    /// As the register writes it (Salford style: leading zeros often dropped; `N/A`, empty).
    pub(crate) company: &'static str,
    pub(crate) site: Site,
    pub(crate) spelling: Spelling,
    pub(crate) sme: &'static str,
    pub(crate) service: &'static str,
    pub(crate) expense: &'static str,
    /// VAT at 20% on top of the net amount.
    pub(crate) vat: bool,
    /// Payments a month on average, and their range in pounds.
    pub(crate) per_month: f64,
    pub(crate) pounds: (f64, f64),
}

#[allow(clippy::too_many_arguments)] // a table row, read as one
const fn supplier(
    spend_name: &'static str,
    register_name: Option<&'static str>,
    company: &'static str,
    site: Site,
    spelling: Spelling,
    sme: &'static str,
    service: &'static str,
    expense: &'static str,
    vat: bool,
    per_month: f64,
    pounds: (f64, f64),
) -> SupplierSpec {
    SupplierSpec {
        spend_name,
        register_name,
        company,
        site,
        spelling,
        sme,
        service,
        expense,
        vat,
        per_month,
        pounds,
    }
}

const ADULTS: &str = "People (Adults) - CHSC";
const CHILDREN: &str = "People (Childrens) Service Group";
const PLACE: &str = "Place Directorate";
const REFORM: &str = "Service Reform (Corp Bus & Transform)";
const HEALTH: &str = "Public Health";

use Site::{Beyond, Lsoa, Unknown};
use Spelling::{Canonical, Lower, Squeezed};

/// The LSOA (index) of the terminated postcode that [`SUPPLIERS`]' Millgate printer still gives.
pub(crate) const TERMINATED_LSOA: usize = 22;

/// The council's payees. LSOA indices: Renewal Vale's wards in order (Canal Side 0–8, Foundry
/// Park 9–16, Millgate 17–24, St Anne's 25–31, Orchard Hill 32–38, Northfield 39–45, Greenbank
/// 46–52, Highcliffe 53–59), then Brookmere's (Brookmere Town 60–67, Elm Green 68–73,
/// Wyndham 74–79).
#[rustfmt::skip] // a table: one supplier a line
pub(crate) const SUPPLIERS: [SupplierSpec; 38] = [
    // Inside Renewal Vale.
    supplier("Canal Side Community Cafe CIC", Some("Canal Side Community Cafe CIC"), "11873442", Lsoa(2), Canonical, "Yes", HEALTH, "Catering", true, 1.2, (520.0, 1800.0)),
    supplier("Foundry Park Joinery Ltd", Some("Foundry Park Joinery Limited"), "4417765", Lsoa(10), Canonical, "Yes", PLACE, "Gen Contractor Work", true, 1.5, (900.0, 7500.0)),
    supplier("Millgate Building Services Ltd", Some("MILLGATE BUILDING SERVICES LTD"), "7321094", Lsoa(18), Canonical, "Yes", PLACE, "Contractors", true, 2.0, (1500.0, 14000.0)),
    supplier("Vale Homecare Ltd", Some("Vale Homecare Limited"), "08812345", Lsoa(5), Lower, "No", ADULTS, "Payts to Agencies", false, 3.0, (2000.0, 16000.0)),
    supplier("The Canal Side Trust", Some("Canal Side Trust"), "N/A", Lsoa(0), Canonical, "Yes", CHILDREN, "Grants", false, 0.6, (1000.0, 6000.0)),
    supplier("Foundry Park Youth Club", Some("Foundry Park Youth Club"), "", Lsoa(14), Canonical, "Yes", CHILDREN, "Grants", false, 0.4, (600.0, 2500.0)),
    supplier("St Anne's Academy Trust", Some("St Anne's Academy Trust"), "9123456", Lsoa(27), Canonical, "No", CHILDREN, "Pupil Assistance", false, 1.0, (800.0, 9000.0)),
    supplier("Orchard Hill Care Home Ltd", Some("Orchard Hill Care Home Ltd"), "5566778", Lsoa(34), Canonical, "Yes", ADULTS, "Resid Care Home", false, 2.5, (2500.0, 13000.0)),
    supplier("Northfield Cleaning Services Ltd", Some("Northfield Cleaning Services Limited"), "6677889", Lsoa(41), Squeezed, "Yes", REFORM, "Cleaning", true, 1.0, (700.0, 3200.0)),
    supplier("Greenbank Garden Maintenance Ltd", Some("GREENBANK GARDEN MAINTENANCE LTD."), "10234567", Lsoa(48), Canonical, "Yes", PLACE, "Grounds Maintenance", true, 0.8, (600.0, 4000.0)),
    supplier("Highcliffe Consulting LLP", Some("Highcliffe Consulting LLP"), "OC412345", Lsoa(55), Canonical, "Yes", REFORM, "Other Prof Fees", true, 0.5, (1500.0, 9000.0)),
    supplier("Renewal Vale Housing Association", Some("Renewal Vale Housing Association"), "", Lsoa(7), Canonical, "No", PLACE, "Rents", false, 1.5, (1200.0, 20000.0)),
    supplier("Vale Taxis & Minibuses Ltd", Some("Vale Taxis and Minibuses Limited"), "3344556", Lsoa(20), Lower, "Yes", CHILDREN, "Taxi Fares", true, 2.0, (550.0, 3500.0)),
    supplier("Canal Side Credit Union Ltd", Some("Canal Side Credit Union Ltd"), "", Lsoa(4), Canonical, "Yes", HEALTH, "Grants", false, 0.3, (1000.0, 5000.0)),
    supplier("Millgate Print & Design Ltd", Some("Millgate Print and Design Ltd"), "8899001", Lsoa(TERMINATED_LSOA), Canonical, "Yes", REFORM, "Printing", true, 0.7, (520.0, 2600.0)),
    supplier("Foundry Park Family Support Group", Some("Foundry Park Family Support Group"), "", Lsoa(12), Canonical, "Yes", CHILDREN, "Payts to Agencies", false, 0.8, (700.0, 4500.0)),
    // In Brookmere: outside the council's boundary, inside the sample.
    supplier("Brookmere Town Builders Ltd", Some("Brookmere Town Builders Limited"), "7654321", Lsoa(62), Canonical, "Yes", PLACE, "Contractors", true, 1.2, (2000.0, 18000.0)),
    supplier("Elm Green Nurseries Ltd", Some("ELM GREEN NURSERIES LIMITED"), "4455667", Lsoa(70), Squeezed, "Yes", PLACE, "Materials", true, 0.8, (520.0, 2400.0)),
    supplier("Wyndham Care Services Ltd", Some("Wyndham Care Services Ltd"), "6543210", Lsoa(76), Canonical, "No", ADULTS, "Resid Care Home", false, 2.0, (3000.0, 15000.0)),
    supplier("Brookmere Community Transport CIC", Some("Brookmere Community Transport CIC"), "12345678", Lsoa(65), Canonical, "Yes", ADULTS, "Taxi Fares", false, 1.0, (600.0, 2800.0)),
    supplier("Brookmere Leisure Trust", Some("Brookmere Leisure Trust"), "", Lsoa(60), Canonical, "No", HEALTH, "Grants", false, 0.5, (2000.0, 12000.0)),
    supplier("Wyndham Office Supplies Ltd", Some("Wyndham Office Supplies Limited"), "5432109", Lsoa(78), Lower, "Yes", REFORM, "Stationery", true, 1.0, (520.0, 1900.0)),
    // Further away: outside the sample altogether.
    supplier("Northern Power Supply plc", Some("Northern Power Supply PLC"), "2366777", Beyond(0), Canonical, "No", REFORM, "Electricity", true, 1.0, (8000.0, 45000.0)),
    supplier("National Care Group Ltd", Some("National Care Group Limited"), "3898989", Beyond(1), Canonical, "No", ADULTS, "Resid Care Home", false, 2.5, (4000.0, 22000.0)),
    supplier("Civic Software Ltd", Some("CIVIC SOFTWARE LTD"), "SC412345", Beyond(2), Canonical, "No", REFORM, "Software Licences", true, 0.4, (3000.0, 40000.0)),
    supplier("Highways Maintenance Partnership Ltd", Some("Highways Maintenance Partnership Ltd"), "4987654", Beyond(3), Canonical, "No", PLACE, "Gen Contractor Work", true, 1.5, (5000.0, 60000.0)),
    supplier("Regional Recycling Services Ltd", Some("Regional Recycling Services Limited"), "6123789", Beyond(4), Canonical, "No", PLACE, "Waste Disposal", true, 1.0, (6000.0, 30000.0)),
    supplier("Harbour Residential Care Ltd", Some("Harbour Residential Care Ltd"), "7788990", Beyond(5), Canonical, "No", CHILDREN, "Pmnts Privt Provider", false, 1.5, (5000.0, 25000.0)),
    supplier("Apex Agency Staffing Ltd", Some("Apex Agency Staffing Limited"), "8123456", Beyond(6), Canonical, "No", REFORM, "Agency Staff", true, 2.0, (1500.0, 9000.0)),
    supplier("The Furniture Recycling Foundation", Some("Furniture Recycling Foundation"), "", Beyond(7), Canonical, "Yes", ADULTS, "Furniture", false, 0.8, (520.0, 3000.0)),
    // Not in the register: paid, but not located.
    supplier("Metro Fuel Cards Ltd", None, "", Unknown, Canonical, "", PLACE, "Fuel", true, 1.0, (1500.0, 6000.0)),
    supplier("Quick Fix Plumbing Ltd", None, "", Unknown, Canonical, "", PLACE, "Materials", true, 0.8, (520.0, 2500.0)),
    supplier("Castle Office Furniture Ltd", None, "", Unknown, Canonical, "", REFORM, "Furniture", true, 0.3, (900.0, 5000.0)),
    supplier("St Mark's Church", None, "", Unknown, Canonical, "", HEALTH, "Grants", false, 0.2, (600.0, 2000.0)),
    supplier("Hollins Brook Residents Association", None, "", Unknown, Canonical, "", CHILDREN, "Grants", false, 0.3, (520.0, 1500.0)),
    supplier("Renewal Vale Food Bank", None, "", Unknown, Canonical, "", HEALTH, "Grants", false, 0.5, (600.0, 3000.0)),
    // Not plainly organisations.
    supplier("J Hargreaves", None, "", Unknown, Canonical, "", REFORM, "Other Prof Fees", false, 0.3, (550.0, 1800.0)),
    supplier("Dawson Photography", None, "", Unknown, Canonical, "", REFORM, "Other Prof Fees", false, 0.2, (520.0, 1200.0)),
];

/// Places beyond the sample: (outward code, district, country, LSOA code for both vintages).
/// One is in Scotland, with Scottish codes, as the directory gives them.
pub(crate) const BEYOND: [(&str, &str, &str, &str); 9] = [
    ("ZX1", "E08999003", "E92000001", "E01999901"),
    ("ZX1", "E08999003", "E92000001", "E01999902"),
    ("ZY4", "S12999004", "S92000003", "S01999903"),
    ("ZX2", "E08999003", "E92000001", "E01999904"),
    ("ZX2", "E08999003", "E92000001", "E01999905"),
    ("ZX3", "E08999003", "E92000001", "E01999906"),
    ("ZX3", "E08999003", "E92000001", "E01999907"),
    ("ZX4", "E08999003", "E92000001", "E01999908"),
    // In the register for a contract that has had no payments yet.
    ("ZX4", "E08999003", "E92000001", "E01999909"),
];

/// Letters the ONS uses in inward codes (never C, I, K, M, O or V).
const UNIT_LETTERS: &[u8; 20] = b"ABDEFGHJLNPQRSTUWXYZ";

/// Postcodes written per LSOA of the sample.
pub(crate) const POSTCODES_PER_LSOA: usize = 4;

/// The `k`th postcode of sample LSOA `i`: outward code from the authority and ward (`RV1`–`RV8`
/// for Renewal Vale, `BK1`–`BK3` for Brookmere: no real postcode area uses either), inward
/// code unique to (i, k). `k` = [`POSTCODES_PER_LSOA`] is the terminated one.
pub(crate) fn sample_postcode(place: &Place, i: usize, k: usize) -> String {
    let lsoa = &place.lsoas[i];
    let area = if lsoa.authority == 0 { "RV" } else { "BK" };
    let first_ward = place
        .wards
        .iter()
        .position(|w| w.authority == lsoa.authority)
        .unwrap_or(0);
    let district = lsoa.ward - first_ward + 1;
    format!(
        "{area}{district} {}{}{}",
        i % 10,
        char::from(UNIT_LETTERS[i / 10]),
        char::from(UNIT_LETTERS[k])
    )
}

/// The postcode of the `n`th place beyond the sample.
pub(crate) fn beyond_postcode(n: usize) -> String {
    format!(
        "{} {}{}{}",
        BEYOND[n].0,
        n % 10,
        char::from(UNIT_LETTERS[n]),
        char::from(UNIT_LETTERS[19 - n])
    )
}

/// A supplier's postcode (canonical), if it has a site.
pub(crate) fn supplier_postcode(place: &Place, s: &SupplierSpec) -> Option<String> {
    match s.site {
        Site::Lsoa(i) if i == TERMINATED_LSOA => {
            Some(sample_postcode(place, i, POSTCODES_PER_LSOA))
        }
        Site::Lsoa(i) => Some(sample_postcode(place, i, 0)),
        Site::Beyond(n) => Some(beyond_postcode(n)),
        Site::Unknown => None,
    }
}

fn spelled(postcode: &str, spelling: Spelling) -> String {
    match spelling {
        Spelling::Canonical => postcode.to_owned(),
        Spelling::Lower => postcode.to_ascii_lowercase(),
        Spelling::Squeezed => postcode.replace(' ', ""),
    }
}

/// Pence as the files write money: `1234.56`, `-80.00`.
pub(crate) fn money(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    format!("{sign}{}.{:02}", p / 100, p % 100)
}

/// One payment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payment {
    pub(crate) date: String,
    pub(crate) document: u64,
    pub(crate) net_pence: i64,
    pub(crate) vat_pence: i64,
    pub(crate) payee: &'static str,
    pub(crate) service: &'static str,
    pub(crate) expense: &'static str,
}

impl Payment {
    fn line(&self) -> String {
        // Salford's rows end in a comma: a tenth field the header does not name.
        format!(
            "{COUNCIL},{},{},{},{},{},{},{},{},\n",
            self.date,
            self.document,
            money(self.net_pence + self.vat_pence),
            money(self.vat_pence),
            money(self.net_pence),
            self.payee,
            self.service,
            self.expense
        )
    }
}

/// (year, month) of month `m` of the series (0 = April 2021).
pub(crate) fn year_month(m: usize) -> (usize, usize) {
    let months = 2021 * 12 + 3 + m;
    (months / 12, months % 12 + 1)
}

/// Every month's payments, duplicates included, in file order.
pub(crate) fn payments(seed: u64) -> Vec<Vec<Payment>> {
    let mut rng = Rng::stream(seed, "spend");
    let mut months: Vec<Vec<Payment>> = Vec::with_capacity(SPEND_FILES.len());
    let mut document = 1_600_000_000u64;
    for m in 0..SPEND_FILES.len() {
        let (year, month) = year_month(m);
        // (day, payee order, draw) → payment, sorted by day as the council exports them.
        let mut drawn: Vec<(u32, usize, i64, i64, usize)> = Vec::new();
        let payees = SUPPLIERS.len() + 1;
        for p in 0..payees {
            let (per_month, (lo, hi), vat) = match SUPPLIERS.get(p) {
                Some(s) => (s.per_month, s.pounds, s.vat),
                None => (4.0, (500.0, 1600.0), false),
            };
            for _ in 0..rng.poisson(per_month) {
                let day = 1 + (rng.unit() * 28.0) as u32;
                let mut net = (rng.between(lo, hi) * 100.0).round() as i64 + 1;
                if rng.unit() < 0.02 {
                    // A refund or credit note: part of an earlier payment back.
                    net = -(net * 3 / 10);
                }
                let vat_pence = if vat {
                    let v = (net.abs() * 20 + 50) / 100;
                    if net < 0 { -v } else { v }
                } else {
                    0
                };
                drawn.push((day, p, net, vat_pence, drawn.len()));
            }
        }
        drawn.sort_by_key(|&(day, p, _, _, k)| (day, p, k));
        let rows = drawn
            .into_iter()
            .map(|(day, p, net, vat_pence, _)| {
                document += 1;
                let (payee, service, expense) = match SUPPLIERS.get(p) {
                    Some(s) => (s.spend_name, s.service, s.expense),
                    None => (
                        REDACTED,
                        if day % 2 == 0 { CHILDREN } else { ADULTS },
                        "Payt to care clients",
                    ),
                };
                Payment {
                    date: format!("{year:04}-{month:02}-{day:02}"),
                    document,
                    net_pence: net,
                    vat_pence,
                    payee,
                    service,
                    expense,
                }
            })
            .collect();
        months.push(rows);
    }
    // The overlap of two exports: the last payment of one month opens the next month's file.
    if let Some(last) = months[DUPLICATED_MONTH].last().cloned() {
        months[DUPLICATED_MONTH + 1].insert(0, last);
    }
    // The same payment twice in one file (kept by the ingest: identical rows of one file are
    // genuine repeat payments as far as anyone can tell).
    if let Some(row) = months[REPEATED_IN_MONTH].get(4).cloned() {
        months[REPEATED_IN_MONTH].insert(5, row);
    }
    months
}

fn spend_files(seed: u64) -> Vec<Output> {
    payments(seed)
        .into_iter()
        .zip(SPEND_FILES)
        .map(|(rows, name)| {
            let mut text = format!("{SPEND_HEADER}\n");
            for row in &rows {
                text.push_str(&row.line());
            }
            Output {
                name,
                description: "Salford spend-over-£500 layout: a month of Renewal Vale Council's payments (trailing comma, refunds negative)".into(),
                rows: rows.len(),
                text,
                gzip: false,
            }
        })
        .collect()
}

/// The directorate a service area belongs to, as the register names it.
fn directorate(service: &str) -> &'static str {
    match service {
        ADULTS | CHILDREN => "People",
        PLACE => "Place",
        HEALTH => "Public Health",
        _ => "Service Reform",
    }
}

/// The register's contracts: (supplier index or `None` for the contract without payments,
/// postcode as written, contract number). Millgate Building Services has three contracts,
/// two at its yard in Millgate (LSOA 18) and one at a depot (LSOA 23): the yard is its
/// location. Vale Homecare has two.
fn contracts(place: &Place) -> Vec<(Option<usize>, String)> {
    let mut out = Vec::new();
    for (k, s) in SUPPLIERS.iter().enumerate() {
        if s.register_name.is_none() {
            continue;
        }
        let postcode = supplier_postcode(place, s).unwrap_or_default();
        out.push((Some(k), spelled(&postcode, s.spelling)));
        if s.spend_name == "Millgate Building Services Ltd" {
            out.push((Some(k), sample_postcode(place, 23, 0)));
            out.push((Some(k), spelled(&postcode, s.spelling)));
        }
        if s.spend_name == "Vale Homecare Ltd" {
            out.push((Some(k), spelled(&postcode, s.spelling)));
        }
    }
    out.push((None, beyond_postcode(8)));
    out
}

fn register(place: &Place) -> Output {
    let mut table = Table::new(&REGISTER_HEADER, Layout::LfAfterEach);
    for (n, (supplier, postcode)) in contracts(place).into_iter().enumerate() {
        let (name, company, sme, service, expense, per_month, pounds) = match supplier {
            Some(k) => {
                let s = &SUPPLIERS[k];
                (
                    s.register_name.unwrap_or(s.spend_name),
                    s.company,
                    s.sme,
                    s.service,
                    s.expense,
                    s.per_month,
                    s.pounds,
                )
            }
            None => (
                "Riverside Surveys Ltd",
                "9345678",
                "Yes",
                PLACE,
                "Surveys",
                0.5,
                (1000.0, 3000.0),
            ),
        };
        // A year's expected spend, to the pound.
        let annual = (per_month * 12.0 * (pounds.0 + pounds.1) / 2.0).round() as i64 * 100;
        let years = 1 + n % 3;
        let total = annual * years as i64;
        let start_year = 2021 + n % 3;
        let start = format!("{start_year}-{:02}-01", 1 + n % 12);
        let end = format!("{}-{:02}-28", start_year + years, 1 + n % 12);
        let title = format!("{expense} ({})", directorate(service));
        table.row(&[
            directorate(service).to_owned(),
            ["RFQ", "Open Tender", "CSO Exception", "Framework Call-off"][n % 4].to_owned(),
            COUNCIL.to_owned(),
            format!("RV{}", 1001 + n),
            title.clone(),
            title,
            name.to_owned(),
            postcode,
            money(annual),
            money(total),
            if total > 21_393_600 { "Yes" } else { "No" }.to_owned(),
            start,
            end.clone(),
            (12 * years).to_string(),
            "0".to_owned(),
            "0".to_owned(),
            "N/A".to_owned(),
            "N/A".to_owned(),
            end,
            sme.to_owned(),
            ["231810", "391400", "101500", "352000"][n % 4].to_owned(),
            ["Surveys", "Roads", "Social Care", "Stationery"][n % 4].to_owned(),
            company.to_owned(),
            "Public".to_owned(),
        ]);
    }
    let (text, rows) = table.finish();
    Output {
        name: REGISTER,
        description: "Salford contract register layout (24 columns, BOM, LF): Renewal Vale Council's contracts, supplier postcodes and company numbers".into(),
        rows,
        text,
        gzip: false,
    }
}

/// One directory row.
struct Directory {
    pcds: String,
    dointr: &'static str,
    doterm: &'static str,
    lad: String,
    ward: String,
    country: &'static str,
    lsoa11: String,
    lsoa21: String,
}

fn directory(place: &Place, geo: &Geography21) -> Output {
    let mut rows = Vec::new();
    for (i, l) in place.lsoas.iter().enumerate() {
        let pieces: Vec<usize> = geo.pieces_of_11(i).collect();
        for k in 0..=POSTCODES_PER_LSOA {
            if k == POSTCODES_PER_LSOA && i != TERMINATED_LSOA {
                continue;
            }
            // Postcodes of a split LSOA fall in its different pieces, as real ones do.
            let piece = &geo.pieces[pieces[k % pieces.len()]];
            let l21 = &geo.lsoas[piece.lsoa21];
            rows.push(Directory {
                pcds: sample_postcode(place, i, k),
                dointr: ["198001", "199406", "200512", "201703"][(i + k) % 4],
                doterm: if k == POSTCODES_PER_LSOA {
                    "202203"
                } else {
                    ""
                },
                lad: AUTHORITIES[l.authority].code.to_owned(),
                ward: geo.wards[l21.ward].code.clone(),
                country: "E92000001",
                lsoa11: l.code.clone(),
                lsoa21: l21.code.clone(),
            });
        }
    }
    for (n, (_, lad, country, lsoa)) in BEYOND.iter().enumerate() {
        rows.push(Directory {
            pcds: beyond_postcode(n),
            dointr: "199406",
            doterm: "",
            lad: (*lad).to_owned(),
            // Scottish wards are S13, English E05.
            ward: if lad.starts_with('S') {
                format!("S13999{:03}", 901 + n)
            } else {
                format!("E05999{:03}", 901 + n)
            },
            country,
            lsoa11: (*lsoa).to_owned(),
            lsoa21: (*lsoa).to_owned(),
        });
    }
    // The directory is in postcode order.
    rows.sort_by(|a, b| a.pcds.cmp(&b.pcds));
    // The ONS quotes every field but writes the header bare, and ends every line with CRLF.
    let mut text = ONSPD_HEADER.join(",");
    text.push_str("\r\n");
    for r in &rows {
        let (outward, inward) = r.pcds.split_once(' ').unwrap_or((&r.pcds, ""));
        // pcd7 pads the outward code to four and drops the space; pcd8 pads and keeps it.
        let pcd7 = if outward.len() == 4 {
            format!("{outward}{inward}")
        } else {
            format!("{outward:<4}{inward}")
        };
        let pcd8 = format!("{outward:<4} {inward}");
        let fields = [
            pcd7.as_str(),
            &pcd8,
            &r.pcds,
            r.dointr,
            r.doterm,
            &r.lad,
            &r.ward,
            "0",
            r.country,
            &r.lsoa11,
            &r.lsoa21,
        ];
        let quoted: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
        text.push_str(&quoted.join(","));
        text.push_str("\r\n");
    }
    Output {
        name: ONSPD,
        description: "ONS Postcode Directory 2025 layout (key columns, quoted, CRLF): every sample LSOA's postcodes, the suppliers' postcodes beyond the sample, one terminated".into(),
        rows: rows.len(),
        text,
        gzip: false,
    }
}

fn readme() -> Output {
    let first = SPEND_FILES[0];
    let last = SPEND_FILES[SPEND_FILES.len() - 1];
    let dup = SPEND_FILES[DUPLICATED_MONTH];
    let next = SPEND_FILES[DUPLICATED_MONTH + 1];
    let repeat = SPEND_FILES[REPEATED_IN_MONTH];
    let text = format!(
        "Renewal sample: FICTIONAL council spending\n\
         \n\
         {COUNCIL} (E08999001) publishes every payment over 500 pounds, one file a month,\n\
         {first} to {last}, in Salford City Council's layout; its contract register gives\n\
         most suppliers' postcodes and company numbers, and\n\
         {ONSPD} (ONS Postcode Directory 2025 layout) places those postcodes in the\n\
         sample's LSOAs. Deliberate quirks: the last row of {dup} is repeated as the first\n\
         row of {next} (a duplicate across files), one row of {repeat} is written twice\n\
         (kept), refunds are negative, payments to individuals are \"{REDACTED}\".\n\
         \n    renewal ingest postcodes DIR/{ONSPD}\n\
         \n"
    );
    Output {
        name: README,
        description: "what the spend files are".into(),
        rows: 0,
        text,
        gzip: false,
    }
}

/// Every file of the family: 36 months of spend, the register, the directory, a README.
pub(crate) fn files(place: &Place, geo: &Geography21, seed: u64) -> Vec<Output> {
    let mut files = spend_files(seed);
    files.push(register(place));
    files.push(directory(place, geo));
    files.push(readme());
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use crate::{SampleScope, SampleSpec};

    fn texts(seed: u64) -> HashMap<&'static str, String> {
        crate::outputs(&SampleSpec { seed }, SampleScope::WithBoundaryChange)
            .into_iter()
            .map(|o| (o.name, o.text))
            .collect()
    }

    /// A second, simple normaliser: capitals, no spaces, one space before the last three.
    fn canonical(text: &str) -> String {
        let t: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        format!("{} {}", &t[..t.len() - 3], &t[t.len() - 3..])
    }

    /// Pence from `-1234.56`, by digits alone.
    fn pence(text: &str) -> i64 {
        let digits: i64 = text
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap();
        assert!(
            text.contains('.') && text.split('.').nth(1).unwrap().len() == 2,
            "{text}"
        );
        if text.starts_with('-') {
            -digits
        } else {
            digits
        }
    }

    fn data_lines(text: &str) -> Vec<&str> {
        text.lines().skip(1).collect()
    }

    /// Rows of a quoted or unquoted CSV without commas inside fields, by header.
    fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text.lines();
        let split = |l: &str| -> Vec<String> {
            l.split(',')
                .map(|f| f.trim_matches('"').to_owned())
                .collect()
        };
        let header = split(lines.next().unwrap());
        (header, lines.filter(|l| !l.is_empty()).map(split).collect())
    }

    #[test]
    fn spend_files_keep_the_salford_layout_exactly() {
        let t = texts(crate::DEFAULT_SEED);
        for (m, name) in SPEND_FILES.iter().enumerate() {
            let text = &t[name];
            assert!(text.starts_with(&format!("{SPEND_HEADER}\n")), "{name}");
            assert!(!text.contains(['\r', '"', '\u{feff}']), "{name}");
            assert!(text.ends_with('\n'));
            let (y, mo) = year_month(m);
            for (k, line) in data_lines(text).into_iter().enumerate() {
                let f: Vec<&str> = line.split(',').collect();
                assert_eq!(f.len(), 10, "{name}: {line}");
                assert_eq!(f[9], "", "{name}: the trailing comma");
                assert_eq!(f[0], COUNCIL);
                // The carried-over row of the duplicate is dated in the month before.
                let (y, mo) = if m == DUPLICATED_MONTH + 1 && k == 0 {
                    year_month(m - 1)
                } else {
                    (y, mo)
                };
                assert!(
                    f[1].starts_with(&format!("{y:04}-{mo:02}-")),
                    "{name}: {line}"
                );
                let (gross, vat, net) = (pence(f[3]), pence(f[4]), pence(f[5]));
                assert_eq!(gross, net + vat, "{line}");
                assert!(vat == 0 || (vat * 5 - net).abs() <= 3, "VAT at 20%: {line}");
                assert!(
                    !(0..=50_000).contains(&net),
                    "over 500 pounds, or a refund: {line}"
                );
            }
        }
    }

    #[test]
    fn the_duplicate_and_the_repeat_are_where_the_docs_say() {
        let t = texts(crate::DEFAULT_SEED);
        let last = *data_lines(&t[SPEND_FILES[DUPLICATED_MONTH]])
            .last()
            .unwrap();
        let first = data_lines(&t[SPEND_FILES[DUPLICATED_MONTH + 1]])[0];
        assert_eq!(first, last);
        // Every other document number appears once in all the files, so these two are the
        // only duplicates there are.
        let mut seen: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
        for (m, name) in SPEND_FILES.iter().enumerate() {
            for (k, line) in data_lines(&t[name]).into_iter().enumerate() {
                seen.entry(line.split(',').nth(2).unwrap())
                    .or_default()
                    .push((m, k));
            }
        }
        let twice: Vec<_> = seen.values().filter(|v| v.len() > 1).collect();
        assert_eq!(twice.len(), 2, "{twice:?}");
        assert!(twice.iter().all(|v| v.len() == 2));
        assert!(
            twice
                .iter()
                .any(|v| v[0].0 == DUPLICATED_MONTH && v[1] == (DUPLICATED_MONTH + 1, 0))
        );
        let repeat = &t[SPEND_FILES[REPEATED_IN_MONTH]];
        let lines = data_lines(repeat);
        assert!(
            lines.windows(2).any(|w| w[0] == w[1]),
            "a row written twice in one file"
        );
    }

    #[test]
    fn every_month_has_spend_and_some_refunds_and_redacted_payees_over_the_years() {
        let t = texts(crate::DEFAULT_SEED);
        let (mut rows, mut refunds, mut redacted) = (0, 0, 0);
        for name in SPEND_FILES {
            let lines = data_lines(&t[name]);
            let total: i64 = lines
                .iter()
                .map(|l| pence(l.split(',').nth(5).unwrap()))
                .sum();
            assert!(total > 0, "{name}");
            assert!(lines.len() >= 20, "{name}");
            rows += lines.len();
            refunds += lines
                .iter()
                .filter(|l| l.split(',').nth(5).unwrap().starts_with('-'))
                .count();
            redacted += lines.iter().filter(|l| l.contains(REDACTED)).count();
        }
        // About 2% refunds.
        assert!(
            refunds * 100 >= rows / 2 && refunds * 100 <= rows * 4,
            "{refunds} of {rows}"
        );
        assert!(redacted >= 36, "{redacted}");
    }

    #[test]
    fn every_register_postcode_is_in_the_directory_and_the_bridge_holds() {
        let t = texts(crate::DEFAULT_SEED);
        let (dh, dir) = table(&t[ONSPD]);
        let col = |h: &[String], n: &str| h.iter().position(|x| x == n).unwrap();
        let (pcds, l11, l21, term) = (
            col(&dh, "pcds"),
            col(&dh, "lsoa11cd"),
            col(&dh, "lsoa21cd"),
            col(&dh, "doterm"),
        );
        let directory: HashMap<&str, &Vec<String>> =
            dir.iter().map(|r| (r[pcds].as_str(), r)).collect();
        assert_eq!(directory.len(), dir.len(), "postcodes are unique");
        let (rh, reg) = table(&t[REGISTER]);
        let pc = col(&rh, "Supplier Postcode");
        assert_eq!(rh, REGISTER_HEADER);
        for r in &reg {
            assert!(
                directory.contains_key(canonical(&r[pc]).as_str()),
                "{:?}",
                r[pc]
            );
        }
        // Exactly one terminated postcode, and a register supplier still gives it.
        let terminated: Vec<&Vec<String>> = dir.iter().filter(|r| !r[term].is_empty()).collect();
        assert_eq!(terminated.len(), 1);
        assert!(reg.iter().any(|r| canonical(&r[pc]) == terminated[0][pcds]));
        // Every sample LSOA has postcodes, and each postcode's 2011 and 2021 codes are a pair
        // of the LSOA11 -> LSOA21 lookup; the others are beyond the sample.
        let (bh, bridge) = table(&t[crate::geography2021::BRIDGE]);
        let pairs: BTreeSet<(&str, &str)> = bridge
            .iter()
            .map(|r| {
                (
                    r[col(&bh, "LSOA11CD")].as_str(),
                    r[col(&bh, "LSOA21CD")].as_str(),
                )
            })
            .collect();
        let lsoa11s: BTreeSet<&str> = pairs.iter().map(|p| p.0).collect();
        let mut covered = BTreeSet::new();
        let mut beyond = 0;
        for r in &dir {
            if lsoa11s.contains(r[l11].as_str()) {
                assert!(pairs.contains(&(r[l11].as_str(), r[l21].as_str())), "{r:?}");
                covered.insert(r[l11].as_str());
            } else {
                beyond += 1;
                assert_eq!(r[l11], r[l21]);
                assert_ne!(&r[col(&dh, "lad25cd")][..9], "E08999001");
            }
        }
        assert_eq!(covered, lsoa11s);
        assert_eq!(beyond, BEYOND.len());
    }

    #[test]
    fn the_register_covers_most_suppliers_and_spells_some_differently() {
        let t = texts(crate::DEFAULT_SEED);
        // A loose equivalence, written apart from the contract's normaliser.
        let loose = |n: &str| {
            let n = n
                .to_lowercase()
                .replace('&', "and")
                .replace("limited", "ltd")
                .replace('.', "");
            n.strip_prefix("the ").map(str::to_owned).unwrap_or(n)
        };
        let (rh, reg) = table(&t[REGISTER]);
        let name = rh
            .iter()
            .position(|h| h == "Supplier Company Name")
            .unwrap();
        let exact: BTreeSet<&str> = reg.iter().map(|r| r[name].as_str()).collect();
        let register: BTreeSet<String> = reg.iter().map(|r| loose(&r[name])).collect();
        let payees: BTreeSet<&str> = SPEND_FILES
            .iter()
            .flat_map(|n| data_lines(&t[n]))
            .map(|l| l.split(',').nth(6).unwrap())
            .filter(|p| *p != REDACTED)
            .collect();
        let located = payees
            .iter()
            .filter(|p| register.contains(&loose(p)))
            .count();
        let spelled_alike = payees.iter().filter(|p| exact.contains(*p)).count();
        assert!(located >= 28, "{located} of {} payees", payees.len());
        assert!(payees.len() - located >= 6, "some spend is not located");
        assert!(
            spelled_alike + 10 <= located,
            "names differ in the ways the normaliser undoes"
        );
        // Postcodes in lower case and without the space are in the register too.
        let pc = rh.iter().position(|h| h == "Supplier Postcode").unwrap();
        assert!(
            reg.iter()
                .any(|r| r[pc].chars().any(|c| c.is_ascii_lowercase()))
        );
        assert!(reg.iter().any(|r| !r[pc].contains(' ')));
    }

    #[test]
    fn layouts_are_the_shared_real_files() {
        let Some(data) = renewal_test_support::shared_data() else {
            return;
        };
        let first_line = |rel: &str| -> String {
            let text =
                std::fs::read_to_string(renewal_test_support::shared_file(&data, rel)).unwrap();
            text.trim_start_matches('\u{feff}')
                .lines()
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            first_line("spend/salford_spend_over_500_2020-08.csv"),
            SPEND_HEADER
        );
        // The shared register's byte-order mark was itself re-encoded as UTF-8 ("ï»¿") by
        // its re-publisher; ours is a plain one, as Salford's own export has.
        let register = first_line("spend/salford_contract_register_2022-07.csv");
        assert_eq!(
            register.trim_start_matches("ï»¿"),
            REGISTER_HEADER.join(",")
        );
        // The directory's columns are the real 2025 header's, in its order.
        let real = first_line("geography/postcodes/onspd_nov2025_header_sample.csv");
        let real: Vec<&str> = real.split(',').collect();
        let at: Vec<usize> = ONSPD_HEADER
            .iter()
            .map(|h| {
                real.iter()
                    .position(|r| r == h)
                    .unwrap_or_else(|| panic!("{h}"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    }

    /// tests/reference/spend_deciles.py on the written sample: its total is the plain sum of
    /// every Net cell less the one duplicate across files, and its shares are shares.
    #[test]
    fn the_python_reference_reads_the_written_sample() {
        let dir = tempfile::tempdir().unwrap();
        crate::write_sample_scoped(
            dir.path(),
            &SampleSpec::default(),
            SampleScope::WithBoundaryChange,
        )
        .unwrap();
        let script =
            renewal_test_support::workspace_root().join("tests/reference/spend_deciles.py");
        let out = std::process::Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("python3 is needed for the reference: {e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let t = texts(crate::DEFAULT_SEED);
        let all: i64 = SPEND_FILES
            .iter()
            .flat_map(|n| data_lines(&t[n]))
            .map(|l| pence(l.split(',').nth(5).unwrap()))
            .sum();
        let dup = pence(
            data_lines(&t[SPEND_FILES[DUPLICATED_MONTH + 1]])[0]
                .split(',')
                .nth(5)
                .unwrap(),
        );
        assert_eq!(v["total_pence"].as_i64().unwrap(), all - dup);
        assert_eq!(v["duplicate_rows"].as_i64().unwrap(), 1);
        let parts = [
            "redacted_pence",
            "not_matched_pence",
            "matched_by_name_pence",
            "matched_by_company_pence",
        ];
        let sum: i64 = parts.iter().map(|k| v[k].as_i64().unwrap()).sum();
        assert_eq!(sum, all - dup);
        for k in [
            "share_of_total_decile_1",
            "share_of_total_deciles_1_2",
            "share_of_with_decile_deciles_1_2",
        ] {
            let x = v[k]["value"].as_f64().unwrap();
            assert!(x > 0.0 && x < 1.0, "{k} {x}");
        }
    }

    #[test]
    fn money_is_written_as_salford_writes_it() {
        assert_eq!(money(530146), "5301.46");
        assert_eq!(money(-8000), "-80.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(0), "0.00");
    }

    #[test]
    fn months_run_april_2021_to_march_2024() {
        assert_eq!(year_month(0), (2021, 4));
        assert_eq!(year_month(8), (2021, 12));
        assert_eq!(year_month(9), (2022, 1));
        assert_eq!(year_month(35), (2024, 3));
        for (m, name) in SPEND_FILES.iter().enumerate() {
            let (y, mo) = year_month(m);
            assert!(name.ends_with(&format!("_{y:04}-{mo:02}.csv")), "{name}");
        }
    }

    #[test]
    fn postcodes_are_unique_and_well_formed() {
        let place = Place::build(1);
        let mut all = Vec::new();
        for i in 0..place.lsoas.len() {
            for k in 0..=POSTCODES_PER_LSOA {
                all.push(sample_postcode(&place, i, k));
            }
        }
        all.extend((0..BEYOND.len()).map(beyond_postcode));
        for p in &all {
            let outward = p.split(' ').next().unwrap();
            assert!((2..=4).contains(&outward.len()), "{p}");
            let inward = p.split(' ').nth(1).unwrap().as_bytes();
            assert!(inward.len() == 3 && inward[0].is_ascii_digit(), "{p}");
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
