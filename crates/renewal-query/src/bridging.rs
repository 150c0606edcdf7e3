//! Joining data on one LSOA vintage with a lookup, edition or selection on the other, through
//! the ONS change lookup (`bridge-lsoa11-lsoa21`, see `renewal_geo::bridge` for the rule).
//!
//! A dataset's LSOA vintage is the one its manifest records (IoD editions, lookups,
//! populations); datasets that record none (police.uk crime, observations published before
//! vintages were recorded) have it inferred from their codes: codes that exist only in 2011,
//! only in 2021, or both (a file mixing the two is refused).

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use renewal_geo::Vintage;
use renewal_geo::bridge::{Bridge, CodeSide, Moved};
use renewal_warehouse::{Manifest, Warehouse};
use serde::Serialize;

use crate::native::Part;
use crate::tables::{DatasetPins, float_column, register, resolve, session, string_column};
use crate::{QueryError, Result};

/// What a bridge did to one source of an answer: stated in the answer's basis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BridgeUse {
    /// The bridge dataset and version used.
    pub bridge: String,
    /// Its version.
    pub version: u64,
    /// The dataset whose figures were moved.
    pub dataset: String,
    /// `LSOA11`.
    pub from: String,
    /// `LSOA21`.
    pub to: String,
    /// The dataset (and version) whose populations apportioned split areas, if any were.
    pub weights: Option<String>,
    /// Share of the moved total that was apportioned rather than moved whole (0 to 1).
    pub apportioned_share: f64,
    /// Source areas apportioned.
    pub apportioned_areas: usize,
    /// Source areas the bridge does not list (left out).
    pub unknown_areas: usize,
}

impl std::fmt::Display for BridgeUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} moved {} → {} through {} v{}; {:.2}% apportioned ({} split areas){}",
            self.dataset,
            self.from,
            self.to,
            self.bridge,
            self.version,
            100.0 * self.apportioned_share,
            self.apportioned_areas,
            self.weights
                .as_ref()
                .map(|w| format!(" by {w}"))
                .unwrap_or_default()
        )
    }
}

/// Figures keyed by (LSOA code, key), with what moving them did (if they moved).
type MovedValues<K> = (HashMap<(String, K), Option<f64>>, Option<BridgeUse>);

/// The bridges in the warehouse, loaded once per question.
pub(crate) struct Bridges {
    pub loaded: Vec<(Manifest, Bridge)>,
    /// Target-vintage weights for apportioning, with their dataset label.
    pub weights: Option<(String, Vintage, HashMap<String, f64>)>,
}

impl Bridges {
    /// The LSOA vintage a dataset's codes are on: recorded in its manifest, else inferred.
    /// `None` when no bridge can tell (all codes unchanged, or no bridge in the warehouse).
    pub fn vintage_of<'a>(
        &self,
        manifest: &Manifest,
        codes: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<Option<Vintage>> {
        if let Some(v) = manifest.vintage.get("lsoa").and_then(|v| v.parse().ok()) {
            return Ok(Some(v));
        }
        for (_, b) in &self.loaded {
            match b.side_of(codes.clone()) {
                CodeSide::From => return Ok(Some(b.from)),
                CodeSide::To => return Ok(Some(b.to)),
                CodeSide::Mixed { from_only, to_only } => {
                    return Err(QueryError::Precondition(format!(
                        "dataset {} version {} mixes LSOA vintages: {from_only} exists only in {} \
                         and {to_only} only in {}; re-ingest it as two datasets",
                        manifest.dataset, manifest.version, b.from, b.to
                    )));
                }
                CodeSide::Both | CodeSide::Unknown => {}
            }
        }
        Ok(None)
    }

    /// The bridge from `from` to `to`, in whichever direction the warehouse holds it.
    pub fn between(&self, from: Vintage, to: Vintage) -> Option<(&Manifest, Bridge)> {
        self.loaded.iter().find_map(|(m, b)| {
            if b.from == from && b.to == to {
                Some((m, b.clone()))
            } else if b.from == to && b.to == from {
                Some((m, b.reversed()))
            } else {
                None
            }
        })
    }

    /// Moves one dataset's figures from its vintage to `target`. Values already on the
    /// target (or on an undetermined vintage) are returned as they are.
    pub fn to_target<K: Clone + Eq + Hash>(
        &self,
        manifest: &Manifest,
        values: HashMap<(String, K), Option<f64>>,
        target: Vintage,
        absent_is_zero: bool,
    ) -> Result<MovedValues<K>> {
        let vintage = self.vintage_of(manifest, values.keys().map(|(c, _)| c.as_str()))?;
        let Some(from) = vintage.filter(|v| *v != target) else {
            return Ok((values, None));
        };
        let (bm, bridge) = self.between(from, target).ok_or_else(|| {
            QueryError::Precondition(format!(
                "dataset {} is on {from} LSOAs and the geography asked for is on {target}; \
                 ingest the ONS {from} to {target} change lookup with `renewal ingest lookup`",
                manifest.dataset
            ))
        })?;
        let weights = self
            .weights
            .as_ref()
            .filter(|(_, v, _)| *v == target)
            .map(|(_, _, w)| w);
        let moved: Moved<K> = bridge
            .translate(&values, weights, absent_is_zero)
            .map_err(|e| {
                let hint = match &self.weights {
                    Some((label, v, _)) if *v != target => format!(
                        " (the weights named, {label}, are on {v}; name a population on {target})"
                    ),
                    Some((label, _, _)) => format!(" (the weights named, {label}, lack them)"),
                    None => format!(
                        " Name a population on {target} to apportion them by, with \
                         --bridge-weights DATASET (e.g. a Census 2021 usual-residents dataset \
                         from `renewal ingest population`)"
                    ),
                };
                QueryError::Precondition(format!(
                    "moving dataset {} from {from} to {target}: {e}.{hint}",
                    manifest.dataset
                ))
            })?;
        let used = BridgeUse {
            bridge: bm.dataset.clone(),
            version: bm.version,
            dataset: manifest.dataset.clone(),
            from: from.to_string(),
            to: target.to_string(),
            weights: (!moved.apportioned_codes.is_empty())
                .then(|| self.weights.as_ref().map(|(l, _, _)| l.clone()))
                .flatten(),
            apportioned_share: moved.apportioned_share(),
            apportioned_areas: moved.apportioned_codes.len(),
            unknown_areas: moved.unknown.len(),
        };
        Ok((moved.values, Some(used)))
    }

    /// Moves one dataset's sums, and the areas its table lists, to `target`.
    pub fn move_part(
        &self,
        part: Part,
        target: Vintage,
        absent_is_zero: bool,
    ) -> Result<(Part, Option<BridgeUse>)> {
        let (sums, used) = self.to_target(&part.manifest, part.sums, target, absent_is_zero)?;
        let areas = match used.as_ref().and_then(|u| u.from.parse().ok()) {
            Some(from) => match self.between(from, target) {
                Some((_, bridge)) => part
                    .areas
                    .iter()
                    .flat_map(|c| bridge.targets(c).unwrap_or_default().iter().cloned())
                    .collect(),
                None => part.areas,
            },
            None => part.areas,
        };
        Ok((
            Part {
                manifest: part.manifest,
                sums,
                areas,
            },
            used,
        ))
    }
}

/// The bridge datasets in the warehouse and the weights a request names, resolved to their
/// versions but not yet read: cheap enough for every question (the cache key needs the
/// versions), with the tables read only when an aggregate is built.
pub(crate) struct BridgeSources {
    bridges: Vec<Manifest>,
    /// The weights dataset, the year asked for, and the spec as given.
    weights: Option<(Manifest, Option<i32>, String)>,
}

impl BridgeSources {
    /// Resolves every bridge dataset in `datasets` and the weights named by `weights`
    /// (`DATASET` or `DATASET:YEAR`): a population dataset (persons, all ages) or an IoD
    /// edition (its total population denominator).
    pub async fn resolve(
        warehouse: &Warehouse,
        datasets: &[String],
        weights: Option<&str>,
        pins: &DatasetPins,
    ) -> Result<BridgeSources> {
        let mut bridges = Vec::new();
        for id in datasets
            .iter()
            .filter(|d| d.starts_with(renewal_warehouse::ids::BRIDGE_PREFIX))
        {
            let m = resolve(warehouse, id, pins).await?;
            if m.kind == "bridge" {
                bridges.push(m);
            }
        }
        let weights = match weights {
            Some(spec) => {
                let (id, year) = weights_spec(spec)?;
                if !datasets.iter().any(|d| d == id) {
                    return Err(QueryError::NotFound(format!(
                        "--bridge-weights {id}: no such dataset in the warehouse"
                    )));
                }
                Some((resolve(warehouse, id, pins).await?, year, spec.to_owned()))
            }
            None => None,
        };
        Ok(BridgeSources { bridges, weights })
    }

    /// No bridges at all (indicators whose native areas are not LSOAs).
    pub fn none() -> BridgeSources {
        BridgeSources {
            bridges: Vec::new(),
            weights: None,
        }
    }

    /// The datasets (and versions) bridging depends on, for cache keys.
    pub fn versions(&self) -> impl Iterator<Item = (&str, u64)> {
        self.bridges
            .iter()
            .chain(self.weights.iter().map(|(m, _, _)| m))
            .map(|m| (m.dataset.as_str(), m.version))
    }

    /// Reads the bridges' pairs and the weights.
    pub async fn load(&self, warehouse: &Warehouse) -> Result<Bridges> {
        let mut loaded = Vec::new();
        for m in &self.bridges {
            loaded.push((m.clone(), read_bridge(warehouse, m).await?));
        }
        let weights = match &self.weights {
            Some((m, year, spec)) => Some(load_weights(warehouse, m, *year, spec).await?),
            None => None,
        };
        Ok(Bridges { loaded, weights })
    }
}

async fn read_bridge(warehouse: &Warehouse, m: &Manifest) -> Result<Bridge> {
    let vintage = |k: &str| -> Result<Vintage> {
        m.vintage
            .get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                QueryError::Precondition(format!(
                    "bridge {} does not record its {k} vintage",
                    m.dataset
                ))
            })
    };
    let (from, to) = (vintage("from")?, vintage("to")?);
    let ctx = session();
    register(&ctx, warehouse, m, "bridge", "bridge").await?;
    let mut pairs = Vec::new();
    for b in ctx
        .sql("SELECT from_code, to_code FROM bridge")
        .await?
        .collect()
        .await?
    {
        let (f, t) = (string_column(&b, 0)?, string_column(&b, 1)?);
        pairs.extend(f.into_iter().zip(t).filter_map(|(f, t)| Some((f?, t?))));
    }
    Ok(Bridge::new(
        from,
        to,
        pairs.iter().map(|(f, t)| (f.as_str(), t.as_str())),
    ))
}

/// `DATASET` or `DATASET:YEAR`.
fn weights_spec(spec: &str) -> Result<(&str, Option<i32>)> {
    Ok(match spec.rsplit_once(':') {
        Some((id, y)) => (
            id,
            Some(y.parse::<i32>().map_err(|_| {
                QueryError::InvalidArgument(format!(
                    "--bridge-weights {spec:?}: the year after ':' must be a number"
                ))
            })?),
        ),
        None => (spec, None),
    })
}

async fn load_weights(
    warehouse: &Warehouse,
    m: &Manifest,
    year: Option<i32>,
    spec: &str,
) -> Result<(String, Vintage, HashMap<String, f64>)> {
    let id = m.dataset.as_str();
    let vintage: Vintage = m
        .vintage
        .get("lsoa")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            QueryError::Precondition(format!(
                "--bridge-weights {id}: the dataset does not record its LSOA vintage"
            ))
        })?;
    let ctx = session();
    let (sql, params) = match m.kind.as_str() {
        "population" => {
            register(&ctx, warehouse, m, "population", "p").await?;
            let chosen = match year {
                Some(y) => y,
                None => latest_year(&ctx).await?.ok_or_else(|| {
                    QueryError::Precondition(format!("--bridge-weights {id}: no rows"))
                })?,
            };
            (
                "SELECT lsoa_code, SUM(value) FROM p WHERE year = $1 AND sex = 'persons' \
                 AND age_band = 'all_ages' GROUP BY lsoa_code",
                vec![datafusion::scalar::ScalarValue::Int32(Some(chosen))],
            )
        }
        "iod" => {
            register(&ctx, warehouse, m, "iod", "p").await?;
            (
                "SELECT lsoa_code, SUM(value) FROM p WHERE domain = 'population_total' \
                 AND measure = 'denominator' GROUP BY lsoa_code",
                vec![],
            )
        }
        other => {
            return Err(QueryError::InvalidArgument(format!(
                "--bridge-weights {id}: a {other} dataset holds no populations (use a population \
                 dataset or an IoD edition with its File 6)"
            )));
        }
    };
    let mut df = ctx.sql(sql).await?;
    if !params.is_empty() {
        df = df.with_param_values(params)?;
    }
    let mut out = HashMap::new();
    for b in df.collect().await? {
        let (c, v) = (string_column(&b, 0)?, float_column(&b, 1)?);
        out.extend(c.into_iter().zip(v).filter_map(|(c, v)| Some((c?, v?))));
    }
    if out.is_empty() {
        return Err(QueryError::Precondition(format!(
            "--bridge-weights {spec}: the dataset has no persons, all-ages populations{}",
            year.map(|y| format!(" for {y}")).unwrap_or_default()
        )));
    }
    let label = format!(
        "{} v{}{}",
        m.dataset,
        m.version,
        year.map(|y| format!(" ({y})")).unwrap_or_default()
    );
    Ok((label, vintage, out))
}

async fn latest_year(ctx: &datafusion::prelude::SessionContext) -> Result<Option<i32>> {
    let b = ctx
        .sql("SELECT CAST(MAX(year) AS DOUBLE) FROM p")
        .await?
        .collect()
        .await?;
    Ok(b.first()
        .map(|b| float_column(b, 0))
        .transpose()?
        .and_then(|v| v.first().copied().flatten())
        .map(|y| y as i32))
}

/// The native LSOAs of `agg` that a selection made on another geography covers: `codes` are
/// on `vintage` (an IoD edition's LSOAs). Where the vintages differ, a native LSOA is selected
/// when every area it maps to on the selection's vintage is selected (an LSOA only partly in
/// the selection is left out rather than counted whole).
pub(crate) async fn select_on(
    engine: &crate::Engine,
    agg: &crate::Aggregate,
    codes: Vec<String>,
    vintage: Option<Vintage>,
    scope: &crate::Scope,
) -> Result<BTreeSet<String>> {
    let selected: BTreeSet<String> = codes.into_iter().collect();
    let (Some(native), Some(on)) = (agg.lsoa_vintage, vintage) else {
        return Ok(selected);
    };
    if native == on {
        return Ok(selected);
    }
    let datasets = engine.warehouse().datasets().await?;
    let bridges = BridgeSources::resolve(engine.warehouse(), &datasets, None, &scope.pins)
        .await?
        .load(engine.warehouse())
        .await?;
    let Some((_, bridge)) = bridges.between(native, on) else {
        return Err(QueryError::Precondition(format!(
            "the selection is on {on} LSOAs and indicator {} on {native}; ingest the ONS change \
             lookup between them with `renewal ingest lookup`",
            agg.indicator.id
        )));
    };
    let mut out = BTreeSet::new();
    let natives: BTreeSet<&String> = agg
        .members
        .iter()
        .filter(|((l, _), _)| *l == crate::AreaLevel::Lsoa)
        .map(|((_, c), _)| c)
        .collect();
    for code in natives {
        let targets = bridge.targets(code).unwrap_or_default();
        if !targets.is_empty() && targets.iter().all(|t| selected.contains(t)) {
            out.insert(code.clone());
        }
    }
    Ok(out)
}

/// The warehouse's LSOA change lookup (the first bridge dataset), for checking the codes of
/// files being ingested; `None` when it has none.
pub async fn lsoa_bridge(warehouse: &Warehouse) -> Result<Option<Bridge>> {
    let datasets = warehouse.datasets().await?;
    let bridges = BridgeSources::resolve(warehouse, &datasets, None, &DatasetPins::default())
        .await?
        .load(warehouse)
        .await?;
    Ok(bridges.loaded.into_iter().next().map(|(_, b)| b))
}
