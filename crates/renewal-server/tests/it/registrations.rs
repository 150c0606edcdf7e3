//! Registrations belong to the partner who made them, over gRPC: others cannot replace or
//! delete them (PERMISSION_DENIED), the lists show each owner within the key's scope, and
//! what the CLI registered (owner "local") stays readable.

use renewal_server::pb;
use tonic::Code;

use crate::*;

fn hood(id: &str, lsoas: &[&str]) -> pb::RegisterNeighbourhoodRequest {
    pb::RegisterNeighbourhoodRequest {
        id: id.into(),
        name: format!("Neighbourhood {id}"),
        lsoas: lsoas.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn target(id: &str, authority: &str, selection: &str) -> pb::RegisterTargetRequest {
    pb::RegisterTargetRequest {
        id: id.into(),
        indicator: "bv-homes-01".into(),
        selection: selection.into(),
        authority: authority.into(),
        baseline_period: "2019-20".into(),
        target_period: "2024-25".into(),
        fraction_remaining: 0.5,
        ward_vintage: String::new(),
        benchmark: String::new(),
    }
}

fn owners_of_neighbourhoods(r: pb::ListNeighbourhoodsResponse) -> Vec<(String, String)> {
    r.neighbourhoods
        .into_iter()
        .map(|n| (n.id, n.owner))
        .collect()
}

fn owners_of_targets(r: pb::ListTargetsResponse) -> Vec<(String, String)> {
    r.targets.into_iter().map(|t| (t.id, t.owner)).collect()
}

#[tokio::test]
async fn registrations_belong_to_their_partner() {
    let f = fixture().await;
    // What the CLI registered before the server started: owner "local".
    renewal_query::register_neighbourhood(
        &f.warehouse,
        renewal_query::Neighbourhood {
            id: "cli-estate".into(),
            name: "CLI estate".into(),
            owner: "local".into(),
            lsoas: vec!["E01999003".into()],
        },
    )
    .await
    .unwrap();
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);

    // The Vale writer registers a neighbourhood; the full-access writer ("Full") may not
    // replace it by reusing its id, nor delete it, nor take over the CLI's.
    ana.register_neighbourhood(authed(hood("canal", &["E01999001"]), VALE_WRITER_KEY))
        .await
        .unwrap();
    let (c, m) = code(
        ana.register_neighbourhood(authed(hood("canal", &["E01999002"]), FULL_KEY))
            .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    assert!(m.contains("Vale writer"), "{m}");
    let (c, m) = code(
        ana.delete_neighbourhood(authed(
            pb::DeleteNeighbourhoodRequest { id: "canal".into() },
            FULL_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    let (c, m) = code(
        ana.register_neighbourhood(authed(hood("cli-estate", &["E01999002"]), FULL_KEY))
            .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    // Full registers one in Brookmere.
    ana.register_neighbourhood(authed(hood("town", &["E01999061"]), FULL_KEY))
        .await
        .unwrap();

    // Everyone reads; a Vale key sees only neighbourhoods wholly in Renewal Vale.
    let all = ana
        .list_neighbourhoods(authed(pb::ListNeighbourhoodsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        owners_of_neighbourhoods(all.clone()),
        [
            ("canal".to_string(), "Vale writer".to_string()),
            ("cli-estate".to_string(), "local".to_string()),
            ("town".to_string(), "Full".to_string()),
        ]
    );
    assert_eq!(all.neighbourhoods[0].lsoas, ["E01999001"]);
    let vale = ana
        .list_neighbourhoods(authed(pb::ListNeighbourhoodsRequest {}, VALE_KEY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        owners_of_neighbourhoods(vale),
        [
            ("canal".to_string(), "Vale writer".to_string()),
            ("cli-estate".to_string(), "local".to_string()),
        ]
    );

    // The owner replaces and deletes its own.
    ana.register_neighbourhood(authed(
        hood("canal", &["E01999001", "E01999002"]),
        VALE_WRITER_KEY,
    ))
    .await
    .unwrap();
    let deleted = ana
        .delete_neighbourhood(authed(
            pb::DeleteNeighbourhoodRequest { id: "canal".into() },
            VALE_WRITER_KEY,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.dataset, "neighbourhoods");
    let versions = f.warehouse.versions("neighbourhoods").await.unwrap();
    assert_eq!(
        deleted.version,
        versions.iter().map(|m| m.version).max().unwrap()
    );
    let (c, _) = code(
        ana.delete_neighbourhood(authed(
            pb::DeleteNeighbourhoodRequest { id: "canal".into() },
            VALE_WRITER_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::NotFound);
    // A key without the write scope deletes nothing, even of its own authority.
    let (c, _) = code(
        ana.delete_neighbourhood(authed(
            pb::DeleteNeighbourhoodRequest {
                id: "cli-estate".into(),
            },
            VALE_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);

    // Targets: the same rule.
    ana.register_target(authed(
        target("halve-canal", VALE, "areas:E05999001"),
        VALE_WRITER_KEY,
    ))
    .await
    .unwrap();
    let (c, m) = code(
        ana.register_target(authed(
            target("halve-canal", VALE, "areas:E05999002"),
            FULL_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");
    let (c, _) = code(
        ana.delete_target(authed(
            pb::DeleteTargetRequest {
                id: "halve-canal".into(),
            },
            FULL_KEY,
        ))
        .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    ana.register_target(authed(
        target("halve-town", BROOKMERE, "imd-decile<=2"),
        FULL_KEY,
    ))
    .await
    .unwrap();
    let listed = ana
        .list_targets(authed(pb::ListTargetsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        owners_of_targets(listed.clone()),
        [
            ("halve-canal".to_string(), "Vale writer".to_string()),
            ("halve-town".to_string(), "Full".to_string()),
        ]
    );
    // Stored with the edition made explicit.
    assert_eq!(listed.targets[1].selection, "imd2019-decile<=2");
    let vale = ana
        .list_targets(authed(pb::ListTargetsRequest {}, VALE_KEY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        owners_of_targets(vale),
        [("halve-canal".to_string(), "Vale writer".to_string())]
    );
    ana.delete_target(authed(
        pb::DeleteTargetRequest {
            id: "halve-canal".into(),
        },
        VALE_WRITER_KEY,
    ))
    .await
    .unwrap();
    let left = ana
        .list_targets(authed(pb::ListTargetsRequest {}, FULL_KEY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        owners_of_targets(left),
        [("halve-town".to_string(), "Full".to_string())]
    );
    running.stop().await.unwrap();

    // Development mode registers as "developer".
    let dev = start(&f, |c| {
        c.keys = None;
        c.dev = true;
    })
    .await;
    let ch = channel(&dev).await;
    let (_, mut ana) = clients(&ch);
    ana.register_neighbourhood(hood("dev-one", &["E01999004"]))
        .await
        .unwrap();
    let (c, _) = code(
        ana.register_neighbourhood(hood("town", &["E01999062"]))
            .await,
    );
    assert_eq!(
        c,
        Code::PermissionDenied,
        "Full's neighbourhood is not the developer's"
    );
    let listed = ana
        .list_neighbourhoods(pb::ListNeighbourhoodsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed
            .neighbourhoods
            .iter()
            .any(|n| n.id == "dev-one" && n.owner == "developer"),
        "{listed:?}"
    );
    dev.stop().await.unwrap();
}
