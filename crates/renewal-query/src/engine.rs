//! The query engine: indicator definitions compiled against the warehouse, aggregates cached
//! by the dataset versions they were built from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use renewal_geo::Vintage;
use renewal_schema::{Catalog, IndicatorDef, ValueType};
use renewal_warehouse::{Manifest, Warehouse};

use crate::aggregate::Aggregate;
use crate::bridging::BridgeSources;
use crate::cache::{Cache, Claim, DEFAULT_CACHE_BYTES, aggregate_bytes};
use crate::geography::{
    Lookup, Membership, candidate_lookups, candidate_parents, load_lookup, load_parents,
};
use crate::native::{combine, merge, read_parts, resolve_sources};
use crate::population::period_bases;
use crate::store::{NEIGHBOURHOODS, load_neighbourhoods};
use crate::tables::{DatasetPins, resolve};
use crate::{Basis, QueryError, Result};

/// Default disclosure threshold: counts below it are withheld (METHODS.md).
pub const DEFAULT_DISCLOSURE_THRESHOLD: f64 = 5.0;

/// What every question needs besides its own arguments.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Ward vintage to build wards in (`WD19`); `None` picks the lookup that fits the data.
    pub ward_vintage: Option<Vintage>,
    /// Dataset versions to use instead of the current ones.
    pub pins: DatasetPins,
    /// Population to apportion split LSOAs by when data must be moved between LSOA vintages:
    /// `DATASET` or `DATASET:YEAR` (a population dataset on the target vintage, or an IoD
    /// edition's File 6 population). Without it, a move that needs apportioning is refused.
    pub bridge_weights: Option<String>,
}

/// Answers questions over one warehouse. Cheap to share (`Arc<Engine>`); aggregates are built
/// once per (indicator, ward vintage, dataset versions) and reused until a version changes,
/// in a cache bounded by bytes ([`Engine::with_cache_bytes`]) that builds each missing
/// aggregate once however many requests ask for it at the same moment.
pub struct Engine {
    warehouse: Warehouse,
    catalog: Catalog,
    threshold: f64,
    cache: Cache<Arc<Aggregate>>,
}

impl Engine {
    pub fn new(warehouse: Warehouse, catalog: Catalog) -> Engine {
        Engine {
            warehouse,
            catalog,
            threshold: DEFAULT_DISCLOSURE_THRESHOLD,
            cache: Cache::new(DEFAULT_CACHE_BYTES),
        }
    }

    /// Bounds the aggregate cache to about `bytes` (estimated sizes; default 256 MiB). When a
    /// new aggregate does not fit, aggregates built from dataset versions that are no longer
    /// current go first, then the least recently used; one larger than the whole bound is
    /// answered from but not kept. Empties the cache.
    pub fn with_cache_bytes(mut self, bytes: usize) -> Engine {
        self.cache = Cache::new(bytes);
        self
    }

    /// The aggregate cache's bound, in bytes.
    pub fn cache_budget(&self) -> usize {
        self.cache.budget()
    }

    /// Estimated bytes the cached aggregates hold (never above [`Engine::cache_budget`]).
    pub fn cache_bytes(&self) -> usize {
        self.cache.bytes()
    }

    /// Aggregate builds started since the engine was made (cache misses that did the work;
    /// callers that waited for another's build are not counted).
    pub fn builds(&self) -> u64 {
        self.cache.builds()
    }

    /// Counts below `threshold` (and values derived from them) are withheld.
    pub fn with_disclosure_threshold(mut self, threshold: f64) -> Engine {
        self.threshold = threshold;
        self
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn indicators(&self) -> impl Iterator<Item = &IndicatorDef> {
        self.catalog.indicators.iter().map(|(_, d)| d)
    }

    pub fn indicator(&self, id: &str) -> Result<&IndicatorDef> {
        self.catalog.indicator(id).ok_or_else(|| {
            QueryError::NotFound(format!(
                "unknown indicator {id:?}; `renewal indicators` lists them"
            ))
        })
    }

    /// Aggregates held in the cache (for metrics and tests).
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// The indicator summed to every area and period, from the cache when the dataset
    /// versions it depends on have not changed.
    pub async fn aggregate(&self, id: &str, scope: &Scope) -> Result<Arc<Aggregate>> {
        let def = self.indicator(id)?.clone();
        // One listing serves both lookups below: this runs on every question.
        let datasets = self.warehouse.datasets().await?;
        let (num_ds, den_ds) =
            resolve_sources(&self.warehouse, &datasets, &def, &scope.pins).await?;
        let lookups = candidate_lookups(
            &self.warehouse,
            &datasets,
            def.native_geography,
            scope.ward_vintage,
            &scope.pins,
        )
        .await?;
        let neighbourhoods = if def.native_geography.is_lsoa() {
            match resolve(&self.warehouse, NEIGHBOURHOODS, &scope.pins).await {
                Ok(m) => Some(m),
                Err(QueryError::Precondition(_)) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        // Parent areas (PFA, ICB, …): every current parents dataset, one per type.
        let parent_ds = candidate_parents(&self.warehouse, &datasets, &scope.pins).await?;
        let mut pop_ds = Vec::new();
        if let Some(p) = &def.population {
            for id in datasets
                .iter()
                .filter(|d| renewal_schema::dataset_matches(&p.dataset, d))
            {
                let m = resolve(&self.warehouse, id, &scope.pins).await?;
                if m.kind == "population" {
                    pop_ds.push(m);
                }
            }
        }
        let bridge_sources = if def.native_geography.is_lsoa() {
            BridgeSources::resolve(
                &self.warehouse,
                &datasets,
                scope.bridge_weights.as_deref(),
                &scope.pins,
            )
            .await?
        } else {
            BridgeSources::none()
        };
        // Every ward vintage's lookup shapes the protection groups of disclosure control (a
        // group must sit inside one ward of each vintage), so all of them key the cache.
        let all_lookups = if def.value_type.counts() && def.native_geography.is_lsoa() {
            candidate_lookups(
                &self.warehouse,
                &datasets,
                def.native_geography,
                None,
                &scope.pins,
            )
            .await?
        } else {
            Vec::new()
        };
        let mut versions: BTreeMap<String, u64> = num_ds
            .iter()
            .chain(&den_ds)
            .chain(&lookups)
            .chain(&all_lookups)
            .chain(&neighbourhoods)
            .chain(&pop_ds)
            .chain(&parent_ds)
            .map(|m| (m.dataset.clone(), m.version))
            .collect();
        versions.extend(bridge_sources.versions().map(|(d, v)| (d.to_owned(), v)));
        let key = (
            def.id.clone(),
            scope.ward_vintage.map(|v| v.to_string()),
            scope.bridge_weights.clone(),
            versions,
        );
        // Single-flight: one caller builds a missing aggregate, the others wait for it. A
        // failed build (any `?` below drops `flight`) caches nothing.
        let flight = match self.cache.claim(&key).await {
            Claim::Hit(hit) => return Ok(hit),
            Claim::Build(flight) => flight,
        };

        let bridges = bridge_sources.load(&self.warehouse).await?;
        let num_parts = read_parts(&self.warehouse, &def.id, &def.numerator, &num_ds).await?;
        let den_parts = match &def.denominator {
            Some(d) => read_parts(&self.warehouse, &def.id, d, &den_ds).await?,
            None => Vec::new(),
        };
        let codes: std::collections::BTreeSet<&str> = num_parts
            .iter()
            .flat_map(|p| p.sums.keys().map(|(a, _)| a.as_str()))
            .collect();
        let (lookups, recorded) = recorded_ward_vintage(&def, scope, &num_parts, lookups)?;
        let lookup = self.choose_lookup(lookups, &codes, &def).await?;
        let refinement = self.refinement(&lookup, all_lookups).await?;
        // Data on another LSOA vintage than the lookup's is moved through the bridge, dataset
        // by dataset (a series may hold both: 2011-coded months before the change, 2021-coded
        // after).
        let target: Option<Vintage> = def
            .native_geography
            .is_lsoa()
            .then(|| lookup.lsoa_vintage.parse().ok())
            .flatten();
        let mut bridged = Vec::new();
        let mut bridge_parts = |parts: Vec<crate::native::Part>,
                                absent_is_zero: bool|
         -> Result<Vec<crate::native::Part>> {
            let Some(t) = target else { return Ok(parts) };
            let mut out = Vec::new();
            for p in parts {
                let (p, used) = bridges.move_part(p, t, absent_is_zero)?;
                bridged.extend(used);
                out.push(p);
            }
            Ok(out)
        };
        let num_parts = bridge_parts(num_parts, def.numerator.absent_means_zero)?;
        let den_parts = bridge_parts(den_parts, false)?;
        let (num, present) = merge(&def.id, &def.numerator, num_parts)?;
        let mut den = match &def.denominator {
            Some(d) => Some(merge(&def.id, d, den_parts)?.0),
            None => None,
        };
        let mut population_notes = Vec::new();
        if let Some(p) = &def.population
            && !pop_ds.is_empty()
        {
            let periods: Vec<String> = num
                .keys()
                .filter_map(|(_, p)| p.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let fallback_areas = den
                .as_ref()
                .map(|d| d.keys().map(|(a, _)| a.clone()).collect())
                .unwrap_or_default();
            let bases = period_bases(
                &self.warehouse,
                &def.id,
                p,
                &pop_ds,
                &bridges,
                target,
                &periods,
                &fallback_areas,
            )
            .await?;
            bridged.extend(bases.bridged);
            population_notes = bases.notes;
            den.get_or_insert_with(Default::default).extend(bases.sums);
        }
        let neighbourhoods = match &neighbourhoods {
            Some(m) => load_neighbourhoods(&self.warehouse, m).await?,
            None => Vec::new(),
        };
        let mut membership = Membership::build(def.native_geography, &lookup, &neighbourhoods);
        let mut parent_sets = Vec::new();
        for m in &parent_ds {
            parent_sets.push(load_parents(&self.warehouse, m).await?);
        }
        membership.add_parents(def.native_geography, &lookup, &parent_sets);
        let covered = def
            .numerator
            .absent_means_zero
            .then(|| membership.covered_lsoas(&present));
        let native = combine(&num, den.as_ref(), covered.as_ref());
        if native.figures.is_empty() {
            return Err(QueryError::Precondition(format!(
                "indicator {}: the datasets it reads ({}) give no rows for its definition",
                def.id,
                num_ds
                    .iter()
                    .map(|m| m.dataset.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut datasets: BTreeMap<String, u64> = num_ds
            .iter()
            .chain(&den_ds)
            .chain(&pop_ds)
            .map(|m| (m.dataset.clone(), m.version))
            .collect();
        datasets.insert(lookup.manifest.dataset.clone(), lookup.manifest.version);
        if let Some(m) = key.3.get(NEIGHBOURHOODS) {
            datasets.insert(NEIGHBOURHOODS.into(), *m);
        }
        for b in &bridged {
            datasets.insert(b.bridge.clone(), b.version);
        }
        let method = match def.native_geography {
            g if g.is_lsoa() => format!(
                "{}: {} LSOAs assigned whole to {} wards ({} v{}); areas sum numerators and denominators",
                lookup.fit,
                lookup.lsoa_vintage,
                lookup.ward_vintage,
                lookup.manifest.dataset,
                lookup.manifest.version
            ),
            _ => format!(
                "{} areas as published; wards placed in authorities by {} v{}",
                def.native_geography.as_str(),
                lookup.manifest.dataset,
                lookup.manifest.version
            ),
        };
        let fit = if def.native_geography.is_lsoa() {
            lookup.fit
        } else {
            renewal_geo::Fit::Exact
        };
        let mut notes = native.notes.clone();
        // The basis lists every move; the notes add only what was left out.
        for b in bridged.iter().filter(|b| b.unknown_areas > 0) {
            notes.push(format!(
                "{}: {} of {}'s areas are not in {} and are left out",
                def.id, b.unknown_areas, b.dataset, b.bridge
            ));
        }
        notes.extend(population_notes);
        if let Some(v) = recorded {
            notes.push(format!(
                "{}: its wards are {v} wards, as the data record (ward_vintage), so the {v} lookup places them",
                def.id
            ));
        }
        if let Some(c) = &covered {
            notes.push(format!(
                "{}: an LSOA without a row counts as zero in the {} LSOAs of the authorities the data covers",
                def.id,
                c.len()
            ));
        }
        let mut aggregate = Aggregate::build(
            def,
            native,
            &membership,
            Basis {
                datasets,
                method,
                fit,
                bridges: bridged,
            },
            notes,
        );
        aggregate.lsoa_vintage = target;
        aggregate.lookup_english_lsoas = (
            lookup
                .rows
                .iter()
                .filter(|r| r.lsoa_code.starts_with('E'))
                .count(),
            lookup.lsoa_vintage.parse().ok(),
        );
        aggregate.protect(self.threshold, &refinement);
        let aggregate = Arc::new(aggregate);
        flight.publish(aggregate.clone(), aggregate_bytes(&aggregate));
        Ok(aggregate)
    }

    /// For each LSOA of `lookup`'s LSOA vintage, the key of the smallest area every ward
    /// vintage either contains whole or misses: its authority and ward in every lookup on that
    /// vintage. Disclosure control protects small counts inside these first, so that wards of
    /// every vintage stay publishable and switching vintages reveals nothing.
    async fn refinement(
        &self,
        lookup: &Lookup,
        all: Vec<Manifest>,
    ) -> Result<HashMap<String, String>> {
        let mut keys: HashMap<String, String> = lookup
            .rows
            .iter()
            .map(|r| {
                (
                    r.lsoa_code.clone(),
                    format!("{}/{}", r.lad_code, r.ward_code),
                )
            })
            .collect();
        let mut others: Vec<Manifest> = all
            .into_iter()
            .filter(|m| m.dataset != lookup.manifest.dataset)
            .filter(|m| m.vintage.get("lsoa").map(String::as_str) == Some(&lookup.lsoa_vintage))
            .collect();
        others.sort_by(|a, b| a.dataset.cmp(&b.dataset));
        for m in others {
            let other = load_lookup(&self.warehouse, m).await?;
            for r in &other.rows {
                if let Some(k) = keys.get_mut(&r.lsoa_code) {
                    k.push('/');
                    k.push_str(&r.lad_code);
                    k.push('/');
                    k.push_str(&r.ward_code);
                }
            }
        }
        Ok(keys)
    }

    /// The lookup covering most of the data's areas; a tie between ward vintages is the
    /// caller's to settle.
    async fn choose_lookup(
        &self,
        candidates: Vec<Manifest>,
        codes: &std::collections::BTreeSet<&str>,
        def: &IndicatorDef,
    ) -> Result<Lookup> {
        let mut scored = Vec::new();
        for m in candidates {
            let lookup = load_lookup(&self.warehouse, m).await?;
            let known: std::collections::HashSet<&str> = lookup
                .rows
                .iter()
                .flat_map(|r| {
                    [
                        r.lsoa_code.as_str(),
                        r.ward_code.as_str(),
                        r.lad_code.as_str(),
                    ]
                })
                .collect();
            let hits = codes.iter().filter(|c| known.contains(*c)).count();
            scored.push((hits, lookup));
        }
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        let best = scored.first().map(|s| s.0).unwrap_or(0);
        // A lookup that knows none of the data's LSOAs joins nothing: an error, not an answer
        // whose every area is empty.
        if best == 0 && !codes.is_empty() && def.native_geography.is_lsoa() {
            let example = codes.iter().next().copied().unwrap_or_default();
            return Err(QueryError::Precondition(format!(
                "indicator {}: none of the {} LSOA codes of its data (e.g. {example}) is in {}; \
                 the data and the lookup are on different geographies",
                def.id,
                codes.len(),
                scored
                    .iter()
                    .map(|s| s.1.manifest.dataset.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let tied: Vec<String> = scored
            .iter()
            .filter(|s| s.0 == best)
            .map(|s| s.1.ward_vintage.clone())
            .collect();
        if tied.len() > 1 && def.value_type != ValueType::Value {
            return Err(QueryError::InvalidArgument(format!(
                "indicator {}: lookups to several ward vintages fit its data equally ({}); choose one with --ward-vintage",
                def.id,
                tied.join(", ")
            )));
        }
        scored
            .into_iter()
            .next()
            .map(|(_, l)| l)
            .ok_or_else(|| QueryError::Precondition("no lookup".into()))
    }
}

/// Ward-native data whose datasets record their ward vintage (the Best Value template's
/// `ward_vintage` column) are placed with a lookup of that vintage only, instead of the lookup
/// that happens to know most codes: ward codes of two vintages can coincide. Only datasets
/// that gave rows for this indicator count. A requested ward vintage other than the recorded
/// one cannot place the data, so it is refused rather than guessed at.
fn recorded_ward_vintage(
    def: &IndicatorDef,
    scope: &Scope,
    num_parts: &[crate::native::Part],
    lookups: Vec<Manifest>,
) -> Result<(Vec<Manifest>, Option<Vintage>)> {
    if def.native_geography != renewal_schema::NativeGeography::Ward {
        return Ok((lookups, None));
    }
    let recorded: std::collections::BTreeSet<&str> = num_parts
        .iter()
        .filter(|p| !p.sums.is_empty())
        .filter_map(|p| p.manifest.vintage.get("ward").map(String::as_str))
        .collect();
    let vintage = match recorded.iter().collect::<Vec<_>>().as_slice() {
        [] => return Ok((lookups, None)),
        [one] => one
            .parse::<Vintage>()
            .map_err(|e| QueryError::Precondition(format!("indicator {}: {e}", def.id)))?,
        many => {
            return Err(QueryError::Precondition(format!(
                "indicator {}: its datasets record different ward vintages ({}); pin or remove one",
                def.id,
                many.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    if let Some(asked) = scope.ward_vintage
        && asked != vintage
    {
        return Err(QueryError::InvalidArgument(format!(
            "indicator {}: its data are {vintage} wards and cannot be placed in {asked} wards",
            def.id
        )));
    }
    let fitting: Vec<Manifest> = lookups
        .into_iter()
        .filter(|m| m.vintage.get("ward").map(String::as_str) == Some(vintage.to_string().as_str()))
        .collect();
    if fitting.is_empty() {
        return Err(QueryError::Precondition(format!(
            "indicator {}: its data are {vintage} wards and the warehouse has no LSOA → {vintage} ward lookup; ingest one with `renewal ingest lookup`",
            def.id
        )));
    }
    Ok((fitting, Some(vintage)))
}
