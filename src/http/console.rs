//! `GET /console`: the support-operations lead's console, static files embedded in the
//! binary (no CDN, no build step, no external font). The page holds no secret and no
//! data: the lead types an API key once, the page keeps it in the tab's `sessionStorage`
//! and sends it as `Authorization: Bearer` to the JSON API, which does every check. No
//! cookie carries it, so a write cannot be forged from another site (no CSRF), and no
//! URL carries it, so it reaches no log and no `Referer`.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = include_str!("console/index.html");

/// The console's files: name, content type, body. The scripts load in this order.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("console/console.css"),
    ),
    (
        "text.js",
        "text/javascript; charset=utf-8",
        include_str!("console/text.js"),
    ),
    (
        "core.js",
        "text/javascript; charset=utf-8",
        include_str!("console/core.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_str!("console/charts.js"),
    ),
    (
        "overview.js",
        "text/javascript; charset=utf-8",
        include_str!("console/overview.js"),
    ),
    (
        "fairness.js",
        "text/javascript; charset=utf-8",
        include_str!("console/fairness.js"),
    ),
    (
        "at_risk.js",
        "text/javascript; charset=utf-8",
        include_str!("console/at_risk.js"),
    ),
    (
        "policies.js",
        "text/javascript; charset=utf-8",
        include_str!("console/policies.js"),
    ),
    (
        "value.js",
        "text/javascript; charset=utf-8",
        include_str!("console/value.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("console/app.js"),
    ),
];

// Everything from this origin only, nothing inline: an injected string in a policy text
// or a customer id cannot run. Images also as `data:` (the value charts are SVG the page
// shows as images, which cannot run script). No framing: the console is a page of its
// own, and a frame could trick a lead into clicking "activate".
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

fn answer(body: &'static str, content_type: &'static str) -> Response {
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
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
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
    answer(HTML, "text/html; charset=utf-8")
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => answer(body, content_type),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// The console's routes; open, like `/widget`: the data behind them needs a key.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(page))
        .route("/console/{asset}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::{ASSETS, HTML};

    #[test]
    fn the_page_loads_every_script_in_order_and_nothing_inline() {
        let mut at = 0;
        for (name, content_type, _) in ASSETS.iter().filter(|a| a.0.ends_with(".js")) {
            assert!(content_type.starts_with("text/javascript"));
            let tag = format!("<script src=\"console/{name}\"></script>");
            let found = HTML[at..]
                .find(&tag)
                .unwrap_or_else(|| panic!("{tag} missing or out of order"));
            at += found + tag.len();
        }
        assert_eq!(
            HTML.matches("<script").count(),
            9,
            "only the listed scripts"
        );
        assert!(!HTML.contains("style="), "no inline style");
    }
}
