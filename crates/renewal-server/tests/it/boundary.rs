//! Across the 2021 boundary change over gRPC: the request's scope names the ward vintage and
//! the bridge weights, and the answer's basis carries every bridge used, as the engine's own
//! answer does; without weights the move is FAILED_PRECONDITION naming the areas.

use std::path::PathBuf;

use renewal_query::{AreaLevel, Benchmark, GapRequest, Scope};
use renewal_server::pb;
use renewal_warehouse::PublishOptions;
use tonic::Code;

use crate::*;

const WEIGHTS: &str = "population-census2021-lsoa21";

/// The fixture plus the sample's boundary-change files: bridge, WD24 lookup, IoD2025,
/// Census 2021 residents and 2024 crime on 2021 LSOAs.
async fn across_the_break() -> Fixture {
    let f = fixture().await;
    let out = f.dir.path().join("sample-2021");
    renewal_sample::write_sample_scoped(
        &out,
        &renewal_sample::SampleSpec::default(),
        renewal_sample::SampleScope::WithBoundaryChange,
    )
    .unwrap();
    let bc = out.join(renewal_sample::BOUNDARY_CHANGE_DIR);
    let files = |pred: &dyn Fn(&str) -> bool| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&bc)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| pred(&p.file_name().unwrap().to_string_lossy()))
            .collect();
        v.sort();
        v
    };
    let catalog = Catalog::embedded().unwrap();
    let np = &renewal_ingest::NoProgress;
    let mut drafts = renewal_ingest::read_lookups(
        &catalog,
        &files(&|n| n.starts_with("LSOA_") && n.ends_with(".csv")),
        np,
    )
    .unwrap();
    drafts.push(
        renewal_ingest::read_iod(&catalog, "2025", &files(&|n| n.starts_with("File_")), np)
            .unwrap(),
    );
    drafts.push(
        renewal_ingest::read_population(
            &catalog,
            &files(&|n| n.starts_with("census2021_")),
            &renewal_ingest::PopulationOptions::default(),
            np,
        )
        .unwrap(),
    );
    drafts.push(
        renewal_ingest::read_crime(
            &catalog,
            &files(&|n| n.ends_with("-street.csv")),
            &renewal_ingest::CrimeOptions {
                dataset: Some("crime-street-2024".into()),
                ..Default::default()
            },
            np,
        )
        .unwrap(),
    );
    for d in drafts {
        f.warehouse
            .publish(d, PublishOptions::default())
            .await
            .unwrap();
    }
    f
}

#[tokio::test]
async fn the_scope_names_the_bridge_weights_and_the_basis_the_bridges() {
    let f = across_the_break().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let scope = pb::Scope {
        ward_vintage: "WD24".into(),
        bridge_weights: WEIGHTS.into(),
        ..Default::default()
    };
    let request = |scope: Option<pb::Scope>| pb::GapRequest {
        indicator: "crime-all".into(),
        authority: VALE.into(),
        period: "2021-06".into(),
        scope,
        ..Default::default()
    };
    let table = collect(ana.area_gap(authed(request(Some(scope)), FULL_KEY)).await)
        .await
        .unwrap();

    // The engine's own answer to the same question.
    let engine = Engine::new(f.warehouse.clone(), Catalog::embedded().unwrap());
    let answer = renewal_query::gap_table(
        &engine,
        &GapRequest {
            indicator: "crime-all".into(),
            period: Some("2021-06".into()),
            authority: Some(VALE.into()),
            level: AreaLevel::Ward,
            benchmark: Benchmark::Authority,
        },
        &Scope {
            ward_vintage: Some("WD24".parse().unwrap()),
            bridge_weights: Some(WEIGHTS.into()),
            ..Scope::default()
        },
    )
    .await
    .unwrap();
    assert!(!answer.basis.bridges.is_empty());
    let sent: Vec<(String, String, String, String, f64)> = table
        .basis
        .bridges
        .iter()
        .map(|b| {
            (
                b.dataset.clone(),
                b.bridge.clone(),
                format!("{}>{}", b.from_vintage, b.to_vintage),
                b.weights.clone(),
                b.apportioned_share,
            )
        })
        .collect();
    let own: Vec<(String, String, String, String, f64)> = answer
        .basis
        .bridges
        .iter()
        .map(|b| {
            (
                b.dataset.clone(),
                b.bridge.clone(),
                format!("{}>{}", b.from, b.to),
                b.weights.clone().unwrap_or_default(),
                b.apportioned_share,
            )
        })
        .collect();
    assert_eq!(sent, own);
    let crime = sent.iter().find(|b| b.0 == "crime-street").unwrap();
    assert_eq!(crime.1, "bridge-lsoa11-lsoa21");
    assert_eq!(crime.2, "LSOA11>LSOA21");
    assert_eq!(crime.3, format!("{WEIGHTS} v1"));
    assert!(crime.4 > 0.0 && crime.4 < 1.0, "{crime:?}");
    // Nine 2024 wards of the Vale, each with the engine's value.
    assert_eq!(table.rows.len(), 9);
    let values = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(
        answer.batches[0].column_by_name("value").unwrap(),
    )
    .clone();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(table.number(i, "value"), v, "row {i}");
    }

    // Without weights the 2011-coded splits cannot be apportioned.
    let (c, m) = code(
        collect(
            ana.area_gap(authed(
                request(Some(pb::Scope {
                    ward_vintage: "WD24".into(),
                    ..Default::default()
                })),
                FULL_KEY,
            ))
            .await,
        )
        .await,
    );
    assert_eq!(c, Code::FailedPrecondition, "{m}");
    assert!(m.contains("E01999081") && m.contains("bridge"), "{m}");
}
