//! Expected-value ranking of the gestures a rule allows (its gesture and alternatives):
//! expected net value = value at risk × retention − cost, where retention is the
//! posterior probability of "ordered again within the window" (policy/retention.rs) and
//! cost is the amount after the guards × the gesture's cost factor.
//!
//! The engine hands in only candidates that survived the guards with something to offer,
//! so ranking can never lift an amount above a guard or below the floor: it only chooses
//! among what the rule and the guards already allow.

use super::compiled::CompiledPolicy;
use super::phrases::{push_number, Words};
use super::retention::{posterior_mean_4dp, Evidence, Retention};
use super::texts::LocaleTexts;
use crate::domain::decision::{RankedGesture, Ranking, RetentionEvidence};
use crate::domain::locale::Lang;
use crate::money::{round_cents, Money};
use rust_decimal::Decimal;

/// A gesture the rule allows, with its amount before and after the guards.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub gesture: usize,
    /// Formula amount, capped at the authority ceiling, before the guards.
    pub proposed: Decimal,
    /// After the guards; zero for a gesture without an amount.
    pub amount: Decimal,
}

#[derive(Debug, Clone)]
pub(super) struct Ranked {
    pub candidate: Candidate,
    pub retention: Decimal,
    pub evidence: RetentionEvidence,
    pub cost: Decimal,
    pub expected_value: Decimal,
}

/// Rank `candidates` best first; equal values keep the rule's order (its gesture first).
/// `None` when a candidate has no prior (the compile check prevents that).
pub(super) fn rank(
    p: &CompiledPolicy,
    ret: &Retention,
    evidence: &Evidence,
    segment: usize,
    value_at_risk: Decimal,
    candidates: &[Candidate],
) -> Option<Vec<Ranked>> {
    let segment_id = p.segments.get(segment).map(|s| s.id.as_str()).unwrap_or("");
    // In cents, as the answer shows it: the number shown is the number used.
    let value_at_risk = round_cents(value_at_risk);
    let mut ranked = Vec::with_capacity(candidates.len());
    for c in candidates {
        let prior = ret.prior(c.gesture, segment)?;
        let gesture_id = p.gesture_id(Some(c.gesture));
        let seen = evidence.get(ret.window_days, gesture_id, segment_id);
        // Four decimals as an integer: skips the f64-to-Decimal conversion (a measurable
        // share of the ranking).
        let retention = Decimal::new(posterior_mean_4dp(prior, seen), 4);
        let cost = round_cents(c.amount * p.cost_factor(c.gesture));
        ranked.push(Ranked {
            candidate: *c,
            retention,
            evidence: RetentionEvidence {
                prior_retained: prior.retained,
                prior_lost: prior.lost,
                retained: seen.retained,
                lost: seen.lost,
            },
            cost,
            expected_value: round_cents(value_at_risk * retention - cost),
        });
    }
    ranked.sort_by_key(|r| std::cmp::Reverse(r.expected_value));
    Some(ranked)
}

/// The ranking as it appears in the answer.
pub(super) fn output(p: &CompiledPolicy, ret: &Retention, ranked: &[Ranked]) -> Ranking {
    let money = |a: Decimal| Money::new(round_cents(a), p.currency);
    Ranking {
        window_days: ret.window_days,
        gestures: ranked
            .iter()
            .map(|r| RankedGesture {
                gesture: p.gesture_id(Some(r.candidate.gesture)).to_string(),
                amount: money(r.candidate.amount),
                cost: money(r.cost),
                retention: r.retention.try_into().unwrap_or_default(),
                evidence: r.evidence.clone(),
                expected_value: money(r.expected_value),
            })
            .collect(),
    }
}

/// The ranking in words: one line for the agent (which gesture ranks first and each
/// one's chance of keeping the customer) and the detail with every number behind it,
/// for the lead and the auditor.
pub(super) fn reason(
    t: &LocaleTexts,
    w: Words,
    ret: &Retention,
    value_at_risk: Decimal,
    segment: usize,
    ranked: &[Ranked],
) -> (String, String) {
    let de = w.lang == Lang::De;
    let label = |r: &Ranked| t.gesture_lower(r.candidate.gesture);
    let mut text = String::with_capacity(120);
    if let Some(top) = ranked.first() {
        text.push_str(label(top));
        text.push_str(if de {
            " liegt vorn: "
        } else {
            " ranks first: "
        });
        push_percent(&mut text, top.retention);
        text.push_str(if de {
            " % Chance, den Kunden zu halten"
        } else {
            "% chance of keeping this customer"
        });
        for (i, r) in ranked.iter().skip(1).enumerate() {
            text.push_str(match (i, de) {
                (0, false) => ", against ",
                (0, true) => ", gegenüber ",
                _ => ", ",
            });
            text.push_str(label(r));
            text.push(' ');
            push_percent(&mut text, r.retention);
            text.push_str(if de { " %" } else { "%" });
        }
    }
    // One buffer for the whole paragraph, money and counts written straight into it
    // (no `fmt` machinery: this runs on every ranked decision).
    let mut var = String::with_capacity(24);
    w.money(&mut var, round_cents(value_at_risk));
    let segment = t.segments.get(segment).map(String::as_str).unwrap_or("");
    let mut detail = String::with_capacity(200 + 160 * ranked.len());
    let head: [&str; 7] = if de {
        [
            "nach erwartetem Wert für einen Kunden der Stufe ",
            segment,
            " mit ",
            &var,
            " gefährdetem Wert (gefährdeter Wert × Chance auf eine weitere Bestellung in ",
            "",
            " Tagen − Kosten): ",
        ]
    } else {
        [
            "ranked by expected value for a ",
            segment,
            " customer with ",
            &var,
            " at risk (value at risk × chance of ordering again within ",
            "",
            " days − cost): ",
        ]
    };
    for (i, part) in head.iter().enumerate() {
        if i == 5 {
            push_number(&mut detail, ret.window_days);
        }
        detail.push_str(part);
    }
    for (i, r) in ranked.iter().enumerate() {
        if i > 0 {
            detail.push_str("; ");
        }
        detail.push_str(label(r));
        if r.candidate.amount > Decimal::ZERO {
            detail.push_str(if de { " über " } else { " of " });
            w.money(&mut detail, r.candidate.amount);
        }
        detail.push_str(": ");
        push_percent(&mut detail, r.retention);
        detail.push_str(if de { " % × " } else { "% × " });
        detail.push_str(&var);
        detail.push_str(" − ");
        w.money(&mut detail, r.cost);
        detail.push_str(" = ");
        w.money(&mut detail, r.expected_value);
        let e = &r.evidence;
        let words: [&str; 5] = if de {
            [
                " (Annahme ",
                " geblieben / ",
                " gegangen, erfasst ",
                " geblieben / ",
                " gegangen)",
            ]
        } else {
            [
                " (prior ",
                " stayed / ",
                " left, recorded ",
                " stayed / ",
                " left)",
            ]
        };
        let counts = [e.prior_retained, e.prior_lost];
        for (w, n) in words.iter().zip(counts) {
            detail.push_str(w);
            push_pseudo_count(&mut detail, n);
        }
        for (w, n) in words.iter().skip(2).zip([e.retained, e.lost]) {
            detail.push_str(w);
            push_number(&mut detail, n);
        }
        detail.push_str(words.last().copied().unwrap_or_default());
    }
    (text, detail)
}

/// A prior's pseudo-count as `f64`'s `Display` writes it (`7`, `2.5`); whole counts, the
/// usual ones, without the float formatter.
fn push_pseudo_count(out: &mut String, n: f64) {
    use std::fmt::Write as _;
    if n.fract() == 0.0 && n.is_sign_positive() && n <= f64::from(u32::MAX) {
        // INVARIANT: whole and within u32's range, so the cast is exact.
        push_number(out, n as u32);
    } else {
        let _ = write!(out, "{n}");
    }
}

/// `(retention × 100).round_dp(1).normalize()` written to `out` (e.g. `45`, `12.2`) from the
/// integer of ten-thousandths, with the same rounding (half to even) and no decimal
/// arithmetic; other forms of `retention` take the decimal path.
fn push_percent(out: &mut String, retention: Decimal) {
    use std::fmt::Write as _;
    let m = retention.mantissa();
    if retention.scale() != 4 || !(0..=10_000).contains(&m) {
        let _ = write!(
            out,
            "{}",
            (retention * Decimal::ONE_HUNDRED).round_dp(1).normalize()
        );
        return;
    }
    // m ten-thousandths = m / 100 percent; one decimal of a percent is m / 10, rounded.
    let (mut tenths, rest) = (m / 10, m % 10);
    if rest > 5 || (rest == 5 && tenths % 2 == 1) {
        tenths += 1;
    }
    // 0..=1000 after the range check above.
    let tenths = u32::try_from(tenths).unwrap_or(0);
    push_number(out, tenths / 10);
    if tenths % 10 != 0 {
        out.push('.');
        push_number(out, tenths % 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_counts_are_written_as_display_writes_them() {
        for n in [
            0.0,
            -0.0,
            1.0,
            7.0,
            2.5,
            0.1,
            1e9,
            4_294_967_295.0,
            5e12,
            -3.0,
        ] {
            let mut out = String::new();
            push_pseudo_count(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn integer_percent_matches_the_decimal_form() {
        for m in (0..=10_000).chain([1225, 1235, 9995, 5, 15, 25]) {
            let r = Decimal::new(m, 4);
            let mut fast = String::new();
            push_percent(&mut fast, r);
            let slow = (r * Decimal::ONE_HUNDRED)
                .round_dp(1)
                .normalize()
                .to_string();
            assert_eq!(fast, slow, "retention {r}");
        }
    }
}
