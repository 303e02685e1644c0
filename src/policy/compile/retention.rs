//! Compiling the `retention` block: a prior per gesture × segment, and the check that
//! every gesture a rule may rank has one (a missing prior would silently rank it last or
//! first, so it is an error, named where the gesture is used).

use super::Checker;
use crate::policy::compiled::{Rule, Segment};
use crate::policy::retention::{Prior, Retention};

pub(super) fn compile_retention(c: &mut Checker<'_>, segments: &[Segment]) -> Option<Retention> {
    let doc = c.doc;
    let r = doc.retention.as_ref()?;
    if r.window_days == 0 {
        c.fail("$.retention.window_days", "must be at least 1 day");
    }
    for (gesture, by_segment) in &r.priors {
        let path = format!("$.retention.priors.{gesture}");
        if !doc.gestures.contains_key(gesture) {
            let known: Vec<&str> = doc.gestures.keys().map(String::as_str).collect();
            c.fail(
                &path,
                format!("unknown gesture `{gesture}`; known: {}", known.join(", ")),
            );
        }
        for (segment, prior) in by_segment {
            if segment != "*" && !segments.iter().any(|s| &s.id == segment) {
                let known: Vec<&str> = segments.iter().map(|s| s.id.as_str()).collect();
                c.fail(
                    format!("{path}.{segment}"),
                    format!(
                        "unknown segment `{segment}`; known: {} (or `*` for every segment)",
                        known.join(", ")
                    ),
                );
            }
            for (field, v) in [("retained", prior.retained), ("lost", prior.lost)] {
                if !(v.is_finite() && v > 0.0) {
                    c.fail(
                        format!("{path}.{segment}.{field}"),
                        "must be a number above 0",
                    );
                }
            }
        }
    }
    // A segment's own prior wins over `*`.
    let priors = doc
        .gestures
        .keys()
        .map(|g| {
            let by_segment = r.priors.get(g);
            segments
                .iter()
                .map(|s| {
                    let p = by_segment.and_then(|m| m.get(&s.id).or_else(|| m.get("*")))?;
                    Some(Prior {
                        retained: p.retained,
                        lost: p.lost,
                    })
                })
                .collect()
        })
        .collect();
    Some(Retention {
        window_days: r.window_days,
        priors,
    })
}

/// Rules with alternatives are ranked; each gesture they name needs a prior in every segment.
pub(super) fn check_ranked_rules(c: &mut Checker<'_>, r: &Retention, rules: &[Rule]) {
    let doc = c.doc;
    for (i, rule) in rules.iter().enumerate() {
        let t = &rule.then;
        if t.alternatives.is_empty() {
            continue;
        }
        let main = t.gesture.map(|g| (format!("$.rules[{i}].then.gesture"), g));
        let alts = t
            .alternatives
            .iter()
            .enumerate()
            .map(|(j, (g, _))| (format!("$.rules[{i}].then.alternatives[{j}].gesture"), *g));
        for (path, g) in main.into_iter().chain(alts) {
            let missing: Vec<&str> = doc
                .segments
                .iter()
                .enumerate()
                .filter(|(s, _)| r.prior(g, *s).is_none())
                .map(|(_, s)| s.id.as_str())
                .collect();
            if !missing.is_empty() {
                let id = doc.gestures.keys().nth(g).map(String::as_str).unwrap_or("");
                c.fail(
                    path,
                    format!(
                        "this rule is ranked by expected value but `{id}` has no retention prior for segment {}; add `$.retention.priors.{id}` with `*` or those segments",
                        missing.join(", ")
                    ),
                );
            }
        }
    }
}
