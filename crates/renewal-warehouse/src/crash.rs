//! Named crash points for the kill tests: `RENEWAL_CRASH_AT=<point>` (or `<point>#<n>`, the
//! n-th time the point is reached) makes the process send itself SIGKILL there (on Unix;
//! elsewhere it aborts): no destructors, no flushing, exactly `kill -9`, so tests can stop a
//! publish at the moments that matter: during the Parquet writes, either side of the version
//! switch, during retention.
//!
//! When the variable is unset a crash point costs one load of an initialised `OnceLock` and a
//! branch; the environment is read once per process.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the point to die at.
pub const CRASH_ENV: &str = "RENEWAL_CRASH_AT";

/// Every crash point the warehouse and the refresh job pass, in the order a publish reaches
/// them. The kill tests iterate over this list, so a point added to the code without being
/// listed here is a point no test covers.
pub const CRASH_POINTS: &[&str] = &[
    // renewal-refresh: the lock is held, nothing fetched yet.
    "refresh-locked",
    // Publishing, before anything is written.
    "publish-begin",
    // A table's Parquet file is written but not yet fsynced; later tables are not written.
    "data-table-written",
    // Every data file is written and fsynced; no manifest yet.
    "data-synced",
    // The new manifest is staged (written and fsynced under a temporary name), not switched.
    "manifest-staged",
    // The switch happened: the new version is current. Staging not yet removed.
    "manifest-switched",
    // Retention is about to start.
    "retention-begin",
    // Retention recorded an expiry in `_expired/` but has not deleted the manifest.
    "retention-journalled",
    // Retention deleted an expired version's manifest, not yet its files.
    "retention-manifest-deleted",
    // Retention deleted one file of an expired version.
    "retention-file-deleted",
    // The publish is complete; the process dies before reporting it.
    "publish-end",
];

struct Target {
    point: String,
    nth: u64,
    seen: AtomicU64,
}

fn target() -> &'static Option<Target> {
    static TARGET: OnceLock<Option<Target>> = OnceLock::new();
    TARGET.get_or_init(|| {
        let value = std::env::var(CRASH_ENV).ok()?;
        let (point, nth) = match value.split_once('#') {
            Some((p, n)) => (p.to_owned(), n.parse().unwrap_or(1)),
            None => (value, 1),
        };
        Some(Target {
            point,
            nth: nth.max(1),
            seen: AtomicU64::new(0),
        })
    })
}

/// Kills the process if `RENEWAL_CRASH_AT` names this point (and this is its n-th passage).
/// Public so that the refresh job can mark its own points; `name` should be in
/// [`CRASH_POINTS`].
pub fn crash_point(name: &str) {
    if let Some(t) = target()
        && t.point == name
        && t.seen.fetch_add(1, Ordering::Relaxed) + 1 == t.nth
    {
        eprintln!("{CRASH_ENV}={name}: killing the process here");
        #[cfg(unix)]
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // Not reached on Unix.
        std::process::abort();
    }
}
