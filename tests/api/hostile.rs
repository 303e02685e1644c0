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
