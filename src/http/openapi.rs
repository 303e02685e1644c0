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
        super::ops::audit_verify, super::ops::backup,
        super::keys::create, super::keys::list, super::keys::revoke, super::ops::healthz, super::ops::readyz, super::ops::metrics, openapi,
        super::tickets::latest, super::webhooks::zendesk, super::webhooks::generic, super::zendesk_app::page,
        super::orders::create, super::orders::fit, super::orders::model, super::orders::validate,
        super::nps::create, super::nps::at_risk, super::reports::goodwill, super::retention::report,
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

/// What applies to many operations at once, added here rather than on each handler: the
/// `Idempotency-Key` header on keyed writes, and 429 on every keyed operation.
struct CrossCutting;

impl Modify for CrossCutting {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Ref, Required, ResponseBuilder, Type};
        let too_many = ResponseBuilder::new()
            .description("`rate_limited`: the API key is over its rate; see `Retry-After`")
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        let idem = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Retry safely: the same key and body replay the first answer (`Idempotent-Replayed: true`); \
                 another body is 422 `idempotency_key_reused`; a key still running is 409 `idempotency_in_flight`",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255))))
            .build();
        // Writes without idempotency: streamed bulk bodies and key creation (see idempotency.rs).
        let exempt = |path: &str| {
            path == "/v1/customers/import" || path == "/v1/orders" || path.starts_with("/v1/keys")
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops: [(&mut Option<Operation>, bool); 4] = [
                (&mut item.get, false),
                (&mut item.delete, false),
                (&mut item.post, true),
                (&mut item.put, true),
            ];
            for (op, write) in ops {
                let Some(op) = op.as_mut() else { continue };
                if op.security.is_none() {
                    continue;
                }
                op.responses
                    .responses
                    .entry("429".to_string())
                    .or_insert_with(|| too_many.clone().into());
                if write && !exempt(path) {
                    op.parameters
                        .get_or_insert_with(Vec::new)
                        .push(idem.clone());
                }
            }
        }
    }
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi() -> impl axum::response::IntoResponse {
    axum::Json(ApiDoc::openapi())
}
