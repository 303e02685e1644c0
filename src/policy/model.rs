//! The policy document as written by a support-operations lead: plain serde types,
//! kept apart from the compiled form the engine evaluates (as gorules/zen does).
//!
//! Amounts and shares are decimal strings (`"250.00"`, `"0.02"`) so no float touches money.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One policy version, the content of one file in `policies/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub id: String,
    pub version: String,
    pub currency: String,
    /// The market this policy decides for (docs/policy.md, "Markets"); `default` when
    /// absent. Each market has its own active version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The BCP 47 locale of the texts written inline (labels, reasons, scripts, the
    /// floor); `en` when absent. Requests in an undeclared locale get these texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_locale: Option<String>,
    /// The same texts in further locales, by BCP 47 tag; a text left out falls back to
    /// the default locale's (and `kulanz policy check` says so).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub texts: BTreeMap<String, LocaleTextsDoc>,
    /// Complaint categories this policy knows.
    pub categories: Vec<String>,
    /// Agent roles, lowest authority first.
    pub roles: Vec<String>,
    /// Loyalty tiers, lowest first.
    pub tiers: Vec<String>,
    pub value: ValueDoc,
    /// Value bands, highest first; the last must start at zero.
    pub segments: Vec<SegmentDoc>,
    pub gestures: BTreeMap<String, GestureDoc>,
    pub floor: FloorDoc,
    /// Role → authority limit.
    pub authority: BTreeMap<String, AuthorityDoc>,
    pub guards: GuardsDoc,
    /// Retention priors: when present, a rule's gesture and its alternatives are ranked by
    /// expected net value (see `policy/retention.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionDoc>,
    /// Evaluated top to bottom; the first rule that matches decides.
    pub rules: Vec<RuleDoc>,
    /// The date and time example cases are evaluated at, unless a case sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<ExampleDoc>,
}

/// How value at risk and segments are derived from a customer record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueDoc {
    /// Years of future revenue at risk when the record has no `predicted_value`.
    pub history_years: String,
    /// Value of one referral, added to the value at risk.
    pub referral_value: String,
    /// `value_at_risk` (default) or `lifetime_revenue`: what segments are banded on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_basis: Option<String>,
    /// Days without an order after which churn risk rises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_after_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentDoc {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub min_value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GestureDoc {
    pub label: String,
    /// Whether the gesture has an amount (refund, voucher) or not (apology, callback).
    pub monetary: bool,
    /// What one unit of face value costs the company (a voucher is often 0.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_factor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursBySeverity {
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

/// What every valid complaint gets, whatever the customer's value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloorDoc {
    pub gesture: String,
    pub respond_within_hours: HoursBySeverity,
    pub agent_script: String,
    pub reason: String,
}

/// A role's limit: `min(max, base + value_share × value at risk)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityDoc {
    pub base: String,
    pub value_share: String,
    pub max: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodwill_share: Option<GoodwillShareDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_frequency: Option<ClaimFrequencyDoc>,
    /// The role a declined case can be escalated to.
    pub escalate_to: String,
}

/// Goodwill cost in 12 months may not exceed this share of 12-month revenue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoodwillShareDoc {
    pub max_share: String,
    /// The budget no customer falls below, e.g. `"100.00"`; zero when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<String>,
    /// `cap` to what is left of the budget, or `decline` once it is used up.
    pub action: String,
}

/// More claims than this in 90 days (this one included) trips the guard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimFrequencyDoc {
    pub max_claims_90d: u32,
    /// `decline`, or `cap` to `cap_amount`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_amount: Option<String>,
}

/// How likely a customer is to order again within `window_days` after a gesture: a
/// Beta prior per gesture, by segment id or `*` for every segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionDoc {
    pub window_days: u32,
    /// Gesture id → segment id or `*` → prior.
    pub priors: BTreeMap<String, BTreeMap<String, PriorDoc>>,
}

/// A Beta(retained, lost) prior, read as "as if we had already seen `retained` customers
/// order again and `lost` not": the larger the sum, the more outcomes it takes to move.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorDoc {
    pub retained: f64,
    pub lost: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub when: WhenDoc,
    pub then: ThenDoc,
}

/// Conditions; all given ones must hold. A list means "any of these".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<Vec<String>>,
    /// Matches the recognised tier (the higher of current and peak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_tier: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapsed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detractor: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_customer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn_risk: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<RangeDoc>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, AttrCondDoc>,
}

/// An inclusive range of money in the policy currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

/// A test on one request attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttrCondDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThenDoc {
    /// A gesture of the catalogue, or `none`.
    pub gesture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<AmountDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_within_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<AlternativeDoc>,
    /// Why, for the agent, in one line; may use `{placeholders}`.
    pub reason: String,
    /// The numbers behind the reason, for a lead; optional, may use `{placeholders}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_script: Option<String>,
}

/// `of_claim × claim + of_value × value at risk + fixed`, capped by `max` and
/// `max_of_value × value at risk`, then raised to `min`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_of_value: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackDoc {
    pub priority: bool,
    pub within_hours: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlternativeDoc {
    pub gesture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<AmountDoc>,
}

/// The policy's texts in one further locale; each is optional (the default locale's
/// text stands in).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleTextsDoc {
    /// Gesture id → label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gestures: BTreeMap<String, String>,
    /// Segment id → label (what `{segment}` writes in this locale).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub segments: BTreeMap<String, String>,
    /// Role id → how the role is named in this locale.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorTextsDoc>,
    /// Rule id → its texts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, RuleTextsDoc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloorTextsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTextsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_script: Option<String>,
}

/// An example case: a request, a customer record (or none) and the expected partial answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleDoc {
    pub name: String,
    pub request: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
    pub expect: serde_json::Value,
}
