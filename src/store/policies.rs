//! Policy versions (immutable once stored) and which one is active.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::error_code::Code;
use serde::{Deserialize, Serialize};

const ACTIVE: &[u8] = b"active_policy";

/// A stored policy version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPolicy {
    pub id: String,
    pub version: String,
    pub digest: String,
    /// Name of the API key that uploaded it, or `policy-dir` / `embedded`.
    pub author: String,
    pub uploaded_at: String,
    /// `valid`, or `draft` for a version stored with problems (never activatable).
    #[serde(default)]
    pub status: PolicyStatus,
    /// A draft's problems, each with its JSON path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<StoredProblem>,
    pub document: serde_json::Value,
}

/// One problem of a draft, as stored: the policy engine's `Problem` in the store's own
/// terms (service/policy_versions.rs converts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProblem {
    /// JSON path into the document, e.g. `$.rules[3].when.category[0]`.
    pub path: String,
    pub message: String,
}

/// Whether a stored version passed every check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    #[default]
    Valid,
    Draft,
}

impl Store {
    pub fn get_policy(&self, version: &str) -> Result<Option<StoredPolicy>, StoreError> {
        self.policies
            .get(version.as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    pub fn list_policies(&self) -> Result<Vec<StoredPolicy>, StoreError> {
        self.policies
            .iter()
            .values()
            .map(|v| from_json(&v?))
            .collect()
    }

    pub fn active_version(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta
            .get(ACTIVE)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Versions are immutable: the same content again is a no-op, different content a conflict.
    pub(super) fn apply_put_policy(&self, p: &StoredPolicy) -> Result<Applied, StoreError> {
        let bytes = to_json(p)?;
        match self.policies.compare_and_swap(
            p.version.as_bytes(),
            None as Option<&[u8]>,
            Some(bytes),
        )? {
            Ok(()) => Ok(Applied::Created),
            Err(cas) => {
                let existing: StoredPolicy = match cas.current {
                    Some(v) => from_json(&v)?,
                    None => return Ok(Applied::Unchanged),
                };
                if existing.digest == p.digest {
                    Ok(Applied::Unchanged)
                } else {
                    Err(StoreError::Conflict {
                        code: Code::PolicyVersionConflict,
                        message: format!(
                            "version `{}` is already stored with other content ({}); versions are immutable, upload a new version",
                            p.version, existing.digest
                        ),
                    })
                }
            }
        }
    }

    pub(super) fn apply_activate(&self, version: &str) -> Result<Applied, StoreError> {
        if !self.policies.contains_key(version.as_bytes())? {
            return Err(StoreError::NotFound(format!(
                "no policy version `{version}`"
            )));
        }
        self.meta.insert(ACTIVE, version.as_bytes())?;
        Ok(Applied::Done)
    }
}
