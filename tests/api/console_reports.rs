//! What the lead's console reads beyond the goodwill report's first form (issue 32):
//! decisions per day, escalations and authority per role, the segment filter, the
//! decisions behind a number, a policy diff as typed changes, a shadow run's summary and
//! the value charts.

use crate::helpers::{expect_error, request, spawn_app, TestApp};
use serde_json::{json, Value};

/// Four decisions by two roles over three segments, two outcomes (one escalation).
async fn scripted(app: &TestApp) -> Vec<Value> {
    let mut asks = [
        request("c-10442", "late_delivery", "ours", "40.00"),
        request("c-60606", "damaged_item", "ours", "450.00"),
        request("c-40404", "late_delivery", "ours", "40.00"),
        request("c-50505", "wrong_item", "ours", "60.00"),
    ];
    asks[3]["agent"]["role"] = json!("senior");
    let mut ds = Vec::new();
    for (i, r) in asks.iter_mut().enumerate() {
        r["ticket_id"] = json!(format!("T-console-{i}"));
        ds.push(app.decide_ok(r).await);
    }
    let rec = ds[0]["recommendation"].clone();
    for (d, body) in [
        (
            &ds[0],
            json!({"granted": {"gesture": rec["gesture"], "amount": rec["amount"]},
                "status": "granted_as_recommended", "customer_accepted": true}),
        ),
        (
            &ds[2],
            json!({"granted": {"gesture": "none"}, "status": "escalated"}),
        ),
    ] {
        let path = format!(
            "/v1/decisions/{}/outcome",
            d["decision_id"].as_str().unwrap()
        );
        let r = app.post_json(&path, &app.decide_key, &body).await;
        assert_eq!(r.status(), 201);
    }
    ds
}

fn group<'a>(groups: &'a Value, key: &str) -> &'a Value {
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group `{key}` in {groups}"))
}

#[tokio::test]
async fn the_report_counts_per_day_and_per_role_and_filters_by_segment() {
    let app = spawn_app().await;
    let ds = scripted(&app).await;
    let report = app
        .get_json("/v1/reports/goodwill?from=2000-01-01", &app.admin_key)
        .await;
    let today = chrono::Utc::now().date_naive().to_string();
    let days = report["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{report:#}");
    assert_eq!(days[0]["day"], today.as_str());
    assert_eq!(days[0]["decisions"], 4);
    assert_eq!(days[0]["outcomes"], 2);
    assert_eq!(days[0]["recommended"], report["recommended"]);
    let agents = group(&report["by_role"], "agent");
    assert_eq!(agents["decisions"], 3);
    assert_eq!(agents["escalated"], 1);
    let within = ds[..3]
        .iter()
        .filter(|d| d["authority"]["within_authority"] == true)
        .count();
    assert_eq!(agents["within_authority"], within);
    assert_eq!(group(&report["by_role"], "senior")["escalated"], 0);

    // One segment: only its decisions count, and the answer says which segment it is.
    let segment = ds[1]["customer"]["segment"].as_str().unwrap().to_string();
    let same = ds
        .iter()
        .filter(|d| d["customer"]["segment"] == segment.as_str())
        .count();
    let one = app
        .get_json(
            &format!("/v1/reports/goodwill?from=2000-01-01&segment={segment}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(one["segment"], segment.as_str());
    assert_eq!(one["decisions"], same, "{one:#}");
    assert!(one["by_segment"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["key"] == segment.as_str()));
    let none = app
        .get_json("/v1/reports/goodwill?segment=nobody", &app.admin_key)
        .await;
    assert_eq!(none["decisions"], 0);
    assert_eq!(none["by_day"], json!([]));
}

#[tokio::test]
async fn the_decisions_behind_a_number_are_listed_newest_first_with_their_count() {
    let app = spawn_app().await;
    let ds = scripted(&app).await;
    let list = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let r = app
                .get(&format!("/v1/reports/decisions?{q}"), &app.admin_key)
                .await;
            let status = r.status();
            let v: Value = r.json().await.unwrap();
            assert_eq!(status, 200, "{q}: {v:#}");
            v
        }
    };
    let all = list("from=2000-01-01").await;
    assert_eq!(all["matched"], 4);
    assert_eq!(all["truncated"], false);
    let ids: Vec<&str> = all["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision_id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = ds
        .iter()
        .rev()
        .map(|d| d["decision_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, newest_first);
    let first = &all["decisions"][3];
    assert_eq!(first["ticket_id"], "T-console-0");
    assert_eq!(first["customer_id"], "c-10442");
    assert_eq!(first["recommended"], ds[0]["recommendation"]["amount"]);
    assert_eq!(first["outcome"], "granted_as_recommended");
    assert_eq!(first["granted"], ds[0]["recommendation"]["amount"]);
    assert_eq!(first["customer_accepted"], true);

    let escalated = list("outcome=escalated&role=agent").await;
    assert_eq!(escalated["matched"], 1);
    assert_eq!(escalated["decisions"][0]["ticket_id"], "T-console-2");
    assert_eq!(list("outcome=open").await["matched"], 2);
    assert_eq!(list("outcome=recorded").await["matched"], 2);
    assert_eq!(list("role=senior").await["matched"], 1);
    let accepted = list("customer_accepted=true").await;
    assert_eq!(accepted["matched"], 1);
    assert_eq!(accepted["decisions"][0]["ticket_id"], "T-console-0");
    assert_eq!(list("customer_accepted=false").await["matched"], 0);
    assert_eq!(list("customer=c-60606").await["matched"], 1);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(list(&format!("day={today}")).await["matched"], 4);
    let yesterday = today.pred_opt().unwrap();
    assert_eq!(list(&format!("day={yesterday}")).await["matched"], 0);
    let within = ds
        .iter()
        .filter(|d| d["authority"]["within_authority"] == false)
        .count();
    assert_eq!(list("within_authority=false").await["matched"], within);
    let two = list("limit=2").await;
    assert_eq!(two["matched"], 4);
    assert_eq!(two["truncated"], true);
    assert_eq!(two["decisions"].as_array().unwrap().len(), 2);
    assert_eq!(two["decisions"][0]["decision_id"], ds[3]["decision_id"]);

    for (q, field) in [
        ("outcome=maybe", "outcome"),
        ("limit=1001", "limit"),
        ("day=yesterday", "day"),
        ("from=soon", "from"),
    ] {
        let r = app
            .get(&format!("/v1/reports/decisions?{q}"), &app.admin_key)
            .await;
        let message = expect_error(r, 422, "invalid_request").await;
        assert!(message.contains(field), "{q}: {message}");
    }
    let r = app.get("/v1/reports/decisions", &app.decide_key).await;
    expect_error(r, 403, "forbidden").await;
}

#[tokio::test]
async fn a_policy_diff_names_each_change_as_a_typed_value() {
    let app = spawn_app().await;
    let active = app.get_json("/v1/policies/active", &app.admin_key).await;
    let mut doc = active["document"].clone();
    let old = active["version"].as_str().unwrap().to_string();
    doc["version"] = json!("2099.1.0");
    let max = doc["authority"]["agent"]["max"].clone();
    doc["authority"]["agent"]["max"] = json!("999.00");
    let removed = doc["rules"][0]["id"].as_str().unwrap().to_string();
    doc["rules"].as_array_mut().unwrap().remove(0);
    let r = app
        .put_json("/v1/policies/2099.1.0?draft=true", &app.admin_key, &doc)
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let d = app
        .get_json("/v1/policies/2099.1.0/diff", &app.admin_key)
        .await;
    assert_eq!(d["from"], old.as_str(), "{d:#}");
    assert_eq!(d["to"], "2099.1.0");
    let changes = d["changes"].as_array().unwrap();
    assert!(
        changes.contains(&json!({"kind": "rule_removed", "rule": removed})),
        "{d:#}"
    );
    assert!(
        changes.contains(&json!({"kind": "setting", "path": "authority.agent.max",
            "before": max, "after": "999.00"})),
        "{d:#}"
    );
    assert!(
        changes.contains(&json!({"kind": "setting", "path": "version",
        "before": old, "after": "2099.1.0"}))
    );
    // The other way round, named explicitly.
    let back = app
        .get_json(
            &format!("/v1/policies/{old}/diff?from=2099.1.0"),
            &app.admin_key,
        )
        .await;
    assert!(back["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["kind"] == "rule_added" && c["rule"] == removed.as_str()));
    let same = app
        .get_json(&format!("/v1/policies/{old}/diff"), &app.admin_key)
        .await;
    assert_eq!(same["changes"], json!([]));
    let r = app
        .get("/v1/policies/2099.1.0/diff?from=0.0.1", &app.admin_key)
        .await;
    expect_error(r, 404, "policy_not_found").await;
}

#[tokio::test]
async fn a_value_validation_draws_its_charts_on_request_in_german_or_english() {
    let app = spawn_app().await;
    crate::order_data::post_ndjson(&app, &crate::order_data::population()).await;
    let ask = |charts: Value| {
        json!({"calibration_end": "2025-12-31", "holdout_end": "2026-06-30",
            "time_unit": "week", "charts": charts})
    };
    let r = app
        .post_json("/v1/value/validate", &app.admin_key, &ask(json!("de")))
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    let tracking = report["charts"]["tracking"].as_str().unwrap();
    assert!(tracking.starts_with("<svg"), "{tracking}");
    assert!(tracking.contains("Ende der Kalibrierung"), "{tracking}");
    let conditional = report["charts"]["conditional"].as_str().unwrap();
    assert!(conditional.contains("Kalibrierungszeitraum"));
    let r = app
        .post_json("/v1/value/validate", &app.admin_key, &ask(json!("en")))
        .await;
    let report: Value = r.json().await.unwrap();
    assert!(report["charts"]["tracking"]
        .as_str()
        .unwrap()
        .contains("end of calibration"));
    let r = app
        .post_json("/v1/value/validate", &app.admin_key, &ask(Value::Null))
        .await;
    let report: Value = r.json().await.unwrap();
    assert!(report.get("charts").is_none(), "no charts unless asked");
    let r = app
        .post_json("/v1/value/validate", &app.admin_key, &ask(json!("fr")))
        .await;
    expect_error(r, 422, "invalid_request").await;
}

#[tokio::test]
async fn a_shadow_run_is_summed_up_with_its_newest_differences() {
    let app = spawn_app().await;
    let active = app.get_json("/v1/policies/active", &app.admin_key).await;
    let mut doc = active["document"].clone();
    doc["version"] = json!("2099.2.0");
    doc["examples"] = json!([]);
    for r in doc["rules"].as_array_mut().unwrap() {
        if r["id"] == "cancellation-high-value" {
            r["then"]["amount"] = json!({"of_claim": "0.8", "max": "2000.00"});
        }
    }
    let r = app
        .put_json("/v1/policies/2099.2.0", &app.admin_key, &doc)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let none = app.get_json("/v1/policies/shadow", &app.admin_key).await;
    assert_eq!(none, json!({"shadow": null}), "no results without a shadow");
    let r = app
        .post_json("/v1/policies/2099.2.0/shadow", &app.admin_key, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    // S1 differs under the candidate (80 %); a late delivery does not.
    let mut s1 = request("c-10442", "cancellation_refund", "unclear", "100.00");
    s1["ticket_id"] = json!("T-shadow-s1");
    let s1 = app.decide_ok(&s1).await;
    app.decide_ok(&request("c-40404", "late_delivery", "ours", "40.00"))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let s = loop {
        let s = app.get_json("/v1/policies/shadow", &app.admin_key).await;
        if s["results"]["compared"] == 2 {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "{s}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let r = &s["results"];
    assert_eq!(r["policy"], "goodwill 2099.2.0");
    assert_eq!(r["differ"], 1, "{s:#}");
    assert_eq!(r["not_evaluable"], 0);
    let d = &r["recent"][0];
    assert_eq!(d["decision_id"], s1["decision_id"]);
    assert_eq!(d["ticket_id"], "T-shadow-s1");
    assert_eq!(d["live_amount"], s1["recommendation"]["amount"]);
    assert_eq!(d["shadow_amount"]["amount"], "80.00");
}
