//! Stored policy versions as the service hands them out: the store's record with its
//! problems as the policy engine's `Problem`, and the conversions both ways.

use super::AppState;
use crate::error::AppError;
use crate::policy::Problem;
use crate::store::policies::{StoredPolicy, StoredProblem};
use serde::Serialize;
use utoipa::ToSchema;

/// Whether a stored version passed every check (`valid`), or is a `draft`.
pub use crate::store::policies::PolicyStatus;

/// A stored policy version with its document.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = StoredPolicy)]
pub struct PolicyVersion {
    pub id: String,
    pub version: String,
    pub digest: String,
    /// Name of the API key that uploaded it, or `policy-dir` / `embedded`.
    pub author: String,
    pub uploaded_at: String,
    /// `valid`, or `draft` for a version stored with problems (never activatable).
    pub status: PolicyStatus,
    /// A draft's problems, each with its JSON path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

impl From<StoredPolicy> for PolicyVersion {
    fn from(p: StoredPolicy) -> Self {
        PolicyVersion {
            id: p.id,
            version: p.version,
            digest: p.digest,
            author: p.author,
            uploaded_at: p.uploaded_at,
            status: p.status,
            problems: p
                .problems
                .into_iter()
                .map(|s| Problem::new(s.path, s.message))
                .collect(),
            document: p.document,
        }
    }
}

/// The store's form of a draft's problems.
pub fn stored_problems(problems: Vec<Problem>) -> Vec<StoredProblem> {
    problems
        .into_iter()
        .map(|p| StoredProblem {
            path: p.path,
            message: p.message,
        })
        .collect()
}

/// Every stored version, oldest first.
pub fn list(state: &AppState) -> Result<Vec<PolicyVersion>, AppError> {
    let mut all = state.store.list_policies()?;
    all.sort_by(|a, b| crate::policy::load::compare_versions(&a.version, &b.version));
    Ok(all.into_iter().map(PolicyVersion::from).collect())
}

/// The active version as stored.
pub fn active(state: &AppState) -> Result<PolicyVersion, AppError> {
    let p = state.active_policy()?;
    let stored = state
        .store
        .get_policy(&p.version)?
        .ok_or(AppError::NoActivePolicy)?;
    Ok(stored.into())
}
