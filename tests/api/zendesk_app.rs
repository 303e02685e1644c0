//! The Zendesk app with signed URLs, through HTTP: Zendesk's token buys a page with a desk
//! session; the session decides as the role the server maps the agent to and no higher,
//! and reaches nothing but the `decide` routes; bad tokens and sessions are 401.

use crate::helpers::{expect_error, request, spawn_app, spawn_app_with_zendesk, TestApp};
use crate::zaf::{self, LEAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

async fn post_token(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/zendesk/app?origin=https://acme.zendesk.com&app_guid=g-1"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// The session JSON the page carries for zendesk.js.
fn session_of(html: &str) -> Value {
    let start = html.find(r#"id="kulanz-session">"#).unwrap() + r#"id="kulanz-session">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

async fn sign_in(app: &TestApp, user: u64) -> Value {
    let r = post_token(app, &zaf::token(user)).await;
    assert_eq!(r.status(), 200);
    session_of(&r.text().await.unwrap())
}

fn as_role(role: &str) -> Value {
    let mut body = request("c-60606", "damaged_item", "ours", "450.00");
    body["agent"] = json!({"id": "zendesk-1", "role": role});
    body
}

#[tokio::test]
async fn a_signed_load_gets_the_page_with_a_session_in_the_role_the_server_maps() {
    let app = spawn_app_with_zendesk(zaf::app(zaf::ROLES)).await;
    let r = post_token(&app, &zaf::token(LEAD)).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' https://static.zdassets.com;") && !csp.contains("unsafe"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"<script src="zendesk.js"></script>"#),
        "{html}"
    );
    let session = session_of(&html);
    assert_eq!(session["user_id"], "9876543");
    assert_eq!(session["role"], "lead");
    let token = session["token"].as_str().unwrap();
    assert!(token.starts_with("kzs_9876543."), "{token}");
    assert!(
        !html.contains(&zaf::token(LEAD)[..40]),
        "the Zendesk token is not echoed"
    );

    // The script the page loads is the app's own glue.
    let js = app
        .client
        .get(app.url("/zendesk/zendesk.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("kulanz-session"));

    // Everyone the file does not name gets the default role.
    let other = sign_in(&app, 1234).await;
    assert_eq!(other["role"], "agent");
}

#[tokio::test]
async fn a_session_decides_as_its_mapped_role_and_never_above_it() {
    let app = spawn_app_with_zendesk(zaf::app(zaf::ROLES)).await;
    let lead = sign_in(&app, LEAD).await;
    let lead = lead["token"].as_str().unwrap();
    let r = app.post_json("/v1/decisions", lead, &as_role("lead")).await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["authority"]["role"], "lead");
    let id = d["decision_id"].as_str().unwrap().to_string();

    let msg = expect_error(
        app.post_json("/v1/decisions", lead, &as_role("manager"))
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    assert!(msg.contains("`lead`") && msg.contains("`manager`"), "{msg}");

    // An agent's session may not claim lead, nor approve as one.
    let agent = sign_in(&app, 1234).await;
    let agent = agent["token"].as_str().unwrap();
    expect_error(
        app.post_json("/v1/decisions", agent, &as_role("lead"))
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    let approval = json!({"approver": {"id": "zendesk-1234", "role": "lead"}});
    let path = format!("/v1/decisions/{id}/approval");
    expect_error(
        app.post_json(&path, agent, &approval).await,
        403,
        "role_not_allowed",
    )
    .await;

    // The lead approves; the record names the session's agent, not a typed name.
    let approval = json!({"approver": {"id": "zendesk-9876543", "role": "lead"}});
    let r = app.post_json(&path, lead, &approval).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["recorded_with"], "zendesk:9876543");
}

#[tokio::test]
async fn a_session_reaches_no_ingest_or_admin_route() {
    let app = spawn_app_with_zendesk(zaf::app(zaf::ROLES)).await;
    let s = sign_in(&app, LEAD).await;
    let s = s["token"].as_str().unwrap();
    for path in ["/v1/customers/c-10442", "/v1/keys", "/v1/policies"] {
        let msg = expect_error(app.get(path, s).await, 403, "forbidden").await;
        assert!(msg.contains("`zendesk:9876543`"), "{msg}");
    }
    let record =
        json!({"currency": "EUR", "lifetime_revenue": {"amount": "1.00", "currency": "EUR"}});
    expect_error(
        app.put_json("/v1/customers/c-1", s, &record).await,
        403,
        "forbidden",
    )
    .await;
}

/// `alg: none`, unsigned.
fn unsigned(claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    )
}

#[tokio::test]
async fn a_bad_token_is_401_zendesk_token_invalid_and_names_what_is_wrong() {
    let app = spawn_app_with_zendesk(zaf::app(zaf::ROLES)).await;
    let now = chrono::Utc::now().timestamp();
    let with = |k: &str, v: Value| {
        let mut c = zaf::claims(LEAD);
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = zaf::claims(LEAD);
        c.as_object_mut().unwrap().remove(k);
        c
    };
    // The public key used as an HMAC secret: the classic algorithm confusion.
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &zaf::claims(LEAD),
        &EncodingKey::from_secret(zaf::PUBLIC).unwrap(),
    )
    .unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            zaf::sign(&with("exp", json!(now - 3600)), zaf::PRIVATE),
            "expired",
        ),
        (
            "not yet valid",
            zaf::sign(&with("nbf", json!(now + 3600)), zaf::PRIVATE),
            "`nbf`",
        ),
        (
            "another key",
            zaf::sign(&zaf::claims(LEAD), zaf::OTHER_PRIVATE),
            "signature",
        ),
        ("HS256 with the public key", hs256, "RS256"),
        ("alg none", unsigned(&zaf::claims(LEAD)), "malformed"),
        (
            "another account's issuer",
            zaf::sign(&with("iss", json!("evil.zendesk.com")), zaf::PRIVATE),
            "`iss`",
        ),
        (
            "another account's installation",
            zaf::sign(
                &with(
                    "aud",
                    json!("https://evil.zendesk.com/api/v2/apps/installations/4242.json"),
                ),
                zaf::PRIVATE,
            ),
            "`aud`",
        ),
        (
            "a subject that is no user",
            zaf::sign(
                &with(
                    "sub",
                    json!("https://acme.zendesk.com/api/v2/users/me.json"),
                ),
                zaf::PRIVATE,
            ),
            "`sub`",
        ),
        (
            "no expiry",
            zaf::sign(&without("exp"), zaf::PRIVATE),
            "`exp`",
        ),
        ("not a JWT", "token".to_string(), "malformed"),
        ("empty", String::new(), "`token`"),
    ];
    for (what, token, says) in cases {
        let msg = expect_error(post_token(&app, &token).await, 401, "zendesk_token_invalid").await;
        assert!(msg.contains(says), "{what}: {msg}");
    }
    // No form at all, and a GET (an app without `signedUrls`).
    let r = app
        .client
        .post(app.url("/zendesk/app"))
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "zendesk_token_invalid").await;
    let r = app
        .client
        .get(app.url("/zendesk/app"))
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, 401, "zendesk_token_invalid").await;
    assert!(msg.contains("signedUrls"), "{msg}");
}

#[tokio::test]
async fn a_forged_or_foreign_session_is_401_desk_session_invalid() {
    let app = spawn_app_with_zendesk(zaf::app(zaf::ROLES)).await;
    let agent = sign_in(&app, 1234).await;
    let agent = agent["token"].as_str().unwrap();
    // The agent's MAC under the lead's id.
    let forged = agent.replacen("kzs_1234.", "kzs_9876543.", 1);
    // A session another server (another key) signed, as after a restart.
    let other = spawn_app_with_zendesk(zaf::app(zaf::ROLES)).await;
    let foreign = sign_in(&other, LEAD).await;
    for s in [forged.as_str(), foreign["token"].as_str().unwrap(), "kzs_x"] {
        let msg = expect_error(
            app.post_json("/v1/decisions", s, &as_role("agent")).await,
            401,
            "desk_session_invalid",
        )
        .await;
        assert!(msg.contains("reopen the ticket"), "{msg}");
    }
}

#[tokio::test]
async fn without_configuration_the_page_is_off_and_no_session_verifies() {
    let app = spawn_app().await;
    let r = post_token(&app, &zaf::token(LEAD)).await;
    expect_error(r, 404, "zendesk_app_not_configured").await;
    let r = app
        .post_json("/v1/decisions", "kzs_1.1.x", &as_role("agent"))
        .await;
    expect_error(r, 401, "desk_session_invalid").await;
}

#[tokio::test]
async fn a_user_mapped_to_a_role_the_policy_lacks_gets_no_session() {
    let app = spawn_app_with_zendesk(zaf::app(r#"{"default": "supervisor"}"#)).await;
    let msg = expect_error(
        post_token(&app, &zaf::token(LEAD)).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert!(
        msg.contains("`supervisor`") && msg.contains("`9876543`"),
        "{msg}"
    );
}
