//! `POST /v1/orders` (one order, or an NDJSON batch), `POST /v1/value/fit`,
//! `POST /v1/value/validate` and `GET /v1/value/model`.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::ApiJson;
use crate::error::AppError;
use crate::http::IMPORT_BODY_LIMIT;
use crate::service::order_parse::{parse_json, Columns};
use crate::service::orders::{OrderIngest, OrderSummaryReport, Refusal};
use crate::service::value::{fit_and_store, FitReport, FitRequest};
use crate::service::value_validate::{self, ValidateRequest, ValidationReport};
use crate::service::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use http_body_util::BodyExt;
use utoipa::ToSchema;

fn media(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// One order as `POST /v1/orders` takes it. `order_parse` reads the body (it also takes
/// other field names and plain amounts from imports), so this type only describes it.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used; `order_parse` reads the body"
)]
struct OrderDto {
    /// Orders are idempotent by it.
    #[schema(value_type = crate::domain::schema::Id)]
    order_id: String,
    #[schema(value_type = crate::domain::schema::Id)]
    customer_id: String,
    #[schema(value_type = crate::domain::schema::OrderTime)]
    at: String,
    /// Negative for a refund.
    amount: crate::money::MoneyDto,
}

/// Record orders: one JSON object (`application/json`) or one per line
/// (`application/x-ndjson`). Idempotent by `order_id`; answered once on disk.
#[utoipa::path(post, path = "/v1/orders", tag = "orders",
    request_body(content(
        (OrderDto = "application/json"),
        (String = "application/x-ndjson"),
    ), description = "One order, or one per line as NDJSON; a negative amount is a refund"),
    responses(
        (status = 201, description = "Stored: imported, duplicates, rejected and the first 100 errors", body = OrderSummaryReport),
        (status = 200, description = "A single order that was already stored", body = OrderSummaryReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A single order whose id is stored with other content", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = ["ingest"])))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<OrderSummaryReport>), ApiError> {
    let media = media(&headers);
    let ndjson = [
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
    ]
    .contains(&media.as_str());
    if !ndjson && media != "application/json" {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send one order as `application/json` or a batch as `application/x-ndjson`",
        ));
    }
    let mut ingest = OrderIngest::new(&state.store, Columns::default());
    if !ndjson {
        let bytes = axum::body::to_bytes(body, super::BODY_LIMIT)
            .await
            .map_err(|_| ApiError::new(Code::PayloadTooLarge, "the body is above 256 KiB"))?;
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
            return Err(ApiError::new(
                Code::MalformedJson,
                "the body is not valid JSON",
            ));
        }
        let order = parse_json(&Columns::default(), &bytes).map_err(AppError::from)?;
        let created = match ingest.offer(order)? {
            Ok(created) => created,
            Err(Refusal::Invalid(e)) => return Err(AppError::from(e).into()),
            Err(Refusal::Conflict(message)) => {
                return Err(ApiError::new(Code::OrderConflict, message))
            }
        };
        let report = finish(&state, ingest).await?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(report)));
    }
    let mut body = body;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::new(
                Code::PayloadTooLarge,
                "the body could not be read (too large or cut off)",
            )
        })?;
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        total += chunk.len();
        if total > IMPORT_BODY_LIMIT {
            let report = finish(&state, ingest).await?;
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                format!(
                    "the batch is larger than {IMPORT_BODY_LIMIT} bytes; the first {} orders were stored, send the rest separately",
                    report.imported
                ),
            ));
        }
        ingest.ndjson_bytes(chunk)?;
    }
    Ok((StatusCode::CREATED, Json(finish(&state, ingest).await?)))
}

/// Write the last batch and flush: the report is only returned once it is on disk.
async fn finish(state: &AppState, ingest: OrderIngest<'_>) -> Result<OrderSummaryReport, ApiError> {
    let report = ingest.finish()?;
    state.store.flush().await.map_err(AppError::from)?;
    Ok(report)
}

/// Fit the value models on the stored order summaries, store them as the new active
/// version and refresh every customer's cached prediction. A failed fit keeps the old one.
#[utoipa::path(post, path = "/v1/value/fit", tag = "orders",
    request_body = FitRequest,
    responses(
        (status = 201, description = "The new model version", body = FitReport),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "Invalid settings, or the fit failed (`value_fit_failed`)", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])))]
pub async fn fit(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<FitRequest>,
) -> Result<(StatusCode, Json<FitReport>), ApiError> {
    let store = state.store.clone();
    // Fitting is CPU-bound for seconds on a large store: keep it off the async workers.
    let report =
        tokio::task::spawn_blocking(move || fit_and_store(&store, &req, chrono::Utc::now()))
            .await
            .map_err(|_| {
                ApiError::new(
                    Code::Internal,
                    "an unexpected error occurred; it has been logged",
                )
            })??;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Validate the value models on a holdout period: fit on the purchases up to
/// `calibration_end`, compare each customer's predicted holdout with what they did.
/// Stores nothing and activates nothing.
#[utoipa::path(post, path = "/v1/value/validate", tag = "orders",
    request_body = ValidateRequest,
    responses(
        (status = 200, description = "The comparison (docs/value.md)", body = ValidationReport),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "Invalid dates (`invalid_request`), or the calibration period cannot be fitted (`value_validation_failed`)", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])))]
pub async fn validate(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ValidateRequest>,
) -> Result<Json<ValidationReport>, ApiError> {
    let store = state.store.clone();
    // Reads every order and fits twice: off the async workers, like a fit.
    let report = tokio::task::spawn_blocking(move || value_validate::validate(&store, &req))
        .await
        .map_err(|_| {
            ApiError::new(
                crate::error_code::Code::Internal,
                "an unexpected error occurred; it has been logged",
            )
        })??;
    Ok(Json(report))
}

/// The active value model.
#[utoipa::path(get, path = "/v1/value/model", tag = "orders",
    responses(
        (status = 200, description = "Parameters, fit statistics and settings", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No model fitted yet (`value_model_not_found`)", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])))]
pub async fn model(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let model = crate::service::order_history::active_model(&state.store)
        .map_err(AppError::from)?
        .ok_or_else(|| {
            ApiError::new(
                Code::ValueModelNotFound,
                "no value model is fitted yet; POST /v1/value/fit",
            )
        })?;
    Ok(Json(serde_json::to_value(model).map_err(|_| {
        ApiError::new(
            Code::Internal,
            "an unexpected error occurred; it has been logged",
        )
    })?))
}
