//! The guards against abuse (claim frequency, goodwill budget) applied to a proposed
//! gesture, and, when one declines it, what would make it pass: by how much it was
//! exceeded and the date by which it passes on time alone.

use super::Builder;
use crate::domain::decision::{GuardHit, Reason};
use crate::money::round_cents;
use crate::policy::compiled::GuardAction;
use crate::policy::phrases::iso_date;
use chrono::Days;
use rust_decimal::Decimal;

/// A declining guard's counterfactual: how far over, and when it passes.
struct Passes {
    claims_over: Option<u32>,
    money_over: Option<Decimal>,
    by: chrono::NaiveDate,
    text: String,
}

impl Passes {
    /// For a guard that only capped: nothing to pass (not shown).
    fn none(today: chrono::NaiveDate) -> Passes {
        Passes {
            claims_over: None,
            money_over: None,
            by: today,
            text: String::new(),
        }
    }
}

/// `round_cents(given / share)`: the yearly revenue whose `share` is `given`. One exact
/// integer division (given × 10^scale ÷ the share's mantissa) instead of a 28-digit
/// decimal one; the decimal path when the numbers do not fit.
fn revenue_covering(given: Decimal, share: Decimal) -> Decimal {
    10i128
        .checked_pow(share.scale())
        .and_then(|p| given.mantissa().checked_mul(p))
        .and_then(|m| Decimal::try_from_i128_with_scale(m, given.scale()).ok())
        .and_then(|n| crate::money::ratio_cents(n, share.mantissa()))
        .unwrap_or_else(|| round_cents(given / share))
}

impl Builder<'_> {
    /// The goodwill budget for this customer, `share` of their yearly revenue but at least
    /// the allowance, and what is left of it after the last 12 months' goodwill.
    pub(super) fn budget(&self, share: Decimal) -> (Decimal, Decimal) {
        if let Some(b) = self.budget.get() {
            return b;
        }
        let f = self.f;
        let budget = (share * f.revenue_12m).max(self.p.guards.goodwill_allowance);
        let left = (budget - f.goodwill_12m).max(Decimal::ZERO);
        self.budget.set(Some((budget, left)));
        (budget, left)
    }

    /// Apply the guards to a proposed (gesture, amount); returns the allowed amount and
    /// whether the gesture was declined outright. Records hits only when `record`.
    pub(super) fn guard(
        &mut self,
        gesture: usize,
        amount: Decimal,
        record: bool,
    ) -> (Decimal, bool) {
        let (f, g) = (self.f, &self.p.guards);
        let mut allowed = amount;
        let mut declined = false;
        if let Some((max_claims, action, cap)) = g.claim_frequency {
            let this_claim = f.claims_90d.saturating_add(1);
            if this_claim > max_claims && amount > Decimal::ZERO {
                match action {
                    GuardAction::Decline => declined = true,
                    GuardAction::Cap => allowed = allowed.min(cap),
                }
                // The words only when they are kept: candidates are guarded silently.
                if record {
                    let text = self.w.claim_frequency(this_claim, max_claims);
                    let passes = if action == GuardAction::Decline {
                        let over = this_claim - max_claims;
                        // Every claim counted now is at most 90 days old: by then all have aged out.
                        let by = self
                            .today
                            .checked_add_days(Days::new(90))
                            .unwrap_or(self.today);
                        Passes {
                            claims_over: Some(over),
                            money_over: None,
                            by,
                            text: self.w.claims_pass(over, max_claims, by),
                        }
                    } else {
                        Passes::none(self.today)
                    };
                    self.hit("claim_frequency", action, text, passes);
                }
            }
        }
        if let Some((share, action)) = g.goodwill_share {
            let (budget, left) = self.budget(share);
            let cost_factor = self.p.cost_factor(gesture);
            // `decline` refuses only once the budget is used up (the gesture that crosses it
            // is still granted); `cap` also trims a gesture to what is left.
            let exhausted = left.is_zero();
            let trims = action == GuardAction::Cap && allowed * cost_factor > left;
            if exhausted || trims {
                if exhausted {
                    declined = true;
                } else if cost_factor == Decimal::ONE {
                    // Most gestures cost what they grant: no decimal division.
                    allowed = round_cents(left);
                } else if cost_factor > Decimal::ZERO {
                    allowed = round_cents(left / cost_factor);
                }
                if record {
                    let text = self.w.goodwill_share(
                        f.goodwill_12m,
                        budget,
                        &g.goodwill_share_percent,
                        f.revenue_12m,
                    );
                    let act = if exhausted {
                        GuardAction::Decline
                    } else {
                        GuardAction::Cap
                    };
                    let passes = if exhausted {
                        let over = round_cents((f.goodwill_12m - budget).max(Decimal::ZERO));
                        // Goodwill counted now was given within 12 months: by then it has aged out.
                        let by = self
                            .today
                            .checked_add_days(Days::new(365))
                            .unwrap_or(self.today);
                        // The yearly revenue whose share would cover what was given, plus a cent.
                        let revenue_needed = (share > Decimal::ZERO)
                            .then(|| revenue_covering(f.goodwill_12m, share) + Decimal::new(1, 2));
                        Passes {
                            claims_over: None,
                            money_over: Some(over),
                            by,
                            text: self.w.budget_pass(over, by, revenue_needed),
                        }
                    } else {
                        Passes::none(self.today)
                    };
                    self.hit("goodwill_share", act, text, passes);
                }
            }
        }
        if declined {
            (Decimal::ZERO, true)
        } else {
            (allowed, false)
        }
    }

    fn hit(&mut self, guard: &str, action: GuardAction, text: String, passes: Passes) {
        let declined = action == GuardAction::Decline;
        let mut rule = String::with_capacity(6 + guard.len());
        rule.push_str("guard:");
        rule.push_str(guard);
        let reason = self.w.guard_hit(guard, declined, &text);
        self.reasons.push(Reason::new(rule, reason, None));
        // What would make it pass matters to the agent only when the gesture is refused.
        if declined {
            let mut rule = String::with_capacity(13 + guard.len());
            rule.push_str("guard-passes:");
            rule.push_str(guard);
            self.reasons
                .push(Reason::new(rule, passes.text.clone(), None));
        }
        self.guards.push(GuardHit {
            guard: guard.to_string(),
            action: if declined { "declined" } else { "capped" }.to_string(),
            text,
            exceeded_by_claims: passes.claims_over.filter(|_| declined),
            exceeded_by: passes
                .money_over
                .filter(|_| declined)
                .map(|m| self.money(m)),
            passes_by: declined.then(|| iso_date(passes.by)),
            passes_when: declined.then_some(passes.text),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revenue_covering_a_share_is_the_decimal_quotient_rounded() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        for share in ["0.05", "0.1", "0.025", "0.3", "1", "0.07", "0.333"] {
            for given in ["0", "0.01", "35.00", "120.5", "999999.99", "12345678.91"] {
                let (g, s) = (d(given), d(share));
                assert_eq!(
                    revenue_covering(g, s),
                    round_cents(g / s),
                    "{given} / {share}"
                );
            }
        }
    }
}
