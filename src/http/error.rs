//! The one mapping from errors to HTTP: status, stable `code`, and the contract's body
//! `{"error": {"code", "message", "details"}}`. Internal details are logged, never returned.
//! Each code's status is fixed in `crate::error_code::Code`.

use crate::error::AppError;
pub use crate::error_code::Code;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of the contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code; `docs/api.md` lists every one with its status. A string in
    /// the schema, not an enum, so a client keeps working when a code is added.
    #[schema(value_type = String)]
    pub code: Code,
    pub message: String,
    /// More structured detail, e.g. every problem of a policy with its path.
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<serde_json::Value>,
}

/// An HTTP error response.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub details: Vec<serde_json::Value>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
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

    /// The status of the code: fixed per code, so there is no fallback to get wrong.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(f) => {
                let mut err = ApiError::new(Code::InvalidRequest, f.to_string());
                err.details = vec![serde_json::json!({"field": f.field, "message": f.message})];
                err
            }
            AppError::PolicyInvalid(problems) => {
                let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
                let mut err = ApiError::new(
                    Code::PolicyInvalid,
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
            AppError::NoActivePolicy => ApiError::new(Code::NoActivePolicy, e.to_string()),
            AppError::Unavailable(why) => {
                tracing::warn!(reason = %why, "write refused: cluster unavailable");
                ApiError::new(
                    Code::ClusterUnavailable,
                    "the replicated log cannot take writes now; nothing was written, retry",
                )
                .retry_after(1)
            }
            AppError::Store(inner) => {
                match crate::http::current_request() {
                    Some((method, route)) => {
                        tracing::error!(%method, %route, error = %inner, "storage failure")
                    }
                    None => tracing::error!(error = %inner, "storage failure"),
                }
                ApiError::new(
                    Code::StorageUnavailable,
                    "the store could not be read or written",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        crate::metrics::record_error(self.code.as_str());
        let retry = self
            .retry_after
            .and_then(|s| axum::http::HeaderValue::from_str(&s.to_string()).ok());
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
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
