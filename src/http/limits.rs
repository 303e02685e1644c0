//! Abuse limits as HTTP answers: 429 with `Retry-After` for the per-key rate limit
//! (`service::rate_limit`) and for failed webhook signatures, and the per-request time
//! limit (503 `request_timeout`). Body sizes are limited per route in `mod.rs`; string,
//! array and nesting limits in the domain types and the JSON parser.

use super::error::{ApiError, Code};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Whole seconds to wait, rounded up, at least 1.
fn whole_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The 429 answer, with whole seconds to wait (at least 1).
pub fn too_many(wait: Duration) -> Response {
    let secs = whole_secs(wait);
    ApiError::new(
        Code::RateLimited,
        format!("too many requests for this API key; retry in {secs} s"),
    )
    .retry_after(secs)
    .into_response()
}

/// Route layer: answer 503 `request_timeout` when a read takes longer than allowed.
///
/// Writes are never cut: a write stopped half-way may already be applied, and answering
/// 503 would invite a retry that applies it twice. A write's own work is bounded (one
/// store transaction and one shared flush); a client that gives up on one should retry
/// with the same `Idempotency-Key`, which replays or waits rather than repeats.
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let read = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if !read {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            Code::RequestTimeout,
            format!(
                "the request took longer than {} s; retry it later",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// The 429 answer for a peer over its budget of failed webhook signatures.
pub fn too_many_failures(wait: Duration) -> ApiError {
    let secs = whole_secs(wait);
    ApiError::new(
        Code::RateLimited,
        format!("too many failed webhook signatures from this address; retry in {secs} s"),
    )
    .retry_after(secs)
}
