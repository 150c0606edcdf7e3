//! The `Spend` service: where a body's payments land (`renewal_query::spend`) and the Local
//! Multiplier 3 of its supplier survey (`renewal_query::lm3`), as transport-neutral question
//! functions (the HTTP feed calls them too) and their gRPC methods.
//!
//! Scopes: the datasets an answer read are checked against the key's dataset patterns by
//! [`State::answer`], as for every question. A key limited to some authorities reads a body's
//! spend only when the body's own district (the spend dataset's `body_area`, recorded at
//! ingest) is one of them; a spend dataset without one is readable only by keys for all of
//! England. The same rule holds for an LM3 survey, through its own `body_area` when it has one.

use std::sync::Arc;

use renewal_query::spend::{Breakdown, DEFAULT_TOP, POSTCODES_DATASET, Period, SpendRequest};
use renewal_query::{Answer, DatasetPins};
use tonic::{Request, Response, Status};

use crate::auth::Partner;
use crate::pb;
use crate::service::{ChunkStream, State, partner, required, scope, stream, to_status};

/// Years before the chosen one whose mean is the baseline, unless a request says otherwise.
const DEFAULT_BASELINE_YEARS: usize = 3;

/// The gRPC `Spend` service over the shared state.
pub struct SpendService(pub Arc<State>);

/// A body's datasets may be read by `p` only if the body's district is in its authorities.
async fn check_body(
    state: &State,
    p: &Partner,
    dataset: &str,
    pins: &DatasetPins,
) -> Result<(), Status> {
    if p.all_authorities() {
        return Ok(());
    }
    // A dataset that does not exist (or a version that does not) has no body_area either; a
    // limited key learns nothing more from the refusal than that it may not read it.
    let area = state
        .engine
        .warehouse()
        .manifest(dataset, pins.get(dataset).copied())
        .await
        .ok()
        .and_then(|m| m.attributes.get("body_area").cloned());
    match area {
        Some(area) if p.may_read_authority(&area) => Ok(()),
        Some(area) => Err(Status::permission_denied(format!(
            "{} may not read {dataset}: its body is in {area}",
            p.partner
        ))),
        None => Err(Status::permission_denied(format!(
            "{} may not read {dataset}: it records no body_area (its body's district), so only \
             keys for all of England may",
            p.partner
        ))),
    }
}

fn spend_request(r: &pb::SpendRequest) -> Result<(SpendRequest, DatasetPins), Status> {
    required("spend", &r.spend)?;
    required("suppliers", &r.suppliers)?;
    required("period", &r.period)?;
    required("by", &r.by)?;
    let period: Period = r
        .period
        .parse()
        .map_err(|e: String| Status::invalid_argument(format!("period: {e}")))?;
    let breakdown: Breakdown =
        r.by.parse()
            .map_err(|e: String| Status::invalid_argument(format!("by: {e}")))?;
    let scope = scope(r.scope.clone())?;
    if scope.bridge_weights.is_some() {
        return Err(Status::invalid_argument(
            "scope.bridge_weights: spend questions place suppliers on the edition's own LSOA \
             vintage and move nothing between vintages",
        ));
    }
    let request = SpendRequest {
        spend: r.spend.trim().to_owned(),
        suppliers: r.suppliers.trim().to_owned(),
        postcodes: if r.postcodes.trim().is_empty() {
            POSTCODES_DATASET.to_owned()
        } else {
            r.postcodes.trim().to_owned()
        },
        period,
        breakdown,
        top: if r.top == 0 {
            DEFAULT_TOP
        } else {
            r.top as usize
        },
        edition: Some(r.edition.trim().to_owned()).filter(|e| !e.is_empty()),
        ward_vintage: scope.ward_vintage,
    };
    Ok((request, scope.pins))
}

/// One period's spend by a breakdown (SpendByPlace).
pub(crate) async fn spend_by_place(
    state: &State,
    p: &Partner,
    r: pb::SpendRequest,
) -> Result<Answer, Status> {
    let (request, pins) = spend_request(&r)?;
    let engine = state.engine.clone();
    state
        .answer("SpendByPlace", p, async move {
            check_body(state, p, &request.spend, &pins).await?;
            renewal_query::spend::spend_by_place(&engine, &request, &pins)
                .await
                .map_err(to_status)
        })
        .await
}

/// The breakdown per financial year against a baseline (SpendByYear).
pub(crate) async fn spend_by_year(
    state: &State,
    p: &Partner,
    r: pb::SpendRequest,
) -> Result<Answer, Status> {
    let (request, pins) = spend_request(&r)?;
    let years = if r.baseline_years == 0 {
        DEFAULT_BASELINE_YEARS
    } else {
        r.baseline_years as usize
    };
    let engine = state.engine.clone();
    state
        .answer("SpendByYear", p, async move {
            check_body(state, p, &request.spend, &pins).await?;
            renewal_query::spend::spend_by_year(&engine, &request, years, &pins)
                .await
                .map_err(to_status)
        })
        .await
}

fn proxy(field: &str, text: &str) -> Result<Option<renewal_query::lm3::Share>, Status> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    renewal_query::lm3::Share::parse_share(text)
        .map(Some)
        .map_err(|e| Status::invalid_argument(format!("{field}: {e}")))
}

/// LM3 of a supplier survey (LocalMultiplier).
pub(crate) async fn local_multiplier(
    state: &State,
    p: &Partner,
    r: pb::LocalMultiplierRequest,
) -> Result<Answer, Status> {
    required("survey", &r.survey)?;
    let round2 = match (
        proxy("round2_staff_proxy", &r.round2_staff_proxy)?,
        proxy("round2_supplier_proxy", &r.round2_supplier_proxy)?,
    ) {
        (Some(staff), Some(suppliers)) => Some((staff, suppliers)),
        (None, None) => None,
        _ => {
            return Err(Status::invalid_argument(
                "round2_staff_proxy and round2_supplier_proxy go together",
            ));
        }
    };
    let proxies = renewal_query::lm3::Lm3Proxies {
        round2,
        staff_respend: proxy("staff_respend_proxy", &r.staff_respend_proxy)?,
        supplier_respend: proxy("supplier_respend_proxy", &r.supplier_respend_proxy)?,
    };
    let pins = scope(r.scope)?.pins;
    let survey = r.survey.trim().to_owned();
    let engine = state.engine.clone();
    state
        .answer("LocalMultiplier", p, async move {
            check_body(state, p, &survey, &pins).await?;
            renewal_query::lm3::lm3(engine.warehouse(), &survey, &pins, &proxies)
                .await
                .map_err(to_status)
        })
        .await
}

#[tonic::async_trait]
impl pb::spend_server::Spend for SpendService {
    type SpendByPlaceStream = ChunkStream;
    type SpendByYearStream = ChunkStream;
    type LocalMultiplierStream = ChunkStream;

    async fn spend_by_place(
        &self,
        request: Request<pb::SpendRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(spend_by_place(&self.0, &p, request.into_inner()).await)
    }

    async fn spend_by_year(
        &self,
        request: Request<pb::SpendRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(spend_by_year(&self.0, &p, request.into_inner()).await)
    }

    async fn local_multiplier(
        &self,
        request: Request<pb::LocalMultiplierRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let p = partner(&request)?;
        stream(local_multiplier(&self.0, &p, request.into_inner()).await)
    }
}
