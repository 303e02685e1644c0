//! `GET /v1/replica` (admin): where this replica stands in the cluster's log and a digest
//! of what it holds, so an operator (or a test) can check that replicas converged: two
//! replicas at the same `applied` position have equal digests. On a single node it
//! answers the digest alone.

use super::error::{ApiError, Code};
use super::ops::ClusterReadiness;
use crate::service::integrity::{self, StateDigest};
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// A replica's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaState {
    /// Cluster mode only: the replica's place in the log (as in `/readyz`).
    pub cluster: Option<ClusterReadiness>,
    /// What the store holds, as of `cluster.applied` (taken while writes may go on: compare
    /// replicas when no writes are in flight).
    pub digest: StateDigest,
}

#[utoipa::path(get, path = "/v1/replica", tag = "operations",
    responses((status = 200, body = ReplicaState),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn state(State(state): State<AppState>) -> Result<Json<ReplicaState>, ApiError> {
    let cluster = super::ops::cluster_readiness(&state);
    let store = state.store.clone();
    let digest = tokio::task::spawn_blocking(move || integrity::state_digest(&store))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "the digest stopped unexpectedly"))??;
    Ok(Json(ReplicaState { cluster, digest }))
}
