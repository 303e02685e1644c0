//! `kulanz policy diff A B` and `GET /v1/policies/{version}/diff`: what changed between
//! two policy documents, in words a support-operations lead reads: rules by id (added,
//! removed, moved, changed field by field) and every other setting by path. Each change
//! is a typed value, so the console can say it in German; `Change::text` says it in
//! English for the command line.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// One difference between two policy documents. Values are shown as text: a string as
/// itself, anything else as compact JSON; absent on the side where the field is missing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A rule the second version adds, at its 1-based position.
    RuleAdded {
        rule: String,
        position: usize,
        /// Its description, else its reason.
        description: String,
    },
    RuleRemoved {
        rule: String,
    },
    /// One field of a rule both versions have.
    RuleChanged {
        rule: String,
        path: String,
        before: Option<String>,
        after: Option<String>,
    },
    /// The order of the shared rules changed (first match wins): the new order.
    RuleOrder {
        order: Vec<String>,
    },
    /// Any other setting, by its path.
    Setting {
        path: String,
        before: Option<String>,
        after: Option<String>,
    },
    /// The number of example cases.
    Examples {
        before: usize,
        after: usize,
    },
}

fn field(path: &str, before: &Option<String>, after: &Option<String>) -> String {
    match (before, after) {
        (Some(b), None) => format!("{path}: removed (was {b})"),
        (None, Some(a)) => format!("{path}: added ({a})"),
        (Some(b), Some(a)) => format!("{path}: {b} → {a}"),
        (None, None) => path.to_string(),
    }
}

impl Change {
    /// The change in one English line, as `kulanz policy diff` prints it.
    pub fn text(&self) -> String {
        match self {
            Change::RuleAdded {
                rule,
                position,
                description,
            } => format!("rule `{rule}` added at position {position}: {description}"),
            Change::RuleRemoved { rule } => format!("rule `{rule}` removed"),
            Change::RuleChanged {
                rule,
                path,
                before,
                after,
            } => format!("rule `{rule}`: {}", field(path, before, after)),
            Change::RuleOrder { order } => format!(
                "rule order changed (first match wins): now {}",
                order.join(", ")
            ),
            Change::Setting {
                path,
                before,
                after,
            } => field(path, before, after),
            Change::Examples { before, after } => format!("example cases: {before} → {after}"),
        }
    }
}

type Leaf = (String, Option<String>, Option<String>);

/// Leaf-level differences between two values: path, before, after.
fn leaves(path: &str, a: &Value, b: &Value, out: &mut Vec<Leaf>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => leaves(&p, va, vb, out),
                    (Some(va), None) => out.push((p, Some(show(va)), None)),
                    (None, Some(vb)) => out.push((p, None, Some(show(vb)))),
                    (None, None) => {}
                }
            }
        }
        _ if a == b => {}
        _ => out.push((path.to_string(), Some(show(a)), Some(show(b)))),
    }
}

fn rules(v: &Value) -> Vec<(String, &Value)> {
    v.get("rules")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| (r.get("id").map(show).unwrap_or_default(), r))
                .collect()
        })
        .unwrap_or_default()
}

/// Every change from `a` to `b`, one line each; empty when they are the same.
pub fn diff(a: &Value, b: &Value) -> Vec<String> {
    changes(a, b).iter().map(Change::text).collect()
}

/// Every change from `a` to `b`; empty when they are the same.
pub fn changes(a: &Value, b: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    let (ra, rb) = (rules(a), rules(b));
    let pos = |rs: &[(String, &Value)], id: &str| rs.iter().position(|(x, _)| x == id);
    for (i, (id, rule)) in rb.iter().enumerate() {
        match pos(&ra, id) {
            None => out.push(Change::RuleAdded {
                rule: id.clone(),
                position: i + 1,
                description: rule
                    .get("description")
                    .map(show)
                    .unwrap_or_else(|| show(&rule["then"]["reason"])),
            }),
            Some(j) => {
                let mut changed = Vec::new();
                if let Some((_, old)) = ra.get(j) {
                    leaves("", old, rule, &mut changed);
                }
                for (path, before, after) in changed {
                    out.push(Change::RuleChanged {
                        rule: id.clone(),
                        path,
                        before,
                        after,
                    });
                }
            }
        }
    }
    for (id, _) in &ra {
        if pos(&rb, id).is_none() {
            out.push(Change::RuleRemoved { rule: id.clone() });
        }
    }
    // First match wins, so a change of order among the rules both versions share matters.
    let shared_a: Vec<&String> = ra
        .iter()
        .map(|(id, _)| id)
        .filter(|id| pos(&rb, id).is_some())
        .collect();
    let shared_b: Vec<&String> = rb
        .iter()
        .map(|(id, _)| id)
        .filter(|id| pos(&ra, id).is_some())
        .collect();
    if shared_a != shared_b {
        out.push(Change::RuleOrder {
            order: shared_b.iter().map(|s| s.to_string()).collect(),
        });
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("rules");
            o.remove("examples");
        }
        v
    };
    let mut settings = Vec::new();
    leaves("", &strip(a), &strip(b), &mut settings);
    out.extend(
        settings
            .into_iter()
            .map(|(path, before, after)| Change::Setting {
                path,
                before,
                after,
            }),
    );
    let examples = |v: &Value| {
        v.get("examples")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    if examples(a) != examples(b) {
        out.push(Change::Examples {
            before: examples(a),
            after: examples(b),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;
    use serde_json::json;

    #[test]
    fn describes_rule_and_setting_changes_in_words() {
        let a = json!({"version": "1", "authority": {"agent": {"max": "250.00"}},
            "rules": [{"id": "r1", "then": {"amount": {"of_claim": "1"}}}, {"id": "r2", "then": {}}, {"id": "gone", "then": {}}]});
        let b = json!({"version": "2", "authority": {"agent": {"max": "300.00"}},
            "rules": [{"id": "r2", "then": {}}, {"id": "r1", "then": {"amount": {"of_claim": "0.8"}}},
                      {"id": "new", "description": "extra care", "then": {}}]});
        let d = diff(&a, &b);
        assert!(
            d.contains(&"rule `r1`: then.amount.of_claim: 1 → 0.8".to_string()),
            "{d:?}"
        );
        assert!(
            d.contains(&"rule `new` added at position 3: extra care".to_string()),
            "{d:?}"
        );
        assert!(d.contains(&"rule `gone` removed".to_string()), "{d:?}");
        assert!(
            d.contains(&"rule order changed (first match wins): now r2, r1".to_string()),
            "{d:?}"
        );
        assert!(
            d.contains(&"authority.agent.max: 250.00 → 300.00".to_string()),
            "{d:?}"
        );
        assert!(diff(&a, &a).is_empty());
    }
}
