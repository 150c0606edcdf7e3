//! `renewal target status` over several targets: one that cannot be evaluated is named in the
//! notes instead of failing the others' answer, and the basis lists every dataset any row drew
//! on (the server checks a key's dataset scope against it).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::disclosure::demo_warehouse;

fn add(r: &crate::Renewal, id: &str, indicator: &str, select: &str, baseline: &str, target: &str) {
    r.ok([
        "target",
        "add",
        "--id",
        id,
        "--indicator",
        indicator,
        "--select",
        select,
        "--authority",
        "E08999001",
        "--baseline",
        baseline,
        "--target",
        target,
    ]);
}

#[test]
fn one_unanswerable_target_does_not_hide_the_others() {
    let (_dir, r, _sample) = demo_warehouse();
    add(
        &r,
        "halve-canal-side",
        "bv-homes-01",
        "areas:E05999001",
        "2014-15",
        "2024-25",
    );
    add(
        &r,
        "crime-deciles",
        "crime-all",
        "imd-decile<=2",
        "2021-01",
        "2021-12",
    );
    // A ward-level Best Value indicator cannot be selected by LSOA deciles: registration
    // accepts it, evaluation cannot.
    add(
        &r,
        "unanswerable",
        "bv-homes-01",
        "imd-decile<=2",
        "2014-15",
        "2024-25",
    );
    let doc: Value = serde_json::from_str(&r.ok(["target", "status", "--format", "json"])).unwrap();
    let ids: BTreeSet<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["target"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from(["crime-deciles", "halve-canal-side"]));
    let notes: Vec<&str> = doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("target unanswerable: not evaluated")),
        "{notes:?}"
    );
    let datasets = doc["basis"]["datasets"].as_object().unwrap();
    assert!(datasets.contains_key("crime-street"), "{datasets:?}");
    assert!(
        datasets.contains_key("services-best-value-indicators-sample"),
        "{datasets:?}"
    );
}
