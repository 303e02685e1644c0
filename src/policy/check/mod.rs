//! Static checks beyond the schema (`kulanz policy check`, and on every load):
//! rules that can never match, category × fault × severity combinations no rule covers,
//! texts a declared locale leaves out,
//! the largest amount a decision can grant per role, and a sampled monotonicity check.
//!
//! Errors block activation; warnings are reported and do not.

mod coverage;
mod monotonic;
mod overlap;

pub use monotonic::SAMPLES;

use super::compiled::CompiledPolicy;
use super::err::Problem;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// What one role can grant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleReach {
    pub role: String,
    /// The most this role may grant alone, for the most valuable customer.
    pub alone_up_to: String,
    /// The role's configured maximum.
    pub limit_max: String,
}

/// The result of the static checks.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CheckReport {
    /// Problems that block activation.
    pub errors: Vec<Problem>,
    /// Problems worth a look that do not block activation.
    pub warnings: Vec<Problem>,
    /// The largest amount any single decision can recommend (`null` if no rule pays).
    pub largest_amount: Option<String>,
    pub by_role: Vec<RoleReach>,
}

/// The warnings alone (dead rules, uncovered combinations): cheap, no sampling.
pub fn warnings(policy: &CompiledPolicy) -> Vec<Problem> {
    let mut out = Vec::new();
    overlap::shadowed_rules(policy, &mut out);
    coverage::uncovered(policy, &mut out);
    out.extend(super::compile::texts::missing(&policy.doc));
    out
}

/// Run every static check.
pub fn check(policy: &CompiledPolicy) -> CheckReport {
    let mut report = CheckReport {
        warnings: warnings(policy),
        ..CheckReport::default()
    };
    if let Some(problem) = monotonic::counterexample(policy) {
        report.errors.push(problem);
    }
    let largest = coverage::largest_amount(policy);
    report.largest_amount = largest.map(|d| crate::money::round_cents(d).to_string());
    report.by_role = policy
        .roles
        .iter()
        .zip(&policy.authority)
        .map(|(role, limit)| RoleReach {
            role: role.clone(),
            alone_up_to: crate::money::round_cents(largest.unwrap_or(Decimal::ZERO).min(limit.max))
                .to_string(),
            limit_max: crate::money::round_cents(limit.max).to_string(),
        })
        .collect();
    report
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::policy::load::{compile_value, DEFAULT_POLICY};
    use serde_json::{json, Value};

    fn shipped() -> Value {
        serde_json::from_str(DEFAULT_POLICY).unwrap()
    }

    fn rule_index(v: &Value, id: &str) -> usize {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["id"] == id)
            .unwrap()
    }

    #[test]
    fn the_shipped_policy_passes_with_no_warnings() {
        let r = check(&compile_value(shipped()).unwrap());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.largest_amount.as_deref(), Some("2000.00"));
        assert_eq!(r.by_role[0].alone_up_to, "250.00");
    }

    #[test]
    fn a_planted_monotonicity_violation_is_found_with_a_counterexample() {
        let mut v = shipped();
        let i = rule_index(&v, "our-fault-standard");
        v["rules"][i]["then"]["amount"] = json!({"of_claim": "3", "max": "5000.00"});
        let r = check(&compile_value(v).unwrap());
        let e = r.errors.first().expect("violation found");
        assert!(
            e.message.starts_with("more customer value gets less"),
            "{}",
            e.message
        );
        assert!(e.message.contains("our-fault-standard"), "{}", e.message);
    }

    #[test]
    fn a_rule_behind_a_wider_earlier_rule_is_reported_dead() {
        let mut v = shipped();
        let mut narrower = v["rules"][rule_index(&v, "customer-fault")].clone();
        narrower["id"] = json!("customer-fault-top");
        narrower["when"]["segment"] = json!(["top"]);
        v["rules"].as_array_mut().unwrap().push(narrower);
        let r = check(&compile_value(v).unwrap());
        assert!(r.warnings.iter().any(|w| w.message
            == "rule `customer-fault-top` can never match: the earlier rule `customer-fault` matches every case it does"),
            "{:?}", r.warnings);
    }

    #[test]
    fn uncovered_combinations_are_listed_per_category() {
        let mut v = shipped();
        let rules: Vec<Value> = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["id"] != "customer-fault")
            .cloned()
            .collect();
        v["rules"] = Value::Array(rules);
        let r = check(&compile_value(v).unwrap());
        let w: Vec<&str> = r.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(w.iter().any(|m| m.starts_with("no rule covers category `late_delivery` with fault/severity customer/low, customer/medium")), "{w:?}");
    }
}
