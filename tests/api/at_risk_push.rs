//! Pushing the at-risk list to an outreach webhook: a real receiver (axum on a free port)
//! that refuses the first delivery, so the retry, the signature, the payload and the
//! "once per stay on the list" rule are all seen over HTTP.

use crate::helpers::{request, spawn_app_pushing, TestApp};
use axum::http::{HeaderMap, StatusCode};
use kulanz::service::at_risk_push::PushConfig;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "outreach-secret";

/// One request the receiver got: its headers and body.
type Call = (HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Received {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Received {
    fn for_customer(&self, id: &str) -> Vec<(HeaderMap, Value)> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(h, b)| (h.clone(), serde_json::from_slice::<Value>(b).unwrap()))
            .filter(|(_, v)| v["customer"]["customer_id"] == id)
            .collect()
    }
}

/// A receiver that answers 503 to the first request if `fail_first`, and 200 otherwise.
async fn receiver(fail_first: bool) -> (String, Received) {
    let got = Received::default();
    let state = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let mut calls = state.calls.lock().unwrap();
                calls.push((headers, body.to_vec()));
                if fail_first && calls.len() == 1 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

/// Poll (passes run every 300 ms) until `done` holds; generous for a loaded machine.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn listed(app: &TestApp, query: &str, id: &str) -> Option<Value> {
    let page = app
        .get_json(&format!("/v1/customers/at-risk{query}"), &app.ingest_key)
        .await;
    page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == id)
        .cloned()
}

#[tokio::test]
async fn new_at_risk_customers_are_pushed_once_signed_and_retried_after_a_failure() {
    let (url, got) = receiver(true).await;
    let cfg = PushConfig::new(&url, Some(SECRET.to_string()), Duration::from_millis(300)).unwrap();
    let app = spawn_app_pushing(cfg).await;

    // S5 (a top-segment detractor): refused once, accepted on the next pass.
    wait_for("two deliveries for S5", || {
        got.for_customer("c-50505").len() >= 2
    })
    .await;
    let s5 = listed(&app, "", "c-50505").await.unwrap();
    assert!(s5["pushed_at"].is_string(), "{s5:#}");

    let calls = got.for_customer("c-50505");
    let (headers, body) = &calls[1];
    assert_eq!(headers["x-kulanz-event"], "at_risk");
    assert_ne!(
        headers["x-kulanz-delivery"],
        calls[0].0["x-kulanz-delivery"]
    );
    // The signature is the scheme kulanz itself checks on incoming webhooks.
    let stored = got.calls.lock().unwrap()[1].1.clone();
    assert_eq!(serde_json::from_slice::<Value>(&stored).unwrap(), *body);
    let ts = headers["x-kulanz-timestamp"].to_str().unwrap();
    let sig = headers["x-kulanz-signature"].to_str().unwrap();
    kulanz::service::webhooks::verify_signature(SECRET, ts, &stored, sig).unwrap();
    assert!(kulanz::service::webhooks::verify_signature("wrong", ts, &stored, sig).is_err());

    assert_eq!(body["event"], "kulanz.at_risk");
    assert_eq!(body["customer"]["signals"][0], "detractor");
    let ticket = &body["ticket"];
    assert_eq!(ticket["priority"], "high");
    assert!(ticket["subject"].as_str().unwrap().contains("c-50505"));
    assert!(ticket["description"]
        .as_str()
        .unwrap()
        .contains("NPS detractor"));
    let tags: Vec<&str> = ticket["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["kulanz", "at-risk", "detractor"]);
    // The shipped policy's proactive-outreach rule answers the at-risk list.
    assert_eq!(body["customer"]["suggested"]["gesture"], "voucher");

    // Accepted once: later passes do not send S5 again. A customer who turns detractor
    // now is pushed by a later pass (each pass lists the customers when it starts), so
    // once they arrive, a pass has run since S5 was accepted.
    let late = json!({
        "currency": "EUR", "lifetime_revenue": {"amount": "6000.00", "currency": "EUR"},
        "orders": 30, "first_order_at": "2020-01-10", "last_order_at": "2026-10-01",
        "predicted_value": {"amount": "6000.00", "currency": "EUR"},
        "nps": {"score": 2, "at": "2026-10-05"}
    });
    let r = app
        .put_json("/v1/customers/c-late-detractor", &app.ingest_key, &late)
        .await;
    assert_eq!(r.status(), 201);
    wait_for("a later pass to push the new detractor", || {
        !got.for_customer("c-late-detractor").is_empty()
    })
    .await;
    assert_eq!(got.for_customer("c-50505").len(), 2);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("kulanz_at_risk_pushes_total{result=\"accepted\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("kulanz_at_risk_pushes_total{result=\"failed\"}"));

    // A decision takes S5 off the list: the push is forgotten, so a return is pushed anew.
    app.decide_ok(&request("c-50505", "late_delivery", "ours", "30.00"))
        .await;
    let mut forgotten = false;
    for _ in 0..100 {
        let s5 = listed(&app, "?quiet_days=0", "c-50505").await.unwrap();
        if s5["pushed_at"].is_null() {
            forgotten = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        forgotten,
        "S5's push was not forgotten after they left the list"
    );
}

#[tokio::test]
async fn at_risk_webhook_urls_other_than_http_are_refused_at_start() {
    let e = PushConfig::new("https://desk.example/hook", None, Duration::from_secs(1)).unwrap_err();
    assert!(e.contains("http://"), "{e}");
}

/// A top customer (value at risk `value`) whose last NPS answer was a 2.
async fn detractor(s: &kulanz::service::AppState, id: &str, value: &str) {
    let dto: kulanz::domain::customer::CustomerRecordDto =
        serde_json::from_value(serde_json::json!({
            "currency": "EUR",
            "lifetime_revenue": {"amount": value, "currency": "EUR"},
            "orders": 30, "first_order_at": "2020-01-10", "last_order_at": "2026-10-01",
            "predicted_value": {"amount": value, "currency": "EUR"},
            "nps": {"score": 2, "at": "2026-10-05"}
        }))
        .unwrap();
    kulanz::service::customers::put(s, id, dto, chrono::Utc::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_pass_sends_at_most_max_per_pass_customers_highest_value_first() {
    let (url, got) = receiver(false).await;

    let dir = tempfile::tempdir().unwrap();
    let store = kulanz::store::Store::open(dir.path()).unwrap();
    let policy =
        kulanz::policy::load::from_file(&crate::helpers::policy_dir().join("goodwill.json"))
            .unwrap();
    let s = kulanz::service::AppState::new(store, Some(std::sync::Arc::new(policy)));
    for (id, value) in [("c-a", "5000.00"), ("c-b", "9000.00"), ("c-c", "7000.00")] {
        detractor(&s, id, value).await;
    }
    let cfg = PushConfig::new(&url, None, Duration::from_secs(60))
        .unwrap()
        .with_max_per_pass(2);
    let client = reqwest::Client::new();
    let now = chrono::Utc::now();
    let push = kulanz::service::at_risk_push::push_once;

    let first = push(&s, &cfg, &client, now).await.unwrap();
    assert_eq!((first.listed, first.pushed, first.failed), (3, 2, 0));
    let second = push(&s, &cfg, &client, now).await.unwrap();
    assert_eq!((second.listed, second.pushed), (3, 1));
    let third = push(&s, &cfg, &client, now).await.unwrap();
    assert_eq!(third.pushed, 0);
    let order: Vec<String> = got
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(h, b)| {
            assert!(
                h.get("x-kulanz-signature").is_none(),
                "no secret, no signature"
            );
            let v: Value = serde_json::from_slice(b).unwrap();
            v["customer"]["customer_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(order, ["c-b", "c-c", "c-a"]);
    assert!(s.store.at_risk_push("c-a").unwrap().is_some());
}
