//! Crash safety of the real binary: `renewal ingest` killed (SIGKILL) at every named crash
//! point of a publish (`RENEWAL_CRASH_AT`), and `renewal refresh` killed with
//! SIGKILL while it holds its lock. After each: the warehouse opens, every file a manifest
//! names is intact, the current version is the old one or the new one (by its sources'
//! hashes, computed here from the input files), answers equal those of a clean warehouse built
//! from the same files (so no orphan is read), and a rerun succeeds.
//! `scripts/reliability/kill-loop.sh` does the same at random moments, at length.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::Renewal;

const DATASET: &str = "iod-2019";

/// One seed of the sample: its IoD files, their hashes, and the LAD summary a clean warehouse
/// gives for them.
struct Seed {
    files: Vec<PathBuf>,
    hashes: BTreeSet<String>,
    summary: String,
}

fn seed(root: &Path, seed: u64) -> Seed {
    let dir = root.join(format!("sample-{seed}"));
    let scratch = Renewal::new(&root.join(format!("clean-{seed}")));
    scratch.ok([
        "sample",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        &seed.to_string(),
    ]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("File_")
        })
        .collect();
    files.sort();
    let hashes = files
        .iter()
        .map(|f| renewal_warehouse::sha256_hex(&std::fs::read(f).unwrap()))
        .collect();
    let mut ingest = vec![
        "ingest".into(),
        "imd".into(),
        "--vintage".into(),
        "2019".into(),
    ];
    ingest.extend(files.iter().map(|f| f.to_str().unwrap().to_owned()));
    scratch.ok(&ingest);
    let summary = summary(&scratch);
    Seed {
        files,
        hashes,
        summary,
    }
}

fn summary(r: &Renewal) -> String {
    r.ok(["summary", "--vintage", "2019", "--level", "lad"])
}

fn ingest_args(seed: &Seed) -> Vec<String> {
    let mut args: Vec<String> = ["ingest", "imd", "--vintage", "2019", "--keep", "2"]
        .map(String::from)
        .into();
    args.extend(seed.files.iter().map(|f| f.to_str().unwrap().to_owned()));
    args
}

/// The source hashes of the current version, as `warehouse list --json` shows them.
fn current_hashes(r: &Renewal) -> BTreeSet<String> {
    let list: serde_json::Value =
        serde_json::from_str(&r.ok(["warehouse", "list", "--dataset", DATASET, "--json"])).unwrap();
    // Newest version first.
    list[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sha256"].as_str().unwrap().to_owned())
        .collect()
}

/// The warehouse opens, lists the dataset, and every file every manifest names is intact.
fn assert_intact(r: &Renewal, context: &str) {
    let out = r.run(["warehouse", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{context}: verify failed:\n{stdout}");
    assert!(stdout.contains("; 0 problems,"), "{context}: {stdout}");
    let list = r.ok(["warehouse", "list"]);
    assert!(list.contains(&format!("{DATASET} v")), "{context}: {list}");
}

#[test]
fn ingest_killed_at_every_crash_point_leaves_the_old_or_the_new_version() {
    let dir = renewal_test_support::temp_dir();
    let seeds = [seed(dir.path(), 1), seed(dir.path(), 7)];
    assert_ne!(seeds[0].summary, seeds[1].summary, "the seeds must differ");
    let r = Renewal::new(&dir.path().join("warehouse"));
    // Two versions, so that every publish below also expires one (keep 2).
    r.ok(ingest_args(&seeds[0]));
    r.ok(ingest_args(&seeds[1]));
    let mut old = 1;
    let switched = renewal_warehouse::CRASH_POINTS
        .iter()
        .position(|p| *p == "manifest-switched")
        .unwrap();
    let mut covered = 0;
    for (i, point) in renewal_warehouse::CRASH_POINTS.iter().enumerate() {
        if point.starts_with("refresh-") {
            continue;
        }
        let new = 1 - old;
        let context = format!("crash at {point}");
        let out = r
            .command()
            .args(ingest_args(&seeds[new]))
            .env(renewal_warehouse::CRASH_ENV, point)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(9),
            "{context}: not killed: {stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "RENEWAL_CRASH_AT={point}: killing the process here"
            )),
            "{context}: {stderr}"
        );
        assert_intact(&r, &context);
        // Before the switch the old version is current, from then on the new one; either
        // way its answers are exactly a clean warehouse's.
        let current = if i < switched { old } else { new };
        assert_eq!(current_hashes(&r), seeds[current].hashes, "{context}");
        assert_eq!(summary(&r), seeds[current].summary, "{context}");
        // A rerun succeeds (publishing, or finding the version already there).
        r.ok(ingest_args(&seeds[new]));
        assert_intact(&r, &context);
        assert_eq!(current_hashes(&r), seeds[new].hashes, "{context}");
        assert_eq!(summary(&r), seeds[new].summary, "{context}");
        old = new;
        covered += 1;
    }
    assert_eq!(covered, renewal_warehouse::CRASH_POINTS.len() - 1);
}

/// A refresh killed with SIGKILL while it holds the lock (blocked fetching from a server that
/// accepts and never answers) leaves nothing that blocks the next refresh; while it lives, a
/// second refresh is refused with exit status 3 and the holder's pid.
#[test]
fn a_refresh_killed_holding_the_lock_does_not_block_the_next() {
    let dir = renewal_test_support::temp_dir();
    let s = seed(dir.path(), 1);
    let r = Renewal::new(&dir.path().join("warehouse"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let slow = renewal_test_support::write_file(
        dir.path(),
        "slow.toml",
        format!(
            "[[dataset]]\nid = \"{DATASET}\"\nkind = \"imd\"\nvintage = \"2019\"\n\
             location = \"http://{}/File_2.csv\"\n",
            listener.local_addr().unwrap()
        ),
    );
    let files: Vec<String> = s
        .files
        .iter()
        .map(|f| format!("{:?}", f.to_str().unwrap()))
        .collect();
    let local = renewal_test_support::write_file(
        dir.path(),
        "local.toml",
        format!(
            "[[dataset]]\nid = \"{DATASET}\"\nkind = \"imd\"\nvintage = \"2019\"\nkeep = 2\n\
             location = [{}]\n",
            files.join(", ")
        ),
    );
    let mut holder = r
        .command()
        .args(["refresh", "--sources", slow.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the holder whatever happens below, so a failing test leaves no process behind.
    struct KillOnDrop<'a>(&'a mut std::process::Child);
    impl Drop for KillOnDrop<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let pid = holder.id();
    let guard = KillOnDrop(&mut holder);
    // It has connected, so it holds the lock (taken before any fetch).
    let (_connection, _) = listener.accept().unwrap();
    let refused = r.run(["refresh", "--sources", local.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!("another refresh (pid {pid}) is running")),
        "{stderr}"
    );

    guard.0.kill().unwrap(); // SIGKILL
    let status = guard.0.wait().unwrap();
    assert_eq!(status.signal(), Some(9));
    drop(guard);
    let out = r.ok(["refresh", "--sources", local.to_str().unwrap()]);
    assert!(out.contains(&format!("{DATASET}: refreshed")), "{out}");

    // The same with the refresh killed at its own crash point, right after locking.
    let killed = r
        .command()
        .args(["refresh", "--sources", local.to_str().unwrap()])
        .env(renewal_warehouse::CRASH_ENV, "refresh-locked")
        .output()
        .unwrap();
    assert_eq!(killed.status.signal(), Some(9));
    let out = r.ok(["refresh", "--sources", local.to_str().unwrap()]);
    assert!(out.contains(&format!("{DATASET}: unchanged")), "{out}");
    assert_intact(&r, "after the killed refreshes");
    assert_eq!(summary(&r), s.summary);
}
