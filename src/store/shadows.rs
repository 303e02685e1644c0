//! Shadow runs: which version shadows the active one, and what it answered per decision.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::domain::market::DEFAULT_MARKET;
pub use crate::domain::shadow::ShadowResult;
use std::collections::BTreeMap;

/// The market `default`'s shadow version (the key from before markets existed); another
/// market's is under [`SHADOW_OF`] + id.
const SHADOW: &[u8] = b"shadow_policy";
const SHADOW_OF: &[u8] = b"shadow_policy:";

fn shadow_key(market: &str) -> Vec<u8> {
    if market == DEFAULT_MARKET {
        SHADOW.to_vec()
    } else {
        [SHADOW_OF, market.as_bytes()].concat()
    }
}

impl Store {
    /// The market `default`'s shadow version.
    pub fn shadow_version(&self) -> Result<Option<String>, StoreError> {
        Ok(self.shadow_versions()?.remove(DEFAULT_MARKET))
    }

    /// Every market's shadow version, by market.
    pub fn shadow_versions(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        let mut out = BTreeMap::new();
        if let Some(v) = self.meta.get(SHADOW)? {
            out.insert(DEFAULT_MARKET.to_string(), text(&v));
        }
        for kv in self.meta.scan_prefix(SHADOW_OF) {
            let (k, v) = kv?;
            out.insert(text(k.get(SHADOW_OF.len()..).unwrap_or_default()), text(&v));
        }
        Ok(out)
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

    /// Set a version as its market's shadow (the market is the stored document's), or
    /// clear `market`'s shadow (`default` when the command names none: commands logged
    /// before markets existed).
    pub(super) fn apply_set_shadow(
        &self,
        version: Option<&str>,
        market: Option<&str>,
    ) -> Result<Applied, StoreError> {
        match version {
            Some(v) => {
                let Some(p) = self.get_policy(v)? else {
                    return Err(StoreError::NotFound(format!("no policy version `{v}`")));
                };
                self.meta.insert(shadow_key(p.market()), v.as_bytes())?;
            }
            None => {
                self.meta
                    .remove(shadow_key(market.unwrap_or(DEFAULT_MARKET)))?;
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
