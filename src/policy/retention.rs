//! Retention estimates for the expected-value ranking of gestures.
//!
//! The question per gesture and segment is "does a customer who got this gesture order
//! again within `window_days`?". Each answer is a Bernoulli trial with an unknown rate θ.
//! The policy states a Beta(a, b) prior on θ (read: "as if we had seen `a` customers stay
//! and `b` leave"); recorded outcomes add `r` retained and `l` lost. Beta is conjugate to
//! the Binomial, so the posterior is Beta(a + r, b + l) and the probability that the next
//! such customer is retained (the Beta-Binomial predictive for one trial) is its mean,
//! (a + r) / (a + b + r + l). That mean is the retention effect the ranking uses.
//!
//! Pure: the counts are gathered by `service/retention.rs` and handed to the engine.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Outcomes seen for one gesture in one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    /// Ordered again within the window.
    pub retained: u32,
    /// Did not, and the window has ended.
    pub lost: u32,
}

/// A Beta prior, in pseudo-counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Prior {
    pub retained: f64,
    pub lost: f64,
}

/// The compiled `retention` block: a prior for every gesture × segment that has one.
#[derive(Debug, Clone)]
pub struct Retention {
    pub window_days: u32,
    /// Indexed `[gesture][segment]`; `None` where the policy gives no prior.
    pub priors: Vec<Vec<Option<Prior>>>,
}

impl Retention {
    pub fn prior(&self, gesture: usize, segment: usize) -> Option<Prior> {
        self.priors.get(gesture)?.get(segment).copied().flatten()
    }
}

/// What recorded outcomes have shown, by gesture id, then segment id, for one window
/// length. Keyed by ids (not indexes) because it outlives policy versions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub window_days: u32,
    pub counts: BTreeMap<String, BTreeMap<String, Counts>>,
}

/// No outcomes: the ranking runs on the priors alone (example cases, checks, backtests).
pub static NO_EVIDENCE: Evidence = Evidence {
    window_days: 0,
    counts: BTreeMap::new(),
};

impl Evidence {
    /// Counts for a gesture in a segment; zero unless gathered for `window_days` (outcomes
    /// judged over another window answer another question).
    pub fn get(&self, window_days: u32, gesture: &str, segment: &str) -> Counts {
        if self.window_days != window_days {
            return Counts::default();
        }
        self.counts
            .get(gesture)
            .and_then(|s| s.get(segment))
            .copied()
            .unwrap_or_default()
    }

    pub fn add(&mut self, gesture: &str, segment: &str, retained: bool) {
        let c = self
            .counts
            .entry(gesture.to_string())
            .or_default()
            .entry(segment.to_string())
            .or_default();
        if retained {
            c.retained = c.retained.saturating_add(1);
        } else {
            c.lost = c.lost.saturating_add(1);
        }
    }
}

/// The posterior mean: probability that the next customer given this gesture is retained.
pub fn posterior_mean(prior: Prior, seen: Counts) -> f64 {
    let a = prior.retained + f64::from(seen.retained);
    let b = prior.lost + f64::from(seen.lost);
    // INVARIANT: the schema and compile checks keep both prior counts above zero.
    a / (a + b)
}

/// The posterior mean in ten-thousandths (four decimals), rounded half away from zero.
pub fn posterior_mean_4dp(prior: Prior, seen: Counts) -> i64 {
    let x = (posterior_mean(prior, seen) * 10_000.0).clamp(0.0, 10_000.0);
    x.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_decimals_round_half_away_from_zero() {
        let of = |retained: f64, lost: f64| {
            posterior_mean_4dp(Prior { retained, lost }, Counts::default())
        };
        // 1 / 32 = 0.03125: exactly half a ten-thousandth, rounded up (half to even gave 312).
        assert_eq!(of(1.0, 31.0), 313);
        assert_eq!(of(3.0, 29.0), 938); // 0.09375
        assert_eq!(of(7.0, 3.0), 7000);
        assert_eq!(of(2.0, 1.0), 6667); // 0.66666…
        assert_eq!(of(1.0, 2.0), 3333);
        assert_eq!(of(1.0, 0.0), 10_000);
    }

    #[test]
    fn the_prior_alone_gives_its_mean_and_outcomes_move_it() {
        let prior = Prior {
            retained: 7.0,
            lost: 3.0,
        };
        assert!((posterior_mean(prior, Counts::default()) - 0.7).abs() < 1e-12);
        let seen = Counts {
            retained: 3,
            lost: 10,
        };
        // (7 + 3) / (7 + 3 + 3 + 10) = 10 / 23
        assert!((posterior_mean(prior, seen) - 10.0 / 23.0).abs() < 1e-12);
    }

    #[test]
    fn evidence_for_another_window_is_ignored() {
        let mut e = Evidence {
            window_days: 90,
            ..Evidence::default()
        };
        e.add("refund", "top", false);
        e.add("refund", "top", true);
        e.add("refund", "top", false);
        assert_eq!(
            e.get(90, "refund", "top"),
            Counts {
                retained: 1,
                lost: 2
            }
        );
        assert_eq!(e.get(30, "refund", "top"), Counts::default());
        assert_eq!(e.get(90, "voucher", "top"), Counts::default());
    }
}
