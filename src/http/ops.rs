//! Operations routes without a key: health, readiness, metrics, the OpenAPI document.

use super::error::Code;
use crate::service::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Readiness detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub store: bool,
    /// `id version` of the active policy.
    pub policy: Option<String>,
    /// Cluster mode only: this replica's place in the replicated log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterReadiness>,
}

/// A replica's progress through the log (`/readyz` in cluster mode).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterReadiness {
    pub cluster: String,
    pub replica_id: String,
    /// Connected to NATS and less than 1,000 entries behind.
    pub ready: bool,
    /// The last log position applied here.
    pub applied: u64,
    /// Entries in the log not yet applied here.
    pub lag_entries: u64,
    /// How old the oldest of them is, in seconds (0 when caught up).
    pub lag_seconds: f64,
}

/// Cluster mode: the replica's place in the log; `None` on a single node.
pub fn cluster_readiness(state: &AppState) -> Option<ClusterReadiness> {
    state.cluster.as_ref().map(|c| {
        let (lag_entries, lag_seconds) = c.lag();
        ClusterReadiness {
            cluster: c.config().name.clone(),
            replica_id: c.config().replica_id.clone(),
            ready: c.is_ready(),
            applied: c.applied(),
            lag_entries,
            lag_seconds,
        }
    })
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up")))]
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// The store answers and a policy is active.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store.is_readable();
    let policy = state
        .main_policy()
        .map(|p| format!("{} {}", p.id, p.version));
    let cluster = cluster_readiness(&state);
    let ready = store && policy.is_some() && cluster.as_ref().is_none_or(|c| c.ready);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready,
            store,
            policy,
            cluster,
        }),
    )
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
}

/// Walk the audit chain (admin): how many links, and the first break if any.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "operations",
    responses((status = 200, body = crate::service::integrity::AuditVerification),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn audit_verify(
    State(state): State<AppState>,
) -> Result<Json<crate::service::integrity::AuditVerification>, super::error::ApiError> {
    let store = state.store.clone();
    let v = tokio::task::spawn_blocking(move || crate::service::integrity::verify_audit(&store))
        .await
        .map_err(|_| {
            super::error::ApiError::new(Code::Internal, "the verification stopped unexpectedly")
        })??;
    Ok(Json(v))
}

/// A consistent snapshot of the whole store (admin), gzip-compressed NDJSON; restore it with
/// `kulanz restore FILE`. Writes pause while the snapshot is taken.
#[utoipa::path(get, path = "/v1/backup", tag = "operations",
    responses((status = 200, description = "The snapshot", content_type = "application/gzip"),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn backup(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, super::error::ApiError> {
    let store = state.store.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        store.backup(&mut buf).map(|_| buf)
    })
    .await
    .map_err(|_| super::error::ApiError::new(Code::Internal, "the backup stopped unexpectedly"))?
    .map_err(crate::error::AppError::from)?;
    let name = format!(
        "attachment; filename=\"kulanz-{}.ndjson.gz\"",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    ))
}
