//! Which rule decides: the first, in policy order, whose conditions all hold. Only the
//! rules that can match the request's category are scanned.

use crate::domain::request::{AttrValue, DecisionInput};
use crate::policy::compiled::{AttrCond, CompiledPolicy, Rule, When};
use crate::policy::facts::Facts;

/// First rule, in policy order, whose conditions all hold; only the rules that can match
/// the request's category are scanned.
pub fn first_match<'p>(
    policy: &'p CompiledPolicy,
    input: &DecisionInput,
    facts: &Facts,
) -> Option<&'p Rule> {
    first_match_at(policy, input, facts).map(|(_, r)| r)
}

/// [`first_match`] with the rule's index (its texts are indexed like the rules).
pub(super) fn first_match_at<'p>(
    policy: &'p CompiledPolicy,
    input: &DecisionInput,
    facts: &Facts,
) -> Option<(usize, &'p Rule)> {
    let candidates = policy.by_category.get(input.category)?;
    candidates
        .iter()
        .filter_map(|&i| Some((i as usize, policy.rules.get(i as usize)?)))
        .find(|(_, r)| matches(&r.when, input, facts))
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
