//! `GET /widget`: the agent sidebar, a static page embedded in the binary (no CDN, no
//! build step). It holds no secret: the embedding app hands it a key at run time (URL
//! fragment or `postMessage`), or, in Zendesk, every call goes through Zendesk's proxy.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = include_str!("widget/index.html");
/// The widget's code; the Zendesk app ships a byte-identical copy (a test checks).
pub const JS: &str = include_str!("widget/widget.js");
pub const CSS: &str = include_str!("widget/widget.css");

// Scripts and styles only from this origin, calls only to it; no inline code, so an
// injected string in a reason text cannot run. Framing is allowed: that is the point.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

pub(super) fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // The URL fragment may carry a key; never send the page address anywhere.
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    asset(HTML, "text/html; charset=utf-8")
}

async fn script() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The widget's routes; open, like `/healthz`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/widget", get(page))
        .route("/widget/widget.js", get(script))
        .route("/widget/widget.css", get(style))
}

/// A widget address for seed scenario S6 in German, for `serve --demo` to print. The key
/// rides in the fragment, which browsers never send to a server.
pub fn demo_url(addr: &str, key: &str) -> String {
    format!(
        "http://{addr}/widget#key={key}&ticket=ZD-48600&customer=c-60606&category=damaged_item\
         &severity=high&channel=phone&fault=ours&amount=450.00&currency=EUR&agent=a-17&role=agent&locale=de-DE"
    )
}
