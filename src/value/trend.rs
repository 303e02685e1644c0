//! How a customer's P(alive) moves while they stay silent: the at-risk list's
//! "falling P(alive)" signal.
//!
//! A cached prediction describes the customer as of the model's observation end. Under
//! BG/NBD, every further day without a purchase lowers P(alive) (the customer's age `T`
//! grows while `x` and `t_x` stay), so the same fitted parameters can say how much the
//! silence of the last weeks has cost: P(alive) today against P(alive) `lookback_days`
//! earlier, or at the last purchase when that is more recent.

use super::bgnbd::BgNbd;
use super::model::TimeUnit;
use super::summary::OrderSummary;
use chrono::{Days, NaiveDate};

/// P(alive) at the start and the end of a look-back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PAliveTrend {
    /// The day the look-back starts: `today − lookback_days`, or the last purchase if later.
    pub since: NaiveDate,
    pub before: f64,
    pub now: f64,
}

impl PAliveTrend {
    /// How much P(alive) fell, 0 when it did not.
    pub fn drop(&self) -> f64 {
        (self.before - self.now).max(0.0)
    }
}

/// P(alive) over the `lookback_days` up to `today`; `None` without a repeat purchase (the
/// model holds a one-time buyer alive by assumption, so silence says nothing) or when the
/// first purchase is after `today`.
pub fn p_alive_trend(
    bg: &BgNbd,
    unit: TimeUnit,
    s: &OrderSummary,
    today: NaiveDate,
    lookback_days: u32,
) -> Option<PAliveTrend> {
    if s.frequency() == 0 {
        return None;
    }
    let last = s.last_purchase?;
    let since = today
        .checked_sub_days(Days::new(u64::from(lookback_days)))?
        .max(last)
        .min(today);
    let before = bg.p_alive(s.rfm(unit, since)?);
    let now = bg.p_alive(s.rfm(unit, today)?);
    Some(PAliveTrend { since, before, now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::bgnbd::tests::PAPER;
    use crate::value::summary::OrderFact;
    use rust_decimal::Decimal;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn weekly(first: &str, weeks: u64) -> OrderSummary {
        let mut s = OrderSummary::new("EUR");
        for k in 0..weeks {
            s.add(OrderFact {
                day: day(first) + Days::new(7 * k),
                amount: Decimal::TEN,
                day_seen: false,
            });
        }
        s
    }

    #[test]
    fn a_regular_buyer_who_stops_is_falling() {
        // Weekly from January to the end of June, then silence until November.
        let s = weekly("2026-01-05", 26);
        let t = p_alive_trend(&PAPER, TimeUnit::Week, &s, day("2026-11-01"), 90).unwrap();
        assert_eq!(t.since, day("2026-08-03"));
        assert!(t.before > t.now, "{t:?}");
        assert!(t.drop() > 0.2, "{t:?}");
    }

    #[test]
    fn a_purchase_inside_the_look_back_starts_it_there() {
        let s = weekly("2026-01-05", 40);
        let last = s.last_purchase.unwrap();
        let t = p_alive_trend(&PAPER, TimeUnit::Week, &s, day("2026-10-20"), 90).unwrap();
        assert_eq!(t.since, last);
        // Bought a week ago: barely moved.
        assert!(t.drop() < 0.1, "{t:?}");
    }

    #[test]
    fn one_time_buyers_and_future_first_purchases_have_no_trend() {
        let once = weekly("2026-01-05", 1);
        assert_eq!(
            p_alive_trend(&PAPER, TimeUnit::Week, &once, day("2026-11-01"), 90),
            None
        );
        let later = weekly("2026-11-10", 5);
        assert_eq!(
            p_alive_trend(&PAPER, TimeUnit::Week, &later, day("2026-11-01"), 90),
            None
        );
    }
}
