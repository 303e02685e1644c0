//! The answer: what the engine recommends, within whose authority, and why.
//!
//! These types are the `POST /v1/decisions` response; the engine fills everything but
//! the envelope (`decision_id`, `created_at`, `ticket_id`), which the service adds.
//! Amounts are typed `Money`; they take the wire form (`MoneyDto`'s JSON) only when
//! serialised, so nothing reads an amount back from a string.

use crate::money::{Money, MoneyDto};
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
    #[schema(value_type = MoneyDto)]
    pub value_at_risk: Money,
    /// Tier the customer is recognised at: the higher of current and peak tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recognized_tier: Option<String>,
}

/// Another gesture the agent may offer instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alternative {
    pub gesture: String,
    #[schema(value_type = MoneyDto)]
    pub amount: Money,
}

/// How a policy with retention priors ranked the gestures a rule allows, best first:
/// expected net value = value at risk × retention − cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ranking {
    /// Retention means "ordered again within this many days after the gesture".
    pub window_days: u32,
    pub gestures: Vec<RankedGesture>,
}

/// One gesture as the ranking saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankedGesture {
    pub gesture: String,
    /// The amount after the guards (what would be offered).
    #[schema(value_type = MoneyDto)]
    pub amount: Money,
    /// What it costs the company: amount × the gesture's cost factor.
    #[schema(value_type = MoneyDto)]
    pub cost: Money,
    /// Probability the customer orders again within the window after this gesture: the
    /// posterior mean of the Beta prior updated with recorded outcomes (4 decimals).
    pub retention: f64,
    pub evidence: RetentionEvidence,
    /// value at risk × retention − cost.
    #[schema(value_type = MoneyDto)]
    pub expected_value: Money,
}

/// The numbers behind a retention estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetentionEvidence {
    /// The policy's Beta prior, in pseudo-counts.
    pub prior_retained: f64,
    pub prior_lost: f64,
    /// Recorded outcomes for this gesture and segment whose window has been judged.
    pub retained: u32,
    pub lost: u32,
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
    #[schema(value_type = MoneyDto)]
    pub amount: Money,
    pub respond_within_hours: u32,
    pub agent_script: String,
    pub alternatives: Vec<Alternative>,
    /// True when no rule gave more than the floor.
    pub floor_applied: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// Present when the gesture was chosen by expected value among the rule's options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Ranking>,
    /// When the amount is above the deciding role's authority: the best gesture the rule
    /// allows that this role may grant now, capped at its limit (never below the rule's
    /// minimum, never past a guard). Absent when nothing fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_authority_option: Option<WithinAuthorityOption>,
}

/// What the agent may offer without an approval, instead of waiting for one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WithinAuthorityOption {
    pub gesture: String,
    #[schema(value_type = MoneyDto)]
    pub amount: Money,
    /// One line, e.g. "within your limit now: voucher of €130, or ask a lead for the €450 refund".
    pub text: String,
}

/// The calling role's authority for this customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Authority {
    pub role: String,
    #[schema(value_type = MoneyDto)]
    pub limit: Money,
    pub within_authority: bool,
    /// The lowest role that may approve the amount when it is above `limit`.
    pub approver_role: Option<String>,
    /// Every role's limit for this customer, lowest authority first: what an approval
    /// by each role may cover (`POST /v1/decisions/{id}/approval`), fixed when decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_limits: Vec<RoleLimit>,
}

/// One role's authority limit for the customer of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleLimit {
    pub role: String,
    #[schema(value_type = MoneyDto)]
    pub limit: Money,
}

/// One reason, in words an agent can read, with the rule that gave it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub rule: String,
    /// One line an agent reads at a glance: at most 160 characters.
    #[schema(max_length = 160)]
    pub text: String,
    /// The numbers behind it, for a lead or an auditor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The most characters a reason's `text` has.
pub const REASON_TEXT_MAX: usize = 160;

impl Reason {
    /// A reason whose text is cut to one line of at most 160 characters at a word
    /// boundary, the whole text then kept as `detail` (unless a detail is given).
    pub fn new(rule: impl Into<String>, text: String, detail: Option<String>) -> Reason {
        let rule = rule.into();
        // Bytes bound characters: most reasons are decided without counting.
        if text.len() <= REASON_TEXT_MAX || text.chars().count() <= REASON_TEXT_MAX {
            return Reason { rule, text, detail };
        }
        let head: String = text.chars().take(REASON_TEXT_MAX - 1).collect();
        let cut = head
            .rfind(' ')
            .filter(|&i| i > REASON_TEXT_MAX / 2)
            .unwrap_or(head.len());
        let mut short = head.get(..cut).unwrap_or(&head).trim_end().to_string();
        short.push('…');
        Reason {
            rule,
            text: short,
            detail: Some(detail.unwrap_or(text)),
        }
    }
}

/// A guard that changed the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GuardHit {
    /// `goodwill_share` or `claim_frequency`.
    pub guard: String,
    /// `capped` or `declined`.
    pub action: String,
    pub text: String,
    /// Claims over the guard's limit (`claim_frequency`, this claim included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceeded_by_claims: Option<u32>,
    /// Goodwill given beyond the budget (`goodwill_share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<MoneyDto>)]
    pub exceeded_by: Option<Money>,
    /// The date (`YYYY-MM-DD`) by which the guard passes on time alone, at the latest:
    /// 90 days (claims) or 12 months (goodwill) from the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passes_by: Option<String>,
    /// What would make it pass, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passes_when: Option<String>,
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
    /// The policy locale the texts are in (BCP 47): the request's, else its language's,
    /// else the policy's default. Empty in decisions stored before locales existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub locale: String,
    /// The market the decision was made in (its policy's market; `default` for a policy
    /// that names none). Empty in decisions stored before markets existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub market: String,
    pub customer: CustomerView,
    pub recommendation: Recommendation,
    pub authority: Authority,
    pub reasons: Vec<Reason>,
    pub guards: Vec<GuardHit>,
    pub signals: Signals,
    /// Ids of the rules that matched, first the one that decided.
    pub matched_rules: Vec<String>,
}

impl Evaluation {
    /// The market decided in; `default` for a decision stored before markets existed
    /// (there was one policy then, and it is the market `default`'s history).
    pub fn market_id(&self) -> &str {
        if self.market.is_empty() {
            super::market::DEFAULT_MARKET
        } else {
            &self.market
        }
    }
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
