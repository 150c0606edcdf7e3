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
//! and two publishers cannot both claim a version number. Data directories carry a nonce so a
//! crashed or losing publisher never shares files with the winner; its files are orphans that
//! no manifest names, so no reader ever sees them ([`Warehouse::verify`] lists them).
//!
//! On a local directory every step goes through the `object_store` API plus an fsync: the
//! manifest is staged under a temporary name, fsynced, and hard-linked into place
//! (`copy_if_not_exists`). On any other store the switch is a `put` with `PutMode::Create`.
//! What is tested: the local directory, and `object_store`'s `InMemory` store with the same
//! conditional-create semantics (crate tests `it::stores`). Whether a given S3-compatible
//! service honours `PutMode::Create` (object_store's S3 client needs conditional puts enabled)
//! is not tested here.
//!
//! Retention is resumable: an expiry is journalled under `<dataset>/_expired/` before the
//! manifest is deleted, so files of a retention interrupted by a crash are deleted by the next
//! publish instead of lingering as orphans.
//!
//! Architecture invariant: this crate knows nothing about polars or DataFusion. Parquet bytes
//! come in, manifests and file locations go out.

mod crash;
mod manifest;
#[cfg(feature = "testing")]
pub mod testing;

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

pub use crash::{CRASH_ENV, CRASH_POINTS, crash_point};
pub use manifest::{
    ColumnEntry, FileEntry, MANIFEST_FORMAT, Manifest, SchemaRef, SourceFile, TableEntry,
};

/// Versions kept by default when a new one is published.
pub const DEFAULT_KEEP_VERSIONS: usize = 5;

const VERSIONS_DIR: &str = "_versions";
const DATA_DIR: &str = "data";
const EXPIRED_DIR: &str = "_expired";

/// Everything that can go wrong reading or writing the warehouse.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    /// A publish failed before its switch: nothing of it is visible and the dataset's current
    /// version is what it was. `step` says where (writing a table, switching).
    #[error(
        "publishing {dataset} version {version} failed while {step}: {cause}; \
         the current version is unchanged"
    )]
    Publish {
        dataset: String,
        version: u64,
        step: String,
        cause: Box<WarehouseError>,
    },
    /// The object store refused or failed an operation.
    #[error("warehouse storage: {0}")]
    Store(#[from] object_store::Error),
    /// A local file or directory operation (create, fsync) failed.
    #[error("warehouse directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A manifest is not valid JSON of the expected layout.
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
    /// A draft's table is not valid Parquet.
    #[error("table {table:?} of dataset {dataset}: not valid Parquet: {source}")]
    BadParquet {
        dataset: String,
        table: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// The dataset has no published version.
    #[error("no dataset {0:?} in the warehouse")]
    NoDataset(String),
    /// The requested version is not (or no longer) held.
    #[error("dataset {dataset:?} has no version {version} (available: {available})")]
    NoVersion {
        dataset: String,
        version: u64,
        available: String,
    },
    /// A dataset id outside `[a-z0-9-]`.
    #[error("invalid dataset id {0:?}: use lower-case letters, digits and '-'")]
    BadDatasetId(String),
    /// A draft that cannot be published (no tables, a bad table name).
    #[error("invalid draft: {0}")]
    BadDraft(String),
    /// `PublishOptions::only_after` did not hold: another publisher moved the dataset on.
    #[error("{dataset} is at version {current}, not {expected}: read it again and retry")]
    Conflict {
        dataset: String,
        expected: u64,
        current: u64,
    },
    /// Other publishers kept taking the next version number.
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

    /// The same warehouse with its store wrapped by `layer`, which must pass every call on to
    /// the store it is given (fault injection in tests, metrics, throttling). A local
    /// warehouse stays local: the layer sees every write, and fsyncs still happen on disk.
    pub fn with_store_layer(
        mut self,
        layer: impl FnOnce(Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore>,
    ) -> Warehouse {
        self.store = layer(self.store);
        self
    }

    /// URL of the warehouse root, ending in `/`.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// The warehouse directory, for a local warehouse.
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

    /// The current version number of every published dataset, read from the version
    /// listings alone (no manifest is opened): a cheap fingerprint of what the warehouse holds
    /// now, for caches and HTTP validators.
    pub async fn current_versions(&self) -> Result<BTreeMap<String, u64>> {
        let listing = self.store.list_with_delimiter(None).await?;
        let mut out = BTreeMap::new();
        for prefix in listing.common_prefixes {
            let Some(id) = prefix.filename() else {
                continue;
            };
            if let Some(&v) = self.version_numbers(id).await?.last() {
                out.insert(id.to_owned(), v);
            }
        }
        Ok(out)
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
    ///
    /// A failure before the switch is [`WarehouseError::Publish`] and leaves the current
    /// version as it was (the files written so far are deleted when the store allows it, and
    /// are never read otherwise). Once the switch has happened the publish has succeeded: a
    /// failure while expiring old versions is logged as a warning and resumed by the next
    /// publish, never reported as a failed publish of a version that is in fact current.
    pub async fn publish(&self, draft: Draft, options: PublishOptions) -> Result<Published> {
        validate_dataset_id(&draft.dataset)?;
        if draft.tables.is_empty() {
            return Err(WarehouseError::BadDraft(
                "a dataset needs at least one table".into(),
            ));
        }
        crash_point("publish-begin");
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
        let failed = |version: u64, step: String, cause: WarehouseError| WarehouseError::Publish {
            dataset: draft.dataset.clone(),
            version,
            step,
            cause: Box::new(cause),
        };
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
            match self.write_table(&draft.dataset, &data_dir, table).await {
                Ok(entry) => tables.push(entry),
                Err(e @ (WarehouseError::BadDraft(_) | WarehouseError::BadParquet { .. })) => {
                    self.discard(&tables).await;
                    return Err(e);
                }
                Err(e) => {
                    self.discard(&tables).await;
                    return Err(failed(version, format!("writing table {}", table.name), e));
                }
            }
        }
        crash_point("data-synced");

        let mut manifest = Manifest {
            manifest_format: MANIFEST_FORMAT,
            dataset: draft.dataset.clone(),
            version,
            kind: draft.kind.clone(),
            vintage: draft.vintage.clone(),
            attributes: draft.attributes.clone(),
            sources: draft.sources.clone(),
            schemas: draft.schemas.clone(),
            tables,
            fingerprint,
            created_at: Utc::now(),
            program: concat!("renewal ", env!("CARGO_PKG_VERSION")).to_owned(),
            notes: draft.notes.clone(),
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
                    crash_point("retention-begin");
                    let keep = options.keep_versions.max(1);
                    if let Err(e) = self.expire(&manifest.dataset, keep).await {
                        tracing::warn!(
                            dataset = %manifest.dataset,
                            version,
                            "published; expiring versions beyond the newest {keep} failed \
                             ({e}); the next publish retries"
                        );
                    }
                    crash_point("publish-end");
                    return Ok(Published::New(manifest));
                }
                Err(WarehouseError::Store(object_store::Error::AlreadyExists { .. }))
                    if options.only_after.is_some() =>
                {
                    // Our data directory is ours alone: nobody will ever reference it.
                    self.discard(&manifest.tables).await;
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
                Err(e) => {
                    self.discard(&manifest.tables).await;
                    return Err(failed(version, "switching to the new version".into(), e));
                }
            }
        }
        self.discard(&manifest.tables).await;
        Err(WarehouseError::Contended {
            dataset: manifest.dataset,
            version,
            attempts: ATTEMPTS,
        })
    }

    /// Best-effort removal of the files of a publish that will never be switched to. Failing
    /// is harmless: no manifest names them, so they are never read.
    async fn discard(&self, tables: &[TableEntry]) {
        for file in tables.iter().flat_map(|t| &t.files) {
            let _ = self
                .store
                .delete(&ObjectPath::from(file.path.as_str()))
                .await;
        }
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
        crash_point("data-table-written");
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

    /// Creates `path` with `bytes` unless it exists: the switch. On a local disk the content is
    /// made durable under a staging name first and then hard-linked into place (the store's
    /// `copy_if_not_exists`), so a crash cannot leave a half-written manifest current; on other
    /// stores it is one `put` with `PutMode::Create`.
    async fn create_if_absent(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<()> {
        let bytes = Bytes::from(bytes);
        let Some(root) = &self.local_root else {
            let options = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            crash_point("manifest-staged");
            match self
                .store
                .put_opts(path, bytes.clone().into(), options)
                .await
            {
                Ok(_) => {}
                // A lost reply: the create may have happened. Ours if it holds our bytes.
                Err(e @ object_store::Error::Generic { .. }) => {
                    if !self.holds(path, &bytes).await {
                        return Err(e.into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
            crash_point("manifest-switched");
            return Ok(());
        };
        // Unique per attempt: two publishers in one process (a server taking two writes at
        // once) racing for the same version must not share a staging file. The name does not
        // end in `.json`, so a staging file left by a crash is never taken for a version.
        static ATTEMPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = path.as_ref().rsplit_once('/').map_or("", |(d, _)| d);
        let staging = ObjectPath::from(format!(
            "{dir}/.{}.{}.{}.tmp",
            path.filename().unwrap_or("manifest"),
            std::process::id(),
            ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        self.store.put(&staging, bytes.into()).await?;
        self.sync(&staging)?;
        crash_point("manifest-staged");
        // A hard link: fails if the target exists, the local equivalent of a conditional put.
        let linked = self.store.copy_if_not_exists(&staging, path).await;
        if linked.is_ok() {
            crash_point("manifest-switched");
        }
        // A staging file that cannot be removed is never read; leave it.
        let _ = self.store.delete(&staging).await;
        linked?;
        // The name is visible now, so the version is current whatever this returns; a failed
        // directory fsync only weakens durability against power loss, which is worth a warning.
        if let Err(e) = sync_dir(&root.join(dir)) {
            tracing::warn!("{e}");
        }
        Ok(())
    }

    /// Whether `path` exists with exactly `bytes`.
    async fn holds(&self, path: &ObjectPath, bytes: &[u8]) -> bool {
        match self.store.get(path).await {
            Ok(got) => got.bytes().await.is_ok_and(|b| b == bytes),
            Err(_) => false,
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

    fn expired_path(dataset: &str, version: u64) -> ObjectPath {
        ObjectPath::from(format!("{dataset}/{EXPIRED_DIR}/{version:020}.json"))
    }

    /// Drops versions beyond the newest `keep`. Each expiry is journalled first (a copy of the
    /// manifest under `_expired/`), then the manifest goes, so no reader can find a version
    /// whose files are being deleted, then the files, then the journal entry. Expiries a crash
    /// interrupted are finished first.
    async fn expire(&self, dataset: &str, keep: usize) -> Result<()> {
        self.finish_expiries(dataset).await?;
        let versions = self.version_numbers(dataset).await?;
        let expired = versions.len().saturating_sub(keep);
        for &v in &versions[..expired] {
            // Another publisher may be expiring the same version at the same moment.
            let manifest = match self.read_manifest(dataset, v).await {
                Ok(m) => m,
                Err(WarehouseError::Store(object_store::Error::NotFound { .. })) => continue,
                Err(e) => return Err(e),
            };
            let journal = serde_json::to_vec_pretty(&manifest).map_err(|source| {
                WarehouseError::BadManifest {
                    path: Self::expired_path(dataset, v).to_string(),
                    source,
                }
            })?;
            self.store
                .put(&Self::expired_path(dataset, v), journal.into())
                .await?;
            crash_point("retention-journalled");
            self.finish_expiry(&manifest).await?;
            tracing::info!(dataset, version = v, "expired old version");
        }
        Ok(())
    }

    /// Completes every expiry journalled under `<dataset>/_expired/`.
    async fn finish_expiries(&self, dataset: &str) -> Result<()> {
        let prefix = ObjectPath::from(format!("{dataset}/{EXPIRED_DIR}"));
        let entries: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        for entry in entries {
            if !entry.location.as_ref().ends_with(".json") {
                continue;
            }
            let bytes = match self.store.get(&entry.location).await {
                Ok(got) => got.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let manifest: Manifest =
                serde_json::from_slice(&bytes).map_err(|source| WarehouseError::BadManifest {
                    path: entry.location.to_string(),
                    source,
                })?;
            tracing::info!(
                dataset,
                version = manifest.version,
                "finishing an interrupted expiry"
            );
            self.finish_expiry(&manifest).await?;
        }
        Ok(())
    }

    /// Deletes a journalled version: manifest, files, then the journal entry.
    async fn finish_expiry(&self, manifest: &Manifest) -> Result<()> {
        let dataset = manifest.dataset.as_str();
        let v = manifest.version;
        let gone = |r: object_store::Result<()>| match r {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(WarehouseError::Store(e)),
        };
        gone(self.store.delete(&Self::manifest_path(dataset, v)).await)?;
        crash_point("retention-manifest-deleted");
        for file in manifest.tables.iter().flat_map(|t| &t.files) {
            gone(
                self.store
                    .delete(&ObjectPath::from(file.path.as_str()))
                    .await,
            )?;
            crash_point("retention-file-deleted");
        }
        gone(self.store.delete(&Self::expired_path(dataset, v)).await)
    }

    /// Checks every version of every dataset: each file its manifest names exists with the
    /// recorded size and SHA-256 and is Parquet with the recorded row count. Also lists the
    /// orphans: files under a dataset's `data/` that no manifest names, left by a publish that
    /// crashed or failed before its switch, and the files of expiries journalled but not
    /// finished (the next publish of the dataset deletes them). Neither is ever read; they are
    /// reported so an operator can see them.
    pub async fn verify(&self) -> Result<Verification> {
        let mut report = Verification::default();
        for dataset in self.datasets().await? {
            let mut named = std::collections::BTreeSet::new();
            for manifest in self.versions(&dataset).await? {
                report.versions += 1;
                for file in manifest.tables.iter().flat_map(|t| &t.files) {
                    named.insert(file.path.clone());
                    report.files += 1;
                    if let Some(problem) = self.check_file(file).await {
                        report.problems.push(format!(
                            "{dataset} version {}: {}: {problem}",
                            manifest.version, file.path
                        ));
                    }
                }
            }
            let journal = ObjectPath::from(format!("{dataset}/{EXPIRED_DIR}"));
            let journalled: Vec<_> = self.store.list(Some(&journal)).try_collect().await?;
            for entry in journalled {
                if let Ok(got) = self.store.get(&entry.location).await
                    && let Ok(m) = serde_json::from_slice::<Manifest>(&got.bytes().await?)
                {
                    let files = m.tables.iter().flat_map(|t| &t.files);
                    report.expiring.extend(files.map(|f| f.path.clone()));
                }
            }
            let data = ObjectPath::from(format!("{dataset}/{DATA_DIR}"));
            let files: Vec<_> = self.store.list(Some(&data)).try_collect().await?;
            report.orphans.extend(
                files
                    .into_iter()
                    .map(|m| m.location.to_string())
                    .filter(|p| !named.contains(p) && !report.expiring.contains(p)),
            );
        }
        report.orphans.sort();
        Ok(report)
    }

    async fn check_file(&self, file: &FileEntry) -> Option<String> {
        let bytes = match self.store.get(&ObjectPath::from(file.path.as_str())).await {
            Ok(got) => match got.bytes().await {
                Ok(b) => b,
                Err(e) => return Some(format!("unreadable: {e}")),
            },
            Err(e) => return Some(format!("missing: {e}")),
        };
        if bytes.len() as u64 != file.size {
            return Some(format!(
                "{} bytes, manifest says {}",
                bytes.len(),
                file.size
            ));
        }
        if sha256_hex(&bytes) != file.sha256 {
            return Some("SHA-256 differs from the manifest's".into());
        }
        match ParquetRecordBatchReaderBuilder::try_new(bytes) {
            Ok(b)
                if u64::try_from(b.metadata().file_metadata().num_rows()).ok()
                    == Some(file.rows) =>
            {
                None
            }
            Ok(b) => Some(format!(
                "{} rows, manifest says {}",
                b.metadata().file_metadata().num_rows(),
                file.rows
            )),
            Err(e) => Some(format!("not Parquet: {e}")),
        }
    }
}

/// What [`Warehouse::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Versions checked, over all datasets.
    pub versions: usize,
    /// Files checked.
    pub files: usize,
    /// Each file a manifest names that is missing, of the wrong size or hash, or not Parquet.
    pub problems: Vec<String>,
    /// Files under a `data/` directory that no manifest names (never read).
    pub orphans: Vec<String>,
    /// Files of expired versions whose deletion a crash or a failure interrupted; the next
    /// publish of their dataset deletes them (never read either).
    pub expiring: Vec<String>,
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

    /// Area boundaries of one vintage: `boundaries-wd19`, `boundaries-lsoa21`.
    pub fn boundaries(vintage: impl Display) -> String {
        format!("{BOUNDARIES_PREFIX}{vintage}").to_ascii_lowercase()
    }

    /// What every boundaries dataset's id starts with.
    pub const BOUNDARIES_PREFIX: &str = "boundaries-";

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
