//! What partners register — custom neighbourhoods and gap targets — kept in the warehouse as
//! ordinary versioned datasets, so they have history, provenance and the same atomic switch.
//!
//! Every registration has an owner: the partner (API key name) that made it, `local` for the
//! CLI on the warehouse's own machine, `developer` for the server in development mode. Only
//! its owner may replace or delete a registration; anyone whose scopes allow may read it.
//! Registrations written before owners were recorded (no `owner` column or field, or an empty
//! one) read as owned by [`LEGACY_OWNER`], so they stay readable and only the CLI changes them.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use renewal_warehouse::{Draft, DraftTable, Manifest, PublishOptions, Published, Warehouse};
use serde::{Deserialize, Serialize};

use crate::geography::Neighbourhood;
use crate::tables::{register, session, string_column};
use crate::{QueryError, Result};

pub const NEIGHBOURHOODS: &str = "neighbourhoods";
pub const TARGETS: &str = "targets";

/// The owner of registrations that record none (older datasets): the local CLI's.
pub const LEGACY_OWNER: &str = "local";

fn legacy_owner() -> String {
    LEGACY_OWNER.to_owned()
}

/// An empty owner (never written by this code, but possible in older datasets) is the CLI's.
fn owner_or_legacy(owner: String) -> String {
    if owner.trim().is_empty() {
        legacy_owner()
    } else {
        owner
    }
}

/// "Reduce the gap between `selection` and its authority on `indicator` to
/// `fraction_remaining` of its baseline size between `baseline_period` and `target_period`."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub indicator: String,
    /// Which areas: `neighbourhood:ID`, `areas:CODE,CODE…`, or `imd-decile<=N`.
    pub selection: String,
    pub authority: String,
    pub baseline_period: String,
    pub target_period: String,
    /// 0.5 halves the gap.
    pub fraction_remaining: f64,
    pub ward_vintage: Option<String>,
    /// Who registered it; targets stored before owners were recorded read as [`LEGACY_OWNER`].
    #[serde(default = "legacy_owner")]
    pub owner: String,
    /// Registered against England as a whole instead of the selection's authority. A national
    /// target (authority `E92000001`) is against England either way: ask
    /// [`Target::measured_against_england`]. Targets stored before this existed read `false`.
    #[serde(default)]
    pub against_england: bool,
}

impl Target {
    /// Whether the target's gap is measured against England as a whole: registered so, or
    /// national.
    pub fn measured_against_england(&self) -> bool {
        self.against_england || crate::authority_code(&self.authority) == crate::ENGLAND_CODE
    }
}

pub(crate) async fn load_neighbourhoods(
    warehouse: &Warehouse,
    manifest: &Manifest,
) -> Result<Vec<Neighbourhood>> {
    let ctx = session();
    register(&ctx, warehouse, manifest, "members", "members").await?;
    // Older versions have no owner column: their neighbourhoods are the CLI's.
    let has_owner = ctx
        .table("members")
        .await?
        .schema()
        .has_column_with_unqualified_name("owner");
    let owner = if has_owner {
        "owner".to_owned()
    } else {
        format!("'{LEGACY_OWNER}' AS owner")
    };
    let batches = ctx
        .sql(&format!(
            "SELECT neighbourhood_id, name, {owner}, lsoa_code FROM members ORDER BY neighbourhood_id, lsoa_code"
        ))
        .await?
        .collect()
        .await?;
    let mut by_id: BTreeMap<String, Neighbourhood> = BTreeMap::new();
    for b in &batches {
        let col = |i| -> Result<Vec<String>> {
            Ok(string_column(b, i)?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect())
        };
        let (ids, names, owners, lsoas) = (col(0)?, col(1)?, col(2)?, col(3)?);
        for (((id, name), owner), lsoa) in ids.into_iter().zip(names).zip(owners).zip(lsoas) {
            by_id
                .entry(id.clone())
                .or_insert_with(|| Neighbourhood {
                    id,
                    name,
                    owner: owner_or_legacy(owner),
                    lsoas: Vec::new(),
                })
                .lsoas
                .push(lsoa);
        }
    }
    Ok(by_id.into_values().collect())
}

/// Every registered neighbourhood (current version).
pub async fn neighbourhoods(warehouse: &Warehouse) -> Result<Vec<Neighbourhood>> {
    let current = warehouse.current(NEIGHBOURHOODS).await?.map(|m| m.version);
    neighbourhoods_at(warehouse, current).await
}

async fn neighbourhoods_at(
    warehouse: &Warehouse,
    version: Option<u64>,
) -> Result<Vec<Neighbourhood>> {
    match version {
        Some(v) => {
            let m = warehouse.manifest(NEIGHBOURHOODS, Some(v)).await?;
            load_neighbourhoods(warehouse, &m).await
        }
        None => Ok(Vec::new()),
    }
}

/// Publishing a registry read at version `base` can race another registration; so a write
/// is published only as `base + 1` (compare-and-swap), and when another got there first it
/// is redone on the newer version. No registration is lost.
const REGISTRY_ATTEMPTS: usize = 20;

/// Versions of a registry kept.
const REGISTRY_VERSIONS_KEPT: usize = 1000;

/// Adds a neighbourhood, or replaces one `n.owner` owns, publishing a new version of the
/// `neighbourhoods` dataset. An id owned by another partner is refused (PermissionDenied).
pub async fn register_neighbourhood(warehouse: &Warehouse, n: Neighbourhood) -> Result<u64> {
    check_id("neighbourhood", &n.id)?;
    if n.lsoas.is_empty() {
        return Err(QueryError::InvalidArgument(
            "a neighbourhood needs at least one LSOA".into(),
        ));
    }
    for l in &n.lsoas {
        renewal_geo::validate_code(renewal_geo::Level::Lsoa, l)
            .map_err(|e| QueryError::InvalidArgument(format!("lsoas: {e}")))?;
    }
    let n = Neighbourhood {
        owner: owner_or_legacy(n.owner),
        ..n
    };
    let mut base = warehouse.current(NEIGHBOURHOODS).await?.map(|m| m.version);
    for _ in 0..REGISTRY_ATTEMPTS {
        // Ownership is checked against the very version the write is built on, so a
        // concurrent registration by another partner cannot slip in between check and publish.
        let mut all = neighbourhoods_at(warehouse, base).await?;
        if let Some(existing) = all.iter().find(|o| o.id == n.id) {
            owned_by("neighbourhood", &existing.id, &existing.owner, &n.owner)?;
        }
        all.retain(|o| o.id != n.id);
        all.push(n.clone());
        match publish_neighbourhoods(warehouse, all, base).await? {
            Landed::Done(version) => return Ok(version),
            Landed::Overtaken(current) => base = Some(current),
        }
    }
    Err(too_busy(NEIGHBOURHOODS))
}

/// Deletes neighbourhood `id`, which `owner` must own, through the same compare-and-swap
/// publish as registration. Refused while a registered target selects it, so no target is
/// left pointing at nothing.
pub async fn delete_neighbourhood(warehouse: &Warehouse, id: &str, owner: &str) -> Result<u64> {
    let mut base = warehouse.current(NEIGHBOURHOODS).await?.map(|m| m.version);
    for _ in 0..REGISTRY_ATTEMPTS {
        let mut all = neighbourhoods_at(warehouse, base).await?;
        let existing = all
            .iter()
            .find(|o| o.id == id)
            .ok_or_else(|| QueryError::NotFound(format!("no neighbourhood {id:?}")))?;
        owned_by("neighbourhood", id, &existing.owner, owner)?;
        let selection = format!("neighbourhood:{id}");
        let users: Vec<String> = targets(warehouse)
            .await?
            .into_iter()
            .filter(|t| t.selection == selection)
            .map(|t| t.id)
            .collect();
        if !users.is_empty() {
            return Err(QueryError::Precondition(format!(
                "neighbourhood {id:?} is the selection of target(s) {}: delete them first",
                users.join(", ")
            )));
        }
        all.retain(|o| o.id != id);
        match publish_neighbourhoods(warehouse, all, base).await? {
            Landed::Done(version) => return Ok(version),
            Landed::Overtaken(current) => base = Some(current),
        }
    }
    Err(too_busy(NEIGHBOURHOODS))
}

async fn publish_neighbourhoods(
    warehouse: &Warehouse,
    mut all: Vec<Neighbourhood>,
    base: Option<u64>,
) -> Result<Landed> {
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let mut cols: [Vec<String>; 4] = Default::default();
    for n in &all {
        for l in &n.lsoas {
            cols[0].push(n.id.clone());
            cols[1].push(n.name.clone());
            cols[2].push(n.owner.clone());
            cols[3].push(l.clone());
        }
    }
    let names = ["neighbourhood_id", "name", "owner", "lsoa_code"];
    let batch = strings_batch(&names, cols)?;
    publish(warehouse, NEIGHBOURHOODS, "members", batch, &all, base).await
}

fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(QueryError::InvalidArgument(format!(
            "{what} id {id:?}: use letters, digits and '-'"
        )));
    }
    Ok(())
}

/// Refuses a change to `id` (owned by `owner`) by anyone else.
fn owned_by(what: &str, id: &str, owner: &str, caller: &str) -> Result<()> {
    if owner == caller {
        Ok(())
    } else {
        Err(QueryError::PermissionDenied(format!(
            "{what} {id:?} belongs to {owner:?}; {caller:?} may not change or delete it"
        )))
    }
}

fn too_busy(dataset: &str) -> QueryError {
    QueryError::Precondition(format!(
        "{dataset}: too many registrations at once; try again"
    ))
}

/// Every registered target (current version).
pub async fn targets(warehouse: &Warehouse) -> Result<Vec<Target>> {
    let current = warehouse.current(TARGETS).await?.map(|m| m.version);
    targets_at(warehouse, current).await
}

async fn targets_at(warehouse: &Warehouse, version: Option<u64>) -> Result<Vec<Target>> {
    let Some(version) = version else {
        return Ok(Vec::new());
    };
    let m = warehouse.manifest(TARGETS, Some(version)).await?;
    let ctx = session();
    register(&ctx, warehouse, &m, "targets", "targets").await?;
    let batches = ctx
        .sql("SELECT definition FROM targets ORDER BY id")
        .await?
        .collect()
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        for text in string_column(b, 0)? {
            let t: Target = serde_json::from_str(&text.unwrap_or_default()).map_err(|e| {
                QueryError::Precondition(format!("targets dataset has a bad row: {e}"))
            })?;
            out.push(Target {
                owner: owner_or_legacy(t.owner.clone()),
                ..t
            });
        }
    }
    Ok(out)
}

/// Adds a target, or replaces one `t.owner` owns; an id owned by another partner is refused
/// (PermissionDenied).
pub async fn register_target(warehouse: &Warehouse, t: Target) -> Result<u64> {
    check_id("target", &t.id)?;
    if !(0.0..1.0).contains(&t.fraction_remaining) {
        return Err(QueryError::InvalidArgument(
            "fraction_remaining must be at least 0 and below 1 (0.5 halves the gap)".into(),
        ));
    }
    if t.target_period <= t.baseline_period {
        return Err(QueryError::InvalidArgument(format!(
            "target_period {} must come after baseline_period {}",
            t.target_period, t.baseline_period
        )));
    }
    let t = Target {
        owner: owner_or_legacy(t.owner.clone()),
        ..t
    };
    let mut base = warehouse.current(TARGETS).await?.map(|m| m.version);
    for _ in 0..REGISTRY_ATTEMPTS {
        let mut all = targets_at(warehouse, base).await?;
        if let Some(existing) = all.iter().find(|o| o.id == t.id) {
            owned_by("target", &existing.id, &existing.owner, &t.owner)?;
        }
        all.retain(|o| o.id != t.id);
        all.push(t.clone());
        match publish_targets(warehouse, all, base).await? {
            Landed::Done(version) => return Ok(version),
            Landed::Overtaken(current) => base = Some(current),
        }
    }
    Err(too_busy(TARGETS))
}

/// Deletes target `id`, which `owner` must own, through the same compare-and-swap publish as
/// registration.
pub async fn delete_target(warehouse: &Warehouse, id: &str, owner: &str) -> Result<u64> {
    let mut base = warehouse.current(TARGETS).await?.map(|m| m.version);
    for _ in 0..REGISTRY_ATTEMPTS {
        let mut all = targets_at(warehouse, base).await?;
        let existing = all
            .iter()
            .find(|o| o.id == id)
            .ok_or_else(|| QueryError::NotFound(format!("no target {id:?}")))?;
        owned_by("target", id, &existing.owner, owner)?;
        all.retain(|o| o.id != id);
        match publish_targets(warehouse, all, base).await? {
            Landed::Done(version) => return Ok(version),
            Landed::Overtaken(current) => base = Some(current),
        }
    }
    Err(too_busy(TARGETS))
}

async fn publish_targets(
    warehouse: &Warehouse,
    mut all: Vec<Target>,
    base: Option<u64>,
) -> Result<Landed> {
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let batch = targets_batch(&all)?;
    publish(warehouse, TARGETS, "targets", batch, &all, base).await
}

fn targets_batch(all: &[Target]) -> Result<RecordBatch> {
    let ids: Vec<String> = all.iter().map(|t| t.id.clone()).collect();
    let fractions: Vec<f64> = all.iter().map(|t| t.fraction_remaining).collect();
    let definitions = all
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| QueryError::InvalidArgument(e.to_string()))?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("fraction_remaining", DataType::Float64, false),
        Field::new("definition", DataType::Utf8, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(ids)) as ArrayRef,
            Arc::new(Float64Array::from(fractions)),
            Arc::new(StringArray::from(definitions)),
        ],
    )?)
}

fn strings_batch(names: &[&str], cols: [Vec<String>; 4]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = cols
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
        .collect();
    Ok(RecordBatch::try_new(schema, arrays)?)
}

/// Publishes the whole registry as a new version; the registration itself (as JSON) is the
/// version's source, so provenance says exactly what was registered.
/// The outcome of a registry write built on a given version.
enum Landed {
    /// Published as the next version (or the content was already current).
    Done(u64),
    /// Another write published first; this is the version now current.
    Overtaken(u64),
}

async fn publish<T: Serialize>(
    warehouse: &Warehouse,
    dataset: &str,
    table: &str,
    batch: RecordBatch,
    registry: &T,
    base: Option<u64>,
) -> Result<Landed> {
    let mut buf = Vec::new();
    {
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None)
            .map_err(|e| QueryError::Precondition(e.to_string()))?;
        writer
            .write(&batch)
            .map_err(|e| QueryError::Precondition(e.to_string()))?;
        writer
            .close()
            .map_err(|e| QueryError::Precondition(e.to_string()))?;
    }
    let json = serde_json::to_vec(registry).map_err(|e| QueryError::Precondition(e.to_string()))?;
    let draft = Draft {
        dataset: dataset.to_owned(),
        kind: dataset.to_owned(),
        vintage: BTreeMap::new(),
        attributes: BTreeMap::new(),
        sources: vec![renewal_warehouse::SourceFile {
            name: format!("{dataset}.json"),
            size: json.len() as u64,
            sha256: renewal_warehouse::sha256_hex(&json),
            format: "registration".into(),
            rows: batch.num_rows() as u64,
        }],
        schemas: Vec::new(),
        tables: vec![DraftTable {
            name: table.to_owned(),
            parquet: Bytes::from(buf),
        }],
        notes: Vec::new(),
    };
    // Registries are small and their history is the audit trail.
    let options = PublishOptions {
        keep_versions: REGISTRY_VERSIONS_KEPT,
        only_after: Some(base.unwrap_or(0)),
    };
    match warehouse.publish(draft, options).await {
        Ok(Published::New(m) | Published::Unchanged(m)) => Ok(Landed::Done(m.version)),
        Err(renewal_warehouse::WarehouseError::Conflict { current, .. }) => {
            Ok(Landed::Overtaken(current))
        }
        Err(e) => Err(e.into()),
    }
}

/// The authority each of `lsoas` lies in, by any LSOA lookup in the warehouse (LSOAs no
/// lookup knows are absent from the map).
pub async fn authorities_of(
    warehouse: &Warehouse,
    lsoas: &[String],
) -> Result<BTreeMap<String, String>> {
    let wanted: std::collections::BTreeSet<&str> = lsoas.iter().map(String::as_str).collect();
    let mut out = BTreeMap::new();
    for id in warehouse.datasets().await? {
        if !id.starts_with("lookup-") {
            continue;
        }
        let Some(m) = warehouse.current(&id).await? else {
            continue;
        };
        let lookup = crate::geography::load_lookup(warehouse, m).await?;
        for r in lookup.rows {
            if wanted.contains(r.lsoa_code.as_str()) {
                out.entry(r.lsoa_code).or_insert(r.lad_code);
            }
        }
    }
    Ok(out)
}
