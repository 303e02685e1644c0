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
    // 40 requests at once; tickets T-0 and T-1 are each decided twice, a millisecond apart.
    let asks: Vec<_> = (0..40i64)
        .map(|i| {
            let ticket = format!("T-{}", i % 38);
            let s = &s;
            async move {
                decide(
                    s,
                    request(&ticket, &format!("c-{i}")),
                    now + Duration::milliseconds(i),
                )
                .await
                .unwrap()
            }
        })
        .collect();
    let decided = futures_join(asks).await;

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

async fn futures_join<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
