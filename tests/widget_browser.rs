//! The sidebar widget in real headless Chromium (Debian's `chromium` and `chromedriver`,
//! installed by `scripts/install-test-deps.sh`) against the real server: loading, error,
//! unknown customer, seed scenarios S1 and S6, outcomes recorded by clicking and by
//! keyboard, and the stored outcome read back over the API. Screenshots of every state go
//! to `target/screenshots/` (`KULANZ_UPDATE_SCREENSHOTS=1`: to `docs/screenshots/`). A
//! missing browser fails the test: it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[path = "browser/webdriver.rs"]
mod webdriver;
#[allow(dead_code)]
#[path = "api/zaf.rs"]
mod zaf;
#[path = "browser/zendesk_harness.rs"]
mod zendesk_harness;

use serde_json::Value;
use std::path::{Path, PathBuf};
use webdriver::Browser;

/// Screenshots of every state go to `target/screenshots/` on each run; with
/// `KULANZ_UPDATE_SCREENSHOTS=1` they replace the ones committed in `docs/screenshots/`
/// (they show the respond-by time, so they differ on every run).
fn shots() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = if std::env::var_os("KULANZ_UPDATE_SCREENSHOTS").is_some() {
        root.join("docs/screenshots")
    } else {
        root.join("target/screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The widget URL for a complaint, with the key in the fragment as an embedding app passes it.
fn widget_url(base: &str, n: u32, fragment: &str) -> String {
    format!("{base}/widget?n={n}#{fragment}")
}

#[tokio::test]
async fn the_widget_renders_s1_and_s6_and_records_outcomes_in_headless_chromium() {
    let app = helpers::spawn_app().await;
    let browser = Browser::start().await;
    let key = &app.decide_key;

    // Loading: no key yet, the page waits for its embedding app.
    browser.goto(&format!("{}/widget?n=1", app.base)).await;
    browser.wait_state("loading").await;
    browser
        .screenshot_of("#kulanz", &shots().join("widget-loading.png"))
        .await;

    // Error: the key is refused; the agent sees why and can retry.
    browser
        .goto(&widget_url(
            &app.base,
            2,
            "key=wrong&ticket=T-err&customer=c-10442&category=cancellation_refund&amount=100.00",
        ))
        .await;
    browser.wait_state("error").await;
    let text = browser.text("#kulanz").await;
    assert!(text.contains("unauthorized"), "{text}");
    assert!(browser.exists("#kulanz button").await, "a retry button");
    browser
        .screenshot_of("#kulanz", &shots().join("widget-error.png"))
        .await;

    // Unknown customer: deliberate state with the floor recommendation.
    browser
        .goto(&widget_url(&app.base, 3, &format!("key={key}&ticket=T-unknown&customer=c-nobody-here&category=late_delivery&amount=30.00&locale=en-GB")))
        .await;
    browser.wait_state("unknown").await;
    assert!(browser.exists("[data-unknown]").await);
    browser
        .screenshot_of("#kulanz", &shots().join("widget-unknown.png"))
        .await;

    // S1: c-10442, cancellation_refund EUR 100, agent: within authority.
    browser
        .goto(&widget_url(&app.base, 4, &format!("key={key}&ticket=S1-browser&customer=c-10442&category=cancellation_refund&severity=medium&channel=social&fault=unclear&amount=100.00&currency=EUR&agent=a-17&role=agent&locale=en-GB")))
        .await;
    browser.wait_state("recommendation").await;
    let s1_id = browser.attr("#kulanz", "data-decision-id").await;
    assert!(browser.exists("[data-authority=within]").await);
    let stored = decision(&app, &s1_id).await;
    let gesture = stored["recommendation"]["gesture"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(browser.attr(".kz-gesture", "data-gesture").await, gesture);
    assert_eq!(
        browser.attr(".kz-amount", "data-amount").await,
        stored["recommendation"]["amount"]["amount"]
            .as_str()
            .unwrap()
    );
    assert!(browser.text(".kz-amount").await.contains('€'));
    assert!(
        browser.exists("[data-due]").await,
        "respond-by deadline shown"
    );
    let href = browser
        .script("return location.href", serde_json::json!([]))
        .await;
    assert!(
        !href.as_str().unwrap().contains(key.as_str()),
        "key left in the address: {href}"
    );
    browser
        .screenshot_of("#kulanz", &shots().join("widget-s1.png"))
        .await;

    // Record "granted as recommended" by clicking.
    browser.click("[data-action=granted_as_recommended]").await;
    browser.wait_state("recorded").await;
    browser
        .screenshot_of("#kulanz", &shots().join("widget-outcome-recorded.png"))
        .await;
    let stored = decision(&app, &s1_id).await;
    assert_eq!(stored["outcome"]["status"], "granted_as_recommended");
    assert_eq!(stored["outcome"]["granted"]["gesture"], gesture.as_str());
    assert_eq!(
        stored["outcome"]["granted"]["amount"],
        stored["recommendation"]["amount"]
    );
    assert_eq!(stored["outcome"]["recorded_by"], "a-17");

    // Reopening the ticket shows the stored decision and its outcome, without deciding again.
    browser
        .goto(&widget_url(
            &app.base,
            5,
            &format!("key={key}&ticket=S1-browser&locale=en-GB"),
        ))
        .await;
    browser.wait_state("recorded").await;
    assert_eq!(browser.attr("#kulanz", "data-decision-id").await, s1_id);

    // S6 for a German-speaking agent: c-60606, damaged_item EUR 450, fault ours, high.
    browser
        .goto(&widget_url(&app.base, 6, &format!("key={key}&ticket=S6-browser&customer=c-60606&category=damaged_item&severity=high&channel=email&fault=ours&amount=450.00&agent=a-17&role=agent&locale=de-DE")))
        .await;
    browser.wait_state("recommendation").await;
    let s6_id = browser.attr("#kulanz", "data-decision-id").await;
    assert!(browser.exists("[data-authority=approval]").await);
    let text = browser.text("#kulanz").await;
    assert!(text.contains("Freigabe durch Teamleitung"), "{text}");
    assert!(text.contains("Antworten bis"), "{text}");
    let amount = browser.text(".kz-amount").await;
    assert!(
        amount.contains(',') && amount.contains('€'),
        "German amount format: {amount}"
    );
    let stored = decision(&app, &s6_id).await;
    assert_eq!(stored["authority"]["within_authority"], false);
    assert_eq!(stored["authority"]["approver_role"], "lead");
    // The widget asked in the agent's locale: German script and one German line per reason.
    assert_eq!(stored["locale"], "de");
    let script = browser.text(".kz-script").await;
    assert!(script.starts_with("Das tut mir wirklich leid."), "{script}");
    assert!(script.contains("450,00 € als Erstattung"), "{script}");
    let reasons: Vec<String> = stored["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    for r in &reasons {
        assert!(r.chars().count() <= 160, "{r}");
        assert!(
            text.contains(r.as_str()) || r.starts_with("Sofort möglich"),
            "{r} not shown in {text}"
        );
    }
    assert!(
        text.contains("unser Fehler, und 4.000,00 € künftiger Umsatz gefährdet"),
        "{text}"
    );
    assert!(
        text.contains("Erstattung liegt vorn: 70 % Chance"),
        "{text}"
    );
    // What the agent may grant right now, without waiting for the lead.
    assert_eq!(
        browser.attr("[data-option]", "data-option-amount").await,
        "130.00"
    );
    let option = browser.text("[data-option]").await;
    assert!(option.contains("Jetzt in Ihrer Befugnis"), "{option}");
    assert!(
        option.contains("Sofort möglich: 130,00 € als Erstattung; für 450,00 € als Erstattung Freigabe einholen bei: Teamleitung"),
        "{option}"
    );
    browser
        .screenshot_of("#kulanz", &shots().join("widget-s6-de.png"))
        .await;

    // Escalate with the keyboard only: Enter on the button, then Enter on "save".
    browser.press_enter("[data-action=escalated]").await;
    browser.wait_for("form[data-form=escalated]").await;
    browser.press_enter("[data-action=save]").await;
    browser.wait_state("recorded").await;
    let stored = decision(&app, &s6_id).await;
    assert_eq!(stored["outcome"]["status"], "escalated");
    assert_eq!(stored["outcome"]["granted"]["gesture"], "none");
    assert_eq!(stored["outcome"]["note"], "Teamleitung");
    browser
        .screenshot_of("#kulanz", &shots().join("widget-s6-escalated-de.png"))
        .await;

    // S6 granted as recommended: above the agent's limit, so the grant needs an approval
    // on record. The agent cannot approve it, and a typed name is not an approval.
    let s6_approved = "customer=c-60606&category=damaged_item&severity=high&channel=email&fault=ours&amount=450.00&locale=en-GB";
    browser
        .goto(&widget_url(
            &app.base,
            7,
            &format!("key={key}&ticket=S6-approved&{s6_approved}&agent=a-17&role=agent"),
        ))
        .await;
    browser.wait_state("recommendation").await;
    let approved_id = browser.attr("#kulanz", "data-decision-id").await;
    assert!(
        !browser.exists("[data-action=approve]").await,
        "an agent may not approve €450"
    );
    browser.click("[data-action=granted_as_recommended]").await;
    browser
        .wait_for("form[data-form=granted_as_recommended]")
        .await;
    browser.type_text("#kz-approver", "lead-3").await;
    browser.click("[data-action=save]").await;
    browser.wait_for(".kz-alert.kz-bad").await;
    let alert = browser.text(".kz-alert.kz-bad").await;
    assert!(alert.contains("approval_required"), "{alert}");
    assert!(
        decision(&app, &approved_id).await["outcome"].is_null(),
        "saved without an approval"
    );

    // The lead opens the same ticket and approves from the sidebar.
    browser
        .goto(&widget_url(
            &app.base,
            8,
            &format!("key={key}&ticket=S6-approved&{s6_approved}&agent=lead-3&role=lead"),
        ))
        .await;
    browser.wait_state("recommendation").await;
    assert_eq!(
        browser.attr("#kulanz", "data-decision-id").await,
        approved_id
    );
    browser.click("[data-action=approve]").await;
    browser.wait_for("[data-approval=given]").await;
    browser
        .screenshot_of("#kulanz", &shots().join("widget-s6-approval.png"))
        .await;
    let stored = decision(&app, &approved_id).await;
    assert_eq!(stored["approval"]["approver_id"], "lead-3");
    assert_eq!(stored["approval"]["approver_role"], "lead");

    // Back with the agent: one click grants it, naming the approver on record.
    browser
        .goto(&widget_url(
            &app.base,
            9,
            &format!("key={key}&ticket=S6-approved&{s6_approved}&agent=a-17&role=agent"),
        ))
        .await;
    browser.wait_for("[data-approval=given]").await;
    browser.click("[data-action=granted_as_recommended]").await;
    browser.wait_state("recorded").await;
    let stored = decision(&app, &approved_id).await;
    assert_eq!(stored["outcome"]["status"], "granted_as_recommended");
    assert_eq!(stored["outcome"]["approved_by"], "lead-3");
    assert_eq!(
        stored["outcome"]["granted"]["amount"],
        stored["recommendation"]["amount"]
    );

    browser.quit().await;
}

async fn decision(app: &helpers::TestApp, id: &str) -> Value {
    // The admin key: a decide key reads outcomes without their notes.
    let r = app
        .get(&format!("/v1/decisions/{id}"), &app.admin_key)
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_widget_page_is_served_without_a_key_and_carries_no_secret() {
    let app = helpers::spawn_app().await;
    let r = app.client.get(app.url("/widget")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    for asset in ["/widget/widget.js", "/widget/widget.css"] {
        let r = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        let body = r.text().await.unwrap();
        assert!(!body.contains(&app.decide_key) && !body.contains(&app.admin_key));
    }
}

#[test]
fn the_zendesk_app_ships_the_same_widget_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in ["widget.js", "widget.css"] {
        let served = std::fs::read(root.join("src/http/widget").join(f)).unwrap();
        let shipped = std::fs::read(root.join("integrations/zendesk/assets").join(f)).unwrap();
        assert!(
            served == shipped,
            "integrations/zendesk/assets/{f} differs; copy it from src/http/widget/"
        );
    }
}

#[tokio::test]
async fn the_zendesk_app_renders_through_the_proxy_and_the_page_never_sees_the_key() {
    let app = helpers::spawn_app().await;
    let zaf = serde_json::json!({
        "settings": {
            "kulanz_url": app.base, "default_role": "agent",
            "role_by_group": "{\"Team Leads\": \"lead\"}",
            "category_field_id": 111, "severity_field_id": 112, "fault_field_id": 113,
            "amount_field_id": 114, "currency": "EUR"
        },
        "data": {
            "ticket.id": 90001,
            "ticket.requester": {"id": 381, "externalId": "c-60606"},
            "ticket.via": {"channel": "email"},
            "currentUser": {"id": 7, "locale": "de", "groups": [{"name": "Support"}]},
            "ticket.customField:custom_field_111": "damaged_item",
            "ticket.customField:custom_field_112": "high",
            "ticket.customField:custom_field_113": "ours",
            "ticket.customField:custom_field_114": "450.00"
        }
    });
    let (zd, seen) = zendesk_harness::start(app.decide_key.clone(), zaf).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{zd}/iframe.html")).await;
    browser.wait_state("recommendation").await;
    assert!(browser.exists("[data-authority=approval]").await);
    let text = browser.text("#kulanz").await;
    assert!(
        text.contains("Ticket 90001") && text.contains("Teamleitung"),
        "{text}"
    );
    let html = browser
        .script(
            "return document.documentElement.outerHTML + JSON.stringify(window.__ZAF)",
            serde_json::json!([]),
        )
        .await;
    assert!(
        !html.as_str().unwrap().contains(&app.decide_key),
        "the key reached the page"
    );
    browser
        .screenshot_of("#kulanz", &shots().join("zendesk-sidebar-s6-de.png"))
        .await;

    browser.click("[data-action=declined]").await;
    browser.wait_for("form[data-form=declined]").await;
    browser.click("[data-action=save]").await;
    browser.wait_state("recorded").await;
    let id = browser.attr("#kulanz", "data-decision-id").await;
    let stored = decision(&app, &id).await;
    assert_eq!(stored["ticket_id"], "90001");
    assert_eq!(stored["request"]["customer_id"], "c-60606");
    assert_eq!(stored["request"]["complaint"]["channel"], "email");
    assert_eq!(stored["outcome"]["status"], "declined");
    assert_eq!(stored["outcome"]["recorded_by"], "zendesk-7");

    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 3, "lookup, decide, outcome: {seen:?}");
    for req in &seen {
        assert_eq!(req["secure"], true, "{req}");
        assert_eq!(
            req["headers"]["Authorization"],
            "Bearer {{setting.api_key}}"
        );
    }
    browser.quit().await;
}

#[tokio::test]
async fn the_signed_zendesk_app_acts_in_the_role_the_server_maps_not_the_one_the_browser_claims() {
    // The browser's own data would make user 7 a lead (a "Team Leads" group mapped to lead
    // in the app's settings); the server's roles file makes them an agent.
    let zaf_data = |user: u64| {
        serde_json::json!({
            "settings": {
                "default_role": "agent", "role_by_group": "{\"Team Leads\": \"lead\"}",
                "category_field_id": 111, "severity_field_id": 112, "fault_field_id": 113,
                "amount_field_id": 114, "currency": "EUR"
            },
            "data": {
                "ticket.id": 90002,
                "ticket.requester": {"id": 381, "externalId": "c-60606"},
                "ticket.via": {"channel": "email"},
                "currentUser": {"id": user, "locale": "en-GB", "groups": [{"name": "Team Leads"}]},
                "ticket.customField:custom_field_111": "damaged_item",
                "ticket.customField:custom_field_112": "high",
                "ticket.customField:custom_field_113": "ours",
                "ticket.customField:custom_field_114": "450.00"
            }
        })
    };
    let (zd, seen) = zendesk_harness::start(String::new(), zaf_data(7)).await;
    let app = helpers::spawn_app_with_zendesk(
        zaf::app(zaf::ROLES).with_sdk_url(format!("{zd}/fake_zaf.js")),
    )
    .await;
    let open_as = |user: u64| {
        let to = format!(
            "{}/zendesk/app?origin=https://acme.zendesk.com&app_guid=g-1",
            app.base
        );
        let to: String = url_encode(&to);
        format!("{zd}/signed.html?to={to}&token={}", zaf::token(user))
    };
    let browser = Browser::start().await;

    // The agent: the decision is an agent's, whatever the browser's groups say.
    browser.goto(&open_as(7)).await;
    browser.wait_state("recommendation").await;
    let id = browser.attr("#kulanz", "data-decision-id").await;
    assert!(browser.exists("[data-authority=approval]").await);
    assert!(
        !browser.exists("[data-action=approve]").await,
        "an agent may not approve €450"
    );
    let stored = decision(&app, &id).await;
    assert_eq!(stored["request"]["agent"]["role"], "agent");
    assert_eq!(stored["request"]["agent"]["id"], "zendesk-7");
    assert_eq!(stored["authority"]["role"], "agent");

    // The page's session claims nothing higher, even when asked from outside the widget.
    let session = browser
        .script(
            "return JSON.parse(document.getElementById('kulanz-session').textContent)",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(session["role"], "agent");
    let mut claim = helpers::request("c-60606", "damaged_item", "ours", "450.00");
    claim["agent"]["role"] = "lead".into();
    let r = app
        .post_json("/v1/decisions", session["token"].as_str().unwrap(), &claim)
        .await;
    helpers::expect_error(r, 403, "role_not_allowed").await;

    // The lead the server's file names opens the same ticket and approves from the sidebar.
    browser.goto(&open_as(zaf::LEAD)).await;
    browser.wait_state("recommendation").await;
    assert_eq!(browser.attr("#kulanz", "data-decision-id").await, id);
    browser.click("[data-action=approve]").await;
    browser.wait_for("[data-approval=given]").await;
    let stored = decision(&app, &id).await;
    assert_eq!(stored["approval"]["approver_role"], "lead");
    assert_eq!(stored["approval"]["approver_id"], "zendesk-9876543");
    assert_eq!(stored["approval"]["recorded_with"], "zendesk:9876543");

    assert!(
        seen.lock().unwrap().is_empty(),
        "the signed app calls kulanz itself, never through Zendesk's proxy"
    );
    browser.quit().await;
}

fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
