//! `Idempotency-Key`: retries replay, never decide or grant twice.

use crate::helpers::{eur, expect_error, request, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn a_retried_decision_replays_the_first_answer_and_is_stored_once() {
    let app = spawn_app().await;
    let req = request("c-10442", "cancellation_refund", "unclear", "100.00");
    let send = |body: Value, key: String| {
        let client = app.client.clone();
        let url = app.url("/v1/decisions");
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .header("idempotency-key", "retry-1")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = send(req.clone(), app.decide_key.clone()).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send(req.clone(), app.decide_key.clone()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);

    let mut other = req.clone();
    other["complaint"]["amount_at_stake"] = eur("90.00");
    let msg = expect_error(
        send(other, app.decide_key.clone()).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(msg.contains("different request"), "{msg}");

    // Keys are scoped per API key: another key's "retry-1" is a new request.
    let fresh = send(req.clone(), app.admin_key.clone()).await;
    assert_eq!(fresh.status(), 200);
    let fresh: Value = fresh.json().await.unwrap();
    assert_ne!(fresh["decision_id"], first["decision_id"]);

    let dir = app.stop().await;
    let store = kulanz::store::Store::open(dir.path()).unwrap();
    assert_eq!(store.decision_count(), 2);
}

#[tokio::test]
async fn a_retried_outcome_replays_instead_of_conflicting() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let url = app.url(&format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    ));
    let body = json!({"granted": {"gesture": "refund", "amount": eur("100.00")}});
    let post = || {
        app.client
            .post(url.clone())
            .bearer_auth(&app.decide_key)
            .header("idempotency-key", "outcome-1")
            .json(&body)
            .send()
    };
    let a = post().await.unwrap();
    assert_eq!(a.status(), 201);
    let b = post().await.unwrap();
    assert_eq!(b.status(), 201, "replayed, not 409 outcome_exists");
    assert_eq!(b.headers()["idempotent-replayed"], "true");
}

#[tokio::test]
async fn a_malformed_key_is_refused_and_an_unfinished_one_is_in_flight() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/v1/decisions"))
        .bearer_auth(&app.decide_key)
        .header("idempotency-key", "has space")
        .json(&request("c-1", "late_delivery", "ours", "1.00"))
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, 422, "invalid_request").await;
    assert!(msg.starts_with("Idempotency-Key:"), "{msg}");

    let store = kulanz::store::Store::open(tempfile::tempdir().unwrap().path()).unwrap();
    use kulanz::store::idempotency::Claim;
    assert_eq!(
        store
            .idempotency_claim("k", "f", 1_000, 10_000)
            .await
            .unwrap(),
        Claim::Granted
    );
    assert_eq!(
        store
            .idempotency_claim("k", "f", 2_000, 10_000)
            .await
            .unwrap(),
        Claim::InFlight
    );
    assert_eq!(
        store
            .idempotency_claim("k", "g", 2_000, 10_000)
            .await
            .unwrap(),
        Claim::Mismatch
    );
    // An unanswered claim older than a minute was abandoned by a crashed process.
    assert_eq!(
        store
            .idempotency_claim("k", "f", 1_000 + 61_000, 100_000)
            .await
            .unwrap(),
        Claim::Granted
    );
    // After the window, the key is free for any request.
    assert_eq!(
        store
            .idempotency_claim("k", "h", 1_000_000, 10_000)
            .await
            .unwrap(),
        Claim::Granted
    );
    assert_eq!(store.idempotency_expire(2_000_000).unwrap(), 1);
}
