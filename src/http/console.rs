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

/// The console's script: its files in load order, joined at compile time into one
/// response, so a page load costs three requests (page, style, script), not eleven.
const SCRIPT: &str = concat!(
    include_str!("console/text.js"),
    include_str!("console/core.js"),
    include_str!("console/charts.js"),
    include_str!("console/overview.js"),
    include_str!("console/fairness.js"),
    include_str!("console/at_risk.js"),
    include_str!("console/policies.js"),
    include_str!("console/value.js"),
    include_str!("console/app.js"),
);

/// The console's files: name, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("console/console.css"),
    ),
    ("console.js", "text/javascript; charset=utf-8", SCRIPT),
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
    use super::{HTML, SCRIPT};

    #[test]
    fn the_page_loads_one_script_and_nothing_inline() {
        assert_eq!(HTML.matches("<script").count(), 1);
        assert!(HTML.contains("<script src=\"console/console.js\"></script>"));
        assert!(!HTML.contains("style="), "no inline style");
        // Each file is a closed IIFE, so joining them keeps each one's scope.
        assert_eq!(SCRIPT.lines().filter(|l| *l == "(function () {").count(), 9);
        assert_eq!(SCRIPT.lines().filter(|l| *l == "}());").count(), 9);
        assert!(SCRIPT.trim_end().ends_with("}());"));
    }
}
