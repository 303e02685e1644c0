//! A decision as stored, with what is recorded against it later: the approval of a grant
//! above authority and the outcome (domain/outcome.rs). The record type alone, so the
//! decision log (which stores it) and the write functions (which make it) both read it
//! from here.

use crate::domain::customer::CustomerRecordDto;
use crate::domain::decision::Decision;
use crate::domain::request::DecisionRequestDto;
use serde::{Deserialize, Serialize};

pub use crate::domain::outcome::{ApprovalRecord, GrantedDto, OutcomeRecord, OutcomeStatus};

/// A decision as stored. `GET /v1/decisions/{id}` answers the same JSON
/// (http/decision_body.rs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDecision {
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
