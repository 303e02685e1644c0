//! Property tests on the pure engine with the shipped policy: invariants that must hold
//! for every request and customer, not just the seed scenarios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, TimeZone, Utc};
use kulanz::domain::complaint::{Channel, Fault, Severity};
use kulanz::domain::customer::CustomerRecord;
use kulanz::domain::decision::Evaluation;
use kulanz::domain::request::{AttrValue, DecisionInput};
use kulanz::policy::engine::guard_verdict;
use kulanz::policy::retention::Evidence;
use kulanz::policy::{evaluate, evaluate_with, load, CompiledPolicy};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn policy() -> &'static CompiledPolicy {
    static P: OnceLock<CompiledPolicy> = OnceLock::new();
    P.get_or_init(|| load::from_slice(load::DEFAULT_POLICY.as_bytes()).unwrap())
}

fn money(cents: u64) -> Decimal {
    Decimal::new(cents as i64, 2)
}

fn amount(m: &kulanz::money::Money) -> Decimal {
    m.amount
}

prop_compose! {
    fn input()(
        category in 0usize..10, role in 0usize..4, sev in 0usize..4, ch in 0usize..6, fault in 0usize..4,
        claim in 0u64..400_000, unanswered in prop::option::of(0u32..5),
    ) -> DecisionInput {
        let mut attributes = BTreeMap::new();
        if let Some(n) = unanswered {
            attributes.insert("unanswered_contacts".to_string(), AttrValue::Number(f64::from(n)));
        }
        DecisionInput {
            ticket_id: "T".into(), customer_id: "c".into(), agent_id: "a".into(),
            role, category,
            severity: Severity::ALL[sev], channel: Channel::ALL[ch], fault: Fault::ALL[fault],
            claim: money(claim), attributes, locale: None,
        }
    }
}

prop_compose! {
    fn customer()(
        lifetime in 0u64..5_000_000, predicted in prop::option::of(0u64..5_000_000),
        first_days in prop::option::of(0i64..5000), tier in 0usize..5, peak_extra in 0usize..3,
        referrals in 0u32..10, nps in prop::option::of(0u8..=10),
        goodwill in 0u64..100_000, claims in 0u32..8, revenue_12m in prop::option::of(0u64..1_000_000),
    ) -> CustomerRecord {
        let tiers = ["none", "bronze", "silver", "gold", "platinum"];
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        CustomerRecord {
            currency: "EUR".parse().unwrap(),
            lifetime_revenue: money(lifetime),
            orders: Some(3),
            first_order_at: first_days.map(|d| today - chrono::Duration::days(d)),
            last_order_at: None,
            predicted_value: predicted.map(money),
            revenue_12m: revenue_12m.map(money),
            tier: Some(tiers[tier].to_string()),
            peak_tier: Some(tiers[(tier + peak_extra).min(4)].to_string()),
            referrals,
            nps: nps.map(|s| (s, today)),
            goodwill_12m: money(goodwill),
            claims_90d: claims,
        }
    }
}

fn decide(input: &DecisionInput, c: Option<&CustomerRecord>) -> Evaluation {
    evaluate(
        policy(),
        input,
        c,
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
    )
}

/// `b` gives the customer at least what `a` does: the same gesture by amount, different
/// gestures by cost to the company (the policy ranks gestures by expected value, which can
/// pick a €100 refund over a €150 voucher for a more valuable customer).
fn no_less(a: &Evaluation, b: &Evaluation) -> bool {
    let (ra, rb) = (&a.recommendation, &b.recommendation);
    !policy().gives_less(
        (&ra.gesture, amount(&ra.amount)),
        (&rb.gesture, amount(&rb.amount)),
    )
}

fn all_money(e: &Evaluation) -> Vec<&kulanz::money::Money> {
    let mut v = vec![
        &e.recommendation.amount,
        &e.authority.limit,
        &e.customer.value_at_risk,
    ];
    v.extend(e.recommendation.alternatives.iter().map(|a| &a.amount));
    v
}

/// The gestures rule `id` allows: its own and its alternatives'.
fn rule_gestures(id: &str) -> Vec<String> {
    let doc = &policy().doc;
    let Some(r) = doc.rules.iter().find(|r| r.id == id) else {
        return Vec::new();
    };
    let mut out = vec![r.then.gesture.clone()];
    out.extend(r.then.alternatives.iter().map(|a| a.gesture.clone()));
    out
}

/// The smallest amount rule `id` means for `gesture` (its formula's `min`), if any.
fn rule_min(id: &str, gesture: &str) -> Option<Decimal> {
    let r = policy().doc.rules.iter().find(|r| r.id == id)?;
    let formula = if r.then.gesture == gesture {
        r.then.amount.as_ref()
    } else {
        r.then
            .alternatives
            .iter()
            .find(|a| a.gesture == gesture)
            .and_then(|a| a.amount.as_ref())
    };
    formula
        .and_then(|f| f.min.as_deref())
        .map(|m| m.parse().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_within_authority_option_is_within_the_limit_above_the_floor_and_allowed_by_the_rule(
        input in input(), c in prop::option::of(customer()), de in any::<bool>(),
    ) {
        let mut input = input;
        input.locale = de.then(|| "de-DE".to_string());
        let e = decide(&input, c.as_ref());
        let Some(o) = &e.recommendation.within_authority_option else {
            // Only above authority, and then only when the rule allows something that fits.
            return Ok(());
        };
        prop_assert!(!e.authority.within_authority);
        let limit = amount(&e.authority.limit);
        let a = amount(&o.amount);
        prop_assert!(a <= limit, "{a} above the limit {limit}");
        // The floor grants nothing in money: the option always gives something.
        prop_assert!(a > Decimal::ZERO);
        prop_assert!(!e.recommendation.floor_applied);
        let rule = e.matched_rules.first().cloned().unwrap_or_default();
        prop_assert!(rule_gestures(&rule).contains(&o.gesture), "{} not allowed by {rule}", o.gesture);
        if let Some(min) = rule_min(&rule, &o.gesture) {
            prop_assert!(a >= min, "{a} below the rule's minimum {min}");
        }
        prop_assert_eq!(&o.amount.currency, &e.authority.limit.currency);
        prop_assert!(!o.text.is_empty());
    }

    #[test]
    fn every_reason_is_one_line_of_at_most_160_characters_in_every_locale(
        input in input(), c in prop::option::of(customer()), de in any::<bool>(),
    ) {
        let mut input = input;
        input.locale = de.then(|| "de".to_string());
        let e = decide(&input, c.as_ref());
        prop_assert_eq!(e.locale.as_str(), if de { "de" } else { "en" });
        for r in &e.reasons {
            prop_assert!(r.text.chars().count() <= 160, "{}", r.text);
        }
    }

    #[test]
    fn more_predicted_value_never_lowers_the_gesture_or_the_authority(
        input in input(), c in customer(), extra in 1u64..10_000_000,
    ) {
        let mut richer = c.clone();
        richer.predicted_value = Some(c.predicted_value.unwrap_or_default() + money(extra));
        let mut base = c.clone();
        base.predicted_value = Some(c.predicted_value.unwrap_or_default());
        let (a, b) = (decide(&input, Some(&base)), decide(&input, Some(&richer)));
        prop_assert!(no_less(&a, &b), "{:?} -> {:?}", a.recommendation, b.recommendation);
        prop_assert!(amount(&b.authority.limit) >= amount(&a.authority.limit));
    }

    #[test]
    fn more_lifetime_revenue_never_lowers_the_gesture_or_the_authority(
        input in input(), c in customer(), extra in 1u64..10_000_000,
    ) {
        let mut base = c.clone();
        base.predicted_value = None;
        base.revenue_12m = None;
        let mut richer = base.clone();
        richer.lifetime_revenue += money(extra);
        let (a, b) = (decide(&input, Some(&base)), decide(&input, Some(&richer)));
        prop_assert!(no_less(&a, &b), "{:?} -> {:?}", a.recommendation, b.recommendation);
        prop_assert!(amount(&b.authority.limit) >= amount(&a.authority.limit));
    }

    #[test]
    fn a_known_customer_without_goodwill_history_never_gets_less_than_an_unknown_one(input in input(), c in customer()) {
        let mut c = c;
        c.goodwill_12m = Decimal::ZERO;
        c.claims_90d = 0;
        let known = decide(&input, Some(&c));
        let unknown = decide(&input, None);
        prop_assert!(no_less(&unknown, &known), "{:?} vs {:?}", known.recommendation, unknown.recommendation);
    }

    #[test]
    fn a_lapsed_peak_tier_never_gets_less_than_no_tier(input in input(), c in customer(), peak in 1usize..5) {
        let tiers = ["none", "bronze", "silver", "gold", "platinum"];
        let mut never = c.clone();
        never.tier = Some("none".into());
        never.peak_tier = Some("none".into());
        let mut lapsed = never.clone();
        lapsed.peak_tier = Some(tiers[peak].into());
        let (a, b) = (decide(&input, Some(&never)), decide(&input, Some(&lapsed)));
        prop_assert!(no_less(&a, &b), "{:?} -> {:?}", a.recommendation, b.recommendation);
        prop_assert!(b.signals.lapsed_tier);
    }

    #[test]
    fn an_amount_above_the_limit_is_always_flagged_with_an_approver(input in input(), c in prop::option::of(customer())) {
        let e = decide(&input, c.as_ref());
        let above = amount(&e.recommendation.amount) > amount(&e.authority.limit);
        prop_assert_eq!(e.authority.within_authority, !above);
        prop_assert_eq!(e.authority.approver_role.is_some(), above);
        if let Some(approver) = &e.authority.approver_role {
            let rank = |r: &str| policy().roles.iter().position(|x| x == r).unwrap();
            prop_assert!(rank(approver) > rank(&e.authority.role));
        }
    }

    #[test]
    fn amounts_are_never_negative_and_always_in_the_policy_currency(input in input(), c in prop::option::of(customer())) {
        let e = decide(&input, c.as_ref());
        for m in all_money(&e) {
            prop_assert!(amount(m) >= Decimal::ZERO, "{m:?}");
            // In cents: the typed amount is the one the wire shows.
            prop_assert_eq!(amount(m), kulanz::money::round_cents(amount(m)));
            prop_assert_eq!(m.currency.as_str(), "EUR");
        }
        prop_assert!(e.recommendation.respond_within_hours > 0);
        prop_assert!(!e.reasons.is_empty(), "every answer says why");
    }

    #[test]
    fn a_ranked_answer_stays_within_the_guards_and_its_numbers_add_up(
        input in input(), c in prop::option::of(customer()),
        seen in prop::collection::vec((0u32..40, 0u32..40), 12),
    ) {
        // Arbitrary recorded outcomes for every gesture × segment.
        let p = policy();
        let mut evidence = Evidence { window_days: 90, ..Evidence::default() };
        for (i, (r, l)) in seen.iter().enumerate() {
            let g = &p.gestures[i % 3].id;
            let s = &p.segments[i % p.segments.len()].id;
            for k in 0..r + l {
                evidence.add(g, s, k < *r);
            }
        }
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let ranked = evaluate_with(p, &input, c.as_ref(), now, &evidence);
        let plain = evaluate(p, &input, c.as_ref(), now);
        let rec = &ranked.recommendation;
        // Ranking only reorders what the rule and the guards allow: the same guards
        // decline, the same floor applies, the same options are offered.
        prop_assert_eq!(&ranked.matched_rules, &plain.matched_rules);
        prop_assert_eq!(rec.floor_applied, plain.recommendation.floor_applied);
        prop_assert_eq!(rec.escalation.is_some(), plain.recommendation.escalation.is_some());
        let options = |r: &kulanz::domain::decision::Recommendation| {
            let mut v: Vec<(String, Decimal)> = std::iter::once((r.gesture.clone(), r.amount.amount))
                .chain(r.alternatives.iter().map(|a| (a.gesture.clone(), a.amount.amount)))
                .collect();
            v.sort();
            v
        };
        prop_assert_eq!(options(rec), options(&plain.recommendation));
        if rec.floor_applied {
            prop_assert!(rec.ranking.is_none());
        }
        if let Some(r) = &rec.ranking {
            prop_assert_eq!(&r.gestures[0].gesture, &rec.gesture);
            prop_assert_eq!(&r.gestures[0].amount, &rec.amount);
            prop_assert_eq!(r.gestures.len(), rec.alternatives.len() + 1);
            let var = amount(&ranked.customer.value_at_risk);
            let mut last: Option<Decimal> = None;
            for (g, alt) in r.gestures.iter().zip(std::iter::once(None).chain(rec.alternatives.iter().map(Some))) {
                if let Some(alt) = alt {
                    prop_assert_eq!(&alt.gesture, &g.gesture);
                }
                let retention = Decimal::try_from(g.retention).unwrap().round_dp(4);
                let ev = amount(&g.expected_value);
                prop_assert_eq!(ev, kulanz::money::round_cents(var * retention - amount(&g.cost)));
                prop_assert!(last.is_none_or(|l| ev <= l), "best first");
                last = Some(ev);
            }
            prop_assert!(ranked.reasons.iter().any(|x| x.rule == "ranking"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// What the engine recommends passes the guards as the outcome check applies them
    /// (`guard_verdict`, service/ledger_guard.rs): the two read the same arithmetic, so
    /// an outcome granted as recommended on an unchanged ledger is never refused.
    #[test]
    fn the_recommended_grant_passes_the_guards_the_outcome_check_applies(
        input in input(), c in customer(),
    ) {
        let e = decide(&input, Some(&c));
        let rec = &e.recommendation;
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        if rec.gesture != "none" && rec.amount.amount > Decimal::ZERO {
            let v = guard_verdict(policy(), Some(&c), &rec.gesture, rec.amount.amount, today);
            prop_assert!(v.passes(rec.amount.amount), "{v:?} for {rec:?}");
        }
    }

    /// More on the ledger never makes the guards more generous: a grant they refuse for a
    /// customer stays refused with one more claim or more goodwill given.
    #[test]
    fn the_guards_never_loosen_as_the_ledger_grows(
        c in customer(), gesture in 0usize..4, cents in 1u64..200_000,
        more_claims in 0u32..3, more_goodwill in 0u64..50_000,
    ) {
        let gestures = ["refund", "voucher", "upgrade", "apology"];
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let amount = money(cents);
        let before = guard_verdict(policy(), Some(&c), gestures[gesture], amount, today);
        let mut grown = c.clone();
        grown.claims_90d += more_claims;
        grown.goodwill_12m += money(more_goodwill);
        let after = guard_verdict(policy(), Some(&grown), gestures[gesture], amount, today);
        prop_assert!(after.allowed <= before.allowed, "{before:?} then {after:?}");
        prop_assert!(before.passes(amount) || !after.passes(amount));
    }
}
