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

/// Runs `tests/reference/<script>` (an independent implementation, Python standard library
/// only) with the system `python3` and `args`, and returns its standard output; panics naming
/// the script and its stderr when it fails.
pub fn python_reference<I, S>(script: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let script = workspace_root().join("tests/reference").join(script);
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the reference implementation: {e}"));
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the reference prints UTF-8")
}

/// Every sheet of a workbook as read by Python openpyxl (`tests/reference/xlsx_cells.py`, an
/// independent reader; its JSON on standard output), run with the project's Python
/// environment (`RENEWAL_PYTHON`). `None`, after a loud skip, when that Python lacks openpyxl
/// outside CI; under CI or with `RENEWAL_REQUIRE_PYTHON_OPENPYXL` (scripts/test.sh installs it
/// and sets it) a missing openpyxl fails the test.
pub fn openpyxl_cells(path: &Path) -> Option<String> {
    let python = std::env::var("RENEWAL_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = std::process::Command::new(&python)
        .args(["-c", "import openpyxl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert!(
            std::env::var_os("RENEWAL_REQUIRE_PYTHON_OPENPYXL").is_none()
                && std::env::var("CI").as_deref() != Ok("true"),
            "{python} lacks openpyxl, which scripts/test.sh installs"
        );
        eprintln!("SKIPPED: {python} has no openpyxl; run scripts/test.sh (it installs it)");
        return None;
    }
    let script = workspace_root().join("tests/reference/xlsx_cells.py");
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    assert!(
        out.status.success(),
        "openpyxl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("the reader prints UTF-8"))
}
