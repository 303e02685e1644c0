//! `POST /v1/nps`: one NPS answer (`application/json`) or a batch (`application/x-ndjson`);
//! `GET /v1/customers/at-risk`: the silent-churn list built on it.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::ApiQuery;
use crate::service::at_risk::{self, AtRiskPage, AtRiskQuery};
use crate::service::nps::{self, NpsAnswerDto, NpsReport};
use crate::service::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;

/// Largest NPS batch body.
pub const NPS_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Record NPS answers. Each customer keeps the last five answers; the latest feeds the
/// decision's detractor signal. Answered once on disk.
#[utoipa::path(post, path = "/v1/nps", tag = "customers",
    request_body(content(
        (NpsAnswerDto = "application/json"),
        (String = "application/x-ndjson"),
    ), description = "One answer, or one per line as NDJSON"),
    responses(
        (status = 201, description = "Stored: recorded, rejected and the first 100 line errors", body = NpsReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = ["ingest"])))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<NpsReport>), ApiError> {
    // Read here (not by an extractor) so an oversized body gets the contract's error body.
    let body = axum::body::to_bytes(body, NPS_BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(Code::PayloadTooLarge, "the body is above 16 MiB"))?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let now = chrono::Utc::now();
    let report = match media.as_str() {
        "application/json" => {
            let dto: NpsAnswerDto = match serde_json::from_slice::<serde_json::Value>(&body) {
                Err(_) => {
                    return Err(ApiError::new(
                        Code::MalformedJson,
                        "the body is not valid JSON",
                    ))
                }
                Ok(v) => serde_json::from_value(v).map_err(|e| {
                    ApiError::new(Code::InvalidRequest, format!("not an NPS answer: {e}"))
                })?,
            };
            nps::record_one(&state, dto, now).await?
        }
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            nps::record_batch(&state, &body, now).await?
        }
        _ => {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send one answer as `application/json` or a batch as `application/x-ndjson`",
            ))
        }
    };
    Ok((StatusCode::CREATED, Json(report)))
}

/// Customers with a churn signal and no decision in the last `quiet_days`, by value at
/// risk, with the reasons and a suggested proactive gesture.
#[utoipa::path(get, path = "/v1/customers/at-risk", tag = "customers",
    params(AtRiskQuery),
    responses((status = 200, body = AtRiskPage), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = ["ingest"])))]
pub async fn at_risk(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AtRiskQuery>,
) -> Result<Json<AtRiskPage>, ApiError> {
    // Reads every customer: off the async workers.
    let page = tokio::task::spawn_blocking(move || at_risk::list(&state, &q, chrono::Utc::now()))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "the at-risk list failed"))??;
    Ok(Json(page))
}
