//! `Idempotency-Key` records for the HTTP layer (http/idempotency.rs): claiming a key,
//! keeping the answer for replays, giving the key back after a server error.

use super::AppState;
use crate::error::AppError;
use crate::store::Command;

/// What a claim found: run the request, replay an answer, wait, or a reused key.
pub use crate::store::idempotency::Claim;
/// An answer as kept for replays: status, content type, body.
pub use crate::store::idempotency::StoredResponse;

/// Claim `key` for a request with `fingerprint` at `now_ms` (unix milliseconds).
pub async fn claim(
    state: &AppState,
    key: &str,
    fingerprint: &str,
    now_ms: i64,
) -> Result<Claim, AppError> {
    Ok(state
        .store
        .idempotency_claim(key, fingerprint, now_ms, state.idempotency_window_ms)
        .await?)
}

/// Keep `response` for replays of `key`, durably, like the write it answers.
pub async fn done(state: &AppState, key: String, response: StoredResponse) -> Result<(), AppError> {
    state
        .store
        .apply_durable(Command::IdempotencyDone { key, response })
        .await?;
    Ok(())
}

/// Give `key` back (the request failed on our side): a retry may run. Best effort: a
/// claim left behind is taken as abandoned after a minute.
pub fn release(state: &AppState, key: String) {
    if let Err(e) = state.store.apply(Command::IdempotencyRelease { key }) {
        tracing::warn!(error = %e, "an idempotency key could not be given back");
    }
}
