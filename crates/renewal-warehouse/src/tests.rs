use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use object_store::memory::InMemory;
use parquet::arrow::ArrowWriter;

use super::*;

fn parquet(codes: &[&str], values: &[f64]) -> Bytes {
    let schema = Arc::new(Schema::new(vec![
        Field::new("lsoa_code", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(codes.to_vec())),
            Arc::new(Float64Array::from(values.to_vec())),
        ],
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    Bytes::from(buf)
}

fn draft(source_hash: &str, rows: usize) -> Draft {
    let codes: Vec<String> = (0..rows).map(|i| format!("E01{i:06}")).collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let values: Vec<f64> = (0..rows).map(|i| i as f64).collect();
    Draft {
        dataset: "imd-2019".into(),
        kind: "iod".into(),
        vintage: [("edition".to_owned(), "2019".to_owned())].into(),
        attributes: BTreeMap::new(),
        sources: vec![SourceFile {
            name: "File_6.csv".into(),
            size: 10,
            sha256: source_hash.into(),
            format: "iod2019-official".into(),
            rows: rows as u64,
        }],
        schemas: vec![],
        tables: vec![DraftTable {
            name: "iod".into(),
            parquet: parquet(&codes, &values),
        }],
        notes: vec![],
    }
}

fn keep(n: usize) -> PublishOptions {
    PublishOptions {
        keep_versions: n,
        ..Default::default()
    }
}

#[tokio::test]
async fn publishes_versions_and_keeps_the_old_ones_readable() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    assert!(wh.current("imd-2019").await.unwrap().is_none());

    let v1 = wh.publish(draft("aa", 3), keep(5)).await.unwrap();
    let Published::New(v1) = v1 else {
        panic!("expected a new version")
    };
    assert_eq!(v1.version, 1);
    assert_eq!(v1.table("iod").unwrap().rows, 3);
    assert_eq!(
        v1.table("iod").unwrap().columns[0],
        ColumnEntry {
            name: "lsoa_code".into(),
            data_type: "Utf8".into(),
            nullable: false
        }
    );

    let Published::New(v2) = wh.publish(draft("bb", 4), keep(5)).await.unwrap() else {
        panic!("expected a new version")
    };
    assert_eq!(v2.version, 2);
    assert_eq!(wh.current("imd-2019").await.unwrap().unwrap(), v2);
    assert_eq!(wh.manifest("imd-2019", Some(1)).await.unwrap(), v1);
    assert_eq!(wh.datasets().await.unwrap(), ["imd-2019"]);

    // Both versions' files are on disk, are plain Parquet, and are distinct.
    for m in [&v1, &v2] {
        let file = &m.table("iod").unwrap().files[0];
        let bytes = std::fs::read(dir.path().join(&file.path)).unwrap();
        assert_eq!(sha256_hex(&bytes), file.sha256);
        assert!(file.path.starts_with("imd-2019/data/v"));
    }
    assert_ne!(
        v1.table("iod").unwrap().files[0].path,
        v2.table("iod").unwrap().files[0].path
    );
    let url = wh.file_url(&v2.table("iod").unwrap().files[0]);
    assert!(url.starts_with("file:///"), "{url}");

    let err = wh.manifest("imd-2019", Some(7)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset \"imd-2019\" has no version 7 (available: 1, 2)"
    );
    let err = wh.manifest("imd-2015", None).await.unwrap_err();
    assert!(matches!(err, WarehouseError::NoDataset(_)), "{err}");
}

#[tokio::test]
async fn identical_sources_are_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    wh.publish(draft("aa", 3), keep(5)).await.unwrap();
    // Same source bytes under another file name and row count: still the same content.
    let mut again = draft("aa", 3);
    again.sources[0].name = "renamed.csv".into();
    let outcome = wh.publish(again, keep(5)).await.unwrap();
    assert!(matches!(&outcome, Published::Unchanged(m) if m.version == 1));
    assert_eq!(wh.versions("imd-2019").await.unwrap().len(), 1);
    let data_dirs = std::fs::read_dir(dir.path().join("imd-2019/data"))
        .unwrap()
        .count();
    assert_eq!(data_dirs, 1, "an unchanged publish must write nothing");
}

#[tokio::test]
async fn retention_drops_old_manifests_and_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    let mut manifests = Vec::new();
    for hash in ["a1", "a2", "a3"] {
        manifests.push(
            wh.publish(draft(hash, 2), keep(2))
                .await
                .unwrap()
                .manifest()
                .clone(),
        );
    }
    let versions: Vec<u64> = wh
        .versions("imd-2019")
        .await
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(versions, [2, 3]);
    let first_file = dir.path().join(&manifests[0].tables[0].files[0].path);
    assert!(
        !first_file.exists(),
        "expired version's data must be removed"
    );
    let kept_file = dir.path().join(&manifests[1].tables[0].files[0].path);
    assert!(kept_file.exists());
}

#[tokio::test]
async fn invalid_parquet_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    let good = wh
        .publish(draft("aa", 3), keep(5))
        .await
        .unwrap()
        .manifest()
        .clone();
    let mut bad = draft("bb", 3);
    bad.tables[0].parquet = Bytes::from_static(b"PAR1 not really");
    let err = wh.publish(bad, keep(5)).await.unwrap_err();
    assert!(matches!(err, WarehouseError::BadParquet { .. }), "{err}");
    assert_eq!(wh.current("imd-2019").await.unwrap().unwrap(), good);
}

#[tokio::test]
async fn rejects_bad_dataset_ids_and_table_names() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    for id in ["", "IMD", "../x", "a/b", "_versions"] {
        let mut d = draft("aa", 1);
        d.dataset = id.into();
        assert!(
            matches!(
                wh.publish(d, keep(5)).await,
                Err(WarehouseError::BadDatasetId(_))
            ),
            "{id:?}"
        );
    }
    let mut d = draft("aa", 1);
    d.tables[0].name = "../escape".into();
    assert!(matches!(
        wh.publish(d, keep(5)).await,
        Err(WarehouseError::BadDraft(_))
    ));
}

/// Two publishers racing for the same version number: the conditional create lets exactly one
/// take it, and the other lands on the next number with its own files.
#[tokio::test]
async fn racing_publishers_get_distinct_versions() {
    for wh in [
        Warehouse::open_local(tempfile::tempdir().unwrap().keep().as_path()).unwrap(),
        Warehouse::from_store(Arc::new(InMemory::new()), "memory:///"),
    ] {
        wh.publish(draft("base", 1), keep(10)).await.unwrap();
        let (a, b) = tokio::join!(
            wh.publish(draft("left", 2), keep(10)),
            wh.publish(draft("right", 3), keep(10))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut got = [a.manifest().version, b.manifest().version];
        got.sort();
        assert_eq!(got, [2, 3]);
        let current = wh.current("imd-2019").await.unwrap().unwrap();
        assert_eq!(current.version, 3);
        for m in wh.versions("imd-2019").await.unwrap() {
            let rows: u64 = m.tables[0].files.iter().map(|f| f.rows).sum();
            assert_eq!(rows, m.tables[0].rows);
        }
    }
}

/// Compare-and-swap publishing: of two writers that read the same version, one lands and
/// the other is told the version moved on, for local and object stores alike.
#[tokio::test]
async fn only_after_refuses_a_stale_base() {
    for wh in [
        Warehouse::open_local(tempfile::tempdir().unwrap().keep().as_path()).unwrap(),
        Warehouse::from_store(Arc::new(InMemory::new()), "memory:///"),
    ] {
        let after = |v: u64| PublishOptions {
            only_after: Some(v),
            ..keep(10)
        };
        wh.publish(draft("base", 1), after(0)).await.unwrap();
        let (a, b) = tokio::join!(
            wh.publish(draft("left", 2), after(1)),
            wh.publish(draft("right", 3), after(1))
        );
        let (won, lost) = match (a, b) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("exactly one should land: {other:?}"),
        };
        assert_eq!(won.manifest().version, 2);
        assert!(
            matches!(
                lost,
                WarehouseError::Conflict {
                    expected: 1,
                    current: 2,
                    ..
                }
            ),
            "{lost}"
        );
        assert_eq!(wh.versions("imd-2019").await.unwrap().len(), 2);
        // Retrying on the current version lands.
        let third = wh.publish(draft("third", 4), after(2)).await.unwrap();
        assert_eq!(third.manifest().version, 3);
    }
}

#[test]
fn fingerprint_ignores_names_and_order_but_not_content() {
    let mut a = draft("x", 1);
    a.sources.push(SourceFile {
        name: "b.csv".into(),
        size: 1,
        sha256: "y".into(),
        format: "f".into(),
        rows: 1,
    });
    let mut b = a.clone();
    b.sources.reverse();
    b.sources[0].name = "other.csv".into();
    assert_eq!(a.fingerprint(), b.fingerprint());
    b.sources[0].sha256 = "z".into();
    assert_ne!(a.fingerprint(), b.fingerprint());
    let mut c = a.clone();
    c.schemas.push(SchemaRef {
        path: "datasets/iod/x.toml".into(),
        sha256: "s".into(),
    });
    assert_ne!(a.fingerprint(), c.fingerprint());
}
