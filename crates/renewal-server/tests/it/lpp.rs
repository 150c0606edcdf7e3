//! The Local Performance Plan over gRPC on the sample, with its Best Value indicators at LSOA
//! (counts) and ward (values only) level; figures checked against
//! `tests/reference/lpp_reference.py`, which reads the raw sample files.

use renewal_server::pb;
use renewal_warehouse::PublishOptions;
use tonic::Code;

use crate::*;

const YEAR: &str = "2023-24";

/// The base fixture plus the sample's two Local Performance Plan Best Value files.
async fn lpp_fixture() -> Fixture {
    let f = fixture().await;
    let catalog = renewal_schema::Catalog::embedded().unwrap();
    let files = [
        "neighbourhood_best_value_lsoa_sample.csv",
        "ward_best_value_values_sample.csv",
    ]
    .map(|n| f.sample.join(n));
    for d in renewal_ingest::read_observations(
        &catalog,
        "services",
        &files,
        &renewal_ingest::ObservationOptions::default(),
        &renewal_ingest::NoProgress,
    )
    .unwrap()
    {
        f.warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
    f
}

/// The reference's sums for Renewal Vale in [`YEAR`], straight from the raw files.
fn reference(f: &Fixture) -> serde_json::Value {
    let out = renewal_test_support::python_reference(
        "lpp_reference.py",
        [
            f.sample.to_str().unwrap(),
            VALE,
            YEAR,
            "BV-HOMES-02",
            "BV-SAT-03",
        ],
    );
    serde_json::from_str(&out).unwrap()
}

fn ratio(v: &serde_json::Value) -> f64 {
    100.0 * v[0].as_f64().unwrap() / v[1].as_f64().unwrap()
}

fn close(a: Option<f64>, b: f64, what: &str) {
    let a = a.unwrap_or_else(|| panic!("{what}: empty"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} against {b}");
}

fn rows_of(t: &Table, indicator: &str, kind: &str) -> Vec<usize> {
    (0..t.rows.len())
        .filter(|&i| t.text(i, "indicator").as_deref() == Some(indicator))
        .filter(|&i| t.text(i, "row_kind").as_deref() == Some(kind))
        .collect()
}

/// LSOA-level Best Value: the deprived LSOAs pooled against the rest are the raw file's
/// numerators and denominators summed over the IMD deciles 1-2 LSOAs and the others.
#[tokio::test]
async fn lsoa_best_value_versus_pools_the_raw_counts() {
    let f = lpp_fixture().await;
    let r = reference(&f);
    let running = start(&f, |_| {}).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let t = collect(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "bv-homes-02".into(),
                period: YEAR.into(),
                authority: VALE.into(),
                selection: "imd-decile<=2".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(t.rows.len(), 1);
    close(
        t.number(0, "selected_numerator"),
        r["deprived"][0].as_f64().unwrap(),
        "selected numerator",
    );
    close(
        t.number(0, "selected_denominator"),
        r["deprived"][1].as_f64().unwrap(),
        "selected denominator",
    );
    close(
        t.number(0, "selected_value"),
        ratio(&r["deprived"]),
        "selected value",
    );
    close(t.number(0, "rest_value"), ratio(&r["rest"]), "rest value");
    close(
        t.number(0, "authority_value"),
        ratio(&r["authority"]),
        "authority value",
    );
    assert_eq!(
        t.rows[0]["selected_areas"],
        Some(pb::cell::Value::Integer(r["deprived"][2].as_i64().unwrap())),
        "LSOAs in deciles 1-2"
    );
}

/// A ward indicator published as values: pooling is refused with the reason, never answered
/// with an empty pooled figure.
#[tokio::test]
async fn value_only_ward_indicator_is_not_pooled() {
    let f = lpp_fixture().await;
    let running = start(&f, |_| {}).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let (c, m) = code(
        collect(
            ana.deprived_vs_rest(authed(
                pb::SelectionRequest {
                    indicator: "bv-sat-03".into(),
                    period: YEAR.into(),
                    authority: VALE.into(),
                    selection: "areas:E05999001,E05999002".into(),
                    scope: None,
                },
                FULL_KEY,
            ))
            .await,
        )
        .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(
        m.contains("values compared, not pooled: the file gives no numerators"),
        "{m}"
    );
}

#[tokio::test]
async fn local_performance_plan_end_to_end() {
    let f = lpp_fixture().await;
    let r = reference(&f);
    let running = start(&f, |_| {}).await;
    let (_, mut ana) = clients(&channel(&running).await);
    ana.register_target(authed(
        pb::RegisterTargetRequest {
            id: "homes-02-halve".into(),
            indicator: "bv-homes-02".into(),
            selection: "imd-decile<=2".into(),
            authority: VALE.into(),
            baseline_period: "2018-19".into(),
            target_period: "2025-26".into(),
            fraction_remaining: 0.5,
            ward_vintage: String::new(),
            benchmark: String::new(),
        },
        FULL_KEY,
    ))
    .await
    .unwrap();
    let request = pb::LocalPerformancePlanRequest {
        authority: VALE.into(),
        // The slash spelling of a financial year is accepted.
        year: "2023/24".into(),
        ..Default::default()
    };
    let t = collect(
        ana.local_performance_plan(authed(request.clone(), FULL_KEY))
            .await,
    )
    .await
    .unwrap();

    // Every indicator the plan file declares has rows or a note saying why not.
    let catalog = renewal_schema::Catalog::embedded().unwrap();
    let plan = catalog.plan("lpp").unwrap();
    let declared = plan.indicators(catalog.indicators.iter().map(|(_, d)| d));
    assert!(declared.len() >= 3);
    for (_, def) in &declared {
        let has_rows = (0..t.rows.len()).any(|i| t.text(i, "indicator") == Some(def.id.clone()));
        let noted = t
            .notes
            .iter()
            .any(|n| n.starts_with(&format!("{}: no rows:", def.id)));
        assert!(
            has_rows != noted,
            "{}: rows {has_rows}, noted {noted}",
            def.id
        );
    }
    // bv-homes-01 ends in 2019-20: noted, not an error for the plan.
    assert!(
        t.notes
            .iter()
            .any(|n| n.starts_with("bv-homes-01: no rows: no period in 2023-24"))
    );

    // LSOA-level Best Value with counts: the authority row, the deprived and rest rows equal
    // the raw file's sums.
    let a = rows_of(&t, "bv-homes-02", "authority");
    assert_eq!(a.len(), 1);
    let a = a[0];
    assert_eq!(t.text(a, "period").as_deref(), Some(YEAR));
    close(
        t.number(a, "value"),
        ratio(&r["authority"]),
        "authority value",
    );
    assert!(t.number(a, "lower_95").unwrap() < t.number(a, "value").unwrap());
    assert_eq!(t.text(a, "benchmark").as_deref(), Some("E92000001"));
    let d = rows_of(&t, "bv-homes-02", "deprived")[0];
    close(
        t.number(d, "value"),
        ratio(&r["deprived"]),
        "deprived value",
    );
    close(
        t.number(d, "benchmark_value"),
        ratio(&r["rest"]),
        "rest as benchmark",
    );
    close(
        t.number(d, "gap"),
        ratio(&r["deprived"]) - ratio(&r["rest"]),
        "gap",
    );
    let rest = rows_of(&t, "bv-homes-02", "rest")[0];
    close(t.number(rest, "value"), ratio(&r["rest"]), "rest value");
    assert_eq!(
        rows_of(&t, "bv-homes-02", "ward").len(),
        8,
        "the Vale's 8 wards"
    );
    assert!(t.text(d, "trend").is_some() && t.text(d, "gap_trend").is_some());
    assert!(
        t.notes
            .iter()
            .any(|n| n == "bv-homes-02: financial-year periods: 2023-24")
    );

    // The registered target's status is the TargetStatus answer's, in the plan's words.
    let status = collect(
        ana.target_status(authed(
            pb::TargetStatusRequest {
                id: "homes-02-halve".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let expected = match status.text(0, "status").as_deref() {
        Some("achieved") => "met",
        Some(other) => other,
        None => panic!("the target is assessed"),
    }
    .to_owned();
    assert_eq!(t.text(a, "target").as_deref(), Some("homes-02-halve"));
    assert_eq!(t.text(a, "target_status"), Some(expected));

    // Ward values only: each ward's published value against the median of the authority's,
    // no pooled deprived or rest figure, and the note says so.
    let wards = rows_of(&t, "bv-sat-03", "ward");
    let values = r["ward_values"].as_object().unwrap();
    assert_eq!(wards.len(), values.len());
    for &i in &wards {
        let code = t.text(i, "area_code").unwrap();
        close(t.number(i, "value"), values[&code].as_f64().unwrap(), &code);
        close(
            t.number(i, "benchmark_value"),
            r["ward_median"].as_f64().unwrap(),
            "median",
        );
        assert_eq!(t.number(i, "lower_95"), None, "no interval for a value");
    }
    assert!(rows_of(&t, "bv-sat-03", "deprived").is_empty());
    assert!(rows_of(&t, "bv-sat-03", "rest").is_empty());
    assert!(t.notes.iter().any(|n| n.starts_with("bv-sat-03: ")
        && n.contains("values compared, not pooled: the file gives no numerators")));
    let sat = rows_of(&t, "bv-sat-03", "authority")[0];
    assert_eq!(t.text(sat, "target_status").as_deref(), Some("no-target"));
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("bv-sat-03: its wards are WD19 wards, as the data record")),
        "{:?}",
        t.notes
    );

    // The basis names the datasets the rows came from.
    for d in [
        "services-neighbourhood-best-value-lsoa-sample",
        "services-ward-best-value-values-sample",
    ] {
        assert!(t.basis.dataset_versions.contains_key(d), "{d}");
    }

    // A key for another authority may not read the Vale's plan; a bad year is refused.
    let (c, _) = code(
        collect(
            ana.local_performance_plan(authed(
                pb::LocalPerformancePlanRequest {
                    authority: BROOKMERE.into(),
                    ..request.clone()
                },
                VALE_KEY,
            ))
            .await,
        )
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    let (c, m) = code(
        collect(
            ana.local_performance_plan(authed(
                pb::LocalPerformancePlanRequest {
                    year: "2023-25".into(),
                    ..request
                },
                FULL_KEY,
            ))
            .await,
        )
        .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("year"), "{m}");
}

/// `/api/v1/lpp`: the gRPC answer's rows as JSON, parameters checked like the other
/// endpoints, and an OpenAPI entry with its parameters.
#[tokio::test]
async fn lpp_over_the_http_feed() {
    let f = lpp_fixture().await;
    let running = start(&f, |c| c.http_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let (_, mut ana) = clients(&channel(&running).await);
    let grpc = collect(
        ana.local_performance_plan(authed(
            pb::LocalPerformancePlanRequest {
                authority: VALE.into(),
                year: YEAR.into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let auth = crate::http::bearer(FULL_KEY);
    let headers = [("authorization", auth.as_str())];
    let get = |q: &'static str| crate::http::get(&running, q, &headers);
    let r = get("/api/v1/lpp?authority=E08999001&year=2023/24").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), grpc.rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row["indicator"].as_str(),
            grpc.text(i, "indicator").as_deref()
        );
        assert_eq!(
            row["row_kind"].as_str(),
            grpc.text(i, "row_kind").as_deref()
        );
        assert_eq!(row["value"].as_f64(), grpc.number(i, "value"));
    }
    let r = get("/api/v1/lpp?authority=E08999001&year=2023-24&level=lad").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("level"), "{}", r.body);
    let r = get("/api/v1/lpp?authority=E08999001").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("year"), "{}", r.body);
    let r = get("/api/v1/lpp?authority=E08999001&year=2023-24&colour=red").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("colour"), "{}", r.body);

    let doc = crate::http::get(&running, "/api/v1/openapi.json", &[])
        .await
        .json();
    let params: Vec<&str> = doc["paths"]["/api/v1/lpp"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "authority",
        "year",
        "level",
        "select",
        "plan",
        "format",
        "ward_vintage",
    ] {
        assert!(params.contains(&name), "{name} not in {params:?}");
    }
    running.stop().await.unwrap();
}
