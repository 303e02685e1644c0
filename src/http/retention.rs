//! `GET /v1/reports/retention`: the retention estimates behind the expected-value ranking.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::ApiQuery;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::service::retention::{self, RetentionReport};
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

/// Query of `GET /v1/reports/retention`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RetentionQuery {
    /// Judge "ordered again" over this many days (1–3650); default: the active policy's
    /// `retention.window_days`, else 90.
    #[param(minimum = 1, maximum = 3650)]
    pub window_days: Option<u32>,
    /// The market whose policy and outcomes are reported (docs/policy.md#markets); default
    /// as for a decision. With several markets active, only that market's outcomes count.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
}

/// Per gesture and segment: the policy's prior, outcomes judged retained, lost, pending
/// or unknown, and the posterior retention the ranking uses. Judged now, from the ledger.
#[utoipa::path(get, path = "/v1/reports/retention", tag = "decisions",
    params(RetentionQuery),
    responses((status = 200, body = RetentionReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn report(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RetentionQuery>,
) -> Result<Json<RetentionReport>, ApiError> {
    if q.window_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(
            AppError::from(FieldError::new("window_days", "must be between 1 and 3650")).into(),
        );
    }
    let policy = state.policy_for(q.market.as_deref())?;
    let market = retention::scope(&state, &policy).map(str::to_owned);
    // A pass over the ledger: off the async workers.
    let store = state.store.clone();
    let built = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        retention::report(&policy, &store, q.window_days, now, market.as_deref())
    })
    .await
    .map_err(|_| ApiError::new(Code::Internal, "the report failed"))?;
    Ok(Json(built.map_err(AppError::from)?))
}
