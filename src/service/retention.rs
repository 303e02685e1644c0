//! Retention evidence for the expected-value ranking: for every recorded outcome that
//! granted a gesture, did the customer order again within the policy's window?
//!
//! An outcome is judged
//! - **retained** when an order falls in (decision, decision + window]: from the order
//!   history (`POST /v1/orders`) or, for desks that push records instead, the record's
//!   `last_order_at`;
//! - **lost** when the window has ended without one, and the customer's buying is known
//!   (an order history or a `last_order_at`);
//! - **pending** while the window is open; **unknown** when nothing about the customer's
//!   orders is known (no news is not evidence of leaving).
//!
//! Outcomes where the customer declined the gesture, or that granted nothing, are no
//! evidence about a gesture and are skipped. The segment is the one the decision saw.
//!
//! The counts are gathered by a full pass over the ledger, off the request path: the
//! server keeps the latest pass in memory (`RetentionCache`) and redoes it shortly after an
//! outcome is recorded, and every few minutes as windows close and orders arrive.

use super::AppState;
use crate::policy::retention::Evidence;
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use utoipa::ToSchema;

/// How an outcome's window was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Retained,
    Lost,
    Pending,
    Unknown,
}

/// Outcomes per gesture and segment, by verdict, for the retention report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tally {
    pub retained: u32,
    pub lost: u32,
    pub pending: u32,
    pub unknown: u32,
}

/// One pass over the ledger.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub evidence: Evidence,
    /// Gesture id → segment id → tally.
    pub tallies: BTreeMap<String, BTreeMap<String, Tally>>,
}

/// What is known about one customer's buying.
pub(crate) struct Buying {
    orders: Vec<DateTime<Utc>>,
    last_order_at: Option<NaiveDate>,
}

impl Buying {
    pub(crate) fn of(store: &Store, customer_id: &str) -> Result<Self, StoreError> {
        let last_order_at = store
            .get_customer(customer_id)?
            .and_then(|c| c.record.last_order_at)
            .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
        Ok(Buying {
            orders: super::order_history::purchase_times(store, customer_id)?,
            last_order_at,
        })
    }

    pub(crate) fn verdict(
        &self,
        at: DateTime<Utc>,
        window_days: u32,
        now: DateTime<Utc>,
    ) -> Verdict {
        let end = at + Duration::days(i64::from(window_days));
        let ordered = self.orders.iter().any(|t| *t > at && *t <= end)
            || self
                .last_order_at
                .is_some_and(|d| d > at.date_naive() && d <= end.date_naive());
        if ordered {
            Verdict::Retained
        } else if now < end {
            Verdict::Pending
        } else if self.orders.is_empty() && self.last_order_at.is_none() {
            Verdict::Unknown
        } else {
            Verdict::Lost
        }
    }
}

/// Judge every granted, not-declined outcome in the ledger against `window_days`; with
/// `market`, only outcomes of decisions made in that market (see [`scope`]).
pub fn gather(
    store: &Store,
    window_days: u32,
    now: DateTime<Utc>,
    market: Option<&str>,
) -> Result<Gathered, StoreError> {
    let mut out = Gathered {
        evidence: Evidence {
            window_days,
            ..Evidence::default()
        },
        ..Gathered::default()
    };
    // Entries come grouped by customer: their buying is read once per customer.
    let mut current: Option<(String, Buying)> = None;
    for item in store.all_ledger_entries() {
        let (customer_id, entry) = item?;
        if entry.gesture == "none" {
            continue;
        }
        let Some(decision) = store.get_decision(&entry.decision_id)? else {
            continue;
        };
        if market.is_some_and(|m| decision.decision.evaluation.market_id() != m) {
            continue;
        }
        if decision
            .outcome
            .as_ref()
            .is_some_and(|o| o.customer_accepted == Some(false))
        {
            continue;
        }
        let Ok(id) = ulid::Ulid::from_string(&entry.decision_id) else {
            continue;
        };
        let at: DateTime<Utc> = id.datetime().into();
        if current.as_ref().is_none_or(|(c, _)| *c != customer_id) {
            let buying = Buying::of(store, &customer_id)?;
            current = Some((customer_id, buying));
        }
        let Some((_, buying)) = &current else {
            continue;
        };
        let segment = &decision.decision.evaluation.customer.segment;
        let verdict = buying.verdict(at, window_days, now);
        let tally = out
            .tallies
            .entry(entry.gesture.clone())
            .or_default()
            .entry(segment.clone())
            .or_default();
        match verdict {
            Verdict::Retained => {
                tally.retained += 1;
                out.evidence.add(&entry.gesture, segment, true);
            }
            Verdict::Lost => {
                tally.lost += 1;
                out.evidence.add(&entry.gesture, segment, false);
            }
            Verdict::Pending => tally.pending += 1,
            Verdict::Unknown => tally.unknown += 1,
        }
    }
    Ok(out)
}

/// Which outcomes teach `policy`'s market: with several markets active, only its own (a
/// voucher may keep Swiss customers and not German ones); with one, every outcome, so a
/// deployment that names its only market still learns from decisions made before it did.
pub fn scope<'a>(state: &AppState, policy: &'a crate::policy::CompiledPolicy) -> Option<&'a str> {
    (state.policies.all_active().len() > 1).then_some(policy.market.as_str())
}

/// The latest pass per market, shared with every decision (one atomic pointer load and
/// one map lookup each).
pub struct RetentionCache {
    by_market: ArcSwap<std::collections::HashMap<String, Arc<Evidence>>>,
    /// Set when an outcome is recorded or a policy activated; the refresher clears it.
    dirty: AtomicBool,
}

impl Default for RetentionCache {
    fn default() -> Self {
        RetentionCache {
            by_market: ArcSwap::from_pointee(std::collections::HashMap::new()),
            dirty: AtomicBool::new(true),
        }
    }
}

impl RetentionCache {
    /// The evidence `market`'s decisions rank with (empty before the first pass).
    pub fn evidence(&self, market: &str) -> Arc<Evidence> {
        self.by_market
            .load()
            .get(market)
            .cloned()
            .unwrap_or_default()
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}

/// The evidence for `policy`'s window as of `now` (empty for a policy without priors),
/// from the outcomes of `market` (`None`: all): what a backtest ranks with, so a candidate
/// is judged with what the server knows today.
pub fn evidence_for(
    policy: &crate::policy::CompiledPolicy,
    store: &Store,
    now: DateTime<Utc>,
    market: Option<&str>,
) -> Result<Evidence, StoreError> {
    match &policy.retention {
        Some(r) => Ok(gather(store, r.window_days, now, market)?.evidence),
        None => Ok(Evidence::default()),
    }
}

/// Redo the pass for every active market's window now (blocking: call off the runtime).
pub fn refresh(state: &AppState, now: DateTime<Utc>) -> Result<(), StoreError> {
    let mut by_market = std::collections::HashMap::new();
    for policy in state.policies.all_active() {
        let Some(r) = &policy.retention else {
            continue;
        };
        let gathered = gather(&state.store, r.window_days, now, scope(state, &policy))?;
        by_market.insert(
            policy.market.as_str().to_owned(),
            Arc::new(gathered.evidence),
        );
    }
    state.retention.by_market.store(Arc::new(by_market));
    Ok(())
}

/// How often the pass runs without news (windows close, orders arrive), and the shortest
/// gap between passes after an outcome.
const PERIOD: std::time::Duration = std::time::Duration::from_secs(300);
const AFTER_OUTCOME: std::time::Duration = std::time::Duration::from_secs(2);

/// Keep the cache fresh for as long as the server runs.
pub fn spawn_refresher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = tokio::time::Instant::now() - PERIOD;
        loop {
            let dirty = state.retention.take_dirty();
            if dirty || last.elapsed() >= PERIOD {
                last = tokio::time::Instant::now();
                let s = state.clone();
                let result = tokio::task::spawn_blocking(move || refresh(&s, Utc::now())).await;
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "retention evidence not refreshed"),
                    Err(e) => tracing::warn!(error = %e, "retention refresh task failed"),
                }
            }
            tokio::time::sleep(AFTER_OUTCOME).await;
        }
    })
}

/// One gesture in one segment: the prior, what outcomes showed, and the estimate the
/// ranking uses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionRow {
    pub gesture: String,
    pub segment: String,
    /// The active policy's prior; absent when it has none for this pair.
    pub prior: Option<crate::policy::retention::Prior>,
    #[serde(flatten)]
    pub outcomes: Tally,
    /// Posterior probability of ordering again within the window (4 decimals); absent
    /// without a prior.
    pub retention: Option<f64>,
}

/// `GET /v1/reports/retention`: what the ranking has learned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionReport {
    /// `id version` of the active policy.
    pub policy: String,
    /// Whether the active policy ranks gestures by expected value.
    pub ranking: bool,
    pub window_days: u32,
    /// RFC 3339: the outcomes were judged at this time.
    pub as_of: String,
    pub rows: Vec<RetentionRow>,
}

/// Judge every outcome of `market` (`None`: all) now over `policy`'s window (or
/// `window_days`).
pub fn report(
    policy: &crate::policy::CompiledPolicy,
    store: &Store,
    window_days: Option<u32>,
    now: DateTime<Utc>,
    market: Option<&str>,
) -> Result<RetentionReport, StoreError> {
    let ret = policy.retention.as_ref();
    let window = window_days
        .or(ret.map(|r| r.window_days))
        .unwrap_or(DEFAULT_WINDOW_DAYS);
    let gathered = gather(store, window, now, market)?;
    let mut rows = Vec::new();
    for (g, gesture) in policy.gestures.iter().enumerate() {
        for (s, segment) in policy.segments.iter().enumerate() {
            let prior = ret.and_then(|r| r.prior(g, s));
            let outcomes = gathered
                .tallies
                .get(&gesture.id)
                .and_then(|m| m.get(&segment.id))
                .copied()
                .unwrap_or_default();
            if prior.is_none() && outcomes == Tally::default() {
                continue;
            }
            let retention = prior.map(|p| {
                let seen = gathered.evidence.get(window, &gesture.id, &segment.id);
                crate::policy::retention::posterior_mean_4dp(p, seen) as f64 / 10_000.0
            });
            rows.push(RetentionRow {
                gesture: gesture.id.clone(),
                segment: segment.id.clone(),
                prior,
                outcomes,
                retention,
            });
        }
    }
    Ok(RetentionReport {
        policy: format!("{} {}", policy.id, policy.version),
        ranking: ret.is_some(),
        window_days: window,
        as_of: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        rows,
    })
}

/// The window a report uses when the policy sets none.
pub const DEFAULT_WINDOW_DAYS: u32 = 90;
