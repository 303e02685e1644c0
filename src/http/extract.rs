//! Extractors that answer bad input with the API's own error body: a JSON body parsed
//! with the path of the offending field, and the authenticated caller.

use super::error::{ApiError, Code};
use crate::service::keys::{ApiKeyRecord, Scope};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap};
use serde::de::DeserializeOwned;

/// A JSON body, parsed into `T`; errors name the field (`complaint.severity: ...`).
pub struct ApiJson<T>(pub T);

/// Whether the request says its body is JSON (`application/json` or `...+json`).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Read the body, answering 413 when it is above the route's limit.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::PayloadTooLarge,
                "the request body is larger than this route accepts",
            )
        } else {
            ApiError::new(Code::MalformedJson, "the request body could not be read")
        }
    })
}

/// Parse JSON bytes into `T`, with the failing field's path in the message.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // A valid body is parsed once, without tracking the path: serde_path_to_error wraps
    // every field, which made parsing a decision request about twice as costly. Only a
    // body that fails is parsed again with the path, which fails the same way.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                Code::MalformedJson,
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let path = e.path().to_string();
        let parent = if path == "." { String::new() } else { path };
        let msg = strip_position(&inner.to_string());
        // "missing field `x`" is reported at the parent; name the field itself.
        let (field, message) = match msg
            .strip_prefix("missing field `")
            .and_then(|r| r.split_once('`'))
        {
            Some((name, _)) => (join(&parent, name), "is required".to_string()),
            None => (
                if parent.is_empty() {
                    "body".to_string()
                } else {
                    parent
                },
                msg,
            ),
        };
        crate::error::AppError::Invalid(crate::domain::FieldError::new(field, message)).into()
    })?;
    de.end().map_err(|_| {
        ApiError::new(
            Code::MalformedJson,
            "the body has trailing characters after the JSON value",
        )
    })?;
    Ok(value)
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// serde_json appends " at line 1 column 42"; the field path says more to a caller.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        Ok(ApiJson(parse_json(&bytes)?))
    }
}

/// The authenticated caller, put into the request by the auth layer.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: std::sync::Arc<ApiKeyRecord>,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(Code::Unauthorized, "an API key is required"))
    }
}

/// The bearer secret of a request, if well-formed.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(secret.trim())
}

/// Whether a key may use a scope.
pub fn allows(key: &ApiKeyRecord, scope: Scope) -> bool {
    key.scopes.contains(&scope)
}

/// A query string parsed into `T`; a bad one is a 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        // Through serde_path_to_error, so a bad value names its parameter (e.g.
        // `retention_days: invalid digit found in string`), not just "query".
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path.is_empty() || path == "." {
                    "query".to_string()
                } else {
                    path
                };
                crate::error::AppError::Invalid(crate::domain::FieldError::new(
                    &field,
                    e.into_inner().to_string(),
                ))
                .into()
            })
    }
}

/// Path parameters; a malformed one (e.g. bad percent-encoding) is a 422, not axum's text.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| {
                crate::error::AppError::Invalid(crate::domain::FieldError::new(
                    "path",
                    e.body_text(),
                ))
                .into()
            })
    }
}
