//! Approvals: a grant above the deciding role's authority, approved by someone whose
//! role covers it, recorded once per decision as a version of the decision in the log,
//! with its own link in the audit chain.

use super::decision_log::frame::Kind;
use super::decision_record::ApprovalRecord;
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
        let form = audit::canonical(&approval_form(id, &approval));
        self.append_linked(
            id,
            Kind::Approval,
            form,
            |d| {
                if d.approval.is_some() {
                    return Err(StoreError::Conflict {
                        code: Code::ApprovalExists,
                        message: format!("decision `{id}` already has an approval"),
                    });
                }
                d.approval = Some(approval);
                Ok(())
            },
            |_| Ok(()),
        )
    }
}
