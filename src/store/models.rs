//! Value model versions: `value_models` maps a version (big-endian u64, so versions sort)
//! to the fitted model's JSON document, as service/value.rs made it; `meta` names the
//! active one. The store reads nothing in a model but its `version`; the predictions a new
//! model makes are written after it, by `Command::PutPredictions` (store/orders.rs).

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::error_code::Code;

pub(super) const ACTIVE: &[u8] = b"active_value_model";

/// The version an `ACTIVE` entry names.
pub(super) fn version_of(active: Option<&[u8]>) -> Option<u64> {
    let be: [u8; 8] = active?.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(be))
}

impl Store {
    /// The active value model's document, if a fit has succeeded.
    pub fn active_value_model(&self) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(v) = self.meta.get(ACTIVE)? else {
            return Ok(None);
        };
        self.value_models.get(v)?.map(|m| from_json(&m)).transpose()
    }

    /// The version of the active value model.
    pub fn active_value_model_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(version_of(self.meta.get(ACTIVE)?.as_deref()))
    }

    /// The version the next fit will store.
    pub fn next_value_model_version(&self) -> Result<u64, StoreError> {
        let last = self.value_models.last()?.map(|(k, _)| {
            let mut be = [0u8; 8];
            be.copy_from_slice(k.get(..8).unwrap_or(&[0; 8]));
            u64::from_be_bytes(be)
        });
        Ok(last.unwrap_or(0) + 1)
    }

    /// Store a model version (its document, with a numeric `version`) and make it active.
    pub(super) fn apply_put_value_model(
        &self,
        model: &serde_json::Value,
    ) -> Result<Applied, StoreError> {
        let version = model
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| StoreError::Corrupt("a value model without a `version`".into()))?;
        let key = version.to_be_bytes();
        if self.value_models.get(key)?.is_some() {
            return Err(StoreError::Conflict {
                code: Code::ValueModelConflict,
                message: format!("value model version `{version}` exists"),
            });
        }
        self.value_models.insert(key, to_json(model)?)?;
        self.meta.insert(ACTIVE, &key)?;
        Ok(Applied::Created)
    }
}
