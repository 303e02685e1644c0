//! What the agent can do now: the option within their own authority, what would make a
//! declining guard pass, what an unknown customer lacks, and a nearby boundary.

use crate::helpers::{eur, request, spawn_app};
use serde_json::{json, Value};

fn reason<'a>(d: &'a Value, rule: &str) -> Option<&'a str> {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .map(|r| r["text"].as_str().unwrap())
}

#[tokio::test]
async fn above_authority_the_answer_names_what_the_agent_may_grant_now() {
    let app = spawn_app().await;
    let mut req = request("c-60606", "damaged_item", "ours", "450.00");
    req["complaint"]["severity"] = json!("high");
    let d = app.decide_ok(&req).await;
    let option = &d["recommendation"]["within_authority_option"];
    assert_eq!(option["gesture"], "refund");
    assert_eq!(option["amount"], eur("130.00"));
    assert_eq!(
        option["text"],
        "within your limit now: refund of €130, or ask a lead for the €450 refund"
    );
    assert_eq!(reason(&d, "within-authority"), option["text"].as_str());

    // The lead who may approve it gets no option: the recommendation is theirs to give.
    req["agent"]["role"] = json!("lead");
    let d = app.decide_ok(&req).await;
    assert!(d["recommendation"].get("within_authority_option").is_none());
    assert!(reason(&d, "within-authority").is_none());
}

#[tokio::test]
async fn a_declining_guard_says_by_how_much_and_when_it_would_pass() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request("c-40404", "late_delivery", "ours", "60.00"))
        .await;
    let guards = d["guards"].as_array().unwrap();
    let claims = guards
        .iter()
        .find(|g| g["guard"] == "claim_frequency")
        .unwrap();
    assert_eq!(claims["action"], "declined");
    assert_eq!(claims["exceeded_by_claims"], 1);
    let by = chrono::Utc::now().date_naive() + chrono::Days::new(90);
    assert_eq!(claims["passes_by"], by.format("%Y-%m-%d").to_string());
    let when = claims["passes_when"].as_str().unwrap();
    assert!(
        when.starts_with("1 claim over the limit of 4 in 90 days"),
        "{when}"
    );
    assert_eq!(reason(&d, "guard-passes:claim_frequency"), Some(when));

    let budget = guards
        .iter()
        .find(|g| g["guard"] == "goodwill_share")
        .unwrap();
    assert_eq!(budget["action"], "declined");
    assert_eq!(budget["exceeded_by"]["currency"], "EUR");
    let by = chrono::Utc::now().date_naive() + chrono::Days::new(365);
    assert_eq!(budget["passes_by"], by.format("%Y-%m-%d").to_string());
    assert!(reason(&d, "guard-passes:goodwill_share").is_some());
}

#[tokio::test]
async fn an_unknown_customer_is_told_what_would_change_the_floor() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request("c-999", "damaged_item", "customer", "80.00"))
        .await;
    assert_eq!(d["customer"]["known"], false);
    // The id itself stays out of the words: an erasure pseudonymises ids, not texts.
    assert_eq!(
        reason(&d, "unknown-customer"),
        Some("no customer record for this customer id: import it to get a value-based answer")
    );
    let mut req = request("c-999", "damaged_item", "customer", "80.00");
    req["locale"] = json!("de-CH");
    let d = app.decide_ok(&req).await;
    assert_eq!(
        reason(&d, "unknown-customer"),
        Some("kein Kundendatensatz zu dieser Kundennummer: nach dem Import richtet sich die Antwort nach dem Kundenwert")
    );
}

#[tokio::test]
async fn a_value_or_amount_just_short_of_the_next_band_or_limit_is_pointed_out() {
    let app = spawn_app().await;
    // €4,800 at risk: "high", 4% below the top band at €5,000.
    let near = json!({"currency": "EUR", "lifetime_revenue": eur("3000.00"),
        "predicted_value": eur("4800.00"), "orders": 9, "first_order_at": "2023-01-10"});
    assert_eq!(app.put_customer("c-near", near).await.status(), 201);
    let d = app
        .decide_ok(&request("c-near", "damaged_item", "ours", "40.00"))
        .await;
    assert_eq!(d["customer"]["segment"], "high");
    assert_eq!(
        reason(&d, "near-boundary:segment"),
        Some("€4,800 at risk is within 5% of the top band (from €5,000): a little more value moves this customer up")
    );

    // €4,000 at risk gives the agent €130; €135 is less than 5% above it.
    let d = app
        .decide_ok(&request("c-60606", "damaged_item", "ours", "135.00"))
        .await;
    assert_eq!(d["authority"]["within_authority"], false);
    assert_eq!(
        reason(&d, "near-boundary:authority"),
        Some("€135 is less than 5% above your limit of €130")
    );
    // €4,000 is far from the top band: no such reason.
    assert!(reason(&d, "near-boundary:segment").is_none());
}
