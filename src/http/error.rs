//! The one mapping from errors to HTTP: status, stable `code`, and the contract's body
//! `{"error": {"code", "message", "details"}}`. Internal details are logged, never returned.

use crate::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API answers with, its status and when it happens. `docs/api.md`
/// lists the same table; a test checks the two agree.
pub const CODES: &[(&str, u16, &str)] = &[
    ("malformed_json", 400, "the body is not valid JSON"),
    ("unauthorized", 401, "missing, malformed or unknown API key"),
    ("forbidden", 403, "the key lacks the scope the route needs"),
    (
        "role_not_allowed",
        403,
        "the request claims an agent role above the key's (or the desk session's) maximum role",
    ),
    (
        "approval_not_allowed",
        403,
        "the approver's role does not cover the amount for this customer",
    ),
    ("not_found", 404, "no such route or record"),
    ("customer_not_found", 404, "no record for this customer id"),
    ("decision_not_found", 404, "no decision with this id"),
    ("policy_not_found", 404, "no policy with this version"),
    ("key_not_found", 404, "no API key with this name"),
    (
        "shadow_result_not_found",
        404,
        "no shadow result for this decision",
    ),
    (
        "method_not_allowed",
        405,
        "the route exists but not with this method",
    ),
    (
        "method_not_implemented",
        501,
        "the HTTP method is not one this server implements",
    ),
    ("outcome_exists", 409, "the decision already has an outcome"),
    (
        "approval_exists",
        409,
        "the decision already has an approval",
    ),
    (
        "idempotency_in_flight",
        409,
        "a request with this `Idempotency-Key` is still running",
    ),
    (
        "idempotency_key_reused",
        422,
        "this `Idempotency-Key` was used for a different request",
    ),
    (
        "approval_required",
        409,
        "granted above the role's authority without `approved_by`",
    ),
    (
        "policy_version_conflict",
        409,
        "this version is stored with different content",
    ),
    (
        "payload_too_large",
        413,
        "the body is above the route's size limit",
    ),
    (
        "rate_limited",
        429,
        "the API key is over its rate limit; see `Retry-After`",
    ),
    (
        "unsupported_media_type",
        415,
        "the body is not `application/json` (or NDJSON for imports)",
    ),
    (
        "invalid_request",
        422,
        "a field is missing, of the wrong type or out of range",
    ),
    (
        "policy_invalid",
        422,
        "the policy failed schema, semantic, example-case or static checks",
    ),
    (
        "internal",
        500,
        "an unexpected failure; details are in the server log",
    ),
    (
        "storage_unavailable",
        503,
        "the store could not be read or written",
    ),
    ("no_active_policy", 503, "no policy is active yet"),
    (
        "request_timeout",
        503,
        "the request took longer than the server's time limit",
    ),
    (
        "webhook_signature_invalid",
        401,
        "the webhook signature or its timestamp header is missing or wrong",
    ),
    (
        "webhook_timestamp_stale",
        401,
        "the signed timestamp is outside the server's tolerance",
    ),
    (
        "webhook_not_configured",
        404,
        "this webhook has no secret configured on the server",
    ),
    (
        "zendesk_token_invalid",
        401,
        "the token Zendesk signs for the app's page is missing, expired, not yet valid, not signed by the app's key, or not for this account",
    ),
    (
        "desk_session_invalid",
        401,
        "the Zendesk app's desk session has expired or was not signed by this server (it restarted since)",
    ),
    (
        "zendesk_app_not_configured",
        404,
        "the Zendesk app's signed page is not configured on the server",
    ),
    (
        "order_conflict",
        409,
        "this order id is stored with different content",
    ),
    (
        "value_fit_failed",
        422,
        "the value models could not be fitted; the previous model is kept",
    ),
    ("value_model_not_found", 404, "no value model is fitted yet"),
    (
        "value_validation_failed",
        422,
        "the value models could not be fitted on the calibration period",
    ),
    (
        "value_model_conflict",
        409,
        "this value model version is already stored",
    ),
];

/// The error body of the contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// More structured detail, e.g. every problem of a policy with its path.
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<serde_json::Value>,
}

/// An HTTP error response.
#[derive(Debug)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    pub details: Vec<serde_json::Value>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// The same error with `Retry-After: secs` (at least 1).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    pub fn status(&self) -> StatusCode {
        CODES
            .iter()
            .find(|(c, _, _)| *c == self.code)
            .and_then(|(_, s, _)| StatusCode::from_u16(*s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(f) => {
                let mut err = ApiError::new("invalid_request", f.to_string());
                err.details = vec![serde_json::json!({"field": f.field, "message": f.message})];
                err
            }
            AppError::PolicyInvalid(problems) => {
                let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
                let mut err = ApiError::new(
                    "policy_invalid",
                    format!("{} problem(s); first: {first}", problems.len()),
                );
                err.details = problems
                    .iter()
                    .map(|p| serde_json::json!({"path": p.path, "message": p.message}))
                    .collect();
                err
            }
            AppError::NotFound { code, message } => ApiError::new(code, message),
            AppError::Conflict { code, message } => ApiError::new(code, message),
            AppError::Forbidden { code, message } => ApiError::new(code, message),
            AppError::NoActivePolicy => ApiError::new("no_active_policy", e.to_string()),
            AppError::Store(inner) => {
                match crate::http::current_request() {
                    Some((method, route)) => {
                        tracing::error!(%method, %route, error = %inner, "storage failure")
                    }
                    None => tracing::error!(error = %inner, "storage failure"),
                }
                ApiError::new(
                    "storage_unavailable",
                    "the store could not be read or written",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        crate::metrics::record_error(self.code);
        let retry = self
            .retry_after
            .and_then(|s| axum::http::HeaderValue::from_str(&s.to_string()).ok());
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                details: self.details,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(v) = retry {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}
