//! The decision engine: a pure function of (policy, request, customer record, now).
//! No I/O, no clock: the caller passes `now`. Every answer names the rules and guards
//! behind it and says in words what would change it.

use super::compiled::{AttrCond, CompiledPolicy, GestureRef, GuardAction, Rule, Then, When};
use super::facts::{derive, tenure_years, Facts};
use super::ranking::{self, Candidate, Ranked};
use super::retention::{Evidence, NO_EVIDENCE};
use super::template::{Template, Var};
use crate::domain::customer::CustomerRecord;
use crate::domain::decision::*;
use crate::domain::request::{AttrValue, DecisionInput};
use crate::money::{round_cents, Money, MoneyDto};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::cell::Cell;
use std::fmt::Write as _;

/// Evaluate one complaint under `policy`, ranking gestures on the policy's retention
/// priors alone (no recorded outcomes): example cases, checks, backtests.
pub fn evaluate(
    policy: &CompiledPolicy,
    input: &DecisionInput,
    customer: Option<&CustomerRecord>,
    now: DateTime<Utc>,
) -> Evaluation {
    evaluate_with(policy, input, customer, now, &NO_EVIDENCE)
}

/// Evaluate one complaint, ranking gestures on the priors updated with `evidence`.
pub fn evaluate_with(
    policy: &CompiledPolicy,
    input: &DecisionInput,
    customer: Option<&CustomerRecord>,
    now: DateTime<Utc>,
    evidence: &Evidence,
) -> Evaluation {
    let facts = derive(policy, input, customer, now.date_naive());
    let rule = first_match(policy, input, &facts);
    Builder::new(policy, input, &facts, evidence).build(rule)
}

/// First rule, in policy order, whose conditions all hold; only the rules that can match
/// the request's category are scanned.
pub fn first_match<'p>(
    policy: &'p CompiledPolicy,
    input: &DecisionInput,
    facts: &Facts,
) -> Option<&'p Rule> {
    let candidates = policy.by_category.get(input.category)?;
    candidates
        .iter()
        .filter_map(|&i| policy.rules.get(i as usize))
        .find(|r| matches(&r.when, input, facts))
}

fn bit(mask: Option<u8>, i: usize) -> bool {
    mask.is_none_or(|m| m & (1 << i) != 0)
}

fn bit64(mask: Option<u64>, i: usize) -> bool {
    mask.is_none_or(|m| i < 64 && m & (1 << i) != 0)
}

fn matches(w: &When, input: &DecisionInput, f: &Facts) -> bool {
    bit(w.fault, input.fault.index())
        && bit(w.severity, input.severity.index())
        && bit(w.channel, input.channel.index())
        && bit(w.churn, f.churn as usize)
        && bit64(w.segment, f.segment)
        && bit64(w.tier, f.tier)
        && bit64(w.peak_tier, f.peak_tier)
        && w.lapsed.is_none_or(|b| b == f.lapsed)
        && w.detractor.is_none_or(|b| b == f.detractor)
        && w.known.is_none_or(|b| b == f.known)
        && w.claim_min.is_none_or(|m| input.claim >= m)
        && w.claim_max.is_none_or(|m| input.claim <= m)
        && w.attributes
            .iter()
            .all(|(name, c)| attr_matches(c, input.attributes.get(name)))
}

fn attr_matches(c: &AttrCond, v: Option<&AttrValue>) -> bool {
    if let Some(p) = c.present {
        if p != v.is_some() {
            return false;
        }
    }
    let has_value_test =
        c.equals.is_some() || !c.one_of.is_empty() || c.min.is_some() || c.max.is_some();
    if !has_value_test {
        return true;
    }
    let Some(v) = v else { return false };
    let num = match v {
        AttrValue::Number(n) => Some(*n),
        _ => None,
    };
    c.equals.as_ref().is_none_or(|e| e == v)
        && (c.one_of.is_empty() || c.one_of.contains(v))
        && c.min.is_none_or(|m| num.is_some_and(|n| n >= m))
        && c.max.is_none_or(|m| num.is_some_and(|n| n <= m))
}

/// Assembles the answer step by step: rule, guards, ceiling, floor, authority.
struct Builder<'a> {
    p: &'a CompiledPolicy,
    input: &'a DecisionInput,
    f: &'a Facts,
    evidence: &'a Evidence,
    reasons: Vec<Reason>,
    guards: Vec<GuardHit>,
    /// Each role's limit for this customer, once computed: the ceiling, the authority and
    /// the approver search ask for the same few limits.
    limits: [Cell<Option<Decimal>>; 8],
    /// The goodwill budget and what is left of it, once computed: every candidate
    /// gesture goes through the guards.
    budget: Cell<Option<(Decimal, Decimal)>>,
}

impl<'a> Builder<'a> {
    fn new(
        p: &'a CompiledPolicy,
        input: &'a DecisionInput,
        f: &'a Facts,
        evidence: &'a Evidence,
    ) -> Self {
        Builder {
            p,
            input,
            f,
            evidence,
            reasons: Vec::new(),
            guards: Vec::new(),
            limits: Default::default(),
            budget: Cell::new(None),
        }
    }

    fn money(&self, amount: Decimal) -> Money {
        Money::new(amount, self.p.currency)
    }

    fn show(&self, amount: Decimal) -> String {
        self.money(amount).display()
    }

    fn push_show(&self, out: &mut String, amount: Decimal) {
        self.money(amount).write_display(out);
    }

    fn reason(&mut self, rule: &str, text: String) {
        self.reasons.push(Reason {
            rule: rule.to_string(),
            text,
        });
    }

    /// Append a placeholder's text, for `amount`, to `out` (templates and reasons are
    /// written into one buffer each, never a string per placeholder).
    fn write_var(&self, v: Var, amount: Decimal, out: &mut String) {
        let (p, f) = (self.p, self.f);
        let name = |list: &'a [String], i: usize| list.get(i).map(String::as_str).unwrap_or("");
        // `write!` into a `String` cannot fail.
        match v {
            Var::ValueAtRisk => self.push_show(out, f.value_at_risk),
            Var::LifetimeRevenue => self.push_show(out, f.lifetime),
            Var::Claim => self.push_show(out, self.input.claim),
            Var::Amount => self.push_show(out, amount),
            Var::Segment => out.push_str(self.segment_id()),
            Var::Tier => out.push_str(name(&p.tiers, f.current_tier)),
            Var::PeakTier => out.push_str(name(&p.tiers, f.peak_tier)),
            Var::Orders => match f.orders {
                Some(o) => {
                    let _ = write!(out, "{o}");
                }
                None => out.push_str("unknown"),
            },
            Var::Referrals => {
                let _ = write!(out, "{}", f.referrals);
            }
            Var::Years => {
                let _ = write!(
                    out,
                    "{}",
                    tenure_years(f.tenure_days).round_dp(1).normalize()
                );
            }
            Var::Category => out.push_str(name(&p.categories, self.input.category)),
            Var::GoodwillGiven => self.push_show(out, f.goodwill_12m),
            Var::Claims90d => {
                let _ = write!(out, "{}", f.claims_90d);
            }
        }
    }

    fn segment_id(&self) -> &str {
        self.p
            .segments
            .get(self.f.segment)
            .map(|s| s.id.as_str())
            .unwrap_or("")
    }

    /// The most any role may grant this customer: the top role's limit.
    fn ceiling(&self) -> Decimal {
        self.limit_of(self.p.roles.len().saturating_sub(1))
    }

    /// A role's limit for this customer, in cents: the number shown is the number used.
    fn limit_of(&self, role: usize) -> Decimal {
        let cached = self.limits.get(role);
        if let Some(limit) = cached.and_then(Cell::get) {
            return limit;
        }
        let limit = self
            .p
            .authority
            .get(role)
            .map(|l| round_cents(l.at(self.f.value_at_risk)))
            .unwrap_or_default();
        if let Some(c) = cached {
            c.set(Some(limit));
        }
        limit
    }

    /// The goodwill budget for this customer, `share` of their yearly revenue but at least
    /// the allowance, and what is left of it after the last 12 months' goodwill.
    fn budget(&self, share: Decimal) -> (Decimal, Decimal) {
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
    fn guard(&mut self, gesture: usize, amount: Decimal, record: bool) -> (Decimal, bool) {
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
                    let text = format!(
                        "this is claim {this_claim} in 90 days; the policy allows {max_claims} before goodwill is limited"
                    );
                    self.hit("claim_frequency", action, text);
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
                    // "goodwill of €X in the last 12 months against a budget of €Y (Z% of
                    // €W yearly revenue)", assembled in one buffer.
                    let mut text = String::with_capacity(128);
                    text.push_str("goodwill of ");
                    self.push_show(&mut text, f.goodwill_12m);
                    text.push_str(" in the last 12 months against a budget of ");
                    self.push_show(&mut text, budget);
                    let _ = write!(
                        text,
                        " ({}% of ",
                        (share * Decimal::ONE_HUNDRED).normalize()
                    );
                    self.push_show(&mut text, f.revenue_12m);
                    text.push_str(" yearly revenue)");
                    let act = if exhausted {
                        GuardAction::Decline
                    } else {
                        GuardAction::Cap
                    };
                    self.hit("goodwill_share", act, text);
                }
            }
        }
        if declined {
            (Decimal::ZERO, true)
        } else {
            (allowed, false)
        }
    }

    fn hit(&mut self, guard: &str, action: GuardAction, text: String) {
        let action = match action {
            GuardAction::Cap => "capped",
            GuardAction::Decline => "declined",
        };
        let mut rule = String::with_capacity(6 + guard.len());
        rule.push_str("guard:");
        rule.push_str(guard);
        let mut reason = String::with_capacity(guard.len() + 32 + text.len());
        for part in [guard, " guard ", action, " the gesture: ", &text] {
            reason.push_str(part);
        }
        self.reasons.push(Reason { rule, text: reason });
        self.guards.push(GuardHit {
            guard: guard.to_string(),
            action: action.to_string(),
            text,
        });
    }

    fn build(mut self, rule: Option<&'a Rule>) -> Evaluation {
        let (p, f, input) = (self.p, self.f, self.input);
        let ceiling = self.ceiling();
        let mut gesture: GestureRef = p.floor.gesture;
        let mut amount = Decimal::ZERO;
        let mut hours = p.floor.hours[input.severity.index()];
        let mut script: Option<&Template> = None;
        let mut callback = None;
        let mut escalation = None;
        let mut alternatives = Vec::new();
        let mut floor_applied = true;
        let mut matched = Vec::new();
        let mut ranking_out = None;

        if f.lapsed {
            // "former {peak} member (now {tier}): recognised at {peak} for this decision"
            let mut text = String::with_capacity(80);
            text.push_str("former ");
            self.write_var(Var::PeakTier, amount, &mut text);
            text.push_str(" member (now ");
            self.write_var(Var::Tier, amount, &mut text);
            text.push_str("): recognised at ");
            self.write_var(Var::PeakTier, amount, &mut text);
            text.push_str(" for this decision");
            self.reason("lapsed-tier", text);
        }
        if f.currency_mismatch {
            self.reason(
                "currency",
                format!(
                    "the customer's record is not in {}, so their value was not used",
                    p.currency
                ),
            );
        }

        if let Some(r) = rule {
            matched.push(r.id.clone());
            let t = &r.then;
            gesture = t.gesture;
            hours = hours.min(t.hours.unwrap_or(hours));
            script = t.script.as_ref();
            callback = t.callback.as_ref().map(|c| Callback {
                priority: c.priority,
                within_hours: c.within_hours,
            });
            let mut proposed = if p.is_monetary(gesture) {
                round_cents(t.amount.amount(input.claim, f.value_at_risk))
            } else {
                Decimal::ZERO
            };
            if proposed > ceiling {
                self.reason(
                    "authority-ceiling",
                    format!(
                        "capped at {}, the most any role may grant this customer",
                        self.show(ceiling)
                    ),
                );
                proposed = ceiling;
            }
            let text = t.reason.render(|v, out| self.write_var(v, proposed, out));
            let rule_reason = self.reasons.len();
            self.reason(&r.id, text);
            let ranked = self.rank(t, gesture, proposed, ceiling);
            if let Some(top) = ranked.as_ref().and_then(|r| r.first()) {
                if Some(top.candidate.gesture) != gesture {
                    // The rule's own script offers its own gesture; the plain offer fits.
                    gesture = Some(top.candidate.gesture);
                    proposed = top.candidate.proposed;
                    script = None;
                }
            }
            if let (Some(ret), Some(r)) = (&p.retention, &ranked) {
                let text = ranking::reason(p, ret, self.segment_id(), f.value_at_risk, r);
                self.reason("ranking", text);
                ranking_out = Some(ranking::output(p, ret, r));
            }
            if let Some(g) = gesture.filter(|_| proposed > Decimal::ZERO) {
                let (allowed, declined) = self.guard(g, proposed, true);
                if declined {
                    // The rule's reason describes what it would grant; say that it is not.
                    if let Some(reason) = self.reasons.get_mut(rule_reason) {
                        reason.text.push_str(" (not granted: a guard declined it)");
                    }
                    let to = p
                        .roles
                        .get(p.guards.escalate_to)
                        .cloned()
                        .unwrap_or_default();
                    escalation = Some(Escalation {
                        text: format!("if the customer disagrees, a {to} can review the case"),
                        to_role: to,
                    });
                }
                amount = allowed;
            }
            // The rule's gesture first (unless ranking moved it), then the other options.
            let others = match &ranked {
                Some(r) => r.iter().skip(1).map(|r| r.candidate).collect(),
                None => self.alternatives(t, ceiling),
            };
            for c in others {
                alternatives.push(Alternative {
                    gesture: p.gesture_id(Some(c.gesture)).to_string(),
                    amount: self.money(c.amount).into(),
                });
            }
            floor_applied = gesture.is_some() && p.is_monetary(gesture) && amount.is_zero();
            if floor_applied {
                gesture = p.floor.gesture;
                script = None;
            }
        }
        if floor_applied {
            let text = p
                .floor
                .reason
                .render(|v, out| self.write_var(v, Decimal::ZERO, out));
            self.reason("floor", text);
        }

        let agent_script = self.script(script, gesture, amount);
        let authority = self.authority(amount);
        Evaluation {
            policy: PolicyRef {
                id: p.id.clone(),
                version: p.version.clone(),
                digest: p.digest.clone(),
            },
            customer: CustomerView {
                known: f.known,
                segment: self.segment_id().to_string(),
                value_at_risk: self.money(f.value_at_risk).into(),
                recognized_tier: f.known.then(|| p.tiers.get(f.tier).cloned()).flatten(),
            },
            recommendation: Recommendation {
                gesture: p.gesture_id(gesture).to_string(),
                amount: self.money(amount).into(),
                respond_within_hours: hours,
                agent_script,
                alternatives,
                floor_applied,
                callback,
                escalation,
                ranking: ranking_out,
            },
            authority,
            reasons: self.reasons,
            guards: self.guards,
            signals: Signals {
                churn_risk: f.churn.as_str().to_string(),
                detractor: f.detractor,
                lapsed_tier: f.lapsed,
            },
            matched_rules: matched,
        }
    }

    /// The rule's alternatives that survive the guards with something to offer.
    fn alternatives(&mut self, t: &Then, ceiling: Decimal) -> Vec<Candidate> {
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
            let proposed = round_cents(formula.amount(input.claim, f.value_at_risk)).min(ceiling);
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
    fn rank(
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
    fn script(
        &self,
        rule_script: Option<&Template>,
        gesture: GestureRef,
        amount: Decimal,
    ) -> String {
        if let Some(t) = rule_script {
            return t.render(|v, out| self.write_var(v, amount, out));
        }
        match gesture.and_then(|g| self.p.gestures.get(g)) {
            Some(g) if g.monetary && amount > Decimal::ZERO => {
                const OPENING: &str =
                    "I am sorry about this. As a gesture of goodwill I can offer you a ";
                let mut text = String::with_capacity(OPENING.len() + g.label_lower.len() + 24);
                text.push_str(OPENING);
                text.push_str(&g.label_lower);
                text.push_str(" of ");
                self.push_show(&mut text, amount);
                text.push('.');
                text
            }
            _ => self
                .p
                .floor
                .script
                .render(|v, out| self.write_var(v, amount, out)),
        }
    }

    fn authority(&mut self, amount: Decimal) -> Authority {
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
                .and_then(|r| p.roles.get(r).cloned())
        };
        if let Some(a) = &approver {
            // "{amount} is above the {role} limit of {limit} for this customer; a {a} can
            // approve it", in one buffer.
            let mut text = String::with_capacity(96);
            self.push_show(&mut text, amount);
            text.push_str(" is above the ");
            text.push_str(p.roles.get(role).map(String::as_str).unwrap_or(""));
            text.push_str(" limit of ");
            self.push_show(&mut text, limit);
            text.push_str(" for this customer; a ");
            text.push_str(a);
            text.push_str(" can approve it");
            self.reason("authority", text);
        }
        let role_limits = (0..p.roles.len())
            .filter_map(|r| {
                Some(RoleLimit {
                    role: p.roles.get(r)?.clone(),
                    limit: MoneyDto::from(self.money(self.limit_of(r))),
                })
            })
            .collect();
        Authority {
            role: p.roles.get(role).cloned().unwrap_or_default(),
            limit: MoneyDto::from(self.money(limit)),
            within_authority: within,
            approver_role: approver,
            role_limits,
        }
    }
}
