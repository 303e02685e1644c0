//! Key management over HTTP (admin): create, list, revoke, so keys can be rotated while
//! the server runs (the CLI cannot open a store the server holds).

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::error::AppError;
use crate::service::keys::{self, ApiKeyRecord, Scope};
use crate::service::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /v1/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[schema(value_type = crate::domain::schema::Id)]
    pub name: String,
    /// At least one of `decide`, `ingest`, `admin`.
    #[schema(value_type = Vec<ScopeName>, min_items = 1)]
    pub scopes: Vec<String>,
    /// The highest agent role a request with this key may claim (a role of the active
    /// policy); a higher claim is refused with 403 `role_not_allowed`. Absent: the key
    /// trusts the role its caller sends.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::schema::Id>)]
    pub max_role: Option<String>,
}

/// A scope as `POST /v1/keys` takes it; only describes `NewKey::scopes` in the document.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[expect(
    dead_code,
    reason = "only its schema is used; `create` reads the names"
)]
enum ScopeName {
    Decide,
    Ingest,
    Admin,
}

/// Each name exactly as the document lists it (no commas, no spaces), at least one.
fn parse_scopes(names: &[String]) -> Result<Vec<Scope>, AppError> {
    let invalid =
        |message: String| AppError::Invalid(crate::domain::FieldError::new("scopes", message));
    let mut scopes = Vec::new();
    for name in names {
        let scope = Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                invalid(format!(
                    "unknown scope `{}`; expected decide, ingest or admin",
                    crate::money::truncate(name)
                ))
            })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(invalid(
            "at least one scope is needed: decide, ingest or admin".into(),
        ));
    }
    Ok(scopes)
}

/// A key as listed (never with its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    /// Absent when the key trusts its caller's role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_role: Option<String>,
}

/// A new key: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: KeyView,
    pub secret: String,
}

fn view(k: ApiKeyRecord) -> KeyView {
    KeyView {
        name: k.name,
        scopes: k.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        created_at: k.created_at,
        max_role: k.max_role,
    }
}

/// Create a key; the secret is in the answer and nowhere else.
#[utoipa::path(post, path = "/v1/keys", tag = "operations", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let scopes = parse_scopes(&body.scopes)?;
    let key = keys::create(
        &state,
        &body.name,
        scopes,
        body.max_role,
        chrono::Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: view(key.record),
            secret: key.secret,
        }),
    ))
}

/// Every key's name, scopes and creation time.
#[utoipa::path(get, path = "/v1/keys", tag = "operations",
    responses((status = 200, body = Vec<KeyView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<KeyView>>, ApiError> {
    Ok(Json(
        keys::list(&state.store)?.into_iter().map(view).collect(),
    ))
}

/// Revoke every key with this name.
#[utoipa::path(delete, path = "/v1/keys/{name}", tag = "operations", params(("name" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`key_not_found`", body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    keys::revoke(&state, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
