//! The Zendesk app with signed URLs, for the case where one desk integration serves every
//! agent: Zendesk posts a token it signed for the app's iframe to `POST /zendesk/app`;
//! kulanz verifies it (`token`), takes the agent's role from the mapping held on the
//! server (`roles`), and hands the page a short-lived desk session (`session`) whose
//! calls may decide, as that role at most, and nothing else.

pub mod roles;
pub mod session;
pub mod token;

use super::AppState;
use crate::error::AppError;
use crate::error_code::Code;
use crate::store::keys::{ApiKeyRecord, Scope};
use chrono::{DateTime, SecondsFormat, Utc};
use roles::DeskRoles;
use session::{SessionError, SessionKey};
use std::sync::Arc;
use token::{TokenError, ZafVerifier};

/// Where Zendesk serves its ZAF SDK, which the app's page loads.
pub const DEFAULT_SDK_URL: &str =
    "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js";
/// How long a desk session lasts unless `serve` says otherwise: a working day.
pub const DEFAULT_SESSION_HOURS: u64 = 8;

/// The Zendesk app's settings, fixed at start; `None` in `AppState` switches the route off.
#[derive(Debug)]
pub struct ZendeskApp {
    verifier: ZafVerifier,
    roles: DeskRoles,
    sessions: SessionKey,
    session_secs: i64,
    /// Where the page loads the ZAF SDK from: Zendesk's host, or a stand-in in tests.
    pub sdk_url: String,
}

impl ZendeskApp {
    /// Verify tokens with `verifier`, map users with `roles`, and let sessions last
    /// `session_hours` (at least one).
    pub fn new(verifier: ZafVerifier, roles: DeskRoles, session_hours: u64) -> Self {
        let hours = i64::try_from(session_hours.clamp(1, 24 * 366)).unwrap_or(1);
        ZendeskApp {
            verifier,
            roles,
            sessions: SessionKey::generate(),
            session_secs: hours * 3600,
            sdk_url: DEFAULT_SDK_URL.to_string(),
        }
    }

    /// Sign desk sessions with `key` (cluster mode: the key every replica shares).
    pub fn with_session_key(mut self, key: [u8; 32]) -> Self {
        self.sessions = SessionKey::from_bytes(key);
        self
    }

    /// Load the ZAF SDK from `url` instead of Zendesk's host (a mirror, or a test's stand-in).
    pub fn with_sdk_url(mut self, url: impl Into<String>) -> Self {
        self.sdk_url = url.into();
        self
    }

    /// The roles the mapping names that `policy_roles` lacks (a user mapped to one is
    /// refused until the policy has it).
    pub fn unknown_roles(&self, policy_roles: &[String]) -> Vec<String> {
        self.roles
            .roles()
            .into_iter()
            .filter(|r| !policy_roles.iter().any(|p| p == r))
            .map(str::to_string)
            .collect()
    }
}

/// Why the app's page or a desk session was refused.
#[derive(Debug, thiserror::Error)]
pub enum ZendeskAppError {
    #[error("the Zendesk app is not configured on this server (`kulanz serve --zendesk-app-public-key`)")]
    NotConfigured,
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    App(#[from] AppError),
}

/// A verified agent and the session made for them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The desk session's secret (`kzs_...`).
    pub session: String,
    pub user_id: String,
    /// The role the server maps the user to.
    pub role: String,
    pub expires_at: DateTime<Utc>,
}

/// Verify the token Zendesk posted with the iframe's first load and make a session for
/// its user, in the role the server maps them to (a role of the active policy).
pub fn sign_in(
    state: &AppState,
    token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SignedIn, ZendeskAppError> {
    let app = state
        .zendesk_app
        .as_deref()
        .ok_or(ZendeskAppError::NotConfigured)?;
    let token = token.filter(|t| !t.is_empty()).ok_or(TokenError::Missing)?;
    let user = app.verifier.verify(token)?;
    let role = app.roles.role_for(&user.user_id);
    // A desk session decides in any market: the role must be one of some market's.
    let policy = state.main_policy().ok_or(AppError::NoActivePolicy)?;
    let known = |p: &crate::policy::CompiledPolicy| p.roles.iter().any(|r| r == role);
    if !state.policies.all_active().iter().any(|p| known(p)) {
        return Err(AppError::Forbidden {
            code: Code::RoleNotAllowed,
            message: format!(
                "the server's Zendesk roles file maps user `{}` to `{role}`, which is not a role of the active policy ({})",
                user.user_id,
                policy.roles.join(", ")
            ),
        }
        .into());
    }
    let expires = now.timestamp().saturating_add(app.session_secs);
    Ok(SignedIn {
        session: app.sessions.issue(&user.user_id, expires),
        role: role.to_string(),
        expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(now),
        user_id: user.user_id,
    })
}

/// The caller a desk session stands for: named `zendesk:<user id>`, scope `decide` only,
/// and bound to the role the server maps the user to now.
pub fn caller(
    state: &AppState,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Arc<ApiKeyRecord>, ZendeskAppError> {
    let app = state.zendesk_app.as_deref().ok_or(SessionError::Unknown)?;
    let s = app.sessions.verify(secret, now.timestamp())?;
    let issued = DateTime::from_timestamp(s.expires_at - app.session_secs, 0).unwrap_or(now);
    Ok(Arc::new(ApiKeyRecord {
        max_role: Some(app.roles.role_for(&s.user_id).to_string()),
        name: format!("zendesk:{}", s.user_id),
        scopes: vec![Scope::Decide],
        created_at: issued.to_rfc3339_opts(SecondsFormat::Secs, true),
    }))
}
