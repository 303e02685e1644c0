//! Policy versions (immutable once stored) and which one is active.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::domain::market::DEFAULT_MARKET;
use crate::error_code::Code;
use serde::{Deserialize, Serialize};

/// The active version of the market `default` (the key from before markets existed, so
/// a store written then reads the same); another market's is under [`ACTIVE_OF`] + id.
const ACTIVE: &[u8] = b"active_policy";
const ACTIVE_OF: &[u8] = b"active_policy:";

/// The `meta` key holding market `market`'s active version.
fn active_key(market: &str) -> Vec<u8> {
    if market == DEFAULT_MARKET {
        ACTIVE.to_vec()
    } else {
        [ACTIVE_OF, market.as_bytes()].concat()
    }
}

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

impl StoredPolicy {
    /// The market the document declares, `default` when it names none (a draft's field
    /// may be malformed; it can never be activated, so the text is only shown).
    pub fn market(&self) -> &str {
        self.document
            .get("market")
            .and_then(|m| m.as_str())
            .unwrap_or(DEFAULT_MARKET)
    }
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

    /// The active version of the market `default`.
    pub fn active_version(&self) -> Result<Option<String>, StoreError> {
        self.active_version_of(DEFAULT_MARKET)
    }

    /// The active version of `market`.
    pub fn active_version_of(&self, market: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta
            .get(active_key(market))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Every market's active version, by market.
    pub fn active_versions(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        if let Some(v) = self.active_version()? {
            out.insert(DEFAULT_MARKET.to_string(), v);
        }
        for kv in self.meta.scan_prefix(ACTIVE_OF) {
            let (k, v) = kv?;
            let market = String::from_utf8_lossy(k.get(ACTIVE_OF.len()..).unwrap_or_default());
            out.insert(
                market.into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            );
        }
        Ok(out)
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

    /// Make `version` its market's active version. The market is read from the stored
    /// document, not carried by the command: versions are immutable, so every replica
    /// reads the same market, and commands logged before markets existed apply unchanged.
    pub(super) fn apply_activate(&self, version: &str) -> Result<Applied, StoreError> {
        let Some(p) = self.get_policy(version)? else {
            return Err(StoreError::NotFound(format!(
                "no policy version `{version}`"
            )));
        };
        self.meta
            .insert(active_key(p.market()), version.as_bytes())?;
        Ok(Applied::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Command;

    fn version(v: &str, market: Option<&str>) -> StoredPolicy {
        let mut document = serde_json::json!({"id": "goodwill", "version": v});
        if let Some(m) = market {
            document["market"] = serde_json::json!(m);
        }
        StoredPolicy {
            id: "goodwill".into(),
            version: v.into(),
            digest: format!("sha256:{v}"),
            author: "test".into(),
            uploaded_at: "2026-12-07T00:00:00Z".into(),
            status: PolicyStatus::Valid,
            problems: Vec::new(),
            document,
        }
    }

    #[test]
    fn activation_is_per_market_and_the_default_market_keeps_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (v, m) in [
            ("1.0", None),
            ("1.0-ch", Some("ch")),
            ("2.0-ch", Some("ch")),
        ] {
            let policy = Box::new(version(v, m));
            store.apply(Command::PutPolicy { policy }).unwrap();
        }
        let activate = |v: &str| {
            store
                .apply(Command::ActivatePolicy { version: v.into() })
                .unwrap()
        };
        activate("1.0");
        activate("1.0-ch");
        activate("2.0-ch");
        assert_eq!(store.active_version().unwrap().as_deref(), Some("1.0"));
        assert_eq!(
            store.meta.get(ACTIVE).unwrap().as_deref(),
            Some(&b"1.0"[..])
        );
        let all = store.active_versions().unwrap();
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            [
                ("ch".to_string(), "2.0-ch".to_string()),
                ("default".to_string(), "1.0".to_string())
            ]
        );
    }
}
