//! Backtest: replay stored decisions (their requests and customer snapshots, at their own
//! time) under a candidate policy and report what would change, in money.

use crate::domain::decision::Evaluation;
use crate::domain::request::Vocab;
use crate::money::{Money, MoneyDto};
use crate::policy::retention::Evidence;
use crate::policy::{evaluate_with, CompiledPolicy};
use crate::store::decisions::StoredDecision;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BinaryHeap};
use utoipa::ToSchema;

/// How many of the largest changes the report lists.
pub const LARGEST: usize = 20;

/// One side of a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Answer {
    pub gesture: String,
    #[schema(value_type = MoneyDto)]
    pub amount: Money,
    pub within_authority: bool,
    /// The rule that decided, or `floor`.
    pub rule: String,
}

/// One decision whose answer changes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    pub decision_id: String,
    pub ticket_id: String,
    pub created_at: String,
    pub segment: String,
    pub before: Answer,
    pub after: Answer,
    /// `after.amount − before.amount`.
    pub delta: MoneyDto,
}

/// Totals for one segment or gesture. `BacktestGroup` in the OpenAPI document, where a
/// schema name is global and the goodwill report has a `Group` of its own.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BacktestGroup)]
pub struct Group {
    pub key: String,
    pub before: MoneyDto,
    pub after: MoneyDto,
    pub delta: MoneyDto,
}

/// Share of decisions above the deciding role's authority, before and after.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shares {
    pub before: f64,
    pub after: f64,
}

/// What a candidate version would have done to the stored decisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestReport {
    pub candidate: String,
    /// The candidate's market: only decisions made in it are replayed.
    pub market: String,
    /// Stored decisions of the market in the period.
    pub decisions: u64,
    /// Decisions the candidate could evaluate (the rest use vocabulary or a currency it lacks).
    pub evaluated: u64,
    pub not_evaluable: u64,
    /// Decisions whose gesture, amount or authority verdict differs.
    pub changed: u64,
    pub total_before: MoneyDto,
    pub total_after: MoneyDto,
    pub total_delta: MoneyDto,
    /// What the gestures cost the company: face value × the gesture's `cost_factor` in the
    /// candidate's catalogue (a voucher of €100 at 0.6 costs €60), before and after.
    pub cost_before: MoneyDto,
    pub cost_after: MoneyDto,
    pub cost_delta: MoneyDto,
    /// By the segment each decision was made in.
    pub by_segment: Vec<Group>,
    /// `before` sums amounts by the old gesture, `after` by the new one.
    pub by_gesture: Vec<Group>,
    pub above_authority: Shares,
    /// The largest changes by absolute amount, largest first.
    pub largest_changes: Vec<Change>,
}

#[derive(Default)]
struct Sums {
    before: Decimal,
    after: Decimal,
}

// Ordered by absolute delta so the heap keeps the largest changes (as a min-heap of size 20).
struct Ranked(Decimal, u64, Change);
impl PartialEq for Ranked {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: the smallest change sits on top and is the one evicted.
        (o.0, o.1).cmp(&(self.0, self.1))
    }
}

fn answer(e: &Evaluation) -> Answer {
    Answer {
        gesture: e.recommendation.gesture.clone(),
        amount: e.recommendation.amount,
        within_authority: e.authority.within_authority,
        rule: e
            .matched_rules
            .first()
            .cloned()
            .unwrap_or_else(|| "floor".into()),
    }
}

/// Re-evaluate one stored decision under the candidate; `None` if it cannot be.
fn replay(
    candidate: &CompiledPolicy,
    d: &StoredDecision,
    evidence: &Evidence,
) -> Option<Evaluation> {
    let vocab = Vocab {
        categories: &candidate.categories,
        roles: &candidate.roles,
        currency: candidate.currency,
    };
    let input = d.request.validate(&vocab).ok()?;
    let customer = match &d.customer_snapshot {
        Some(c) => Some(c.validate().ok()?),
        None => None,
    };
    let at = DateTime::parse_from_rfc3339(&d.decision.created_at)
        .ok()?
        .with_timezone(&Utc);
    Some(evaluate_with(
        candidate,
        &input,
        customer.as_ref(),
        at,
        evidence,
    ))
}

/// Stream the decision log between `since` and `until` through the candidate, ranking
/// gestures with `evidence` (service/retention.rs `evidence_for`).
pub fn run(
    store: &Store,
    candidate: &CompiledPolicy,
    evidence: &Evidence,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<BacktestReport, StoreError> {
    let cur = candidate.currency;
    let money = |d: Decimal| MoneyDto::from(Money::new(d, cur));
    let (mut decisions, mut evaluated, mut changed) = (0u64, 0u64, 0u64);
    let (mut above_before, mut above_after) = (0u64, 0u64);
    let mut total = Sums::default();
    let mut cost = Sums::default();
    let factor = |gesture: &str| {
        candidate
            .gestures
            .iter()
            .find(|g| g.id == gesture)
            .map_or(Decimal::ONE, |g| g.cost_factor)
    };
    let mut by_segment: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_gesture: BTreeMap<String, Sums> = BTreeMap::new();
    let mut largest: BinaryHeap<Ranked> = BinaryHeap::with_capacity(LARGEST + 1);
    for item in store.decisions_between(since, until) {
        let d = item?;
        let old = &d.decision.evaluation;
        // Another market's decisions were made under another policy line (and often in
        // another currency): not this candidate's history.
        if old.market_id() != candidate.market.as_str() {
            continue;
        }
        decisions += 1;
        if old.recommendation.amount.currency != cur {
            continue;
        }
        let Some(new) = replay(candidate, &d, evidence) else {
            continue;
        };
        evaluated += 1;
        let (before, after) = (answer(old), answer(&new));
        let (b, a) = (before.amount.amount, after.amount.amount);
        total.before += b;
        total.after += a;
        cost.before += b * factor(&before.gesture);
        cost.after += a * factor(&after.gesture);
        let seg = by_segment.entry(old.customer.segment.clone()).or_default();
        seg.before += b;
        seg.after += a;
        by_gesture.entry(before.gesture.clone()).or_default().before += b;
        by_gesture.entry(after.gesture.clone()).or_default().after += a;
        above_before += u64::from(!before.within_authority);
        above_after += u64::from(!after.within_authority);
        let differs = before.gesture != after.gesture
            || b != a
            || before.within_authority != after.within_authority;
        if !differs {
            continue;
        }
        changed += 1;
        let change = Change {
            decision_id: d.decision.decision_id.clone(),
            ticket_id: d.decision.ticket_id.clone(),
            created_at: d.decision.created_at.clone(),
            segment: old.customer.segment.clone(),
            delta: money(a - b),
            before,
            after,
        };
        largest.push(Ranked((a - b).abs(), changed, change));
        if largest.len() > LARGEST {
            largest.pop();
        }
    }
    let groups = |m: BTreeMap<String, Sums>| {
        m.into_iter()
            .map(|(key, s)| Group {
                key,
                before: money(s.before),
                after: money(s.after),
                delta: money(s.after - s.before),
            })
            .collect()
    };
    let share = |n: u64| {
        if evaluated == 0 {
            0.0
        } else {
            n as f64 / evaluated as f64
        }
    };
    Ok(BacktestReport {
        candidate: format!("{} {}", candidate.id, candidate.version),
        market: candidate.market.as_str().to_string(),
        decisions,
        evaluated,
        not_evaluable: decisions - evaluated,
        changed,
        total_before: money(total.before),
        total_after: money(total.after),
        total_delta: money(total.after - total.before),
        cost_before: money(cost.before),
        cost_after: money(cost.after),
        cost_delta: money(cost.after - cost.before),
        by_segment: groups(by_segment),
        by_gesture: groups(by_gesture),
        above_authority: Shares {
            before: share(above_before),
            after: share(above_after),
        },
        largest_changes: largest.into_sorted_vec().into_iter().map(|r| r.2).collect(),
    })
}
