//! The Parquet warehouse: immutable, versioned datasets with provenance, published atomically.
//!
//! Layout under the warehouse root (any `object_store` backend; a local directory by default):
//!
//! ```text
//! <dataset>/_versions/00000000000000000003.json   manifest of version 3; creating it publishes
//! <dataset>/data/v3-<nonce>/<table>/part-00000.parquet
//! ```
//!
//! Every table's files are plain Parquet that DuckDB, polars or pandas can read directly; the
//! manifest says which files make up which version.
//!
//! Publishing writes the data files first (fsynced on a local disk), then creates the version's
//! manifest with a *create-if-absent* put. That single conditional put is the switch: readers
//! take the highest manifest present, so they see the old version or the new one, never a mix,
//! and two publishers cannot both claim a version number. It works unchanged on S3-compatible
//! stores, which support conditional creation. Data directories carry a nonce so a crashed or
//! losing publisher never shares files with the winner.
//!
//! Architecture invariant: this crate knows nothing about polars or DataFusion. Parquet bytes
//! come in, manifests and file locations go out.

mod manifest;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

pub use manifest::{
    ColumnEntry, FileEntry, MANIFEST_FORMAT, Manifest, SchemaRef, SourceFile, TableEntry,
};

/// Versions kept by default when a new one is published.
pub const DEFAULT_KEEP_VERSIONS: usize = 5;

const VERSIONS_DIR: &str = "_versions";
const DATA_DIR: &str = "data";

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("warehouse directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("manifest {path} is unreadable: {source}")]
    BadManifest {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// A manifest that points outside its own dataset's data directory (`../`, an absolute
    /// path, a URL) or claims another dataset or version: never read, so a planted or
    /// corrupted manifest cannot make a reader open, or retention delete, a foreign file.
    #[error("manifest {path} is refused: {reason}")]
    UnsafeManifest { path: String, reason: String },
    #[error("table {table:?} of dataset {dataset}: not valid Parquet: {source}")]
    BadParquet {
        dataset: String,
        table: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("no dataset {0:?} in the warehouse")]
    NoDataset(String),
    #[error("dataset {dataset:?} has no version {version} (available: {available})")]
    NoVersion {
        dataset: String,
        version: u64,
        available: String,
    },
    #[error("invalid dataset id {0:?}: use lower-case letters, digits and '-'")]
    BadDatasetId(String),
    #[error("invalid draft: {0}")]
    BadDraft(String),
    #[error("{dataset} is at version {current}, not {expected}: read it again and retry")]
    Conflict {
        dataset: String,
        expected: u64,
        current: u64,
    },
    #[error("another publisher took version {version} of {dataset} {attempts} times; giving up")]
    Contended {
        dataset: String,
        version: u64,
        attempts: u32,
    },
}

pub type Result<T, E = WarehouseError> = std::result::Result<T, E>;

/// A dataset version waiting to be published.
#[derive(Debug, Clone)]
pub struct Draft {
    pub dataset: String,
    pub kind: String,
    pub vintage: BTreeMap<String, String>,
    pub attributes: BTreeMap<String, String>,
    pub sources: Vec<SourceFile>,
    pub schemas: Vec<SchemaRef>,
    pub tables: Vec<DraftTable>,
    pub notes: Vec<String>,
}

impl Draft {
    /// Equal for drafts read from byte-identical sources with identical schema definitions by
    /// the same manifest format, whatever the file names or order.
    pub fn fingerprint(&self) -> String {
        let mut parts: Vec<String> = self
            .sources
            .iter()
            .map(|s| format!("source {} {}", s.sha256, s.format))
            .chain(self.schemas.iter().map(|s| format!("schema {}", s.sha256)))
            .collect();
        parts.sort();
        parts.push(format!(
            "manifest-format {MANIFEST_FORMAT} kind {}",
            self.kind
        ));
        hex::encode(Sha256::digest(parts.join("\n").as_bytes()))
    }
}

#[derive(Debug, Clone)]
pub struct DraftTable {
    pub name: String,
    pub parquet: Bytes,
}

/// What [`Warehouse::publish`] did.
#[derive(Debug, Clone)]
pub enum Published {
    /// A new version is now current.
    New(Manifest),
    /// The current version was built from byte-identical sources; nothing was written.
    Unchanged(Manifest),
}

impl Published {
    pub fn manifest(&self) -> &Manifest {
        match self {
            Published::New(m) | Published::Unchanged(m) => m,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    /// How many versions to keep, the new one included (at least 1).
    pub keep_versions: usize,
    /// Publish only as the version right after this one (0: the dataset has none yet); if
    /// another publisher got there first, fail with [`WarehouseError::Conflict`] instead of
    /// taking the next number. For read-modify-write updates that must not lose a change.
    pub only_after: Option<u64>,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            keep_versions: DEFAULT_KEEP_VERSIONS,
            only_after: None,
        }
    }
}

/// A warehouse: an object store plus the URL a query engine uses to reach the same objects.
#[derive(Debug, Clone)]
pub struct Warehouse {
    store: Arc<dyn ObjectStore>,
    /// Set for a local directory: lets publishing fsync what it wrote.
    local_root: Option<PathBuf>,
    /// URL of the warehouse root, ending in `/`.
    root_url: String,
}

impl Warehouse {
    /// Opens (creating if needed) a warehouse in a local directory.
    pub fn open_local(dir: &Path) -> Result<Warehouse> {
        let io = |source| WarehouseError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let root = dir.canonicalize().map_err(io)?;
        let store = LocalFileSystem::new_with_prefix(&root)?;
        let root_url = format!(
            "file://{}/",
            root.display().to_string().trim_end_matches('/')
        );
        Ok(Warehouse {
            store: Arc::new(store),
            local_root: Some(root),
            root_url,
        })
    }

    /// A warehouse on any object store (S3-compatible, in-memory for tests, …). `root_url` is
    /// how a query engine addresses the store's root, e.g. `s3://bucket/warehouse/`.
    pub fn from_store(store: Arc<dyn ObjectStore>, root_url: impl Into<String>) -> Warehouse {
        let mut root_url = root_url.into();
        if !root_url.ends_with('/') {
            root_url.push('/');
        }
        Warehouse {
            store,
            local_root: None,
            root_url,
        }
    }

    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    pub fn local_root(&self) -> Option<&Path> {
        self.local_root.as_deref()
    }

    /// The store, rooted at the warehouse root.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// Absolute URL of a file listed in a manifest.
    pub fn file_url(&self, file: &FileEntry) -> String {
        format!("{}{}", self.root_url, file.path)
    }

    /// Dataset ids that have at least one published version, sorted.
    pub async fn datasets(&self) -> Result<Vec<String>> {
        let listing = self.store.list_with_delimiter(None).await?;
        let mut ids = Vec::new();
        for prefix in listing.common_prefixes {
            let Some(id) = prefix.filename() else {
                continue;
            };
            if !self.version_numbers(id).await?.is_empty() {
                ids.push(id.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    async fn version_numbers(&self, dataset: &str) -> Result<Vec<u64>> {
        let prefix = ObjectPath::from(format!("{dataset}/{VERSIONS_DIR}"));
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut versions: Vec<u64> = metas
            .iter()
            .filter_map(|m| m.location.filename())
            .filter_map(|name| name.strip_suffix(".json"))
            .filter_map(|stem| stem.parse().ok())
            .collect();
        versions.sort_unstable();
        Ok(versions)
    }

    fn manifest_path(dataset: &str, version: u64) -> ObjectPath {
        ObjectPath::from(format!("{dataset}/{VERSIONS_DIR}/{version:020}.json"))
    }

    async fn read_manifest(&self, dataset: &str, version: u64) -> Result<Manifest> {
        let path = Self::manifest_path(dataset, version);
        let bytes = self.store.get(&path).await?.bytes().await?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| WarehouseError::BadManifest {
                path: path.to_string(),
                source,
            })?;
        check_manifest(&manifest, dataset, version).map_err(|reason| {
            WarehouseError::UnsafeManifest {
                path: path.to_string(),
                reason,
            }
        })?;
        Ok(manifest)
    }

    /// All versions of a dataset still held, oldest first.
    pub async fn versions(&self, dataset: &str) -> Result<Vec<Manifest>> {
        let mut out = Vec::new();
        for v in self.version_numbers(dataset).await? {
            out.push(self.read_manifest(dataset, v).await?);
        }
        Ok(out)
    }

    /// The current version of a dataset, if it has been published.
    pub async fn current(&self, dataset: &str) -> Result<Option<Manifest>> {
        match self.version_numbers(dataset).await?.last() {
            Some(&v) => Ok(Some(self.read_manifest(dataset, v).await?)),
            None => Ok(None),
        }
    }

    /// A given version, or the current one when `version` is `None`.
    pub async fn manifest(&self, dataset: &str, version: Option<u64>) -> Result<Manifest> {
        let versions = self.version_numbers(dataset).await?;
        let wanted = match version {
            None => *versions
                .last()
                .ok_or_else(|| WarehouseError::NoDataset(dataset.to_owned()))?,
            Some(v) if versions.contains(&v) => v,
            Some(v) => {
                if versions.is_empty() {
                    return Err(WarehouseError::NoDataset(dataset.to_owned()));
                }
                let available = versions
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(WarehouseError::NoVersion {
                    dataset: dataset.to_owned(),
                    version: v,
                    available,
                });
            }
        };
        self.read_manifest(dataset, wanted).await
    }

    /// Publishes a draft as the dataset's next version, atomically; or does nothing if the
    /// current version came from the same sources.
    pub async fn publish(&self, draft: Draft, options: PublishOptions) -> Result<Published> {
        validate_dataset_id(&draft.dataset)?;
        if draft.tables.is_empty() {
            return Err(WarehouseError::BadDraft(
                "a dataset needs at least one table".into(),
            ));
        }
        let fingerprint = draft.fingerprint();
        let current = self.current(&draft.dataset).await?;
        if let Some(current) = current.as_ref().filter(|m| m.fingerprint == fingerprint) {
            return Ok(Published::Unchanged(current.clone()));
        }

        let now = current.as_ref().map_or(0, |m| m.version);
        if let Some(expected) = options.only_after
            && expected != now
        {
            return Err(WarehouseError::Conflict {
                dataset: draft.dataset,
                expected,
                current: now,
            });
        }
        let mut version = now + 1;
        let nonce = {
            let mut h = Sha256::new();
            h.update(fingerprint.as_bytes());
            h.update(Utc::now().to_rfc3339().as_bytes());
            h.update(std::process::id().to_le_bytes());
            hex::encode(&h.finalize()[..6])
        };
        let data_dir = format!("{}/{DATA_DIR}/v{version}-{nonce}", draft.dataset);
        let mut tables = Vec::new();
        for table in &draft.tables {
            tables.push(self.write_table(&draft.dataset, &data_dir, table).await?);
        }

        let mut manifest = Manifest {
            manifest_format: MANIFEST_FORMAT,
            dataset: draft.dataset.clone(),
            version,
            kind: draft.kind,
            vintage: draft.vintage,
            attributes: draft.attributes,
            sources: draft.sources,
            schemas: draft.schemas,
            tables,
            fingerprint,
            created_at: Utc::now(),
            program: concat!("renewal ", env!("CARGO_PKG_VERSION")).to_owned(),
            notes: draft.notes,
        };

        // The switch. Losing a race to another publisher only costs a version number: our data
        // directory is ours alone, so the same files can back the next number.
        const ATTEMPTS: u32 = 5;
        for _ in 0..ATTEMPTS {
            manifest.version = version;
            let json = serde_json::to_vec_pretty(&manifest).map_err(|source| {
                WarehouseError::BadManifest {
                    path: Self::manifest_path(&manifest.dataset, version).to_string(),
                    source,
                }
            })?;
            match self
                .create_if_absent(&Self::manifest_path(&manifest.dataset, version), json)
                .await
            {
                Ok(()) => {
                    self.expire(&manifest.dataset, options.keep_versions.max(1))
                        .await?;
                    return Ok(Published::New(manifest));
                }
                Err(WarehouseError::Store(object_store::Error::AlreadyExists { .. }))
                    if options.only_after.is_some() =>
                {
                    // Our data directory is ours alone: nobody will ever reference it.
                    for file in manifest.tables.iter().flat_map(|t| &t.files) {
                        let _ = self
                            .store
                            .delete(&ObjectPath::from(file.path.as_str()))
                            .await;
                    }
                    return Err(WarehouseError::Conflict {
                        dataset: manifest.dataset,
                        expected: version - 1,
                        current: version,
                    });
                }
                Err(WarehouseError::Store(object_store::Error::AlreadyExists { .. })) => {
                    tracing::warn!(dataset = %manifest.dataset, version, "version taken by another publisher; retrying");
                    version = self
                        .version_numbers(&manifest.dataset)
                        .await?
                        .last()
                        .map_or(version, |v| v + 1);
                }
                Err(e) => return Err(e),
            }
        }
        Err(WarehouseError::Contended {
            dataset: manifest.dataset,
            version,
            attempts: ATTEMPTS,
        })
    }

    async fn write_table(
        &self,
        dataset: &str,
        data_dir: &str,
        table: &DraftTable,
    ) -> Result<TableEntry> {
        let bad_parquet = |source| WarehouseError::BadParquet {
            dataset: dataset.to_owned(),
            table: table.name.clone(),
            source,
        };
        if table.name.is_empty()
            || !table
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(WarehouseError::BadDraft(format!(
                "table name {:?} must be lower_snake_case",
                table.name
            )));
        }
        // Read the footer back: the manifest describes what is actually in the file, not what
        // the writer meant to put there.
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(table.parquet.clone()).map_err(bad_parquet)?;
        let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let columns = builder
            .schema()
            .fields()
            .iter()
            .map(|f| ColumnEntry {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect();
        let path = format!("{data_dir}/{}/part-00000.parquet", table.name);
        let object = ObjectPath::from(path.as_str());
        self.store
            .put(&object, PutPayload::from_bytes(table.parquet.clone()))
            .await?;
        self.sync(&object)?;
        Ok(TableEntry {
            name: table.name.clone(),
            rows,
            columns,
            files: vec![FileEntry {
                path,
                size: table.parquet.len() as u64,
                rows,
                sha256: hex::encode(Sha256::digest(&table.parquet)),
            }],
        })
    }

    /// Creates `path` with `bytes` unless it exists. On a local disk the content is made durable
    /// before the name appears, so a crash cannot leave a half-written manifest current.
    async fn create_if_absent(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<()> {
        let Some(root) = &self.local_root else {
            let options = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            self.store.put_opts(path, bytes.into(), options).await?;
            return Ok(());
        };
        let target = root.join(path.as_ref());
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| WarehouseError::Io { path, source }
        };
        let dir = target.parent().unwrap_or(root).to_owned();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        // Unique per attempt: two publishers in one process (a server taking two writes at
        // once) racing for the same version must not share a staging file.
        static ATTEMPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let staging = dir.join(format!(
            ".{}.{}.{}.tmp",
            path.filename().unwrap_or("manifest"),
            std::process::id(),
            ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&staging).map_err(io(&staging))?;
            f.write_all(&bytes).map_err(io(&staging))?;
            f.sync_all().map_err(io(&staging))?;
        }
        // hard_link fails if the target exists: the local equivalent of a conditional put.
        let linked = std::fs::hard_link(&staging, &target);
        let _ = std::fs::remove_file(&staging);
        match linked {
            Ok(()) => {
                sync_dir(&dir)?;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(WarehouseError::Store(object_store::Error::AlreadyExists {
                    path: path.to_string(),
                    source: Box::new(e),
                }))
            }
            Err(e) => Err(io(&target)(e)),
        }
    }

    fn sync(&self, object: &ObjectPath) -> Result<()> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let path = root.join(object.as_ref());
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|source| WarehouseError::Io {
                path: path.clone(),
                source,
            })?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// Drops versions beyond the newest `keep`. The manifest goes first, so no reader can find
    /// a version whose files are being deleted.
    async fn expire(&self, dataset: &str, keep: usize) -> Result<()> {
        let versions = self.version_numbers(dataset).await?;
        let expired = versions.len().saturating_sub(keep);
        for &v in &versions[..expired] {
            // Another publisher may be expiring the same version at the same moment.
            let manifest = match self.read_manifest(dataset, v).await {
                Ok(m) => m,
                Err(WarehouseError::Store(object_store::Error::NotFound { .. })) => continue,
                Err(e) => return Err(e),
            };
            match self.store.delete(&Self::manifest_path(dataset, v)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            for file in manifest.tables.iter().flat_map(|t| &t.files) {
                match self
                    .store
                    .delete(&ObjectPath::from(file.path.as_str()))
                    .await
                {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            tracing::info!(dataset, version = v, "expired old version");
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    // Directories can be fsynced on Unix; elsewhere opening one fails and there is nothing to do.
    if cfg!(unix) {
        std::fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|source| WarehouseError::Io {
                path: dir.to_owned(),
                source,
            })?;
    }
    Ok(())
}

/// Why a manifest read from `<dataset>/_versions/<version>.json` must not be trusted, if it
/// must not: every file it lists has to lie under `<dataset>/data/`, named by plain segments.
fn check_manifest(
    manifest: &Manifest,
    dataset: &str,
    version: u64,
) -> std::result::Result<(), String> {
    if manifest.dataset != dataset {
        return Err(format!(
            "it names dataset {:?}, but lies in {dataset:?}",
            manifest.dataset
        ));
    }
    if manifest.version != version {
        return Err(format!(
            "it names version {}, but is version {version}'s file",
            manifest.version
        ));
    }
    let prefix = format!("{dataset}/{DATA_DIR}/");
    for file in manifest.tables.iter().flat_map(|t| &t.files) {
        let p = file.path.as_str();
        // Segments only: `..` and `.` would climb out, `%` is decoded by URL parsers, `:` makes
        // a scheme or a drive, `\` a Windows separator.
        let plain = p.starts_with(&prefix)
            && p.split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
            && !p
                .chars()
                .any(|c| matches!(c, '\\' | '%' | ':') || c.is_control());
        if !plain {
            return Err(format!(
                "file path {p:?} is not a plain path under {prefix:?}"
            ));
        }
    }
    Ok(())
}

fn validate_dataset_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && !id.starts_with('-')
        && !id.starts_with('_')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(WarehouseError::BadDatasetId(id.to_owned()))
    }
}

/// The names datasets are published under, shared by the code that writes them and the code
/// that reads them.
pub mod ids {
    use std::fmt::Display;

    /// An Indices of Deprivation edition: `iod-2019`.
    pub fn iod(edition: &str) -> String {
        format!("iod-{edition}")
    }

    /// A lookup between two geographies: `lookup-lsoa11-wd19`.
    pub fn lookup(lsoa: impl Display, ward: impl Display) -> String {
        format!("{}{}", lookup_prefix(lsoa), ward).to_ascii_lowercase()
    }

    /// An LSOA change lookup between two vintages: `bridge-lsoa11-lsoa21`.
    pub fn bridge(from: impl Display, to: impl Display) -> String {
        format!("{BRIDGE_PREFIX}{from}-{to}").to_ascii_lowercase()
    }

    /// What every bridge dataset's id starts with.
    pub const BRIDGE_PREFIX: &str = "bridge-";

    /// What every lookup from `lsoa` starts with: `lookup-lsoa11-`.
    pub fn lookup_prefix(lsoa: impl Display) -> String {
        format!("lookup-{lsoa}-").to_ascii_lowercase()
    }
}

/// SHA-256 of a byte slice, hex-encoded: how the warehouse identifies source contents.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests;
