//! Errors of the policy layer: every problem names the JSON path it is about.

use std::fmt;

/// One problem found in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// JSON path into the document, e.g. `$.rules[3].when.category[0]`.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("policy is invalid ({} problem(s))", .0.len())]
    Invalid(Vec<Problem>),
}

impl PolicyError {
    /// The problems, one per line in reports; I/O errors become one problem at `$`.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            PolicyError::Invalid(p) => p.clone(),
            PolicyError::Io { .. } => vec![Problem::new("$", self.to_string())],
        }
    }
}

/// Turn a JSON pointer (`/rules/3/when`) into the JSON path style used in reports.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&seg);
            out.push(']');
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pointers_read_as_paths() {
        assert_eq!(super::pointer_to_path(""), "$");
        assert_eq!(
            super::pointer_to_path("/rules/3/when/category/0"),
            "$.rules[3].when.category[0]"
        );
    }
}
