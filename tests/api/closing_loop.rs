//! Closing the loop (issue 5): the goodwill ledger behind the guards, NPS answers and the
//! at-risk list.

use crate::helpers::{eur, expect_error, request, spawn_app, TestApp};
use serde_json::{json, Value};

/// A customer who has already claimed three times in 90 days: one more is allowed.
async fn serial_customer(app: &TestApp, id: &str) {
    let r = app
        .put_customer(
            id,
            json!({
                "currency": "EUR", "lifetime_revenue": eur("3000.00"), "orders": 20,
                "first_order_at": "2022-01-01", "last_order_at": "2026-11-01",
                "predicted_value": eur("3000.00"), "claims_90d": 3
            }),
        )
        .await;
    assert!(r.status().is_success());
}

fn by_agent(customer: &str, agent: &str) -> Value {
    let mut r = request(customer, "late_delivery", "ours", "40.00");
    r["agent"]["id"] = json!(agent);
    r
}

/// Record the recommendation as granted; returns the outcome's `recorded_at`.
async fn record_granted(app: &TestApp, d: &Value) -> chrono::DateTime<chrono::Utc> {
    let rec = &d["recommendation"];
    let path = format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    );
    let body = json!({"granted": {"gesture": rec["gesture"], "amount": rec["amount"]},
        "status": "granted_as_recommended", "customer_accepted": true});
    let r = app.post_json(&path, &app.decide_key, &body).await;
    assert_eq!(r.status(), 201);
    let o: Value = r.json().await.unwrap();
    chrono::DateTime::parse_from_rfc3339(o["recorded_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Wait until the server's second-resolution clock is past `t`, so a record pushed now
/// is stamped after it (the event the ledger's rule needs, not a fixed pause).
async fn wait_until_after(t: chrono::DateTime<chrono::Utc>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while chrono::Utc::now().timestamp() <= t.timestamp() {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock did not pass {t}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_ledger_blocks_a_double_claim_across_two_agents() {
    let app = spawn_app().await;
    serial_customer(&app, "c-serial").await;
    let first = app.decide_ok(&by_agent("c-serial", "a-1")).await;
    assert_eq!(first["guards"], json!([]), "{first:#}");
    assert_ne!(first["recommendation"]["amount"]["amount"], "0.00");
    record_granted(&app, &first).await;

    // Agent B asks for the same customer: the outcome A recorded is a fourth claim.
    let second = app.decide_ok(&by_agent("c-serial", "b-2")).await;
    let guards = second["guards"].as_array().unwrap();
    assert_eq!(guards.len(), 1, "{second:#}");
    assert_eq!(guards[0]["guard"], "claim_frequency");
    assert!(
        guards[0]["text"].as_str().unwrap().contains("claim 5"),
        "{second:#}"
    );
    assert_eq!(second["recommendation"]["amount"]["amount"], "0.00");
    // The snapshot shows what the guard saw.
    let stored: Value = app
        .get_json(
            &format!("/v1/decisions/{}", second["decision_id"].as_str().unwrap()),
            &app.admin_key,
        )
        .await;
    assert_eq!(stored["customer_snapshot"]["claims_90d"], 4);
    assert_eq!(
        stored["customer_snapshot"]["goodwill_12m"],
        first["recommendation"]["amount"]
    );
}

/// The outcome of `d` as granted as recommended, with `extra` fields.
fn granted_as_recommended(d: &Value, extra: Value) -> (String, Value) {
    let rec = &d["recommendation"];
    let path = format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    );
    let mut body = json!({"granted": {"gesture": rec["gesture"], "amount": rec["amount"]},
        "status": "granted_as_recommended"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    (path, body)
}

#[tokio::test]
async fn two_tickets_decided_at_once_cannot_both_beat_the_claims_guard() {
    let app = spawn_app().await;
    serial_customer(&app, "c-twice").await;
    // Two agents decide at the same time: each sees three claims, each may grant.
    let first = app.decide_ok(&by_agent("c-twice", "a-1")).await;
    let second = app.decide_ok(&by_agent("c-twice", "b-2")).await;
    for d in [&first, &second] {
        assert_eq!(d["guards"], json!([]), "{d:#}");
        assert_ne!(d["recommendation"]["amount"]["amount"], "0.00");
    }
    record_granted(&app, &first).await;

    // The second grant would be a fifth claim in 90 days, which the guard refuses now.
    let (path, body) = granted_as_recommended(&second, json!({}));
    let r = app.post_json(&path, &app.decide_key, &body).await;
    let msg = expect_error(r, 409, "ledger_changed").await;
    assert!(
        msg.contains("claim 5 in 90 days, the policy allows 4"),
        "{msg}"
    );
    assert!(msg.contains("/approval"), "{msg}");
    let stored = app
        .get_json(&path.replace("/outcome", ""), &app.admin_key)
        .await;
    assert!(
        stored.get("outcome").is_none(),
        "nothing written: {stored:#}"
    );

    // Recording that nothing was granted is always possible.
    let none = json!({"granted": {"gesture": "none"}, "status": "declined"});
    let third = app.decide_ok(&by_agent("c-twice", "c-3")).await;
    let third_path = format!(
        "/v1/decisions/{}/outcome",
        third["decision_id"].as_str().unwrap()
    );
    assert_eq!(
        app.post_json(&third_path, &app.decide_key, &none)
            .await
            .status(),
        201
    );

    // A lead approves the second grant: it is recorded, with their name.
    let approval = path.replace("/outcome", "/approval");
    let by_lead = json!({"approver": {"id": "lead-3", "role": "lead"}, "note": "goodwill"});
    assert_eq!(
        app.post_json(&approval, &app.decide_key, &by_lead)
            .await
            .status(),
        201
    );
    let (_, approved) = granted_as_recommended(&second, json!({"approved_by": "lead-3"}));
    let r = app.post_json(&path, &app.decide_key, &approved).await;
    assert_eq!(r.status(), 201);
}

/// Outcomes of two decisions sent at the same moment: the ledger check and the write are
/// one step, so exactly one grant is recorded and the other is refused, however they race.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_outcomes_for_one_customer_record_one_grant() {
    let app = spawn_app().await;
    for round in 0..20 {
        let id = format!("c-race-{round}");
        serial_customer(&app, &id).await;
        let a = app.decide_ok(&by_agent(&id, "a-1")).await;
        let b = app.decide_ok(&by_agent(&id, "b-2")).await;
        let (pa, ba) = granted_as_recommended(&a, json!({}));
        let (pb, bb) = granted_as_recommended(&b, json!({}));
        let (ra, rb) = tokio::join!(
            app.post_json(&pa, &app.decide_key, &ba),
            app.post_json(&pb, &app.decide_key, &bb)
        );
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
        // One grant on the ledger: the next decision is the fifth claim, and declined.
        let next = app.decide_ok(&by_agent(&id, "c-3")).await;
        let text = next["guards"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("claim 5"), "round {round}: {next:#}");
    }
}

#[tokio::test]
async fn a_later_push_supersedes_the_ledger_and_erasure_clears_it() {
    let app = spawn_app().await;
    serial_customer(&app, "c-serial").await;
    let first = app.decide_ok(&by_agent("c-serial", "a-1")).await;
    let granted_at = record_granted(&app, &first).await;
    // The desk pushes its own figures after the outcome: they already count it.
    wait_until_after(granted_at).await;
    serial_customer(&app, "c-serial").await;
    let second = app.decide_ok(&by_agent("c-serial", "b-2")).await;
    assert_eq!(second["guards"], json!([]), "{second:#}");
    record_granted(&app, &second).await;

    // Erasure takes the ledger with it: pushed again at once, the customer starts clean.
    let r = app
        .client
        .delete(app.url("/v1/customers/c-serial"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    serial_customer(&app, "c-serial").await;
    let again = app.decide_ok(&by_agent("c-serial", "c-3")).await;
    assert_eq!(again["guards"], json!([]), "{again:#}");
}

async fn post_nps(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post_json("/v1/nps", &app.ingest_key, body).await
}

async fn at_risk(app: &TestApp, query: &str) -> Value {
    let r = app
        .get(&format!("/v1/customers/at-risk{query}"), &app.ingest_key)
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v:#}");
    v
}

fn ids(page: &Value) -> Vec<String> {
    page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn nps_answers_drive_the_detractor_signal_and_the_trend() {
    let app = spawn_app().await;
    let before = app
        .decide_ok(&request("c-60606", "other", "unclear", "0"))
        .await;
    assert_eq!(before["signals"]["detractor"], false);

    let r = post_nps(
        &app,
        &json!({"customer_id": "c-60606", "score": 9, "at": "2026-11-01"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = post_nps(
        &app,
        &json!({"customer_id": "c-60606", "score": 3,
        "at": "2026-11-20T10:00:00Z", "channel": "email", "comment": "slow again"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    // The same customer and time again is the same answer.
    let r = post_nps(
        &app,
        &json!({"customer_id": "c-60606", "score": 2,
        "at": "2026-11-20T10:00:00Z"}),
    )
    .await;
    assert_eq!(r.status(), 201);

    let after = app
        .decide_ok(&request("c-60606", "other", "unclear", "0"))
        .await;
    assert_eq!(after["signals"]["detractor"], true, "{after:#}");
    let view: Value = app.get_json("/v1/customers/c-60606", &app.ingest_key).await;
    assert_eq!(view["nps_trend"]["score"], 2);
    assert_eq!(view["nps_trend"]["class"], "detractor");
    assert_eq!(view["nps_trend"]["recent"], json!([9, 2]));
    assert_eq!(view["nps_trend"]["change"], -7);

    let bad = post_nps(&app, &json!({"customer_id": "c-60606", "score": 11})).await;
    expect_error(bad, 422, "invalid_request").await;
    let batch = "{\"customer_id\":\"c-10442\",\"score\":10}\nnot json\n{\"customer_id\":\"c-30303\",\"score\":7,\"at\":\"2026-11-02\"}\n";
    let r = app
        .client
        .post(app.url("/v1/nps"))
        .bearer_auth(&app.ingest_key)
        .header("content-type", "application/x-ndjson")
        .body(batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["recorded"], 2);
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["errors"][0]["line"], 2);
    let promoter: Value = app.get_json("/v1/customers/c-10442", &app.ingest_key).await;
    assert_eq!(promoter["nps_trend"]["class"], "promoter");
    // A decide-only key cannot send answers.
    let r = app
        .post_json(
            "/v1/nps",
            &app.decide_key,
            &json!({"customer_id": "c-1", "score": 5}),
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn s5_is_on_the_at_risk_list_until_someone_contacts_them() {
    let app = spawn_app().await;
    let page = at_risk(&app, "").await;
    assert_eq!(ids(&page), vec!["c-50505"], "{page:#}");
    let s5 = &page["customers"][0];
    assert_eq!(s5["value_at_risk"], eur("15000.00"));
    assert_eq!(s5["segment"], "top");
    assert_eq!(s5["signals"], json!(["detractor"]));
    assert!(
        s5["reasons"][0].as_str().unwrap().contains("scored 3"),
        "{s5:#}"
    );
    // The shipped policy's proactive-outreach rule: a voucher of 0.5% of the value at risk.
    assert_eq!(s5["suggested"]["gesture"], "voucher", "{s5:#}");
    assert_eq!(s5["suggested"]["amount"], eur("75.00"));
    assert!(page["next_cursor"].is_null());

    // NPS turns c-60606 into a detractor: onto the list, below S5.
    let r = post_nps(&app, &json!({"customer_id": "c-60606", "score": 4})).await;
    assert_eq!(r.status(), 201);
    let page = at_risk(&app, "").await;
    assert_eq!(ids(&page), vec!["c-50505", "c-60606"]);
    assert_eq!(page["customers"][1]["value_at_risk"], eur("4000.00"));

    // Paged with a cursor, filterable by segment.
    let first = at_risk(&app, "?limit=1").await;
    assert_eq!(ids(&first), vec!["c-50505"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = at_risk(&app, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&second), vec!["c-60606"]);
    assert!(second["next_cursor"].is_null());
    assert_eq!(ids(&at_risk(&app, "?segment=top").await), vec!["c-50505"]);

    // A decision about S5 takes them off the list for the quiet period; an unresolved
    // complaint keeps them on once the period is zero.
    app.decide_ok(&request("c-50505", "late_delivery", "ours", "30.00"))
        .await;
    assert_eq!(ids(&at_risk(&app, "").await), vec!["c-60606"]);
    let zero = at_risk(&app, "?quiet_days=0").await;
    let s5 = zero["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == "c-50505")
        .unwrap();
    assert_eq!(s5["signals"], json!(["detractor", "unresolved_complaint"]));

    let r = app
        .get("/v1/customers/at-risk?segment=nope", &app.ingest_key)
        .await;
    expect_error(r, 422, "invalid_request").await;
    let r = app.get("/v1/customers/at-risk", &app.decide_key).await;
    assert_eq!(r.status(), 403);
}

fn amount(v: &Value) -> rust_decimal::Decimal {
    v["amount"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_goodwill_report_matches_a_seeded_set_of_decisions_and_outcomes() {
    let app = spawn_app().await;
    let mut asks = vec![
        (request("c-10442", "late_delivery", "ours", "40.00"), "a-1"),
        (request("c-60606", "damaged_item", "ours", "450.00"), "a-2"),
        (request("c-40404", "late_delivery", "ours", "40.00"), "a-1"),
        (request("c-50505", "wrong_item", "ours", "60.00"), "a-2"),
    ];
    asks[3].0["agent"]["role"] = json!("senior");
    let mut ds = Vec::new();
    for (mut r, agent) in asks {
        r["agent"]["id"] = json!(agent);
        ds.push(app.decide_ok(&r).await);
    }
    let outcome = |d: &Value, body: Value| {
        let path = format!(
            "/v1/decisions/{}/outcome",
            d["decision_id"].as_str().unwrap()
        );
        (path, body)
    };
    let rec0 = ds[0]["recommendation"].clone();
    let approval = format!(
        "/v1/decisions/{}/approval",
        ds[1]["decision_id"].as_str().unwrap()
    );
    let by_lead = json!({"approver": {"id": "lead-3", "role": "lead"}});
    let r = app.post_json(&approval, &app.decide_key, &by_lead).await;
    assert_eq!(r.status(), 201);
    let outcomes = [
        outcome(
            &ds[0],
            json!({"granted": {"gesture": rec0["gesture"], "amount": rec0["amount"]},
            "status": "granted_as_recommended", "customer_accepted": true}),
        ),
        outcome(
            &ds[1],
            json!({"granted": {"gesture": "refund", "amount": eur("450.00")},
            "approved_by": "lead-3", "status": "granted_other", "customer_accepted": false}),
        ),
        outcome(
            &ds[2],
            json!({"granted": {"gesture": "none"}, "status": "escalated"}),
        ),
    ];
    for (path, body) in outcomes {
        let r = app.post_json(&path, &app.decide_key, &body).await;
        assert_eq!(r.status(), 201);
    }

    let r = app
        .get("/v1/reports/goodwill?from=2000-01-01", &app.admin_key)
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    let recommended: rust_decimal::Decimal = ds
        .iter()
        .map(|d| amount(&d["recommendation"]["amount"]))
        .sum();
    let granted = amount(&rec0["amount"]) + rust_decimal::Decimal::new(45000, 2);
    assert_eq!(report["decisions"], 4);
    assert_eq!(report["outcomes"], 3);
    assert_eq!(amount(&report["recommended"]), recommended, "{report:#}");
    assert_eq!(amount(&report["granted"]), granted);
    let within = ds
        .iter()
        .filter(|d| d["authority"]["within_authority"] == true)
        .count() as f64;
    assert_eq!(report["within_authority_share"], within / 4.0);
    assert_eq!(report["escalation_rate"], 0.3333);
    assert_eq!(report["acceptance_rate"], 0.5);
    let agents = report["by_agent"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    assert_eq!(agents[0]["key"], "a-1");
    assert_eq!(agents[0]["decisions"], 2);
    assert_eq!(agents[0]["outcomes"], 2);
    assert_eq!(amount(&agents[0]["granted"]), amount(&rec0["amount"]));
    assert_eq!(
        amount(&agents[1]["granted"]),
        rust_decimal::Decimal::new(45000, 2)
    );
    let roles: Vec<_> = report["by_role"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].clone())
        .collect();
    assert_eq!(roles, vec![json!("agent"), json!("senior")]);
    for dim in ["by_gesture", "by_segment", "by_role", "by_agent"] {
        let groups = report[dim].as_array().unwrap();
        let n: u64 = groups
            .iter()
            .map(|g| g["decisions"].as_u64().unwrap())
            .sum();
        let sum: rust_decimal::Decimal = groups.iter().map(|g| amount(&g["recommended"])).sum();
        assert_eq!((n, sum), (4, recommended), "{dim}");
    }
    // S5 is the one detractor seen, in the top segment.
    let top = report["nps_by_segment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["segment"] == ds[3]["customer"]["segment"])
        .unwrap();
    assert_eq!(top["detractors"], 1);
    let fair: u64 = report["fairness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["decisions"].as_u64().unwrap())
        .sum();
    assert_eq!(fair, 4);
    // Retention after a gesture: S1 got one (accepted); c-60606 refused theirs and S4 got
    // none. Every window (90 days) is still open.
    let all = &report["retention"]["comparisons"][0];
    assert_eq!(report["retention"]["window_days"], 90);
    assert_eq!(all["segment"], "*");
    assert_eq!(all["with_gesture"]["decisions"], 1);
    assert_eq!(all["with_gesture"]["pending"], 1);
    assert_eq!(all["without_gesture"]["decisions"], 2);
    assert_eq!(all["without_gesture"]["pending"], 2);
    assert!(all["difference_points"].is_null());
    let week: Value = app
        .get_json("/v1/reports/goodwill?retention_days=7", &app.admin_key)
        .await;
    assert_eq!(week["retention"]["window_days"], 7);
    let bad = app
        .get("/v1/reports/goodwill?retention_days=0", &app.admin_key)
        .await;
    let message = expect_error(bad, 422, "invalid_request").await;
    assert!(message.contains("retention_days"), "{message}");
    // A value that is not a number names its parameter too.
    let bad = app
        .get("/v1/reports/goodwill?retention_days=ninety", &app.admin_key)
        .await;
    let message = expect_error(bad, 422, "invalid_request").await;
    assert!(message.contains("retention_days"), "{message}");

    let before: Value = app
        .get_json("/v1/reports/goodwill?to=2000-01-01", &app.admin_key)
        .await;
    assert_eq!(before["decisions"], 0);
    let bad = app
        .get("/v1/reports/goodwill?from=yesterday", &app.admin_key)
        .await;
    expect_error(bad, 422, "invalid_request").await;
    let r = app.get("/v1/reports/goodwill", &app.decide_key).await;
    assert_eq!(r.status(), 403);
}

/// Fit the order model up to `observation_end`, then `customer`'s entry on the at-risk list.
async fn fit_and_find(app: &TestApp, observation_end: &str, customer: &str) -> Value {
    let r = app
        .post_json(
            "/v1/value/fit",
            &app.admin_key,
            &json!({"observation_end": observation_end}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let page = at_risk(app, "?limit=500").await;
    page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == customer)
        .cloned()
        .unwrap_or_else(|| panic!("{customer} is not listed: {page:#}"))
}

#[tokio::test]
async fn a_customer_the_order_model_sees_fading_is_on_the_at_risk_list() {
    use crate::orders::{order, population, post_ndjson};
    let app = spawn_app().await;
    post_ndjson(&app, &population()).await;
    // Weekly for 30 weeks in 2025, then nothing for a year.
    let day0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let fading: Vec<Value> = (0..30u64)
        .map(|k| {
            let day = day0 + chrono::Days::new(7 * k);
            order(&format!("f-{k}"), "c-fading", &day.to_string(), "200.00")
        })
        .collect();
    post_ndjson(&app, &fading).await;
    let c = fit_and_find(&app, "2026-06-30", "c-fading").await;
    assert_eq!(c["signals"], json!(["low_p_alive"]));
    assert!(
        c["reasons"][0].as_str().unwrap().contains("P(alive)"),
        "{c:#}"
    );
}

#[tokio::test]
async fn a_regular_buyer_gone_quiet_shows_a_falling_p_alive() {
    use crate::orders::{order, population, post_ndjson};
    let app = spawn_app().await;
    post_ndjson(&app, &population()).await;
    // Weekly for 40 weeks, the last order 100 days ago.
    let today = chrono::Utc::now().date_naive();
    let last = today - chrono::Days::new(100);
    let quiet: Vec<Value> = (0..40u64)
        .map(|k| {
            let day = last - chrono::Days::new(7 * k);
            order(&format!("q-{k}"), "c-quiet", &day.to_string(), "80.00")
        })
        .collect();
    post_ndjson(&app, &quiet).await;
    let c = fit_and_find(&app, &today.to_string(), "c-quiet").await;
    let signals: Vec<&str> = c["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(signals.contains(&"falling_p_alive"), "{c:#}");
    let since = (today - chrono::Days::new(90)).to_string();
    assert!(
        c["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.as_str())
            .any(|r| r.contains("fell from") && r.contains(&since)),
        "{c:#}"
    );
}
