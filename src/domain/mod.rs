//! Domain types: what a complaint, a customer record and an answer are, parsed and
//! validated once at the edge so the engine never sees raw JSON.

pub mod complaint;
pub mod customer;
pub mod decision;
pub mod request;

use std::fmt;

/// A problem with one field of caller input, named by its dotted path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `complaint.severity`.
    pub field: String,
    /// What is wrong, lowercase, user input in backticks.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Check a caller-supplied identifier: non-empty, bounded, printable, no path tricks.
pub fn check_id(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > 128 {
        return Err(FieldError::new(field, "must be at most 128 characters"));
    }
    if value.chars().any(|c| c.is_control() || c == '/') {
        return Err(FieldError::new(
            field,
            "must not contain control characters or `/`",
        ));
    }
    Ok(())
}
