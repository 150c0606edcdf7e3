//! The engine's aggregate cache over a small hand-made warehouse: concurrent requests for a
//! missing aggregate build it once, the byte bound holds, and a refresh replaces the old
//! version's aggregate.

use std::sync::Arc;

use renewal_query::Scope;
use renewal_test_support::temp_dir;
use renewal_warehouse::Warehouse;

use crate::indicators::{LSOA_COUNTS, census, census_rows, engine, lookup};

/// Many requests at the same moment for an aggregate nobody has built: one build, and every
/// caller holds the same aggregate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_build_once() {
    const CALLERS: usize = 12;
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    lookup(&wh).await;
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &LSOA_COUNTS),
        "c1",
    )
    .await;
    let e = Arc::new(engine(wh));
    assert_eq!(e.builds(), 0);
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (e, barrier) = (e.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                e.aggregate("sick", &Scope::default()).await.unwrap()
            })
        })
        .collect();
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    assert_eq!(e.builds(), 1, "{CALLERS} concurrent callers, one build");
    assert!(got.iter().all(|a| Arc::ptr_eq(a, &got[0])));
    assert_eq!(e.cached(), 1);
    assert!(e.cache_bytes() > 0 && e.cache_bytes() <= e.cache_budget());
}

/// A bound that holds one aggregate: after a refresh the new version replaces the old (which
/// in-flight holders keep), the bytes stay within the bound, and a bound smaller than one
/// aggregate still answers, keeping nothing.
#[tokio::test]
async fn bound_holds_and_refresh_replaces_the_old_version() {
    let dir = temp_dir();
    let wh = Warehouse::open_local(dir.path()).unwrap();
    lookup(&wh).await;
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &LSOA_COUNTS),
        "c1",
    )
    .await;
    let scope = Scope::default();
    let one = {
        let probe = engine(wh.clone());
        probe.aggregate("sick", &scope).await.unwrap();
        probe.cache_bytes()
    };
    assert!(one > 0);

    // Room for one aggregate and a half: the second version cannot sit beside the first.
    let e = engine(wh.clone()).with_cache_bytes(one * 3 / 2);
    let first = e.aggregate("sick", &scope).await.unwrap();
    assert_eq!((e.cached(), e.cache_bytes()), (1, one));
    let mut counts = LSOA_COUNTS.to_vec();
    counts[0].1 = 60.0;
    census(
        &wh,
        "census-2021-health",
        census_rows("2021-03-21", &counts),
        "c2",
    )
    .await;
    let fresh = e.aggregate("sick", &scope).await.unwrap();
    assert_eq!(fresh.basis.datasets["census-2021-health"], 2);
    assert_eq!(e.builds(), 2);
    assert_eq!(e.cached(), 1, "the old version was evicted");
    assert!(e.cache_bytes() <= e.cache_budget());
    // The new version is the one kept: asking again builds nothing.
    let again = e.aggregate("sick", &scope).await.unwrap();
    assert!(Arc::ptr_eq(&fresh, &again));
    assert_eq!(e.builds(), 2);
    // The caller holding the old one still has it, unchanged.
    assert_eq!(first.basis.datasets["census-2021-health"], 1);

    let tiny = engine(wh).with_cache_bytes(one / 2);
    let a = tiny.aggregate("sick", &scope).await.unwrap();
    assert_eq!(a.basis.datasets["census-2021-health"], 2);
    assert_eq!((tiny.cached(), tiny.cache_bytes()), (0, 0));
    tiny.aggregate("sick", &scope).await.unwrap();
    assert_eq!(tiny.builds(), 2, "nothing kept, so built again");
}
