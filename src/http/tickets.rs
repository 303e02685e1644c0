//! `GET /v1/tickets/{ticket_id}/decision`: the latest decision for a help-desk ticket, so
//! the sidebar shows a webhook's decision without deciding again.

use super::decisions::body::DecisionBody;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, Caller};
use crate::service::{stored, AppState};
use axum::extract::State;
use axum::Json;

/// The latest decision stored for a ticket; for a `decide`-only key without
/// `customer_snapshot` and the outcome's `note`, as `GET /v1/decisions/{id}`.
#[utoipa::path(get, path = "/v1/tickets/{ticket_id}/decision", tag = "decisions",
    params(("ticket_id" = String, Path, description = "The help desk's ticket id, as sent in `ticket_id`")),
    responses(
        (status = 200, body = DecisionBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`decision_not_found`: no decision for this ticket yet", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = ["decide"])))]
pub async fn latest(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(ticket_id): ApiPath<String>,
) -> Result<Json<DecisionBody>, ApiError> {
    let d = stored::for_ticket(&state, &ticket_id).await?;
    Ok(Json(stored::view_for(d, &caller.key.scopes).into()))
}
