//! The fictional place on 2021 LSOAs and 2024 wards, and the two ONS lookups that describe the
//! change: "LSOA (2011) to LSOA (2021) to Local Authority District (2022)" (one row per
//! (LSOA11, LSOA21) pair, change indicator `CHGIND`) and "LSOA (2021) to Electoral Ward (2024)
//! to LAD (2024) Best Fit". Both BOM, CRLF after every row, `ObjectId` last, as published.
//!
//! Most LSOAs are unchanged (same code and name). [`REDRAWS`] lists the others: splits (S),
//! merges (M) and one irregular redrawing (X), in both authorities, with new codes numbered on
//! from the last 2011 code (still in the unused 999 series), named as the ONS names them:
//! the same MSOA and the next free letters.
//!
//! Populations move between the geographies through *pieces*: each piece is the part of one
//! LSOA11 lying in one LSOA21 (one piece per lookup row). Every population figure is made per
//! piece, so an LSOA11's and an LSOA21's figures are sums of the same pieces and always agree
//! with the lookup. Like the rest of the geography, this never depends on the seed.

use crate::Output;
use crate::place::{AUTHORITIES, Place};
use crate::text::{Layout, Table};

/// Folder (inside the sample directory) of every file on the far side of the 2021 break, and
/// of the series across it, so the 2019-only globs of the demo (`File_*`, `*-street.csv`) keep
/// reading exactly the files they always did.
macro_rules! break_file {
    ($name:literal) => {
        concat!("boundary-change/", $name)
    };
}
pub(crate) use break_file;

pub(crate) const BRIDGE: &str = break_file!(
    "LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup_for_England_and_Wales.csv"
);
pub(crate) const WARDS: &str =
    break_file!("LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv");

pub(crate) const BRIDGE_HEADER: [&str; 8] = [
    "LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "LAD22NM", "ObjectId",
];
pub(crate) const WARDS_HEADER: [&str; 7] = [
    "LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM", "ObjectId",
];

/// The ONS change indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Unchanged: same code, same area.
    Unchanged,
    /// One LSOA11 split into several LSOA21.
    Split,
    /// Several LSOA11 merged into one LSOA21.
    Merged,
    /// Redrawn irregularly: each LSOA21 takes part of several LSOA11, and the reverse.
    Irregular,
}

impl Change {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Change::Unchanged => "U",
            Change::Split => "S",
            Change::Merged => "M",
            Change::Irregular => "X",
        }
    }
}

/// One change of geography: the LSOA11s (indices into the place's LSOAs) and the letters of
/// the LSOA21s replacing them, in the MSOA of the first LSOA11. `shares[i][j]` is the share of
/// LSOA11 `i`'s mid-2015 population living in LSOA21 `j`.
pub(crate) struct Redraw {
    pub(crate) change: Change,
    pub(crate) from: &'static [usize],
    pub(crate) letters: &'static [char],
    pub(crate) shares: &'static [&'static [f64]],
}

/// The LSOA11 index whose second part ([`REDRAWS`]' Orchard Hill split) is a new housing
/// estate: small in 2015, built out year by year, the reason the LSOA was split in 2021.
pub(crate) const ESTATE_LSOA11: usize = 34;

/// Every change of geography, in LSOA11 order. Indices: Renewal Vale 002A/002B (Canal Side,
/// 5 and 6), 004B (Foundry Park, 14), 009C (Orchard Hill, 34), 016A/016B (Highcliffe, 57 and
/// 58); Brookmere 002C (Brookmere Town, 66), 006B/006C (Wyndham, 78 and 79).
pub(crate) const REDRAWS: [Redraw; 6] = [
    Redraw {
        change: Change::Irregular,
        from: &[5, 6],
        letters: &['E', 'F'],
        shares: &[&[0.6, 0.4], &[0.3, 0.7]],
    },
    Redraw {
        change: Change::Split,
        from: &[14],
        letters: &['E', 'F'],
        shares: &[&[0.47, 0.53]],
    },
    Redraw {
        change: Change::Split,
        from: &[ESTATE_LSOA11],
        letters: &['E', 'F'],
        shares: &[&[0.8, 0.2]],
    },
    Redraw {
        change: Change::Merged,
        from: &[57, 58],
        letters: &['D'],
        shares: &[&[1.0], &[1.0]],
    },
    Redraw {
        change: Change::Split,
        from: &[66],
        letters: &['E', 'F'],
        shares: &[&[0.52, 0.48]],
    },
    Redraw {
        change: Change::Merged,
        from: &[78, 79],
        letters: &['D'],
        shares: &[&[1.0], &[1.0]],
    },
];

/// New LSOA21 codes are numbered on from the last 2011 code, as the ONS did.
const FIRST_NEW_LSOA: u32 = 1_999_081;

/// A 2024 ward: its name and the 2019 ward (index into the place's wards) it comes from.
pub(crate) struct Ward24Spec {
    pub(crate) name: &'static str,
    pub(crate) from: usize,
}

const fn ward24(name: &'static str, from: usize) -> Ward24Spec {
    Ward24Spec { name, from }
}

/// The 2024 ward review: every ward gets a new code; Greenbank, Highcliffe and Elm Green are
/// renamed; Northfield is split, its second MSOA (LSOA11 index [`HOLLINS_BROOK_FROM`] on)
/// becoming Hollins Brook. Renewal Vale has 9 wards, Brookmere 3.
pub(crate) const WARDS_2024: [&[Ward24Spec]; 2] = [
    &[
        ward24("Canal Side", 0),
        ward24("Foundry Park", 1),
        ward24("Millgate", 2),
        ward24("St Anne's", 3),
        ward24("Orchard Hill", 4),
        ward24("Northfield", 5),
        ward24("Hollins Brook", 5),
        ward24("Greenbank Village", 6),
        ward24("Highcliffe and Moor", 7),
    ],
    &[
        ward24("Brookmere Town", 8),
        ward24("Elm Green and Ashby", 9),
        ward24("Wyndham", 10),
    ],
];

/// Northfield's LSOA11s from this index on (its MSOA 012) form Hollins Brook.
const HOLLINS_BROOK_FROM: usize = 43;

/// First 2024 ward code number of each authority (E05 followed by six digits).
const FIRST_WARD_24: [u32; 2] = [5_999_201, 5_999_301];

pub(crate) struct Ward24 {
    pub(crate) code: String,
    pub(crate) name: &'static str,
    pub(crate) authority: usize,
    /// The 2019 ward it comes from (index into the place's wards).
    pub(crate) from: usize,
}

pub(crate) struct Lsoa21 {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) authority: usize,
    /// Index into [`Geography21::wards`].
    pub(crate) ward: usize,
    pub(crate) change: Change,
}

/// The part of one LSOA11 in one LSOA21.
pub(crate) struct Piece {
    pub(crate) lsoa11: usize,
    pub(crate) lsoa21: usize,
    /// Share of the LSOA11's mid-2015 population.
    pub(crate) share: f64,
    /// The new estate: grows by building, not by the LSOA's own rate.
    pub(crate) estate: bool,
}

pub(crate) struct Geography21 {
    /// In LSOA21 code order.
    pub(crate) lsoas: Vec<Lsoa21>,
    pub(crate) wards: Vec<Ward24>,
    /// In LSOA11 order, then LSOA21 order.
    pub(crate) pieces: Vec<Piece>,
}

impl Geography21 {
    pub(crate) fn build(place: &Place) -> Geography21 {
        let mut wards = Vec::new();
        let mut ward_of_19 = vec![Vec::new(); place.wards.len()];
        for (a, specs) in WARDS_2024.iter().enumerate() {
            for (k, spec) in specs.iter().enumerate() {
                ward_of_19[spec.from].push(wards.len());
                wards.push(Ward24 {
                    code: format!("E0{}", FIRST_WARD_24[a] + k as u32),
                    name: spec.name,
                    authority: a,
                    from: spec.from,
                });
            }
        }
        // The 2024 ward of an LSOA11's area: its 2019 ward's successor, the second of two
        // for the split ward.
        let ward24_of = |i: usize| {
            let successors = &ward_of_19[place.lsoas[i].ward];
            if successors.len() > 1 && i >= HOLLINS_BROOK_FROM {
                successors[1]
            } else {
                successors[0]
            }
        };
        // (code, name, authority, ward, change) per LSOA21, and (lsoa11, lsoa21 code, share,
        // estate) per piece.
        let mut lsoas: Vec<Lsoa21> = Vec::new();
        let mut pieces: Vec<(usize, String, f64, bool)> = Vec::new();
        let mut next_code = FIRST_NEW_LSOA;
        // The codes each redraw created, made when its first LSOA11 comes up.
        let mut made: Vec<Vec<String>> = vec![Vec::new(); REDRAWS.len()];
        for (i, l) in place.lsoas.iter().enumerate() {
            match REDRAWS.iter().position(|r| r.from.contains(&i)) {
                None => {
                    lsoas.push(Lsoa21 {
                        code: l.code.clone(),
                        name: l.name.clone(),
                        authority: l.authority,
                        ward: ward24_of(i),
                        change: Change::Unchanged,
                    });
                    pieces.push((i, l.code.clone(), 1.0, false));
                }
                Some(r) => {
                    let redraw = &REDRAWS[r];
                    let first = redraw.from[0];
                    if made[r].is_empty() {
                        let msoa = &place.lsoas[first].name;
                        let stem = &msoa[..msoa.len() - 1];
                        for &letter in redraw.letters {
                            let code = format!("E0{next_code}");
                            next_code += 1;
                            made[r].push(code.clone());
                            lsoas.push(Lsoa21 {
                                code,
                                name: format!("{stem}{letter}"),
                                authority: l.authority,
                                ward: ward24_of(first),
                                change: redraw.change,
                            });
                        }
                    }
                    let at = redraw.from.iter().position(|&f| f == i).unwrap_or(0);
                    for (j, code) in made[r].iter().enumerate() {
                        let estate = i == ESTATE_LSOA11 && j == 1;
                        pieces.push((i, code.clone(), redraw.shares[at][j], estate));
                    }
                }
            }
        }
        lsoas.sort_by(|a, b| a.code.cmp(&b.code));
        let index = |code: &str| {
            lsoas
                .iter()
                .position(|l| l.code == code)
                .expect("every piece's LSOA21 was made above")
        };
        let pieces = pieces
            .into_iter()
            .map(|(lsoa11, code, share, estate)| Piece {
                lsoa11,
                lsoa21: index(&code),
                share,
                estate,
            })
            .collect();
        Geography21 {
            lsoas,
            wards,
            pieces,
        }
    }

    /// The pieces making up LSOA11 `i`.
    pub(crate) fn pieces_of_11(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.pieces.len()).filter(move |&p| self.pieces[p].lsoa11 == i)
    }

    /// The pieces making up LSOA21 `j`.
    pub(crate) fn pieces_of_21(&self, j: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.pieces.len()).filter(move |&p| self.pieces[p].lsoa21 == j)
    }
}

/// The LSOA11 → LSOA21 lookup, ordered as the ONS file is: by district code, then LSOA11 code,
/// then LSOA21 code. LAD22 codes are the districts' own (no district changed).
pub(crate) fn bridge(place: &Place, geo: &Geography21) -> Output {
    let mut order: Vec<usize> = (0..geo.pieces.len()).collect();
    order.sort_by_key(|&p| {
        let piece = &geo.pieces[p];
        let l = &place.lsoas[piece.lsoa11];
        (
            place.authority(l).code,
            &l.code,
            &geo.lsoas[piece.lsoa21].code,
        )
    });
    let mut table = Table::new(&BRIDGE_HEADER, Layout::CrlfAfterEach);
    for (object_id, &p) in (1..).zip(&order) {
        let piece = &geo.pieces[p];
        let (l11, l21) = (&place.lsoas[piece.lsoa11], &geo.lsoas[piece.lsoa21]);
        let la = place.authority(l11);
        table.row(&[
            l11.code.as_str(),
            l11.name.as_str(),
            l21.code.as_str(),
            l21.name.as_str(),
            l21.change.code(),
            la.code,
            la.name,
            &object_id.to_string(),
        ]);
    }
    let (text, rows) = table.finish();
    Output {
        name: BRIDGE,
        description: "ONS LSOA (2011) to LSOA (2021) to LAD (2022) lookup layout, one row per \
                      pair, CHGIND U/S/M/X (BOM, CRLF)"
            .into(),
        rows,
        text,
        gzip: false,
    }
}

/// The LSOA21 → 2024 ward best-fit lookup, ordered by district, ward code, then LSOA21 code.
/// LAD24 codes equal the 2019 district codes.
pub(crate) fn wards(geo: &Geography21) -> Output {
    let mut order: Vec<usize> = (0..geo.lsoas.len()).collect();
    order.sort_by_key(|&j| {
        let l = &geo.lsoas[j];
        (
            AUTHORITIES[l.authority].code,
            &geo.wards[l.ward].code,
            &l.code,
        )
    });
    let mut table = Table::new(&WARDS_HEADER, Layout::CrlfAfterEach);
    for (object_id, &j) in (1..).zip(&order) {
        let l = &geo.lsoas[j];
        let ward = &geo.wards[l.ward];
        let la = &AUTHORITIES[ward.authority];
        table.row(&[
            l.code.as_str(),
            l.name.as_str(),
            ward.code.as_str(),
            ward.name,
            la.code,
            la.name,
            &object_id.to_string(),
        ]);
    }
    let (text, rows) = table.finish();
    Output {
        name: WARDS,
        description: "ONS LSOA (2021) to electoral ward (2024) to LAD (2024) best-fit lookup \
                      layout (BOM, CRLF)"
            .into(),
        rows,
        text,
        gzip: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redraws_name_the_documented_lsoas() {
        let place = Place::build(1);
        let name = |i: usize| place.lsoas[i].name.as_str();
        assert_eq!(
            (name(5), name(6)),
            ("Renewal Vale 002A", "Renewal Vale 002B")
        );
        assert_eq!(name(14), "Renewal Vale 004B");
        assert_eq!(name(ESTATE_LSOA11), "Renewal Vale 009C");
        assert_eq!(
            (name(57), name(58)),
            ("Renewal Vale 016A", "Renewal Vale 016B")
        );
        assert_eq!(name(66), "Brookmere 002C");
        assert_eq!((name(78), name(79)), ("Brookmere 006B", "Brookmere 006C"));
        // Hollins Brook starts at Northfield's second MSOA.
        assert_eq!(
            place.wards[place.lsoas[HOLLINS_BROOK_FROM].ward].name,
            "Northfield"
        );
        assert_eq!(name(HOLLINS_BROOK_FROM), "Renewal Vale 012A");
        assert_eq!(
            place.wards[place.lsoas[HOLLINS_BROOK_FROM - 1].ward].name,
            "Northfield"
        );
        // Each LSOA11's shares sum to one; letters are new in the MSOA.
        for r in &REDRAWS {
            for shares in r.shares {
                assert_eq!(shares.len(), r.letters.len());
                assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
        let geo = Geography21::build(&place);
        let mut names: Vec<&str> = geo.lsoas.iter().map(|l| l.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), geo.lsoas.len(), "LSOA21 names are unique");
        assert_eq!(geo.lsoas.len(), 81);
        assert_eq!(geo.wards.len(), 12);
    }
}
