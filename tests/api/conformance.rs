//! What schemathesis (`scripts/schemathesis.sh`) found: the OpenAPI document must describe
//! what the routes really accept and answer.

use crate::helpers::spawn_app;
use serde_json::{json, Value};

#[tokio::test]
async fn policy_validate_is_documented_as_taking_any_json_value_and_answers_each_with_a_verdict() {
    let app = spawn_app().await;
    // Any JSON value gets a verdict (200), so the document must not claim an object only.
    let r = app
        .post_json(
            "/v1/policies/validate",
            &app.admin_key,
            &json!([null, null]),
        )
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["problems"][0]["path"], "$");

    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema = &doc["paths"]["/v1/policies/validate"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    assert!(schema.is_object(), "{schema}");
    assert!(schema.get("type").is_none(), "restricted to {schema}");
}

#[tokio::test]
async fn keyed_operations_document_429_and_keyed_writes_the_idempotency_key() {
    let app = crate::helpers::spawn_app().await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/v1/decisions"]["post"];
    assert!(op["responses"]["429"].is_object());
    assert!(op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    assert!(
        doc["paths"]["/v1/customers/import"]["post"]["parameters"].is_null(),
        "streamed imports take no key"
    );
    assert!(
        doc["paths"]["/healthz"]["get"]["responses"]["429"].is_null(),
        "open routes are not rate-limited"
    );
}

async fn document(app: &crate::helpers::TestApp) -> Value {
    app.client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What `body` breaks of the schema the document gives `method path` for `status`, with
/// the document's components to resolve its references.
fn violations(doc: &Value, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]
        ["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no {status} body"
    );
    let root = json!({"components": doc["components"], "allOf": [schema]});
    let validator = jsonschema::validator_for(&root).unwrap();
    validator.iter_errors(body).map(|e| e.to_string()).collect()
}

fn assert_conforms(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let errors = violations(doc, method, path, status, body);
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:#?}\n{body:#}"
    );
}

#[tokio::test]
async fn answers_match_the_schemas_the_document_gives_them() {
    use crate::helpers::{eur, request};
    let app = spawn_app().await;
    let doc = document(&app).await;
    // A customer record as PUT and GET answer it: its schema was once the decision's
    // `CustomerView` (two types, one schema name), and the closed record schema refused
    // `customer_id` beside it.
    let r = app
        .put_customer(
            "c-schema",
            json!({"currency": "EUR", "lifetime_revenue": eur("75.00")}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body = r.json().await.unwrap();
    assert_conforms(&doc, "put", "/v1/customers/{customer_id}", 201, &body);
    let r = app.get("/v1/customers/c-10442", &app.ingest_key).await;
    assert_eq!(r.status(), 200);
    let body = r.json().await.unwrap();
    assert_conforms(&doc, "get", "/v1/customers/{customer_id}", 200, &body);

    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_conforms(&doc, "post", "/v1/decisions", 200, &d);
    // And the check is no formality: a decision is not a customer record.
    assert!(!violations(&doc, "get", "/v1/customers/{customer_id}", 200, &d).is_empty());

    // The report and the backtest each have a `Group` type of their own.
    let report = app.get_json("/v1/reports/goodwill", &app.admin_key).await;
    assert!(
        !report["by_gesture"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    assert_conforms(&doc, "get", "/v1/reports/goodwill", 200, &report);
    let r = app
        .post_json(
            "/v1/policies/2026.11.0/backtest",
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = r.json().await.unwrap();
    assert_conforms(&doc, "post", "/v1/policies/{version}/backtest", 200, &body);

    let r = app.get("/v1/customers/nobody", &app.ingest_key).await;
    assert_eq!(r.status(), 404);
    let body = r.json().await.unwrap();
    assert_conforms(&doc, "get", "/v1/customers/{customer_id}", 404, &body);
}

#[tokio::test]
async fn every_parameter_is_documented_where_the_route_reads_it() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut in_path = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                match p["in"].as_str().unwrap() {
                    "path" => {
                        assert!(
                            path.contains(&format!("{{{name}}}")),
                            "{method} {path}: {p}"
                        );
                        in_path.push(name);
                    }
                    // Optional, and never `null`: a query string has no null.
                    "query" => {
                        assert_ne!(p["required"], true, "{method} {path}: {p}");
                        let types = &p["schema"]["type"];
                        assert!(
                            !types.as_array().is_some_and(|t| t.contains(&json!("null"))),
                            "{method} {path}: {p}"
                        );
                    }
                    "header" => {}
                    other => panic!("{method} {path}: a parameter in {other}"),
                }
            }
            let templated = path.matches('{').count();
            assert_eq!(in_path.len(), templated, "{method} {path}: {params:?}");
        }
    }
}

#[tokio::test]
async fn statuses_the_layers_answer_are_documented_on_every_operation_they_guard() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let has = |status: &str| op["responses"][status].is_object();
            assert!(has("500"), "{method} {path}: 500");
            if op["security"].is_array() {
                for status in ["401", "403", "429", "503"] {
                    assert!(has(status), "{method} {path}: {status}");
                }
            }
            if op["security"].is_array()
                && op["requestBody"]["content"]["application/json"].is_object()
            {
                for status in ["400", "413", "415", "422"] {
                    assert!(has(status), "{method} {path}: {status}");
                }
            }
            let idempotent = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            if idempotent {
                for status in ["409", "413", "422"] {
                    assert!(has(status), "{method} {path}: {status}");
                }
            }
        }
    }
    // Seen, not only documented: a body that is not JSON where a key is created.
    let r = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body("\0")
        .send()
        .await
        .unwrap();
    crate::helpers::expect_error(r, 400, "malformed_json").await;
}

#[tokio::test]
async fn standard_methods_no_route_takes_are_405_with_allow() {
    let app = spawn_app().await;
    for method in ["TRACE", "QUERY"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = app
            .client
            .request(method.clone(), app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        let allow = r.headers()["allow"].to_str().unwrap().to_string();
        assert!(allow.contains("GET"), "{method}: {allow}");
        crate::helpers::expect_error(r, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn what_the_document_calls_valid_is_accepted_and_nothing_more() {
    use crate::helpers::{eur, expect_error, request};
    let app = spawn_app().await;
    // JSON Schema's `integer` includes `5.0`; limits count characters, as `maxLength` does.
    let id: String = "é".repeat(128);
    let r = app
        .put_customer(
            &id,
            json!({"currency": "EUR", "lifetime_revenue": eur("10.00"), "orders": 5.0,
                "claims_90d": 0.0, "nps": {"score": 9.0, "at": "2026-01-02"}}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let record = app
        .get_json(&format!("/v1/customers/{id}"), &app.ingest_key)
        .await;
    assert_eq!(record["orders"], 5, "{record:#}");
    let r = app
        .put_customer(
            &format!("{id}é"),
            json!({"currency": "EUR", "lifetime_revenue": eur("10.00")}),
        )
        .await;
    expect_error(r, 422, "invalid_request").await;
    let r = app
        .put_customer(
            "c-frac",
            json!({"currency": "EUR", "lifetime_revenue": eur("10.00"), "orders": 5.5}),
        )
        .await;
    expect_error(r, 422, "invalid_request").await;

    let mut body = request("c-10442", "late_delivery", "ours", "10.00");
    body["complaint"]["description"] = json!("é".repeat(10_000));
    app.decide_ok(&body).await;
    body["complaint"]["description"] = json!("é".repeat(10_001));
    expect_error(app.decide(&body).await, 422, "invalid_request").await;

    // Scopes are the document's names, each exactly.
    for (scopes, status) in [
        (json!(["decide", "decide"]), 201),
        (json!(["decide,admin"]), 422),
        (json!([" decide"]), 422),
        (json!([]), 422),
    ] {
        let r = app
            .post_json(
                "/v1/keys",
                &app.admin_key,
                &json!({"name": "k", "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status(), status, "{scopes}");
    }
}
