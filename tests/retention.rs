//! The expected-value ranking learns from outcomes: the real store and the real service
//! functions, with decisions and outcomes dated in the past so their retention windows
//! have closed (the HTTP API always decides "now").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use kulanz::domain::customer::CustomerRecordDto;
use kulanz::domain::decision::Decision;
use kulanz::domain::request::DecisionRequestDto;
use kulanz::service::decisions::{decide, record_outcome, OutcomeDto};
use kulanz::service::retention::{gather, refresh, Tally};
use kulanz::service::AppState;
use kulanz::store::Store;
use serde_json::json;
use std::sync::Arc;

fn state(dir: &std::path::Path) -> AppState {
    let store = Store::open(dir).unwrap();
    let policy = kulanz::policy::load::from_file(std::path::Path::new("policies/goodwill.json"))
        .expect("shipped policy loads");
    AppState::new(store, Some(Arc::new(policy)))
}

/// A top-segment customer (value at risk €12,000) whose last order was `last_order`.
async fn customer(s: &AppState, id: &str, last_order: DateTime<Utc>) {
    let dto: CustomerRecordDto = serde_json::from_value(json!({
        "currency": "EUR",
        "lifetime_revenue": {"amount": "20000.00", "currency": "EUR"},
        "orders": 40,
        "first_order_at": "2018-01-10",
        "last_order_at": last_order.date_naive().to_string(),
        "predicted_value": {"amount": "12000.00", "currency": "EUR"}
    }))
    .unwrap();
    kulanz::service::customers::put(s, id, dto, Utc::now())
        .await
        .unwrap();
}

/// A late delivery, our fault, €100: the rule offers a refund or a voucher.
async fn late_delivery(s: &AppState, customer_id: &str, at: DateTime<Utc>) -> Decision {
    let dto: DecisionRequestDto = serde_json::from_value(json!({
        "ticket_id": format!("T-{customer_id}"),
        "customer_id": customer_id,
        "agent": {"id": "a-1", "role": "agent"},
        "complaint": {
            "category": "late_delivery", "severity": "medium", "channel": "email",
            "fault": "ours", "amount_at_stake": {"amount": "100.00", "currency": "EUR"}
        }
    }))
    .unwrap();
    decide(s, dto, None, at).await.unwrap()
}

/// A refund of €100 granted a day after the decision.
async fn granted_refund(s: &AppState, d: &Decision, accepted: bool) {
    let body = json!({
        "granted": {"gesture": "refund", "amount": {"amount": "100.00", "currency": "EUR"}},
        "customer_accepted": accepted
    });
    outcome_next_day(s, d, body).await;
}

/// Record `body` as the decision's outcome, a day after it was made.
async fn outcome_next_day(s: &AppState, d: &Decision, body: serde_json::Value) {
    let dto: OutcomeDto = serde_json::from_value(body).unwrap();
    let at = DateTime::parse_from_rfc3339(&d.created_at)
        .unwrap()
        .to_utc()
        + Duration::days(1);
    record_outcome(s, &d.decision_id, dto, "desk", at)
        .await
        .unwrap();
}

/// `n` customers who got a refund 200 days ago and have not ordered since.
async fn refunds_then_silence(s: &AppState, from: usize, n: usize, now: DateTime<Utc>) {
    let at = now - Duration::days(200);
    for i in from..from + n {
        let id = format!("c-lost-{i}");
        customer(s, &id, at - Duration::days(30)).await;
        let d = late_delivery(s, &id, at).await;
        granted_refund(s, &d, true).await;
    }
}

fn ranked(d: &Decision) -> Vec<String> {
    let r = d
        .evaluation
        .recommendation
        .ranking
        .as_ref()
        .expect("ranked");
    r.gestures.iter().map(|g| g.gesture.clone()).collect()
}

/// The ranking reason's numbers (its `detail`; the `text` is the one line an agent reads).
fn ranking_reason(d: &Decision) -> String {
    d.evaluation
        .reasons
        .iter()
        .find(|r| r.rule == "ranking")
        .and_then(|r| r.detail.clone())
        .expect("a ranking reason with its numbers")
}

#[tokio::test]
async fn the_ranking_changes_after_enough_customers_leave_after_one_gesture() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path());
    let now = Utc::now();
    customer(&s, "c-target", now - Duration::days(3)).await;

    // Priors only: refund 7:3 (70%), voucher 6:4 (60%). For €12,000 at risk the refund
    // (cost €100) beats the voucher (€240 at cost factor 0.6 = €144).
    let before = late_delivery(&s, "c-target", now).await;
    assert_eq!(before.evaluation.recommendation.gesture, "refund");
    assert_eq!(ranked(&before), ["refund", "voucher"]);
    let text = ranking_reason(&before);
    assert!(
        text.contains("refund of €100: 70% × €12,000 − €100 = €8,300"),
        "{text}"
    );

    // Evidence that must not count: two customers who ordered again (retained), one whose
    // window is still open (pending), one who declined the refund (no evidence).
    let past = now - Duration::days(200);
    for id in ["c-stayed-1", "c-stayed-2"] {
        customer(&s, id, past + Duration::days(10)).await;
        let d = late_delivery(&s, id, past).await;
        granted_refund(&s, &d, true).await;
    }
    customer(&s, "c-recent", now - Duration::days(60)).await;
    let d = late_delivery(&s, "c-recent", now - Duration::days(5)).await;
    granted_refund(&s, &d, true).await;
    customer(&s, "c-declined", past - Duration::days(30)).await;
    let d = late_delivery(&s, "c-declined", past).await;
    granted_refund(&s, &d, false).await;

    // A few customers leave after a refund: (7 + 2) / (10 + 2 + 3) = 60%, still first.
    refunds_then_silence(&s, 0, 3, now).await;
    refresh(&s, now).unwrap();
    let d = late_delivery(&s, "c-target", now).await;
    assert_eq!(ranked(&d), ["refund", "voucher"], "{}", ranking_reason(&d));

    // Nine more: (7 + 2) / (10 + 2 + 12) = 37.5%; the voucher now ranks first.
    refunds_then_silence(&s, 3, 9, now).await;
    let gathered = gather(&s.store, 90, now, None).unwrap();
    assert_eq!(
        gathered.tallies["refund"]["top"],
        Tally {
            retained: 2,
            lost: 12,
            pending: 1,
            unknown: 0
        }
    );
    refresh(&s, now).unwrap();
    let after = late_delivery(&s, "c-target", now).await;
    let rec = &after.evaluation.recommendation;
    assert_eq!(rec.gesture, "voucher");
    assert_eq!(rec.amount.amount, rust_decimal::Decimal::new(24000, 2));
    assert_eq!(ranked(&after), ["voucher", "refund"]);
    assert_eq!(rec.alternatives[0].gesture, "refund");
    let text = ranking_reason(&after);
    assert!(
        text.contains("refund of €100: 37.5% × €12,000 − €100 = €4,400 (prior 7 stayed / 3 left, recorded 2 stayed / 12 left)"),
        "{text}"
    );
    let line = &after
        .evaluation
        .reasons
        .iter()
        .find(|r| r.rule == "ranking")
        .unwrap()
        .text;
    assert_eq!(
        line,
        "voucher ranks first: 60% chance of keeping this customer, against refund 37.5%"
    );
    // The rule's own script offered a refund; the switched answer offers the voucher.
    assert!(
        rec.agent_script.contains("voucher of €240"),
        "{}",
        rec.agent_script
    );
    // Within the guards and the authority as before.
    assert!(after.evaluation.authority.within_authority);
}

#[tokio::test]
async fn outcomes_in_another_segment_do_not_move_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path());
    let now = Utc::now();
    refunds_then_silence(&s, 0, 12, now).await;
    refresh(&s, now).unwrap();
    // A "high" customer (€2,500 at risk) is judged on the high segment's evidence: none.
    let dto: CustomerRecordDto = serde_json::from_value(json!({
        "currency": "EUR",
        "lifetime_revenue": {"amount": "4000.00", "currency": "EUR"},
        "predicted_value": {"amount": "2500.00", "currency": "EUR"}
    }))
    .unwrap();
    kulanz::service::customers::put(&s, "c-high", dto, now)
        .await
        .unwrap();
    let d = late_delivery(&s, "c-high", now).await;
    assert_eq!(d.evaluation.customer.segment, "high");
    assert_eq!(ranked(&d)[0], "refund", "{}", ranking_reason(&d));
    assert!(ranking_reason(&d).contains("recorded 0 stayed / 0 left"));
}

/// The outcome for a complaint that ended without goodwill.
async fn declined(s: &AppState, d: &Decision) {
    let body = json!({
        "granted": {"gesture": "none", "amount": {"amount": "0.00", "currency": "EUR"}},
        "status": "declined"
    });
    outcome_next_day(s, d, body).await;
}

#[tokio::test]
async fn the_report_compares_ordering_again_with_and_without_a_gesture() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path());
    let now = Utc::now();
    let at = now - Duration::days(200);
    // With a gesture: three silent since (lost), one ordered 50 days after (retained).
    refunds_then_silence(&s, 0, 3, now).await;
    customer(&s, "c-back", now - Duration::days(150)).await;
    let d = late_delivery(&s, "c-back", at).await;
    granted_refund(&s, &d, true).await;
    // A refund the customer refused counts as without one; so do declined complaints.
    customer(&s, "c-refused", at - Duration::days(30)).await;
    let d = late_delivery(&s, "c-refused", at).await;
    granted_refund(&s, &d, false).await;
    for (id, last) in [
        ("c-no-1", now - Duration::days(150)),
        ("c-no-2", at - Duration::days(30)),
    ] {
        customer(&s, id, last).await;
        let d = late_delivery(&s, id, at).await;
        declined(&s, &d).await;
    }
    // Without an outcome nothing is known of what was granted: left out.
    customer(&s, "c-open", at - Duration::days(30)).await;
    late_delivery(&s, "c-open", at).await;
    // A complaint of yesterday: its window is still open.
    customer(&s, "c-recent", now - Duration::days(300)).await;
    let d = late_delivery(&s, "c-recent", now - Duration::days(1)).await;
    granted_refund(&s, &d, true).await;

    let report = kulanz::service::report::build(&s.store, None, None, 90, now).unwrap();
    let r = serde_json::to_value(&report.retention).unwrap();
    assert_eq!(r["window_days"], 90);
    let all = &r["comparisons"][0];
    assert_eq!(all["segment"], "*");
    assert_eq!(
        all["with_gesture"],
        json!({"decisions": 5, "retained": 1, "lost": 3, "pending": 1, "unknown": 0, "rate": 0.25})
    );
    assert_eq!(
        all["without_gesture"],
        json!({"decisions": 3, "retained": 1, "lost": 2, "pending": 0, "unknown": 0, "rate": 0.3333})
    );
    assert_eq!(all["difference_points"], -8.3);
    // Every customer here is in the top segment.
    assert_eq!(r["comparisons"][1]["segment"], "top");
    assert_eq!(r["comparisons"][1]["with_gesture"], all["with_gesture"]);
    assert_eq!(r["comparisons"].as_array().unwrap().len(), 2);

    // A year's window has not ended for anyone: only the orders (c-back, c-no-1) judge.
    let long = kulanz::service::report::build(&s.store, None, None, 365, now).unwrap();
    let all = serde_json::to_value(&long.retention.comparisons[0]).unwrap();
    assert_eq!(all["with_gesture"]["retained"], 1);
    assert_eq!(all["with_gesture"]["pending"], 4);
    assert_eq!(all["without_gesture"]["retained"], 1);
    assert_eq!(all["difference_points"], 0.0);
}
