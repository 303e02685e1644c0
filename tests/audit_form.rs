//! The audit link of a decision covers its canonical form. The service writes that form
//! straight from the record (`audit::decision_canonical`); it must be byte for byte what
//! the original `Value` path (`canonical(&decision_form(..))`) gives, or links written by
//! earlier versions would stop verifying. Checked here on real decisions: known and
//! unknown customers, every scenario of the demo, with outcomes, and after erasure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use kulanz::domain::request::DecisionRequestDto;
use kulanz::service::decisions::{decide, record_outcome};
use kulanz::service::AppState;
use kulanz::store::audit::{canonical, decision_canonical, decision_form, link_canonical};
use kulanz::store::Store;
use serde_json::json;
use std::sync::Arc;

fn request(ticket: &str, customer: &str, category: &str, amount: &str) -> DecisionRequestDto {
    serde_json::from_value(json!({
        "ticket_id": ticket,
        "customer_id": customer,
        "agent": {"id": "a-1", "role": "agent"},
        "complaint": {
            "category": category, "severity": "high", "channel": "phone",
            "fault": "ours", "amount_at_stake": {"amount": amount, "currency": "EUR"},
            "description": "said \"never again\" \u{2013} twice\n"
        },
        "attributes": {"proactive": false, "z": 1, "a": 1.5, "é": "x"}
    }))
    .unwrap()
}

#[tokio::test]
async fn the_direct_canonical_form_is_the_value_form_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    kulanz::demo::seed(&store, Utc::now()).unwrap();
    let policy = kulanz::policy::load::from_file(std::path::Path::new("policies/goodwill.json"))
        .expect("shipped policy loads");
    let s = AppState::new(store, Some(Arc::new(policy)));
    let customers = [
        "c-10442",
        "c-30303",
        "c-40404",
        "c-50505",
        "c-60606",
        "c-unknown",
    ];
    let categories = ["cancellation_refund", "damaged_item", "late_delivery"];
    let mut ids = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        for (j, cat) in categories.iter().enumerate() {
            let amount = format!("{}.{:02}", 10 + 90 * i, 7 * j);
            let d = decide(
                &s,
                request(&format!("T-{i}-{j}"), c, cat, &amount),
                None,
                Utc::now(),
            )
            .await
            .unwrap();
            ids.push(d.decision_id);
        }
    }
    let outcome = serde_json::from_value(json!({
        "granted": {"gesture": "voucher", "amount": {"amount": "5.00", "currency": "EUR"}},
        "note": "ok"
    }))
    .unwrap();
    record_outcome(&s, &ids[0], outcome, "test", Utc::now())
        .await
        .unwrap();
    kulanz::service::customers::erase(&s, "c-30303")
        .await
        .unwrap();

    let key = b"any key: the forms are pure functions of it";
    let mut erased = 0;
    for id in &ids {
        let d = s.store.get_decision(id).unwrap().unwrap();
        erased += usize::from(d.erased);
        let direct = decision_canonical(key, &d);
        let via_value = canonical(&decision_form(key, &d));
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(via_value).unwrap(),
            "decision {id}"
        );
    }
    assert_eq!(erased, 3, "c-30303's decisions are erased");
    assert!(s
        .store
        .get_decision(&ids[0])
        .unwrap()
        .unwrap()
        .outcome
        .is_some());
    let v = s.store.verify_audit().unwrap();
    assert!(v.intact, "{v:?}");
    assert_eq!(v.entries, ids.len() as u64 + 1);
}

/// A link written by an earlier version (the form and hash below were computed with the
/// `Value` path before the direct writer existed) still verifies.
#[test]
fn a_link_from_before_the_direct_writer_still_holds() {
    let d: kulanz::store::decisions::StoredDecision =
        serde_json::from_str(include_str!("fixtures/stored_decision.json")).unwrap();
    let key = b"fixture key";
    let expected = include_str!("fixtures/stored_decision.hash").trim();
    let old = kulanz::store::audit::link(kulanz::store::audit::GENESIS, &decision_form(key, &d));
    assert_eq!(old, expected, "the Value path");
    let form = decision_canonical(key, &d);
    assert_eq!(
        link_canonical(kulanz::store::audit::GENESIS, &form),
        expected
    );
}
