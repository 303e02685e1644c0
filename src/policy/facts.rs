//! Customer facts the rules test: value at risk, segment, recognised tier, signals.
//!
//! Value at risk is forward-looking. The documented rule (docs/policy.md):
//! - with a `predicted_value`: that value;
//! - otherwise: average yearly revenue (lifetime revenue over the years since the first
//!   order, at least one year) × `value.history_years`;
//! - plus `referrals × value.referral_value` in both cases.
//!
//! Without a pushed `predicted_value`, the service passes the order-history model's cached
//! prediction as `predicted_value` (service/value.rs, docs/value.md): the engine stays pure.

use super::compiled::{CompiledPolicy, SegmentBasis};
use crate::domain::complaint::{Channel, Severity};
use crate::domain::customer::CustomerRecord;
use crate::domain::request::DecisionInput;
use crate::money::{ratio_cents, round_cents};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Churn risk level, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChurnRisk {
    Low = 0,
    Medium = 1,
    High = 2,
}

impl ChurnRisk {
    pub fn as_str(self) -> &'static str {
        match self {
            ChurnRisk::Low => "low",
            ChurnRisk::Medium => "medium",
            ChurnRisk::High => "high",
        }
    }
}

/// What the engine knows about the customer for one decision.
#[derive(Debug, Clone)]
pub struct Facts {
    pub known: bool,
    /// The record is in another currency than the policy: its amounts were not used.
    pub currency_mismatch: bool,
    pub value_at_risk: Decimal,
    pub lifetime: Decimal,
    pub revenue_12m: Decimal,
    /// Days since the first order (0 without one); shown in years by `{years}`.
    pub tenure_days: i64,
    pub segment: usize,
    /// Recognised tier rank: the higher of current and peak.
    pub tier: usize,
    pub current_tier: usize,
    pub peak_tier: usize,
    pub lapsed: bool,
    pub detractor: bool,
    pub inactive: bool,
    pub churn: ChurnRisk,
    pub goodwill_12m: Decimal,
    pub claims_90d: u32,
    pub orders: Option<u32>,
    pub referrals: u32,
}

const DAYS_PER_YEAR: Decimal = Decimal::from_parts(36525, 0, 0, false, 2);

/// Tenure in years (days ÷ 365.25), for reasons.
pub fn tenure_years(days: i64) -> Decimal {
    Decimal::from(days.max(0)) / DAYS_PER_YEAR
}

/// `round_cents(per_year × multiple + extra)` where `per_year` is `lifetime` over
/// `max(days ÷ 365.25, 1)` years: (lifetime × 365.25 × multiple + extra × days) ÷ days,
/// with one exact integer division and one rounding instead of two 28-digit decimal
/// divisions (the dearest step of a decision). `None` when a product overflows; the
/// caller then takes the decimal path.
fn per_year_cents(
    lifetime: Decimal,
    days: i64,
    multiple: Decimal,
    extra: Decimal,
) -> Option<Decimal> {
    let days = Decimal::from(days);
    if days <= DAYS_PER_YEAR {
        // At most a year of history counts as one year: no division.
        return Some(round_cents(
            lifetime.checked_mul(multiple)?.checked_add(extra)?,
        ));
    }
    let numerator = lifetime
        .checked_mul(DAYS_PER_YEAR)?
        .checked_mul(multiple)?
        .checked_add(extra.checked_mul(days)?)?;
    ratio_cents(numerator, days.mantissa())
}

fn tier_rank(policy: &CompiledPolicy, tier: Option<&str>) -> usize {
    tier.and_then(|t| policy.tiers.iter().position(|x| x == t))
        .unwrap_or(0)
}

/// Derive the facts; `today` is the decision date (the engine never reads the clock).
pub fn derive(
    policy: &CompiledPolicy,
    input: &DecisionInput,
    customer: Option<&CustomerRecord>,
    today: NaiveDate,
) -> Facts {
    let mut f = derive_customer(policy, customer, today);
    f.churn = churn_risk(&f, input);
    f
}

/// The facts about the customer alone (churn risk, which also reads the complaint, left
/// low): what the guards read when an outcome is checked against the ledger again.
pub fn derive_customer(
    policy: &CompiledPolicy,
    customer: Option<&CustomerRecord>,
    today: NaiveDate,
) -> Facts {
    let zero = Decimal::ZERO;
    let mut f = Facts {
        known: customer.is_some(),
        currency_mismatch: false,
        value_at_risk: zero,
        lifetime: zero,
        revenue_12m: zero,
        tenure_days: 0,
        segment: policy.segments.len().saturating_sub(1),
        tier: 0,
        current_tier: 0,
        peak_tier: 0,
        lapsed: false,
        detractor: false,
        inactive: false,
        churn: ChurnRisk::Low,
        goodwill_12m: zero,
        claims_90d: 0,
        orders: None,
        referrals: 0,
    };
    if let Some(c) = customer {
        f.current_tier = tier_rank(policy, c.tier.as_deref());
        f.peak_tier = tier_rank(policy, c.peak_tier.as_deref()).max(f.current_tier);
        f.tier = f.peak_tier;
        f.lapsed = f.peak_tier > f.current_tier;
        f.detractor = c.nps.is_some_and(|(score, _)| score <= 6);
        f.claims_90d = c.claims_90d;
        f.orders = c.orders;
        f.referrals = c.referrals;
        f.inactive = match (policy.value.inactive_after_days, c.last_order_at) {
            (Some(days), Some(last)) => (today - last).num_days() > i64::from(days),
            _ => false,
        };
        if c.currency == policy.currency {
            f.lifetime = c.lifetime_revenue;
            f.goodwill_12m = c.goodwill_12m;
            f.tenure_days = c
                .first_order_at
                .map(|first| (today - first).num_days().max(0))
                .unwrap_or(0);
            let referral = if c.referrals == 0 {
                Decimal::ZERO
            } else {
                Decimal::from(c.referrals) * policy.value.referral_value
            };
            // Both figures are rounded to cents, as the answer shows them: the number an agent
            // reads is the number the limits, budget and segment were computed from (and
            // later arithmetic on 2-decimal amounts is much cheaper than on 28 decimals).
            // The average yearly revenue is computed only when a pushed figure does not
            // replace it.
            let yearly = |multiple: Decimal, extra: Decimal| {
                per_year_cents(c.lifetime_revenue, f.tenure_days, multiple, extra).unwrap_or_else(
                    || {
                        let years = tenure_years(f.tenure_days).max(Decimal::ONE);
                        round_cents(c.lifetime_revenue / years * multiple + extra)
                    },
                )
            };
            f.revenue_12m = match c.revenue_12m {
                Some(r) => round_cents(r),
                None => yearly(Decimal::ONE, Decimal::ZERO),
            };
            f.value_at_risk = match c.predicted_value {
                Some(v) => round_cents(v + referral),
                None => yearly(policy.value.history_years, referral),
            };
        } else {
            f.currency_mismatch = true;
        }
        let basis = match policy.value.segment_basis {
            SegmentBasis::ValueAtRisk => f.value_at_risk,
            SegmentBasis::LifetimeRevenue => f.lifetime,
        };
        f.segment = policy
            .segments
            .iter()
            .position(|s| basis >= s.min)
            .unwrap_or(f.segment);
    }
    f
}

/// Points: detractor 2, lapsed tier 2, inactive 1, high or critical severity 1, a public
/// (social) complaint 1. Three or more is high, two medium, less low.
fn churn_risk(f: &Facts, input: &DecisionInput) -> ChurnRisk {
    let points = 2 * u8::from(f.detractor)
        + 2 * u8::from(f.lapsed)
        + u8::from(f.inactive)
        + u8::from(input.severity >= Severity::High)
        + u8::from(input.channel == Channel::Social);
    match points {
        0..=1 => ChurnRisk::Low,
        2 => ChurnRisk::Medium,
        _ => ChurnRisk::High,
    }
}
