//! `POST /v1/webhooks/zendesk` and `POST /v1/webhooks/generic`: authenticated by their
//! HMAC signature, not a bearer key. The body is read raw, because the signature covers
//! the exact bytes.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::{body_bytes, parse_json};
use crate::domain::request::DecisionRequestDto;
use crate::service::webhook_payload::ZendeskPayload;
use crate::service::webhooks::{self, Receipt, Signed, Source, WebhookError};
use crate::service::AppState;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::Json;
use std::net::IpAddr;
use std::time::Instant;

/// Zendesk's signature headers and its per-delivery id (stable across its retries).
pub const ZENDESK_SIGNATURE: &str = "x-zendesk-webhook-signature";
pub const ZENDESK_TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
pub const ZENDESK_INVOCATION: &str = "x-zendesk-webhook-invocation-id";
/// The generic route's headers.
pub const GENERIC_SIGNATURE: &str = "x-kulanz-signature";
pub const GENERIC_TIMESTAMP: &str = "x-kulanz-timestamp";
pub const GENERIC_DELIVERY: &str = "x-kulanz-delivery-id";

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::NotConfigured(_) => {
                ApiError::new(Code::WebhookNotConfigured, e.to_string())
            }
            WebhookError::BadSignature(_) => {
                ApiError::new(Code::WebhookSignatureInvalid, e.to_string())
            }
            WebhookError::Stale(..) => ApiError::new(Code::WebhookTimestampStale, e.to_string()),
            WebhookError::App(app) => app.into(),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The headers, the peer and the raw body. Nobody is known yet, so a body that trickles
/// in is cut off at the request time limit, and a peer over its budget of failed
/// signatures is refused before its body is read.
async fn read(
    state: &AppState,
    req: Request,
) -> Result<(HeaderMap, Option<IpAddr>, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let peer = crate::connections::peer(&parts).map(|a| a.ip());
    if let Some(wait) = peer.and_then(|ip| state.webhooks.failures.blocked(ip, Instant::now())) {
        return Err(super::limits::too_many_failures(wait));
    }
    let headers = parts.headers.clone();
    let body = Request::from_parts(parts, body);
    let bytes = tokio::time::timeout(state.request_timeout, body_bytes(body, &()))
        .await
        .map_err(|_| {
            ApiError::new(
                Code::RequestTimeout,
                "the request body took longer than the server's time limit to arrive",
            )
        })??;
    Ok((headers, peer, bytes))
}

/// Authenticate, counting a failed signature against the peer's budget.
fn authenticate(
    state: &AppState,
    source: Source,
    signed: &Signed<'_>,
    peer: Option<IpAddr>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<webhooks::Authentic, ApiError> {
    webhooks::authenticate(&state.webhooks, source, signed, now).map_err(|e| {
        if let (WebhookError::BadSignature(_), Some(ip)) = (&e, peer) {
            state.webhooks.failures.record(ip, Instant::now());
        }
        ApiError::from(e)
    })
}

/// A Zendesk trigger: decide for the ticket so the sidebar shows it when opened.
#[utoipa::path(post, path = "/v1/webhooks/zendesk", tag = "webhooks",
    request_body = ZendeskPayload,
    params(
        ("X-Zendesk-Webhook-Signature" = String, Header, description = "base64(HMAC-SHA256(secret, timestamp + body))"),
        ("X-Zendesk-Webhook-Signature-Timestamp" = String, Header, description = "RFC 3339, within the tolerance"),
    ),
    responses(
        (status = 200, description = "Decided, or a retry of a handled delivery", body = Receipt),
        (status = 400, body = ErrorBody),
        (status = 401, description = "`webhook_signature_invalid` or `webhook_timestamp_stale`", body = ErrorBody),
        (status = 404, description = "`webhook_not_configured`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed signatures from this address", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn zendesk(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<Receipt>, ApiError> {
    let (headers, peer, body) = read(&state, req).await?;
    let signed = Signed {
        timestamp: header(&headers, ZENDESK_TIMESTAMP),
        signature: header(&headers, ZENDESK_SIGNATURE),
        delivery_id: header(&headers, ZENDESK_INVOCATION),
        body: &body,
    };
    let now = chrono::Utc::now();
    let auth = authenticate(&state, Source::Zendesk, &signed, peer, now)?;
    let payload: ZendeskPayload = parse_json(&body)?;
    // An amount without a currency is in the currency of the market the ticket names.
    let currency = state
        .policy_for(payload.market().as_deref())
        .map(|p| p.currency.as_str().to_string())
        .map_err(ApiError::from)?;
    let request = payload.into_request(&currency);
    Ok(Json(
        webhooks::handle(&state, Source::Zendesk, &signed, &auth, request, now).await?,
    ))
}

/// Any desk: the body is a `POST /v1/decisions` request.
#[utoipa::path(post, path = "/v1/webhooks/generic", tag = "webhooks",
    request_body = DecisionRequestDto,
    params(
        ("X-Kulanz-Signature" = String, Header, description = "base64(HMAC-SHA256(secret, timestamp + body)) or `sha256=<hex>` of the same"),
        ("X-Kulanz-Timestamp" = String, Header, description = "unix seconds or RFC 3339, within the tolerance"),
        ("X-Kulanz-Delivery-Id" = Option<String>, Header, description = "stable across retries; deduplicates them"),
    ),
    responses(
        (status = 200, description = "Decided, or a retry of a handled delivery", body = Receipt),
        (status = 400, body = ErrorBody),
        (status = 401, description = "`webhook_signature_invalid` or `webhook_timestamp_stale`", body = ErrorBody),
        (status = 404, description = "`webhook_not_configured`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed signatures from this address", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn generic(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<Receipt>, ApiError> {
    let (headers, peer, body) = read(&state, req).await?;
    let signed = Signed {
        timestamp: header(&headers, GENERIC_TIMESTAMP),
        signature: header(&headers, GENERIC_SIGNATURE),
        delivery_id: header(&headers, GENERIC_DELIVERY),
        body: &body,
    };
    let now = chrono::Utc::now();
    let auth = authenticate(&state, Source::Generic, &signed, peer, now)?;
    let request: DecisionRequestDto = parse_json(&body)?;
    Ok(Json(
        webhooks::handle(&state, Source::Generic, &signed, &auth, request, now).await?,
    ))
}
