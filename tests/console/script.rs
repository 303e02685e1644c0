//! The console test's data: a morning of decisions and outcomes over the seed customers,
//! orders with a fitted value model, and a candidate policy version.

use crate::helpers::{eur, request, TestApp};
use crate::order_data;
use serde_json::{json, Value};

/// A morning's worth of decisions: eleven complaints over the seed customers, by agents,
/// a senior and a lead, with outcomes granted, granted otherwise, escalated and declined.
pub async fn scripted(app: &TestApp) -> Vec<Value> {
    let asks = [
        (
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
            "agent",
        ),
        ("c-10442", "late_delivery", "ours", "40.00", "agent"),
        ("c-60606", "damaged_item", "ours", "450.00", "agent"),
        ("c-60606", "late_delivery", "partner", "30.00", "senior"),
        ("c-40404", "late_delivery", "ours", "40.00", "agent"),
        ("c-50505", "wrong_item", "ours", "60.00", "senior"),
        ("c-50505", "billing_error", "ours", "25.00", "agent"),
        ("c-new-1", "late_delivery", "ours", "30.00", "agent"),
        ("c-new-2", "quality_issue", "customer", "80.00", "agent"),
        ("c-10442", "service_failure", "ours", "200.00", "lead"),
        ("c-60606", "missing_item", "ours", "120.00", "agent"),
    ];
    let mut ds = Vec::new();
    for (i, (customer, category, fault, amount, role)) in asks.into_iter().enumerate() {
        let mut r = request(customer, category, fault, amount);
        r["ticket_id"] = json!(format!("ZD-{}", 48000 + i));
        r["agent"] = json!({"id": format!("a-{}", 10 + i % 3), "role": role});
        ds.push(app.decide_ok(&r).await);
    }
    let granted = |d: &Value| {
        let rec = &d["recommendation"];
        json!({"granted": {"gesture": rec["gesture"], "amount": rec["amount"]},
            "status": "granted_as_recommended", "customer_accepted": true})
    };
    let outcomes = [
        (0, granted(&ds[0])),
        (1, granted(&ds[1])),
        (
            2,
            json!({"granted": {"gesture": "none"}, "status": "escalated", "note": "Teamleitung"}),
        ),
        (
            4,
            json!({"granted": {"gesture": "voucher", "amount": eur("20.00")},
                "status": "granted_other", "customer_accepted": false}),
        ),
        (5, granted(&ds[5])),
        (
            7,
            json!({"granted": {"gesture": "none"}, "status": "declined", "note": "kein Schaden"}),
        ),
        (
            10,
            json!({"granted": {"gesture": "none"}, "status": "escalated"}),
        ),
    ];
    for (i, body) in outcomes {
        let path = format!(
            "/v1/decisions/{}/outcome",
            ds[i]["decision_id"].as_str().unwrap()
        );
        let r = app.post_json(&path, &app.decide_key, &body).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    ds
}

/// A candidate version: S1-type refunds at 80 %, our-fault refunds for high value capped.
pub fn candidate() -> Value {
    let mut v: Value = serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap();
    v["version"] = json!("2026.12.0");
    v["examples"] = json!([]);
    for r in v["rules"].as_array_mut().unwrap() {
        if r["id"] == "cancellation-high-value" {
            r["then"]["amount"] = json!({"of_claim": "0.8", "max": "2000.00"});
        }
        if r["id"] == "our-fault-high-value" {
            r["then"]["amount"] = json!({"of_claim": "1", "max": "400.00"});
        }
    }
    v
}

pub async fn prepare(app: &TestApp) {
    scripted(app).await;
    order_data::post_ndjson(app, &order_data::population()).await;
    let r = app
        .post_json(
            "/v1/value/fit",
            &app.admin_key,
            &json!({"observation_end": "2026-06-30"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = app
        .put_json("/v1/policies/2026.12.0", &app.admin_key, &candidate())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}
