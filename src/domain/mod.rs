//! Domain types: what a complaint, a customer record and an answer are, parsed and
//! validated once at the edge so the engine never sees raw JSON.

pub mod complaint;
pub mod customer;
pub mod decision;
pub mod integer;
pub mod locale;
pub mod market;
pub mod outcome;
pub mod request;
pub mod schema;
pub mod shadow;

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

/// Whether free text is longer than `max` characters. Characters, not bytes: the unit of
/// the document's `maxLength`, and of what a person typing the text can count.
pub fn too_long(text: &str, max: usize) -> bool {
    text.chars().nth(max).is_some()
}

/// Check a caller-supplied identifier: non-empty, bounded, printable, no path tricks.
pub fn check_id(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    // Characters, not bytes: what the message says and the document's `maxLength` counts.
    if value.chars().count() > schema::ID_MAX_CHARS {
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
