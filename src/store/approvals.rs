//! Approvals: a grant above the deciding role's authority, approved by someone whose
//! role covers it, recorded once per decision as a version of the decision in the log,
//! with its own link in the audit chain.

use super::decision_log::frame::Kind;
use super::decision_log::Version;
use super::decision_record::{ApprovalRecord, StoredDecision};
use super::Applied;
use super::{audit, Store, StoreError};
use crate::error_code::Code;

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
                    code: Code::OutcomeExists,
                    message: format!("decision `{id}` already has an outcome"),
                });
            }
            if d.approval.is_some() {
                return Err(StoreError::Conflict {
                    code: Code::ApprovalExists,
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
