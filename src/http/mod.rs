//! The HTTP API: routes, the auth layer per scope, body limits, metrics and tracing.
//! Handlers are thin: parse, call the service layer, map the result.

pub mod auth;
pub mod console;
pub mod customers;
pub mod decisions;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod keys;
pub mod limits;
pub mod nps;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod policies;
pub mod positions;
pub mod replica;
pub mod reports;
pub mod retention;
pub mod tickets;
pub mod webhooks;
pub mod widget;
pub mod zendesk_app;

use crate::service::keys::Scope;
use crate::service::AppState;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use error::{ApiError, Code};
use std::time::Instant;

/// Largest JSON body on ordinary routes.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Largest policy document.
pub const POLICY_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Largest bulk import body (streamed, so memory stays flat).
pub const IMPORT_BODY_LIMIT: usize = 1024 * 1024 * 1024;

fn scoped(state: &AppState, scope: Scope, routes: Router<AppState>) -> Router<AppState> {
    // Auth, then idempotency (the key scopes it), in one layer.
    routes.route_layer(middleware::from_fn_with_state(
        (state.clone(), scope),
        auth::require,
    ))
}

/// The whole application; tests call this with a temporary store.
pub fn app(state: AppState) -> Router {
    let timeout = middleware::from_fn_with_state(state.request_timeout, limits::timeout);
    let decide = Router::new()
        .route("/v1/decisions", post(decisions::create))
        .route("/v1/decisions/{decision_id}", get(decisions::get))
        .route("/v1/decisions/{decision_id}/shadow", get(decisions::shadow))
        .route(
            "/v1/decisions/{decision_id}/outcome",
            post(decisions::outcome),
        )
        .route(
            "/v1/decisions/{decision_id}/approval",
            post(decisions::approval),
        )
        .route("/v1/tickets/{ticket_id}/decision", get(tickets::latest))
        .route_layer(timeout.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    let ingest = Router::new()
        .route("/v1/customers/at-risk", get(nps::at_risk))
        .route(
            "/v1/customers/{customer_id}",
            put(customers::put).get(customers::get),
        )
        .route_layer(timeout.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .route(
            "/v1/customers/import",
            post(customers::import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route(
            "/v1/orders",
            post(orders::create).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route(
            "/v1/nps",
            post(nps::create).layer(DefaultBodyLimit::max(nps::NPS_BODY_LIMIT)),
        );
    let admin = Router::new()
        .route(
            "/v1/customers/{customer_id}",
            axum::routing::delete(customers::delete),
        )
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/{name}", axum::routing::delete(keys::revoke))
        .route("/v1/policies", get(policies::list))
        .route("/v1/policies/active", get(policies::active))
        .route("/v1/policies/validate", post(policies::validate))
        .route("/v1/policies/{version}", put(policies::put))
        .route("/v1/policies/{version}/activate", post(policies::activate))
        .route("/v1/policies/{version}/diff", get(policies::diff))
        .route("/v1/policies/{version}/shadow", post(policies::set_shadow))
        .route(
            "/v1/policies/shadow",
            get(policies::get_shadow).delete(policies::clear_shadow),
        )
        .route("/v1/policies/watch", get(policies::watch_status))
        .route_layer(timeout.clone())
        // A backtest streams the whole decision log, a backup copies the store: both are
        // exempt from the time limit.
        .route("/v1/backup", get(ops::backup))
        .route("/v1/audit/verify", get(ops::audit_verify))
        .route("/v1/replica", get(replica::state))
        .route("/v1/policies/{version}/backtest", post(policies::backtest))
        .route("/v1/value/fit", post(orders::fit))
        .route("/v1/value/model", get(orders::model))
        .route("/v1/value/validate", post(orders::validate))
        .route("/v1/reports/goodwill", get(reports::goodwill))
        .route("/v1/reports/decisions", get(reports::decisions))
        .route("/v1/reports/retention", get(retention::report))
        .layer(DefaultBodyLimit::max(POLICY_BODY_LIMIT));
    let open = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::openapi));
    // Webhooks authenticate by their HMAC signature, so they sit outside the key layers.
    let signed = Router::new()
        .route("/v1/webhooks/zendesk", post(webhooks::zendesk))
        .route("/v1/webhooks/generic", post(webhooks::generic))
        .route_layer(timeout.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    // The Zendesk app's page: Zendesk's signed token is the proof, not a key.
    let zendesk = Router::new()
        .route(
            "/zendesk/app",
            post(zendesk_app::page).get(zendesk_app::unsigned),
        )
        .route_layer(timeout)
        .layer(DefaultBodyLimit::max(zendesk_app::FORM_LIMIT))
        .route("/zendesk/zendesk.js", get(zendesk_app::script));

    Router::new()
        .merge(scoped(&state, Scope::Decide, decide))
        .merge(scoped(&state, Scope::Ingest, ingest))
        .merge(scoped(&state, Scope::Admin, admin))
        .merge(open)
        .merge(signed)
        .merge(zendesk)
        .merge(widget::routes())
        .merge(console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            positions::track,
        ))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this route does not take this method",
    )
}

// A panic is a bug; the caller gets the contract's 500 body and nothing internal.
fn panic_response() -> Response {
    tracing::error!("request handler panicked");
    ApiError::new(
        Code::Internal,
        "an unexpected error occurred; it has been logged",
    )
    .into_response()
}

/// Poll `fut`, answering a panic in it with `panic_response`. In `observe`, so a request
/// that panicked is counted and logged like any other; tower-http's layer did the same,
/// but as one more layer, with a boxed body per response.
async fn catching_panics(fut: impl std::future::Future<Output = Response>) -> Response {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        // The future is dropped after a panic, never polled again, so no broken state of
        // it is seen: what `AssertUnwindSafe` asks.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => std::task::Poll::Ready(panic_response()),
        }
    })
    .await
}

tokio::task_local! {
    /// The method and route template of the request this task is answering, for lines
    /// logged while it runs (`storage failure`); set by `observe`.
    static REQUEST: (axum::http::Method, Option<MatchedPath>);
}

/// The method and route template of the request being answered on this task, if any.
pub fn current_request() -> Option<(axum::http::Method, String)> {
    REQUEST
        .try_with(|(method, route)| {
            let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
            (method.clone(), route.to_string())
        })
        .ok()
}

/// Latency by route template, and the request's log line; the raw path (which holds
/// customer ids) is never logged. Every label comes from a fixed set: the route template
/// or `unmatched`, a known method or `other` (refused here, 501), the status code.
///
/// The labels are not copied per request: the matched route is shared (an `Arc` inside
/// `MatchedPath`), the method and status are static strings. There is no
/// tracing span per request: creating, entering and closing one was about 3% of the
/// server's CPU under load (docs/performance.md), and the one line logged inside a request
/// (`storage failure`) names its route itself, through `REQUEST`.
async fn observe(req: Request, next: Next) -> Response {
    let method_label = method_label(req.method());
    let start = Instant::now();
    let (route, response) = if method_label == "other" {
        // An invented method is refused before routing: nothing of it is kept, logged or
        // counted but as `other`.
        let refused = ApiError::new(
            Code::MethodNotImplemented,
            "this server knows GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE and QUERY",
        )
        .into_response();
        (None, refused)
    } else {
        let matched = req.extensions().get::<MatchedPath>().cloned();
        let method = req.method().clone();
        let response = REQUEST
            .scope((method, matched.clone()), catching_panics(next.run(req)))
            .await;
        (matched, response)
    };
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = response.status();
    let elapsed = start.elapsed();
    crate::metrics::observe_request(route, method_label, status.as_str(), elapsed.as_secs_f64());
    crate::telemetry::request_line(
        method_label,
        route,
        status.as_u16(),
        u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
    );
    response
}

/// The method as a metric label and log field: a method this API knows, or `other`. A
/// method is any token up to the header size limit, so a raw one would let anybody add
/// a metric series (and bytes to every scrape) per request.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        // Standard methods no route takes: routed, so each is a 405 with `Allow` like any
        // other method a route lacks, not a 501 (which says the server does not know it).
        Method::TRACE => "TRACE",
        // The IETF's safe method with a body (draft-ietf-httpbis-safe-method-w-body): known,
        // and so a 405 too, for no route takes it yet.
        _ if method.as_str() == "QUERY" => "QUERY",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::catching_panics;
    use axum::response::{IntoResponse, Response};

    fn handler_bug() -> Response {
        panic!("a handler bug")
    }

    #[tokio::test]
    async fn a_panic_is_the_contracts_500_and_an_answer_passes_through() {
        let panicked = catching_panics(async {
            tokio::task::yield_now().await;
            handler_bug()
        })
        .await;
        assert_eq!(panicked.status(), 500);
        let body = axum::body::to_bytes(panicked.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal", "{body}");
        let fine =
            catching_panics(async { (axum::http::StatusCode::CREATED, "ok").into_response() })
                .await;
        assert_eq!(fine.status(), 201);
    }
}
