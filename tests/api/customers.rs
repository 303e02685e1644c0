//! Customer value records and bulk import.

use crate::helpers::{eur, expect_error, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn a_customer_record_can_be_put_read_replaced_and_erased() {
    let app = spawn_app().await;
    let record =
        json!({"currency": "EUR", "lifetime_revenue": eur("250.5"), "orders": 3, "tier": "Silver"});
    let r = app.put_customer("c-77", record.clone()).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["customer_id"], "c-77");
    assert_eq!(
        v["lifetime_revenue"],
        eur("250.50"),
        "amounts normalised to cents"
    );
    assert_eq!(v["tier"], "silver");
    assert!(v["updated_at"].is_string());

    let mut replaced = record.clone();
    replaced["orders"] = json!(4);
    assert_eq!(app.put_customer("c-77", replaced).await.status(), 200);
    let got: Value = app.get_json("/v1/customers/c-77", &app.ingest_key).await;
    assert_eq!(got["orders"], 4);

    let del = |key: String| {
        let client = app.client.clone();
        let url = app.url("/v1/customers/c-77");
        async move { client.delete(url).bearer_auth(key).send().await.unwrap() }
    };
    expect_error(del(app.ingest_key.clone()).await, 403, "forbidden").await;
    assert_eq!(del(app.admin_key.clone()).await.status(), 204);
    expect_error(
        app.get("/v1/customers/c-77", &app.ingest_key).await,
        404,
        "customer_not_found",
    )
    .await;
    expect_error(del(app.admin_key.clone()).await, 404, "customer_not_found").await;
}

#[tokio::test]
async fn an_invalid_record_is_refused_with_the_field_and_the_old_one_kept() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"currency": "EUR"}), "lifetime_revenue: is required"),
        (
            json!({"currency": "EUR", "lifetime_revenue": eur("1.00"), "nps": {"score": 11, "at": "2026-01-01"}}),
            "nps.score: must be between 0 and 10",
        ),
        (
            json!({"currency": "EUR", "lifetime_revenue": eur("1.00"), "first_order_at": "2026-13-01"}),
            "first_order_at: expected a date",
        ),
        (
            json!({"currency": "EUR", "lifetime_revenue": eur("1.00"), "orders": -1}),
            "orders: must be between",
        ),
        (
            json!({"currency": "EUR", "lifetime_revenue": eur("1.00"), "loyalty": 3}),
            "loyalty: unknown field `loyalty`",
        ),
    ] {
        let msg = expect_error(
            app.put_customer("c-10442", body).await,
            422,
            "invalid_request",
        )
        .await;
        assert!(msg.starts_with(field), "{msg} should start with {field}");
    }
    let got: Value = app.get_json("/v1/customers/c-10442", &app.ingest_key).await;
    assert_eq!(got["lifetime_revenue"], eur("10400.00"));
}

#[tokio::test]
async fn an_ndjson_import_stores_good_lines_and_reports_bad_ones_by_number() {
    let app = spawn_app().await;
    let body = [
        r#"{"customer_id":"imp-1","currency":"EUR","lifetime_revenue":{"amount":"100.00","currency":"EUR"}}"#,
        r#"{"customer_id":"imp-2","currency":"EUR","lifetime_revenue":{"amount":"abc","currency":"EUR"}}"#,
        "",
        r#"not json"#,
        r#"{"customer_id":"imp-3","currency":"EUR","lifetime_revenue":{"amount":"300.00","currency":"EUR"},"claims_90d":2}"#,
    ]
    .join("\n");
    let r = app.import(body).await;
    assert_eq!(r.status(), 200);
    let summary: Value = r.json().await.unwrap();
    assert_eq!(summary["imported"], 2);
    assert_eq!(summary["rejected"], 2);
    assert_eq!(summary["errors"][0]["line"], 2);
    assert!(summary["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("lifetime_revenue.amount"));
    assert_eq!(summary["errors"][1]["line"], 4);
    let got: Value = app.get_json("/v1/customers/imp-3", &app.ingest_key).await;
    assert_eq!(got["claims_90d"], 2);
    expect_error(
        app.get("/v1/customers/imp-2", &app.ingest_key).await,
        404,
        "customer_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_large_import_streams_in_batches() {
    let app = spawn_app().await;
    let n = 5_000;
    let body: String = (0..n)
        .map(|i| format!("{{\"customer_id\":\"bulk-{i}\",\"currency\":\"EUR\",\"lifetime_revenue\":{{\"amount\":\"{i}.00\",\"currency\":\"EUR\"}}}}\n"))
        .collect();
    let r = app.import(body).await;
    let summary: Value = r.json().await.unwrap();
    assert_eq!(summary["imported"], n);
    assert_eq!(summary["rejected"], 0);
    let got: Value = app
        .get_json("/v1/customers/bulk-4999", &app.ingest_key)
        .await;
    assert_eq!(got["lifetime_revenue"], eur("4999.00"));
}
