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
    /// The market it decides for (`default` when the document names none).
    pub market: String,
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
            market: p.market().to_string(),
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

/// A market's active version as stored (`None`: the market a request without `market`
/// decides in).
pub fn active(state: &AppState, market: Option<&str>) -> Result<PolicyVersion, AppError> {
    let p = state.policy_for(market)?;
    let stored = state
        .store
        .get_policy(&p.version)?
        .ok_or(AppError::NoActivePolicy)?;
    Ok(stored.into())
}

/// The active version of the market stored version `version` belongs to.
pub fn active_of_market_of(state: &AppState, version: &str) -> Result<String, AppError> {
    let market = match state.store.get_policy(version)? {
        Some(p) => p.market().to_string(),
        None => return Ok(state.active_policy()?.version.clone()),
    };
    state
        .policies
        .active(&market)
        .map(|p| p.version.clone())
        .ok_or(AppError::NoActivePolicy)
}
