//! Semantic checks and compilation: from a schema-valid `PolicyDoc` to a `CompiledPolicy`.
//! Every problem is collected (not just the first) and named by its JSON path.

use super::compiled::*;
use super::err::Problem;
use super::model::*;
use super::template::Template;
use crate::domain::market::Market;
use retention::{check_ranked_rules, compile_retention};
use rust_decimal::Decimal;
use std::str::FromStr;
use texts::compile_texts;
use when::compile_when;

mod retention;
pub mod texts;
mod when;

struct Checker<'a> {
    doc: &'a PolicyDoc,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn fail(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.problems.push(Problem::new(path, msg));
    }

    fn decimal(&mut self, path: &str, s: &str) -> Decimal {
        match Decimal::from_str(s) {
            Ok(d) if !d.is_sign_negative() || d.is_zero() => d,
            Ok(_) => {
                self.fail(path, "must not be negative");
                Decimal::ZERO
            }
            Err(_) => {
                self.fail(path, format!("`{s}` is not a decimal number"));
                Decimal::ZERO
            }
        }
    }

    fn opt_decimal(&mut self, path: &str, s: &Option<String>) -> Option<Decimal> {
        s.as_deref().map(|s| self.decimal(path, s))
    }

    fn template(&mut self, path: &str, src: &str) -> Template {
        Template::compile(path, src).unwrap_or_else(|p| {
            self.problems.push(p);
            Template::empty()
        })
    }

    /// A bit mask over `vocab` for the listed names; unknown names are problems.
    fn mask(&mut self, path: &str, names: &[String], vocab: &[String], what: &str) -> u128 {
        let mut m = 0u128;
        for (i, n) in names.iter().enumerate() {
            match vocab.iter().position(|v| v == n) {
                Some(p) if p < 128 => m |= 1u128 << p,
                _ => self.fail(
                    format!("{path}[{i}]"),
                    format!("unknown {what} `{n}`; known: {}", vocab.join(", ")),
                ),
            }
        }
        m
    }

    fn gesture(&mut self, path: &str, id: &str, allow_none: bool) -> GestureRef {
        if id == "none" && allow_none {
            return None;
        }
        let pos = self.doc.gestures.keys().position(|g| g == id);
        if pos.is_none() {
            let known: Vec<&str> = self.doc.gestures.keys().map(String::as_str).collect();
            self.fail(
                path,
                format!("unknown gesture `{id}`; known: {}", known.join(", ")),
            );
        }
        pos
    }

    fn role(&mut self, path: &str, id: &str) -> usize {
        match self.doc.roles.iter().position(|r| r == id) {
            Some(p) => p,
            None => {
                self.fail(
                    path,
                    format!("unknown role `{id}`; known: {}", self.doc.roles.join(", ")),
                );
                0
            }
        }
    }

    fn formula(&mut self, path: &str, a: &Option<AmountDoc>) -> Formula {
        let Some(a) = a else {
            return Formula::default();
        };
        let zero = Decimal::ZERO;
        let f = Formula {
            of_claim: self
                .opt_decimal(&format!("{path}.of_claim"), &a.of_claim)
                .unwrap_or(zero),
            of_value: self
                .opt_decimal(&format!("{path}.of_value"), &a.of_value)
                .unwrap_or(zero),
            fixed: self
                .opt_decimal(&format!("{path}.fixed"), &a.fixed)
                .unwrap_or(zero),
            min: self.opt_decimal(&format!("{path}.min"), &a.min),
            max: self.opt_decimal(&format!("{path}.max"), &a.max),
            max_of_value: self.opt_decimal(&format!("{path}.max_of_value"), &a.max_of_value),
        };
        if let (Some(min), Some(max)) = (f.min, f.max) {
            if min > max {
                self.fail(format!("{path}.min"), format!("{min} is above max {max}"));
            }
        }
        f
    }
}

fn compile_rule(c: &mut Checker<'_>, i: usize, r: &RuleDoc) -> Rule {
    let path = format!("$.rules[{i}]");
    let when = compile_when(c, &format!("{path}.when"), &r.when);
    let gesture = c.gesture(&format!("{path}.then.gesture"), &r.then.gesture, true);
    let amount = c.formula(&format!("{path}.then.amount"), &r.then.amount);
    let mut alternatives = Vec::new();
    for (j, a) in r.then.alternatives.iter().enumerate() {
        let ap = format!("{path}.then.alternatives[{j}]");
        let g = c.gesture(&format!("{ap}.gesture"), &a.gesture, false);
        let f = c.formula(&format!("{ap}.amount"), &a.amount);
        if let Some(g) = g {
            alternatives.push((g, f));
        }
    }
    Rule {
        id: r.id.clone(),
        when,
        then: Then {
            gesture,
            amount,
            hours: r.then.respond_within_hours,
            callback: r.then.callback.as_ref().map(|cb| CallbackSpec {
                priority: cb.priority,
                within_hours: cb.within_hours,
            }),
            alternatives,
        },
    }
}

fn check_unique<'x>(c: &mut Checker<'_>, path: &str, ids: impl Iterator<Item = &'x str>) {
    let mut seen = std::collections::HashSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            c.fail(format!("{path}[{i}]"), format!("duplicate id `{id}`"));
        }
    }
}

/// Check and compile a schema-valid document. `digest` is computed by the loader.
pub fn compile(
    doc: PolicyDoc,
    source: serde_json::Value,
    digest: String,
) -> Result<CompiledPolicy, Vec<Problem>> {
    let mut c = Checker {
        doc: &doc,
        problems: Vec::new(),
    };
    let currency = doc.currency.parse().unwrap_or_else(|e: String| {
        c.fail("$.currency", e);
        crate::money::Currency::UNKNOWN
    });
    let market = match doc.market.as_deref() {
        None => Market::default_market(),
        Some(m) => Market::parse("$.market", m).unwrap_or_else(|e| {
            c.fail("$.market", e.message);
            Market::default_market()
        }),
    };
    check_unique(&mut c, "$.rules", doc.rules.iter().map(|r| r.id.as_str()));
    check_unique(
        &mut c,
        "$.segments",
        doc.segments.iter().map(|s| s.id.as_str()),
    );
    if doc.gestures.contains_key("none") {
        c.fail(
            "$.gestures.none",
            "`none` is reserved for rules that grant nothing",
        );
    }

    let value = ValueParams {
        history_years: c.decimal("$.value.history_years", &doc.value.history_years),
        referral_value: c.decimal("$.value.referral_value", &doc.value.referral_value),
        segment_basis: match doc.value.segment_basis.as_deref() {
            Some("lifetime_revenue") => SegmentBasis::LifetimeRevenue,
            _ => SegmentBasis::ValueAtRisk,
        },
        inactive_after_days: doc.value.inactive_after_days,
    };

    let mut segments = Vec::new();
    for (i, s) in doc.segments.iter().enumerate() {
        let min = c.decimal(&format!("$.segments[{i}].min_value"), &s.min_value);
        if let Some(prev) = segments.last().map(|p: &Segment| p.min) {
            if min >= prev {
                c.fail(
                    format!("$.segments[{i}].min_value"),
                    format!("segments go from the highest band down: {min} must be below {prev}"),
                );
            }
        }
        segments.push(Segment {
            id: s.id.clone(),
            min,
        });
    }
    if segments.last().is_some_and(|s| !s.min.is_zero()) {
        c.fail(
            format!("$.segments[{}].min_value", segments.len() - 1),
            "the last segment must start at 0 so every customer has one",
        );
    }

    let gestures: Vec<Gesture> = doc
        .gestures
        .iter()
        .map(|(id, g)| Gesture {
            id: id.clone(),
            monetary: g.monetary,
            cost_factor: g
                .cost_factor
                .as_deref()
                .map(|s| c.decimal(&format!("$.gestures.{id}.cost_factor"), s))
                .unwrap_or(Decimal::ONE),
        })
        .collect();

    let h = &doc.floor.respond_within_hours;
    let floor = Floor {
        gesture: c.gesture("$.floor.gesture", &doc.floor.gesture, false),
        hours: [h.low, h.medium, h.high, h.critical],
    };
    if h.critical > h.high || h.high > h.medium || h.medium > h.low {
        c.fail(
            "$.floor.respond_within_hours",
            "a more severe complaint must not get a later answer deadline",
        );
    }

    for role in doc.authority.keys() {
        if !doc.roles.contains(role) {
            c.fail(
                format!("$.authority.{role}"),
                format!("unknown role `{role}`; known: {}", doc.roles.join(", ")),
            );
        }
    }
    let mut authority = Vec::new();
    for role in &doc.roles {
        let p = format!("$.authority.{role}");
        let Some(a) = doc.authority.get(role) else {
            c.fail(
                "$.authority",
                format!("role `{role}` has no authority limit"),
            );
            authority.push(Limit {
                base: Decimal::ZERO,
                share: Decimal::ZERO,
                max: Decimal::ZERO,
            });
            continue;
        };
        let l = Limit {
            base: c.decimal(&format!("{p}.base"), &a.base),
            share: c.decimal(&format!("{p}.value_share"), &a.value_share),
            max: c.decimal(&format!("{p}.max"), &a.max),
        };
        if l.max < l.base {
            c.fail(
                format!("{p}.max"),
                format!("maximum {} is below base {}", l.max, l.base),
            );
        }
        if let Some(prev) = authority.last().copied() {
            if l.base < prev.base || l.max < prev.max || l.share < prev.share {
                c.fail(
                    p.clone(),
                    "a higher role must not have a lower base, share or maximum than the role below it",
                );
            }
        }
        authority.push(l);
    }

    let g = &doc.guards;
    let action = |s: &str| {
        if s == "cap" {
            GuardAction::Cap
        } else {
            GuardAction::Decline
        }
    };
    let goodwill_share = g.goodwill_share.as_ref().map(|gs| {
        let share = c.decimal("$.guards.goodwill_share.max_share", &gs.max_share);
        if share > Decimal::ONE {
            c.fail(
                "$.guards.goodwill_share.max_share",
                "must be at most 1 (100% of revenue)",
            );
        }
        (share, action(&gs.action))
    });
    let guards = Guards {
        goodwill_share,
        goodwill_share_percent: goodwill_share
            .map(|(share, _)| (share * Decimal::ONE_HUNDRED).normalize().to_string())
            .unwrap_or_default(),
        goodwill_allowance: g
            .goodwill_share
            .as_ref()
            .and_then(|gs| c.opt_decimal("$.guards.goodwill_share.allowance", &gs.allowance))
            .unwrap_or_default(),
        claim_frequency: g.claim_frequency.as_ref().map(|cf| {
            let cap = c.opt_decimal("$.guards.claim_frequency.cap_amount", &cf.cap_amount);
            if cf.action == "cap" && cap.is_none() {
                c.fail(
                    "$.guards.claim_frequency.cap_amount",
                    "required when action is `cap`",
                );
            }
            (
                cf.max_claims_90d,
                action(&cf.action),
                cap.unwrap_or_default(),
            )
        }),
        escalate_to: c.role("$.guards.escalate_to", &g.escalate_to),
    };

    let retention = compile_retention(&mut c, &segments);

    let rules: Vec<Rule> = doc
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| compile_rule(&mut c, i, r))
        .collect();
    let by_category = (0..doc.categories.len())
        .map(|cat| {
            rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.when.category.is_none_or(|m| m & (1u128 << cat) != 0))
                .map(|(i, _)| i as u32)
                .collect()
        })
        .collect();
    if let Some(r) = &retention {
        check_ranked_rules(&mut c, r, &rules);
    }

    let locales = compile_texts(&mut c, &doc);

    let test_clock = doc.test_clock.as_deref().and_then(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&chrono::Utc))
            .map_err(|_| c.fail("$.test_clock", "expected an RFC 3339 date-time"))
            .ok()
    });

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(CompiledPolicy {
        id: doc.id.clone(),
        version: doc.version.clone(),
        digest,
        currency,
        market,
        categories: doc.categories.clone(),
        roles: doc.roles.clone(),
        tiers: doc.tiers.clone(),
        value,
        segments,
        gestures,
        floor,
        authority,
        guards,
        retention,
        rules,
        by_category,
        test_clock,
        locales,
        doc,
        source,
    })
}
