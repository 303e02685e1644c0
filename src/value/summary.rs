//! A customer's order history reduced to what the models need, updated one order at a
//! time in O(1): never a rescan of the orders.
//!
//! Rules (docs/value.md):
//! - A purchase is an order with an amount ≥ 0. Purchases on the same calendar day (UTC)
//!   count as one purchase occasion, as in `lifetimes` with daily periods; the frequency
//!   `x` is the number of purchase days after the first.
//! - A refund is an order with a negative amount: it lowers net revenue and is counted,
//!   but it is not a purchase and is excluded from spend (recency, frequency and the
//!   Gamma-Gamma mean are computed from purchases only).
//! - The spend of a purchase day is the sum of its orders; the mean repeat-order value is
//!   the mean over purchase days after the first.

use super::bgnbd::Rfm;
use super::model::TimeUnit;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A customer's order history, as stored next to their orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub currency: String,
    /// First and last purchase day; `None` while the customer has only refunds.
    pub first_purchase: Option<NaiveDate>,
    pub last_purchase: Option<NaiveDate>,
    /// Distinct days with a purchase.
    pub purchase_days: u32,
    pub purchases: u32,
    pub refunds: u32,
    /// Sum of purchases.
    pub revenue: Decimal,
    /// Sum of refunds, as a positive amount.
    pub refunded: Decimal,
    /// Purchases on the first purchase day: the Gamma-Gamma mean leaves them out.
    pub first_day_spend: Decimal,
}

/// A refund is an order with a negative amount; zero is a (free) purchase.
pub fn is_refund(amount: Decimal) -> bool {
    amount < Decimal::ZERO
}

/// One order as the summary sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFact {
    pub day: NaiveDate,
    pub amount: Decimal,
    /// Whether the store already holds a purchase of this customer on `day`.
    pub day_seen: bool,
}

impl OrderSummary {
    pub fn new(currency: &str) -> Self {
        OrderSummary {
            currency: currency.to_string(),
            first_purchase: None,
            last_purchase: None,
            purchase_days: 0,
            purchases: 0,
            refunds: 0,
            revenue: Decimal::ZERO,
            refunded: Decimal::ZERO,
            first_day_spend: Decimal::ZERO,
        }
    }

    /// Add one order, in any order of arrival.
    pub fn add(&mut self, o: OrderFact) {
        if is_refund(o.amount) {
            self.refunds += 1;
            self.refunded += -o.amount;
            return;
        }
        self.purchases += 1;
        self.revenue += o.amount;
        if !o.day_seen {
            self.purchase_days += 1;
        }
        match self.first_purchase {
            // An earlier first day: the old first day becomes a repeat day, which the
            // mean picks up through `revenue - first_day_spend`.
            Some(first) if o.day > first => {}
            Some(first) if o.day == first => self.first_day_spend += o.amount,
            _ => {
                self.first_purchase = Some(o.day);
                self.first_day_spend = o.amount;
            }
        }
        if self.last_purchase.is_none_or(|last| o.day > last) {
            self.last_purchase = Some(o.day);
        }
    }

    /// Repeat purchase days: the model's `x`.
    pub fn frequency(&self) -> u32 {
        self.purchase_days.saturating_sub(1)
    }

    /// Net revenue: purchases less refunds, never below zero.
    pub fn net_revenue(&self) -> Decimal {
        (self.revenue - self.refunded).max(Decimal::ZERO)
    }

    /// Mean spend per repeat purchase day; `None` without a repeat purchase.
    pub fn mean_repeat_spend(&self) -> Option<Decimal> {
        let repeat_days = self.frequency();
        (repeat_days > 0)
            .then(|| (self.revenue - self.first_day_spend) / Decimal::from(repeat_days))
    }

    /// Whether this summary already describes the customer as of `as_of`: true when no
    /// purchase of theirs is later. Otherwise use [`summary_as_of`] on their orders.
    pub fn holds_as_of(&self, as_of: NaiveDate) -> bool {
        self.last_purchase.is_none_or(|last| last <= as_of)
    }

    /// The model's view as of `as_of`, in `unit`s; `None` without a purchase or when the
    /// first purchase is after `as_of`. Exact only when [`Self::holds_as_of`]: a last
    /// purchase after `as_of` is cut to `as_of`, but the later purchases still count.
    pub fn rfm(&self, unit: TimeUnit, as_of: NaiveDate) -> Option<Rfm> {
        let (first, last) = (self.first_purchase?, self.last_purchase?);
        if first > as_of {
            return None;
        }
        let days = |d: NaiveDate| (d - first).num_days() as f64;
        let t = days(as_of) / unit.days();
        Some(Rfm {
            x: f64::from(self.frequency()),
            t_x: (days(last.min(as_of)) / unit.days()).min(t),
            t,
        })
    }
}

/// The summary of the orders made up to and including `as_of`, in any order of arrival:
/// the same as adding them one by one, with later orders left out.
pub fn summary_as_of(
    currency: &str,
    orders: impl IntoIterator<Item = (NaiveDate, Decimal)>,
    as_of: NaiveDate,
) -> OrderSummary {
    let mut kept: Vec<(NaiveDate, Decimal)> =
        orders.into_iter().filter(|(d, _)| *d <= as_of).collect();
    kept.sort_unstable_by_key(|(d, _)| *d);
    let mut s = OrderSummary::new(currency);
    let mut last_purchase_day = None;
    for (day, amount) in kept {
        let day_seen = !is_refund(amount) && last_purchase_day == Some(day);
        s.add(OrderFact {
            day,
            amount,
            day_seen,
        });
        if !is_refund(amount) {
            last_purchase_day = Some(day);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn add(s: &mut OrderSummary, d: &str, amount: &str, seen: bool) {
        s.add(OrderFact {
            day: day(d),
            amount: dec(amount),
            day_seen: seen,
        });
    }

    #[test]
    fn one_order_is_no_repeat_purchase() {
        let mut s = OrderSummary::new("EUR");
        add(&mut s, "2026-01-10", "50.00", false);
        assert_eq!(s.frequency(), 0);
        assert_eq!(s.mean_repeat_spend(), None);
        let rfm = s.rfm(TimeUnit::Day, day("2026-01-20")).unwrap();
        assert_eq!((rfm.x, rfm.t_x, rfm.t), (0.0, 0.0, 10.0));
    }

    #[test]
    fn same_day_orders_are_one_occasion_and_their_spend_adds_up() {
        let mut s = OrderSummary::new("EUR");
        add(&mut s, "2026-01-10", "50.00", false);
        add(&mut s, "2026-01-17", "30.00", false);
        add(&mut s, "2026-01-17", "10.00", true);
        assert_eq!(s.frequency(), 1);
        assert_eq!(s.purchases, 3);
        assert_eq!(s.mean_repeat_spend(), Some(dec("40.00")));
        let rfm = s.rfm(TimeUnit::Week, day("2026-01-24")).unwrap();
        assert_eq!((rfm.x, rfm.t_x, rfm.t), (1.0, 1.0, 2.0));
    }

    #[test]
    fn an_order_arriving_late_moves_the_first_day() {
        let mut s = OrderSummary::new("EUR");
        add(&mut s, "2026-02-01", "20.00", false);
        add(&mut s, "2026-01-01", "80.00", false);
        assert_eq!(s.first_purchase, Some(day("2026-01-01")));
        assert_eq!(s.last_purchase, Some(day("2026-02-01")));
        // The first day's 80 is left out; the repeat day is the 20.
        assert_eq!(s.mean_repeat_spend(), Some(dec("20.00")));
    }

    #[test]
    fn refunds_lower_revenue_but_not_spend_or_frequency() {
        let mut s = OrderSummary::new("EUR");
        add(&mut s, "2026-01-01", "100.00", false);
        add(&mut s, "2026-01-05", "60.00", false);
        add(&mut s, "2026-01-06", "-60.00", false);
        assert_eq!(s.frequency(), 1);
        assert_eq!(s.refunds, 1);
        assert_eq!(s.net_revenue(), dec("100.00"));
        assert_eq!(s.mean_repeat_spend(), Some(dec("60.00")));
        let mut only_refund = OrderSummary::new("EUR");
        add(&mut only_refund, "2026-01-06", "-5.00", false);
        assert_eq!(only_refund.net_revenue(), Decimal::ZERO);
        assert_eq!(only_refund.rfm(TimeUnit::Day, day("2026-02-01")), None);
    }

    #[test]
    fn a_summary_as_of_a_past_day_leaves_the_later_orders_out() {
        let orders = [
            (day("2026-01-17"), dec("10.00")),
            (day("2026-01-10"), dec("50.00")),
            (day("2026-01-17"), dec("30.00")),
            (day("2026-01-20"), dec("-5.00")),
            (day("2026-03-01"), dec("99.00")),
        ];
        let past = summary_as_of("EUR", orders, day("2026-01-31"));
        let mut by_hand = OrderSummary::new("EUR");
        add(&mut by_hand, "2026-01-10", "50.00", false);
        add(&mut by_hand, "2026-01-17", "30.00", false);
        add(&mut by_hand, "2026-01-17", "10.00", true);
        add(&mut by_hand, "2026-01-20", "-5.00", false);
        assert_eq!(past, by_hand);
        assert!(past.holds_as_of(day("2026-01-31")));
        let all = summary_as_of("EUR", orders, day("2026-12-31"));
        assert_eq!((all.frequency(), all.purchases), (2, 4));
        assert!(!all.holds_as_of(day("2026-01-31")));
    }

    #[test]
    fn a_first_purchase_after_the_observation_end_is_left_out() {
        let mut s = OrderSummary::new("EUR");
        add(&mut s, "2026-03-01", "10.00", false);
        assert_eq!(s.rfm(TimeUnit::Day, day("2026-02-01")), None);
    }
}
