//! The answer: what the engine recommends, within whose authority, and why.
//!
//! These types are the `POST /v1/decisions` response; the engine fills everything but
//! the envelope (`decision_id`, `created_at`, `ticket_id`), which the service adds.

use crate::money::MoneyDto;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which policy decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRef {
    pub id: String,
    pub version: String,
    /// `sha256:` and the hex digest of the policy document.
    pub digest: String,
}

/// What the engine knew about the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerView {
    pub known: bool,
    pub segment: String,
    pub value_at_risk: MoneyDto,
    /// Tier the customer is recognised at: the higher of current and peak tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recognized_tier: Option<String>,
}

/// Another gesture the agent may offer instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alternative {
    pub gesture: String,
    pub amount: MoneyDto,
}

/// A follow-up call the agent should book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Callback {
    pub priority: bool,
    pub within_hours: u32,
}

/// Offered when a guard declined the gesture: who can look at it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Escalation {
    pub to_role: String,
    pub text: String,
}

/// The recommended gesture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    /// A gesture of the policy's catalogue, or `none` only where the policy says so.
    pub gesture: String,
    pub amount: MoneyDto,
    pub respond_within_hours: u32,
    pub agent_script: String,
    pub alternatives: Vec<Alternative>,
    /// True when no rule gave more than the floor.
    pub floor_applied: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
}

/// The calling role's authority for this customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Authority {
    pub role: String,
    pub limit: MoneyDto,
    pub within_authority: bool,
    /// The lowest role that may approve the amount when it is above `limit`.
    pub approver_role: Option<String>,
}

/// One reason, in words an agent can read, with the rule that gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub rule: String,
    pub text: String,
}

/// A guard that changed the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GuardHit {
    /// `goodwill_share` or `claim_frequency`.
    pub guard: String,
    /// `capped` or `declined`.
    pub action: String,
    pub text: String,
}

/// Signals behind the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Signals {
    /// `low`, `medium` or `high`.
    pub churn_risk: String,
    pub detractor: bool,
    /// Peak tier above the current tier.
    pub lapsed_tier: bool,
}

/// Everything the engine decides for one complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    pub policy: PolicyRef,
    pub customer: CustomerView,
    pub recommendation: Recommendation,
    pub authority: Authority,
    pub reasons: Vec<Reason>,
    pub guards: Vec<GuardHit>,
    pub signals: Signals,
    /// Ids of the rules that matched, first the one that decided.
    pub matched_rules: Vec<String>,
}

/// The full `POST /v1/decisions` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub decision_id: String,
    pub ticket_id: String,
    /// RFC 3339 time of the decision.
    pub created_at: String,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}
