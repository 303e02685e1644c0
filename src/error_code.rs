//! Every error code the API answers with, as an enum: the snake_case wire name and the HTTP
//! status of each are fixed here, at compile time, so a mistyped code does not compile and
//! no code can fall back to a status nobody chose (meilisearch's `Code`).
//!
//! It sits at the bottom of the layers because the store and the service name codes too
//! (`StoreError::Conflict`, `AppError::NotFound`); only `http::error` turns one into a
//! response. `docs/api.md` lists the same table; a test checks every variant is there.

use axum::http::StatusCode;

/// Declares `Code` with one line per variant: `Variant = (STATUS, "wire_name")`. One macro
/// so the list of variants, `Code::ALL`, the names and the statuses cannot drift apart.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = ($status:ident, $name:literal),)*) => {
        /// A stable error code of the API: the `code` of the error body.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in the order of the table below.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The snake_case name callers see in `error.code`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The HTTP status every response with this code has.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

codes! {
    /// The body is not valid JSON.
    MalformedJson = (BAD_REQUEST, "malformed_json"),
    /// Missing, malformed or unknown API key.
    Unauthorized = (UNAUTHORIZED, "unauthorized"),
    /// The key lacks the scope the route needs.
    Forbidden = (FORBIDDEN, "forbidden"),
    /// The request claims an agent role above the key's (or the desk session's) maximum role.
    RoleNotAllowed = (FORBIDDEN, "role_not_allowed"),
    /// The approver's role does not cover the amount for this customer.
    ApprovalNotAllowed = (FORBIDDEN, "approval_not_allowed"),
    /// No such route or record.
    NotFound = (NOT_FOUND, "not_found"),
    /// No record for this customer id.
    CustomerNotFound = (NOT_FOUND, "customer_not_found"),
    /// No decision with this id.
    DecisionNotFound = (NOT_FOUND, "decision_not_found"),
    /// No policy with this version.
    PolicyNotFound = (NOT_FOUND, "policy_not_found"),
    /// No API key with this name.
    KeyNotFound = (NOT_FOUND, "key_not_found"),
    /// No shadow result for this decision.
    ShadowResultNotFound = (NOT_FOUND, "shadow_result_not_found"),
    /// The route exists but not with this method.
    MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed"),
    /// The HTTP method is not one this server implements.
    MethodNotImplemented = (NOT_IMPLEMENTED, "method_not_implemented"),
    /// The decision already has an outcome.
    OutcomeExists = (CONFLICT, "outcome_exists"),
    /// The decision already has an approval.
    ApprovalExists = (CONFLICT, "approval_exists"),
    /// A request with this `Idempotency-Key` is still running.
    IdempotencyInFlight = (CONFLICT, "idempotency_in_flight"),
    /// This `Idempotency-Key` was used for a different request.
    IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
    /// Granted above the role's authority without `approved_by`.
    ApprovalRequired = (CONFLICT, "approval_required"),
    /// Outcomes recorded for the customer since the decision leave the ledger guards
    /// refusing a grant they allowed when it was made.
    LedgerChanged = (CONFLICT, "ledger_changed"),
    /// This policy version is stored with different content.
    PolicyVersionConflict = (CONFLICT, "policy_version_conflict"),
    /// A restore into a data directory that already holds data (`kulanz restore` only).
    StoreNotEmpty = (CONFLICT, "store_not_empty"),
    /// The body is above the route's size limit.
    PayloadTooLarge = (PAYLOAD_TOO_LARGE, "payload_too_large"),
    /// The API key is over its rate limit; see `Retry-After`.
    RateLimited = (TOO_MANY_REQUESTS, "rate_limited"),
    /// The body is not `application/json` (or NDJSON for imports).
    UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    /// A field is missing, of the wrong type or out of range.
    InvalidRequest = (UNPROCESSABLE_ENTITY, "invalid_request"),
    /// The policy failed schema, semantic, example-case or static checks.
    PolicyInvalid = (UNPROCESSABLE_ENTITY, "policy_invalid"),
    /// An unexpected failure; details are in the server log.
    Internal = (INTERNAL_SERVER_ERROR, "internal"),
    /// The store could not be read or written.
    StorageUnavailable = (SERVICE_UNAVAILABLE, "storage_unavailable"),
    /// Cluster mode: the replicated log cannot take writes now (no quorum or no connection);
    /// nothing was written. See `Retry-After`.
    ClusterUnavailable = (SERVICE_UNAVAILABLE, "cluster_unavailable"),
    /// Cluster mode: this replica has not applied the position named in `Kulanz-After` in
    /// time. See `Retry-After`.
    NotYetApplied = (SERVICE_UNAVAILABLE, "not_yet_applied"),
    /// No policy is active yet.
    NoActivePolicy = (SERVICE_UNAVAILABLE, "no_active_policy"),
    /// The request took longer than the server's time limit.
    RequestTimeout = (SERVICE_UNAVAILABLE, "request_timeout"),
    /// The webhook signature or its timestamp header is missing or wrong.
    WebhookSignatureInvalid = (UNAUTHORIZED, "webhook_signature_invalid"),
    /// The signed timestamp is outside the server's tolerance.
    WebhookTimestampStale = (UNAUTHORIZED, "webhook_timestamp_stale"),
    /// This webhook has no secret configured on the server.
    WebhookNotConfigured = (NOT_FOUND, "webhook_not_configured"),
    /// The token Zendesk signs for the app's page is missing, expired, not yet valid, not
    /// signed by the app's key, or not for this account.
    ZendeskTokenInvalid = (UNAUTHORIZED, "zendesk_token_invalid"),
    /// The desk session has expired or was not signed by this server (it restarted since).
    DeskSessionInvalid = (UNAUTHORIZED, "desk_session_invalid"),
    /// The Zendesk app's signed page is not configured on the server.
    ZendeskAppNotConfigured = (NOT_FOUND, "zendesk_app_not_configured"),
    /// This order id is stored with different content.
    OrderConflict = (CONFLICT, "order_conflict"),
    /// The value models could not be fitted; the previous model is kept.
    ValueFitFailed = (UNPROCESSABLE_ENTITY, "value_fit_failed"),
    /// The value models could not be fitted on the calibration period of a validation.
    ValueValidationFailed = (UNPROCESSABLE_ENTITY, "value_validation_failed"),
    /// No value model is fitted yet.
    ValueModelNotFound = (NOT_FOUND, "value_model_not_found"),
    /// This value model version is already stored.
    ValueModelConflict = (CONFLICT, "value_model_conflict"),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use std::collections::HashSet;

    /// The wire name is written beside the variant by hand; this keeps the two the same
    /// word, so `Code::OrderConflict` can only ever answer `order_conflict`.
    #[test]
    fn every_wire_name_is_its_variant_in_snake_case() {
        for code in Code::ALL {
            let mut snake = String::new();
            for (i, c) in format!("{code:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(code.as_str(), snake);
        }
    }

    #[test]
    fn codes_are_unique_and_every_status_is_an_error() {
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for code in Code::ALL {
            let status = code.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code}: {status}"
            );
        }
    }

    #[test]
    fn a_code_serializes_as_its_wire_name() {
        let json = serde_json::to_string(&Code::PolicyVersionConflict).unwrap();
        assert_eq!(json, "\"policy_version_conflict\"");
    }
}
