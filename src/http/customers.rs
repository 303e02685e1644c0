//! `PUT/GET/DELETE /v1/customers/{id}` and `POST /v1/customers/import`.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::domain::customer::CustomerRecordDto;
use crate::http::IMPORT_BODY_LIMIT;
use crate::service::customers::{self, CustomerView};
use crate::service::import::{ImportSummary, Importer};
use crate::service::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use http_body_util::BodyExt;

/// Create or replace a customer value record.
#[utoipa::path(put, path = "/v1/customers/{customer_id}", tag = "customers",
    params(("customer_id" = String, Path)),
    request_body = CustomerRecordDto,
    responses(
        (status = 201, description = "Created", body = CustomerView),
        (status = 200, description = "Replaced", body = CustomerView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = ["ingest"])))]
pub async fn put(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CustomerRecordDto>,
) -> Result<(StatusCode, Json<CustomerView>), ApiError> {
    let created = customers::put(&state, &id, body, chrono::Utc::now()).await?;
    let view = customers::get(&state, &id)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Read a customer value record.
#[utoipa::path(get, path = "/v1/customers/{customer_id}", tag = "customers",
    params(("customer_id" = String, Path)),
    responses((status = 200, body = CustomerView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["ingest"])))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CustomerView>, ApiError> {
    Ok(Json(customers::get(&state, &id)?))
}

/// Erase a customer value record.
#[utoipa::path(delete, path = "/v1/customers/{customer_id}", tag = "customers",
    params(("customer_id" = String, Path)),
    responses((status = 204, description = "Erased"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    customers::erase(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bulk import: one record per line (NDJSON), streamed; bad lines are listed, not fatal.
#[utoipa::path(post, path = "/v1/customers/import", tag = "customers",
    // Optional: an empty body is an empty import (200, nothing imported).
    request_body(content = Option<String>, content_type = "application/x-ndjson",
        description = "One customer record per line, each with `customer_id`; also taken as `application/ndjson`, `application/jsonl`, `application/json`, `text/plain` or without `Content-Type`"),
    responses(
        (status = 200, description = "Summary: imported, rejected, the first 100 errors with line numbers", body = ImportSummary),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
    ),
    security(("bearer" = ["ingest"])))]
pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportSummary>, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-ndjson")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ![
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/json",
        "text/plain",
    ]
    .contains(&media.as_str())
    {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send NDJSON with `Content-Type: application/x-ndjson`",
        ));
    }
    let mut importer = Importer::new(&state.store, chrono::Utc::now())?;
    let mut body = body;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::new(
                Code::PayloadTooLarge,
                "the import body could not be read (too large or cut off)",
            )
        })?;
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        // A streamed body is not bounded by `DefaultBodyLimit`; count it here. Records
        // already read stay imported (each batch is whole), and the 413 says how many.
        total += chunk.len();
        if total > IMPORT_BODY_LIMIT {
            let summary = finish(&state, importer).await?;
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                format!(
                    "the import is larger than {IMPORT_BODY_LIMIT} bytes; the first {} records were imported, send the rest separately",
                    summary.imported
                ),
            ));
        }
        importer.ndjson_bytes(chunk)?;
    }
    Ok(Json(finish(&state, importer).await?))
}

/// Write the last batch and flush: the summary is only returned once it is on disk.
async fn finish(state: &AppState, importer: Importer) -> Result<ImportSummary, ApiError> {
    let summary = importer.finish()?;
    state
        .store
        .flush()
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(summary)
}
