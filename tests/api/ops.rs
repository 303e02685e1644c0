//! Health, readiness, metrics, OpenAPI, and durability across a restart.

use crate::helpers::{request, spawn_app, start};
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness_need_no_key() {
    let app = spawn_app().await;
    let h = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["policy"], "goodwill 2026.11.0");
}

#[tokio::test]
async fn metrics_count_decisions_by_gesture_and_time_requests_by_route() {
    let app = spawn_app().await;
    app.decide_ok(&request(
        "c-10442",
        "cancellation_refund",
        "unclear",
        "100.00",
    ))
    .await;
    let text = app.metrics().await;
    assert!(
        text.contains("kulanz_decisions_total{gesture=\"refund\",within_authority=\"true\"}"),
        "{text}"
    );
    assert!(
        text.contains(
            "kulanz_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/decisions\""
        ),
        "{text}"
    );
    assert!(!text.contains("c-10442"), "no customer ids in metrics");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_error_body() {
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
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/decisions", "post"),
        ("/v1/decisions/{decision_id}", "get"),
        ("/v1/decisions/{decision_id}/outcome", "post"),
        ("/v1/customers/{customer_id}", "put"),
        ("/v1/customers/{customer_id}", "get"),
        ("/v1/customers/{customer_id}", "delete"),
        ("/v1/customers/import", "post"),
        ("/v1/policies", "get"),
        ("/v1/policies/active", "get"),
        ("/v1/policies/validate", "post"),
        ("/v1/policies/{version}", "put"),
        ("/v1/policies/{version}/activate", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn acknowledged_decisions_and_customers_survive_a_restart() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let id = d["decision_id"].as_str().unwrap().to_string();
    let dir = app.stop().await;
    let app = start(dir).await;
    let r = app
        .get(&format!("/v1/decisions/{id}"), &app.decide_key)
        .await;
    assert_eq!(r.status(), 200);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["recommendation"], d["recommendation"]);
    let c = app.get("/v1/customers/c-10442", &app.ingest_key).await;
    assert_eq!(c.status(), 200);
}

#[tokio::test]
async fn a_data_dir_in_use_is_a_clear_error_not_an_empty_store() {
    let app = spawn_app().await;
    let err = kulanz::store::Store::open(app.data_dir.path())
        .err()
        .expect("second open must fail");
    let text = err.to_string();
    assert!(text.contains("in use by another kulanz process"), "{text}");
}

#[test]
fn every_error_code_is_documented_with_its_status() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    for code in kulanz::error_code::Code::ALL {
        let row = format!("| `{code}` | {} |", code.status().as_u16());
        assert!(doc.contains(&row), "docs/api.md lacks the row {row}");
    }
    // And the other way: the table names no code the enum lacks.
    let known: Vec<&str> = kulanz::error_code::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let table = doc.split("### Error codes").nth(1).unwrap();
    let rows = table
        .lines()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with("| `"));
    let mut seen = 0;
    for line in rows {
        seen += 1;
        let code = line.split('`').nth(1).unwrap();
        assert!(
            known.contains(&code),
            "docs/api.md lists `{code}`, which is no code"
        );
    }
    assert_eq!(seen, known.len(), "one row per code");
}
