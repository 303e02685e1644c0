//! Texts per locale: the request's `locale` picks the policy's texts, money is written
//! the locale's way, and the answer names the locale it used.

use crate::helpers::{expect_error, request, spawn_app};
use serde_json::{json, Value};

fn s6(locale: Option<&str>) -> Value {
    let mut req = request("c-60606", "damaged_item", "ours", "450.00");
    req["complaint"]["severity"] = json!("high");
    if let Some(l) = locale {
        req["locale"] = json!(l);
    }
    req
}

fn reason<'a>(d: &'a Value, rule: &str) -> &'a str {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no `{rule}` reason in {d:#}"))["text"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn a_german_agent_gets_german_reasons_script_and_money() {
    let app = spawn_app().await;
    let d = app.decide_ok(&s6(Some("de-DE"))).await;
    assert_eq!(d["locale"], "de");
    assert_eq!(
        d["recommendation"]["agent_script"],
        "Das tut mir wirklich leid. Als Entgegenkommen kann ich Ihnen 450,00 € als Erstattung anbieten."
    );
    assert_eq!(
        reason(&d, "our-fault-high-value"),
        "unser Fehler, und 4.000,00 € künftiger Umsatz gefährdet: vollständig wiedergutmachen"
    );
    assert_eq!(
        reason(&d, "authority"),
        "450,00 € liegt über Ihrem Limit von 130,00 € für diesen Kunden (Agent); Freigabe durch: Teamleitung"
    );
    // Codes and amounts on the wire stay as they are: only the words change.
    assert_eq!(d["recommendation"]["gesture"], "refund");
    assert_eq!(d["authority"]["approver_role"], "lead");
}

#[tokio::test]
async fn without_a_locale_or_with_an_undeclared_one_the_default_answers_as_before() {
    let app = spawn_app().await;
    for locale in [None, Some("fr-FR"), Some("en-GB")] {
        let d = app.decide_ok(&s6(locale)).await;
        assert_eq!(d["locale"], "en", "{locale:?}");
        assert_eq!(
            d["recommendation"]["agent_script"],
            "I am sorry about this. As a gesture of goodwill I can offer you a refund of €450."
        );
        assert_eq!(
            reason(&d, "authority"),
            "€450 is above the agent limit of €130 for this customer; a lead can approve it"
        );
    }
}

#[tokio::test]
async fn a_malformed_locale_is_refused_naming_the_field() {
    let app = spawn_app().await;
    for bad in [
        "de_DE",
        "",
        "d",
        "de-",
        "x-very-long-tag-that-goes-on-and-on-forever",
    ] {
        let msg = expect_error(app.decide(&s6(Some(bad))).await, 422, "invalid_request").await;
        assert!(msg.starts_with("locale: "), "{bad}: {msg}");
    }
    let mut req = s6(None);
    req["locale"] = json!(7);
    let msg = expect_error(app.decide(&req).await, 422, "invalid_request").await;
    assert!(msg.contains("locale"), "{msg}");
}

#[tokio::test]
async fn every_reason_is_one_line_of_at_most_160_characters_in_both_languages() {
    let app = spawn_app().await;
    let cases = [
        ("c-10442", "cancellation_refund", "unclear", "100.00"),
        ("c-30303", "service_failure", "ours", "1800.00"),
        ("c-40404", "late_delivery", "ours", "60.00"),
        ("c-60606", "damaged_item", "ours", "450.00"),
        ("c-unknown-9", "damaged_item", "ours", "450.00"),
    ];
    for locale in ["en", "de"] {
        for (c, cat, fault, amount) in cases {
            let mut req = request(c, cat, fault, amount);
            req["locale"] = json!(locale);
            let d = app.decide_ok(&req).await;
            for r in d["reasons"].as_array().unwrap() {
                let text = r["text"].as_str().unwrap();
                assert!(text.chars().count() <= 160, "{locale} {c}: {text}");
                assert!(!text.contains('\n'), "{text}");
            }
        }
    }
}
