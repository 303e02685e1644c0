//! Erasure that erases: after `DELETE /v1/customers/{id}` and the restart that compacts the
//! store, no file of the data directory holds the customer's id or their record's values.

use crate::helpers::{eur, spawn_app, start, TestApp};
use crate::orders::{order, post_ndjson};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Distinctive enough that a match can only be this customer's data.
const ID: &str = "erase-qx7v-31415";
/// The record the decision saw: kept, pseudonymised, in the decision's customer snapshot
/// (docs/operations.md, "Erasure requests").
const SEEN_REVENUE: &str = "64213.57";
const SEEN_PREDICTED: &str = "70996.11";
/// The record as it was when erased, changed after the decision.
const REVENUE: &str = "73519.27";
const PREDICTED: &str = "88147.63";
const NPS_COMMENT: &str = "quokka marmalade tangent";
const ORDER_ID: &str = "ord-mv4z-2718";
const ORDER_AMOUNT: &str = "641.93";

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Where each needle occurs: `file: needle ×count`, one line per hit.
fn occurrences(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in needles {
            let n = bytes
                .windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count();
            if n > 0 {
                let name = file.strip_prefix(dir).unwrap().display();
                hits.push(format!("{name}: `{needle}` x{n}"));
            }
        }
    }
    hits
}

fn record(revenue: &str, predicted: &str) -> Value {
    json!({
        "currency": "EUR", "lifetime_revenue": eur(revenue), "predicted_value": eur(predicted),
        "orders": 41, "tier": "gold", "first_order_at": "2019-03-02", "last_order_at": "2026-10-30",
    })
}

/// Everything the API keeps about a customer: record, orders, an NPS answer, a decision
/// with an outcome (so a ledger entry), and an answer kept for an `Idempotency-Key`.
async fn customer_with_a_history(app: &TestApp) -> String {
    assert_eq!(
        app.put_customer(ID, record(SEEN_REVENUE, SEEN_PREDICTED))
            .await
            .status(),
        201
    );
    post_ndjson(app, &[order(ORDER_ID, ID, "2026-10-30", ORDER_AMOUNT)]).await;
    let nps = json!({"customer_id": ID, "score": 3, "comment": NPS_COMMENT, "at": "2026-11-01"});
    let r = app.post_json("/v1/nps", &app.ingest_key, &nps).await;
    assert_eq!(r.status(), 201);
    // The ticket id is the caller's and stays in the decision: it must not name the customer.
    let mut req = crate::helpers::request(ID, "late_delivery", "ours", "80.00");
    req["ticket_id"] = json!("T-ERASE-1");
    let d = app.decide_ok(&req).await;
    let path = format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    );
    let outcome = json!({"granted": {"gesture": "voucher", "amount": eur("20.00")}});
    // An outcome writes the customer's ledger entry (keyed by their id) with it.
    assert_eq!(
        app.post_json(&path, &app.decide_key, &outcome)
            .await
            .status(),
        201
    );
    // The record changes after the decision; the answer is kept for replays.
    let r = app
        .client
        .put(app.url(&format!("/v1/customers/{ID}")))
        .bearer_auth(&app.ingest_key)
        .header("idempotency-key", "erasure-put-1")
        .json(&record(REVENUE, PREDICTED))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    d["decision_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_erased_customer_is_in_no_file_of_the_data_directory_after_a_restart() {
    let app = spawn_app().await;
    let id = customer_with_a_history(&app).await;
    let r = app
        .client
        .delete(app.url(&format!("/v1/customers/{ID}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // A restart compacts the store: erasures happened since the last compaction.
    let dir = app.stop().await;
    // The compacted store is the same store, less the erased customer.
    let app = start(dir).await;
    let seeded: Value = app.get_json("/v1/customers/c-10442", &app.ingest_key).await;
    assert_eq!(seeded["lifetime_revenue"], eur("10400.00"));
    let r = app
        .get(&format!("/v1/customers/{ID}"), &app.ingest_key)
        .await;
    assert_eq!(r.status(), 404);
    let stored: Value = app
        .get_json(&format!("/v1/decisions/{id}"), &app.decide_key)
        .await;
    assert_eq!(stored["erased"], true, "{stored:#}");
    let audit: Value = app.get_json("/v1/audit/verify", &app.admin_key).await;
    assert_eq!(audit["intact"], true, "{audit:#}");
    let dir = app.stop().await;

    let gone = [ID, REVENUE, PREDICTED, NPS_COMMENT, ORDER_ID, ORDER_AMOUNT];
    let hits = occurrences(dir.path(), &gone);
    assert!(hits.is_empty(), "erased data found:\n{}", hits.join("\n"));
    // What the decision saw stays in its pseudonymised snapshot, in the decision log only.
    let kept = occurrences(dir.path(), &[SEEN_REVENUE, SEEN_PREDICTED]);
    let log = kulanz::store::decision_log::FILE_NAME;
    assert!(kept.iter().all(|h| h.starts_with(log)), "{kept:?}");
}
