//! Rules that can never match: conditions that exclude everything, or an earlier rule
//! that matches every case the later one does (first hit wins, so the later one is dead).

use crate::policy::compiled::{CompiledPolicy, When};
use crate::policy::err::Problem;

fn mask_covers<T>(a: Option<T>, b: Option<T>, full: T) -> bool
where
    T: Copy + std::ops::BitAnd<Output = T> + std::ops::Not<Output = T> + PartialEq + Default,
{
    match a {
        None => true,
        Some(a) => (b.unwrap_or(full) & !a) == T::default(),
    }
}

fn bool_covers(a: Option<bool>, b: Option<bool>) -> bool {
    a.is_none() || a == b
}

/// Whether every case `b` matches is also matched by `a`.
pub fn covers(a: &When, b: &When) -> bool {
    mask_covers(a.category, b.category, u128::MAX)
        && mask_covers(a.fault, b.fault, u8::MAX)
        && mask_covers(a.severity, b.severity, u8::MAX)
        && mask_covers(a.channel, b.channel, u8::MAX)
        && mask_covers(a.churn, b.churn, u8::MAX)
        && mask_covers(a.segment, b.segment, u64::MAX)
        && mask_covers(a.tier, b.tier, u64::MAX)
        && mask_covers(a.peak_tier, b.peak_tier, u64::MAX)
        && bool_covers(a.lapsed, b.lapsed)
        && bool_covers(a.detractor, b.detractor)
        && bool_covers(a.known, b.known)
        && a.claim_min.is_none_or(|am| b.claim_min.is_some_and(|bm| bm >= am))
        && a.claim_max.is_none_or(|am| b.claim_max.is_some_and(|bm| bm <= am))
        // Attribute tests are compared as written: `a` covers `b` only if each of its
        // tests appears unchanged in `b` (a conservative reading, never a false alarm).
        && a.attributes.iter().all(|cond| b.attributes.contains(cond))
}

/// A condition list that excludes every value (e.g. `severity` and `min_severity` disjoint).
fn empty(w: &When) -> Option<&'static str> {
    let zero = |m: Option<u8>| m == Some(0);
    if w.category == Some(0) {
        Some("category")
    } else if zero(w.fault) {
        Some("fault")
    } else if zero(w.severity) {
        Some("severity")
    } else if zero(w.channel) {
        Some("channel")
    } else if w.claim_min.zip(w.claim_max).is_some_and(|(a, b)| a > b) {
        Some("claim")
    } else {
        None
    }
}

pub fn shadowed_rules(policy: &CompiledPolicy, out: &mut Vec<Problem>) {
    for (j, later) in policy.rules.iter().enumerate() {
        if let Some(field) = empty(&later.when) {
            out.push(Problem::new(
                format!("$.rules[{j}].when.{field}"),
                format!(
                    "rule `{}` can never match: its {field} conditions exclude every value",
                    later.id
                ),
            ));
            continue;
        }
        if let Some(earlier) = policy
            .rules
            .iter()
            .take(j)
            .find(|e| covers(&e.when, &later.when))
        {
            out.push(Problem::new(
                format!("$.rules[{j}]"),
                format!(
                    "rule `{}` can never match: the earlier rule `{}` matches every case it does",
                    later.id, earlier.id
                ),
            ));
        }
    }
}
