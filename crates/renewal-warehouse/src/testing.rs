//! Test support (feature `testing`): an [`ObjectStore`] wrapper that fails chosen writes.
//!
//! Tests run as root, where a read-only directory does not stop a write, so failing writes
//! and a full disk are simulated here instead: [`FaultyStore`] passes every call to the store
//! it wraps, counts the writes (puts, multipart parts and completions, copies, renames,
//! deletes) and fails the n-th one, before it reaches the inner store, with either an injected
//! error or "disk full" (an `io::Error` of kind `StorageFull` wrapped as
//! `object_store::Error::Generic`, which is how `object_store` reports an OS error it has no
//! variant for). Reads are never failed.
//!
//! ```
//! # use std::sync::Arc;
//! # use object_store::memory::InMemory;
//! use renewal_warehouse::testing::{Fault, FaultyStore};
//! use renewal_warehouse::Warehouse;
//!
//! let store = FaultyStore::new(Arc::new(InMemory::new()));
//! store.fail_nth_write(3, Fault::DiskFull);
//! let warehouse = Warehouse::from_store(store.clone(), "memory:///");
//! # let _ = warehouse;
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
    UploadPart,
};

/// A kind of write, as [`FaultyStore`] counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `put_opts` (plain and conditional puts).
    Put,
    /// Starting a multipart upload, each of its parts, and its completion.
    Multipart,
    /// `copy_opts` (including `copy_if_not_exists`).
    Copy,
    /// `rename_opts` (including `rename_if_not_exists`).
    Rename,
    /// Each location of a `delete` or `delete_stream`.
    Delete,
}

/// What a failed write reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A generic I/O failure.
    Fail,
    /// `ErrorKind::StorageFull` ("No space left on device").
    DiskFull,
}

/// One write the store saw, in order; `failed` when it was the injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Its kind.
    pub op: Op,
    /// The location written (for copies and renames, the destination).
    pub path: String,
    /// Whether this write was failed.
    pub failed: bool,
}

#[derive(Debug, Default)]
struct Plan {
    /// Fail the write with this 1-based number…
    nth: Option<u64>,
    fault: Option<Fault>,
    /// …and, when sticky, every write after it (a disk that stays full).
    sticky: bool,
    seen: u64,
    log: Vec<Write>,
}

/// An [`ObjectStore`] that fails the n-th write. See the [module docs](self).
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    plan: Arc<Mutex<Plan>>,
}

impl FaultyStore {
    /// Wraps `inner`; no write fails until a fault is planned.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner,
            plan: Arc::default(),
        })
    }

    /// Fails the `n`-th write from now (1-based) and no other.
    pub fn fail_nth_write(&self, n: u64, fault: Fault) {
        self.plan_fault(n, fault, false);
    }

    /// Fails the `n`-th write from now and every write after it, as a disk that has filled up.
    pub fn fail_from_nth_write(&self, n: u64, fault: Fault) {
        self.plan_fault(n, fault, true);
    }

    fn plan_fault(&self, n: u64, fault: Fault, sticky: bool) {
        let mut plan = self.lock();
        plan.nth = Some(n.max(1));
        plan.fault = Some(fault);
        plan.sticky = sticky;
        plan.seen = 0;
        plan.log.clear();
    }

    /// Stops failing writes and forgets the log.
    pub fn heal(&self) {
        *self.lock() = Plan::default();
    }

    /// The writes seen since the last plan (or [`heal`](Self::heal)), in order.
    pub fn writes(&self) -> Vec<Write> {
        self.lock().log.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts one write and decides whether it fails; shared with multipart uploads.
fn check(plan: &Mutex<Plan>, op: Op, path: &Path) -> object_store::Result<()> {
    let mut plan = plan.lock().unwrap_or_else(PoisonError::into_inner);
    plan.seen += 1;
    let number = plan.seen;
    let fails = match plan.nth {
        Some(n) if plan.sticky => number >= n,
        Some(n) => number == n,
        None => false,
    };
    plan.log.push(Write {
        op,
        path: path.to_string(),
        failed: fails,
    });
    if !fails {
        return Ok(());
    }
    let error = match plan.fault.unwrap_or(Fault::Fail) {
        Fault::DiskFull => std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("No space left on device (injected at write {number}, {op:?} {path})"),
        ),
        Fault::Fail => std::io::Error::other(format!(
            "injected failure of write {number} ({op:?} {path})"
        )),
    };
    Err(object_store::Error::Generic {
        store: "FaultyStore",
        source: Box::new(error),
    })
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        check(&self.plan, Op::Put, location)?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        check(&self.plan, Op::Multipart, location)?;
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload {
            inner,
            path: location.clone(),
            plan: Arc::clone(&self.plan),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let inner = Arc::clone(&self.inner);
        let plan = Arc::clone(&self.plan);
        locations
            .then(move |location| {
                let inner = Arc::clone(&inner);
                let plan = Arc::clone(&plan);
                async move {
                    let location = location?;
                    check(&plan, Op::Delete, &location)?;
                    inner.delete(&location).await?;
                    Ok(location)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        check(&self.plan, Op::Copy, to)?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        check(&self.plan, Op::Rename, to)?;
        self.inner.rename_opts(from, to, options).await
    }
}

#[derive(Debug)]
struct FaultyUpload {
    inner: Box<dyn MultipartUpload>,
    path: Path,
    plan: Arc<Mutex<Plan>>,
}

#[async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        match check(&self.plan, Op::Multipart, &self.path) {
            Ok(()) => self.inner.put_part(data),
            Err(e) => async move { Err(e) }.boxed(),
        }
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        check(&self.plan, Op::Multipart, &self.path)?;
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}
