//! Complementary suppression reaches partners through gRPC: the leak (a single small
//! LSOA against the rest of its authority) no longer recovers the count.

use crate::*;

#[tokio::test]
async fn a_small_lsoa_against_the_rest_reveals_nothing() {
    let f = fixture().await;
    let running = start(&f, |_| {}).await;
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let lsoas = collect(
        ana.area_gap(authed(
            pb::GapRequest {
                indicator: "crime-all".into(),
                authority: VALE.into(),
                level: pb::Level::Lsoa as i32,
                ..Default::default()
            },
            FULL_KEY,
        ))
        .await,
    )
    .await
    .unwrap();
    let small: Vec<String> = (0..lsoas.rows.len())
        .filter(|&r| lsoas.text(r, "withheld").as_deref() == Some("below-threshold"))
        .map(|r| lsoas.text(r, "area_code").unwrap())
        .collect();
    assert!(!small.is_empty(), "the sample has small crime counts");
    for r in 0..lsoas.rows.len() {
        if lsoas.flag(r, "suppressed") == Some(true) {
            assert_eq!(lsoas.number(r, "numerator"), None);
            assert_eq!(lsoas.number(r, "denominator"), None);
            assert!(lsoas.text(r, "withheld").is_some());
        }
    }
    for lsoa in &small {
        let v = collect(
            ana.deprived_vs_rest(authed(
                pb::SelectionRequest {
                    indicator: "crime-all".into(),
                    authority: VALE.into(),
                    selection: format!("areas:{lsoa}"),
                    ..Default::default()
                },
                FULL_KEY,
            ))
            .await,
        )
        .await
        .unwrap();
        // authority_value × (selected_denominator + rest_denominator) / 1000 − rest_numerator
        // was the count: every term but the authority's value is now withheld.
        assert_eq!(
            v.text(0, "selected_withheld").as_deref(),
            Some("below-threshold")
        );
        assert_eq!(v.text(0, "rest_withheld").as_deref(), Some("complementary"));
        for column in [
            "selected_numerator",
            "selected_denominator",
            "selected_value",
            "rest_numerator",
            "rest_denominator",
            "rest_value",
            "rest_lower_95",
            "gap",
        ] {
            assert_eq!(v.number(0, column), None, "{lsoa} {column}");
        }
        assert!(v.number(0, "authority_value").is_some());
    }
    running.stop().await.unwrap();
}
