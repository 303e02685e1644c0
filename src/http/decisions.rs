//! `POST /v1/decisions`, `GET /v1/decisions/{id}`, `POST /v1/decisions/{id}/outcome`.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Caller};
use crate::domain::decision::Decision;
use crate::domain::outcome::{ApprovalRecord, OutcomeRecord};
use crate::domain::request::DecisionRequestDto;
use crate::domain::shadow::ShadowResult;
use crate::service::approvals::{self, ApprovalDto};
use crate::service::decisions::{self, OutcomeDto};
use crate::service::stored;
use crate::service::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use body::DecisionBody;

pub mod body;

/// Recommend a gesture for a complaint.
#[utoipa::path(post, path = "/v1/decisions", tag = "decisions",
    request_body = DecisionRequestDto,
    responses(
        (status = 200, description = "The recommendation, stored before it is returned", body = Decision),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown key", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key lacks the `decide` scope; `role_not_allowed`: `agent.role` is above the key's maximum role", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A field is invalid; the message names it", body = ErrorBody),
        (status = 503, description = "No active policy or store unavailable", body = ErrorBody),
    ),
    security(("bearer" = ["decide"])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DecisionRequestDto>,
) -> Result<Response, ApiError> {
    // The decision's JSON as the service serialised it for the stored record, so it is
    // written once; `Json(decision)` would give the same bytes a second time.
    let max_role = caller.key.max_role.as_deref();
    let (_, answer) = decisions::decide_answer(&state, req, max_role, chrono::Utc::now()).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer).into_response())
}

/// A stored decision with its request, the customer snapshot and the outcome. A key
/// with only the `decide` scope gets it without `customer_snapshot` and without the
/// outcome's `note`.
#[utoipa::path(get, path = "/v1/decisions/{decision_id}", tag = "decisions",
    params(("decision_id" = String, Path, description = "The decision's ULID")),
    responses(
        (status = 200, body = DecisionBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such decision", body = ErrorBody),
    ),
    security(("bearer" = ["decide"])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DecisionBody>, ApiError> {
    let d = stored::get(&state, &id).await?;
    Ok(Json(stored::view_for(d, &caller.key.scopes).into()))
}

/// Record what was actually granted.
#[utoipa::path(post, path = "/v1/decisions/{decision_id}/outcome", tag = "decisions",
    params(("decision_id" = String, Path, description = "The decision's ULID")),
    request_body = OutcomeDto,
    responses(
        (status = 201, description = "Recorded", body = OutcomeRecord),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`outcome_exists`, or `approval_required`: above the role's authority without an approval whose approver `approved_by` names and whose amount covers the grant", body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = ["decide"])))]
pub async fn outcome(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<OutcomeDto>,
) -> Result<(StatusCode, Json<OutcomeRecord>), ApiError> {
    let o =
        decisions::record_outcome(&state, &id, body, &caller.key.name, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// Approve a grant above the deciding role's authority, by an approver whose role
/// covers it for this customer; the outcome then names the approver in `approved_by`.
#[utoipa::path(post, path = "/v1/decisions/{decision_id}/approval", tag = "decisions",
    params(("decision_id" = String, Path, description = "The decision's ULID")),
    request_body = ApprovalDto,
    responses(
        (status = 201, description = "Recorded, with its link in the audit chain", body = ApprovalRecord),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`, `role_not_allowed` (the approver's role is above the key's maximum) or `approval_not_allowed` (the role's limit does not cover the amount)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`approval_exists` or `outcome_exists`", body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = ["decide"])))]
pub async fn approval(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ApprovalDto>,
) -> Result<(StatusCode, Json<ApprovalRecord>), ApiError> {
    let a = approvals::approve(&state, &id, body, &caller.key, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// What the shadow version answered for this decision.
#[utoipa::path(get, path = "/v1/decisions/{decision_id}/shadow", tag = "decisions",
    params(("decision_id" = String, Path)),
    responses((status = 200, body = ShadowResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`shadow_result_not_found`", body = ErrorBody)),
    security(("bearer" = ["decide"])))]
pub async fn shadow(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ShadowResult>, ApiError> {
    Ok(Json(crate::service::shadow::result(&state, &id).await?))
}
