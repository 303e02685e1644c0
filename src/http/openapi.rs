//! The OpenAPI 3.1 document, generated from the handlers' annotations and the types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "kulanz", description = "Goodwill decision engine for support desks. Money is always `{\"amount\": \"100.00\", \"currency\": \"EUR\"}`; errors always `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    paths(
        super::decisions::create, super::decisions::get, super::decisions::outcome, super::decisions::approval,
        super::customers::put, super::customers::get, super::customers::delete, super::customers::import,
        super::policies::list, super::policies::active, super::policies::validate,
        super::policies::put, super::policies::activate, super::policies::backtest,
        super::policies::set_shadow, super::policies::get_shadow, super::policies::clear_shadow, super::policies::watch_status, super::decisions::shadow,
        super::ops::audit_verify, super::ops::backup, super::replica::state,
        super::keys::create, super::keys::list, super::keys::revoke, super::ops::healthz, super::ops::readyz, super::ops::metrics, openapi,
        super::tickets::latest, super::webhooks::zendesk, super::webhooks::generic, super::zendesk_app::page, super::zendesk_app::unsigned,
        super::orders::create, super::orders::fit, super::orders::model, super::orders::validate,
        super::nps::create, super::nps::at_risk, super::reports::goodwill, super::reports::decisions, super::retention::report,
        super::policies::diff,
    ),
    modifiers(&BearerAuth, &CrossCutting),
    tags(
        (name = "decisions", description = "Recommend a gesture; record what was granted"),
        (name = "customers", description = "Customer value records"),
        (name = "policies", description = "Versioned goodwill policies"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
        (name = "webhooks", description = "Signed deliveries from help desks (HMAC, no bearer key) and the Zendesk app's signed page (RS256 token)"),
        (name = "orders", description = "Order history and the customer value models fitted on it"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// What applies to many operations at once, added here rather than on each handler
/// because a layer or an extractor answers it, not the handler; what a handler declares
/// itself is kept. So the document lists every status a route can answer:
/// - every operation: 500 `internal` (a bug, caught in `observe`);
/// - keyed operations (`auth::require`): 401, 403, 429 `rate_limited` with `Retry-After`,
///   and 503 (the key is read from the store; reads have a time limit);
/// - keyed writes the idempotency layer covers: the `Idempotency-Key` header, 409
///   `idempotency_in_flight`, 413 (the body is read to fingerprint it), 422;
/// - keyed operations with a JSON body (`ApiJson` or its equivalent): 400, 413, 415, 422;
/// - path and query parameters (`ApiPath`, `ApiQuery`): 422 for a malformed one; and every
///   path parameter is an identifier (`domain::schema::Id`), as the services check it.
struct CrossCutting;

impl Modify for CrossCutting {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.delete, false),
                (&mut item.post, true),
                (&mut item.put, true),
            ];
            for (op, write) in ops {
                if let Some(op) = op.as_mut() {
                    cross_cutting(path, op, write);
                }
            }
        }
    }
}

fn cross_cutting(path: &str, op: &mut utoipa::openapi::path::Operation, write: bool) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let keyed = op.security.is_some();
    let idempotent = keyed && write && !super::idempotency::exempt(path);
    let json_body = keyed
        && op
            .request_body
            .as_ref()
            .is_some_and(|b| b.content.contains_key("application/json"));
    let has_params = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
    for p in op.parameters.iter_mut().flatten() {
        if p.parameter_in == ParameterIn::Path {
            p.schema = Some(<crate::domain::schema::Id as utoipa::PartialSchema>::schema());
        }
    }

    // Every reason for a status, in the order given; one description per status.
    let mut reasons: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    let mut add = |status, reason| reasons.entry(status).or_default().push(reason);
    add(
        "500",
        "`internal`: an unexpected failure; details are in the server log",
    );
    if keyed {
        add("401", "`unauthorized`: missing or unknown key (`desk_session_invalid` for an expired desk session)");
        add("403", "`forbidden`: the key lacks the scope");
        add(
            "503",
            "`storage_unavailable`; on reads also `request_timeout`",
        );
    }
    if json_body {
        add("400", "`malformed_json`");
        add("413", "`payload_too_large`");
        add("415", "`unsupported_media_type`");
        add(
            "422",
            "`invalid_request`: the message and `details` name the field",
        );
    }
    if idempotent {
        add(
            "409",
            "`idempotency_in_flight`: a request with this `Idempotency-Key` is still running",
        );
        add("413", "`payload_too_large`");
        add(
            "422",
            "`idempotency_key_reused`, or `invalid_request` for a malformed `Idempotency-Key`",
        );
    }
    if has_params {
        add(
            "422",
            "`invalid_request`: a malformed path or query parameter",
        );
    }
    for (status, why) in reasons {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(&why.join("; ")).into());
    }
    if keyed {
        op.responses
            .responses
            .entry("429".to_string())
            .or_insert_with(|| too_many().into());
    }
    if idempotent {
        let idem = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Retry safely: the same key and body replay the first answer (`Idempotent-Replayed: true`); \
                 another body is 422 `idempotency_key_reused`; a key still running is 409 `idempotency_in_flight`",
            ))
            // What `idempotency::guard` accepts: 1 to 255 printable ASCII characters.
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[!-~]{1,255}$")),
            ))
            .build();
        op.parameters.get_or_insert_with(Vec::new).push(idem);
    }
}

/// An error answer: the contract's body, with what causes it.
fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// 429 `rate_limited`, with the `Retry-After` header `limits::too_many` sets.
fn too_many() -> utoipa::openapi::Response {
    use utoipa::openapi::{header::HeaderBuilder, ContentBuilder, ObjectBuilder, Ref};
    use utoipa::openapi::{ResponseBuilder, Type};
    ResponseBuilder::new()
        .description("`rate_limited`: the API key is over its rate")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Whole seconds to wait"))
                .build(),
        )
        .build()
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi() -> impl axum::response::IntoResponse {
    axum::Json(ApiDoc::openapi())
}
