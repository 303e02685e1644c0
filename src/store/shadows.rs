//! Shadow runs: which version shadows the active one, and what it answered per decision.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
pub use crate::domain::shadow::ShadowResult;

const SHADOW: &[u8] = b"shadow_policy";

impl Store {
    pub fn shadow_version(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta
            .get(SHADOW)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn get_shadow_result(&self, decision_id: &str) -> Result<Option<ShadowResult>, StoreError> {
        self.shadows
            .get(decision_id.as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    /// Every stored shadow result with its decision id, newest decision first (decision
    /// ids are ULIDs, so key order is time order).
    pub fn shadow_results_newest_first(
        &self,
    ) -> impl Iterator<Item = Result<(String, ShadowResult), StoreError>> + '_ {
        self.shadows.iter().rev().map(|kv| {
            let (k, v) = kv?;
            Ok((String::from_utf8_lossy(&k).into_owned(), from_json(&v)?))
        })
    }

    pub(super) fn apply_set_shadow(&self, version: Option<&str>) -> Result<Applied, StoreError> {
        match version {
            Some(v) => {
                if !self.policies.contains_key(v.as_bytes())? {
                    return Err(StoreError::NotFound(format!("no policy version `{v}`")));
                }
                self.meta.insert(SHADOW, v.as_bytes())?;
            }
            None => {
                self.meta.remove(SHADOW)?;
            }
        }
        Ok(Applied::Done)
    }

    pub(super) fn apply_put_shadow_result(
        &self,
        id: &str,
        r: &ShadowResult,
    ) -> Result<Applied, StoreError> {
        self.shadows.insert(id.as_bytes(), to_json(r)?)?;
        Ok(Applied::Done)
    }
}
