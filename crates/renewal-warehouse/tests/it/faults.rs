//! Every write of a publish (data files, the manifest switch, retention) failed in turn, once
//! or from then on (a disk that stays full), on a local directory and on an in-memory object
//! store: the publish reports a clear error when it fails before the switch, the warehouse
//! opens and shows the old version complete, no orphan is read, and a retry succeeds.

use std::sync::Arc;

use object_store::memory::InMemory;
use renewal_warehouse::testing::{Fault, FaultyStore, Op};
use renewal_warehouse::{PublishOptions, Published, Warehouse, WarehouseError};

use crate::{DATASET, draft, tags_read};

const KEEP: PublishOptions = PublishOptions {
    keep_versions: 2,
    only_after: None,
};

#[derive(Debug, Clone, Copy)]
enum Backend {
    Local,
    Memory,
}

/// A warehouse holding versions 1 ("aa") and 2 ("bb") of [`DATASET`], keeping two, so that
/// publishing version 3 writes data, switches and expires version 1. The temp dir lives as
/// long as the returned guard.
async fn two_versions(
    backend: Backend,
) -> (Warehouse, Arc<FaultyStore>, Option<tempfile::TempDir>) {
    let faulty = std::cell::RefCell::new(None);
    let (warehouse, dir) = match backend {
        Backend::Local => {
            let dir = tempfile::tempdir().unwrap();
            let wh = Warehouse::open_local(dir.path())
                .unwrap()
                .with_store_layer(|inner| {
                    let f = FaultyStore::new(inner);
                    *faulty.borrow_mut() = Some(Arc::clone(&f));
                    f
                });
            (wh, Some(dir))
        }
        Backend::Memory => {
            let f = FaultyStore::new(Arc::new(InMemory::new()));
            *faulty.borrow_mut() = Some(Arc::clone(&f));
            (Warehouse::from_store(f, "memory:///"), None)
        }
    };
    let faulty = faulty.into_inner().unwrap();
    for tag in ["aa", "bb"] {
        assert!(matches!(
            warehouse.publish(draft(tag), KEEP).await.unwrap(),
            Published::New(_)
        ));
    }
    (warehouse, faulty, dir)
}

fn versions_of(ms: &[renewal_warehouse::Manifest]) -> Vec<u64> {
    ms.iter().map(|m| m.version).collect()
}

/// The writes of a healthy publish of version 3, and the 1-based number of the switch.
async fn clean_publish(backend: Backend) -> (Vec<renewal_warehouse::testing::Write>, usize) {
    let (warehouse, faulty, _dir) = two_versions(backend).await;
    faulty.heal();
    warehouse.publish(draft("cc"), KEEP).await.unwrap();
    let writes = faulty.writes();
    let switch = writes
        .iter()
        .position(|w| {
            w.path == format!("{DATASET}/_versions/00000000000000000003.json")
                && matches!(w.op, Op::Put | Op::Copy)
        })
        .expect("the switch is one of the writes")
        + 1;
    (writes, switch)
}

async fn fault_every_write(backend: Backend) {
    let (writes, switch) = clean_publish(backend).await;
    // Two data files, the switch, the journalled expiry of version 1 and its deletions.
    let ops: Vec<Op> = writes.iter().map(|w| w.op).collect();
    let expected: &[Op] = match backend {
        // data ×2, staging put, hard link, staging delete, journal, manifest, files ×2, journal
        Backend::Local => &[
            Op::Put,
            Op::Put,
            Op::Put,
            Op::Copy,
            Op::Delete,
            Op::Put,
            Op::Delete,
            Op::Delete,
            Op::Delete,
            Op::Delete,
        ],
        // data ×2, conditional put, journal, manifest, files ×2, journal
        Backend::Memory => &[
            Op::Put,
            Op::Put,
            Op::Put,
            Op::Put,
            Op::Delete,
            Op::Delete,
            Op::Delete,
            Op::Delete,
        ],
    };
    assert_eq!(ops, expected, "{writes:#?}");

    let mut cases = 0;
    for n in 1..=writes.len() {
        for fault in [Fault::Fail, Fault::DiskFull] {
            for sticky in [false, true] {
                let case = format!(
                    "{backend:?}: write {n} of {} ({:?} {}), {fault:?}, sticky {sticky}",
                    writes.len(),
                    writes[n - 1].op,
                    writes[n - 1].path
                );
                let (warehouse, faulty, _dir) = two_versions(backend).await;
                let before = warehouse.current(DATASET).await.unwrap().unwrap();
                if sticky {
                    faulty.fail_from_nth_write(n as u64, fault);
                } else {
                    faulty.fail_nth_write(n as u64, fault);
                }
                let outcome = warehouse.publish(draft("cc"), KEEP).await;
                faulty.heal();

                // The warehouse opens (a fresh handle over the same store) and lists the dataset.
                let reopened = match backend {
                    Backend::Local => {
                        Warehouse::open_local(warehouse.local_root().unwrap()).unwrap()
                    }
                    Backend::Memory => warehouse.clone(),
                };
                assert_eq!(reopened.datasets().await.unwrap(), [DATASET], "{case}");
                let current = reopened.current(DATASET).await.unwrap().unwrap();
                // Up to and including the switch itself, the publish fails.
                if n <= switch {
                    let err = outcome.expect_err(&case);
                    assert!(
                        matches!(err, WarehouseError::Publish { version: 3, .. }),
                        "{case}: {err}"
                    );
                    let text = err.to_string();
                    assert!(
                        text.starts_with(&format!("publishing {DATASET} version 3 failed while "))
                            && text.ends_with("the current version is unchanged"),
                        "{case}: {text}"
                    );
                    if fault == Fault::DiskFull {
                        assert!(text.contains("No space left on device"), "{case}: {text}");
                    }
                    assert_eq!(current, before, "{case}");
                    assert_eq!(tags_read(&reopened, &current).await, ["bb"], "{case}");
                    assert_eq!(
                        versions_of(&reopened.versions(DATASET).await.unwrap()),
                        [1, 2],
                        "{case}"
                    );
                } else {
                    // After the switch the publish has happened; retention trouble is a warning.
                    let published = outcome.expect(&case);
                    assert!(
                        matches!(&published, Published::New(m) if m.version == 3),
                        "{case}"
                    );
                    assert_eq!(current.version, 3, "{case}");
                    assert_eq!(tags_read(&reopened, &current).await, ["cc"], "{case}");
                    let held = versions_of(&reopened.versions(DATASET).await.unwrap());
                    assert!(held == [1, 2, 3] || held == [2, 3], "{case}: {held:?}");
                }
                // Every version still listed is complete: each file it names exists, has its
                // recorded hash and rows, and holds that version's data and no other.
                let check = reopened.verify().await.unwrap();
                assert_eq!(check.problems, Vec::<String>::new(), "{case}");
                for m in reopened.versions(DATASET).await.unwrap() {
                    let tag = ["aa", "bb", "cc"][m.version as usize - 1];
                    assert_eq!(tags_read(&reopened, &m).await, [tag], "{case}");
                }

                // A retry without faults succeeds, and the publish after it completes any
                // retention that was interrupted.
                let retry = reopened.publish(draft("cc"), KEEP).await.unwrap();
                assert_eq!(retry.manifest().version, 3, "{case}");
                let next = reopened.publish(draft("dd"), KEEP).await.unwrap();
                assert!(
                    matches!(&next, Published::New(m) if m.version == 4),
                    "{case}"
                );
                assert_eq!(
                    versions_of(&reopened.versions(DATASET).await.unwrap()),
                    [3, 4],
                    "{case}"
                );
                let check = reopened.verify().await.unwrap();
                assert_eq!(check.problems, Vec::<String>::new(), "{case}");
                if !sticky {
                    // A one-off failure leaves nothing behind: the failed attempt's files were
                    // removed and an interrupted expiry was finished.
                    assert_eq!(check.orphans, Vec::<String>::new(), "{case}");
                    assert_eq!(check.expiring, Vec::<String>::new(), "{case}");
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, writes.len() * 4);
}

#[tokio::test]
async fn every_failed_write_on_a_local_directory_leaves_a_complete_version() {
    fault_every_write(Backend::Local).await;
}

#[tokio::test]
async fn every_failed_write_on_an_object_store_leaves_a_complete_version() {
    fault_every_write(Backend::Memory).await;
}

/// A disk that fills up while the first data file is written: the error says so, in words an
/// operator recognises, and names the dataset, the version and the table.
#[tokio::test]
async fn disk_full_is_reported_as_such() {
    let (warehouse, faulty, _dir) = two_versions(Backend::Local).await;
    faulty.fail_from_nth_write(1, Fault::DiskFull);
    let err = warehouse.publish(draft("cc"), KEEP).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "publishing {DATASET} version 3 failed while writing table observations: "
        )),
        "{text}"
    );
    assert!(text.contains("No space left on device"), "{text}");
    let WarehouseError::Publish { cause, .. } = err else {
        panic!("{text}")
    };
    let WarehouseError::Store(object_store::Error::Generic { source, .. }) = *cause else {
        panic!("{text}")
    };
    let io = source.downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
}
