//! ONS "Lower Layer Super Output Area (2011) to Ward (2019) Lookup in England and Wales":
//! BOM, LF line ends, an `FID` first column numbered from 1.

use crate::Output;
use crate::place::{AUTHORITIES, Place};
use crate::text::{Layout, Table};

pub(crate) const FILE: &str =
    "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv";

pub(crate) const HEADER: [&str; 7] = [
    "FID", "LSOA11CD", "LSOA11NM", "WD19CD", "WD19NM", "LAD19CD", "LAD19NM",
];

/// One row per LSOA. Like the real file, rows are not in LSOA code order (here: by authority
/// code, then ward name, then LSOA code), so readers must join by code.
pub(crate) fn file(place: &Place) -> Output {
    let mut order: Vec<usize> = (0..place.lsoas.len()).collect();
    order.sort_by_key(|&i| {
        let l = &place.lsoas[i];
        (place.authority(l).code, place.ward(l).name, &l.code)
    });
    let mut table = Table::new(&HEADER, Layout::LfAfterEach);
    for (fid, &i) in (1..).zip(&order) {
        let l = &place.lsoas[i];
        let ward = place.ward(l);
        let la = &AUTHORITIES[ward.authority];
        table.row(&[
            fid.to_string().as_str(),
            l.code.as_str(),
            l.name.as_str(),
            ward.code.as_str(),
            ward.name,
            la.code,
            la.name,
        ]);
    }
    let (text, rows) = table.finish();
    Output {
        name: FILE,
        description:
            "ONS LSOA (2011) to ward (2019) to LAD (2019) best-fit lookup layout (BOM, LF)".into(),
        rows,
        text,
        gzip: false,
    }
}
