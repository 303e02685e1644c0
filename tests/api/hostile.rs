//! What a hostile caller tried (issue: "the holes a hostile caller finds"), through HTTP.

use crate::helpers::{eur, expect_error, request, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn an_absurd_quiet_period_is_a_422_not_a_panic() {
    let app = spawn_app().await;
    for q in ["100000000", "3651"] {
        let r = app
            .get(
                &format!("/v1/customers/at-risk?quiet_days={q}"),
                &app.ingest_key,
            )
            .await;
        let msg = expect_error(r, 422, "invalid_request").await;
        assert!(msg.starts_with("quiet_days"), "{msg}");
    }
    let r = app
        .get("/v1/customers/at-risk?quiet_days=3650", &app.ingest_key)
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_bad_ticket_path_gets_the_json_error_body() {
    let app = spawn_app().await;
    let r = app.get("/v1/tickets/%ff/decision", &app.decide_key).await;
    let msg = expect_error(r, 422, "invalid_request").await;
    assert!(msg.starts_with("path"), "{msg}");
}

#[tokio::test]
async fn huge_orders_cannot_break_a_customers_decisions() {
    let app = spawn_app().await;
    // Each amount is the largest an amount string holds; their sum is not.
    let huge = "999999999999999.99";
    for id in ["huge-1", "huge-2"] {
        let o = json!({"order_id": id, "customer_id": "c-huge", "at": "2026-11-01",
            "amount": eur(huge)});
        let r = app.post_json("/v1/orders", &app.ingest_key, &o).await;
        assert_eq!(r.status(), 201);
    }
    let r = app
        .post_json(
            "/v1/decisions",
            &app.decide_key,
            &request("c-huge", "late_delivery", "ours", "20.00"),
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["customer"]["known"], true);
}

#[tokio::test]
async fn a_bulk_import_above_4_mib_ignores_the_idempotency_key_as_documented() {
    let app = spawn_app().await;
    let line = |i: usize| {
        json!({"customer_id": format!("bulk-{i:06}"), "currency": "EUR",
            "lifetime_revenue": eur("120.00"), "tier": "silver", "orders": 3})
        .to_string()
    };
    let body: String = (0..40_000).map(|i| line(i) + "\n").collect();
    assert!(body.len() > 4 * 1024 * 1024, "{} bytes", body.len());
    let r = app
        .client
        .post(app.url("/v1/customers/import"))
        .bearer_auth(&app.ingest_key)
        .header("content-type", "application/x-ndjson")
        .header("idempotency-key", "bulk-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["imported"], 40_000, "{report:#}");
}
