//! Authentication and scopes: `Authorization: Bearer <secret>`; 401 for a missing or
//! unknown key, 403 for a known key without the route's scope. The secret is an API key,
//! or a desk session (`kzs_...`) the Zendesk app's page was given, which stands for one
//! agent with the `decide` scope and the role the server maps them to. Then `Idempotency-Key`
//! (idempotency.rs), which is scoped by the key: one layer for both, because every route
//! behind a key has both, and each layer costs a boxed future and a clone of the route
//! per request.

use super::error::{ApiError, Code};
use super::extract::{allows, bearer, Caller};
use crate::service::keys::Scope;
use crate::service::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Route layer: check the key and its scope before any body is read, then replay or
/// claim the `Idempotency-Key`.
pub async fn require(
    State((state, scope)): State<(AppState, Scope)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let secret = bearer(req.headers()).ok_or_else(|| {
        ApiError::new(
            Code::Unauthorized,
            "send an API key as `Authorization: Bearer <secret>`",
        )
    })?;
    let key = if secret.starts_with(crate::service::zendesk_app::session::PREFIX) {
        crate::service::zendesk_app::caller(&state, secret, chrono::Utc::now())?
    } else {
        state
            .store
            .find_key(secret)
            .map_err(|e| ApiError::from(crate::error::AppError::from(e)))?
            .ok_or_else(|| ApiError::new(Code::Unauthorized, "unknown API key"))?
    };
    if let Some(limit) = &state.rate_limit {
        if let Err(wait) = limit.check(&key.name) {
            return Ok(super::limits::too_many(wait));
        }
    }
    if !allows(&key, scope) {
        return Err(ApiError::new(
            Code::Forbidden,
            format!(
                "the key `{}` lacks the `{}` scope this route needs",
                key.name,
                scope.as_str()
            ),
        ));
    }
    req.extensions_mut().insert(Caller { key: key.clone() });
    super::idempotency::guard(&state, &key.name, req, next).await
}
