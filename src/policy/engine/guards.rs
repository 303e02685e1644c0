//! The guards against abuse (claim frequency, goodwill budget) applied to a proposed
//! gesture, and, when one declines it, what would make it pass: by how much it was
//! exceeded and the date by which it passes on time alone.

use super::Builder;
use crate::domain::customer::CustomerRecord;
use crate::domain::decision::{GuardHit, Reason};
use crate::money::round_cents;
use crate::policy::compiled::{CompiledPolicy, GuardAction, Guards};
use crate::policy::facts::derive_customer;
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

/// What the guards make of a proposed amount: what they allow (zero when declined),
/// whether they decline it, and how each guard acted (`None`: it let the amount pass).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub allowed: Decimal,
    pub declined: bool,
    pub claims: Option<GuardAction>,
    pub share: Option<GuardAction>,
}

impl Verdict {
    /// Whether the guards let all of the amount through.
    pub fn passes(&self, amount: Decimal) -> bool {
        !self.declined && self.allowed >= amount
    }
}

/// The guards' arithmetic, alone: `amount` of a gesture costing `cost_factor` per unit,
/// for a customer with `claims_90d` claims and `left` of the goodwill budget (`None`
/// without the share guard). The engine adds the words (`Builder::guard`); an outcome
/// checked against a changed ledger needs only the numbers (`guard_verdict`).
fn verdict(
    g: &Guards,
    claims_90d: u32,
    left: Option<Decimal>,
    cost_factor: Decimal,
    amount: Decimal,
) -> Verdict {
    let mut v = Verdict {
        allowed: amount,
        declined: false,
        claims: None,
        share: None,
    };
    if let Some((max_claims, action, cap)) = g.claim_frequency {
        if claims_90d.saturating_add(1) > max_claims && amount > Decimal::ZERO {
            match action {
                GuardAction::Decline => v.declined = true,
                GuardAction::Cap => v.allowed = v.allowed.min(cap),
            }
            v.claims = Some(action);
        }
    }
    if let (Some((_, action)), Some(left)) = (g.goodwill_share, left) {
        // `decline` refuses only once the budget is used up (the gesture that crosses it
        // is still granted); `cap` also trims a gesture to what is left.
        let exhausted = left.is_zero();
        let trims = action == GuardAction::Cap && v.allowed * cost_factor > left;
        if exhausted {
            v.declined = true;
            v.share = Some(GuardAction::Decline);
        } else if trims {
            if cost_factor == Decimal::ONE {
                // Most gestures cost what they grant: no decimal division.
                v.allowed = round_cents(left);
            } else if cost_factor > Decimal::ZERO {
                v.allowed = round_cents(left / cost_factor);
            }
            v.share = Some(GuardAction::Cap);
        }
    }
    if v.declined {
        v.allowed = Decimal::ZERO;
    }
    v
}

/// The guards' verdict on granting `amount` of gesture `gesture` (an id; one the policy
/// no longer has costs its face value) to `customer` on `today`, under `policy`. Pure,
/// like the engine: the service uses it to check an outcome again when the customer's
/// goodwill ledger changed after the decision (service/ledger_guard.rs).
pub fn guard_verdict(
    policy: &CompiledPolicy,
    customer: Option<&CustomerRecord>,
    gesture: &str,
    amount: Decimal,
    today: chrono::NaiveDate,
) -> Verdict {
    let f = derive_customer(policy, customer, today);
    let g = &policy.guards;
    let left = g.goodwill_share.map(|(share, _)| {
        let budget = (share * f.revenue_12m).max(g.goodwill_allowance);
        (budget - f.goodwill_12m).max(Decimal::ZERO)
    });
    let cost_factor = policy
        .gestures
        .iter()
        .position(|x| x.id == gesture)
        .map_or(Decimal::ONE, |i| policy.cost_factor(i));
    verdict(g, f.claims_90d, left, cost_factor, amount)
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
        let budget = g.goodwill_share.map(|(share, _)| self.budget(share));
        let cost_factor = match budget {
            Some(_) => self.p.cost_factor(gesture),
            None => Decimal::ONE,
        };
        let v = verdict(
            g,
            f.claims_90d,
            budget.map(|(_, left)| left),
            cost_factor,
            amount,
        );
        // The words only when they are kept: candidates are guarded silently.
        if !record {
            return (v.allowed, v.declined);
        }
        if let (Some(action), Some((max_claims, _, _))) = (v.claims, g.claim_frequency) {
            let this_claim = f.claims_90d.saturating_add(1);
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
        if let (Some(act), Some((share, _)), Some((budget, _))) =
            (v.share, g.goodwill_share, budget)
        {
            let text = self.w.goodwill_share(
                f.goodwill_12m,
                budget,
                &g.goodwill_share_percent,
                f.revenue_12m,
            );
            let passes = if act == GuardAction::Decline {
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
        (v.allowed, v.declined)
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
