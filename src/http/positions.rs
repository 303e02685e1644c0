//! Read-your-writes across cluster replicas (docs/cluster.md): a 2xx write answers with
//! `Kulanz-Position`, its place in the replicated log; a request carrying
//! `Kulanz-After: <position>` waits (at most 2 s) until this replica has applied that far,
//! or answers `503 not_yet_applied` with `Retry-After`. Single-node: both are ignored.

use super::error::{ApiError, Code};
use crate::cluster::{position, READ_WAIT};
use crate::service::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const POSITION: &str = "kulanz-position";
pub const AFTER: &str = "kulanz-after";

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return next.run(req).await;
    };
    if let Some(raw) = req.headers().get(AFTER) {
        let Some(after) = raw.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) else {
            return ApiError::from(crate::error::AppError::Invalid(
                crate::domain::FieldError::new(
                    "Kulanz-After",
                    "must be a log position: the whole number a write answered in Kulanz-Position",
                ),
            ))
            .into_response();
        };
        if !cluster.wait_for(after, READ_WAIT).await {
            return ApiError::new(
                Code::NotYetApplied,
                format!(
                    "this replica has applied the log to position {}, not yet {after}; retry",
                    cluster.applied()
                ),
            )
            .retry_after(1)
            .into_response();
        }
    }
    let (mut resp, written) = position::track(next.run(req)).await;
    if let Some(p) = written.filter(|_| resp.status().is_success()) {
        resp.headers_mut().insert(POSITION, HeaderValue::from(p));
    }
    resp
}
