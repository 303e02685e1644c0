//! Policy versions through HTTP: list, validate, upload, activate.

use crate::helpers::{expect_error, request, spawn_app};
use serde_json::{json, Value};

fn shipped() -> Value {
    serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap()
}

#[tokio::test]
async fn the_shipped_policy_is_stored_and_active_at_start() {
    let app = spawn_app().await;
    let list: Value = app.get_json("/v1/policies", &app.admin_key).await;
    let list = list.as_array().unwrap();
    assert!(
        list.iter()
            .any(|p| p["version"] == "2026.11.0" && p["active"] == true),
        "{list:?}"
    );
    let active: Value = app.get_json("/v1/policies/active", &app.admin_key).await;
    assert_eq!(active["id"], "goodwill");
    assert_eq!(active["author"], "policy-dir");
    assert_eq!(active["document"]["currency"], "EUR");
}

#[tokio::test]
async fn validate_reports_every_problem_with_its_json_path() {
    let app = spawn_app().await;
    let ok: Value = app
        .post_json("/v1/policies/validate", &app.admin_key, &shipped())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["valid"], true);
    let mut bad = shipped();
    bad["rules"][2]["when"]["category"] = json!(["lost_luggage"]);
    bad["authority"]["senior"]["max"] = json!("10.00");
    let report: Value = app
        .post_json("/v1/policies/validate", &app.admin_key, &bad)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["valid"], false);
    let paths: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"$.rules[2].when.category[0]"), "{paths:?}");
    assert!(paths.contains(&"$.authority.senior.max"), "{paths:?}");
}

#[tokio::test]
async fn a_new_version_is_uploaded_then_activated_and_decisions_use_it() {
    let app = spawn_app().await;
    let mut next = shipped();
    next["version"] = json!("2026.12.0");
    next["authority"]["agent"]["max"] = json!("300.00");
    next["examples"] = json!([]);
    let r = app
        .put_json("/v1/policies/2026.12.0", &app.admin_key, &next)
        .await;
    assert_eq!(r.status(), 201);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["author"], "test-admin");

    // Identical content again is fine; different content under the same version is not.
    let again = app
        .put_json("/v1/policies/2026.12.0", &app.admin_key, &next)
        .await;
    assert_eq!(again.status(), 200);
    next["authority"]["agent"]["max"] = json!("350.00");
    let clash = app
        .put_json("/v1/policies/2026.12.0", &app.admin_key, &next)
        .await;
    expect_error(clash, 409, "policy_version_conflict").await;

    // Uploading does not activate.
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(d["policy"]["version"], "2026.11.0");
    let r = app.activate("2026.12.0").await;
    assert_eq!(r.status(), 200);
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(d["policy"]["version"], "2026.12.0");
}

#[tokio::test]
async fn an_invalid_upload_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut bad = shipped();
    bad["version"] = json!("2027.1.0");
    bad["floor"]["gesture"] = json!("hug");
    let r = app
        .put_json("/v1/policies/2027.1.0", &app.admin_key, &bad)
        .await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "policy_invalid");
    assert_eq!(v["error"]["details"][0]["path"], "$.floor.gesture");
    let activate = app.activate("2027.1.0").await;
    expect_error(activate, 404, "policy_not_found").await;

    let mut mismatch = shipped();
    mismatch["version"] = json!("2027.2.0");
    let r = app
        .put_json("/v1/policies/2027.3.0", &app.admin_key, &mismatch)
        .await;
    let msg = expect_error(r, 422, "invalid_request").await;
    assert!(msg.starts_with("version:"), "{msg}");
}

#[tokio::test]
async fn a_version_whose_own_examples_fail_cannot_be_uploaded() {
    let app = spawn_app().await;
    let mut bad = shipped();
    bad["version"] = json!("2027.4.0");
    bad["rules"][1]["then"]["amount"]["of_claim"] = json!("0.5");
    let r = app
        .put_json("/v1/policies/2027.4.0", &app.admin_key, &bad)
        .await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    let first = v["error"]["details"][0]["message"].as_str().unwrap();
    assert!(first.contains("S1"), "{first}");
}

#[tokio::test]
async fn the_digest_in_a_decision_is_the_digest_of_the_stored_document_across_restarts() {
    let app = spawn_app().await;
    let digest_of = |v: &Value| kulanz::policy::load::digest(v);
    let active: Value = app.get_json("/v1/policies/active", &app.admin_key).await;
    assert_eq!(active["document"], shipped(), "stored exactly as written");
    assert_eq!(active["digest"].as_str().unwrap(), digest_of(&shipped()));
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(d["policy"]["digest"], active["digest"]);
    let dir = app.stop().await;
    let app = crate::helpers::start(dir).await;
    let d = app
        .decide_ok(&request(
            "c-unknown",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(d["policy"]["digest"], active["digest"]);
}
