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
