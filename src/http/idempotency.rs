//! `Idempotency-Key` on POST and PUT (Stripe's model): the same key with the same request
//! replays the stored answer; with a different request it is a 422; while the first is
//! still running a 409. Keys are scoped per API key and expire after a window (24 h by
//! default). Answers of 5xx are not stored, so a retry runs again.

use super::error::{ApiError, Code};
use crate::service::idempotency::{self, Claim, StoredResponse};
use crate::service::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";
/// Answers above this size are not kept for replay (none of the API's are).
const MAX_STORED: usize = 1024 * 1024;

/// Writes that take no `Idempotency-Key`: streamed bulk bodies (imports, order batches:
/// idempotent by their ids) and key creation (the answer holds a secret that must never be
/// stored). Also what the OpenAPI document reads, so it offers the header where it works.
pub fn exempt(path: &str) -> bool {
    path == "/v1/customers/import" || path == "/v1/orders" || path.starts_with("/v1/keys")
}

fn invalid(message: &str) -> ApiError {
    crate::error::AppError::Invalid(crate::domain::FieldError::new("Idempotency-Key", message))
        .into()
}

/// Run `next` under the request's `Idempotency-Key`, if it has one; `caller` is the API
/// key's name (keys are scoped per API key). Called by `auth::require`.
pub async fn guard(
    state: &AppState,
    caller: &str,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let is_write = req.method() == Method::POST || req.method() == Method::PUT;
    let exempt = exempt(req.uri().path());
    let Some(raw) = req
        .headers()
        .get(HEADER)
        .filter(|_| is_write && !exempt)
        .cloned()
    else {
        return Ok(next.run(req).await);
    };
    let idem = raw
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| invalid("must be 1 to 255 printable ASCII characters"))?
        .to_string();
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, super::POLICY_BODY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::new(
                Code::PayloadTooLarge,
                "the request body is larger than this route accepts",
            )
        })?;
    let fingerprint = {
        let mut h = Sha256::new();
        h.update(parts.method.as_str());
        h.update(b"\0");
        h.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
        h.update(b"\0");
        h.update(&bytes);
        hex::encode(h.finalize())
    };
    let key = hex::encode(Sha256::digest(format!("{caller}\0{idem}").as_bytes()));
    let now = chrono::Utc::now().timestamp_millis();
    let claim = idempotency::claim(state, &key, &fingerprint, now).await?;
    match claim {
        Claim::Replay(r) => return Ok(replay(r)),
        Claim::InFlight => {
            return Err(ApiError::new(
                Code::IdempotencyInFlight,
                "a request with this Idempotency-Key is still being processed; retry shortly",
            ))
        }
        Claim::Mismatch => {
            return Err(ApiError::new(
                Code::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request",
            ))
        }
        Claim::Granted => {}
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    finish(state, key, response).await
}

/// Keep the answer for replays (durably, like the write it answers), or give the key back
/// after a server error.
async fn finish(state: &AppState, key: String, response: Response) -> Result<Response, ApiError> {
    let (parts, body) = response.into_parts();
    if parts.status.is_server_error() {
        idempotency::release(state, key);
        return Ok(Response::from_parts(parts, body));
    }
    let bytes = to_bytes(body, MAX_STORED)
        .await
        .map_err(|_| ApiError::new(Code::Internal, "the answer could not be kept for replay"))?;
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    idempotency::done(state, key, stored).await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(r: StoredResponse) -> Response {
    let status = axum::http::StatusCode::from_u16(r.status).unwrap_or(axum::http::StatusCode::OK);
    let mut resp = (status, r.body).into_response();
    if let Some(ct) = r.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}
