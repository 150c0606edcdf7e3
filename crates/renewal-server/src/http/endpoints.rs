//! One handler per path: each reads its parameters into the gRPC request and calls the
//! transport-neutral question function in `service`.

use super::*;

/// Axum's extractors every handler takes.
pub(super) type Parts = (AxumState<Feed>, Uri, HeaderMap, RawQuery);

pub(super) async fn datasets(parts: Parts) -> Response {
    respond(
        parts,
        false,
        "datasets",
        |feed, p, _: NoParams, _| async move {
            let list = service::list_datasets(&feed.state, &p, pb::ListDatasetsRequest {}).await?;
            #[derive(serde::Serialize)]
            struct Row {
                dataset: String,
                version: u64,
                current: bool,
                kind: String,
                vintage: String,
                rows: u64,
                sources: u64,
                created_at: String,
            }
            let rows: Vec<Row> = list
                .datasets
                .into_iter()
                .map(|d| Row {
                    vintage: d
                        .vintage
                        .iter()
                        .collect::<BTreeMap<_, _>>()
                        .into_iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    dataset: d.dataset,
                    version: d.version,
                    current: d.current,
                    kind: d.kind,
                    rows: d.rows,
                    sources: d.sources.len() as u64,
                    created_at: d.created_at,
                })
                .collect();
            table(
                &[
                    ("dataset", ColumnKind::Text),
                    ("version", ColumnKind::Integer),
                    ("current", ColumnKind::Flag),
                    ("kind", ColumnKind::Text),
                    ("vintage", ColumnKind::Text),
                    ("rows", ColumnKind::Integer),
                    ("sources", ColumnKind::Integer),
                    ("created_at", ColumnKind::Text),
                ],
                &rows,
            )
        },
    )
    .await
}

pub(super) async fn indicators(parts: Parts) -> Response {
    respond(
        parts,
        false,
        "indicators",
        |feed, p, _: NoParams, _| async move {
            let list =
                service::list_indicators(&feed.state, &p, pb::ListIndicatorsRequest {}).await?;
            #[derive(serde::Serialize)]
            struct Row {
                id: String,
                theme: String,
                value_type: String,
                unit: String,
                polarity: String,
                native_geography: String,
                title: String,
            }
            let rows: Vec<Row> = list
                .indicators
                .into_iter()
                .map(|i| Row {
                    id: i.id,
                    theme: i.theme,
                    value_type: i.value_type,
                    unit: i.unit,
                    polarity: i.polarity,
                    native_geography: i.native_geography,
                    title: i.title,
                })
                .collect();
            // The columns of `renewal indicators`.
            table(
                &[
                    ("id", ColumnKind::Text),
                    ("theme", ColumnKind::Text),
                    ("value_type", ColumnKind::Text),
                    ("unit", ColumnKind::Text),
                    ("polarity", ColumnKind::Text),
                    ("native_geography", ColumnKind::Text),
                    ("title", ColumnKind::Text),
                ],
                &rows,
            )
        },
    )
    .await
}

pub(super) async fn areas(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "areas",
        |feed, p, q: AreasParams, scope| async move {
            let r = pb::ListAreasRequest {
                indicator: text(q.indicator),
                level: level(q.level),
                scope: Some(scope),
            };
            Ok(service::list_areas(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn gap(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "gap",
        |feed, p, q: GapParams, scope| async move {
            let r = gap_request(
                q.indicator,
                q.period,
                q.authority,
                q.level,
                q.benchmark,
                scope,
            );
            Ok(service::area_gap(&feed.state, &p, r).await?)
        },
    )
    .await
}

/// The gRPC request the gap and the map endpoints both send.
pub(super) fn gap_request(
    indicator: Option<String>,
    period: Option<String>,
    authority: Option<String>,
    l: Option<LevelParam>,
    benchmark: Option<BenchmarkParam>,
    scope: pb::Scope,
) -> pb::GapRequest {
    pb::GapRequest {
        indicator: text(indicator),
        period: text(period),
        authority: text(authority),
        level: level(l),
        // The name carries every benchmark (authority, england, parent types); the service
        // parses it.
        benchmark: pb::Benchmark::Unspecified as i32,
        benchmark_name: benchmark.map(|b| b.0).unwrap_or_default(),
        scope: Some(scope),
    }
}

pub(super) async fn map(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "map",
        |feed, p, q: MapParams, scope| async move {
            let mut options = renewal_query::MapOptions {
                simplify_metres: parse_number("simplify", q.simplify.as_deref())?,
                ..Default::default()
            };
            if let Some(precision) = parse_number("precision", q.precision.as_deref())? {
                options.precision = precision;
            }
            let r = gap_request(
                q.indicator,
                q.period,
                q.authority,
                q.level,
                q.benchmark,
                scope,
            );
            Ok(service::gap_map(&feed.state, &p, r, options).await?)
        },
    )
    .await
}

pub(super) async fn vintages(parts: Parts) -> Response {
    respond(
        parts,
        false,
        "vintages",
        |feed, p, _: NoParams, _| async move { Ok(service::list_vintages(&feed.state, &p).await?) },
    )
    .await
}

pub(super) async fn gap_vs_england(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "gap-vs-england",
        |feed, p, q: GapVsEnglandParams, scope| async move {
            let r = pb::GapRequest {
                indicator: text(q.indicator),
                period: text(q.period),
                authority: text(q.authority),
                level: level(q.level),
                scope: Some(scope),
                ..Default::default()
            };
            Ok(service::gap_vs_england(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn versus(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "versus",
        |feed, p, q: VersusParams, scope| async move {
            let r = pb::SelectionRequest {
                indicator: text(q.indicator),
                period: text(q.period),
                authority: text(q.authority),
                selection: text(q.select),
                scope: Some(scope),
            };
            Ok(service::deprived_vs_rest(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn trend(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "trend",
        |feed, p, q: TrendParams, scope| async move {
            let r = pb::TrendRequest {
                indicator: text(q.indicator),
                authority: text(q.authority),
                selection: text(q.select),
                scope: Some(scope),
            };
            Ok(service::narrowing_the_gap(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn target_status(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "target-status",
        |feed, p, q: TargetStatusParams, scope| async move {
            let r = pb::TargetStatusRequest {
                id: text(q.id),
                scope: Some(scope),
            };
            Ok(service::target_status(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn priority(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "priority",
        |feed, p, q: PriorityParams, scope| async move {
            let r = pb::PriorityRequest {
                edition: text(q.edition),
                domain: text(q.domain),
                percent: parse_number("percent", q.percent.as_deref())?.unwrap_or(0.0),
                authority: text(q.authority),
                pockets_only: parse_flag("pockets_only", q.pockets_only.as_deref())?,
                scope: Some(scope),
            };
            Ok(service::priority_neighbourhoods(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn profile(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "profile",
        |feed, p, q: ProfileParams, scope| async move {
            let r = pb::ProfileRequest {
                area: text(q.area),
                scope: Some(scope),
            };
            Ok(service::area_profile(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn similar(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "similar",
        |feed, p, q: SimilarParams, scope| async move {
            let r = pb::SimilarRequest {
                area: text(q.area),
                level: level(q.level),
                indicators: q
                    .indicators
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                k: parse_number("k", q.k.as_deref())?.unwrap_or(0),
                scope: Some(scope),
            };
            Ok(service::most_similar(&feed.state, &p, r).await?)
        },
    )
    .await
}

fn spend_request(q: SpendParams, scope: pb::Scope) -> Result<pb::SpendRequest, ApiError> {
    Ok(pb::SpendRequest {
        spend: text(q.spend),
        suppliers: text(q.suppliers),
        postcodes: text(q.postcodes),
        period: text(q.period),
        by: text(q.by),
        top: parse_number("top", q.top.as_deref())?.unwrap_or(0),
        edition: text(q.edition),
        baseline_years: parse_number("baseline_years", q.baseline_years.as_deref())?.unwrap_or(0),
        scope: Some(scope),
    })
}

pub(super) async fn spend(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "spend",
        |feed, p, q: SpendParams, scope| async move {
            if q.baseline_years.is_some() {
                return Err(bad(
                    "baseline_years: only /api/v1/spend-years takes a baseline",
                ));
            }
            let r = spend_request(q, scope)?;
            Ok(crate::spend::spend_by_place(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn spend_years(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "spend-years",
        |feed, p, q: SpendParams, scope| async move {
            let r = spend_request(q, scope)?;
            Ok(crate::spend::spend_by_year(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn lm3(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "lm3",
        |feed, p, q: Lm3Params, scope| async move {
            let r = pb::LocalMultiplierRequest {
                survey: text(q.survey),
                round2_staff_proxy: text(q.round2_staff_proxy),
                round2_supplier_proxy: text(q.round2_supplier_proxy),
                staff_respend_proxy: text(q.staff_respend_proxy),
                supplier_respend_proxy: text(q.supplier_respend_proxy),
                scope: Some(scope),
            };
            Ok(crate::spend::local_multiplier(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn change(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "change",
        |feed, p, q: ChangeParams, scope| async move {
            let r = pb::ChangeRequest {
                indicator: text(q.indicator),
                area: text(q.area),
                level: level(q.level),
                from_period: text(q.from),
                to_period: text(q.to),
                similar_on: q
                    .similar_on
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                k: parse_number("k", q.k.as_deref())?.unwrap_or(0),
                scope: Some(scope),
            };
            Ok(service::change_vs_similar(&feed.state, &p, r).await?)
        },
    )
    .await
}

pub(super) async fn lpp(parts: Parts) -> Response {
    respond(
        parts,
        true,
        "lpp",
        |feed, p, q: LppParams, scope| async move {
            let r = pb::LocalPerformancePlanRequest {
                authority: text(q.authority),
                year: text(q.year),
                level: level(q.level),
                selection: text(q.select),
                plan: text(q.plan),
                scope: Some(scope),
            };
            Ok(service::local_performance_plan(&feed.state, &p, r).await?)
        },
    )
    .await
}
