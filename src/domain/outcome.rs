//! What is recorded against a decision after it is made: the approval of a grant above
//! authority and the outcome (what was actually granted). Stored with the decision
//! (store/decision_record.rs) and answered as they were recorded.

use crate::money::MoneyDto;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What was actually granted for a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeRecord {
    pub granted: GrantedDto,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_accepted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who recorded it: the agent id given, or the API key's name.
    pub recorded_by: String,
    /// How the agent closed the recommendation, when they said (the widget always does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OutcomeStatus>,
    /// RFC 3339.
    pub recorded_at: String,
}

/// How an outcome relates to the recommendation. `escalated` and `declined` grant
/// nothing (`granted.gesture` is `none`); the note says why or to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    GrantedAsRecommended,
    GrantedOther,
    Escalated,
    Declined,
}

/// The gesture granted and its amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantedDto {
    pub gesture: String,
    /// In the decision's currency, not negative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::domain::schema::NonNegativeMoney>)]
    pub amount: Option<MoneyDto>,
}

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
