//! What the version switch needs from a store, tested on the stores this crate supports: a
//! create-if-absent that exactly one of two writers wins without disturbing the winner's
//! bytes, on `object_store`'s in-memory store (the stand-in for S3-compatible stores: the same
//! `PutMode::Create` call) and on the local directory (a hard link, `copy_if_not_exists`).
//! Real S3 is not tested here.

use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions};
use renewal_warehouse::{PublishOptions, Published, Warehouse};

use crate::{DATASET, draft, tags_read};

fn create() -> PutOptions {
    PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    }
}

async fn read(store: &dyn ObjectStore, path: &Path) -> Vec<u8> {
    store
        .get(path)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn conditional_put_lets_exactly_one_writer_create() {
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Arc<dyn ObjectStore>> = vec![
        Arc::new(InMemory::new()),
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap()),
    ];
    for store in stores {
        let path = Path::from("d/_versions/00000000000000000001.json");
        store
            .put_opts(&path, b"first".to_vec().into(), create())
            .await
            .unwrap();
        let err = store
            .put_opts(&path, b"second".to_vec().into(), create())
            .await
            .unwrap_err();
        assert!(
            matches!(err, object_store::Error::AlreadyExists { .. }),
            "{store}: {err}"
        );
        assert_eq!(read(store.as_ref(), &path).await, b"first", "{store}");

        // Racing creators: exactly one wins, and the object holds the winner's bytes.
        let race = Path::from("d/_versions/00000000000000000002.json");
        let attempts = (0..8).map(|i| {
            let store = Arc::clone(&store);
            let race = race.clone();
            async move {
                store
                    .put_opts(&race, format!("writer {i}").into_bytes().into(), create())
                    .await
                    .map(|_| i)
            }
        });
        let results = futures::future::join_all(attempts).await;
        let winners: Vec<usize> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert_eq!(winners.len(), 1, "{store}: {results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(e, object_store::Error::AlreadyExists { .. })),
            "{store}"
        );
        assert_eq!(
            read(store.as_ref(), &race).await,
            format!("writer {}", winners[0]).into_bytes(),
            "{store}"
        );
    }
}

/// The local switch: a hard link refuses an existing target and leaves it as it was.
#[tokio::test]
async fn copy_if_not_exists_refuses_an_existing_target_on_a_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    let (a, b, target) = (
        Path::from("v/.a.tmp"),
        Path::from("v/.b.tmp"),
        Path::from("v/1.json"),
    );
    store.put(&a, b"from a".to_vec().into()).await.unwrap();
    store.put(&b, b"from b".to_vec().into()).await.unwrap();
    store.copy_if_not_exists(&a, &target).await.unwrap();
    let err = store.copy_if_not_exists(&b, &target).await.unwrap_err();
    assert!(
        matches!(err, object_store::Error::AlreadyExists { .. }),
        "{err}"
    );
    assert_eq!(read(&store, &target).await, b"from a");
}

/// The whole life of a dataset on an object store that is not a local directory: versions,
/// the current one, pins, retention and verification, through the same code as on disk.
#[tokio::test]
async fn a_warehouse_on_an_in_memory_object_store() {
    let warehouse = Warehouse::from_store(Arc::new(InMemory::new()), "memory:///");
    assert!(warehouse.local_root().is_none());
    let keep = PublishOptions {
        keep_versions: 2,
        only_after: None,
    };
    for (i, tag) in ["aa", "bb", "cc"].into_iter().enumerate() {
        let published = warehouse.publish(draft(tag), keep).await.unwrap();
        assert!(matches!(&published, Published::New(m) if m.version == i as u64 + 1));
    }
    assert!(matches!(
        warehouse.publish(draft("cc"), keep).await.unwrap(),
        Published::Unchanged(m) if m.version == 3
    ));
    assert_eq!(warehouse.datasets().await.unwrap(), [DATASET]);
    let held: Vec<u64> = warehouse
        .versions(DATASET)
        .await
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(held, [2, 3]);
    let v2 = warehouse.manifest(DATASET, Some(2)).await.unwrap();
    assert_eq!(tags_read(&warehouse, &v2).await, ["bb"]);
    let current = warehouse.current(DATASET).await.unwrap().unwrap();
    assert_eq!(tags_read(&warehouse, &current).await, ["cc"]);
    assert!(
        warehouse
            .file_url(&current.tables[0].files[0])
            .starts_with("memory:///census-test/data/v3-")
    );
    let check = warehouse.verify().await.unwrap();
    assert_eq!((check.versions, check.files), (2, 4));
    assert!(
        check.problems.is_empty() && check.orphans.is_empty(),
        "{check:?}"
    );
}
