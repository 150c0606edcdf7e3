//! The scheduled ETL job behind `renewal refresh`: for each dataset in `sources.toml`, fetch its
//! files (local paths, globs, or http(s) URLs with ETag / Last-Modified revalidation), skip it
//! when nothing changed, otherwise ingest and publish a new version atomically.
//!
//! One dataset failing never stops the others and never touches its current version. An OS
//! advisory lock on `_refresh/lock` keeps two refreshes from running at once; the kernel
//! releases it when the holder dies, so a killed refresh never blocks the next. State (HTTP
//! validators, cached bodies, the lock file) lives under `<warehouse>/_refresh/`.

mod fetch;
mod sources;

use std::path::{Path, PathBuf};

use renewal_schema::Catalog;
use renewal_warehouse::{Draft, PublishOptions, Published, Warehouse};
use serde::Serialize;

pub use sources::{Kind, SourceEntry, SourcesFile};

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    /// Another refresh is running: it holds the OS lock on `path` (released when it exits).
    #[error(
        "another refresh (pid {pid}) is running: it holds the lock on {}; the lock is released \
         when that process exits",
        path.display()
    )]
    Locked { path: PathBuf, pid: String },
    #[error("refresh needs a warehouse on the local disk for its state")]
    NotLocal,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Default)]
pub struct RefreshOptions {
    /// Refresh only this dataset id.
    pub only: Option<String>,
    /// Fetch and compare, but publish nothing.
    pub dry_run: bool,
}

/// What happened to one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Unchanged { version: u64 },
    Refreshed { version: u64, rows: u64 },
    WouldRefresh,
    Failed { reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub dataset: String,
    #[serde(flatten)]
    pub status: Status,
}

impl Outcome {
    /// The one-line report for a terminal or a log.
    pub fn line(&self) -> String {
        let d = &self.dataset;
        match &self.status {
            Status::Unchanged { version } => format!("{d}: unchanged (version {version})"),
            Status::Refreshed { version, rows } => {
                format!("{d}: refreshed {rows} rows (version {version})")
            }
            Status::WouldRefresh => format!("{d}: would refresh (dry run)"),
            Status::Failed { reason } => format!("{d}: failed: {reason}"),
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Failed { .. })
    }
}

/// Runs a refresh of every dataset in `sources` (or only one).
pub async fn refresh(
    warehouse: &Warehouse,
    catalog: &Catalog,
    sources: &SourcesFile,
    options: &RefreshOptions,
) -> Result<Vec<Outcome>, RefreshError> {
    let state_dir = warehouse
        .local_root()
        .ok_or(RefreshError::NotLocal)?
        .join("_refresh");
    std::fs::create_dir_all(&state_dir).map_err(|source| RefreshError::Io {
        path: state_dir.clone(),
        source,
    })?;
    let _lock = Lock::take(&state_dir.join("lock"))?;
    let entries: Vec<&SourceEntry> = sources
        .dataset
        .iter()
        .filter(|e| options.only.as_ref().is_none_or(|o| *o == e.id))
        .collect();
    if let Some(only) = &options.only
        && entries.is_empty()
    {
        return Err(RefreshError::Config {
            path: sources.path.clone(),
            message: format!("no dataset {only:?}"),
        });
    }
    let mut outcomes = Vec::new();
    for entry in entries {
        let status =
            match refresh_one(warehouse, catalog, sources, entry, &state_dir, options).await {
                Ok(status) => status,
                Err(reason) => Status::Failed { reason },
            };
        tracing::info!(dataset = %entry.id, ?status, "refresh");
        outcomes.push(Outcome {
            dataset: entry.id.clone(),
            status,
        });
    }
    Ok(outcomes)
}

async fn refresh_one(
    warehouse: &Warehouse,
    catalog: &Catalog,
    sources: &SourcesFile,
    entry: &SourceEntry,
    state_dir: &Path,
    options: &RefreshOptions,
) -> Result<Status, String> {
    let files = fetch::fetch_all(entry, &sources.base_dir(), state_dir).await?;
    for file in &files {
        if let Some(expected) = entry.sha256.get(&file.name)
            && !expected.eq_ignore_ascii_case(&file.sha256)
        {
            return Err(format!(
                "{} has SHA-256 {}, but sources.toml expects {expected}",
                file.name, file.sha256
            ));
        }
    }
    let boundaries = if entry.boundaries.is_empty() {
        None
    } else {
        let paths = entry.boundary_paths(&sources.base_dir());
        Some(
            renewal_ingest::Boundaries::load(&paths, entry.code_property.as_deref())
                .map_err(|e| e.to_string())?,
        )
    };
    let mut hashes: Vec<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
    if let Some(b) = &boundaries {
        hashes.extend(b.sources.iter().map(|s| s.sha256.as_str()));
    }
    let current = warehouse
        .current(&entry.id)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(current) = &current
        && unchanged(current, hashes, catalog)
    {
        return Ok(Status::Unchanged {
            version: current.version,
        });
    }
    if options.dry_run {
        return Ok(Status::WouldRefresh);
    }
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let draft =
        read_draft(catalog, entry, &paths, boundaries.as_ref()).map_err(|e| e.to_string())?;
    match publish_draft(warehouse, entry, draft)
        .await
        .map_err(|e| e.to_string())?
    {
        Published::New(m) => Ok(Status::Refreshed {
            version: m.version,
            rows: m.total_rows(),
        }),
        Published::Unchanged(m) => Ok(Status::Unchanged { version: m.version }),
    }
}

/// Reads one dataset's files into its draft exactly as `renewal refresh` does: the entry's
/// kind picks the ingester, and the files must make exactly the dataset `entry.id`.
///
/// This is the one read path shared by the refresh and the server's uploads
/// (`renewal_server`'s `Ingest` service), so an uploaded file is validated as the CLI would
/// validate it. It does blocking IO and parsing: call it off an async runtime's workers.
pub fn read_draft(
    catalog: &Catalog,
    entry: &SourceEntry,
    files: &[PathBuf],
    boundaries: Option<&renewal_ingest::Boundaries>,
) -> Result<Draft, ReadError> {
    let drafts = entry.kind.read(catalog, entry, files, boundaries)?;
    single_draft(entry, drafts).map_err(ReadError::Datasets)
}

/// Why [`read_draft`] made no draft.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The files are bad input (naming file, line and column where the format allows) or
    /// cannot be read.
    #[error(transparent)]
    Ingest(#[from] renewal_ingest::IngestError),
    /// The files were read but make another dataset, or several.
    #[error("{0}")]
    Datasets(String),
}

/// Publishes `draft` keeping the entry's number of versions: a draft whose fingerprint equals
/// the current version's is [`Published::Unchanged`].
pub async fn publish_draft(
    warehouse: &Warehouse,
    entry: &SourceEntry,
    draft: Draft,
) -> Result<Published, renewal_warehouse::WarehouseError> {
    let keep = PublishOptions {
        keep_versions: entry
            .keep
            .unwrap_or(renewal_warehouse::DEFAULT_KEEP_VERSIONS),
        ..Default::default()
    };
    warehouse.publish(draft, keep).await
}

/// The inputs (fetched files and boundary files, by their hex SHA-256 `now`) are byte-for-byte
/// those of the current version and the schema files that read them have not changed:
/// ingesting again would publish the same data.
pub fn inputs_unchanged(
    current: &renewal_warehouse::Manifest,
    now: Vec<&str>,
    catalog: &Catalog,
) -> bool {
    unchanged(current, now, catalog)
}

fn unchanged(current: &renewal_warehouse::Manifest, mut now: Vec<&str>, catalog: &Catalog) -> bool {
    let mut then: Vec<&str> = current.sources.iter().map(|s| s.sha256.as_str()).collect();
    now.sort_unstable();
    then.sort_unstable();
    now == then
        && current
            .schemas
            .iter()
            .all(|s| catalog.schema_sha256(&s.path) == Some(s.sha256.as_str()))
}

fn single_draft(entry: &SourceEntry, drafts: Vec<Draft>) -> Result<Draft, String> {
    let ids: Vec<String> = drafts.iter().map(|d| d.dataset.clone()).collect();
    let mut drafts = drafts.into_iter();
    match (drafts.next(), drafts.next()) {
        (Some(d), None) if d.dataset == entry.id => Ok(d),
        (Some(d), None) => Err(format!(
            "the files make dataset {}, not {}; change the id in sources.toml",
            d.dataset, entry.id
        )),
        _ => Err(format!(
            "the files make several datasets ({})",
            ids.join(", ")
        )),
    }
}

/// Held while a refresh runs: an exclusive OS advisory lock (`flock`, through `fs4`) on
/// `_refresh/lock`. The kernel drops it when the holding process ends, however it ends, so a
/// refresh killed with `kill -9` never blocks the next one. The file stays behind on purpose:
/// deleting a locked file would let a third process lock a new file of the same name while a
/// second still waits on the old one. Its content (the holder's pid) is for the message only.
struct Lock {
    _file: std::fs::File,
}

impl Lock {
    fn take(path: &Path) -> Result<Lock, RefreshError> {
        use std::io::Write;
        let io = |source| RefreshError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        // Named through the trait: std's own `File::try_lock` would otherwise be picked.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(RefreshError::Locked {
                    path: path.to_owned(),
                    pid: std::fs::read_to_string(path)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Only the holder writes, so the pid read by a refused refresh is the holder's.
        file.set_len(0).map_err(io)?;
        write!(&file, "{}", std::process::id()).map_err(io)?;
        renewal_warehouse::crash_point("refresh-locked");
        Ok(Lock { _file: file })
    }
}
