//! Example cases: each policy carries requests, customers and the partial answer expected.
//! `kulanz policy test` runs them; loading a policy runs them too, so a policy whose own
//! examples fail is never used.
//!
//! Matching is partial: every field named in `expect` must equal the actual answer's;
//! objects may have more fields; an expected array must have each of its elements match
//! some actual element (an empty expected array means "must be empty").

use super::compiled::CompiledPolicy;
use super::engine::evaluate;
use super::err::Problem;
use crate::domain::customer::CustomerRecordDto;
use crate::domain::request::{DecisionRequestDto, Vocab};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Result of one example case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    /// Mismatches as `path: expected X, got Y`; empty when the case passed.
    pub failures: Vec<String>,
    pub actual: Option<Value>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Run every example case of the policy.
pub fn run(policy: &CompiledPolicy) -> Vec<CaseResult> {
    policy
        .doc
        .examples
        .iter()
        .enumerate()
        .map(|(i, ex)| {
            let mut r = CaseResult {
                name: ex.name.clone(),
                failures: Vec::new(),
                actual: None,
            };
            match run_one(policy, i) {
                Ok(actual) => {
                    diff("", &ex.expect, &actual, &mut r.failures);
                    r.actual = Some(actual);
                }
                Err(e) => r.failures.push(e),
            }
            r
        })
        .collect()
}

fn run_one(policy: &CompiledPolicy, i: usize) -> Result<Value, String> {
    let ex = policy
        .doc
        .examples
        .get(i)
        .ok_or_else(|| "no such example".to_string())?;
    let dto: DecisionRequestDto = serde_path_to_error::deserialize(ex.request.clone())
        .map_err(|e| format!("request.{}: {}", e.path(), e.inner()))?;
    let vocab = Vocab {
        categories: &policy.categories,
        roles: &policy.roles,
        currency: policy.currency,
    };
    let input = dto.validate(&vocab).map_err(|e| format!("request.{e}"))?;
    let customer = match &ex.customer {
        None | Some(Value::Null) => None,
        Some(v) => {
            let dto: CustomerRecordDto = serde_path_to_error::deserialize(v.clone())
                .map_err(|e| format!("customer.{}: {}", e.path(), e.inner()))?;
            Some(dto.validate().map_err(|e| format!("customer.{e}"))?)
        }
    };
    let now: DateTime<Utc> = match ex.now.as_deref() {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| "now: expected an RFC 3339 date-time".to_string())?
            .with_timezone(&Utc),
        None => policy
            .test_clock
            .ok_or_else(|| "needs `now` or the policy's `test_clock`".to_string())?,
    };
    let eval = evaluate(policy, &input, customer.as_ref(), now);
    serde_json::to_value(&eval).map_err(|e| e.to_string())
}

/// Failing cases as policy problems, for loading and activation.
pub fn problems(policy: &CompiledPolicy) -> Vec<Problem> {
    run(policy)
        .into_iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.failures
                .into_iter()
                .map(move |f| {
                    Problem::new(format!("$.examples[{i}]"), format!("`{}`: {f}", r.name))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Values in failure lines: long enough to show a reason text whole.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 400 {
        s
    } else {
        format!("{}…", s.chars().take(400).collect::<String>())
    }
}

fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match a.get(k) {
                    Some(av) => diff(&p, ev, av, out),
                    None => out.push(format!("{p}: expected {}, got nothing", short(ev))),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.is_empty() && !a.is_empty() {
                out.push(format!("{path}: expected [], got {}", short(actual)));
            }
            for (i, ev) in e.iter().enumerate() {
                let found = a.iter().any(|av| {
                    let mut scratch = Vec::new();
                    diff("", ev, av, &mut scratch);
                    scratch.is_empty()
                });
                if !found {
                    out.push(format!(
                        "{path}[{i}]: expected an element like {}, got {}",
                        short(ev),
                        short(actual)
                    ));
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {}, got {}", short(e), short(a))),
    }
}

#[cfg(test)]
mod tests {
    use super::diff;
    use serde_json::json;

    #[test]
    fn partial_expectations_ignore_extra_fields_but_not_wrong_ones() {
        let actual =
            json!({"a": {"b": 1, "c": 2}, "list": [{"x": 1, "y": 2}, {"x": 3}], "empty": []});
        let mut out = Vec::new();
        diff(
            "",
            &json!({"a": {"b": 1}, "list": [{"x": 3}], "empty": []}),
            &actual,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        diff(
            "",
            &json!({"a": {"b": 2}, "list": [{"x": 9}]}),
            &actual,
            &mut out,
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].starts_with("a.b: expected 2, got 1"));
    }
}
