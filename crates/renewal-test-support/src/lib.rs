//! Test helpers. The real public datasets live beside the project in `../shared/data`; tests
//! that need them call [`shared_data`] and skip, loudly, when it is absent, unless
//! `RENEWAL_REQUIRE_SHARED_DATA=1` (set by `.ci/run`) makes absence a failure.

use std::path::{Path, PathBuf};

/// The shared real-data directory, or `None` (after printing why) when it is not here.
///
/// Looks at `RENEWAL_SHARED_DATA`, then `<workspace>/../shared/data`.
pub fn shared_data() -> Option<PathBuf> {
    let candidate = std::env::var_os("RENEWAL_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"));
    if candidate.join("README.md").is_file() {
        return Some(candidate);
    }
    let required = std::env::var("RENEWAL_REQUIRE_SHARED_DATA").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "RENEWAL_REQUIRE_SHARED_DATA=1 but the shared data is not at {}",
        candidate.display()
    );
    eprintln!(
        "\n*** SKIPPED: real shared data not found at {} (set RENEWAL_SHARED_DATA); \
         this test checks nothing here ***\n",
        candidate.display()
    );
    None
}

/// Path of a file under the shared data directory; panics if the directory is there but the
/// file is not (that is a broken checkout, not an absent one).
pub fn shared_file(root: &Path, relative: &str) -> PathBuf {
    let path = root.join(relative);
    assert!(path.is_file(), "missing shared file {}", path.display());
    path
}

/// The workspace root: the nearest directory above the running test's crate that holds
/// `Cargo.lock`.
///
/// Found at run time (cargo and nextest set `CARGO_MANIFEST_DIR` for test processes) rather than
/// baked in at compile time, because CI shares one target directory between clones at different
/// paths and a reused artifact would point into another clone.
pub fn workspace_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    start
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(start)
}

/// Writes `contents` to `name` inside `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// A fresh temporary directory, removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temp dir: {e}"))
}
