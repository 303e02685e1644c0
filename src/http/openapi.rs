//! The OpenAPI 3.1 document, generated from the handlers' annotations and the types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "kulanz", description = "Goodwill decision engine for support desks. Money is always `{\"amount\": \"100.00\", \"currency\": \"EUR\"}`; errors always `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    paths(
        super::decisions::create, super::decisions::get, super::decisions::outcome,
        super::customers::put, super::customers::get, super::customers::delete, super::customers::import,
        super::policies::list, super::policies::active, super::policies::validate,
        super::policies::put, super::policies::activate, super::policies::backtest,
        super::policies::set_shadow, super::policies::get_shadow, super::policies::clear_shadow, super::decisions::shadow,
        super::ops::audit_verify, super::ops::backup,
        super::keys::create, super::keys::list, super::keys::revoke, super::ops::healthz, super::ops::readyz, super::ops::metrics, super::ops::openapi,
        super::tickets::latest, super::webhooks::zendesk, super::webhooks::generic,
        super::orders::create, super::orders::fit, super::orders::model,
        super::nps::create, super::nps::at_risk, super::reports::goodwill,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "decisions", description = "Recommend a gesture; record what was granted"),
        (name = "customers", description = "Customer value records"),
        (name = "policies", description = "Versioned goodwill policies"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
        (name = "webhooks", description = "Signed deliveries from help desks (HMAC, no bearer key)"),
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
