//! `GET /v1/reports/goodwill`: what goodwill was recommended and granted over a window.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::ApiQuery;
use crate::error::AppError;
use crate::service::report::{self, GoodwillReport};
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

/// Query of `GET /v1/reports/goodwill`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Decisions made at or after this time: `YYYY-MM-DD` or RFC 3339.
    #[param(value_type = Option<crate::domain::schema::DayOrTime>)]
    pub from: Option<String>,
    /// Decisions made before this time: `YYYY-MM-DD` or RFC 3339.
    #[param(value_type = Option<crate::domain::schema::DayOrTime>)]
    pub to: Option<String>,
    /// Days after a complaint in which an order counts as retained, 1 to 730; default 90.
    #[param(minimum = 1, maximum = 730)]
    pub retention_days: Option<u32>,
}

/// The goodwill report over the decisions made in `[from, to)`.
#[utoipa::path(get, path = "/v1/reports/goodwill", tag = "decisions",
    params(ReportQuery),
    responses((status = 200, body = GoodwillReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn goodwill(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<GoodwillReport>, ApiError> {
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| report::parse_time(field, s))
            .transpose()
            .map_err(AppError::from)
    };
    let (from, to) = (time("from", &q.from)?, time("to", &q.to)?);
    let days = report::check_retention_days(
        "retention_days",
        q.retention_days.unwrap_or(report::DEFAULT_RETENTION_DAYS),
    )
    .map_err(AppError::from)?;
    let now = chrono::Utc::now();
    // Streams the decision log: off the async workers.
    let built =
        tokio::task::spawn_blocking(move || report::build(&state.store, from, to, days, now))
            .await
            .map_err(|_| ApiError::new(Code::Internal, "the report failed"))?;
    Ok(Json(built.map_err(AppError::from)?))
}
