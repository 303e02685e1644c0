//! Orders, the value fit, and decisions for customers known only from their orders.

use crate::helpers::{eur, expect_error, request, spawn_app, TestApp};
use serde_json::{json, Value};

pub(crate) use crate::order_data::{order, population, post_ndjson};

async fn fit(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/v1/value/fit", &app.admin_key, &body).await
}

#[tokio::test]
async fn an_order_is_stored_once_and_a_changed_duplicate_is_refused() {
    let app = spawn_app().await;
    let o = order("o-1", "c-new", "2026-10-01T10:00:00Z", "40.00");
    let r = app.post_json("/v1/orders", &app.ingest_key, &o).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["imported"].as_u64(), v["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let again = app.post_json("/v1/orders", &app.ingest_key, &o).await;
    assert_eq!(again.status(), 200);
    let v: Value = again.json().await.unwrap();
    assert_eq!(v["duplicates"], 1);
    let changed = order("o-1", "c-new", "2026-10-01T10:00:00Z", "41.00");
    let msg = expect_error(
        app.post_json("/v1/orders", &app.ingest_key, &changed).await,
        409,
        "order_conflict",
    )
    .await;
    assert!(msg.contains("`o-1`"), "{msg}");
    expect_error(
        app.post_json("/v1/orders", &app.decide_key, &o).await,
        403,
        "forbidden",
    )
    .await;
    let mut number = o.clone();
    number["amount"] = json!(12.5);
    number["order_id"] = json!("o-2");
    let msg = expect_error(
        app.post_json("/v1/orders", &app.ingest_key, &number).await,
        422,
        "invalid_request",
    )
    .await;
    assert!(msg.starts_with("amount:"), "{msg}");
    let v: Value = app.get_json("/v1/customers/c-new", &app.ingest_key).await;
    assert_eq!(v["value"]["orders"], 1, "{v:#}");
    assert_eq!(v["lifetime_revenue"], eur("40.00"));

    // Erasure takes the order history with the record.
    let erase = app
        .client
        .delete(app.url("/v1/customers/c-new"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(erase.status(), 204);
    expect_error(
        app.get("/v1/customers/c-new", &app.ingest_key).await,
        404,
        "customer_not_found",
    )
    .await;
    let r = app.post_json("/v1/orders", &app.ingest_key, &changed).await;
    assert_eq!(r.status(), 201, "the erased order id is free again");
}

#[tokio::test]
async fn a_batch_reports_bad_lines_and_refunds_are_kept_out_of_spend() {
    let app = spawn_app().await;
    let lines = [
        order("r-1", "c-ref", "2026-01-05", "100.00"),
        order("r-2", "c-ref", "2026-02-05", "60.00"),
        order("r-3", "c-ref", "2026-02-05", "20.00"),
        order("r-4", "c-ref", "2026-02-07", "-60.00"),
        json!({"order_id": "r-5", "customer_id": "c-ref", "at": "someday", "amount": eur("1.00")}),
        json!({"order_id": "r-6", "customer_id": "c-ref", "at": "2026-03-01", "amount": {"amount": "5.00", "currency": "USD"}}),
    ];
    let v = post_ndjson(&app, &lines).await;
    assert_eq!(
        (v["imported"].as_u64(), v["rejected"].as_u64()),
        (Some(4), Some(2)),
        "{v:#}"
    );
    assert_eq!(v["errors"][0]["line"], 5);
    assert!(
        v["errors"][1]["message"].as_str().unwrap().contains("USD"),
        "{v:#}"
    );
    let c: Value = app.get_json("/v1/customers/c-ref", &app.ingest_key).await;
    let value = &c["value"];
    assert_eq!(
        value["frequency"], 1,
        "same-day orders are one purchase occasion"
    );
    assert_eq!(value["refunds"], 1);
    assert_eq!(value["net_revenue"], eur("120.00"));
    assert_eq!(
        value["mean_repeat_spend"],
        eur("80.00"),
        "the refund is not spend"
    );
    assert!(value["prediction"].is_null(), "no model yet");
}

#[tokio::test]
async fn a_failed_fit_is_a_clear_error_and_keeps_the_previous_model() {
    let app = spawn_app().await;
    let r = fit(&app, json!({})).await;
    let msg = expect_error(r, 422, "value_fit_failed").await;
    assert!(msg.contains("too few customers"), "{msg}");
    expect_error(
        app.get("/v1/value/model", &app.admin_key).await,
        404,
        "value_model_not_found",
    )
    .await;

    post_ndjson(&app, &population()).await;
    let r = fit(&app, json!({"observation_end": "2026-06-30"})).await;
    let status = r.status();
    let report: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{report:#}");
    assert_eq!(report["version"], 1);
    assert_eq!(report["bgnbd_fit"]["customers"], 300);
    let msg = expect_error(
        fit(&app, json!({"currency": "USD"})).await,
        422,
        "value_fit_failed",
    )
    .await;
    assert!(msg.contains("previous model is kept"), "{msg}");
    let model: Value = app.get_json("/v1/value/model", &app.admin_key).await;
    assert_eq!(model["version"], 1);
    expect_error(
        fit(&app, json!({"horizon_months": 0})).await,
        422,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn s1_works_for_a_customer_known_only_from_orders() {
    let app = spawn_app().await;
    post_ndjson(&app, &population()).await;
    // A loyal customer: a €300 booking every week for 78 weeks, and nothing pushed.
    let day0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let loyal: Vec<Value> = (0..78u64)
        .map(|k| {
            let day = day0 + chrono::Days::new(7 * k);
            order(
                &format!("l-{k}"),
                "c-orders-only",
                &day.to_string(),
                "300.00",
            )
        })
        .collect();
    post_ndjson(&app, &loyal).await;
    assert_eq!(
        fit(&app, json!({"observation_end": "2026-06-30"}))
            .await
            .status(),
        201
    );

    let c: Value = app
        .get_json("/v1/customers/c-orders-only", &app.ingest_key)
        .await;
    let prediction = &c["value"]["prediction"];
    assert!(prediction["p_alive"].as_f64().unwrap() > 0.9, "{c:#}");
    let predicted = prediction["predicted_value"]["amount"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        c.get("predicted_value").is_none(),
        "a model value is not shown as pushed"
    );

    let mut s1 = request("c-orders-only", "cancellation_refund", "unclear", "100.00");
    s1["complaint"]["channel"] = json!("social");
    let d = app.decide_ok(&s1).await;
    assert_eq!(d["customer"]["known"], true);
    assert_eq!(
        d["customer"]["value_at_risk"]["amount"],
        predicted.as_str(),
        "{d:#}"
    );
    assert_eq!(d["recommendation"]["gesture"], "refund", "{d:#}");
    let shown =
        kulanz::money::Money::new(predicted.parse().unwrap(), "EUR".parse().unwrap()).display();
    let reason = d["reasons"][0]["text"].as_str().unwrap();
    eprintln!("S1 reason: {reason}");
    assert!(
        reason.contains(&shown),
        "the reason names the computed value {shown}: {reason}"
    );
}

#[tokio::test]
async fn a_validation_compares_the_holdout_names_bad_dates_and_stores_nothing() {
    let app = spawn_app().await;
    post_ndjson(&app, &population()).await;
    let body = json!({"calibration_end": "2025-12-31", "holdout_end": "2026-06-30",
        "time_unit": "week"});
    let r = app
        .post_json("/v1/value/validate", &app.ingest_key, &body)
        .await;
    expect_error(r, 403, "forbidden").await;
    let r = app
        .post_json("/v1/value/validate", &app.admin_key, &body)
        .await;
    let status = r.status();
    let report: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{report:#}");
    let customers = report["customers"].as_u64().unwrap();
    assert!(customers > 100, "{report:#}");
    assert_eq!(report["purchases"]["customers"], customers);
    assert_eq!(
        report["by_calibration_frequency"].as_array().unwrap().len(),
        8
    );
    assert_eq!(report["holdout_duration"], 181.0 / 7.0);
    let tracking = report["tracking"].as_array().unwrap();
    assert!(tracking.len() > 52 && tracking.last().unwrap()["actual"].as_f64() > Some(0.0));
    assert!(report["spend"]["spend"]["customers"].as_u64() > Some(0));
    // Nothing was stored: there is still no model.
    expect_error(
        app.get("/v1/value/model", &app.admin_key).await,
        404,
        "value_model_not_found",
    )
    .await;

    let r = app
        .post_json(
            "/v1/value/validate",
            &app.admin_key,
            &json!({"calibration_end": "2026-06-30", "holdout_end": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_request");
    assert_eq!(e["error"]["details"][0]["field"], "holdout_end", "{e:#}");
}
