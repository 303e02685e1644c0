//! Markets: two policies active at once, `de` in EUR and `ch` in CHF, each chosen by the
//! request's `market`, each with its own active version, currency and history. A customer
//! is one record in one currency, so the same customer id in the other market is refused.

use crate::helpers::{expect_error, request, spawn_app, start_with, TestApp};
use serde_json::{json, Value};
use std::path::Path;

fn shipped() -> Value {
    serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap()
}

/// The shipped CHF example (policies/markets/goodwill-ch.json).
fn swiss() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/markets/goodwill-ch.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A policy folder with the shipped policy as market `de` and the CHF example as `ch`.
fn two_market_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut de = shipped();
    de["market"] = json!("de");
    de["version"] = json!("2026.11.0-de");
    for (name, doc) in [("goodwill-de.json", de), ("goodwill-ch.json", swiss())] {
        std::fs::write(dir.path().join(name), serde_json::to_vec(&doc).unwrap()).unwrap();
    }
    dir
}

fn money(amount: &str, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

/// The same valuable customer in each currency: `c-eur` kept in EUR, `c-chf` in CHF.
async fn two_markets() -> (TestApp, tempfile::TempDir) {
    let policies = two_market_folder();
    let app = start_with(tempfile::tempdir().unwrap(), policies.path(), None).await;
    for (id, cur) in [("c-eur", "EUR"), ("c-chf", "CHF")] {
        let record = json!({"currency": cur, "lifetime_revenue": money("10400.00", cur),
            "orders": 38, "first_order_at": "2019-03-02", "last_order_at": "2026-10-30",
            "predicted_value": money("9800.00", cur), "nps": {"score": 3, "at": "2026-11-02"}});
        assert_eq!(app.put_customer(id, record).await.status(), 201);
    }
    (app, policies)
}

/// A damaged-item complaint of `customer` in `market`, amount in `currency`.
fn complaint(customer: &str, market: Option<&str>, currency: &str) -> Value {
    let mut req = request(customer, "damaged_item", "ours", "120.00");
    req["complaint"]["amount_at_stake"]["currency"] = json!(currency);
    if let Some(m) = market {
        req["market"] = json!(m);
    }
    req
}

fn field(err: &Value) -> &str {
    err["error"]["details"][0]["field"].as_str().unwrap()
}

#[tokio::test]
async fn each_market_decides_with_its_own_policy_currency_and_version() {
    let (app, _p) = two_markets().await;
    let ch = app.decide_ok(&complaint("c-chf", Some("ch"), "CHF")).await;
    assert_eq!(ch["market"], "ch");
    assert_eq!(ch["policy"]["version"], "2026.11.0-ch");
    assert_eq!(ch["recommendation"]["amount"]["currency"], "CHF");
    assert_eq!(ch["customer"]["value_at_risk"], money("9800.00", "CHF"));
    // The CHF policy's own authority limits: agent base 60 + 2% of 9,800.
    assert_eq!(ch["authority"]["limit"], money("256.00", "CHF"));
    let de = app.decide_ok(&complaint("c-eur", Some("de"), "EUR")).await;
    assert_eq!(de["market"], "de");
    assert_eq!(de["policy"]["version"], "2026.11.0-de");
    assert_eq!(de["authority"]["limit"], money("246.00", "EUR"));
    // The stored decision names its market too.
    let id = ch["decision_id"].as_str().unwrap();
    let stored = app
        .get_json(&format!("/v1/decisions/{id}"), &app.decide_key)
        .await;
    assert_eq!(stored["market"], "ch");
}

#[tokio::test]
async fn the_same_customer_in_the_other_market_is_refused_naming_market() {
    let (app, _p) = two_markets().await;
    let r = app.decide(&complaint("c-eur", Some("ch"), "CHF")).await;
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_request");
    assert_eq!(field(&err), "market");
    assert_eq!(
        err["error"]["details"][0]["message"],
        "customer `c-eur` is kept in EUR; market `ch` decides in CHF (decide in market `de`)"
    );
    // An unknown customer has no currency yet: the floor in any market.
    let floor = app.decide_ok(&complaint("c-new", Some("ch"), "CHF")).await;
    assert_eq!(floor["customer"]["known"], false);
    assert_eq!(floor["market"], "ch");
}

#[tokio::test]
async fn an_unknown_or_missing_market_is_a_422_naming_market_and_the_known_ones() {
    let (app, _p) = two_markets().await;
    let msg = expect_error(
        app.decide(&complaint("c-eur", Some("at"), "EUR")).await,
        422,
        "invalid_request",
    )
    .await;
    assert_eq!(
        msg,
        "market: no active policy for market `at`; known markets: ch, de"
    );
    // Two markets and no `default`: a request must say which.
    let msg = expect_error(
        app.decide(&complaint("c-eur", None, "EUR")).await,
        422,
        "invalid_request",
    )
    .await;
    assert!(msg.starts_with("market: required"), "{msg}");
    let msg = expect_error(
        app.decide(&complaint("c-eur", Some("DE"), "EUR")).await,
        422,
        "invalid_request",
    )
    .await;
    assert!(msg.starts_with("market: expected 1 to 32"), "{msg}");
}

#[tokio::test]
async fn activating_a_version_in_one_market_leaves_the_other_alone() {
    let (app, _p) = two_markets().await;
    let mut next = swiss();
    next["version"] = json!("2026.12.0-ch");
    next["authority"]["agent"]["base"] = json!("80.00");
    let r = app
        .put_json("/v1/policies/2026.12.0-ch", &app.admin_key, &next)
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(app.activate("2026.12.0-ch").await.status(), 200);
    let active = |m: &'static str| {
        let app = &app;
        async move {
            app.get_json(&format!("/v1/policies/active?market={m}"), &app.admin_key)
                .await
        }
    };
    assert_eq!(active("ch").await["version"], "2026.12.0-ch");
    assert_eq!(active("de").await["version"], "2026.11.0-de");
    assert_eq!(active("de").await["market"], "de");
    // The release history of one market, with its active version flagged.
    let ch: Value = app.get_json("/v1/policies?market=ch", &app.admin_key).await;
    let rows: Vec<(&str, bool)> = ch
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["version"].as_str().unwrap(), p["active"] == true))
        .collect();
    assert_eq!(rows, [("2026.11.0-ch", false), ("2026.12.0-ch", true)]);
    let all: Value = app.get_json("/v1/policies", &app.admin_key).await;
    let active_rows = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["active"] == true)
        .map(|p| {
            format!(
                "{} {}",
                p["market"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(active_rows, ["de 2026.11.0-de", "ch 2026.12.0-ch"]);
    // Decisions follow: ch under its new version, de unchanged.
    let ch = app.decide_ok(&complaint("c-chf", Some("ch"), "CHF")).await;
    assert_eq!(ch["policy"]["version"], "2026.12.0-ch");
    assert_eq!(ch["authority"]["limit"], money("276.00", "CHF"));
    let de = app.decide_ok(&complaint("c-eur", Some("de"), "EUR")).await;
    assert_eq!(de["policy"]["version"], "2026.11.0-de");
    // And both survive a restart, each market's own.
    let policies = two_market_folder();
    let dir = app.stop().await;
    let app = start_with(dir, policies.path(), None).await;
    let ch = app.decide_ok(&complaint("c-chf", Some("ch"), "CHF")).await;
    assert_eq!(ch["policy"]["version"], "2026.12.0-ch");
    let de = app.decide_ok(&complaint("c-eur", Some("de"), "EUR")).await;
    assert_eq!(de["policy"]["version"], "2026.11.0-de");
}

#[tokio::test]
async fn reports_and_the_at_risk_list_are_per_market() {
    let (app, _p) = two_markets().await;
    app.decide_ok(&complaint("c-chf", Some("ch"), "CHF")).await;
    app.decide_ok(&complaint("c-eur", Some("de"), "EUR")).await;
    app.decide_ok(&complaint("c-eur", Some("de"), "EUR")).await;
    let ch = app
        .get_json("/v1/reports/goodwill?market=ch", &app.admin_key)
        .await;
    assert_eq!(
        (ch["market"].as_str(), ch["decisions"].as_u64()),
        (Some("ch"), Some(1))
    );
    assert_eq!(ch["currency"], "CHF");
    let de = app
        .get_json("/v1/reports/goodwill?market=de", &app.admin_key)
        .await;
    assert_eq!(
        (de["currency"].as_str(), de["decisions"].as_u64()),
        (Some("EUR"), Some(2))
    );
    let list = app
        .get_json("/v1/reports/decisions?market=ch", &app.admin_key)
        .await;
    assert_eq!(list["matched"], 1);
    let r = app
        .get("/v1/reports/goodwill?market=at", &app.admin_key)
        .await;
    let err: Value = r.json().await.unwrap();
    assert_eq!(field(&err), "market");
    // Both customers are detractors; each market lists only the one kept in its currency.
    let ids = |v: Value| -> Vec<String> {
        v["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["customer_id"].as_str().unwrap().to_string())
            .collect()
    };
    let ch = app
        .get_json(
            "/v1/customers/at-risk?market=ch&quiet_days=0",
            &app.admin_key,
        )
        .await;
    assert_eq!(ch["customers"][0]["value_at_risk"]["currency"], "CHF");
    assert_eq!(ids(ch), ["c-chf"]);
    let de = app
        .get_json(
            "/v1/customers/at-risk?market=de&quiet_days=0",
            &app.admin_key,
        )
        .await;
    assert_eq!(ids(de), ["c-eur"]);
    let r = app
        .get("/v1/customers/at-risk?market=at", &app.admin_key)
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn backtest_and_shadow_runs_stay_in_the_candidates_market() {
    let (app, _p) = two_markets().await;
    let mut next = swiss();
    next["version"] = json!("2026.12.0-ch");
    next["authority"]["agent"]["base"] = json!("80.00");
    let r = app
        .put_json("/v1/policies/2026.12.0-ch", &app.admin_key, &next)
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            "/v1/policies/2026.12.0-ch/shadow",
            &app.admin_key,
            &json!({}),
        )
        .await;
    let shadow: Value = r.json().await.unwrap();
    assert_eq!(shadow["market"], "ch");
    let ch = app.decide_ok(&complaint("c-chf", Some("ch"), "CHF")).await;
    let de = app.decide_ok(&complaint("c-eur", Some("de"), "EUR")).await;
    let de_shadow = app
        .get_json("/v1/policies/shadow?market=de", &app.admin_key)
        .await;
    assert_eq!(de_shadow["shadow"], Value::Null);
    // The shadow result is written in the background: wait for it.
    let mut compared = 0;
    for _ in 0..50 {
        let s = app
            .get_json("/v1/policies/shadow?market=ch", &app.admin_key)
            .await;
        compared = s["results"]["compared"].as_u64().unwrap_or(0);
        if compared > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(compared, 1);
    let de_id = de["decision_id"].as_str().unwrap();
    let r = app
        .get(&format!("/v1/decisions/{de_id}/shadow"), &app.admin_key)
        .await;
    assert_eq!(
        r.status(),
        404,
        "a de decision is not shadowed by a ch candidate"
    );
    assert!(ch["decision_id"].is_string());
    let report: Value = app
        .post_json(
            "/v1/policies/2026.12.0-ch/backtest",
            &app.admin_key,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["market"], "ch");
    assert_eq!(report["decisions"], 1, "{report:#}");
    assert_eq!(report["total_before"]["currency"], "CHF");
}

#[tokio::test]
async fn with_one_market_a_request_without_market_is_decided_as_before() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    assert_eq!(d["market"], "default");
    assert_eq!(d["policy"]["version"], "2026.11.0");
    let mut named = request("c-10442", "cancellation_refund", "unclear", "100.00");
    named["market"] = json!("default");
    let n = app.decide_ok(&named).await;
    assert_eq!(n["recommendation"], d["recommendation"]);
    named["market"] = json!("ch");
    let msg = expect_error(app.decide(&named).await, 422, "invalid_request").await;
    assert_eq!(
        msg,
        "market: no active policy for market `ch`; known markets: default"
    );
    // A record in another currency: the floor with a `currency` reason, as before
    // markets; naming the market opts into the markets' refusal.
    let usd = json!({"currency": "USD", "lifetime_revenue": money("5000.00", "USD")});
    assert_eq!(app.put_customer("c-usd", usd).await.status(), 201);
    let floor = app
        .decide_ok(&request("c-usd", "late_delivery", "ours", "20.00"))
        .await;
    assert!(
        floor["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "currency"),
        "{floor:#}"
    );
    let mut named = request("c-usd", "late_delivery", "ours", "20.00");
    named["market"] = json!("default");
    let r = app.decide(&named).await;
    let err: Value = r.json().await.unwrap();
    assert_eq!(field(&err), "market");
}

/// What the ranking learns is learned per market: a voucher may keep Swiss customers and
/// not German ones. The retention report (and the evidence each market ranks with) counts
/// only its own market's outcomes.
#[tokio::test]
async fn the_retention_report_counts_each_markets_own_outcomes() {
    let (app, _p) = two_markets().await;
    let grant = |currency: &str| {
        json!({"granted": {"gesture": "voucher", "amount": money("10.00", currency)},
            "customer_accepted": true})
    };
    for (customer, market, currency) in [
        ("c-chf", "ch", "CHF"),
        ("c-eur", "de", "EUR"),
        ("c-eur", "de", "EUR"),
    ] {
        let d = app
            .decide_ok(&complaint(customer, Some(market), currency))
            .await;
        let path = format!(
            "/v1/decisions/{}/outcome",
            d["decision_id"].as_str().unwrap()
        );
        let r = app
            .post_json(&path, &app.decide_key, &grant(currency))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let judged = |report: &Value| -> u64 {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                ["retained", "lost", "pending", "unknown"]
                    .iter()
                    .map(|k| r[k].as_u64().unwrap_or(0))
                    .sum::<u64>()
            })
            .sum()
    };
    let ch = app
        .get_json("/v1/reports/retention?market=ch", &app.admin_key)
        .await;
    assert_eq!(ch["policy"], "goodwill 2026.11.0-ch", "{ch:#}");
    assert_eq!(judged(&ch), 1, "{ch:#}");
    let de = app
        .get_json("/v1/reports/retention?market=de", &app.admin_key)
        .await;
    assert_eq!(judged(&de), 2, "{de:#}");
    let r = app
        .get("/v1/reports/retention?market=at", &app.admin_key)
        .await;
    let err: Value = r.json().await.unwrap();
    assert_eq!(field(&err), "market");
}
