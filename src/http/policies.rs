//! Policy routes: list, active, validate, upload a version, activate a version.

use super::error::{ApiError, Code, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::error::AppError;
use crate::policy::Problem;
use crate::service::backtest::BacktestReport;
use crate::service::policy_versions::{self, PolicyStatus, PolicyVersion};
use crate::service::watch::WatchView;
use crate::service::{policies, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One stored version, without its document.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicySummary {
    pub id: String,
    pub version: String,
    pub digest: String,
    pub author: String,
    pub uploaded_at: String,
    /// `valid` or `draft`.
    pub status: PolicyStatus,
    /// Whether it is its market's active version.
    pub active: bool,
    /// The market it decides for (`default` when the document names none).
    pub market: String,
}

/// Query of the routes that answer for one market.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MarketQuery {
    /// The market (docs/policy.md, "Markets"); absent: the market `default`, or the only
    /// one. An unknown market is a 422 naming `market`.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
}

/// Query of `GET /v1/policies`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this market's versions (its release history); absent: every market's.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
}

/// Every stored version, oldest first, with which one is active in its market.
#[utoipa::path(get, path = "/v1/policies", tag = "policies", params(ListQuery),
    responses((status = 200, body = Vec<PolicySummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<PolicySummary>>, ApiError> {
    let only = q
        .market
        .as_deref()
        .map(|m| crate::domain::market::Market::parse("market", m))
        .transpose()
        .map_err(AppError::from)?;
    let active = state.store.active_versions().map_err(AppError::from)?;
    Ok(Json(
        policy_versions::list(&state)?
            .into_iter()
            .filter(|p| only.as_ref().is_none_or(|m| m.as_str() == p.market))
            .map(|p| PolicySummary {
                active: active.get(&p.market) == Some(&p.version),
                market: p.market,
                id: p.id,
                version: p.version,
                digest: p.digest,
                author: p.author,
                uploaded_at: p.uploaded_at,
                status: p.status,
            })
            .collect(),
    ))
}

/// A market's active version with its document.
#[utoipa::path(get, path = "/v1/policies/active", tag = "policies", params(MarketQuery),
    responses((status = 200, body = PolicyVersion), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn active(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MarketQuery>,
) -> Result<Json<PolicyVersion>, ApiError> {
    Ok(Json(policy_versions::active(&state, q.market.as_deref())?))
}

/// Result of validating a policy document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationReport {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Every problem with its JSON path; empty when valid.
    pub problems: Vec<Problem>,
}

/// Check a policy document (schema, semantics, its example cases) without storing it.
#[utoipa::path(post, path = "/v1/policies/validate", tag = "policies",
    request_body(content = serde_json::Value, description = "A policy document; any JSON value is checked and answered with a verdict"),
    responses((status = 200, description = "The verdict, valid or not", body = ValidationReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn validate(ApiJson(doc): ApiJson<serde_json::Value>) -> Json<ValidationReport> {
    Json(match policies::validate(doc) {
        Ok(p) => ValidationReport {
            valid: true,
            id: Some(p.id),
            version: Some(p.version),
            digest: Some(p.digest),
            problems: vec![],
        },
        Err(AppError::PolicyInvalid(problems)) => ValidationReport {
            valid: false,
            id: None,
            version: None,
            digest: None,
            problems,
        },
        Err(other) => ValidationReport {
            valid: false,
            id: None,
            version: None,
            digest: None,
            problems: vec![Problem::new("$", other.to_string())],
        },
    })
}

/// Query of `PUT /v1/policies/{version}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Store the version even if it fails its checks, as a draft that cannot be activated.
    pub draft: Option<bool>,
}

/// Store a new, immutable policy version (not yet active).
#[utoipa::path(put, path = "/v1/policies/{version}", tag = "policies",
    params(("version" = String, Path), UploadQuery),
    request_body(content = Object, description = "A policy document whose `version` matches the path"),
    responses(
        (status = 201, description = "Stored", body = PolicyVersion),
        (status = 200, description = "Identical version already stored", body = PolicyVersion),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Version stored with different content", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "Invalid policy: `details` lists every problem with its JSON path", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(version): ApiPath<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<PolicyVersion>), ApiError> {
    let (stored, created) = policies::upload(
        &state,
        &version,
        doc,
        &caller.key.name,
        q.draft.unwrap_or(false),
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored)))
}

/// What activation answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activated {
    pub id: String,
    pub version: String,
    pub digest: String,
    /// Static-check warnings (dead rules, uncovered cases); they do not block activation.
    pub warnings: Vec<Problem>,
}

/// Make a stored version the active one, atomically.
#[utoipa::path(post, path = "/v1/policies/{version}/activate", tag = "policies",
    params(("version" = String, Path)),
    responses((status = 200, body = Activated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn activate(
    State(state): State<AppState>,
    ApiPath(version): ApiPath<String>,
) -> Result<Json<Activated>, ApiError> {
    let p = policies::activate(&state, &version).await?;
    Ok(Json(Activated {
        id: p.id.clone(),
        version: p.version.clone(),
        digest: p.digest.clone(),
        warnings: crate::policy::check::warnings(&p),
    }))
}

/// Period of a backtest; dates are `YYYY-MM-DD` (UTC), `until` exclusive.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BacktestQuery {
    #[param(value_type = Option<crate::domain::schema::Day>)]
    pub since: Option<String>,
    /// After `since`.
    #[param(value_type = Option<crate::domain::schema::Day>)]
    pub until: Option<String>,
}

fn day(field: &str, s: &Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    s.as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                .map_err(|_| {
                    AppError::Invalid(crate::domain::FieldError::new(
                        field,
                        format!(
                            "expected a date `YYYY-MM-DD`, got `{}`",
                            crate::money::truncate(d)
                        ),
                    ))
                    .into()
                })
        })
        .transpose()
}

/// Replay stored decisions under a stored version and report what would change.
#[utoipa::path(post, path = "/v1/policies/{version}/backtest", tag = "policies",
    params(("version" = String, Path), BacktestQuery),
    responses((status = 200, body = BacktestReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn backtest(
    State(state): State<AppState>,
    ApiPath(version): ApiPath<String>,
    ApiQuery(q): ApiQuery<BacktestQuery>,
) -> Result<Json<BacktestReport>, ApiError> {
    let (since, until) = (day("since", &q.since)?, day("until", &q.until)?);
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(AppError::Invalid(crate::domain::FieldError::new(
                "until",
                "must be after `since`",
            ))
            .into());
        }
    }
    let candidate = policies::compile_candidate(&state.store, &version)?;
    // A backtest reads the whole log: keep it off the async workers.
    let report = tokio::task::spawn_blocking(move || {
        let evidence = crate::service::retention::evidence_for(
            &candidate,
            &state.store,
            chrono::Utc::now(),
            crate::service::retention::scope(&state, &candidate),
        )?;
        crate::service::backtest::run(&state.store, &candidate, &evidence, since, until)
    })
    .await
    .map_err(|_| ApiError::new(Code::Internal, "the backtest stopped unexpectedly"))?
    .map_err(AppError::from)?;
    Ok(Json(report))
}

/// Query of `GET /v1/policies/{version}/diff`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The stored version to compare with; default the active one of this version's market.
    pub from: Option<String>,
}

/// What changed from one stored version to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyDiff {
    pub from: String,
    pub to: String,
    /// Rules added, removed, moved or changed field by field, then every other setting.
    pub changes: Vec<crate::policy::diff::Change>,
}

/// The changes from version `from` (default: the active one) to this version, each a
/// typed value (`kind`) that a page can put in words.
#[utoipa::path(get, path = "/v1/policies/{version}/diff", tag = "policies",
    params(("version" = String, Path), DiffQuery),
    responses((status = 200, body = PolicyDiff), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn diff(
    State(state): State<AppState>,
    ApiPath(version): ApiPath<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<PolicyDiff>, ApiError> {
    let from = match q.from {
        Some(v) => v,
        None => policy_versions::active_of_market_of(&state, &version)?,
    };
    let changes = policies::diff(&state.store, &from, &version)?;
    Ok(Json(PolicyDiff {
        from,
        to: version,
        changes,
    }))
}

/// The shadow version, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowState {
    /// `id version` of the shadow policy, or null.
    pub shadow: Option<String>,
    /// The market it shadows (each market has its own shadow); absent for the market
    /// `default`, so a deployment of one market reads as before markets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    /// `GET` only, while a version is in shadow: what its run has shown so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<crate::service::shadow::ShadowSummary>,
}

/// Evaluate every live decision under this version too (never affects answers).
#[utoipa::path(post, path = "/v1/policies/{version}/shadow", tag = "policies",
    params(("version" = String, Path)),
    responses((status = 200, body = ShadowState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn set_shadow(
    State(state): State<AppState>,
    ApiPath(version): ApiPath<String>,
) -> Result<Json<ShadowState>, ApiError> {
    let p = crate::service::shadow::set(&state, &version).await?;
    Ok(Json(ShadowState {
        shadow: Some(format!("{} {}", p.id, p.version)),
        market: named(p.market.as_str()),
        results: None,
    }))
}

/// Which version shadows a market's active one.
#[utoipa::path(get, path = "/v1/policies/shadow", tag = "policies", params(MarketQuery),
    responses((status = 200, body = ShadowState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn get_shadow(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MarketQuery>,
) -> Result<Json<ShadowState>, ApiError> {
    let market = shadow_market(&state, q.market.as_deref())?;
    let shadow = state
        .policies
        .shadow(&market)
        .map(|p| format!("{} {}", p.id, p.version));
    let results = match &shadow {
        None => None,
        Some(name) => {
            // Reads every stored shadow result: off the async workers.
            let (store, name) = (state.store.clone(), name.clone());
            Some(
                tokio::task::spawn_blocking(move || crate::service::shadow::summary(&store, &name))
                    .await
                    .map_err(|_| ApiError::new(Code::Internal, "the shadow summary failed"))??,
            )
        }
    };
    Ok(Json(ShadowState {
        shadow,
        market: named(&market),
        results,
    }))
}

/// A market as a shadow answer names it: not at all when it is `default`.
fn named(market: &str) -> Option<String> {
    (market != crate::domain::market::DEFAULT_MARKET).then(|| market.to_string())
}

/// The market a shadow route is about: the named one, or the one a request without
/// `market` decides in. Without any active policy, the market `default` (its shadow can
/// still be read and cleared).
fn shadow_market(state: &AppState, market: Option<&str>) -> Result<String, ApiError> {
    match state.policy_for(market) {
        Ok(p) => Ok(p.market.as_str().to_string()),
        Err(AppError::NoActivePolicy) if market.is_none() => {
            Ok(crate::domain::market::DEFAULT_MARKET.to_string())
        }
        Err(e) => Err(e.into()),
    }
}

/// Stop a market's shadow runs.
#[utoipa::path(delete, path = "/v1/policies/shadow", tag = "policies", params(MarketQuery),
    responses((status = 200, body = ShadowState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn clear_shadow(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MarketQuery>,
) -> Result<Json<ShadowState>, ApiError> {
    let market = shadow_market(&state, q.market.as_deref())?;
    crate::service::shadow::clear(&state, &market).await?;
    Ok(Json(ShadowState {
        shadow: None,
        market: named(&market),
        results: None,
    }))
}

/// Whether the policy folder is watched, how often it was looked at, and what the last
/// reload refused or activated.
#[utoipa::path(get, path = "/v1/policies/watch", tag = "policies",
    responses((status = 200, body = WatchView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn watch_status(State(state): State<AppState>) -> Json<WatchView> {
    Json(state.watch.view())
}
