//! The fictional place every dataset family describes: two authorities, their wards and LSOAs
//! (2011 geography), each LSOA's underlying level of deprivation and its mid-2015 population.
//!
//! Geography is fixed; the seed only moves the figures. Families read this model and draw their
//! own noise from their own random stream, so they agree with one another (a deprived LSOA is
//! deprived in every dataset) without depending on each other's draws.

use crate::rng::{Rng, logistic, logit};

pub(crate) struct Authority {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    /// Number of the first ward code, E05 followed by six digits.
    pub(crate) first_ward: u32,
    pub(crate) wards: &'static [WardSpec],
}

pub(crate) struct WardSpec {
    pub(crate) name: &'static str,
    /// National position of the ward's typical LSOA on the IMD, 0 = most deprived end,
    /// 1 = least deprived end (0.05 is the 5th percentile).
    pub(crate) centre: f64,
    pub(crate) lsoas: usize,
    /// Rural wards lack services: worse on Barriers to Housing and Services, older populations.
    pub(crate) rural: bool,
}

const fn ward_spec(name: &'static str, centre: f64, lsoas: usize, rural: bool) -> WardSpec {
    WardSpec {
        name,
        centre,
        lsoas,
        rural,
    }
}

/// The two fictional authorities. Codes are valid in form but in the unused 999 series.
/// Renewal Vale's deprivation is deliberately uneven: Canal Side and Foundry Park sit in the
/// most deprived 5% nationally, Highcliffe in the least deprived fifth.
pub(crate) const AUTHORITIES: [Authority; 2] = [
    Authority {
        code: "E08999001",
        name: "Renewal Vale",
        first_ward: 5_999_001,
        wards: &[
            ward_spec("Canal Side", 0.02, 9, false),
            ward_spec("Foundry Park", 0.05, 8, false),
            ward_spec("Millgate", 0.12, 8, false),
            ward_spec("St Anne's", 0.30, 7, false),
            ward_spec("Orchard Hill", 0.45, 7, false),
            ward_spec("Northfield", 0.60, 7, false),
            ward_spec("Greenbank", 0.75, 7, false),
            ward_spec("Highcliffe", 0.90, 7, true),
        ],
    },
    Authority {
        code: "E07999002",
        name: "Brookmere",
        first_ward: 5_999_101,
        wards: &[
            ward_spec("Brookmere Town", 0.35, 8, false),
            ward_spec("Elm Green", 0.70, 6, true),
            ward_spec("Wyndham", 0.85, 6, true),
        ],
    },
];

/// LSOA codes are numbered on from this across both authorities, as real codes are.
const FIRST_LSOA: u32 = 1_999_001;

pub(crate) struct Ward {
    pub(crate) code: String,
    pub(crate) name: &'static str,
    pub(crate) authority: usize,
    pub(crate) rural: bool,
}

/// Mid-2015 population excluding prisoners, as IoD2019 File 6 gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Population {
    pub(crate) total: u32,
    pub(crate) children_0_15: u32,
    pub(crate) aged_16_59: u32,
    pub(crate) aged_60_plus: u32,
    /// 18–59 (women) / 18–64 (men): overlaps the groups above, not part of the total's split.
    pub(crate) working_age: u32,
}

pub(crate) struct Lsoa {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) ward: usize,
    pub(crate) authority: usize,
    /// Underlying deprivation on the logit scale of national position: negative = more
    /// deprived than the national median. `logistic(latent)` is the national position.
    pub(crate) latent: f64,
    pub(crate) population: Population,
}

pub(crate) struct Place {
    pub(crate) wards: Vec<Ward>,
    /// In LSOA code order.
    pub(crate) lsoas: Vec<Lsoa>,
}

impl Place {
    pub(crate) fn build(seed: u64) -> Place {
        let mut rng = Rng::stream(seed, "place");
        let mut wards = Vec::new();
        let mut lsoas = Vec::new();
        for (a, la) in AUTHORITIES.iter().enumerate() {
            let mut msoa = 0;
            for (w, spec) in la.wards.iter().enumerate() {
                let ward = wards.len();
                wards.push(Ward {
                    code: format!("E0{}", la.first_ward + w as u32),
                    name: spec.name,
                    authority: a,
                    rural: spec.rural,
                });
                // Split the ward into MSOAs of four or five LSOAs, named 001A, 001B, …
                let groups = spec.lsoas.div_ceil(5);
                for g in 0..groups {
                    msoa += 1;
                    let size = spec.lsoas / groups + usize::from(g < spec.lsoas % groups);
                    for k in 0..size {
                        let latent = logit(spec.centre) + 0.45 * rng.normal();
                        let population = population(&mut rng, logistic(latent), spec.rural);
                        lsoas.push(Lsoa {
                            code: format!("E0{}", FIRST_LSOA + lsoas.len() as u32),
                            name: format!("{} {msoa:03}{}", la.name, char::from(b'A' + k as u8)),
                            ward,
                            authority: a,
                            latent,
                            population,
                        });
                    }
                }
            }
        }
        Place { wards, lsoas }
    }

    pub(crate) fn authority(&self, lsoa: &Lsoa) -> &'static Authority {
        &AUTHORITIES[lsoa.authority]
    }

    pub(crate) fn ward(&self, lsoa: &Lsoa) -> &Ward {
        &self.wards[lsoa.ward]
    }
}

/// About 1,000–2,500 people; more children where deprived, more older people where affluent
/// or rural. The three age groups sum to the total exactly.
fn population(rng: &mut Rng, position: f64, rural: bool) -> Population {
    let total = rng.between(1050.0, 2450.0).round() as u32;
    let child_share = 0.15 + 0.09 * (1.0 - position) + rng.between(-0.025, 0.025);
    let older_share = 0.12 + 0.14 * position + if rural { 0.04 } else { 0.0 };
    let older_share = older_share + rng.between(-0.03, 0.03);
    let children_0_15 = (f64::from(total) * child_share).round() as u32;
    let aged_60_plus = (f64::from(total) * older_share).round() as u32;
    let aged_16_59 = total - children_0_15 - aged_60_plus;
    // Drop the 16–17s, add men of 60–64: a few per cent above the 16–59 count.
    let working_age = (f64::from(aged_16_59) * rng.between(1.03, 1.10)).round() as u32;
    Population {
        total,
        children_0_15,
        aged_16_59,
        aged_60_plus,
        working_age,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geography_is_the_documented_one() {
        let place = Place::build(1);
        assert_eq!(place.lsoas.len(), 80);
        assert_eq!(place.wards.len(), 11);
        let vale = place.lsoas.iter().filter(|l| l.authority == 0).count();
        assert_eq!(vale, 60);
        assert_eq!(place.lsoas[0].code, "E01999001");
        assert_eq!(place.lsoas[0].name, "Renewal Vale 001A");
        assert_eq!(place.lsoas[59].code, "E01999060");
        assert_eq!(place.lsoas[60].name, "Brookmere 001A");
        assert_eq!(place.wards[7].code, "E05999008");
        assert_eq!(place.wards[8].code, "E05999101");
        assert_eq!(place.wards[10].code, "E05999103");
        // Names are unique, and every LSOA's ward belongs to its authority.
        let mut names: Vec<&str> = place.lsoas.iter().map(|l| l.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 80);
        for l in &place.lsoas {
            assert_eq!(place.ward(l).authority, l.authority);
        }
    }

    #[test]
    fn populations_are_plausible() {
        for seed in 0..20 {
            for l in &Place::build(seed).lsoas {
                let p = l.population;
                assert!((1000..=2500).contains(&p.total), "{p:?}");
                assert_eq!(p.children_0_15 + p.aged_16_59 + p.aged_60_plus, p.total);
                assert!(
                    p.working_age > p.aged_16_59 && p.working_age < p.total,
                    "{p:?}"
                );
            }
        }
    }
}
