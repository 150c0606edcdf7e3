//! ONS "LAD (2024) to Community Safety Partnership (2024) to Police Force Area (2024) Lookup in
//! EW" layout: BOM, CRLF after every line, a trailing `ObjectId` numbered from 1. Both
//! fictional authorities have their own CSP and share one fictional police force area, so the
//! demo can compare each ward with its police force area (`gap --benchmark pfa`).

use crate::Output;
use crate::place::AUTHORITIES;
use crate::text::{Layout, Table};

pub(crate) const FILE: &str = "LAD_(2024)_to_CSP_(2024)_to_PFA_(2024)_Lookup_in_EW.csv";

pub(crate) const HEADER: [&str; 7] = [
    "LAD24CD", "LAD24NM", "CSP24CD", "CSP24NM", "PFA24CD", "PFA24NM", "ObjectId",
];

/// The fictional police force area, in the unused 999 series as the authorities are.
pub(crate) const SAMPLE_PFA: (&str, &str) = ("E23999001", "Renewal Vale and Brookmere");

/// The fictional CSPs, one per authority in [`AUTHORITIES`] order.
pub(crate) const SAMPLE_CSPS: [(&str, &str); 2] = [
    ("E22999001", "Renewal Vale Community Safety Partnership"),
    ("E22999002", "Brookmere Community Safety Partnership"),
];

pub(crate) fn file() -> Output {
    let mut table = Table::new(&HEADER, Layout::CrlfAfterEach);
    for (id, (la, csp)) in (1..).zip(AUTHORITIES.iter().zip(SAMPLE_CSPS)) {
        table.row(&[
            la.code,
            la.name,
            csp.0,
            csp.1,
            SAMPLE_PFA.0,
            SAMPLE_PFA.1,
            id.to_string().as_str(),
        ]);
    }
    let (text, rows) = table.finish();
    Output {
        name: FILE,
        description: "ONS LAD (2024) to CSP (2024) to police force area (2024) lookup layout (BOM, CRLF): both authorities in one police force area, for `renewal ingest parents`".into(),
        rows,
        text,
        gzip: false,
    }
}
