//! Hostile-input testing with proptest as the fuzzer (cargo-fuzz needs a nightly toolchain):
//! the policy loader, the decision request parser and the customer record / NDJSON import
//! parser, fed arbitrary bytes, arbitrary JSON and mutations of valid documents. None may
//! panic; every refusal must be a located error (a `$` path, a field, a 400 or 422).
//!
//! `cargo test --test fuzz` runs a short pass (a few thousand cases in all);
//! `PROPTEST_CASES=N` sets the cases of every target (`scripts/fuzz.sh` runs a long pass).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kulanz::domain::customer::CustomerRecordDto;
use kulanz::domain::request::{DecisionRequestDto, Vocab};
use kulanz::error::AppError;
use kulanz::http::error::ApiError;
use kulanz::http::extract::parse_json;
use kulanz::policy::compiled::CompiledPolicy;
use kulanz::policy::load::{from_slice, from_value, DEFAULT_POLICY};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// `cases` unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> Config {
    let mut c = Config::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = cases;
    }
    c
}

fn default_policy() -> &'static CompiledPolicy {
    static P: OnceLock<CompiledPolicy> = OnceLock::new();
    P.get_or_init(|| from_slice(DEFAULT_POLICY.as_bytes()).unwrap())
}

/// Arbitrary JSON, with the policy's and the request's own words among the strings so
/// that mutations reach past the first type check.
fn json_value() -> impl Strategy<Value = Value> {
    let word = prop_oneof![
        Just("agent"),
        Just("refund"),
        Just("EUR"),
        Just("late_delivery"),
        Just("ours"),
        Just("high"),
        Just("100.00"),
        Just("-1"),
        Just("2026-02-30"),
        Just("$"),
    ]
    .prop_map(|s| Value::from(s.to_string()));
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::from),
        word,
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer into `v`, the root (`""`) included.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// One mutation: `(which pointer, what to do, a replacement value)`.
type Mutation = (prop::sample::Index, u8, Value);

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec((any::<prop::sample::Index>(), 0u8..6, json_value()), 1..4)
}

/// Apply mutations: delete a field or element, replace a value, swap its type, copy
/// another part of the document over it, or empty a container.
fn mutate(mut doc: Value, muts: &[Mutation]) -> Value {
    for (index, op, replacement) in muts {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let target = index.get(&all).clone();
        let donor = doc
            .pointer(&all[(index.index(all.len()) * 7 + 3) % all.len()])
            .cloned();
        match op {
            0 => {
                let (parent, last) = target.rsplit_once('/').unwrap_or(("", ""));
                match doc.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            if i < a.len() {
                                a.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {
                let Some(slot) = doc.pointer_mut(&target) else {
                    continue;
                };
                *slot = match op {
                    1 => replacement.clone(),
                    2 => swap_type(slot),
                    3 => donor.unwrap_or(Value::Null),
                    4 => match slot {
                        Value::Array(_) => json!([]),
                        Value::Object(_) => json!({}),
                        Value::String(_) => json!(""),
                        _ => json!(0),
                    },
                    _ => Value::Null,
                };
            }
        }
    }
    doc
}

fn swap_type(v: &Value) -> Value {
    match v {
        Value::String(s) => s.parse::<f64>().map(|f| json!(f)).unwrap_or(json!(s.len())),
        Value::Number(n) => Value::from(n.to_string()),
        Value::Bool(b) => Value::from(b.to_string()),
        Value::Array(a) => Value::Object(
            a.iter()
                .enumerate()
                .map(|(i, x)| (i.to_string(), x.clone()))
                .collect(),
        ),
        Value::Object(m) => Value::Array(m.values().cloned().collect()),
        Value::Null => json!({}),
    }
}

fn check_policy(result: Result<CompiledPolicy, kulanz::policy::err::PolicyError>) {
    if let Err(e) = result {
        let problems = e.problems();
        assert!(!problems.is_empty(), "a refusal names at least one problem");
        for p in problems {
            assert!(p.path.starts_with('$'), "path without `$`: {p}");
            assert!(!p.message.is_empty(), "empty message at {}", p.path);
        }
    }
}

fn valid_request() -> Value {
    json!({
        "ticket_id": "ZD-48213",
        "customer_id": "c-10442",
        "agent": {"id": "a-17", "role": "agent"},
        "complaint": {
            "category": "cancellation_refund",
            "severity": "medium",
            "channel": "social",
            "fault": "unclear",
            "amount_at_stake": {"amount": "100.00", "currency": "EUR"},
            "description": "free text"
        },
        "attributes": {"unanswered_contacts": 3, "fare_class": "flex", "vip": true}
    })
}

fn valid_record() -> Value {
    json!({
        "customer_id": "c-77001",
        "currency": "EUR",
        "lifetime_revenue": {"amount": "10400.00", "currency": "EUR"},
        "orders": 38,
        "first_order_at": "2019-03-02",
        "last_order_at": "2026-10-30",
        "predicted_value": {"amount": "12000.00", "currency": "EUR"},
        "revenue_12m": {"amount": "1500.00", "currency": "EUR"},
        "tier": "silver",
        "peak_tier": "gold",
        "referrals": 3,
        "nps": {"score": 4, "at": "2026-09-12"},
        "goodwill_12m": {"amount": "35.00", "currency": "EUR"},
        "claims_90d": 1
    })
}

/// Parse and validate a decision request as the route does; a valid one is also
/// evaluated, so hostile values that pass the edge reach the engine.
fn check_request(bytes: &[u8]) {
    let policy = default_policy();
    let dto = match parse_json::<DecisionRequestDto>(bytes) {
        Ok(dto) => dto,
        Err(e) => return assert_refusal(&e),
    };
    let vocab = Vocab {
        categories: &policy.categories,
        roles: &policy.roles,
        currency: policy.currency,
    };
    match dto.validate(&vocab) {
        Ok(input) => {
            let now = chrono::Utc::now();
            let _ = kulanz::policy::engine::evaluate(policy, &input, None, now);
        }
        Err(f) => {
            assert!(!f.field.is_empty(), "an invalid field is named: {f}");
            assert_refusal(&ApiError::from(AppError::Invalid(f)));
        }
    }
}

fn assert_refusal(e: &ApiError) {
    let status = e.status().as_u16();
    assert!(
        status == 400 || status == 422,
        "bad input answered {status} {}: {}",
        e.code,
        e.message
    );
}

/// Parse an NDJSON import line and normalise the record, as the import does.
fn check_ndjson(bytes: &[u8]) {
    match kulanz::service::import::parse_ndjson(bytes) {
        Ok((_, dto)) => match kulanz::service::customers::normalise(dto) {
            Ok(_) => {}
            Err(AppError::Invalid(f)) => assert!(!f.field.is_empty(), "{f}"),
            Err(other) => panic!("a record is refused as invalid, not with {other}"),
        },
        Err(f) => assert!(!f.field.is_empty(), "{f}"),
    }
}

/// Parse a customer record body as `PUT /v1/customers/{id}` does.
fn check_record(bytes: &[u8]) {
    match parse_json::<CustomerRecordDto>(bytes) {
        Ok(dto) => {
            if let Err(f) = dto.validate() {
                assert!(!f.field.is_empty(), "{f}");
            }
        }
        Err(e) => assert_refusal(&e),
    }
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn the_policy_loader_refuses_arbitrary_bytes_with_a_path(b in bytes()) {
        check_policy(from_slice(&b));
    }

    #[test]
    fn the_policy_loader_refuses_arbitrary_json_with_a_path(v in json_value()) {
        check_policy(from_slice(v.to_string().as_bytes()));
    }

    #[test]
    fn the_request_parser_answers_arbitrary_bytes_with_400_or_422(b in bytes()) {
        check_request(&b);
    }

    #[test]
    fn the_request_parser_answers_arbitrary_json_with_400_or_422(v in json_value()) {
        check_request(v.to_string().as_bytes());
    }

    #[test]
    fn the_record_parsers_refuse_arbitrary_bytes_with_a_field(b in bytes()) {
        check_ndjson(&b);
        check_record(&b);
    }

    #[test]
    fn mutated_decision_requests_are_refused_with_400_or_422_or_decided(m in mutations()) {
        check_request(mutate(valid_request(), &m).to_string().as_bytes());
    }

    #[test]
    fn mutated_customer_records_are_refused_with_a_field_or_stored(m in mutations()) {
        let line = mutate(valid_record(), &m);
        check_ndjson(line.to_string().as_bytes());
        let mut body = line;
        if let Some(o) = body.as_object_mut() {
            o.remove("customer_id");
        }
        check_record(body.to_string().as_bytes());
    }
}

proptest! {
    // Each case runs every check of the policy (example cases, the monotonicity check),
    // which is slow in a debug build: fewer cases by default.
    #![proptest_config(config(48))]

    #[test]
    fn mutated_shipped_policies_are_refused_with_a_path_or_load(m in mutations()) {
        let doc: Value = serde_json::from_str(DEFAULT_POLICY).unwrap();
        check_policy(from_value(mutate(doc, &m)));
    }
}

#[test]
fn the_unmutated_documents_are_valid() {
    // The mutation targets start from valid documents; otherwise they test nothing deep.
    check_policy(from_slice(DEFAULT_POLICY.as_bytes()));
    assert!(from_slice(DEFAULT_POLICY.as_bytes()).is_ok());
    let dto: DecisionRequestDto = parse_json(valid_request().to_string().as_bytes()).unwrap();
    let p = default_policy();
    let vocab = Vocab {
        categories: &p.categories,
        roles: &p.roles,
        currency: p.currency,
    };
    assert!(dto.validate(&vocab).is_ok());
    let (id, record) =
        kulanz::service::import::parse_ndjson(valid_record().to_string().as_bytes()).unwrap();
    assert_eq!(id, "c-77001");
    assert!(kulanz::service::customers::normalise(record).is_ok());
}
