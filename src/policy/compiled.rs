//! The compiled policy: vocabularies turned into indexes and bit masks, amounts into
//! decimals, templates into pieces. Built once at load, shared through `Arc`, read by the
//! engine without parsing or allocation-heavy work.

use super::model::PolicyDoc;
use super::texts::LocaleTexts;
use crate::domain::market::Market;
use crate::domain::request::AttrValue;
use crate::money::Currency;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A gesture of the catalogue by index, or `None` for the explicit gesture `none`.
pub type GestureRef = Option<usize>;

#[derive(Debug, Clone)]
pub struct Gesture {
    pub id: String,
    pub monetary: bool,
    pub cost_factor: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentBasis {
    ValueAtRisk,
    LifetimeRevenue,
}

#[derive(Debug, Clone)]
pub struct ValueParams {
    pub history_years: Decimal,
    pub referral_value: Decimal,
    pub segment_basis: SegmentBasis,
    pub inactive_after_days: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub id: String,
    pub min: Decimal,
}

#[derive(Debug, Clone)]
pub struct Floor {
    pub gesture: GestureRef,
    /// Indexed by `Severity::index()`.
    pub hours: [u32; 4],
}

/// A role's authority: `min(max, base + share × value at risk)`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub base: Decimal,
    pub share: Decimal,
    pub max: Decimal,
}

impl Limit {
    /// The limit for a customer with this value at risk; never falls when value rises.
    pub fn at(&self, value_at_risk: Decimal) -> Decimal {
        (self.base + self.share * value_at_risk).min(self.max)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardAction {
    Cap,
    Decline,
}

#[derive(Debug, Clone)]
pub struct Guards {
    pub goodwill_share: Option<(Decimal, GuardAction)>,
    /// The goodwill share in percent as the guard's text writes it (`5`, `2.5`), rendered
    /// once here rather than on every hit.
    pub goodwill_share_percent: String,
    /// Budget every customer has, whatever their revenue (so a newcomer's first gesture fits).
    pub goodwill_allowance: Decimal,
    pub claim_frequency: Option<(u32, GuardAction, Decimal)>,
    pub escalate_to: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttrCond {
    pub equals: Option<AttrValue>,
    pub one_of: Vec<AttrValue>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub present: Option<bool>,
}

/// Conditions of one rule; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct When {
    pub category: Option<u128>,
    pub fault: Option<u8>,
    pub severity: Option<u8>,
    pub channel: Option<u8>,
    pub segment: Option<u64>,
    pub tier: Option<u64>,
    pub peak_tier: Option<u64>,
    pub churn: Option<u8>,
    pub lapsed: Option<bool>,
    pub detractor: Option<bool>,
    pub known: Option<bool>,
    pub claim_min: Option<Decimal>,
    pub claim_max: Option<Decimal>,
    pub attributes: Vec<(String, AttrCond)>,
}

/// An amount formula; see `model::AmountDoc`.
#[derive(Debug, Clone, Default)]
pub struct Formula {
    pub of_claim: Decimal,
    pub of_value: Decimal,
    pub fixed: Decimal,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
    pub max_of_value: Option<Decimal>,
}

impl Formula {
    /// `of_claim × claim + of_value × value + fixed`, capped, then raised to `min`; never negative.
    pub fn amount(&self, claim: Decimal, value_at_risk: Decimal) -> Decimal {
        let mut a = self.of_claim * claim + self.of_value * value_at_risk + self.fixed;
        if let Some(max) = self.max {
            a = a.min(max);
        }
        if let Some(share) = self.max_of_value {
            a = a.min(share * value_at_risk);
        }
        if let Some(min) = self.min {
            a = a.max(min);
        }
        a.max(Decimal::ZERO)
    }
}

#[derive(Debug, Clone)]
pub struct CallbackSpec {
    pub priority: bool,
    pub within_hours: u32,
}

#[derive(Debug, Clone)]
pub struct Then {
    pub gesture: GestureRef,
    pub amount: Formula,
    pub hours: Option<u32>,
    pub callback: Option<CallbackSpec>,
    pub alternatives: Vec<(usize, Formula)>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub when: When,
    pub then: Then,
}

/// A policy ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub id: String,
    pub version: String,
    /// `sha256:<hex>` of the canonical JSON document.
    pub digest: String,
    pub currency: Currency,
    /// The market this policy decides for (`default` when the document names none).
    pub market: Market,
    pub categories: Vec<String>,
    /// Lowest authority first.
    pub roles: Vec<String>,
    /// Lowest tier first; customers without a tier rank at 0.
    pub tiers: Vec<String>,
    pub value: ValueParams,
    /// Highest band first; the last starts at zero.
    pub segments: Vec<Segment>,
    pub gestures: Vec<Gesture>,
    pub floor: Floor,
    /// Indexed like `roles`.
    pub authority: Vec<Limit>,
    pub guards: Guards,
    /// Retention priors; when present, rules with alternatives rank by expected value.
    pub retention: Option<super::retention::Retention>,
    pub rules: Vec<Rule>,
    /// For each category, the indexes of the rules that can match it, in rule order, so a
    /// decision scans only its category's rules.
    pub by_category: Vec<Vec<u32>>,
    pub test_clock: Option<DateTime<Utc>>,
    /// Every text per locale, the default locale first.
    pub locales: Vec<LocaleTexts>,
    /// The document as parsed into its model, for the example cases.
    pub doc: PolicyDoc,
    /// The document exactly as uploaded or read (what the digest is over, and what is stored).
    pub source: serde_json::Value,
}

impl CompiledPolicy {
    /// The texts to answer a request in `locale` with (see `texts::resolve`).
    pub fn texts(&self, locale: Option<&str>) -> Option<&LocaleTexts> {
        self.locales
            .get(super::texts::resolve(&self.locales, locale))
            .or_else(|| self.locales.first())
    }

    /// The gesture id as it appears in answers.
    pub fn gesture_id(&self, g: GestureRef) -> &str {
        g.and_then(|i| self.gestures.get(i))
            .map(|g| g.id.as_str())
            .unwrap_or("none")
    }

    /// Whether a gesture carries an amount.
    pub fn is_monetary(&self, g: GestureRef) -> bool {
        g.and_then(|i| self.gestures.get(i))
            .is_some_and(|g| g.monetary)
    }

    /// What granting `amount` of the gesture `id` costs the company (amount × cost factor;
    /// zero for `none` and gestures without an amount).
    pub fn cost_of(&self, id: &str, amount: Decimal) -> Decimal {
        self.gestures
            .iter()
            .find(|g| g.id == id && g.monetary)
            .map_or(Decimal::ZERO, |g| amount * g.cost_factor)
    }

    /// Whether answer `b` gives the customer less than answer `a`: the same gesture is
    /// compared by amount; different gestures by what they cost the company, since a
    /// €150 voucher at cost factor 0.6 is worth less to give than a €100 refund.
    pub fn gives_less(&self, a: (&str, Decimal), b: (&str, Decimal)) -> bool {
        if a.0 == b.0 {
            b.1 < a.1
        } else {
            self.cost_of(b.0, b.1) < self.cost_of(a.0, a.1)
        }
    }

    /// Cost factor of a gesture (1 when absent).
    pub fn cost_factor(&self, g: usize) -> Decimal {
        self.gestures
            .get(g)
            .map(|g| g.cost_factor)
            .unwrap_or(Decimal::ONE)
    }
}
