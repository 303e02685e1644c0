//! The seed scenarios and the decision log, through HTTP.

use crate::helpers::{eur, expect_error, request, spawn_app};
use serde_json::{json, Value};

fn reason_texts(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn s1_a_valuable_customer_gets_the_full_refund_within_agent_authority() {
    let app = spawn_app().await;
    let mut req = request("c-10442", "cancellation_refund", "unclear", "100.00");
    req["complaint"]["channel"] = json!("social");
    let d = app.decide_ok(&req).await;
    assert_eq!(d["customer"]["known"], true);
    assert_eq!(d["customer"]["value_at_risk"], eur("9800.00"));
    assert_eq!(d["recommendation"]["gesture"], "refund");
    assert_eq!(d["recommendation"]["amount"], eur("100.00"));
    assert_eq!(d["authority"]["within_authority"], true);
    assert_eq!(d["authority"]["approver_role"], Value::Null);
    assert_eq!(d["policy"]["id"], "goodwill");
    assert!(d["policy"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let reasons = reason_texts(&d);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("€9,800 of future value at risk")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn s2_an_unknown_customer_gets_the_floor_and_a_deadline_not_an_error() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-never-seen",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(d["customer"]["known"], false);
    assert_eq!(d["recommendation"]["respond_within_hours"], 48);
    assert_ne!(d["recommendation"]["gesture"], "none");
    let amount: f64 = d["recommendation"]["amount"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        amount < 100.0,
        "smaller gesture than for the valuable customer"
    );
    // A complaint no rule pays for still gets the floor's acknowledgement and deadline.
    let d = app
        .decide_ok(&request(
            "c-never-seen",
            "late_delivery",
            "unclear",
            "30.00",
        ))
        .await;
    assert_eq!(d["recommendation"]["gesture"], "apology");
    assert_eq!(d["recommendation"]["floor_applied"], true);
    assert_eq!(d["recommendation"]["respond_within_hours"], 48);
    assert!(!d["recommendation"]["agent_script"]
        .as_str()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn s3_a_lapsed_gold_member_gets_what_a_current_member_gets_and_a_priority_callback() {
    let app = spawn_app().await;
    let mut current = kulanz::demo::scenario_customers().unwrap()["c-30303"].clone();
    current.tier = Some("gold".into());
    let r = app
        .put_customer("c-current-gold", serde_json::to_value(&current).unwrap())
        .await;
    assert_eq!(r.status(), 201);

    let mut req = request("c-30303", "service_failure", "ours", "1800.00");
    req["complaint"]["severity"] = json!("high");
    req["attributes"] = json!({"unanswered_contacts": 3});
    let lapsed = app.decide_ok(&req).await;
    req["customer_id"] = json!("c-current-gold");
    let member = app.decide_ok(&req).await;

    let amount = |d: &Value| -> f64 {
        d["recommendation"]["amount"]["amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(amount(&lapsed) >= amount(&member));
    assert_eq!(lapsed["recommendation"]["callback"]["priority"], true);
    assert!(
        lapsed["recommendation"]["callback"]["within_hours"]
            .as_u64()
            .unwrap()
            <= 24
    );
    assert_eq!(lapsed["signals"]["lapsed_tier"], true);
    assert!(reason_texts(&lapsed)
        .iter()
        .any(|r| r.contains("former gold member")));
}

#[tokio::test]
async fn s4_a_serial_claimant_is_declined_politely_with_the_guard_named_and_escalation_offered() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request("c-40404", "late_delivery", "ours", "60.00"))
        .await;
    assert_eq!(d["recommendation"]["amount"], eur("0.00"));
    assert_eq!(d["recommendation"]["gesture"], "apology");
    assert_eq!(d["recommendation"]["escalation"]["to_role"], "lead");
    let guards: Vec<&str> = d["guards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["guard"].as_str().unwrap())
        .collect();
    assert!(guards.contains(&"claim_frequency"), "{guards:?}");
    assert!(reason_texts(&d)
        .iter()
        .any(|r| r.contains("claim 5 in 90 days")));
}

#[tokio::test]
async fn s6_a_claim_above_the_agents_authority_is_still_recommended_and_names_the_approver() {
    let app = spawn_app().await;
    let mut req = request("c-60606", "damaged_item", "ours", "450.00");
    req["complaint"]["severity"] = json!("high");
    let d = app.decide_ok(&req).await;
    assert_eq!(d["recommendation"]["amount"], eur("450.00"));
    assert_eq!(d["authority"]["within_authority"], false);
    assert_eq!(d["authority"]["approver_role"], "lead");
    assert_eq!(d["authority"]["limit"], eur("130.00"));
}

#[tokio::test]
async fn a_decision_is_stored_with_its_request_and_read_back_as_returned() {
    let app = spawn_app().await;
    let req = request("c-10442", "cancellation_refund", "unclear", "100.00");
    let d = app.decide_ok(&req).await;
    let id = d["decision_id"].as_str().unwrap();
    let r = app
        .get(&format!("/v1/decisions/{id}"), &app.admin_key)
        .await;
    assert_eq!(r.status(), 200);
    let stored: Value = r.json().await.unwrap();
    for field in [
        "decision_id",
        "policy",
        "customer",
        "recommendation",
        "authority",
        "reasons",
        "guards",
        "signals",
    ] {
        assert_eq!(stored[field], d[field], "{field}");
    }
    assert_eq!(stored["request"], req);
    assert_eq!(
        stored["customer_snapshot"]["lifetime_revenue"],
        eur("10400.00")
    );
    // A `decide` key reads the decision, but not the customer's record behind it.
    let trimmed: Value = app
        .get_json(&format!("/v1/decisions/{id}"), &app.decide_key)
        .await;
    assert_eq!(trimmed["recommendation"], d["recommendation"]);
    assert!(trimmed.get("customer_snapshot").is_none(), "{trimmed:#}");
    let by_ticket: Value = app
        .get_json("/v1/tickets/ZD-1/decision", &app.decide_key)
        .await;
    assert!(
        by_ticket.get("customer_snapshot").is_none(),
        "{by_ticket:#}"
    );

    let missing = app
        .get("/v1/decisions/01JD0000000000000000000000", &app.decide_key)
        .await;
    expect_error(missing, 404, "decision_not_found").await;
    let garbage = app.get("/v1/decisions/not-a-ulid", &app.decide_key).await;
    expect_error(garbage, 404, "decision_not_found").await;
}

#[tokio::test]
async fn an_outcome_is_recorded_once_and_above_authority_needs_an_approver() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request("c-60606", "damaged_item", "ours", "450.00"))
        .await;
    let path = format!(
        "/v1/decisions/{}/outcome",
        d["decision_id"].as_str().unwrap()
    );
    let granted = json!({"granted": {"gesture": "refund", "amount": eur("450.00")}, "customer_accepted": true});
    let r = app.post_json(&path, &app.decide_key, &granted).await;
    let msg = expect_error(r, 409, "approval_required").await;
    assert!(msg.contains("approval"), "{msg}");

    // A name is not an approval: `approved_by` must name an approver on record.
    let mut approved = granted.clone();
    approved["approved_by"] = json!("lead-3");
    let r = app.post_json(&path, &app.decide_key, &approved).await;
    expect_error(r, 409, "approval_required").await;

    // A senior's limit does not cover €450 for this customer; a lead's does.
    let approval = format!(
        "/v1/decisions/{}/approval",
        d["decision_id"].as_str().unwrap()
    );
    let by_senior = json!({"approver": {"id": "s-2", "role": "senior"}});
    let msg = expect_error(
        app.post_json(&approval, &app.decide_key, &by_senior).await,
        403,
        "approval_not_allowed",
    )
    .await;
    assert!(msg.contains("a lead can approve it"), "{msg}");
    let by_lead =
        json!({"approver": {"id": "lead-3", "role": "lead"}, "note": "long-standing customer"});
    let r = app.post_json(&approval, &app.decide_key, &by_lead).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["approver_id"], "lead-3");
    assert_eq!(a["amount"], eur("450.00"));
    assert_eq!(a["recorded_with"], "test-decide");
    expect_error(
        app.post_json(&approval, &app.decide_key, &by_lead).await,
        409,
        "approval_exists",
    )
    .await;

    // Another name than the approver's is still refused; more than approved too.
    approved["approved_by"] = json!("ceo");
    let r = app.post_json(&path, &app.decide_key, &approved).await;
    expect_error(r, 409, "approval_required").await;
    let mut more = approved.clone();
    more["approved_by"] = json!("lead-3");
    more["granted"]["amount"] = eur("460.00");
    let r = app.post_json(&path, &app.decide_key, &more).await;
    expect_error(r, 409, "approval_required").await;

    approved["approved_by"] = json!("lead-3");
    let r = app.post_json(&path, &app.decide_key, &approved).await;
    assert_eq!(r.status(), 201);
    let again = app.post_json(&path, &app.decide_key, &approved).await;
    expect_error(again, 409, "outcome_exists").await;

    let stored: Value = app
        .get_json(
            &format!("/v1/decisions/{}", d["decision_id"].as_str().unwrap()),
            &app.decide_key,
        )
        .await;
    assert_eq!(stored["outcome"]["approved_by"], "lead-3");
    assert_eq!(stored["outcome"]["granted"]["amount"], eur("450.00"));
    assert_eq!(stored["outcome"]["recorded_by"], "test-decide");
    assert_eq!(stored["approval"]["approver_role"], "lead");
    // The approval is a link of the audit chain, and the chain holds.
    let audit: Value = app.get_json("/v1/audit/verify", &app.admin_key).await;
    assert_eq!(audit["intact"], true, "{audit:#}");
    assert_eq!(
        audit["entries"], 3,
        "decision, approval, outcome: {audit:#}"
    );
}

#[tokio::test]
async fn a_key_bound_to_a_role_cannot_claim_a_higher_one() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/v1/keys",
            &app.admin_key,
            &json!({"name": "desk-agents", "scopes": ["decide"], "max_role": "agent"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["max_role"], "agent");
    let bound = created["secret"].as_str().unwrap().to_string();

    // As an agent: the agent's limit, as for any key.
    let mut req = request("c-60606", "damaged_item", "ours", "450.00");
    let r = app.post_json("/v1/decisions", &bound, &req).await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["authority"]["within_authority"], false);

    // Claiming a manager: refused, naming both roles, and nothing is stored.
    req["agent"]["role"] = json!("manager");
    req["ticket_id"] = json!("T-claimed");
    let msg = expect_error(
        app.post_json("/v1/decisions", &bound, &req).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert!(
        msg.contains("`agent`") && msg.contains("`manager`"),
        "{msg}"
    );
    let none = app.get("/v1/tickets/T-claimed/decision", &bound).await;
    expect_error(none, 404, "decision_not_found").await;

    // Nor may it approve as a lead.
    let approval = format!(
        "/v1/decisions/{}/approval",
        d["decision_id"].as_str().unwrap()
    );
    let by_lead = json!({"approver": {"id": "lead-3", "role": "lead"}});
    expect_error(
        app.post_json(&approval, &bound, &by_lead).await,
        403,
        "role_not_allowed",
    )
    .await;

    // A key without a maximum trusts its caller (documented), and an unknown role is a
    // clear 422 at creation.
    let r = app.post_json("/v1/decisions", &app.decide_key, &req).await;
    assert_eq!(r.status(), 200);
    let bad = app
        .post_json(
            "/v1/keys",
            &app.admin_key,
            &json!({"name": "x", "scopes": ["decide"], "max_role": "ceo"}),
        )
        .await;
    let msg = expect_error(bad, 422, "invalid_request").await;
    assert!(msg.starts_with("max_role"), "{msg}");
}

#[tokio::test]
async fn a_bad_outcome_is_refused_and_leaves_the_decision_without_one() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let id = d["decision_id"].as_str().unwrap();
    let path = format!("/v1/decisions/{id}/outcome");
    let bad =
        json!({"granted": {"gesture": "refund", "amount": {"amount": "-5.00", "currency": "EUR"}}});
    let msg = expect_error(
        app.post_json(&path, &app.decide_key, &bad).await,
        422,
        "invalid_request",
    )
    .await;
    assert!(msg.starts_with("granted.amount.amount"), "{msg}");
    let hug = json!({"granted": {"gesture": "hug"}});
    let msg = expect_error(
        app.post_json(&path, &app.decide_key, &hug).await,
        422,
        "invalid_request",
    )
    .await;
    assert!(
        msg.starts_with("granted.gesture: expected `none` or one of"),
        "{msg}"
    );
    let usd =
        json!({"granted": {"gesture": "refund", "amount": {"amount": "5.00", "currency": "USD"}}});
    expect_error(
        app.post_json(&path, &app.decide_key, &usd).await,
        422,
        "invalid_request",
    )
    .await;
    let stored: Value = app
        .get_json(&format!("/v1/decisions/{id}"), &app.decide_key)
        .await;
    assert!(stored.get("outcome").is_none(), "{stored:#}");
}
