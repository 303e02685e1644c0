//! Concurrent decisions are written in shared transactions (store/decision_batch.rs):
//! every one is stored, the audit chain stays whole, and a ticket decided twice in one
//! batch points at its later decision.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Utc};
use kulanz::domain::request::DecisionRequestDto;
use kulanz::service::decisions::decide;
use kulanz::service::AppState;
use kulanz::store::Store;
use serde_json::json;
use std::sync::Arc;

fn request(ticket: &str, customer: &str) -> DecisionRequestDto {
    serde_json::from_value(json!({
        "ticket_id": ticket,
        "customer_id": customer,
        "agent": {"id": "a-1", "role": "agent"},
        "complaint": {
            "category": "late_delivery", "severity": "medium", "channel": "email",
            "fault": "ours", "amount_at_stake": {"amount": "40.00", "currency": "EUR"}
        }
    }))
    .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_decisions_share_transactions_and_keep_the_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let policy = kulanz::policy::load::from_file(std::path::Path::new("policies/goodwill.json"))
        .expect("shipped policy loads");
    let s = AppState::new(store, Some(Arc::new(policy)));
    let now = Utc::now();
    // 40 requests at once, each its own task: on one thread they all queue before the
    // writer runs. Tickets T-0 and T-1 are each decided twice, 38 ms apart.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40i64 {
        let s = s.clone();
        tasks.spawn(async move {
            let ticket = format!("T-{}", i % 38);
            let at = now + Duration::milliseconds(i);
            decide(&s, request(&ticket, &format!("c-{i}")), None, at)
                .await
                .unwrap()
        });
    }
    let mut decided = tasks.join_all().await;
    decided.sort_by(|a, b| a.decision_id.cmp(&b.decision_id));

    assert_eq!(s.store.decision_count(), 40);
    for d in &decided {
        assert!(s.store.get_decision(&d.decision_id).unwrap().is_some());
    }
    // On one thread every request queues before the writer runs: far fewer transactions.
    let batches = s.store.decision_batch_count();
    assert!(
        (1..40).contains(&batches),
        "{batches} transactions for 40 decisions"
    );
    let v = s.store.verify_audit().unwrap();
    assert!(v.intact, "{v:?}");
    assert_eq!(v.entries, 40);
    // T-0 was decided at +0 ms and +38 ms: the ticket points at the later one.
    let later = decided
        .iter()
        .find(|d| d.ticket_id == "T-0" && d.decision_id != decided[0].decision_id)
        .unwrap();
    assert_eq!(
        s.store.ticket_decision("T-0").unwrap().as_deref(),
        Some(later.decision_id.as_str())
    );
}

/// Relaxed, the batch is written on the writer's own worker as soon as it runs. Woken by
/// the first decision, it would run before the other requests ready on that worker and
/// write nearly every decision alone (one `pwrite` and one head record each); it lets them
/// join first. One worker, 40 requests ready at once: a few batches, not 40.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn relaxed_decisions_ready_together_share_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path())
        .unwrap()
        .with_durability(kulanz::store::Durability::Relaxed);
    let policy = kulanz::policy::load::from_file(std::path::Path::new("policies/goodwill.json"))
        .expect("shipped policy loads");
    let s = AppState::new(store, Some(Arc::new(policy)));
    let now = Utc::now();
    let s2 = s.clone();
    // Spawned from one task on the worker, so all 40 are in its queue when the first runs.
    tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40i64 {
            let s = s2.clone();
            tasks.spawn(async move {
                let at = now + Duration::milliseconds(i);
                decide(&s, request(&format!("R-{i}"), "c-1"), None, at)
                    .await
                    .unwrap()
            });
        }
        tasks.join_all().await
    })
    .await
    .unwrap();
    assert_eq!(s.store.decision_count(), 40);
    let batches = s.store.decision_batch_count();
    assert!(batches <= 4, "{batches} appends for 40 decisions");
    assert!(s.store.verify_audit().unwrap().intact);
}
