//! `kulanz policy diff A B`: what changed between two policy documents, in words a
//! support-operations lead reads: rules by id (added, removed, moved, changed field by
//! field) and every other setting by path.

use serde_json::Value;

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// Leaf-level differences between two values, as `path: before → after` lines.
fn leaves(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
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
                    (Some(va), None) => out.push(format!("{p}: removed (was {})", show(va))),
                    (None, Some(vb)) => out.push(format!("{p}: added ({})", show(vb))),
                    (None, None) => {}
                }
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {} → {}", show(a), show(b))),
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
    let mut out = Vec::new();
    let (ra, rb) = (rules(a), rules(b));
    let pos = |rs: &[(String, &Value)], id: &str| rs.iter().position(|(x, _)| x == id);
    for (i, (id, rule)) in rb.iter().enumerate() {
        match pos(&ra, id) {
            None => out.push(format!(
                "rule `{id}` added at position {}: {}",
                i + 1,
                rule.get("description")
                    .map(show)
                    .unwrap_or_else(|| show(&rule["then"]["reason"]))
            )),
            Some(j) => {
                let mut changes = Vec::new();
                if let Some((_, old)) = ra.get(j) {
                    leaves("", old, rule, &mut changes);
                }
                for c in changes {
                    out.push(format!("rule `{id}`: {c}"));
                }
            }
        }
    }
    for (id, _) in &ra {
        if pos(&rb, id).is_none() {
            out.push(format!("rule `{id}` removed"));
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
        let order: Vec<&str> = shared_b.iter().map(|s| s.as_str()).collect();
        out.push(format!(
            "rule order changed (first match wins): now {}",
            order.join(", ")
        ));
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("rules");
            o.remove("examples");
        }
        v
    };
    leaves("", &strip(a), &strip(b), &mut out);
    let examples = |v: &Value| {
        v.get("examples")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    if examples(a) != examples(b) {
        out.push(format!("example cases: {} → {}", examples(a), examples(b)));
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
