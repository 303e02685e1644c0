//! The monotonicity check: sample the input space and show that raising a customer's value
//! never lowers the gesture (its amount; across gestures, its cost to the company, see
//! `CompiledPolicy::gives_less`) or the authority limit. The sample is seeded, so the
//! verdict for a policy is the same on every run.

use crate::domain::complaint::{Channel, Fault, Severity};
use crate::domain::customer::CustomerRecord;
use crate::domain::request::{AttrValue, DecisionInput};
use crate::money::cents_string;
use crate::policy::compiled::CompiledPolicy;
use crate::policy::engine::evaluate;
use crate::policy::err::Problem;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// How many (request, customer) pairs are tried.
pub const SAMPLES: usize = 3000;

fn money(rng: &mut StdRng, max_euros: u32) -> Decimal {
    // Log-uniform, so small and large customers are both well represented.
    let e = rng.gen_range(0.0..f64::from(max_euros).log10());
    Decimal::from(10f64.powf(e) as u64) + Decimal::new(rng.gen_range(0..100), 2)
}

/// Values worth trying for each attribute the rules test: what they compare with, and
/// values just around their bounds.
fn attribute_values(policy: &CompiledPolicy) -> BTreeMap<String, Vec<AttrValue>> {
    let mut out: BTreeMap<String, Vec<AttrValue>> = BTreeMap::new();
    for rule in &policy.rules {
        for (name, c) in &rule.when.attributes {
            let vals = out.entry(name.clone()).or_default();
            vals.extend(c.equals.iter().cloned());
            vals.extend(c.one_of.iter().cloned());
            for b in c.min.iter().chain(c.max.iter()) {
                vals.extend([b - 1.0, *b, b + 1.0].map(AttrValue::Number));
            }
            vals.extend([AttrValue::Bool(true), AttrValue::Bool(false)]);
        }
    }
    out
}

fn pick<T: Copy>(rng: &mut StdRng, all: &[T]) -> T {
    all[rng.gen_range(0..all.len())]
}

fn sample_input(
    rng: &mut StdRng,
    p: &CompiledPolicy,
    attrs: &BTreeMap<String, Vec<AttrValue>>,
) -> DecisionInput {
    let mut attributes = BTreeMap::new();
    for (name, values) in attrs {
        if !values.is_empty() && rng.gen_bool(0.7) {
            attributes.insert(name.clone(), values[rng.gen_range(0..values.len())].clone());
        }
    }
    DecisionInput {
        ticket_id: "check".into(),
        customer_id: "check".into(),
        agent_id: "check".into(),
        role: rng.gen_range(0..p.roles.len().max(1)),
        category: rng.gen_range(0..p.categories.len().max(1)),
        severity: pick(rng, Severity::ALL),
        channel: pick(rng, Channel::ALL),
        fault: pick(rng, Fault::ALL),
        claim: money(rng, 5_000),
        attributes,
        locale: None,
    }
}

fn sample_customer(rng: &mut StdRng, p: &CompiledPolicy, today: NaiveDate) -> CustomerRecord {
    let tiers = p.tiers.len().max(1);
    let tier = rng.gen_range(0..tiers);
    CustomerRecord {
        currency: p.currency,
        lifetime_revenue: money(rng, 100_000),
        orders: Some(rng.gen_range(1..60)),
        first_order_at: rng
            .gen_bool(0.8)
            .then(|| today - Duration::days(rng.gen_range(0..4000))),
        last_order_at: None,
        predicted_value: rng.gen_bool(0.5).then(|| money(rng, 100_000)),
        revenue_12m: None,
        tier: p.tiers.get(tier).cloned(),
        peak_tier: p.tiers.get(rng.gen_range(tier..tiers)).cloned(),
        referrals: rng.gen_range(0..5),
        nps: rng.gen_bool(0.3).then(|| (rng.gen_range(0..=10), today)),
        goodwill_12m: if rng.gen_bool(0.5) {
            Decimal::ZERO
        } else {
            money(rng, 2_000)
        },
        claims_90d: rng.gen_range(0..6),
    }
}

/// More value: a higher predicted value when one is pushed, else more lifetime revenue.
fn richer(c: &CustomerRecord, rng: &mut StdRng) -> CustomerRecord {
    let mut r = c.clone();
    let extra = money(rng, 50_000);
    match c.predicted_value {
        Some(v) => r.predicted_value = Some(v + extra),
        None => r.lifetime_revenue += extra,
    }
    r
}

/// The first sampled case where more value gets less, described for a policy author.
pub fn counterexample(policy: &CompiledPolicy) -> Option<Problem> {
    let mut rng = StdRng::seed_from_u64(0x6b75_6c61_6e7a);
    let now: DateTime<Utc> = policy
        .test_clock
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000));
    let attrs = attribute_values(policy);
    for _ in 0..SAMPLES {
        let input = sample_input(&mut rng, policy, &attrs);
        let base = sample_customer(&mut rng, policy, now.date_naive());
        let more = richer(&base, &mut rng);
        let (a, b) = (
            evaluate(policy, &input, Some(&base), now),
            evaluate(policy, &input, Some(&more), now),
        );
        let (ra, rb) = (&a.recommendation, &b.recommendation);
        let lower_gesture = policy.gives_less(
            (&ra.gesture, ra.amount.amount),
            (&rb.gesture, rb.amount.amount),
        );
        let lower_limit = b.authority.limit.amount < a.authority.limit.amount;
        if !(lower_gesture || lower_limit) {
            continue;
        }
        let what = if lower_gesture {
            format!(
                "the gesture falls from {} {} (rule {}) to {} {} (rule {})",
                ra.gesture,
                cents_string(ra.amount.amount),
                a.matched_rules.first().map_or("floor", String::as_str),
                rb.gesture,
                cents_string(rb.amount.amount),
                b.matched_rules.first().map_or("floor", String::as_str),
            )
        } else {
            format!(
                "the authority limit falls from {} to {}",
                cents_string(a.authority.limit.amount),
                cents_string(b.authority.limit.amount)
            )
        };
        return Some(Problem::new(
            "$.rules",
            format!(
                "more customer value gets less: for {} / fault {} / severity {} / claim {} {}, raising the value at risk from {} to {} (segment {} → {}): {what}",
                policy.categories.get(input.category).map_or("", String::as_str),
                input.fault.as_str(),
                input.severity.as_str(),
                input.claim.round_dp(2),
                policy.currency,
                a.customer.value_at_risk.amount,
                b.customer.value_at_risk.amount,
                a.customer.segment,
                b.customer.segment,
            ),
        ));
    }
    None
}
