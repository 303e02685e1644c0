//! The service-level error: what can go wrong handling a request, independent of HTTP.
//! `http::error` maps each variant to a status and a stable `code` in one table.

use crate::domain::FieldError;
use crate::error_code::Code;
use crate::policy::Problem;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Caller input is wrong; names the field.
    #[error("{0}")]
    Invalid(FieldError),
    /// A policy document failed its checks; every problem with its JSON path.
    #[error("the policy has {} problem(s)", .0.len())]
    PolicyInvalid(Vec<Problem>),
    #[error("{message}")]
    NotFound { code: Code, message: String },
    #[error("{message}")]
    Conflict { code: Code, message: String },
    /// The caller is known but may not do this (e.g. claim a role above its key's).
    #[error("{message}")]
    Forbidden { code: Code, message: String },
    #[error("no policy is active; activate one with POST /v1/policies/{{version}}/activate")]
    NoActivePolicy,
    /// Cluster mode: the replicated log cannot take the write now; nothing was written.
    #[error("cluster unavailable: {0}")]
    Unavailable(String),
    /// Storage failed; details are logged, never returned.
    #[error("storage failure")]
    Store(StoreError),
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { code, message } => AppError::Conflict { code, message },
            StoreError::NotFound(message) => AppError::NotFound {
                code: Code::NotFound,
                message,
            },
            StoreError::TooLarge(message) => AppError::Conflict {
                code: Code::PayloadTooLarge,
                message,
            },
            StoreError::Unavailable(why) => AppError::Unavailable(why),
            other => AppError::Store(other),
        }
    }
}
