//! `POST /zendesk/app`: the Zendesk app's page, loaded by Zendesk with a signed token
//! (`"signedUrls": true`), answered with the widget and a desk session for the verified
//! agent; and `/zendesk/zendesk.js`, the app's glue. No key: the token is the proof.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::body_bytes;
use crate::service::zendesk_app::{self, SignedIn, ZendeskAppError};
use crate::service::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

const PAGE: &str = include_str!("zendesk_app/app.html");
/// The app's glue, one file for both ways the app runs: Zendesk serves it from the app's
/// assets when it hosts the page, kulanz serves it here when kulanz does.
pub const ZENDESK_JS: &str = include_str!("../../integrations/zendesk/assets/zendesk.js");
/// Largest form Zendesk posts (the token is about 1 KiB).
pub const FORM_LIMIT: usize = 16 * 1024;

impl From<ZendeskAppError> for ApiError {
    fn from(e: ZendeskAppError) -> Self {
        match e {
            ZendeskAppError::NotConfigured => {
                ApiError::new(Code::ZendeskAppNotConfigured, e.to_string())
            }
            ZendeskAppError::Token(_) => ApiError::new(Code::ZendeskTokenInvalid, e.to_string()),
            ZendeskAppError::Session(_) => ApiError::new(Code::DeskSessionInvalid, e.to_string()),
            ZendeskAppError::App(app) => app.into(),
        }
    }
}

/// What the page hands zendesk.js.
#[derive(Serialize)]
struct SessionDto<'a> {
    token: &'a str,
    user_id: &'a str,
    role: &'a str,
    expires_at: String,
}

/// JSON safe inside a `<script>` element: no `<`, `>` or `&` can end it or open a comment.
fn script_json(v: &impl Serialize) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `scheme://host[:port]` of a URL, for the CSP.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    url.get(after..)
        .and_then(|rest| rest.find('/'))
        .and_then(|i| url.get(..after + i))
        .unwrap_or(url)
}

fn render(signed: &SignedIn, sdk_url: &str) -> Response {
    let session = SessionDto {
        token: &signed.session,
        user_id: &signed.user_id,
        role: &signed.role,
        expires_at: signed
            .expires_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let html = PAGE
        .replace("{{SDK_URL}}", &attr(sdk_url))
        .replace("{{SESSION}}", &script_json(&session));
    // As the widget's page, plus Zendesk's SDK host; the session is data, so no inline
    // code is allowed.
    let csp = format!(
        "default-src 'none'; script-src 'self' {}; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'",
        origin(sdk_url)
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // The page holds a credential: never kept by a cache.
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// The form Zendesk posts when it loads a signed-URL app's iframe; read by hand in `page`
/// (a missing token is a 401, not a form error), so this type only describes it.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used; `page` reads the form itself"
)]
struct AppForm {
    /// The JWT Zendesk signs for this app, user and account.
    token: String,
}

/// The app's page for the agent Zendesk's token names.
#[utoipa::path(post, path = "/zendesk/app", tag = "webhooks",
    request_body(content = AppForm, content_type = "application/x-www-form-urlencoded",
        description = "`token=<JWT>`: what Zendesk posts when it loads a signed-URL app's iframe"),
    responses(
        (status = 200, description = "The app's HTML page, with a desk session for the agent", content_type = "text/html", body = String),
        (status = 401, description = "`zendesk_token_invalid`: the token is missing, expired, not yet valid, not signed by the app's key or not for this account", body = ErrorBody),
        (status = 403, description = "`role_not_allowed`: the server maps the user to a role the active policy lacks", body = ErrorBody),
        (status = 404, description = "`zendesk_app_not_configured`", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 503, description = "No active policy", body = ErrorBody),
    ))]
pub async fn page(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let form = body_bytes(req, &()).await?;
    let token = form_urlencoded::parse(&form)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    let signed = zendesk_app::sign_in(&state, token.as_deref(), chrono::Utc::now())?;
    let sdk = state
        .zendesk_app
        .as_deref()
        .map_or(zendesk_app::DEFAULT_SDK_URL, |a| a.sdk_url.as_str());
    Ok(render(&signed, sdk))
}

/// A GET is Zendesk loading the app without `signedUrls`: say so.
#[utoipa::path(get, path = "/zendesk/app", tag = "webhooks",
    responses(
        (status = 401, description = "`zendesk_token_invalid`: the page is loaded by POST with a signed token; set `signedUrls: true` in the app's manifest", body = ErrorBody),
    ))]
pub async fn unsigned() -> ApiError {
    ApiError::new(
        Code::ZendeskTokenInvalid,
        "this page is loaded by POST with a signed `token`: set `signedUrls: true` in the Zendesk app's manifest",
    )
}

/// The app's glue script.
pub async fn script() -> Response {
    super::widget::asset(ZENDESK_JS, "text/javascript; charset=utf-8")
}
