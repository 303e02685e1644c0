//! The rest of the answer once the rule and guards have spoken: alternatives and their
//! ranking, the agent's script, the authority, and what the agent can do now
//! (the within-authority option, a nearby segment boundary).

use super::Builder;
use crate::domain::decision::{Authority, RoleLimit, WithinAuthorityOption};
use crate::policy::compiled::{GestureRef, SegmentBasis, Then};
use crate::policy::counterfactual::{near_band, within_authority, Choice};
use crate::policy::ranking::{self, Candidate, Ranked};
use crate::policy::template::Template;
use rust_decimal::Decimal;

/// The smallest amount the rule means for gesture `g` (its formula's `min`), if any.
pub(super) fn formula_min(t: &Then, g: usize) -> Option<Decimal> {
    if t.gesture == Some(g) {
        return t.amount.min;
    }
    t.alternatives
        .iter()
        .find(|(a, _)| *a == g)
        .and_then(|(_, f)| f.min)
}

impl Builder<'_> {
    /// The rule's alternatives that survive the guards with something to offer.
    pub(super) fn alternatives(&mut self, t: &Then, ceiling: Decimal) -> Vec<Candidate> {
        let (p, f, input) = (self.p, self.f, self.input);
        let mut out = Vec::with_capacity(t.alternatives.len());
        for (g, formula) in &t.alternatives {
            if !p.is_monetary(Some(*g)) {
                out.push(Candidate {
                    gesture: *g,
                    proposed: Decimal::ZERO,
                    amount: Decimal::ZERO,
                });
                continue;
            }
            let proposed = crate::money::round_cents(formula.amount(input.claim, f.value_at_risk))
                .min(ceiling);
            let (amount, declined) = self.guard(*g, proposed, false);
            if !declined && amount > Decimal::ZERO {
                out.push(Candidate {
                    gesture: *g,
                    proposed,
                    amount,
                });
            }
        }
        out
    }

    /// Rank the rule's gesture and alternatives when the policy has retention priors.
    /// Only when the rule's own gesture stands (a guard that declines it, or an amount of
    /// zero, keeps the floor and escalation exactly as without ranking).
    pub(super) fn rank(
        &mut self,
        t: &Then,
        gesture: GestureRef,
        proposed: Decimal,
        ceiling: Decimal,
    ) -> Option<Vec<Ranked>> {
        let p = self.p;
        let ret = p.retention.as_ref()?;
        let main = gesture?;
        if t.alternatives.is_empty() {
            return None;
        }
        let amount = if p.is_monetary(gesture) {
            let (amount, declined) = self.guard(main, proposed, false);
            if declined || amount.is_zero() {
                return None;
            }
            amount
        } else {
            Decimal::ZERO
        };
        let mut candidates = vec![Candidate {
            gesture: main,
            proposed,
            amount,
        }];
        candidates.extend(self.alternatives(t, ceiling));
        if candidates.len() < 2 {
            return None;
        }
        ranking::rank(
            p,
            ret,
            self.evidence,
            self.f.segment,
            self.f.value_at_risk,
            &candidates,
        )
    }

    /// The rule's script; else, for a monetary gesture, an offer in plain words; else the floor's.
    pub(super) fn script(
        &self,
        rule_script: Option<&Template>,
        gesture: GestureRef,
        amount: Decimal,
    ) -> String {
        if let Some(t) = rule_script {
            return t.render(|v, out| self.write_var(v, amount, out));
        }
        match gesture.and_then(|g| Some((g, self.p.gestures.get(g)?))) {
            Some((i, g)) if g.monetary && amount > Decimal::ZERO => {
                let label = self.t.gesture_lower(i);
                let mut text = String::with_capacity(80 + label.len());
                self.w.offer(&mut text, label, amount);
                text
            }
            _ => self
                .t
                .floor_script
                .render(|v, out| self.write_var(v, amount, out)),
        }
    }

    pub(super) fn authority(&mut self, amount: Decimal) -> Authority {
        let p = self.p;
        let role = self.input.role;
        let limit = self.limit_of(role);
        let within = amount <= limit;
        let approver = if within {
            None
        } else {
            // INVARIANT: amounts are capped at the top role's limit, so some role covers them.
            (role + 1..p.roles.len())
                .find(|&r| self.limit_of(r) >= amount)
                .or(p.roles.len().checked_sub(1))
        };
        if let Some(a) = approver {
            let mut text = String::with_capacity(96);
            self.w
                .authority(&mut text, amount, self.t.role(role), limit, self.t.role(a));
            self.reason("authority", text);
            // Within 5% above the limit: a small change of amount keeps it in hand.
            if amount * Decimal::new(100, 0) <= limit * Decimal::new(105, 0) {
                let mut text = String::with_capacity(80);
                self.w.near_limit(&mut text, amount, limit);
                self.reason("near-boundary:authority", text);
            }
        }
        let role_limits = (0..p.roles.len())
            .filter_map(|r| {
                Some(RoleLimit {
                    role: p.roles.get(r)?.clone(),
                    limit: self.money(self.limit_of(r)),
                })
            })
            .collect();
        Authority {
            role: p.roles.get(role).cloned().unwrap_or_default(),
            limit: self.money(limit),
            within_authority: within,
            approver_role: approver.and_then(|a| p.roles.get(a).cloned()),
            role_limits,
        }
    }

    /// Above authority: the best option the deciding role may grant itself, as a field
    /// of the answer and as a reason.
    pub(super) fn within_option(
        &mut self,
        options: &[Choice],
        gesture: GestureRef,
        amount: Decimal,
        authority: &Authority,
    ) -> Option<WithinAuthorityOption> {
        let limit = self.limit_of(self.input.role);
        let p = self.p;
        let pick = within_authority(options, limit, |g| p.is_monetary(Some(g)))?;
        let approver = (self.input.role + 1..p.roles.len())
            .find(|&r| p.roles.get(r) == authority.approver_role.as_ref())
            .unwrap_or(self.input.role);
        let mut text = String::with_capacity(120);
        self.w.within_option(
            &mut text,
            (self.t.gesture_lower(pick.gesture), pick.amount),
            (gesture.map_or("", |g| self.t.gesture_lower(g)), amount),
            self.t.role(approver),
        );
        self.reason("within-authority", text.clone());
        Some(WithinAuthorityOption {
            gesture: p.gesture_id(Some(pick.gesture)).to_string(),
            amount: self.money(pick.amount),
            text,
        })
    }

    /// A reason when the value at risk is within 5% below the next segment up.
    pub(super) fn near_band(&mut self) {
        if !self.f.known {
            return;
        }
        let p = self.p;
        // Bands are on the value the policy segments by.
        let value = match p.value.segment_basis {
            SegmentBasis::ValueAtRisk => self.f.value_at_risk,
            SegmentBasis::LifetimeRevenue => self.f.lifetime,
        };
        let Some(next) = near_band(&p.segments, self.f.segment, value) else {
            return;
        };
        let from = p.segments.get(next).map(|s| s.min).unwrap_or_default();
        let band = self.t.segments.get(next).map(String::as_str).unwrap_or("");
        let mut text = String::with_capacity(120);
        self.w.near_band(&mut text, value, band, from);
        self.reason("near-boundary:segment", text);
    }
}
