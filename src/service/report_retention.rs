//! The goodwill report's retention section: did customers order again within N days of a
//! complaint, for complaints that ended with a gesture against comparable complaints that
//! ended without one (declined, a zero gesture, or a gesture the customer refused), by the
//! segment the decision saw.
//!
//! Comparable means "complained in the same window and segment": this is an observational
//! comparison, not an experiment. The policy chose who got a gesture, so the difference is
//! a hint of what goodwill earns, not a proof; the expected-value ranking
//! (service/retention.rs) learns per gesture from the same verdicts.
//!
//! Decisions without a recorded outcome are left out: what was granted is not known.

use super::retention::{Buying, Verdict};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// One complaint with an outcome, as the report's pass saw it.
#[derive(Debug, Clone)]
pub struct Observed {
    pub customer_id: String,
    pub decided_at: DateTime<Utc>,
    pub segment: String,
    /// A gesture other than `none` was granted and not refused by the customer.
    pub with_gesture: bool,
}

/// Verdicts for one group of complaints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct RetentionGroup {
    pub decisions: u64,
    /// Ordered again within the window.
    pub retained: u64,
    /// The window ended without an order (and the customer's buying is known).
    pub lost: u64,
    /// The window is still open.
    pub pending: u64,
    /// Nothing is known about the customer's orders.
    pub unknown: u64,
    /// retained / (retained + lost), 4 decimals; absent when none was judged yet.
    pub rate: Option<f64>,
}

impl RetentionGroup {
    fn add(&mut self, v: Verdict) {
        self.decisions += 1;
        match v {
            Verdict::Retained => self.retained += 1,
            Verdict::Lost => self.lost += 1,
            Verdict::Pending => self.pending += 1,
            Verdict::Unknown => self.unknown += 1,
        }
        let judged = self.retained + self.lost;
        self.rate = (judged > 0)
            .then(|| (self.retained as f64 / judged as f64 * 10_000.0).round() / 10_000.0);
    }
}

/// With against without a gesture, for one segment or for all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionComparison {
    /// A segment id, or `*` for every segment together.
    pub segment: String,
    pub with_gesture: RetentionGroup,
    pub without_gesture: RetentionGroup,
    /// (with − without) rate in percentage points, 1 decimal; absent unless both sides
    /// have judged complaints.
    pub difference_points: Option<f64>,
}

/// `retention` in the goodwill report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionAfterGesture {
    pub window_days: u32,
    /// RFC 3339: windows were judged at this time.
    pub as_of: String,
    /// Every segment together first, then each segment.
    pub comparisons: Vec<RetentionComparison>,
}

fn comparison(
    segment: String,
    with: RetentionGroup,
    without: RetentionGroup,
) -> RetentionComparison {
    let difference_points = match (with.rate, without.rate) {
        (Some(a), Some(b)) => Some(((a - b) * 1000.0).round() / 10.0),
        _ => None,
    };
    RetentionComparison {
        segment,
        with_gesture: with,
        without_gesture: without,
        difference_points,
    }
}

/// Judge every observed complaint against `window_days` as of `now`.
pub fn judge(
    store: &Store,
    observed: &[Observed],
    window_days: u32,
    now: DateTime<Utc>,
) -> Result<RetentionAfterGesture, StoreError> {
    let mut buying: HashMap<&str, Buying> = HashMap::new();
    let mut all = [RetentionGroup::default(); 2];
    let mut by_segment: BTreeMap<&str, [RetentionGroup; 2]> = BTreeMap::new();
    for o in observed {
        let b = match buying.entry(o.customer_id.as_str()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Buying::of(store, &o.customer_id)?)
            }
        };
        let v = b.verdict(o.decided_at, window_days, now);
        let side = usize::from(!o.with_gesture);
        all[side].add(v);
        by_segment.entry(o.segment.as_str()).or_default()[side].add(v);
    }
    let mut comparisons = vec![comparison("*".to_string(), all[0], all[1])];
    comparisons.extend(
        by_segment
            .into_iter()
            .map(|(s, [with, without])| comparison(s.to_string(), with, without)),
    );
    Ok(RetentionAfterGesture {
        window_days,
        as_of: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        comparisons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_only_judged_complaints() {
        let mut g = RetentionGroup::default();
        assert_eq!(g.rate, None);
        g.add(Verdict::Pending);
        g.add(Verdict::Unknown);
        assert_eq!(g.rate, None);
        g.add(Verdict::Retained);
        g.add(Verdict::Lost);
        g.add(Verdict::Lost);
        assert_eq!(g.decisions, 5);
        assert_eq!(g.rate, Some(0.3333));
    }

    #[test]
    fn the_difference_needs_both_sides() {
        let mut with = RetentionGroup::default();
        with.add(Verdict::Retained);
        with.add(Verdict::Lost);
        let mut without = RetentionGroup::default();
        assert_eq!(
            comparison("*".into(), with, without).difference_points,
            None
        );
        without.add(Verdict::Lost);
        without.add(Verdict::Lost);
        without.add(Verdict::Lost);
        without.add(Verdict::Retained);
        assert_eq!(
            comparison("*".into(), with, without).difference_points,
            Some(25.0)
        );
    }
}
