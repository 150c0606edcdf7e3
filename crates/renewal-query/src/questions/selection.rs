//! Which areas a question pools: deprived deciles, area lists, registered neighbourhoods.

use std::collections::{BTreeSet, HashSet};

use crate::aggregate::Aggregate;
use crate::engine::{Engine, Scope};
use crate::geography::AreaLevel;
use crate::{QueryError, Result};

/// Which areas a question pools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// LSOAs in IMD deciles 1..=N of an IoD edition within the authority. `None` is the
    /// default edition (`data-schemas/editions.toml`: 2019), so `imd-decile<=2` keeps its
    /// meaning when a newer edition is ingested; `imd2025-decile<=2` names one.
    ImdDecile { max: u8, edition: Option<String> },
    /// LSOA or ward codes (a ward means all its LSOAs).
    Areas(Vec<String>),
    /// A registered custom neighbourhood.
    Neighbourhood(String),
}

impl Selection {
    /// The same selection with its edition made explicit, as stored with a target: ingesting
    /// a newer edition never changes what a registered selection means.
    pub fn pinned(&self, catalog: &renewal_schema::Catalog) -> Result<Selection> {
        Ok(match self {
            Selection::ImdDecile { max, edition } => Selection::ImdDecile {
                max: *max,
                edition: Some(
                    catalog
                        .resolve_edition(edition.as_deref())
                        .map_err(|e| QueryError::InvalidArgument(e.to_string()))?,
                ),
            },
            other => other.clone(),
        })
    }
}

impl std::str::FromStr for Selection {
    type Err = String;
    /// `imd-decile<=2`, `imd2025-decile<=2`, `imdnewest-decile<=2`,
    /// `areas:E05000001,E05000002`, `neighbourhood:ID`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(rest) = s.strip_prefix("imd")
            && let Some((edition, n)) = rest.split_once("-decile<=")
        {
            let max: u8 = n
                .parse()
                .ok()
                .filter(|d| (1..=10).contains(d))
                .ok_or_else(|| format!("{s:?}: decile must be 1 to 10"))?;
            if !edition.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(format!(
                    "{s:?}: the edition goes between imd and -decile, e.g. imd2025-decile<=2"
                ));
            }
            return Ok(Selection::ImdDecile {
                max,
                edition: (!edition.is_empty()).then(|| edition.to_owned()),
            });
        }
        if let Some(list) = s.strip_prefix("areas:") {
            let codes: Vec<String> = list
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            if codes.is_empty() {
                return Err(format!("{s:?}: no area codes"));
            }
            return Ok(Selection::Areas(codes));
        }
        if let Some(id) = s.strip_prefix("neighbourhood:") {
            return Ok(Selection::Neighbourhood(id.to_owned()));
        }
        Err(format!(
            "selection {s:?}: use imd-decile<=N (or imdEDITION-decile<=N), areas:CODE,CODE… or neighbourhood:ID"
        ))
    }
}

impl std::fmt::Display for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selection::ImdDecile { max, edition } => {
                write!(f, "imd{}-decile<={max}", edition.as_deref().unwrap_or(""))
            }
            Selection::Areas(codes) => write!(f, "areas:{}", codes.join(",")),
            Selection::Neighbourhood(id) => write!(f, "neighbourhood:{id}"),
        }
    }
}

/// The native member codes a selection covers within `authority` (England, `E92000001`:
/// within England, so `imd-decile<=1` is every English LSOA in the most deprived decile).
pub(crate) async fn resolve_selection(
    engine: &Engine,
    agg: &Aggregate,
    selection: &Selection,
    authority: &str,
    scope: &Scope,
) -> Result<BTreeSet<String>> {
    let whole = if authority == crate::ENGLAND_CODE {
        AreaLevel::England
    } else {
        AreaLevel::Lad
    };
    let in_authority: HashSet<&String> = agg
        .members
        .get(&(whole, authority.to_owned()))
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    let members_of = |level: AreaLevel, code: &str| -> Vec<String> {
        agg.members
            .get(&(level, code.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    let chosen: BTreeSet<String> = match selection {
        Selection::Neighbourhood(id) => {
            let m = members_of(AreaLevel::Neighbourhood, id);
            if m.is_empty() {
                return Err(QueryError::NotFound(format!(
                    "no neighbourhood {id:?} with areas in this indicator's geography"
                )));
            }
            m.into_iter().collect()
        }
        Selection::Areas(codes) => {
            let mut out = BTreeSet::new();
            for c in codes {
                let found = [AreaLevel::Lsoa, AreaLevel::Ward]
                    .into_iter()
                    .map(|l| members_of(l, c))
                    .find(|m| !m.is_empty())
                    .ok_or_else(|| {
                        QueryError::NotFound(format!(
                            "area {c} is not an LSOA or ward of indicator {}'s geography",
                            agg.indicator.id
                        ))
                    })?;
                out.extend(found);
            }
            out
        }
        Selection::ImdDecile { max, edition } => {
            if agg.native_level != AreaLevel::Lsoa {
                return Err(QueryError::InvalidArgument(format!(
                    "indicator {} is not LSOA-based: select its areas by list instead of IMD decile",
                    agg.indicator.id
                )));
            }
            let edition = engine
                .catalog()
                .resolve_edition(edition.as_deref())
                .map_err(|e| QueryError::InvalidArgument(e.to_string()))?;
            let (codes, vintage) =
                crate::priority::lsoas_in_deciles(engine.warehouse(), &edition, *max, &scope.pins)
                    .await?;
            crate::bridging::select_on(engine, agg, codes, vintage, scope).await?
        }
    };
    Ok(chosen
        .into_iter()
        .filter(|c| in_authority.contains(c))
        .collect())
}
