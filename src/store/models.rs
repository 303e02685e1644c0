//! Value model versions: `value_models` maps a version (big-endian u64, so versions sort)
//! to the fitted model; `meta` names the active one. Activating a model recomputes every
//! cached prediction.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::error_code::Code;
use crate::value::ValueModel;

const ACTIVE: &[u8] = b"active_value_model";

impl Store {
    /// The active value model, if a fit has succeeded.
    pub fn active_value_model(&self) -> Result<Option<ValueModel>, StoreError> {
        let Some(v) = self.meta.get(ACTIVE)? else {
            return Ok(None);
        };
        self.value_models.get(v)?.map(|m| from_json(&m)).transpose()
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

    /// Store a model version, make it active, and refresh every prediction.
    pub(super) fn apply_put_value_model(&self, model: &ValueModel) -> Result<Applied, StoreError> {
        let key = model.version.to_be_bytes();
        if self.value_models.get(key)?.is_some() {
            return Err(StoreError::Conflict {
                code: Code::ValueModelConflict,
                message: format!("value model version `{}` exists", model.version),
            });
        }
        self.value_models.insert(key, to_json(model)?)?;
        self.meta.insert(ACTIVE, &key)?;
        self.refresh_predictions(model)?;
        Ok(Applied::Created)
    }
}
