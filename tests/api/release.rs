//! Releasing a policy safely: backtest, atomic swaps under load, restarts, shadow runs.

use crate::helpers::{request, spawn_app, start, TestApp};
use serde_json::{json, Value};

fn shipped() -> Value {
    serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap()
}

fn rule<'a>(v: &'a mut Value, id: &str) -> &'a mut Value {
    v["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["id"] == id)
        .unwrap()
}

/// A candidate: S1-type refunds at 80%, high-value our-fault refunds capped at €400.
fn candidate(version: &str) -> Value {
    let mut v = shipped();
    v["version"] = json!(version);
    v["examples"] = json!([]);
    rule(&mut v, "cancellation-high-value")["then"]["amount"] =
        json!({"of_claim": "0.8", "max": "2000.00"});
    rule(&mut v, "our-fault-high-value")["then"]["amount"] =
        json!({"of_claim": "1", "max": "400.00"});
    v
}

async fn upload(app: &TestApp, version: &str, doc: &Value) {
    let r = app
        .put_json(&format!("/v1/policies/{version}"), &app.admin_key, doc)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// Store a version as a draft: a candidate under evaluation need not pass every check.
async fn upload_draft(app: &TestApp, version: &str, doc: &Value) -> Value {
    let r = app
        .put_json(
            &format!("/v1/policies/{version}?draft=true"),
            &app.admin_key,
            doc,
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_backtest_reports_exact_changes_and_money_for_a_seeded_log() {
    let app = spawn_app().await;
    // 3 × S1 (refund €100), 2 × S6 (refund €450, above agent authority), 1 unknown (voucher €50).
    for _ in 0..3 {
        app.decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    }
    for _ in 0..2 {
        app.decide_ok(&request("c-60606", "damaged_item", "ours", "450.00"))
            .await;
    }
    app.decide_ok(&request(
        "c-nobody",
        "cancellation_refund",
        "unclear",
        "100.00",
    ))
    .await;
    // The candidate caps high-value refunds below what regular customers get: the
    // monotonicity check refuses it as a release, but it can still be backtested.
    // Without expected-value ranking, so the capped refund is what high-value customers
    // get (ranking would offer many of them the voucher instead).
    let mut doc = candidate("2026.12.0");
    doc.as_object_mut().unwrap().remove("retention");
    let draft = upload_draft(&app, "2026.12.0", &doc).await;
    assert_eq!(draft["status"], "draft");
    assert!(draft["problems"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("more customer value gets less"));

    let r = app
        .post_json(
            "/v1/policies/2026.12.0/backtest",
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["decisions"], 6);
    assert_eq!(rep["evaluated"], 6);
    assert_eq!(rep["changed"], 5);
    assert_eq!(rep["total_before"]["amount"], "1250.00");
    assert_eq!(rep["total_after"]["amount"], "1090.00");
    assert_eq!(rep["total_delta"]["amount"], "-160.00");
    // The unknown customer's €50 voucher costs €30 (cost factor 0.6).
    assert_eq!(rep["cost_before"]["amount"], "1230.00");
    assert_eq!(rep["cost_after"]["amount"], "1070.00");
    let refund = rep["by_gesture"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "refund")
        .unwrap();
    assert_eq!(refund["before"]["amount"], "1200.00");
    assert_eq!(refund["after"]["amount"], "1040.00");
    let largest = rep["largest_changes"].as_array().unwrap();
    assert_eq!(largest.len(), 5);
    assert_eq!(largest[0]["delta"]["amount"], "-50.00");
    assert_eq!(largest[0]["before"]["amount"]["amount"], "450.00");
    assert_eq!(largest[0]["after"]["amount"]["amount"], "400.00");
    assert_eq!(largest[4]["delta"]["amount"], "-20.00");
    assert!((rep["above_authority"]["before"].as_f64().unwrap() - 2.0 / 6.0).abs() < 1e-9);

    // A period with no decisions replays nothing.
    let r = app
        .post_json(
            "/v1/policies/2026.12.0/backtest?since=2000-01-01&until=2000-02-01",
            &app.admin_key,
            &json!({}),
        )
        .await;
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["decisions"], 0);
    let bad = app
        .post_json(
            "/v1/policies/2026.12.0/backtest?since=yesterday",
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn decisions_during_repeated_swaps_all_succeed_and_each_carries_one_whole_version() {
    let app = spawn_app().await;
    let mut next = shipped();
    next["version"] = json!("2026.12.0");
    rule(&mut next, "cancellation-high-value")["then"]["reason"] =
        json!("version twelve: {value_at_risk} at risk");
    next["examples"] = json!([]);
    upload(&app, "2026.12.0", &next).await;
    let digests: Value = app.get_json("/v1/policies", &app.admin_key).await;
    let digest_of = |v: &str| {
        digests
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["version"] == v)
            .unwrap()["digest"]
            .clone()
    };
    let (d11, d12) = (digest_of("2026.11.0"), digest_of("2026.12.0"));

    let app = std::sync::Arc::new(app);
    let swapper = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let v = if i % 2 == 0 { "2026.12.0" } else { "2026.11.0" };
                let r = app.activate(v).await;
                assert_eq!(r.status(), 200);
            }
        })
    };
    let mut workers = Vec::new();
    for _ in 0..4 {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..25 {
                let d = app
                    .decide_ok(&request(
                        "c-10442",
                        "cancellation_refund",
                        "unclear",
                        "100.00",
                    ))
                    .await;
                seen.push(d);
            }
            seen
        }));
    }
    swapper.await.unwrap();
    for w in workers {
        for d in w.await.unwrap() {
            let version = d["policy"]["version"].as_str().unwrap();
            let text = d["reasons"][0]["text"].as_str().unwrap();
            match version {
                "2026.11.0" => {
                    assert_eq!(d["policy"]["digest"], d11);
                    assert!(text.starts_with("lifetime bookings"), "{text}");
                }
                "2026.12.0" => {
                    assert_eq!(d["policy"]["digest"], d12);
                    assert!(text.starts_with("version twelve"), "{text}");
                }
                other => panic!("unexpected version {other}"),
            }
        }
    }
}

#[tokio::test]
async fn the_active_version_survives_a_restart() {
    let app = spawn_app().await;
    upload(&app, "2026.12.0", &candidate_with_examples("2026.12.0")).await;
    let r = app.activate("2026.12.0").await;
    assert_eq!(r.status(), 200);
    let dir = app.stop().await;
    let app = start(dir).await;
    let d = app
        .decide_ok(&request("c-nobody", "late_delivery", "ours", "10.00"))
        .await;
    assert_eq!(d["policy"]["version"], "2026.12.0");
}

fn candidate_with_examples(version: &str) -> Value {
    let mut v = shipped();
    v["version"] = json!(version);
    v
}

#[tokio::test]
async fn a_draft_is_stored_with_its_problems_but_never_activated() {
    let app = spawn_app().await;
    let mut draft = candidate("2027.1.0");
    draft["floor"]["gesture"] = json!("hug");
    let r = app
        .put_json("/v1/policies/2027.1.0?draft=true", &app.admin_key, &draft)
        .await;
    assert_eq!(r.status(), 201);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["status"], "draft");
    assert_eq!(stored["problems"][0]["path"], "$.floor.gesture");
    let r = app.activate("2027.1.0").await;
    assert_eq!(r.status(), 422);
    let d = app
        .decide_ok(&request("c-nobody", "late_delivery", "ours", "10.00"))
        .await;
    assert_eq!(d["policy"]["version"], "2026.11.0");
    let bad = app
        .put_json("/v1/policies/2027.2.0?draft=maybe", &app.admin_key, &draft)
        .await;
    assert_eq!(bad.status(), 422);
}

async fn shadow_of(app: &TestApp, id: &str) -> Value {
    // The shadow runs after the answer is sent; give it a moment.
    for _ in 0..100 {
        let r = app
            .get(&format!("/v1/decisions/{id}/shadow"), &app.decide_key)
            .await;
        if r.status() == 200 {
            return r.json().await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no shadow result for {id}");
}

#[tokio::test]
async fn a_shadow_version_sees_every_live_decision_but_never_changes_the_answer() {
    let app = spawn_app().await;
    upload_draft(&app, "2026.12.0", &candidate("2026.12.0")).await;
    let r = app
        .post_json("/v1/policies/2026.12.0/shadow", &app.admin_key, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let s: Value = app.get_json("/v1/policies/shadow", &app.admin_key).await;
    assert_eq!(s["shadow"], "goodwill 2026.12.0");

    let changed = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(
        changed["recommendation"]["amount"]["amount"], "100.00",
        "live answer unaffected"
    );
    assert_eq!(changed["policy"]["version"], "2026.11.0");
    let same = app
        .decide_ok(&request("c-nobody", "late_delivery", "ours", "10.00"))
        .await;

    let s1 = shadow_of(&app, changed["decision_id"].as_str().unwrap()).await;
    assert_eq!(s1["differs"], true);
    assert_eq!(s1["policy"], "goodwill 2026.12.0");
    assert_eq!(
        s1["evaluation"]["recommendation"]["amount"]["amount"],
        "80.00"
    );
    let s2 = shadow_of(&app, same["decision_id"].as_str().unwrap()).await;
    assert_eq!(s2["differs"], false);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("kulanz_shadow_decisions_total{result=\"different\"}"),
        "{metrics}"
    );

    // The shadow survives a restart, and can be cleared.
    let dir = app.stop().await;
    let app = start(dir).await;
    let s: Value = app.get_json("/v1/policies/shadow", &app.admin_key).await;
    assert_eq!(s["shadow"], "goodwill 2026.12.0");
    let r = app
        .client
        .delete(app.url("/v1/policies/shadow"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    // No wait before looking: whether a decision is shadowed is read from the state
    // before it is answered (service/shadow.rs `spawn`), so with the shadow cleared no
    // shadow run exists to finish later. A pause here could only hide a slow one.
    let r = app
        .get(
            &format!(
                "/v1/decisions/{}/shadow",
                d["decision_id"].as_str().unwrap()
            ),
            &app.decide_key,
        )
        .await;
    assert_eq!(r.status(), 404);
}

async fn active_version(app: &TestApp) -> String {
    let d = app
        .decide_ok(&request("c-nobody", "late_delivery", "ours", "10.00"))
        .await;
    d["policy"]["version"].as_str().unwrap().to_string()
}

/// The watcher's status (`GET /v1/policies/watch`).
async fn watch_status(app: &TestApp) -> Value {
    app.get_json("/v1/policies/watch", &app.admin_key).await
}

/// Wait until the watcher has checked the folder after a change made after `before`
/// (a status read before the change): the event that proves it saw the change.
async fn wait_for_reload(app: &TestApp, before: &Value) -> Value {
    let seen = before["reloads"].as_u64().unwrap();
    for _ in 0..600 {
        let now = watch_status(app).await;
        if now["reloads"].as_u64().unwrap() > seen {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the watcher did not reload within 30 s: {:#}",
        watch_status(app).await
    );
}

async fn wait_for_version(app: &TestApp, version: &str) -> bool {
    for _ in 0..100 {
        if active_version(app).await == version {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn hot_reload_refuses_a_broken_file_keeps_the_running_version_and_takes_a_good_one() {
    let policies = tempfile::tempdir().unwrap();
    std::fs::write(
        policies.path().join("goodwill.json"),
        kulanz::policy::load::DEFAULT_POLICY,
    )
    .unwrap();
    let app = crate::helpers::start_with(
        tempfile::tempdir().unwrap(),
        policies.path(),
        Some(std::time::Duration::from_millis(100)),
    )
    .await;
    assert_eq!(active_version(&app).await, "2026.11.0");
    let status = watch_status(&app).await;
    assert_eq!(status["watching"], true, "{status:#}");

    // A broken new version: refused, and the running version stays.
    let mut broken = candidate_with_examples("2026.12.0");
    broken["authority"]["agent"]["max"] = json!("1.00");
    std::fs::write(
        policies.path().join("goodwill-2026.12.json"),
        broken.to_string(),
    )
    .unwrap();
    let status = wait_for_reload(&app, &status).await;
    let refused = status["last_refused"].to_string();
    assert!(refused.contains("goodwill-2026.12.json"), "{status:#}");
    assert!(status["last_activated"].is_null(), "{status:#}");
    assert_eq!(active_version(&app).await, "2026.11.0");
    std::fs::write(
        policies.path().join("half-written.json"),
        "{\"id\": \"goodwill\", ",
    )
    .unwrap();
    let status = wait_for_reload(&app, &status).await;
    assert!(
        status["last_refused"]
            .to_string()
            .contains("half-written.json"),
        "{status:#}"
    );
    assert_eq!(active_version(&app).await, "2026.11.0");

    // Fixed: the newer valid version is checked, stored and activated.
    std::fs::remove_file(policies.path().join("half-written.json")).unwrap();
    std::fs::write(
        policies.path().join("goodwill-2026.12.json"),
        candidate_with_examples("2026.12.0").to_string(),
    )
    .unwrap();
    assert!(
        wait_for_version(&app, "2026.12.0").await,
        "the good file was not picked up"
    );
    let list: Value = app.get_json("/v1/policies", &app.admin_key).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["version"] == "2026.12.0" && p["active"] == true));

    // A rollback through the API holds: re-saving a file already stored changes nothing.
    let r = app.activate("2026.11.0").await;
    assert_eq!(r.status(), 200);
    let status = watch_status(&app).await;
    // Same content, new length: the watcher sees a change (its fingerprint is the file's
    // time and size) and checks it, and the stored version it finds changes nothing.
    std::fs::write(
        policies.path().join("goodwill-2026.12.json"),
        format!("{}\n", candidate_with_examples("2026.12.0")),
    )
    .unwrap();
    let status = wait_for_reload(&app, &status).await;
    assert!(status["last_activated"].is_null(), "{status:#}");
    assert_eq!(status["last_refused"], json!([]), "{status:#}");
    assert_eq!(active_version(&app).await, "2026.11.0");
}

#[tokio::test]
async fn a_new_version_deployed_while_stopped_is_activated_at_start_but_a_known_one_is_not() {
    let policies = tempfile::tempdir().unwrap();
    std::fs::write(
        policies.path().join("goodwill.json"),
        kulanz::policy::load::DEFAULT_POLICY,
    )
    .unwrap();
    let app = crate::helpers::start_with(tempfile::tempdir().unwrap(), policies.path(), None).await;
    assert_eq!(active_version(&app).await, "2026.11.0");
    let dir = app.stop().await;
    std::fs::write(
        policies.path().join("goodwill-2026.12.json"),
        candidate_with_examples("2026.12.0").to_string(),
    )
    .unwrap();
    let app = crate::helpers::start_with(dir, policies.path(), None).await;
    assert_eq!(active_version(&app).await, "2026.12.0", "a deployment");
    let r = app.activate("2026.11.0").await;
    assert_eq!(r.status(), 200);
    let dir = app.stop().await;
    let app = crate::helpers::start_with(dir, policies.path(), None).await;
    assert_eq!(
        active_version(&app).await,
        "2026.11.0",
        "the rollback survives the restart"
    );
}
