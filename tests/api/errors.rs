//! Bad input: every 4xx carries the contract's body and names the field; nothing changes.

use crate::helpers::{expect_error, request, spawn_app};
use serde_json::json;

#[tokio::test]
async fn an_unknown_severity_is_a_422_naming_the_field_and_the_allowed_values() {
    let app = spawn_app().await;
    let mut req = request("c-10442", "cancellation_refund", "unclear", "100.00");
    req["complaint"]["severity"] = json!("urgent");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert_eq!(
        msg,
        "complaint.severity: expected one of low, medium, high, critical, got `urgent`"
    );
}

#[tokio::test]
async fn unknown_categories_roles_and_channels_list_what_the_policy_knows() {
    let app = spawn_app().await;
    let mut req = request("c-1", "lost_luggage", "ours", "10.00");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(
        msg.starts_with("complaint.category: expected one of late_delivery"),
        "{msg}"
    );
    req["complaint"]["category"] = json!("late_delivery");
    req["agent"]["role"] = json!("ceo");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(msg.contains("agent, senior, lead, manager"), "{msg}");
    req["agent"]["role"] = json!("agent");
    req["complaint"]["channel"] = json!("fax");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(msg.starts_with("complaint.channel:"), "{msg}");
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_named_by_path() {
    let app = spawn_app().await;
    let mut req = request("c-1", "late_delivery", "ours", "10.00");
    req["complaint"]["amount_at_stake"]["amount"] = json!(10.5);
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(
        msg.starts_with("complaint.amount_at_stake.amount:"),
        "{msg}"
    );

    let mut req = request("c-1", "late_delivery", "ours", "10.00");
    req["complaint"].as_object_mut().unwrap().remove("fault");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert_eq!(msg, "complaint.fault: is required");

    let mut req = request("c-1", "late_delivery", "ours", "10.00");
    req["complaint"]["amount_at_stake"]["amount"] = json!("1e9");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(
        msg.starts_with("complaint.amount_at_stake.amount:"),
        "{msg}"
    );

    let mut req = request("c-1", "late_delivery", "ours", "10.00");
    req["complaint"]["severty"] = json!("low");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(msg.contains("unknown field `severty`"), "{msg}");

    let mut req = request("c-1", "late_delivery", "ours", "-10.00");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert_eq!(
        msg,
        "complaint.amount_at_stake.amount: must not be negative"
    );
    req["customer_id"] = json!("");
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert_eq!(msg, "customer_id: must not be empty");
}

#[tokio::test]
async fn malformed_json_is_a_400_and_a_non_json_body_a_415() {
    let app = spawn_app().await;
    let r = app
        .post_raw(
            "/v1/decisions",
            "application/json",
            "{\"ticket_id\": ".into(),
        )
        .await;
    expect_error(r, 400, "malformed_json").await;
    let r = app
        .post_raw(
            "/v1/decisions",
            "application/x-www-form-urlencoded",
            "ticket_id=1".into(),
        )
        .await;
    expect_error(r, 415, "unsupported_media_type").await;
    let deep = format!(
        r#"{{"ticket_id":"T","customer_id":"c","agent":{{"id":"a","role":"agent"}},"attributes":{{"x":{}{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let r = app
        .post_raw("/v1/decisions", "application/json", deep)
        .await;
    expect_error(r, 400, "malformed_json").await;
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let mut req = request("c-1", "late_delivery", "ours", "10.00");
    req["complaint"]["description"] = json!("x".repeat(300 * 1024));
    expect_error(app.decide(&req).await, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_missing_or_unknown_key_is_401_and_a_key_without_the_scope_403() {
    let app = spawn_app().await;
    let req = request("c-1", "late_delivery", "ours", "10.00");
    let r = app
        .client
        .post(app.url("/v1/decisions"))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "unauthorized").await;
    let r = app.post_json("/v1/decisions", "kz_not_a_key", &req).await;
    expect_error(r, 401, "unauthorized").await;
    let r = app
        .client
        .post(app.url("/v1/decisions"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "unauthorized").await;
    let r = app.post_json("/v1/decisions", &app.ingest_key, &req).await;
    let msg = expect_error(r, 403, "forbidden").await;
    assert!(msg.contains("`decide` scope"), "{msg}");
    let r = app.get("/v1/policies", &app.decide_key).await;
    expect_error(r, 403, "forbidden").await;
    let r = app.get("/v1/customers/c-10442", &app.decide_key).await;
    expect_error(r, 403, "forbidden").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_the_error_body() {
    let app = spawn_app().await;
    expect_error(
        app.get("/v2/nothing", &app.admin_key).await,
        404,
        "not_found",
    )
    .await;
    let r = app
        .client
        .delete(app.url("/v1/decisions"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    expect_error(r, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn bad_input_changes_nothing_in_the_decision_log() {
    let app = spawn_app().await;
    let mut req = request("c-10442", "cancellation_refund", "unclear", "100.00");
    req["complaint"]["fault"] = json!("nobody");
    expect_error(app.decide(&req).await, 422, "invalid_request").await;
    let bad_customer =
        json!({"currency": "EUR", "lifetime_revenue": {"amount": "5.00", "currency": "USD"}});
    let msg = expect_error(
        app.put_customer("c-10442", bad_customer).await,
        422,
        "invalid_request",
    )
    .await;
    assert!(msg.starts_with("lifetime_revenue.currency"), "{msg}");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("kulanz_errors_total{code=\"invalid_request\"}"),
        "{metrics}"
    );

    let dir = app.stop().await;
    let store = kulanz::store::Store::open(dir.path()).unwrap();
    assert_eq!(store.decision_count(), 0);
    let kept = store.get_customer("c-10442").unwrap().unwrap();
    assert_eq!(kept.record.lifetime_revenue.amount, "10400.00");
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after_and_other_keys_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let app = kulanz::startup::Application::build(
        "127.0.0.1:0",
        dir.path(),
        &crate::helpers::policy_dir(),
    )
    .await
    .unwrap()
    .with_rate_limit(1, 3);
    let store = app.state.store.clone();
    let key =
        kulanz::cli::create_key(&store, "busy", vec![kulanz::store::keys::Scope::Decide]).unwrap();
    let calm =
        kulanz::cli::create_key(&store, "calm", vec![kulanz::store::keys::Scope::Decide]).unwrap();
    drop(store);
    let addr = app.local_addr().unwrap();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/v1/decisions");
    let body = request("c-1", "late_delivery", "ours", "1.00");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = client
            .post(&url)
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
            expect_error(r, 429, "rate_limited").await;
        }
    }
    assert_eq!(
        &statuses[..3],
        &[200, 200, 200],
        "the burst passes: {statuses:?}"
    );
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let other = client
        .post(&url)
        .bearer_auth(&calm)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "limits are per key");
}

#[tokio::test]
async fn keys_are_rotated_over_http_and_a_revoked_key_stops_working() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/v1/keys",
            &app.admin_key,
            &json!({"name": "zendesk-2", "scopes": ["decide"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert_eq!(created["scopes"], json!(["decide"]));
    let req = request("c-1", "late_delivery", "ours", "1.00");
    assert_eq!(
        app.post_json("/v1/decisions", &secret, &req).await.status(),
        200
    );
    let list: serde_json::Value = app.get_json("/v1/keys", &app.admin_key).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "zendesk-2"));
    assert!(
        !list.to_string().contains(&secret),
        "secrets are never listed"
    );
    let del = app
        .client
        .delete(app.url("/v1/keys/zendesk-2"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    expect_error(
        app.post_json("/v1/decisions", &secret, &req).await,
        401,
        "unauthorized",
    )
    .await;
    let again = app
        .client
        .delete(app.url("/v1/keys/zendesk-2"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    expect_error(again, 404, "key_not_found").await;
    let bad = app
        .post_json(
            "/v1/keys",
            &app.admin_key,
            &json!({"name": "x", "scopes": ["root"]}),
        )
        .await;
    expect_error(bad, 422, "invalid_request").await;
}
