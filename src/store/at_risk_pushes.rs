//! Which at-risk customers were already pushed to the outreach webhook, so each is sent
//! once per stay on the list (service/at_risk_push.rs). A customer who leaves the list is
//! forgotten here and pushed again if they come back.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use serde::{Deserialize, Serialize};

/// One accepted push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtRiskPush {
    /// RFC 3339.
    pub pushed_at: String,
    /// The delivery id sent with it (`X-Kulanz-Delivery`).
    pub delivery_id: String,
    /// The signals the customer was listed with.
    pub signals: Vec<String>,
}

impl Store {
    pub fn at_risk_push(&self, customer_id: &str) -> Result<Option<AtRiskPush>, StoreError> {
        self.at_risk_pushes
            .get(customer_id.as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    /// Every customer id with a recorded push.
    pub fn at_risk_pushed_ids(&self) -> Result<Vec<String>, StoreError> {
        self.at_risk_pushes
            .iter()
            .keys()
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }

    pub(super) fn apply_record_at_risk_push(
        &self,
        customer_id: &str,
        push: &AtRiskPush,
    ) -> Result<Applied, StoreError> {
        let old = self
            .at_risk_pushes
            .insert(customer_id.as_bytes(), to_json(push)?)?;
        Ok(if old.is_some() {
            Applied::Done
        } else {
            Applied::Created
        })
    }

    /// Forget pushes (customers off the list, or erased); `Unchanged` if none was stored.
    pub(super) fn apply_forget_at_risk_pushes(
        &self,
        customer_ids: &[String],
    ) -> Result<Applied, StoreError> {
        let mut any = false;
        for id in customer_ids {
            any |= self.at_risk_pushes.remove(id.as_bytes())?.is_some();
        }
        Ok(if any {
            Applied::Done
        } else {
            Applied::Unchanged
        })
    }
}
