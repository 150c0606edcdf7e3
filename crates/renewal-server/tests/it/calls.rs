//! Every RPC end to end, and the behaviours around them.

use renewal_server::pb;
use tonic::Code;

use crate::*;

fn gap(indicator: &str, authority: &str) -> pb::GapRequest {
    pb::GapRequest {
        indicator: indicator.into(),
        authority: authority.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_rpc_answers_with_its_basis() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (mut cat, mut ana) = clients(&ch);

    let datasets = cat
        .list_datasets(authed(pb::ListDatasetsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner()
        .datasets;
    let iod = datasets.iter().find(|d| d.dataset == "iod-2019").unwrap();
    assert!(iod.current && iod.version == 1 && !iod.sources.is_empty());
    assert!(iod.sources.iter().all(|s| s.sha256.len() == 64));

    let indicators = cat
        .list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner()
        .indicators;
    let crime = indicators.iter().find(|i| i.id == "crime-all").unwrap();
    assert_eq!(crime.polarity, "lower-is-better");
    assert_eq!(crime.multiplier, 1000.0);
    assert!(crime.definition_json.contains("lsoa_monthly_counts"));

    let areas = collect(
        cat.list_areas(authed(
            pb::ListAreasRequest {
                indicator: "crime-all".into(),
                level: pb::Level::Ward as i32,
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(areas.rows.len(), 11, "the sample has 11 wards");

    // The ward gap over gRPC equals the engine's own answer, row for row.
    let table = collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
        .await
        .unwrap();
    let engine = renewal_query::Engine::new(
        f.warehouse.clone(),
        renewal_schema::Catalog::embedded().unwrap(),
    );
    let direct = renewal_query::gap_table(
        &engine,
        &renewal_query::GapRequest {
            indicator: "crime-all".into(),
            period: None,
            authority: Some(VALE.into()),
            level: renewal_query::AreaLevel::Ward,
            benchmark: renewal_query::Benchmark::Authority,
        },
        &renewal_query::Scope::default(),
    )
    .await
    .unwrap();
    assert_eq!(table.rows.len(), direct.num_rows());
    assert_eq!(table.columns[..3], ["indicator", "area_code", "area_name"]);
    let values = direct.batches[0]
        .column_by_name("value")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow::array::Float64Array>()
        .unwrap()
        .clone();
    for r in 0..table.rows.len() {
        assert_eq!(table.number(r, "value"), Some(values.value(r)));
        assert_eq!(table.text(r, "benchmark_code").as_deref(), Some(VALE));
    }
    assert!(table.basis.dataset_versions.contains_key("crime-street"));
    assert_eq!(table.basis.fit, "best-fit");

    let england = collect(
        ana.gap_vs_england(authed(gap("crime-all", VALE), FULL_KEY))
            .await,
    )
    .await
    .unwrap();
    assert_eq!(
        england.text(0, "benchmark_code").as_deref(),
        Some("E92000001")
    );

    let versus = collect(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                selection: "imd-decile<=2".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(versus.rows.len(), 1);
    assert!(
        versus.number(0, "gap").unwrap() > 0.0,
        "deprived areas have more crime"
    );

    let trend = collect(
        ana.narrowing_the_gap(authed(
            pb::TrendRequest {
                indicator: "bv-homes-01".into(),
                authority: VALE.into(),
                selection: "areas:E05999001".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(trend.rows.len() >= 2);

    let registered = ana
        .register_target(authed(
            pb::RegisterTargetRequest {
                id: "halve-canal-side".into(),
                indicator: "bv-homes-01".into(),
                selection: "areas:E05999001".into(),
                authority: VALE.into(),
                baseline_period: trend.text(0, "period").unwrap(),
                target_period: "2024-25".into(),
                fraction_remaining: 0.5,
                ward_vintage: String::new(),
                benchmark: String::new(),
            },
            FULL_KEY,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (registered.dataset.as_str(), registered.version),
        ("targets", 1)
    );
    let status = collect(
        ana.target_status(authed(pb::TargetStatusRequest::default(), FULL_KEY))
            .await,
    )
    .await
    .unwrap();
    assert_eq!(status.rows.len(), 1);
    let baseline = status.number(0, "baseline_gap").unwrap();
    assert!((status.number(0, "target_gap").unwrap() - baseline / 2.0).abs() < 1e-12);
    assert!(status.text(0, "status").is_some());

    let priority = collect(
        ana.priority_neighbourhoods(authed(
            pb::PriorityRequest {
                percent: 10.0,
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(!priority.rows.is_empty());
    // An empty edition keeps meaning the default (2019); "newest" resolves through the
    // catalogue; an unknown one is INVALID_ARGUMENT naming the field.
    let by_edition = |edition: &str| {
        let mut ana = ana.clone();
        let request = authed(
            pb::PriorityRequest {
                edition: edition.into(),
                percent: 10.0,
                ..Default::default()
            },
            FULL_KEY,
        );
        async move { ana.priority_neighbourhoods(request).await }
    };
    let explicit = collect(by_edition("2019").await).await.unwrap();
    assert_eq!(explicit.rows.len(), priority.rows.len());
    assert_eq!(explicit.basis.dataset_versions.get("iod-2019"), Some(&1));
    let (c, m) = code(by_edition("2031").await);
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.starts_with("edition:") && m.contains("2031"), "{m}");

    let profile = collect(
        ana.area_profile(authed(
            pb::ProfileRequest {
                area: "E05999001".into(),
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert!(
        profile
            .rows
            .iter()
            .any(|r| r["indicator"] == Some(pb::cell::Value::Text("crime-all".into())))
    );

    let similar = collect(
        ana.most_similar(authed(
            pb::SimilarRequest {
                area: "E05999001".into(),
                level: pb::Level::Ward as i32,
                indicators: vec!["crime-all".into(), "iod-imd-score".into()],
                k: 3,
                scope: None,
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(similar.rows.len(), 3);

    let n = ana
        .register_neighbourhood(authed(
            pb::RegisterNeighbourhoodRequest {
                id: "canal-corridor".into(),
                name: "Canal corridor".into(),
                lsoas: vec!["E01999001".into(), "E01999002".into()],
            },
            FULL_KEY,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(n.dataset, "neighbourhoods");
    let nb = collect(
        ana.area_gap(authed(
            pb::GapRequest {
                level: pb::Level::Neighbourhood as i32,
                ..gap("crime-all", VALE)
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(nb.text(0, "area_code").as_deref(), Some("canal-corridor"));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn keys_scopes_and_error_codes() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (mut cat, mut ana) = clients(&ch);

    let (c, m) = code(cat.list_indicators(pb::ListIndicatorsRequest {}).await);
    assert_eq!(c, Code::Unauthenticated, "{m}");
    let (c, _) = code(
        cat.list_indicators(authed(pb::ListIndicatorsRequest {}, "not-a-key"))
            .await,
    );
    assert_eq!(c, Code::Unauthenticated);

    // The Vale key reads Renewal Vale only, and cannot write.
    assert!(
        collect(ana.area_gap(authed(gap("crime-all", VALE), VALE_KEY)).await)
            .await
            .is_ok()
    );
    let (c, m) = code(
        ana.area_gap(authed(gap("crime-all", BROOKMERE), VALE_KEY))
            .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    let (c, _) = code(ana.area_gap(authed(gap("crime-all", ""), VALE_KEY)).await);
    assert_eq!(c, Code::PermissionDenied);
    let (c, _) = code(
        ana.register_neighbourhood(authed(
            pb::RegisterNeighbourhoodRequest {
                id: "x".into(),
                name: "x".into(),
                lsoas: vec!["E01999001".into()],
            },
            VALE_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    // A writer for Renewal Vale may define neighbourhoods there, not in Brookmere.
    let register = |lsoas: &[&str]| {
        authed(
            pb::RegisterNeighbourhoodRequest {
                id: "n1".into(),
                name: "N1".into(),
                lsoas: lsoas.iter().map(|s| s.to_string()).collect(),
            },
            VALE_WRITER_KEY,
        )
    };
    assert!(
        ana.register_neighbourhood(register(&["E01999001", "E01999002"]))
            .await
            .is_ok()
    );
    let (c, m) = code(
        ana.register_neighbourhood(register(&["E01999001", "E01999061"]))
            .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    assert!(m.contains("E07999002"), "{m}");
    let (c, m) = code(ana.register_neighbourhood(register(&["E01000001"])).await);
    assert_eq!(c, Code::InvalidArgument, "{m}");

    // A key scoped to IoD data may ask for IoD scores but not for crime.
    assert!(
        collect(
            ana.area_gap(authed(gap("iod-imd-score", VALE), IOD_ONLY_KEY))
                .await
        )
        .await
        .is_ok()
    );
    let (c, m) = code(
        collect(
            ana.area_gap(authed(gap("crime-all", VALE), IOD_ONLY_KEY))
                .await,
        )
        .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    assert!(m.contains("crime-street"), "{m}");

    let (c, m) = code(ana.area_gap(authed(gap("", VALE), FULL_KEY)).await);
    assert_eq!(
        (c, m.as_str()),
        (Code::InvalidArgument, "indicator: required")
    );
    let (c, m) = code(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                selection: "worst-bits".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::InvalidArgument);
    assert!(m.starts_with("selection:"), "{m}");
    let (c, m) = code(
        ana.area_gap(authed(gap("no-such-indicator", VALE), FULL_KEY))
            .await,
    );
    assert_eq!(c, Code::NotFound, "{m}");
    let (c, m) = code(
        ana.area_gap(authed(
            pb::GapRequest {
                period: "1999-01".into(),
                ..gap("crime-all", VALE)
            },
            FULL_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::NotFound, "{m}");
    // The sample has no census qualifications table.
    let (c, m) = code(
        ana.area_gap(authed(gap("census-no-qualifications", VALE), FULL_KEY))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition, "{m}");
    assert!(m.contains("not in the warehouse"), "{m}");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn disclosure_control_applies_to_every_answer() {
    let f = fixture().await;
    // A high threshold makes every ward's crime count disclosive.
    let running = start(&f, |c| c.disclosure_threshold = 1_000_000.0).await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let table = collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
        .await
        .unwrap();
    assert!(!table.rows.is_empty());
    for r in 0..table.rows.len() {
        assert_eq!(table.flag(r, "suppressed"), Some(true));
        assert_eq!(table.number(r, "value"), None);
        assert_eq!(table.number(r, "numerator"), None);
        assert_eq!(table.number(r, "lower_95"), None);
        assert_eq!(table.number(r, "gap"), None);
    }
    let versus = collect(
        ana.deprived_vs_rest(authed(
            pb::SelectionRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                selection: "imd-decile<=2".into(),
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    assert_eq!(versus.flag(0, "suppressed"), Some(true));
    assert_eq!(versus.number(0, "selected_value"), None);
    assert_eq!(versus.number(0, "selected_numerator"), None);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn health_reflection_and_dev_mode() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "renewal.v1.Analysis".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        serving.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut reflection = ServerReflectionClient::new(ch.clone());
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("unexpected reflection reply");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"renewal.v1.Analysis"), "{names:?}");
    assert!(names.contains(&"renewal.v1.Catalogue"), "{names:?}");
    running.stop().await.unwrap();

    // Development mode: no keys, loopback only.
    let dev = start(&f, |c| {
        c.keys = None;
        c.dev = true;
    })
    .await;
    let ch = channel(&dev).await;
    let (mut cat, _) = clients(&ch);
    assert!(
        cat.list_indicators(pb::ListIndicatorsRequest {})
            .await
            .is_ok()
    );
    dev.stop().await.unwrap();
    let engine = renewal_query::Engine::new(
        f.warehouse.clone(),
        renewal_schema::Catalog::embedded().unwrap(),
    );
    let config = renewal_server::ServerConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        dev: true,
        ..Default::default()
    };
    let err = renewal_server::start(engine, &config).await.err().unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test]
async fn grpc_web_from_a_browser_origin() {
    let f = fixture().await;
    let running = start(&f, |c| c.cors_origins = vec!["https://dash.example".into()]).await;
    // A grpc-web call is an HTTP/1.1 POST with a length-prefixed protobuf body.
    let body: Vec<u8> = {
        use prost::Message as _;
        let msg = pb::ListIndicatorsRequest {}.encode_to_vec();
        let mut b = vec![0u8];
        b.extend((msg.len() as u32).to_be_bytes());
        b.extend(msg);
        b
    };
    let mut stream = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "POST /renewal.v1.Catalogue/ListIndicators HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n\
         Origin: https://dash.example\r\nAuthorization: Bearer {FULL_KEY}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        running.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("access-control-allow-origin: https://dash.example"),
        "{text}"
    );
    assert!(
        text.contains("crime-all"),
        "the indicator list is in the body"
    );
    assert!(text.contains("grpc-status:0"), "{text}");
    running.stop().await.unwrap();
}

/// A refresh publishes a new version while a client keeps asking: no request fails, and
/// requests after the switch are answered from the new version.
#[tokio::test]
async fn refresh_while_serving_switches_versions() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (_, ana) = clients(&ch);
    let asker = {
        let mut ana = ana.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..40 {
                let t = collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
                    .await
                    .expect("no request fails during a refresh");
                seen.push(t.basis.dataset_versions["crime-street"]);
            }
            seen
        })
    };
    // Re-ingest the crime with one file fewer: a different version 2.
    let catalog = renewal_schema::Catalog::embedded().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&f.sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-street.csv"))
        .collect();
    files.sort();
    let mut text = std::fs::read_to_string(&files[0]).unwrap();
    // A changed file: drop the last crime.
    let cut = text.trim_end().rfind('\n').unwrap();
    text.truncate(cut + 1);
    let changed = f.dir.path().join("changed-street.csv");
    std::fs::write(&changed, text).unwrap();
    files[0] = changed;
    let draft = renewal_ingest::read_crime(
        &catalog,
        &files,
        &renewal_ingest::CrimeOptions::default(),
        &renewal_ingest::NoProgress,
    )
    .unwrap();
    f.warehouse
        .publish(draft, renewal_warehouse::PublishOptions::default())
        .await
        .unwrap();
    let seen = asker.await.unwrap();
    let mut ana = ana.clone();
    let after = collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
        .await
        .unwrap();
    assert_eq!(after.basis.dataset_versions["crime-street"], 2);
    // Versions only move forward.
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    running.stop().await.unwrap();
}

/// Python grpcio with server reflection (installed by scripts/test.sh into its own virtual
/// environment, named by RENEWAL_PYTHON) gets the same numbers as our Rust client.
#[tokio::test]
async fn a_python_grpcio_client_by_reflection() {
    let python = std::env::var("RENEWAL_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_grpc = std::process::Command::new(&python)
        .args(["-c", "import grpc, grpc_reflection"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_grpc {
        assert!(
            std::env::var_os("RENEWAL_REQUIRE_PYTHON_GRPC").is_none(),
            "{python} lacks grpcio / grpcio-reflection, which scripts/test.sh installs"
        );
        eprintln!(
            "SKIPPED: {python} has no grpcio; run scripts/test.sh (it installs grpcio and grpcio-reflection) to include the Python interoperability test"
        );
        return;
    }
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let script = renewal_test_support::workspace_root().join("tests/interop/python_client.py");
    let addr = running.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .args([addr.as_str(), FULL_KEY, VALE])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let ch = channel(&running).await;
    let (mut cat, mut ana) = clients(&ch);
    let ours = collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
        .await
        .unwrap();
    let mut expected = String::new();
    for r in 0..ours.rows.len() {
        expected.push_str(&format!(
            "{},{}\n",
            ours.text(r, "area_code").unwrap(),
            ours.number(r, "value").map(python_repr).unwrap_or_default()
        ));
    }
    let n = cat
        .list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner()
        .indicators
        .len();
    expected.push_str(&format!("indicators,{n}\n"));
    assert_eq!(text, expected);
    running.stop().await.unwrap();
}

/// Python's repr of a float: the shortest string that reads back to it, as Rust's Display.
fn python_repr(x: f64) -> String {
    let s = x.to_string();
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

#[tokio::test]
async fn prometheus_metrics_count_requests_and_versions() {
    let f = fixture().await;
    let running = start(&f, |c| {
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
        .await
        .unwrap();
    let _ = code(
        ana.area_gap(authed(gap("no-such-indicator", VALE), FULL_KEY))
            .await,
    );

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(running.metrics_addr.unwrap())
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    for line in [
        "renewal_requests_total{rpc=\"AreaGap\",code=\"Ok\"} 1",
        "renewal_requests_total{rpc=\"AreaGap\",code=\"NotFound\"} 1",
        "renewal_request_seconds_count{rpc=\"AreaGap\"} 2",
        "renewal_dataset_version_served{dataset=\"crime-street\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
    }
    running.stop().await.unwrap();
}

/// A client's deadline (`grpc-timeout`) is honoured by the server: a question whose answer
/// must first be built from Parquet (tens of milliseconds at least) cannot meet a deadline of
/// one millisecond, and the server gives up on it; with no deadline the same question answers.
#[tokio::test]
async fn the_clients_deadline_is_honoured() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let mut hurried = authed(gap("crime-all", VALE), FULL_KEY);
    hurried.set_timeout(std::time::Duration::from_millis(1));
    let (c, m) = code(collect(ana.area_gap(hurried).await).await);
    // tonic's server reports an expired deadline as CANCELLED "Timeout expired".
    assert_eq!((c, m.as_str()), (Code::Cancelled, "Timeout expired"));
    assert!(
        collect(ana.area_gap(authed(gap("crime-all", VALE), FULL_KEY)).await)
            .await
            .is_ok()
    );
    running.stop().await.unwrap();
}

/// With a certificate and key the same port speaks TLS: a client trusting the certificate is
/// served, a plaintext client is not.
#[tokio::test]
async fn tls_when_configured() {
    let f = fixture().await;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = cert.cert.pem();
    let cert_path = f.dir.path().join("cert.pem");
    let key_path = f.dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let running = start(&f, |c| {
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await;
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let ch = tonic::transport::Channel::from_shared(format!("https://{}", running.addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (mut cat, _) = clients(&ch);
    let n = cat
        .list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner()
        .indicators
        .len();
    assert!(n > 0);

    let plain = tonic::transport::Channel::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .connect()
        .await;
    let refused = match plain {
        Err(_) => true,
        Ok(ch) => clients(&ch)
            .0
            .list_indicators(authed(pb::ListIndicatorsRequest {}, FULL_KEY))
            .await
            .is_err(),
    };
    assert!(refused, "a plaintext client must not be served over TLS");
    running.stop().await.unwrap();
}
