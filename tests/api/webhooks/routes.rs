//! What the widget relies on beside the webhooks: the ticket route, outcome `status`, and
//! the OpenAPI entries of the new routes.

use crate::helpers::{eur, expect_error, request, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn the_ticket_route_needs_the_decide_scope() {
    let app = spawn_app().await;
    let r = app.get("/v1/tickets/T-1/decision", &app.ingest_key).await;
    expect_error(r, 403, "forbidden").await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let r = app.get("/v1/tickets/T-1/decision", &app.decide_key).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["decision_id"], d["decision_id"]);
}

#[tokio::test]
async fn escalated_and_declined_outcomes_grant_nothing() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let path = format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    );
    let bad =
        json!({"granted": {"gesture": "refund", "amount": eur("100.00")}, "status": "declined"});
    let r = app.post_json(&path, &app.decide_key, &bad).await;
    let msg = expect_error(r, 422, "invalid_request").await;
    assert!(msg.contains("granted.gesture"), "{msg}");
    let ok = json!({"granted": {"gesture": "none"}, "status": "escalated", "note": "to lead"});
    let r = app.post_json(&path, &app.decide_key, &ok).await;
    assert_eq!(r.status(), 201);
    let stored: Value = app
        .get_json(
            &format!("/v1/decisions/{}", d["decision_id"].as_str().unwrap()),
            &app.admin_key,
        )
        .await;
    assert_eq!(stored["outcome"]["status"], "escalated");
    assert_eq!(stored["outcome"]["note"], "to lead");
}

#[tokio::test]
async fn the_openapi_document_lists_the_webhook_and_ticket_routes() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/webhooks/zendesk",
        "/v1/webhooks/generic",
        "/v1/tickets/{ticket_id}/decision",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let zendesk = &doc["paths"]["/v1/webhooks/zendesk"]["post"];
    assert!(
        zendesk.get("security").is_none(),
        "signed, not keyed: {zendesk}"
    );
}
