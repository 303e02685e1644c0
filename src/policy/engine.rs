//! The decision engine: a pure function of (policy, request, customer record, now).
//! No I/O, no clock: the caller passes `now`. Every answer names the rules and guards
//! behind it and says in words what would change it.

use super::compiled::Then;
use super::compiled::{CompiledPolicy, GestureRef, Rule};
use super::counterfactual::Choice;
use super::facts::{derive, Facts};
use super::phrases::{push_number, push_years, Words};
use super::ranking::{self, Candidate};
use super::retention::{Evidence, NO_EVIDENCE};
use super::template::{Template, Var};
use super::texts::LocaleTexts;
use crate::domain::customer::CustomerRecord;
use crate::domain::decision::*;
use crate::domain::locale::Lang;
use crate::domain::request::DecisionInput;
use crate::money::{round_cents, Money};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::cell::Cell;

mod answer;
mod guards;
mod matching;

pub use guards::{guard_verdict, Verdict};

pub use matching::first_match;
use matching::first_match_at;

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
    let rule = first_match_at(policy, input, &facts);
    // INVARIANT: a compiled policy has at least its default locale's texts.
    let Some(texts) = policy.texts(input.locale.as_deref()) else {
        return Builder::new(
            policy,
            &EMPTY_TEXTS,
            input,
            &facts,
            evidence,
            now.date_naive(),
        )
        .build(rule);
    };
    Builder::new(policy, texts, input, &facts, evidence, now.date_naive()).build(rule)
}

/// Stands in for a policy without texts, which `compile` never produces.
static EMPTY_TEXTS: LocaleTexts = LocaleTexts {
    tag: String::new(),
    lang: Lang::En,
    gestures: Vec::new(),
    segments: Vec::new(),
    roles: Vec::new(),
    floor_script: Template::EMPTY,
    floor_reason: Template::EMPTY,
    rules: Vec::new(),
};

/// Assembles the answer step by step: rule, guards, ceiling, floor, authority.
struct Builder<'a> {
    p: &'a CompiledPolicy,
    /// The texts of the locale the answer is in.
    t: &'a LocaleTexts,
    w: Words,
    input: &'a DecisionInput,
    f: &'a Facts,
    evidence: &'a Evidence,
    today: NaiveDate,
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
        t: &'a LocaleTexts,
        input: &'a DecisionInput,
        f: &'a Facts,
        evidence: &'a Evidence,
        today: NaiveDate,
    ) -> Self {
        Builder {
            p,
            t,
            w: Words {
                lang: t.lang,
                currency: p.currency,
            },
            input,
            f,
            evidence,
            today,
            // Most answers give three to six reasons: one allocation, no regrowth.
            reasons: Vec::with_capacity(8),
            guards: Vec::new(),
            limits: Default::default(),
            budget: Cell::new(None),
        }
    }

    /// An amount of the answer, in cents: the typed value is the one the wire shows.
    fn money(&self, amount: Decimal) -> Money {
        Money::new(round_cents(amount), self.p.currency)
    }

    fn push_show(&self, out: &mut String, amount: Decimal) {
        self.w.money(out, amount);
    }

    fn reason(&mut self, rule: &str, text: String) {
        self.reasons.push(Reason::new(rule, text, None));
    }

    /// Append a placeholder's text, for `amount`, to `out` (templates and reasons are
    /// written into one buffer each, never a string per placeholder).
    fn write_var(&self, v: Var, amount: Decimal, out: &mut String) {
        let (p, f) = (self.p, self.f);
        let name = |list: &'a [String], i: usize| list.get(i).map(String::as_str).unwrap_or("");
        match v {
            Var::ValueAtRisk => self.push_show(out, f.value_at_risk),
            Var::LifetimeRevenue => self.push_show(out, f.lifetime),
            Var::Claim => self.push_show(out, self.input.claim),
            Var::Amount => self.push_show(out, amount),
            Var::Segment => out.push_str(name(&self.t.segments, f.segment)),
            Var::Tier => out.push_str(name(&p.tiers, f.current_tier)),
            Var::PeakTier => out.push_str(name(&p.tiers, f.peak_tier)),
            Var::Orders => match f.orders {
                Some(o) => push_number(out, o),
                None => out.push_str(match self.t.lang {
                    Lang::En => "unknown",
                    Lang::De => "unbekannt",
                }),
            },
            Var::Referrals => push_number(out, f.referrals),
            // A decimal comma in German (`7,7 Jahre`).
            Var::Years => push_years(out, f.tenure_days, self.t.lang),
            Var::Category => out.push_str(name(&p.categories, self.input.category)),
            Var::GoodwillGiven => self.push_show(out, f.goodwill_12m),
            Var::Claims90d => push_number(out, f.claims_90d),
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

    fn build(mut self, rule: Option<(usize, &'a Rule)>) -> Evaluation {
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
        // The rule and its other options after the guards, for the within-authority
        // option; turned into choices only when the answer is above authority.
        let mut offered: Option<(&Then, Vec<Candidate>)> = None;

        if f.lapsed {
            let mut text = String::with_capacity(80);
            let name = |i: usize| p.tiers.get(i).map(String::as_str).unwrap_or("");
            self.w
                .lapsed(&mut text, name(f.peak_tier), name(f.current_tier));
            self.reason("lapsed-tier", text);
        }
        if f.currency_mismatch {
            let mut text = String::with_capacity(80);
            self.w.currency_mismatch(&mut text);
            self.reason("currency", text);
        }

        if let Some((ri, r)) = rule {
            matched.push(r.id.clone());
            let t = &r.then;
            let texts = self.t.rules.get(ri);
            gesture = t.gesture;
            hours = hours.min(t.hours.unwrap_or(hours));
            script = texts.and_then(|x| x.script.as_ref());
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
                let mut text = String::with_capacity(80);
                self.w.ceiling(&mut text, ceiling);
                self.reason("authority-ceiling", text);
                proposed = ceiling;
            }
            let rule_reason = self.reasons.len();
            if let Some(x) = texts {
                let text = x.reason.render(|v, out| self.write_var(v, proposed, out));
                let detail = x
                    .detail
                    .as_ref()
                    .map(|d| d.render(|v, out| self.write_var(v, proposed, out)));
                self.reasons.push(Reason::new(r.id.as_str(), text, detail));
            }
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
                let (text, detail) =
                    ranking::reason(self.t, self.w, ret, f.value_at_risk, f.segment, r);
                self.reasons
                    .push(Reason::new("ranking", text, Some(detail)));
                ranking_out = Some(ranking::output(p, ret, r));
            }
            if let Some(g) = gesture.filter(|_| proposed > Decimal::ZERO) {
                let (allowed, declined) = self.guard(g, proposed, true);
                if declined {
                    // The rule's reason describes what it would grant; say that it is not.
                    if let Some(reason) = self.reasons.get_mut(rule_reason) {
                        let r = std::mem::take(reason);
                        let mut text = r.text;
                        text.push_str(self.w.not_granted());
                        *reason = Reason::new(r.rule, text, r.detail);
                    }
                    let to = p.guards.escalate_to;
                    escalation = Some(Escalation {
                        text: self.w.escalation(self.t.role(to)),
                        to_role: p.roles.get(to).cloned().unwrap_or_default(),
                    });
                }
                amount = allowed;
            }
            // The rule's gesture first (unless ranking moved it), then the other options.
            let others = match &ranked {
                Some(r) => r.iter().skip(1).map(|r| r.candidate).collect(),
                None => self.alternatives(t, ceiling),
            };
            for c in &others {
                alternatives.push(Alternative {
                    gesture: p.gesture_id(Some(c.gesture)).to_string(),
                    amount: self.money(c.amount),
                });
            }
            floor_applied = gesture.is_some() && p.is_monetary(gesture) && amount.is_zero();
            if floor_applied {
                gesture = p.floor.gesture;
                script = None;
            } else {
                offered = Some((t, others));
            }
        }
        if floor_applied {
            let text = self
                .t
                .floor_reason
                .render(|v, out| self.write_var(v, Decimal::ZERO, out));
            self.reason("floor", text);
        }
        if !f.known {
            let mut text = String::with_capacity(96);
            self.w.unknown_customer(&mut text);
            self.reason("unknown-customer", text);
        }
        self.near_band();

        let agent_script = self.script(script, gesture, amount);
        let authority = self.authority(amount);
        let within_authority_option = match (&offered, gesture) {
            (Some((t, others)), Some(g)) if !authority.within_authority => {
                // The recommended gesture first, then the others in the answer's order.
                let first = std::iter::once((g, amount));
                let rest = others.iter().map(|c| (c.gesture, c.amount));
                let options: Vec<Choice> = first
                    .chain(rest)
                    .map(|(g, amount)| Choice {
                        gesture: g,
                        amount,
                        min: answer::formula_min(t, g),
                    })
                    .collect();
                self.within_option(&options, gesture, amount, &authority)
            }
            _ => None,
        };
        Evaluation {
            policy: PolicyRef {
                id: p.id.clone(),
                version: p.version.clone(),
                digest: p.digest.clone(),
            },
            locale: self.t.tag.clone(),
            market: p.market.as_str().to_string(),
            customer: CustomerView {
                known: f.known,
                segment: self.segment_id().to_string(),
                value_at_risk: self.money(f.value_at_risk),
                recognized_tier: f.known.then(|| p.tiers.get(f.tier).cloned()).flatten(),
            },
            recommendation: Recommendation {
                gesture: p.gesture_id(gesture).to_string(),
                amount: self.money(amount),
                respond_within_hours: hours,
                agent_script,
                alternatives,
                floor_applied,
                callback,
                escalation,
                ranking: ranking_out,
                within_authority_option,
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
}
