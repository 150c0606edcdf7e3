//! Registrations belong to the partner who made them: replace and delete only your own,
//! compare-and-swap publishing under concurrency, and registrations written before owners were
//! recorded read as the local CLI's.

use renewal_query::{
    LEGACY_OWNER, NEIGHBOURHOODS, Neighbourhood, QueryError, TARGETS, Target, delete_neighbourhood,
    delete_target, neighbourhoods, register_neighbourhood, register_target, targets,
};

use super::*;

fn hood(id: &str, owner: &str, lsoas: &[&str]) -> Neighbourhood {
    Neighbourhood {
        id: id.into(),
        name: format!("{id} by {owner}"),
        owner: owner.into(),
        lsoas: lsoas.iter().map(|s| s.to_string()).collect(),
    }
}

fn target(id: &str, owner: &str, selection: &str) -> Target {
    Target {
        id: id.into(),
        indicator: "crime-all".into(),
        selection: selection.into(),
        authority: "E08000001".into(),
        baseline_period: "2019-01".into(),
        target_period: "2024-01".into(),
        fraction_remaining: 0.5,
        ward_vintage: None,
        owner: owner.into(),
        against_england: false,
    }
}

fn warehouse() -> (tempfile::TempDir, Warehouse) {
    let dir = renewal_test_support::temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    (dir, wh)
}

#[tokio::test]
async fn only_the_owner_replaces_or_deletes_a_neighbourhood() {
    let (_dir, wh) = warehouse();
    assert_eq!(
        register_neighbourhood(&wh, hood("core", "Alpha", &["E01000001"]))
            .await
            .unwrap(),
        1
    );
    // The owner may replace it.
    assert_eq!(
        register_neighbourhood(&wh, hood("core", "Alpha", &["E01000001", "E01000002"]))
            .await
            .unwrap(),
        2
    );
    // Another partner reusing the id is refused, and nothing is published.
    let err = register_neighbourhood(&wh, hood("core", "Beta", &["E01000009"]))
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::PermissionDenied(_)), "{err}");
    assert!(err.to_string().contains("Alpha"), "{err}");
    assert_eq!(
        wh.current(NEIGHBOURHOODS).await.unwrap().unwrap().version,
        2
    );
    let err = delete_neighbourhood(&wh, "core", "Beta").await.unwrap_err();
    assert!(matches!(err, QueryError::PermissionDenied(_)), "{err}");
    let all = neighbourhoods(&wh).await.unwrap();
    assert_eq!(all, [hood("core", "Alpha", &["E01000001", "E01000002"])]);

    // Beta's own id lands beside it; the list shows each owner.
    register_neighbourhood(&wh, hood("edge", "Beta", &["E01000003"]))
        .await
        .unwrap();
    let owners: Vec<(String, String)> = neighbourhoods(&wh)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.id, n.owner))
        .collect();
    assert_eq!(
        owners,
        [
            ("core".to_string(), "Alpha".to_string()),
            ("edge".to_string(), "Beta".to_string())
        ]
    );

    // The owner deletes it: a new version without it.
    assert_eq!(delete_neighbourhood(&wh, "core", "Alpha").await.unwrap(), 4);
    let left: Vec<String> = neighbourhoods(&wh)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(left, ["edge"]);
    let err = delete_neighbourhood(&wh, "core", "Alpha")
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::NotFound(_)), "{err}");
    // Deleting the last one leaves an empty registry, still readable.
    delete_neighbourhood(&wh, "edge", "Beta").await.unwrap();
    assert!(neighbourhoods(&wh).await.unwrap().is_empty());
    // Once deleted, the id is free for anyone.
    register_neighbourhood(&wh, hood("core", "Beta", &["E01000009"]))
        .await
        .unwrap();
    assert_eq!(neighbourhoods(&wh).await.unwrap()[0].owner, "Beta");
}

#[tokio::test]
async fn only_the_owner_replaces_or_deletes_a_target() {
    let (_dir, wh) = warehouse();
    register_target(&wh, target("halve", "Alpha", "imd2019-decile<=2"))
        .await
        .unwrap();
    let err = register_target(&wh, target("halve", "Beta", "imd2019-decile<=1"))
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::PermissionDenied(_)), "{err}");
    let err = delete_target(&wh, "halve", "Beta").await.unwrap_err();
    assert!(matches!(err, QueryError::PermissionDenied(_)), "{err}");
    assert_eq!(
        targets(&wh).await.unwrap(),
        [target("halve", "Alpha", "imd2019-decile<=2")]
    );
    assert_eq!(wh.current(TARGETS).await.unwrap().unwrap().version, 1);
    assert_eq!(delete_target(&wh, "halve", "Alpha").await.unwrap(), 2);
    assert!(targets(&wh).await.unwrap().is_empty());
    let err = delete_target(&wh, "halve", "Alpha").await.unwrap_err();
    assert!(matches!(err, QueryError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn a_neighbourhood_a_target_selects_is_not_deleted() {
    let (_dir, wh) = warehouse();
    register_neighbourhood(&wh, hood("core", "Alpha", &["E01000001"]))
        .await
        .unwrap();
    register_target(&wh, target("t1", "Alpha", "neighbourhood:core"))
        .await
        .unwrap();
    let err = delete_neighbourhood(&wh, "core", "Alpha")
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::Precondition(_)), "{err}");
    assert!(err.to_string().contains("t1"), "{err}");
    assert_eq!(neighbourhoods(&wh).await.unwrap().len(), 1);
}

/// Registrations by different partners at the same moment all land (none lost to the race),
/// and deletes racing with them take only what they name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_and_deletes_all_land() {
    let (_dir, wh) = warehouse();
    for i in 0..3 {
        register_neighbourhood(&wh, hood(&format!("old-{i}"), "Alpha", &["E01000001"]))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..6 {
        let wh = wh.clone();
        tasks.push(tokio::spawn(async move {
            let owner = if i % 2 == 0 { "Alpha" } else { "Beta" };
            register_neighbourhood(&wh, hood(&format!("new-{i}"), owner, &["E01000002"]))
                .await
                .map(|_| ())
        }));
    }
    for i in 0..3 {
        let wh = wh.clone();
        tasks.push(tokio::spawn(async move {
            delete_neighbourhood(&wh, &format!("old-{i}"), "Alpha")
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let ids: Vec<String> = neighbourhoods(&wh)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(ids, ["new-0", "new-1", "new-2", "new-3", "new-4", "new-5"]);
}

/// A neighbourhoods version written before owners were recorded (no `owner` column) and a
/// target without an `owner` field read as the CLI's: readable by all, changed only locally.
#[tokio::test]
async fn registrations_without_an_owner_read_as_local() {
    let (_dir, wh) = warehouse();
    let members = strings(
        &[
            &[Some("old"), Some("Old estate"), Some("E01000001")],
            &[Some("old"), Some("Old estate"), Some("E01000002")],
        ],
        &["neighbourhood_id", "name", "lsoa_code"],
    );
    let definition = r#"{"id":"legacy","indicator":"crime-all","selection":"neighbourhood:old","authority":"E08000001","baseline_period":"2019-01","target_period":"2024-01","fraction_remaining":0.5,"ward_vintage":null}"#;
    let targets_batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("fraction_remaining", DataType::Float64, false),
            Field::new("definition", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["legacy"])),
            Arc::new(Float64Array::from(vec![0.5])),
            Arc::new(StringArray::from(vec![definition])),
        ],
    )
    .unwrap();
    for (dataset, table, batch) in [
        (NEIGHBOURHOODS, "members", members),
        (TARGETS, "targets", targets_batch),
    ] {
        wh.publish(
            Draft {
                dataset: dataset.into(),
                kind: dataset.into(),
                vintage: BTreeMap::new(),
                attributes: BTreeMap::new(),
                sources: vec![SourceFile {
                    name: format!("{dataset}.json"),
                    size: 1,
                    sha256: "0".repeat(64),
                    format: "registration".into(),
                    rows: batch.num_rows() as u64,
                }],
                schemas: Vec::new(),
                tables: vec![DraftTable {
                    name: table.into(),
                    parquet: parquet(batch),
                }],
                notes: Vec::new(),
            },
            PublishOptions::default(),
        )
        .await
        .unwrap();
    }
    assert_eq!(LEGACY_OWNER, "local");
    assert_eq!(
        neighbourhoods(&wh).await.unwrap(),
        [Neighbourhood {
            name: "Old estate".into(),
            ..hood("old", "local", &["E01000001", "E01000002"])
        }]
    );
    let t = targets(&wh).await.unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].id.as_str(), t[0].owner.as_str()), ("legacy", "local"));
    // A partner cannot take them over; the CLI can.
    let err = register_neighbourhood(&wh, hood("old", "Beta", &["E01000003"]))
        .await
        .unwrap_err();
    assert!(matches!(err, QueryError::PermissionDenied(_)), "{err}");
    let err = delete_target(&wh, "legacy", "Beta").await.unwrap_err();
    assert!(matches!(err, QueryError::PermissionDenied(_)), "{err}");
    register_neighbourhood(&wh, hood("old", "local", &["E01000003"]))
        .await
        .unwrap();
    delete_target(&wh, "legacy", "local").await.unwrap();
    // Rewritten with an owner column now.
    assert_eq!(
        neighbourhoods(&wh).await.unwrap(),
        [hood("old", "local", &["E01000003"])]
    );
}
