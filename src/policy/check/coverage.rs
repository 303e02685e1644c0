//! Which category × fault × severity combinations no rule can answer (the floor alone
//! does), and the largest amount any decision can recommend.

use crate::domain::complaint::{Fault, Severity};
use crate::policy::compiled::{CompiledPolicy, Formula};
use crate::policy::err::Problem;
use rust_decimal::Decimal;

fn has(mask: Option<u8>, i: usize) -> bool {
    mask.is_none_or(|m| m & (1 << i) != 0)
}

/// One warning per category listing the fault × severity pairs no rule can match (other
/// conditions ignored: some customer or channel can satisfy them).
pub fn uncovered(policy: &CompiledPolicy, out: &mut Vec<Problem>) {
    for (c, category) in policy.categories.iter().enumerate() {
        let mut gaps = Vec::new();
        for fault in Fault::ALL {
            for sev in Severity::ALL {
                let covered = policy.rules.iter().any(|r| {
                    r.when.category.is_none_or(|m| m & (1u128 << c) != 0)
                        && has(r.when.fault, fault.index())
                        && has(r.when.severity, sev.index())
                });
                if !covered {
                    gaps.push(format!("{}/{}", fault.as_str(), sev.as_str()));
                }
            }
        }
        if !gaps.is_empty() {
            out.push(Problem::new(
                "$.rules",
                format!(
                    "no rule covers category `{category}` with fault/severity {}: the floor alone answers",
                    gaps.join(", ")
                ),
            ));
        }
    }
}

/// The most a formula can give, or `None` when only the authority ceiling bounds it.
fn bound(f: &Formula) -> Option<Decimal> {
    let min = f.min.unwrap_or(Decimal::ZERO);
    match f.max {
        Some(max) => Some(max.max(min)),
        None if f.of_claim.is_zero() && f.of_value.is_zero() => Some(f.fixed.max(min)),
        None => None,
    }
}

/// The largest amount any single decision can recommend: no more than the top role's
/// maximum (the engine's ceiling) nor than the most generous rule.
pub fn largest_amount(policy: &CompiledPolicy) -> Option<Decimal> {
    let ceiling = policy.authority.last().map(|l| l.max)?;
    let mut largest: Option<Decimal> = None;
    for r in &policy.rules {
        if !policy.is_monetary(r.then.gesture) {
            continue;
        }
        let b = bound(&r.then.amount).unwrap_or(ceiling).min(ceiling);
        largest = Some(largest.map_or(b, |l| l.max(b)));
    }
    largest
}
