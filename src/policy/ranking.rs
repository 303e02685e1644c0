//! Expected-value ranking of the gestures a rule allows (its gesture and alternatives):
//! expected net value = value at risk × retention − cost, where retention is the
//! posterior probability of "ordered again within the window" (policy/retention.rs) and
//! cost is the amount after the guards × the gesture's cost factor.
//!
//! The engine hands in only candidates that survived the guards with something to offer,
//! so ranking can never lift an amount above a guard or below the floor: it only chooses
//! among what the rule and the guards already allow.

use super::compiled::CompiledPolicy;
use super::retention::{posterior_mean, Evidence, Retention};
use crate::domain::decision::{RankedGesture, Ranking, RetentionEvidence};
use crate::money::{round_cents, Money};
use rust_decimal::Decimal;

/// A gesture the rule allows, with its amount before and after the guards.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub gesture: usize,
    /// Formula amount, capped at the authority ceiling, before the guards.
    pub proposed: Decimal,
    /// After the guards; zero for a gesture without an amount.
    pub amount: Decimal,
}

#[derive(Debug, Clone)]
pub(super) struct Ranked {
    pub candidate: Candidate,
    pub retention: Decimal,
    pub evidence: RetentionEvidence,
    pub cost: Decimal,
    pub expected_value: Decimal,
}

/// Rank `candidates` best first; equal values keep the rule's order (its gesture first).
/// `None` when a candidate has no prior (the compile check prevents that).
pub(super) fn rank(
    p: &CompiledPolicy,
    ret: &Retention,
    evidence: &Evidence,
    segment: usize,
    value_at_risk: Decimal,
    candidates: &[Candidate],
) -> Option<Vec<Ranked>> {
    let segment_id = p.segments.get(segment).map(|s| s.id.as_str()).unwrap_or("");
    // In cents, as the answer shows it: the number shown is the number used.
    let value_at_risk = round_cents(value_at_risk);
    let mut ranked = Vec::with_capacity(candidates.len());
    for c in candidates {
        let prior = ret.prior(c.gesture, segment)?;
        let gesture_id = p.gesture_id(Some(c.gesture));
        let seen = evidence.get(ret.window_days, gesture_id, segment_id);
        // Four decimals as an integer: a probability in [0, 1], so the cast is exact, and
        // it skips the f64-to-Decimal conversion (a measurable share of the ranking).
        let retention = Decimal::new((posterior_mean(prior, seen) * 10_000.0).round() as i64, 4);
        let cost = round_cents(c.amount * p.cost_factor(c.gesture));
        ranked.push(Ranked {
            candidate: *c,
            retention,
            evidence: RetentionEvidence {
                prior_retained: prior.retained,
                prior_lost: prior.lost,
                retained: seen.retained,
                lost: seen.lost,
            },
            cost,
            expected_value: round_cents(value_at_risk * retention - cost),
        });
    }
    ranked.sort_by_key(|r| std::cmp::Reverse(r.expected_value));
    Some(ranked)
}

/// The ranking as it appears in the answer.
pub(super) fn output(p: &CompiledPolicy, ret: &Retention, ranked: &[Ranked]) -> Ranking {
    let money = |a: Decimal| Money::new(a, p.currency).into();
    Ranking {
        window_days: ret.window_days,
        gestures: ranked
            .iter()
            .map(|r| RankedGesture {
                gesture: p.gesture_id(Some(r.candidate.gesture)).to_string(),
                amount: money(r.candidate.amount),
                cost: money(r.cost),
                retention: r.retention.try_into().unwrap_or_default(),
                evidence: r.evidence.clone(),
                expected_value: money(r.expected_value),
            })
            .collect(),
    }
}

/// The ranking in words, with every number behind it, for the agent and the auditor.
pub(super) fn reason(
    p: &CompiledPolicy,
    ret: &Retention,
    segment: &str,
    value_at_risk: Decimal,
    ranked: &[Ranked],
) -> String {
    use std::fmt::Write as _;
    let show = |a: Decimal| Money::new(a, p.currency).display();
    // One buffer for the whole sentence (`write!` into a `String` cannot fail): this text
    // is the larger part of a ranked decision's cost.
    let var = show(value_at_risk);
    let mut text = String::with_capacity(200 + 160 * ranked.len());
    let _ = write!(
        text,
        "ranked by expected value for a {segment} customer with {var} at risk (value at risk × chance of ordering again within {} days − cost): ",
        ret.window_days
    );
    for (i, r) in ranked.iter().enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        let g = p.gestures.get(r.candidate.gesture);
        let label = g.map(|g| g.label.to_lowercase()).unwrap_or_default();
        text.push_str(&label);
        if g.is_some_and(|g| g.monetary) {
            let _ = write!(text, " of {}", show(r.candidate.amount));
        }
        let e = &r.evidence;
        let _ = write!(
            text,
            ": {}% × {var} − {} = {} (prior {} stayed / {} left, recorded {} stayed / {} left)",
            (r.retention * Decimal::ONE_HUNDRED).round_dp(1).normalize(),
            show(r.cost),
            show(r.expected_value),
            e.prior_retained,
            e.prior_lost,
            e.retained,
            e.lost,
        );
    }
    if let Some(top) = ranked.first() {
        let label = p
            .gestures
            .get(top.candidate.gesture)
            .map(|g| g.label.to_lowercase())
            .unwrap_or_default();
        let _ = write!(text, ". The {label} ranks first.");
    }
    text
}
