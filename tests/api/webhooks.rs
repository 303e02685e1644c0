//! Signed webhooks: Zendesk's scheme with its documented test secret, the generic route,
//! tampered bodies, stale timestamps, replays and retries, and the ticket index they feed.

mod routes;

use crate::helpers::{expect_error, policy_dir};
use base64::Engine;
use hmac::{Hmac, Mac};
use kulanz::service::webhooks::WebhookConfig;
use kulanz::startup::Application;
use kulanz::store::keys::Scope;
use serde_json::{json, Value};
use sha2::Sha256;

/// The secret Zendesk's docs sign their example deliveries with.
const ZENDESK_TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
const GENERIC_SECRET: &str = "generic-test-secret";

struct Hooked {
    base: String,
    decide_key: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The real app with both webhook secrets set and the scenario customers seeded.
async fn spawn_hooked(tolerance_secs: u64) -> Hooked {
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build("127.0.0.1:0", dir.path(), &policy_dir())
        .await
        .unwrap()
        .with_webhooks(WebhookConfig {
            zendesk_secret: Some(ZENDESK_TEST_SECRET.into()),
            generic_secret: Some(GENERIC_SECRET.into()),
            tolerance_secs,
            ..Default::default()
        });
    let store = app.state.store.clone();
    for (id, record) in kulanz::demo::scenario_customers().unwrap() {
        let record = kulanz::service::customers::normalise(record).unwrap();
        let cmd = kulanz::store::Command::PutCustomer {
            customer_id: id,
            customer: Box::new(kulanz::store::customers::StoredCustomer {
                record,
                updated_at: "2026-11-01T00:00:00Z".into(),
            }),
        };
        store.apply(cmd).unwrap();
    }
    let decide_key = kulanz::cli::create_key(&store, "hooks", vec![Scope::Decide]).unwrap();
    let addr = app.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    Hooked {
        base: format!("http://{addr}"),
        decide_key,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn now_rfc3339(offset_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The documented trigger body for seed scenario S6, as Zendesk renders it.
fn s6_body(ticket: &str) -> String {
    json!({
        "ticket_id": ticket, "requester_external_id": "c-60606", "requester_id": "381",
        "assignee_id": "902", "agent_role": "", "via": "Mail",
        "category": "damaged_item", "severity": "high", "fault": "ours",
        "amount": "450.00", "currency": "EUR"
    })
    .to_string()
}

impl Hooked {
    async fn zendesk(
        &self,
        ts: &str,
        sig: &str,
        invocation: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        let mut r = self
            .client
            .post(format!("{}/v1/webhooks/zendesk", self.base))
            .header("content-type", "application/json")
            .header("x-zendesk-webhook-signature-timestamp", ts)
            .header("x-zendesk-webhook-signature", sig);
        if let Some(id) = invocation {
            r = r.header("x-zendesk-webhook-invocation-id", id);
        }
        r.body(body.to_string()).send().await.unwrap()
    }

    async fn generic(&self, ts: &str, sig: &str, body: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/webhooks/generic", self.base))
            .header("content-type", "application/json")
            .header("x-kulanz-timestamp", ts)
            .header("x-kulanz-signature", sig)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    async fn ticket(&self, ticket: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/v1/tickets/{ticket}/decision", self.base))
            .bearer_auth(&self.decide_key)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_zendesk_delivery_signed_with_the_documented_test_secret_decides_for_the_ticket() {
    let app = spawn_hooked(300).await;
    let body = s6_body("48213");
    let ts = now_rfc3339(0);
    let r = app
        .zendesk(&ts, &sign(ZENDESK_TEST_SECRET, &ts, &body), None, &body)
        .await;
    assert_eq!(r.status(), 200);
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["status"], "decided");
    assert_eq!(receipt["ticket_id"], "48213");

    let r = app.ticket("48213").await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["decision_id"], receipt["decision_id"]);
    assert_eq!(d["request"]["customer_id"], "c-60606");
    assert_eq!(d["request"]["complaint"]["channel"], "email");
    assert_eq!(d["authority"]["within_authority"], false);
    assert_eq!(d["authority"]["approver_role"], "lead");
}

#[tokio::test]
async fn a_tampered_body_is_refused_and_decides_nothing() {
    let app = spawn_hooked(300).await;
    let body = s6_body("T-tamper");
    let ts = now_rfc3339(0);
    let sig = sign(ZENDESK_TEST_SECRET, &ts, &body);
    let tampered = body.replace("450.00", "4500.00");
    let r = app.zendesk(&ts, &sig, None, &tampered).await;
    expect_error(r, 401, "webhook_signature_invalid").await;
    // A signature over the body alone (timestamp not signed) is refused too.
    let r = app
        .zendesk(&ts, &sign(ZENDESK_TEST_SECRET, "", &body), None, &body)
        .await;
    expect_error(r, 401, "webhook_signature_invalid").await;
    // So is a right signature paired with a different timestamp.
    let r = app.zendesk(&now_rfc3339(1), &sig, None, &body).await;
    expect_error(r, 401, "webhook_signature_invalid").await;
    let r = app.ticket("T-tamper").await;
    expect_error(r, 404, "decision_not_found").await;
}

#[tokio::test]
async fn missing_or_garbled_signature_headers_are_refused() {
    let app = spawn_hooked(300).await;
    let body = s6_body("T-1");
    let r = app
        .client
        .post(format!("{}/v1/webhooks/zendesk", app.base))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "webhook_signature_invalid").await;
    let r = app
        .zendesk(&now_rfc3339(0), "not base64 at all!", None, &body)
        .await;
    expect_error(r, 401, "webhook_signature_invalid").await;
    let r = app
        .zendesk(
            &now_rfc3339(0),
            &sign("another secret", &now_rfc3339(0), &body),
            None,
            &body,
        )
        .await;
    expect_error(r, 401, "webhook_signature_invalid").await;
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused_even_when_signed() {
    let app = spawn_hooked(300).await;
    let body = s6_body("T-stale");
    for offset in [-301 - 60, 400] {
        let ts = now_rfc3339(offset);
        let r = app
            .zendesk(&ts, &sign(ZENDESK_TEST_SECRET, &ts, &body), None, &body)
            .await;
        let msg = expect_error(r, 401, "webhook_timestamp_stale").await;
        assert!(msg.contains("300"), "{msg}");
    }
}

#[tokio::test]
async fn the_tolerance_is_configurable() {
    let app = spawn_hooked(5).await;
    let body = s6_body("T-tol");
    let ts = now_rfc3339(-30);
    let r = app
        .zendesk(&ts, &sign(ZENDESK_TEST_SECRET, &ts, &body), None, &body)
        .await;
    expect_error(r, 401, "webhook_timestamp_stale").await;
    let app = spawn_hooked(3600).await;
    let r = app
        .zendesk(&ts, &sign(ZENDESK_TEST_SECRET, &ts, &body), None, &body)
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_replayed_delivery_gets_the_first_decision_and_makes_no_second_one() {
    let app = spawn_hooked(300).await;
    let body = s6_body("T-replay");
    let ts = now_rfc3339(0);
    let sig = sign(ZENDESK_TEST_SECRET, &ts, &body);
    let first: Value = app
        .zendesk(&ts, &sig, None, &body)
        .await
        .json()
        .await
        .unwrap();
    let again = app.zendesk(&ts, &sig, None, &body).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["decision_id"], first["decision_id"]);
    let d: Value = app.ticket("T-replay").await.json().await.unwrap();
    assert_eq!(d["decision_id"], first["decision_id"]);
}

#[tokio::test]
async fn a_zendesk_retry_with_the_same_invocation_id_is_deduplicated_though_re_signed() {
    let app = spawn_hooked(300).await;
    let body = s6_body("T-retry");
    let ts1 = now_rfc3339(-2);
    let ts2 = now_rfc3339(0);
    let first: Value = app
        .zendesk(
            &ts1,
            &sign(ZENDESK_TEST_SECRET, &ts1, &body),
            Some("inv-1"),
            &body,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "decided");
    let retry: Value = app
        .zendesk(
            &ts2,
            &sign(ZENDESK_TEST_SECRET, &ts2, &body),
            Some("inv-1"),
            &body,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retry["status"], "duplicate");
    assert_eq!(retry["decision_id"], first["decision_id"]);
    // A new invocation (the ticket changed and the trigger fired again) decides anew.
    let other: Value = app
        .zendesk(
            &ts2,
            &sign(ZENDESK_TEST_SECRET, &ts2, &body),
            Some("inv-2"),
            &body,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["status"], "decided");
    assert_ne!(other["decision_id"], first["decision_id"]);
    let d: Value = app.ticket("T-retry").await.json().await.unwrap();
    assert_eq!(
        d["decision_id"], other["decision_id"],
        "the ticket shows the latest"
    );
}

#[tokio::test]
async fn the_generic_webhook_takes_a_decision_request_signed_in_base64_or_hex() {
    let app = spawn_hooked(300).await;
    let body = json!({
        "ticket_id": "FD-77", "customer_id": "c-10442",
        "agent": {"id": "a-17", "role": "agent"},
        "complaint": {"category": "cancellation_refund", "severity": "medium", "channel": "social",
            "fault": "unclear", "amount_at_stake": {"amount": "100.00", "currency": "EUR"}}
    })
    .to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let r = app
        .generic(&ts, &sign(GENERIC_SECRET, &ts, &body), &body)
        .await;
    assert_eq!(r.status(), 200);
    let d: Value = app.ticket("FD-77").await.json().await.unwrap();
    assert_eq!(d["recommendation"]["gesture"], "refund");

    let body2 = body.replace("FD-77", "FD-78");
    let mut mac = Hmac::<Sha256>::new_from_slice(GENERIC_SECRET.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(body2.as_bytes());
    let hex_sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let r = app.generic(&ts, &hex_sig, &body2).await;
    assert_eq!(r.status(), 200);
    // The Zendesk secret does not open the generic route.
    let r = app
        .generic(&ts, &sign(ZENDESK_TEST_SECRET, &ts, &body), &body)
        .await;
    expect_error(r, 401, "webhook_signature_invalid").await;
}

#[tokio::test]
async fn a_signed_but_invalid_payload_is_a_422_naming_the_field() {
    let app = spawn_hooked(300).await;
    let body = s6_body("T-bad").replace("damaged_item", "teleport_mishap");
    let ts = now_rfc3339(0);
    let r = app
        .zendesk(&ts, &sign(ZENDESK_TEST_SECRET, &ts, &body), None, &body)
        .await;
    let msg = expect_error(r, 422, "invalid_request").await;
    assert!(msg.contains("complaint.category"), "{msg}");
}

#[tokio::test]
async fn webhooks_without_a_configured_secret_are_switched_off() {
    let app = crate::helpers::spawn_app().await;
    let body = s6_body("T-off");
    let ts = now_rfc3339(0);
    let r = app
        .client
        .post(app.url("/v1/webhooks/zendesk"))
        .header("x-zendesk-webhook-signature-timestamp", &ts)
        .header(
            "x-zendesk-webhook-signature",
            sign(ZENDESK_TEST_SECRET, &ts, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    expect_error(r, 404, "webhook_not_configured").await;
    // Unsigned, it is refused as unsigned: the answer does not depend on the configuration.
    let r = app
        .client
        .post(app.url("/v1/webhooks/generic"))
        .body(s6_body("T-off"))
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "webhook_signature_invalid").await;
}

#[tokio::test]
async fn a_signed_delivery_replayed_with_other_unsigned_headers_or_encodings_is_a_duplicate() {
    let app = spawn_hooked(300).await;
    let body = s6_body("77001");
    let ts = now_rfc3339(0);
    let sig = sign(ZENDESK_TEST_SECRET, &ts, &body);
    let first = app.zendesk(&ts, &sig, Some("inv-1"), &body).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "decided");

    // The same MAC: under new invocation ids, none, and as upper- and lower-case hex.
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&sig)
        .unwrap();
    let hex_lower = format!("sha256={}", hex::encode(&raw));
    let hex_upper = format!("SHA256={}", hex::encode_upper(&raw));
    let replays = [
        (sig.clone(), Some("inv-2")),
        (sig.clone(), None),
        (hex_lower.clone(), Some("inv-3")),
        (hex_upper.clone(), Some("inv-4")),
        (format!(" {sig} "), Some("inv-5")),
    ];
    for (s, inv) in replays {
        let r = app.zendesk(&ts, &s, inv, &body).await;
        assert_eq!(r.status(), 200, "{s} {inv:?}");
        let receipt: Value = r.json().await.unwrap();
        assert_eq!(receipt["status"], "duplicate", "{s} {inv:?}");
        assert_eq!(receipt["decision_id"], first["decision_id"]);
    }
    // The generic route, with a changed unsigned delivery id.
    let generic = json!({"ticket_id": "G-77", "customer_id": "c-10442",
        "agent": {"id": "a-1", "role": "agent"},
        "complaint": {"category": "late_delivery", "severity": "low", "channel": "email",
            "fault": "ours", "amount_at_stake": {"amount": "20.00", "currency": "EUR"}}})
    .to_string();
    let gsig = sign(GENERIC_SECRET, &ts, &generic);
    let mut ids = Vec::new();
    for delivery in ["d-1", "d-2", "d-3"] {
        let r = app
            .client
            .post(format!("{}/v1/webhooks/generic", app.base))
            .header("content-type", "application/json")
            .header("x-kulanz-timestamp", &ts)
            .header("x-kulanz-signature", &gsig)
            .header("x-kulanz-delivery-id", delivery)
            .body(generic.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let receipt: Value = r.json().await.unwrap();
        ids.push((receipt["status"].clone(), receipt["decision_id"].clone()));
    }
    assert_eq!(ids[0].0, "decided");
    assert!(
        ids[1..]
            .iter()
            .all(|(s, id)| s == "duplicate" && id == &ids[0].1),
        "{ids:?}"
    );
}

#[tokio::test]
async fn failed_signatures_count_against_the_sender_until_it_is_refused() {
    let app = spawn_hooked(300).await;
    let body = s6_body("77002");
    let ts = now_rfc3339(0);
    let limit = kulanz::service::webhook_failures::LIMIT;
    for _ in 0..limit {
        let r = app.zendesk(&ts, "bm90IGEgbWFj", None, &body).await;
        expect_error(r, 401, "webhook_signature_invalid").await;
    }
    // Over the budget: refused before its signature is looked at, even a valid one.
    let good = sign(ZENDESK_TEST_SECRET, &ts, &body);
    let r = app.zendesk(&ts, &good, None, &body).await;
    assert!(r.headers().contains_key("retry-after"));
    let msg = expect_error(r, 429, "rate_limited").await;
    assert!(msg.contains("failed webhook signatures"), "{msg}");
    let none = app.ticket("77002").await;
    expect_error(none, 404, "decision_not_found").await;
}
