//! `GET /v1/reports/goodwill`: what goodwill was recommended and granted over a window;
//! `GET /v1/reports/decisions`: the decisions behind one of its numbers.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::ApiQuery;
use crate::error::AppError;
use crate::service::report::{self, Filter, GoodwillReport};
use crate::service::report_decisions::{self, DecisionList, Narrow, OutcomeFilter};
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
    /// Only decisions made in this segment, e.g. `top`.
    pub segment: Option<String>,
    /// The market (docs/policy.md, "Markets"); absent: the market `default`, or the only
    /// one. An unknown market is a 422 naming `market`.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
}

fn filter(
    state: &AppState,
    from: &Option<String>,
    to: &Option<String>,
    segment: Option<String>,
    market: Option<&str>,
) -> Result<Filter, AppError> {
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| report::parse_time(field, s))
            .transpose()
            .map_err(AppError::from)
    };
    Ok(Filter {
        from: time("from", from)?,
        to: time("to", to)?,
        segment,
        market: crate::service::markets::report_market(state, market)?,
    })
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
    let f = filter(&state, &q.from, &q.to, q.segment, q.market.as_deref())?;
    let days = report::check_retention_days(
        "retention_days",
        q.retention_days.unwrap_or(report::DEFAULT_RETENTION_DAYS),
    )
    .map_err(AppError::from)?;
    let now = chrono::Utc::now();
    // Streams the decision log: off the async workers.
    let built =
        tokio::task::spawn_blocking(move || report::build_filtered(&state.store, &f, days, now))
            .await
            .map_err(|_| ApiError::new(Code::Internal, "the report failed"))?;
    Ok(Json(built.map_err(AppError::from)?))
}

/// Query of `GET /v1/reports/decisions`: the report's window and segment, narrowed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    /// Decisions made at or after this time: `YYYY-MM-DD` or RFC 3339.
    #[param(value_type = Option<crate::domain::schema::DayOrTime>)]
    pub from: Option<String>,
    /// Decisions made before this time: `YYYY-MM-DD` or RFC 3339.
    #[param(value_type = Option<crate::domain::schema::DayOrTime>)]
    pub to: Option<String>,
    /// The segment the decision was made in.
    pub segment: Option<String>,
    /// The market the decision was made in; absent: the market `default`, or the only one.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
    /// The recommended gesture, e.g. `refund`.
    pub gesture: Option<String>,
    /// The asking role, e.g. `agent`.
    pub role: Option<String>,
    /// The asking agent's id.
    pub agent: Option<String>,
    /// The customer's id.
    pub customer: Option<String>,
    /// One UTC day, `YYYY-MM-DD`.
    #[param(value_type = Option<crate::domain::schema::Day>)]
    pub day: Option<String>,
    /// `open` (no outcome yet), `recorded`, or an outcome status: `granted_as_recommended`,
    /// `granted_other`, `escalated`, `declined`.
    #[param(pattern = "^(open|recorded|granted_as_recommended|granted_other|escalated|declined)$")]
    pub outcome: Option<String>,
    /// Whether the recommendation was within the asking role's authority.
    pub within_authority: Option<bool>,
    /// Whether the outcome says the customer accepted (outcomes without it never match).
    pub customer_accepted: Option<bool>,
    /// Lines to return, 0 to 1000; default 100 (`matched` counts them all).
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The decisions behind a number of the goodwill report, newest first.
#[utoipa::path(get, path = "/v1/reports/decisions", tag = "decisions",
    params(DecisionsQuery),
    responses((status = 200, body = DecisionList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn decisions(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DecisionsQuery>,
) -> Result<Json<DecisionList>, ApiError> {
    let f = filter(&state, &q.from, &q.to, q.segment, q.market.as_deref())?;
    let limit = q.limit.unwrap_or(report_decisions::DEFAULT_LIMIT);
    if limit > report_decisions::MAX_LIMIT {
        return Err(AppError::from(crate::domain::FieldError::new(
            "limit",
            "must be between 0 and 1000",
        ))
        .into());
    }
    let day = q
        .day
        .as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                crate::domain::FieldError::new(
                    "day",
                    format!("expected `YYYY-MM-DD`, got `{}`", crate::money::truncate(d)),
                )
            })
        })
        .transpose()
        .map_err(AppError::from)?;
    let outcome = q
        .outcome
        .as_deref()
        .map(OutcomeFilter::parse)
        .transpose()
        .map_err(AppError::from)?;
    let narrow = Narrow {
        gesture: q.gesture,
        role: q.role,
        agent: q.agent,
        customer: q.customer,
        day,
        outcome,
        within_authority: q.within_authority,
        customer_accepted: q.customer_accepted,
    };
    // Streams the decision log: off the async workers.
    let built = tokio::task::spawn_blocking(move || {
        report_decisions::list(&state.store, &f, &narrow, limit)
    })
    .await
    .map_err(|_| ApiError::new(Code::Internal, "the list failed"))?;
    Ok(Json(built.map_err(AppError::from)?))
}
