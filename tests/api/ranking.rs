//! The expected-value ranking over HTTP: numbers in the answer and the reasons, outcomes
//! flowing into `GET /v1/reports/retention`.

use crate::helpers::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_ranked_answer_shows_every_number_and_they_add_up() {
    let app = spawn_app().await;
    // S1: the rule offers a refund or a voucher.
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let rec = &d["recommendation"];
    let ranking = &rec["ranking"];
    assert_eq!(ranking["window_days"], 90, "{d:#}");
    let gestures = ranking["gestures"].as_array().unwrap();
    assert_eq!(gestures.len(), 2);
    // The first ranked is what is recommended; the rest are the alternatives, in order.
    assert_eq!(gestures[0]["gesture"], rec["gesture"]);
    assert_eq!(gestures[0]["amount"], rec["amount"]);
    assert_eq!(gestures[1]["gesture"], rec["alternatives"][0]["gesture"]);
    let var = dec(&d["customer"]["value_at_risk"]["amount"]);
    let mut last = None;
    for g in gestures {
        let retention = Decimal::from_str(&g["retention"].to_string()).unwrap();
        let expected = (var * retention - dec(&g["cost"]["amount"])).round_dp(2);
        assert_eq!(dec(&g["expected_value"]["amount"]), expected, "{g:#}");
        if let Some(prev) = last {
            assert!(expected <= prev, "best first");
        }
        last = Some(expected);
        assert_eq!(g["evidence"]["retained"], 0);
        assert_eq!(g["evidence"]["lost"], 0);
    }
    let reasons = d["reasons"].as_array().unwrap();
    let ranking = reasons
        .iter()
        .find(|r| r["rule"] == "ranking")
        .expect("a ranking reason");
    // One line for the agent; the arithmetic for the lead in `detail`.
    let text = ranking["text"].as_str().unwrap();
    assert_eq!(
        text,
        "refund ranks first: 70% chance of keeping this customer, against voucher 60%"
    );
    let detail = ranking["detail"].as_str().unwrap();
    assert!(detail.contains("70% ×"), "{detail}");
    assert!(detail.contains("prior 7 stayed / 3 left"), "{detail}");
}

#[tokio::test]
async fn the_retention_report_counts_an_open_window_as_pending() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let rec = &d["recommendation"];
    let path = format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    );
    let body = json!({"granted": {"gesture": rec["gesture"], "amount": rec["amount"]},
        "customer_accepted": true});
    let r = app.post_json(&path, &app.decide_key, &body).await;
    assert_eq!(r.status(), 201);

    let rep = app.get_json("/v1/reports/retention", &app.admin_key).await;
    assert_eq!(rep["ranking"], true);
    assert_eq!(rep["window_days"], 90);
    let rows = rep["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["gesture"] == rec["gesture"] && r["segment"] == d["customer"]["segment"])
        .unwrap_or_else(|| panic!("{rep:#}"));
    assert_eq!(row["pending"], 1, "{row:#}");
    assert_eq!(row["retained"], 0);
    assert_eq!(row["lost"], 0);
    // Nothing judged yet: the estimate is the prior's mean.
    let p = &row["prior"];
    let mean = p["retained"].as_f64().unwrap()
        / (p["retained"].as_f64().unwrap() + p["lost"].as_f64().unwrap());
    assert!(
        (row["retention"].as_f64().unwrap() - mean).abs() < 1e-4,
        "{row:#}"
    );

    let custom = app
        .get_json("/v1/reports/retention?window_days=7", &app.admin_key)
        .await;
    assert_eq!(custom["window_days"], 7);

    let r = app
        .get("/v1/reports/retention?window_days=0", &app.admin_key)
        .await;
    let msg = expect_error(r, 422, "invalid_request").await;
    assert!(msg.contains("window_days"), "{msg}");
    let r = app.get("/v1/reports/retention", &app.decide_key).await;
    assert_eq!(r.status(), 403);
}
