//! Approvals: a grant above the deciding role's authority, approved by someone whose
//! role covers it, recorded once per decision as a version of the decision in the log,
//! with its own link in the audit chain.

use super::decision_log::frame::Kind;
use super::decision_log::Version;
use super::decisions::StoredDecision;
use super::Applied;
use super::{audit, Store, StoreError};
use crate::money::MoneyDto;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who approved how much for a decision, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalRecord {
    /// The approver's id in the desk, e.g. `l-3`; an outcome names it in `approved_by`.
    pub approver_id: String,
    /// The approver's role, bound by the key that recorded the approval.
    pub approver_role: String,
    /// The most the approval covers.
    pub amount: MoneyDto,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The name of the API key the approval was recorded with.
    pub recorded_with: String,
    /// RFC 3339.
    pub approved_at: String,
}

/// What is hashed for an approval.
pub fn approval_form(decision_id: &str, a: &ApprovalRecord) -> serde_json::Value {
    serde_json::json!({"decision_id": decision_id, "approval": a})
}

impl Store {
    /// Record the approval once, with its audit link; a second approval, or one after
    /// the outcome, is a conflict.
    pub(super) fn apply_record_approval(
        &self,
        id: &str,
        approval: ApprovalRecord,
    ) -> Result<Applied, StoreError> {
        let k = super::decisions::log_id(id)?;
        let form = audit::canonical(&approval_form(id, &approval));
        let pseudonym_key = self.pseudonym_key()?;
        let strict = self.durability == super::Durability::Strict;
        let change = |mut d: StoredDecision| {
            if d.outcome.is_some() {
                return Err(StoreError::Conflict {
                    code: "outcome_exists",
                    message: format!("decision `{id}` already has an outcome"),
                });
            }
            if d.approval.is_some() {
                return Err(StoreError::Conflict {
                    code: "approval_exists",
                    message: format!("decision `{id}` already has an approval"),
                });
            }
            d.approval = Some(approval);
            Ok(Some(Version {
                customer: audit::customer_key(&pseudonym_key, &d),
                record: d,
                form: Some(form),
            }))
        };
        self.log
            .append_version(k, Kind::Approval, strict, change, |_, a| {
                if let Err(e) = self.record_head(a) {
                    tracing::warn!(error = %e, "could not record the audit head in sled");
                }
                Ok(())
            })?;
        Ok(Applied::Done)
    }
}
