//! The body of `GET /v1/decisions/{id}` and `GET /v1/tickets/{id}/decision`: a stored
//! decision as a caller may read it (service/stored.rs decides how much). The same JSON
//! as the stored record, field for field, so a decision reads back as it was returned.

use crate::domain::customer::CustomerRecordDto;
use crate::domain::decision::Decision;
use crate::domain::outcome::{ApprovalRecord, OutcomeRecord};
use crate::domain::request::DecisionRequestDto;
use crate::service::stored::DecisionView;
use serde::Serialize;
use utoipa::ToSchema;

/// A decision as stored, and as `GET /v1/decisions/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = StoredDecision)]
pub struct DecisionBody {
    #[serde(flatten)]
    pub decision: Decision,
    /// The request as the caller sent it.
    pub request: DecisionRequestDto,
    /// The customer record the engine saw (absent for an unknown customer), so the
    /// decision can be replayed under another policy version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_snapshot: Option<CustomerRecordDto>,
    /// The approval of a grant above the deciding role's authority, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeRecord>,
    /// The customer asked for erasure: `request.customer_id` holds a pseudonym.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

impl From<DecisionView> for DecisionBody {
    fn from(v: DecisionView) -> Self {
        DecisionBody {
            decision: v.decision,
            request: v.request,
            customer_snapshot: v.customer_snapshot,
            approval: v.approval,
            outcome: v.outcome,
            erased: v.erased,
        }
    }
}
