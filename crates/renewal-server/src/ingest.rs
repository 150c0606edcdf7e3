//! The `Ingest` service: a partner's ETL job streams the files of one dataset version and
//! the end of the stream commits them.
//!
//! An upload is staged in a fresh directory (under the warehouse's `_uploads/` when the
//! warehouse is local, else the system temp directory) that is removed on every exit path,
//! then read by `renewal_refresh::read_draft` — the path `renewal refresh` and the CLI take,
//! so a file is valid here exactly when it is valid there — and published with
//! `Warehouse::publish`, the one atomic switch. Nothing is published on any error, and the
//! same bytes again are answered "unchanged" without being parsed.
//!
//! Limits are checked while the stream arrives, before the body is held anywhere but the
//! staging file: bytes received, files, and bytes after decompression (`.gz` files are
//! inflated to nowhere as they arrive, only to count; they are stored and later read
//! compressed, as the CLI reads them). Refusals for a limit are FAILED_PRECONDITION, not
//! RESOURCE_EXHAUSTED: retrying the same upload cannot succeed, and RESOURCE_EXHAUSTED is
//! what a retrying client reads as "the server is busy, try again shortly".

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use renewal_refresh::{Kind, ReadError, SourceEntry};
use renewal_warehouse::Published;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use tonic::{Request, Response, Status, Streaming};

use crate::auth::{IngestRefusal, Partner};
use crate::pb;
use crate::service::{State, partner};

/// The metrics' and logs' name for the RPC.
const RPC: &str = "Upload";

/// How much an upload may bring (see [`crate::ServerConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Bytes received over all files of one upload, as sent (compressed for `.gz`).
    pub max_bytes: u64,
    /// Bytes over all files once `.gz` files are decompressed (other files count as sent).
    pub max_decompressed_bytes: u64,
    /// Files in one upload, boundary files included.
    pub max_files: usize,
}

/// The gRPC `Ingest` service.
pub struct IngestService {
    state: Arc<State>,
    limits: UploadLimits,
    /// Uploads publish one at a time, so a retry racing its original sees the first one's
    /// version and is answered "unchanged" instead of publishing the same bytes twice.
    publishing: Arc<tokio::sync::Mutex<()>>,
}

impl IngestService {
    /// The service over the server's shared state, within `limits`.
    pub fn new(state: Arc<State>, limits: UploadLimits) -> IngestService {
        IngestService {
            state,
            limits,
            publishing: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

#[tonic::async_trait]
impl pb::ingest_server::Ingest for IngestService {
    async fn upload(
        &self,
        request: Request<Streaming<pb::UploadChunk>>,
    ) -> Result<Response<pb::UploadResponse>, Status> {
        let started = Instant::now();
        let p = partner(&request)?;
        let mut log = Log::default();
        let result = self.run(&p, request.into_inner(), &mut log).await;
        let code = result
            .as_ref()
            .map_or_else(|s| s.code(), |_| tonic::Code::Ok);
        self.state.metrics.record(RPC, code, started.elapsed());
        // Never the key: the partner's name identifies the caller.
        match &result {
            Ok(r) => tracing::info!(
                rpc = RPC,
                partner = %p.partner,
                dataset = %log.dataset,
                files = ?log.files,
                bytes = log.bytes,
                outcome = %r.status,
                version = r.version,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "upload"
            ),
            Err(s) => tracing::info!(
                rpc = RPC,
                partner = %p.partner,
                dataset = %log.dataset,
                files = ?log.files,
                bytes = log.bytes,
                outcome = "refused",
                code = ?s.code(),
                message = s.message(),
                "upload"
            ),
        }
        result.map(Response::new)
    }
}

/// What the log line says of an upload, filled in as it arrives.
#[derive(Default)]
struct Log {
    dataset: String,
    files: Vec<String>,
    bytes: u64,
}

impl IngestService {
    async fn run(
        &self,
        p: &Partner,
        mut stream: Streaming<pb::UploadChunk>,
        log: &mut Log,
    ) -> Result<pb::UploadResponse, Status> {
        let header = match stream.message().await?.and_then(|c| c.part) {
            Some(pb::upload_chunk::Part::Header(h)) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "header: the first message of an upload must be its header",
                ));
            }
        };
        log.dataset = header.dataset_id.clone();
        // Scope first: a key that may not upload here learns nothing more, and none of its
        // bytes are staged.
        p.may_ingest(&header.dataset_id).map_err(|e| match e {
            IngestRefusal::Denied(m) => Status::permission_denied(m),
            IngestRefusal::Invalid(m) => Status::invalid_argument(format!("dataset_id: {m}")),
        })?;
        let mut entry = entry(&header)?;
        let warehouse = self.state.engine.warehouse();
        let root = match warehouse.local_root() {
            Some(r) => r.join("_uploads"),
            None => std::env::temp_dir(),
        };
        let staging = Staging::create(&root)?;
        let files = self.receive(&mut stream, &staging, &entry, log).await?;
        if !files.iter().any(|f| !f.boundaries) {
            return Err(Status::invalid_argument(
                "files: an upload needs at least one data file",
            ));
        }
        if entry.assign_all && !files.iter().any(|f| f.boundaries) {
            return Err(Status::invalid_argument(
                "assign_all: needs boundary files (files with `boundaries` set)",
            ));
        }
        entry.location = files
            .iter()
            .filter(|f| !f.boundaries)
            .map(|f| f.name.clone())
            .collect();
        entry.boundaries = files
            .iter()
            .filter(|f| f.boundaries)
            .map(|f| f.name.clone())
            .collect();
        // The stream has ended: the upload is committed. The rest runs in its own task, so a
        // client that goes away now cannot cut a publish short.
        let commit = tokio::spawn(commit(
            self.state.clone(),
            self.publishing.clone(),
            entry,
            files,
            staging,
        ));
        commit
            .await
            .map_err(|e| Status::internal(format!("publishing the upload: {e}")))?
    }

    /// Writes the stream's files into `staging`, within the limits.
    async fn receive(
        &self,
        stream: &mut Streaming<pb::UploadChunk>,
        staging: &Staging,
        entry: &SourceEntry,
        log: &mut Log,
    ) -> Result<Vec<Staged>, Status> {
        let limits = self.limits;
        let mut done: Vec<Staged> = Vec::new();
        let mut open: Option<Receiving> = None;
        let mut received = 0u64;
        let mut decompressed = 0u64;
        while let Some(chunk) = stream.message().await? {
            match chunk.part {
                None => {}
                Some(pb::upload_chunk::Part::Header(_)) => {
                    return Err(Status::invalid_argument(
                        "header: only the first message of an upload is a header",
                    ));
                }
                Some(pb::upload_chunk::Part::File(f)) => {
                    if let Some(r) = open.take() {
                        done.push(r.finish(&mut decompressed, limits).await?);
                    }
                    if done.len() >= limits.max_files {
                        return Err(Status::failed_precondition(format!(
                            "{}: an upload may have at most {} files (the server's \
                             max_upload_files)",
                            f.file_name, limits.max_files
                        )));
                    }
                    check_file_name(&f.file_name)?;
                    if done.iter().any(|d| d.name == f.file_name) {
                        return Err(Status::invalid_argument(format!(
                            "file_name: {:?} is sent twice in this upload",
                            f.file_name
                        )));
                    }
                    if f.boundaries && entry.kind != Kind::Crime {
                        return Err(Status::invalid_argument(format!(
                            "{}: boundary files apply to kind crime only",
                            f.file_name
                        )));
                    }
                    log.files.push(f.file_name.clone());
                    open = Some(Receiving::create(staging.path(), f).await?);
                }
                Some(pb::upload_chunk::Part::Data(bytes)) => {
                    let Some(r) = open.as_mut() else {
                        return Err(Status::invalid_argument(
                            "data: file bytes before any file was started",
                        ));
                    };
                    received += bytes.len() as u64;
                    log.bytes = received;
                    if received > limits.max_bytes {
                        return Err(Status::failed_precondition(format!(
                            "{}: the upload is larger than {} bytes, the server's \
                             max_upload_bytes",
                            r.name, limits.max_bytes
                        )));
                    }
                    r.write(&bytes, decompressed, limits).await?;
                }
            }
        }
        if let Some(r) = open.take() {
            done.push(r.finish(&mut decompressed, limits).await?);
        }
        Ok(done)
    }
}

/// Reads and publishes a fully received upload; the staging directory goes when this ends.
async fn commit(
    state: Arc<State>,
    publishing: Arc<tokio::sync::Mutex<()>>,
    entry: SourceEntry,
    files: Vec<Staged>,
    staging: Staging,
) -> Result<pb::UploadResponse, Status> {
    let response = |status: &str, version: u64, rows: u64| pb::UploadResponse {
        status: status.into(),
        dataset: entry.id.clone(),
        version,
        rows,
        files: files
            .iter()
            .map(|f| pb::UploadedFile {
                file_name: f.name.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                boundaries: f.boundaries,
            })
            .collect(),
    };
    let _one_at_a_time = publishing.lock().await;
    let warehouse = state.engine.warehouse();
    let unavailable = |e: renewal_warehouse::WarehouseError| Status::unavailable(e.to_string());
    let current = warehouse.current(&entry.id).await.map_err(unavailable)?;
    if let Some(current) = &current
        && renewal_refresh::inputs_unchanged(
            current,
            files.iter().map(|f| f.sha256.as_str()).collect(),
            state.engine.catalog(),
        )
    {
        return Ok(response("unchanged", current.version, current.total_rows()));
    }
    // Parsing is the expensive part: it takes a query slot, so overload protection covers
    // uploads too (refused at once when none is free, like a question).
    let _slot = state.slots.clone().try_acquire_owned().map_err(|_| {
        let mut status = Status::resource_exhausted(
            "the server is running its maximum number of queries; retry shortly",
        );
        status.metadata_mut().insert(
            "grpc-retry-pushback-ms",
            tonic::metadata::MetadataValue::from(crate::RETRY_PUSHBACK_MS),
        );
        status
    })?;
    let read = {
        let state = state.clone();
        let entry = entry.clone();
        let data: Vec<PathBuf> = files
            .iter()
            .filter(|f| !f.boundaries)
            .map(|f| f.path.clone())
            .collect();
        let boundaries: Vec<PathBuf> = files
            .iter()
            .filter(|f| f.boundaries)
            .map(|f| f.path.clone())
            .collect();
        tokio::task::spawn_blocking(move || {
            let boundaries = if boundaries.is_empty() {
                None
            } else {
                Some(renewal_ingest::Boundaries::load(
                    &boundaries,
                    entry.code_property.as_deref(),
                )?)
            };
            renewal_refresh::read_draft(state.engine.catalog(), &entry, &data, boundaries.as_ref())
        })
        .await
        .map_err(|e| Status::internal(format!("reading the upload: {e}")))?
    };
    let draft = read.map_err(|e| read_status(e, staging.path()))?;
    match renewal_refresh::publish_draft(warehouse, &entry, draft)
        .await
        .map_err(unavailable)?
    {
        Published::New(m) => Ok(response("published", m.version, m.total_rows())),
        Published::Unchanged(m) => Ok(response("unchanged", m.version, m.total_rows())),
    }
}

/// The sources.toml entry an upload's header stands for, with the same checks
/// `SourcesFile::load` makes of one.
fn entry(h: &pb::UploadHeader) -> Result<SourceEntry, Status> {
    let invalid = |m: String| Status::invalid_argument(m);
    let names = || {
        Kind::NAMES
            .iter()
            .filter(|(_, k)| k.takes_dataset_id())
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kind = Kind::from_name(&h.kind).ok_or_else(|| {
        invalid(format!(
            "kind: {:?} is not a kind; upload one of {}",
            h.kind,
            names()
        ))
    })?;
    if !kind.takes_dataset_id() {
        return Err(invalid(format!(
            "kind: {} files make dataset ids of their own, outside any partner namespace; \
             upload one of {}",
            h.kind,
            names()
        )));
    }
    if !h.vintage.is_empty() {
        return Err(invalid(
            "vintage: applies to kind imd only, which cannot be uploaded".into(),
        ));
    }
    if kind != Kind::Crime && (!h.code_property.is_empty() || h.assign_all) {
        return Err(invalid(
            "code_property and assign_all apply to kind crime only".into(),
        ));
    }
    Ok(SourceEntry {
        id: h.dataset_id.clone(),
        kind,
        vintage: None,
        period: Some(h.period.clone()).filter(|p| !p.trim().is_empty()),
        location: Vec::new(),
        sha256: Default::default(),
        keep: (h.keep > 0).then_some(h.keep as usize),
        boundaries: Vec::new(),
        code_property: Some(h.code_property.clone()).filter(|c| !c.is_empty()),
        assign_all: h.assign_all,
    })
}

/// A client's file name is used as the staged file's name (the readers and the manifest show
/// it), so it must name a plain file inside the staging directory.
fn check_file_name(name: &str) -> Result<(), Status> {
    let bad = |why: &str| {
        Err(Status::invalid_argument(format!(
            "file_name: {name:?} {why}"
        )))
    };
    if name.is_empty() {
        return bad("is empty");
    }
    if name.len() > 255 {
        return bad("is longer than 255 bytes");
    }
    if name.contains('/') || name.contains('\\') {
        return bad("has a directory separator: give the file's name only");
    }
    if name.contains("..") {
        return bad("contains `..`");
    }
    if name.starts_with('.') {
        return bad("starts with a dot");
    }
    if name.chars().any(char::is_control) {
        return bad("has control characters");
    }
    Ok(())
}

/// The gRPC status of a read failure: bad input is INVALID_ARGUMENT with the CLI's message,
/// the staging directory taken out so it names the uploaded file as the client did.
fn read_status(e: ReadError, staging: &Path) -> Status {
    use renewal_ingest::IngestError;
    let dir = staging.display().to_string();
    let message = e
        .to_string()
        .replace(&format!("{dir}/"), "")
        .replace(&dir, "<upload>");
    match e {
        ReadError::Datasets(_)
        | ReadError::Ingest(IngestError::Invalid { .. } | IngestError::Usage(_)) => {
            Status::invalid_argument(message)
        }
        ReadError::Ingest(_) => Status::internal(message),
    }
}

/// The staging directory of one upload, removed when dropped, on every exit path.
struct Staging {
    dir: tempfile::TempDir,
}

impl Staging {
    fn create(root: &Path) -> Result<Staging, Status> {
        let failed = |e: std::io::Error| {
            Status::internal(format!("staging the upload in {}: {e}", root.display()))
        };
        std::fs::create_dir_all(root).map_err(failed)?;
        let dir = tempfile::Builder::new()
            .prefix("upload-")
            .tempdir_in(root)
            .map_err(failed)?;
        Ok(Staging { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A file fully received.
struct Staged {
    name: String,
    boundaries: bool,
    path: PathBuf,
    size: u64,
    sha256: String,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How a file's decompressed size is being counted.
enum Inflate {
    /// Fewer than two bytes seen: not yet known whether it is gzip (the readers decide by the
    /// same magic bytes, not by the name).
    Undecided(Vec<u8>),
    Gzip(Box<flate2::write::MultiGzDecoder<Counter>>),
    Plain,
}

/// Counts inflated bytes and refuses more than `allowed`.
struct Counter {
    written: u64,
    allowed: u64,
    exceeded: bool,
}

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written += buf.len() as u64;
        if self.written > self.allowed {
            self.exceeded = true;
            return Err(std::io::Error::other("decompressed size limit"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A file being received.
struct Receiving {
    name: String,
    boundaries: bool,
    path: PathBuf,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
    inflate: Inflate,
}

impl Receiving {
    async fn create(dir: &Path, f: pb::UploadFile) -> Result<Receiving, Status> {
        let path = dir.join(&f.file_name);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| Status::internal(format!("staging {}: {e}", f.file_name)))?;
        Ok(Receiving {
            name: f.file_name,
            boundaries: f.boundaries,
            path,
            file,
            hasher: Sha256::new(),
            size: 0,
            inflate: Inflate::Undecided(Vec::new()),
        })
    }

    /// Appends `bytes`; `before` is what earlier files decompressed to.
    async fn write(
        &mut self,
        bytes: &[u8],
        before: u64,
        limits: UploadLimits,
    ) -> Result<(), Status> {
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| Status::internal(format!("staging {}: {e}", self.name)))?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        self.count(bytes, before, limits, false)
    }

    /// Feeds the decompressed-size count; `end` at the end of the file.
    fn count(
        &mut self,
        bytes: &[u8],
        before: u64,
        limits: UploadLimits,
        end: bool,
    ) -> Result<(), Status> {
        let allowed = limits.max_decompressed_bytes.saturating_sub(before);
        if let Inflate::Undecided(head) = &mut self.inflate {
            head.extend_from_slice(bytes);
            if head.len() < GZIP_MAGIC.len() && !end {
                return Ok(());
            }
            let head = std::mem::take(head);
            self.inflate = if head.starts_with(&GZIP_MAGIC) {
                Inflate::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Counter {
                    written: 0,
                    allowed,
                    exceeded: false,
                })))
            } else {
                Inflate::Plain
            };
            // The bytes held back are counted now, in place of this call's.
            return self.count_decided(&head, before, limits, end);
        }
        self.count_decided(bytes, before, limits, end)
    }

    fn count_decided(
        &mut self,
        bytes: &[u8],
        before: u64,
        limits: UploadLimits,
        end: bool,
    ) -> Result<(), Status> {
        let too_big = |name: &str| {
            Status::failed_precondition(format!(
                "{name}: the upload decompresses to more than {} bytes, the server's \
                 max_upload_decompressed_bytes",
                limits.max_decompressed_bytes
            ))
        };
        match &mut self.inflate {
            Inflate::Undecided(_) => Ok(()),
            Inflate::Plain => {
                if before + self.size > limits.max_decompressed_bytes {
                    return Err(too_big(&self.name));
                }
                Ok(())
            }
            Inflate::Gzip(decoder) => {
                let mut result = decoder.write_all(bytes);
                if end && result.is_ok() {
                    result = decoder.try_finish();
                }
                match result {
                    Ok(()) => Ok(()),
                    Err(_) if decoder.get_ref().exceeded => Err(too_big(&self.name)),
                    // The same words as the readers' for a bad gzip stream.
                    Err(e) => Err(Status::invalid_argument(format!(
                        "{}: gzip data is truncated or corrupt ({e})",
                        self.name
                    ))),
                }
            }
        }
    }

    /// Closes the file; adds what it decompressed to to `decompressed`.
    async fn finish(
        mut self,
        decompressed: &mut u64,
        limits: UploadLimits,
    ) -> Result<Staged, Status> {
        self.count(&[], *decompressed, limits, true)?;
        let inflated = match &self.inflate {
            Inflate::Gzip(d) => d.get_ref().written,
            _ => self.size,
        };
        *decompressed += inflated;
        self.file
            .flush()
            .await
            .map_err(|e| Status::internal(format!("staging {}: {e}", self.name)))?;
        Ok(Staged {
            name: self.name,
            boundaries: self.boundaries,
            path: self.path,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_name_a_plain_file() {
        for ok in [
            "best_value.csv",
            "2021-01-gmp-street.csv",
            "File 5.xlsx",
            "a.csv.gz",
        ] {
            assert!(check_file_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../x.csv",
            "dir/x.csv",
            "dir\\x.csv",
            ".hidden",
            "..",
            "a..b",
            "x\n.csv",
        ] {
            let e = check_file_name(bad).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad}");
            assert!(e.message().starts_with("file_name:"), "{}", e.message());
        }
    }
}
