//! The auth matrix: every RPC of Catalogue and Analysis, and Flight SQL's calls, with no key,
//! a wrong key, a revoked key and keys out of scope (authority, dataset, write, sql): each
//! gets its code (UNAUTHENTICATED, PERMISSION_DENIED) and not one data row, and no write
//! lands. Health stays public.

use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::{
    ActionCreatePreparedStatementRequest, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, ProstMessageExt, TicketStatementQuery,
};
use arrow_flight::{Action, FlightDescriptor, Ticket};
use futures::TryStreamExt;
use prost::Message as _;
use renewal_server::pb;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::registrations::target;
use crate::revocation::{REVOKED_KEY, keys_with_revocable, replace_file};
use crate::*;

/// One call of an RPC, with its request.
#[derive(Clone, Debug)]
enum Call {
    ListDatasets,
    ListIndicators,
    ListAreas(pb::ListAreasRequest),
    AreaGap(pb::GapRequest),
    GapVsEngland(pb::GapRequest),
    DeprivedVsRest(pb::SelectionRequest),
    NarrowingTheGap(pb::TrendRequest),
    TargetStatus(pb::TargetStatusRequest),
    PriorityNeighbourhoods(pb::PriorityRequest),
    AreaProfile(pb::ProfileRequest),
    MostSimilar(pb::SimilarRequest),
    RegisterNeighbourhood(pb::RegisterNeighbourhoodRequest),
    RegisterTarget(pb::RegisterTargetRequest),
    ListNeighbourhoods,
    ListTargets,
    DeleteNeighbourhood(String),
    DeleteTarget(String),
    /// Flight SQL GetFlightInfo for a statement.
    FlightInfo(Vec<u8>),
    /// Flight SQL DoGet of a ticket.
    DoGet(Vec<u8>),
    /// Flight SQL CreatePreparedStatement.
    Prepare(String),
}

fn with_key<T>(message: T, key: Option<&str>) -> tonic::Request<T> {
    match key {
        Some(k) => authed(message, k),
        None => tonic::Request::new(message),
    }
}

/// Rows (or listed items) received, or the status with the rows received before it.
type Outcome = Result<usize, (Status, usize)>;

async fn rows(r: Result<tonic::Response<tonic::Streaming<pb::TableChunk>>, Status>) -> Outcome {
    let mut stream = r.map_err(|s| (s, 0))?.into_inner();
    let mut n = 0;
    loop {
        match stream.message().await {
            Ok(Some(chunk)) => n += chunk.rows.len(),
            Ok(None) => return Ok(n),
            Err(s) => return Err((s, n)),
        }
    }
}

async fn flight_rows(
    r: Result<tonic::Response<tonic::Streaming<arrow_flight::FlightData>>, Status>,
) -> Outcome {
    let stream = r.map_err(|s| (s, 0))?.into_inner();
    let mut batches = arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(
        stream.map_err(arrow_flight::error::FlightError::from),
    );
    let mut n = 0;
    loop {
        match batches.try_next().await {
            Ok(Some(b)) => n += b.num_rows(),
            Ok(None) => return Ok(n),
            Err(arrow_flight::error::FlightError::Tonic(s)) => return Err((*s, n)),
            Err(e) => return Err((Status::unknown(e.to_string()), n)),
        }
    }
}

fn unary<T>(r: Result<tonic::Response<T>, Status>, items: impl Fn(&T) -> usize) -> Outcome {
    match r {
        Ok(r) => Ok(items(r.get_ref())),
        Err(s) => Err((s, 0)),
    }
}

async fn send(ch: &Channel, call: Call, key: Option<&str>) -> Outcome {
    let (mut cat, mut ana) = clients(ch);
    let mut flight = FlightServiceClient::new(ch.clone());
    match call {
        Call::ListDatasets => unary(
            cat.list_datasets(with_key(pb::ListDatasetsRequest {}, key))
                .await,
            |r| r.datasets.len(),
        ),
        Call::ListIndicators => unary(
            cat.list_indicators(with_key(pb::ListIndicatorsRequest {}, key))
                .await,
            |r| r.indicators.len(),
        ),
        Call::ListAreas(r) => rows(cat.list_areas(with_key(r, key)).await).await,
        Call::AreaGap(r) => rows(ana.area_gap(with_key(r, key)).await).await,
        Call::GapVsEngland(r) => rows(ana.gap_vs_england(with_key(r, key)).await).await,
        Call::DeprivedVsRest(r) => rows(ana.deprived_vs_rest(with_key(r, key)).await).await,
        Call::NarrowingTheGap(r) => rows(ana.narrowing_the_gap(with_key(r, key)).await).await,
        Call::TargetStatus(r) => rows(ana.target_status(with_key(r, key)).await).await,
        Call::PriorityNeighbourhoods(r) => {
            rows(ana.priority_neighbourhoods(with_key(r, key)).await).await
        }
        Call::AreaProfile(r) => rows(ana.area_profile(with_key(r, key)).await).await,
        Call::MostSimilar(r) => rows(ana.most_similar(with_key(r, key)).await).await,
        Call::RegisterNeighbourhood(r) => {
            unary(ana.register_neighbourhood(with_key(r, key)).await, |_| 0)
        }
        Call::RegisterTarget(r) => unary(ana.register_target(with_key(r, key)).await, |_| 0),
        Call::ListNeighbourhoods => unary(
            ana.list_neighbourhoods(with_key(pb::ListNeighbourhoodsRequest {}, key))
                .await,
            |r| r.neighbourhoods.len(),
        ),
        Call::ListTargets => unary(
            ana.list_targets(with_key(pb::ListTargetsRequest {}, key))
                .await,
            |r| r.targets.len(),
        ),
        Call::DeleteNeighbourhood(id) => unary(
            ana.delete_neighbourhood(with_key(pb::DeleteNeighbourhoodRequest { id }, key))
                .await,
            |_| 0,
        ),
        Call::DeleteTarget(id) => unary(
            ana.delete_target(with_key(pb::DeleteTargetRequest { id }, key))
                .await,
            |_| 0,
        ),
        Call::FlightInfo(cmd) => unary(
            flight
                .get_flight_info(with_key(FlightDescriptor::new_cmd(cmd), key))
                .await,
            |i| i.endpoint.len(),
        ),
        Call::DoGet(ticket) => {
            flight_rows(flight.do_get(with_key(Ticket::new(ticket), key)).await).await
        }
        Call::Prepare(query) => {
            let action = Action::new(
                "CreatePreparedStatement",
                ActionCreatePreparedStatementRequest {
                    query,
                    transaction_id: None,
                }
                .as_any()
                .encode_to_vec(),
            );
            match flight.do_action(with_key(action, key)).await {
                Err(s) => Err((s, 0)),
                Ok(r) => {
                    let results: Result<Vec<_>, Status> = r.into_inner().try_collect().await;
                    results.map(|v| v.len()).map_err(|s| (s, 0))
                }
            }
        }
    }
}

fn gap(indicator: &str, authority: &str) -> pb::GapRequest {
    pb::GapRequest {
        indicator: indicator.into(),
        authority: authority.into(),
        ..Default::default()
    }
}

fn selection(indicator: &str, authority: &str) -> pb::SelectionRequest {
    pb::SelectionRequest {
        indicator: indicator.into(),
        authority: authority.into(),
        selection: "imd-decile<=2".into(),
        ..Default::default()
    }
}

fn trend(authority: &str, selection: &str) -> pb::TrendRequest {
    pb::TrendRequest {
        indicator: "bv-homes-01".into(),
        authority: authority.into(),
        selection: selection.into(),
        scope: None,
    }
}

fn hood(id: &str, lsoa: &str) -> pb::RegisterNeighbourhoodRequest {
    pb::RegisterNeighbourhoodRequest {
        id: id.into(),
        name: id.into(),
        lsoas: vec![lsoa.into()],
    }
}

fn cmd(m: impl ProstMessageExt) -> Vec<u8> {
    m.as_any().encode_to_vec()
}

const SQL: &str = "SELECT lsoa_code, lad_code FROM iod_2019__lsoa";

/// Every call, as a key with every scope would make it successfully.
fn every_call() -> Vec<Call> {
    vec![
        Call::ListDatasets,
        Call::ListIndicators,
        Call::ListAreas(pb::ListAreasRequest {
            indicator: "crime-all".into(),
            level: pb::Level::Ward as i32,
            scope: None,
        }),
        Call::AreaGap(gap("crime-all", VALE)),
        Call::GapVsEngland(gap("crime-all", VALE)),
        Call::DeprivedVsRest(selection("crime-all", VALE)),
        Call::NarrowingTheGap(trend(VALE, "areas:E05999001")),
        Call::TargetStatus(pb::TargetStatusRequest::default()),
        Call::PriorityNeighbourhoods(pb::PriorityRequest {
            authority: VALE.into(),
            ..Default::default()
        }),
        Call::AreaProfile(pb::ProfileRequest {
            area: "E05999001".into(),
            scope: None,
        }),
        Call::MostSimilar(pb::SimilarRequest {
            area: "E05999001".into(),
            level: pb::Level::Ward as i32,
            indicators: vec!["crime-all".into()],
            k: 2,
            scope: None,
        }),
        Call::RegisterNeighbourhood(hood("matrix-new", "E01999005")),
        Call::RegisterTarget(target("matrix-new", VALE, "areas:E05999002")),
        Call::ListNeighbourhoods,
        Call::ListTargets,
        Call::DeleteNeighbourhood("victim".into()),
        Call::DeleteTarget("victim".into()),
        Call::FlightInfo(cmd(CommandStatementQuery {
            query: SQL.into(),
            transaction_id: None,
        })),
        Call::DoGet(cmd(TicketStatementQuery {
            statement_handle: SQL.as_bytes().to_vec().into(),
        })),
        Call::Prepare(SQL.into()),
        Call::FlightInfo(cmd(CommandPreparedStatementQuery {
            prepared_statement_handle: SQL.as_bytes().to_vec().into(),
        })),
        Call::DoGet(cmd(CommandPreparedStatementQuery {
            prepared_statement_handle: SQL.as_bytes().to_vec().into(),
        })),
        Call::FlightInfo(cmd(CommandGetSqlInfo { info: vec![] })),
        Call::DoGet(cmd(CommandGetSqlInfo { info: vec![] })),
        Call::DoGet(cmd(CommandGetCatalogs {})),
        Call::DoGet(cmd(CommandGetDbSchemas::default())),
        Call::DoGet(cmd(CommandGetTables {
            include_schema: true,
            ..Default::default()
        })),
        Call::DoGet(cmd(CommandGetTableTypes {})),
    ]
}

/// A registered neighbourhood and target named `victim`, owned by `key`'s partner, for the
/// delete calls.
async fn victims(ch: &Channel, key: &str) {
    send(
        ch,
        Call::RegisterNeighbourhood(hood("victim", "E01999004")),
        Some(key),
    )
    .await
    .unwrap();
    send(
        ch,
        Call::RegisterTarget(target("victim", VALE, "areas:E05999003")),
        Some(key),
    )
    .await
    .unwrap();
}

async fn registry_versions(f: &Fixture) -> (Option<u64>, Option<u64>) {
    (
        f.warehouse
            .current("neighbourhoods")
            .await
            .unwrap()
            .map(|m| m.version),
        f.warehouse
            .current("targets")
            .await
            .unwrap()
            .map(|m| m.version),
    )
}

#[tokio::test]
async fn no_wrong_or_revoked_key_gets_anything_from_any_call() {
    let f = fixture().await;
    let (path, original) = keys_with_revocable(f.dir.path());
    let running = start(&f, |c| c.keys = Some(path.clone())).await;
    let ch = channel(&running).await;
    let calls = every_call();

    // Before revocation the key (every scope) gets an answer from every call: the requests
    // themselves are sound, so what follows is refused for the key alone.
    victims(&ch, REVOKED_KEY).await;
    for call in &calls {
        let out = send(&ch, call.clone(), Some(REVOKED_KEY)).await;
        assert!(out.is_ok(), "{call:?}: {out:?}");
    }
    victims(&ch, REVOKED_KEY).await;
    replace_file(&path, &original);
    let before = registry_versions(&f).await;

    for (label, key) in [
        ("no key", None),
        ("wrong key", Some("not-a-key")),
        ("revoked key", Some(REVOKED_KEY)),
    ] {
        for call in &calls {
            match send(&ch, call.clone(), key).await {
                Err((s, 0)) if s.code() == Code::Unauthenticated => {}
                other => panic!("{label}, {call:?}: {other:?}"),
            }
        }
    }
    // A malformed header is no key either.
    let mut r = tonic::Request::new(pb::ListIndicatorsRequest {});
    r.metadata_mut()
        .insert("authorization", FULL_KEY.parse().unwrap());
    let (c, _) = code(clients(&ch).0.list_indicators(r).await);
    assert_eq!(c, Code::Unauthenticated);

    // Nothing was written or deleted.
    assert_eq!(registry_versions(&f).await, before);
    let listed = send(&ch, Call::ListNeighbourhoods, Some(FULL_KEY)).await;
    assert!(
        matches!(listed, Ok(2)),
        "victim and matrix-new are still there: {listed:?}"
    );

    // Health needs no key.
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "renewal.v1.Analysis".into(),
        })
        .await
        .unwrap();
    running.stop().await.unwrap();
}

#[tokio::test]
async fn out_of_scope_keys_get_permission_denied_and_no_rows() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;

    // Full (all authorities, write) registers in Brookmere; a Brookmere ward for the profile.
    send(
        &ch,
        Call::RegisterNeighbourhood(hood("town", "E01999061")),
        Some(FULL_KEY),
    )
    .await
    .unwrap();
    send(
        &ch,
        Call::RegisterTarget(target("town-target", BROOKMERE, "imd-decile<=2")),
        Some(FULL_KEY),
    )
    .await
    .unwrap();
    send(
        &ch,
        Call::RegisterTarget(target("vale-target", VALE, "areas:E05999001")),
        Some(FULL_KEY),
    )
    .await
    .unwrap();
    let areas = collect(
        clients(&ch)
            .0
            .list_areas(authed(
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
    let brookmere_ward = (0..areas.rows.len())
        .find(|&r| areas.text(r, "parent_code").as_deref() == Some(BROOKMERE))
        .map(|r| areas.text(r, "area_code").unwrap())
        .unwrap();
    let before = registry_versions(&f).await;

    let denied: Vec<(&str, &str, Call)> = vec![
        // Authority scope: a Renewal Vale key asking about Brookmere (or all England).
        (
            "authority",
            VALE_KEY,
            Call::AreaGap(gap("crime-all", BROOKMERE)),
        ),
        ("authority", VALE_KEY, Call::AreaGap(gap("crime-all", ""))),
        (
            "authority",
            VALE_KEY,
            Call::GapVsEngland(gap("crime-all", BROOKMERE)),
        ),
        (
            "authority",
            VALE_KEY,
            Call::DeprivedVsRest(selection("crime-all", BROOKMERE)),
        ),
        (
            "authority",
            VALE_KEY,
            Call::NarrowingTheGap(trend(BROOKMERE, "imd-decile<=2")),
        ),
        (
            "authority",
            VALE_KEY,
            Call::TargetStatus(pb::TargetStatusRequest {
                id: "town-target".into(),
                scope: None,
            }),
        ),
        (
            "authority",
            VALE_KEY,
            Call::PriorityNeighbourhoods(pb::PriorityRequest {
                authority: BROOKMERE.into(),
                ..Default::default()
            }),
        ),
        (
            "authority",
            VALE_KEY,
            Call::PriorityNeighbourhoods(pb::PriorityRequest::default()),
        ),
        (
            "authority",
            VALE_KEY,
            Call::AreaProfile(pb::ProfileRequest {
                area: brookmere_ward.clone(),
                scope: None,
            }),
        ),
        (
            "authority",
            VALE_KEY,
            Call::MostSimilar(pb::SimilarRequest {
                area: "E05999001".into(),
                level: pb::Level::Ward as i32,
                indicators: vec!["crime-all".into()],
                k: 2,
                scope: None,
            }),
        ),
        (
            "authority",
            VALE_WRITER_KEY,
            Call::RegisterNeighbourhood(hood("x", "E01999061")),
        ),
        (
            "authority",
            VALE_WRITER_KEY,
            Call::RegisterTarget(target("x", BROOKMERE, "imd-decile<=2")),
        ),
        // Ownership: a writer deleting or replacing another partner's registrations.
        (
            "owner",
            VALE_WRITER_KEY,
            Call::DeleteNeighbourhood("town".into()),
        ),
        (
            "owner",
            VALE_WRITER_KEY,
            Call::DeleteTarget("vale-target".into()),
        ),
        (
            "owner",
            VALE_WRITER_KEY,
            Call::RegisterTarget(target("vale-target", VALE, "areas:E05999002")),
        ),
        // Dataset scope: an IoD-only key asking what needs crime or Best Value data.
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::ListAreas(pb::ListAreasRequest {
                indicator: "crime-all".into(),
                level: pb::Level::Ward as i32,
                scope: None,
            }),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::AreaGap(gap("crime-all", VALE)),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::GapVsEngland(gap("crime-all", VALE)),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::DeprivedVsRest(selection("crime-all", VALE)),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::NarrowingTheGap(trend(VALE, "areas:E05999001")),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::TargetStatus(pb::TargetStatusRequest {
                id: "vale-target".into(),
                scope: None,
            }),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::AreaProfile(pb::ProfileRequest {
                area: "E05999001".into(),
                scope: None,
            }),
        ),
        (
            "dataset",
            IOD_ONLY_KEY,
            Call::MostSimilar(pb::SimilarRequest {
                area: "E05999001".into(),
                level: pb::Level::Ward as i32,
                indicators: vec!["crime-all".into()],
                k: 2,
                scope: None,
            }),
        ),
        // Write scope: keys without it write and delete nothing.
        (
            "write",
            VALE_KEY,
            Call::RegisterNeighbourhood(hood("x", "E01999001")),
        ),
        (
            "write",
            VALE_KEY,
            Call::RegisterTarget(target("x", VALE, "areas:E05999001")),
        ),
        (
            "write",
            IOD_ONLY_KEY,
            Call::DeleteNeighbourhood("town".into()),
        ),
        (
            "write",
            IOD_ONLY_KEY,
            Call::DeleteTarget("town-target".into()),
        ),
        ("write", SQL_KEY, Call::DeleteTarget("vale-target".into())),
    ];
    let mut sql_denied: Vec<(&str, &str, Call)> = every_call()
        .into_iter()
        .filter(|c| matches!(c, Call::FlightInfo(_) | Call::DoGet(_) | Call::Prepare(_)))
        .map(|c| ("sql", FULL_KEY, c))
        .collect();
    assert_eq!(sql_denied.len(), 11);
    let mut all = denied;
    all.append(&mut sql_denied);
    for (scope, key, call) in &all {
        match send(&ch, call.clone(), Some(key)).await {
            Err((s, 0)) if s.code() == Code::PermissionDenied => {}
            other => panic!("{scope} scope, {key}, {call:?}: {other:?}"),
        }
    }
    assert_eq!(
        registry_versions(&f).await,
        before,
        "no refused write landed"
    );

    // Calls that list filter to the key's scope instead of refusing.
    let (_, mut ana) = clients(&ch);
    let hoods = ana
        .list_neighbourhoods(authed(pb::ListNeighbourhoodsRequest {}, VALE_KEY))
        .await
        .unwrap()
        .into_inner();
    assert!(hoods.neighbourhoods.is_empty(), "{hoods:?}");
    let targets = ana
        .list_targets(authed(pb::ListTargetsRequest {}, VALE_KEY))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = targets.targets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["vale-target"]);
    let vale_areas = collect(
        clients(&ch)
            .0
            .list_areas(authed(
                pb::ListAreasRequest {
                    indicator: "crime-all".into(),
                    level: pb::Level::Ward as i32,
                    scope: None,
                },
                VALE_KEY,
            ))
            .await,
    )
    .await
    .unwrap();
    assert!(!vale_areas.rows.is_empty());
    for r in 0..vale_areas.rows.len() {
        assert_eq!(vale_areas.text(r, "parent_code").as_deref(), Some(VALE));
    }
    let datasets = clients(&ch)
        .0
        .list_datasets(authed(pb::ListDatasetsRequest {}, IOD_ONLY_KEY))
        .await
        .unwrap()
        .into_inner()
        .datasets;
    assert!(!datasets.is_empty());
    for d in &datasets {
        assert!(
            d.dataset.starts_with("iod-")
                || d.dataset.starts_with("lookup-")
                || d.dataset == "neighbourhoods"
                || d.dataset == "targets",
            "{}",
            d.dataset
        );
    }
    let status = collect(
        ana.target_status(authed(pb::TargetStatusRequest::default(), VALE_KEY))
            .await,
    )
    .await
    .unwrap();
    assert_eq!(status.rows.len(), 1, "only Renewal Vale's target");
    running.stop().await.unwrap();
}
