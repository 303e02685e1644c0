//! Signed webhooks from help desks: verify the signature and its age, drop retries,
//! turn the payload into a decision request, decide, and remember the delivery.
//!
//! Both routes use one scheme: `base64(HMAC-SHA256(secret, timestamp + body))`, the one
//! Zendesk documents; the generic route also takes `sha256=<hex>` for desks whose tooling
//! prefers hex. Payload mapping lives in `webhook_payload`.

use super::AppState;
use crate::domain::request::DecisionRequestDto;
use crate::error::AppError;
use crate::store::webhooks::Delivery;
use crate::store::Command;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Default accepted clock difference between the signed timestamp and now.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
/// How long a handled delivery is remembered; longer than any desk's retry schedule.
pub const DEDUP_TTL_SECS: i64 = 24 * 3600;

/// Webhook settings, from `serve` flags or the environment. A route whose secret is unset
/// is switched off (answers `webhook_not_configured`).
#[derive(Clone, Default)]
pub struct WebhookConfig {
    pub zendesk_secret: Option<String>,
    pub generic_secret: Option<String>,
    pub tolerance_secs: u64,
    /// The highest agent role a delivery of each desk may claim: the webhook's secret
    /// is one identity for every agent of the desk, so it is bound like a key.
    pub zendesk_max_role: Option<String>,
    pub generic_max_role: Option<String>,
    /// Failed signatures per peer, shared by both routes.
    pub failures: std::sync::Arc<super::webhook_failures::SignatureFailures>,
}

impl WebhookConfig {
    fn max_role(&self, source: Source) -> Option<&str> {
        match source {
            Source::Zendesk => self.zendesk_max_role.as_deref(),
            Source::Generic => self.generic_max_role.as_deref(),
        }
    }
}

// Secrets must never reach a log line, so Debug says only whether they are set.
impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field(
                "zendesk_secret",
                &self.zendesk_secret.as_ref().map(|_| "set"),
            )
            .field(
                "generic_secret",
                &self.generic_secret.as_ref().map(|_| "set"),
            )
            .field("tolerance_secs", &self.tolerance_secs)
            .field("zendesk_max_role", &self.zendesk_max_role)
            .field("generic_max_role", &self.generic_max_role)
            .finish()
    }
}

/// Which desk a delivery comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Zendesk,
    Generic,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Zendesk => "zendesk",
            Source::Generic => "generic",
        }
    }
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the {0} webhook is not configured on this server")]
    NotConfigured(&'static str),
    #[error("{0}")]
    BadSignature(&'static str),
    #[error("the signature timestamp is {0} s away from the server clock (more than {1} s)")]
    Stale(i64, u64),
    #[error(transparent)]
    App(#[from] AppError),
}

/// The signed parts of a delivery, as read from its headers.
pub struct Signed<'a> {
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// The desk's own delivery id, when it sends one (stable across retries).
    pub delivery_id: Option<&'a str>,
    pub body: &'a [u8],
}

/// What handling a delivery did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Receipt {
    /// `decided`, or `duplicate` when this delivery was handled before.
    pub status: &'static str,
    pub decision_id: String,
    pub ticket_id: String,
}

/// Check `signature` against `timestamp + body` in constant time; returns the MAC's
/// bytes, the delivery's identity whatever encoding carried them.
pub fn verify_signature(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Result<Vec<u8>, WebhookError> {
    let signature = signature.trim();
    let expected = match signature
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256="))
        .and_then(|_| signature.get(7..))
    {
        Some(hex_sig) => hex::decode(hex_sig),
        None => base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|_| hex::FromHexError::OddLength),
    }
    .map_err(|_| WebhookError::BadSignature("the signature is not base64 or `sha256=<hex>`"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| WebhookError::BadSignature("the signature does not match"))?;
    mac.update(timestamp.as_bytes());
    mac.update(body);
    // `verify_slice` compares in constant time, so timing reveals nothing of the MAC.
    mac.verify_slice(&expected)
        .map_err(|_| WebhookError::BadSignature("the signature does not match"))?;
    Ok(expected)
}

/// Parse an RFC 3339 timestamp (Zendesk's form) or unix seconds.
pub fn parse_timestamp(ts: &str) -> Option<DateTime<Utc>> {
    let ts = ts.trim();
    if let Ok(secs) = ts.parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A delivery whose signature and age held: what it was signed with identifies it.
pub struct Authentic {
    /// The decoded MAC: the same bytes for a replay, in whatever encoding it is re-sent.
    mac: Vec<u8>,
}

/// Verify a delivery's signature and age against the source's secret.
pub fn authenticate(
    cfg: &WebhookConfig,
    source: Source,
    signed: &Signed<'_>,
    now: DateTime<Utc>,
) -> Result<Authentic, WebhookError> {
    // An unsigned request is refused as unsigned whether or not a secret is set: the
    // headers are required on every delivery, and the answer then does not depend on the
    // server's configuration.
    let (Some(ts), Some(sig)) = (signed.timestamp, signed.signature) else {
        return Err(WebhookError::BadSignature(
            "the signature or its timestamp header is missing",
        ));
    };
    let secret = match source {
        Source::Zendesk => cfg.zendesk_secret.as_deref(),
        Source::Generic => cfg.generic_secret.as_deref(),
    }
    .filter(|s| !s.is_empty())
    .ok_or(WebhookError::NotConfigured(source.as_str()))?;
    let mac = verify_signature(secret, ts, signed.body, sig)?;
    // Checked after the MAC, so an unsigned caller learns nothing about the clock.
    let at = parse_timestamp(ts).ok_or(WebhookError::BadSignature(
        "the signature timestamp is neither RFC 3339 nor unix seconds",
    ))?;
    let skew = (now - at).num_seconds().abs();
    if skew > i64::try_from(cfg.tolerance_secs).unwrap_or(i64::MAX) {
        return Err(WebhookError::Stale(skew, cfg.tolerance_secs));
    }
    Ok(Authentic { mac })
}

/// The keys a delivery is remembered under, hashed so the tree holds neither.
///
/// The first is what was signed: the decoded MAC, which covers the timestamp and the
/// body, so a replay is known however its signature is encoded and whatever unsigned
/// headers it carries. The second, when the desk sends one, is its delivery id, so a
/// retry the desk signs again (new timestamp) is still known; an unsigned id can only
/// make a delivery known, never make a known one new.
pub fn dedup_keys(source: Source, signed: &Signed<'_>, auth: &Authentic) -> Vec<String> {
    let key = |kind: &str, raw: &[u8]| {
        format!(
            "{}:{kind}:{}",
            source.as_str(),
            hex::encode(Sha256::digest(raw))
        )
    };
    let mut keys = vec![key("mac", &auth.mac)];
    if let Some(id) = signed.delivery_id.map(str::trim).filter(|s| !s.is_empty()) {
        keys.push(key("id", id.as_bytes()));
    }
    keys
}

/// Handle an authenticated delivery: a retry gets the first delivery's decision; a new
/// one is decided, stored (indexed by ticket) and remembered.
pub async fn handle(
    state: &AppState,
    source: Source,
    signed: &Signed<'_>,
    auth: &Authentic,
    request: DecisionRequestDto,
    now: DateTime<Utc>,
) -> Result<Receipt, WebhookError> {
    let keys = dedup_keys(source, signed, auth);
    for key in &keys {
        if let Some(d) = state
            .store
            .delivery(key, now.timestamp())
            .map_err(AppError::from)?
        {
            return Ok(duplicate(d));
        }
    }
    let max_role = state.webhooks.max_role(source);
    let decision = super::decisions::decide(state, request, max_role, now).await?;
    let delivery = Delivery {
        decision_id: decision.decision_id.clone(),
        ticket_id: decision.ticket_id.clone(),
        expires_at: now.timestamp() + DEDUP_TTL_SECS,
    };
    // The MAC's key first: it decides a race between two copies of one delivery.
    for (i, key) in keys.iter().enumerate() {
        let cmd = Command::RecordDelivery {
            key: key.clone(),
            delivery: delivery.clone(),
            now: now.timestamp(),
        };
        let applied = state
            .store
            .apply_durable(cmd)
            .await
            .map_err(AppError::from)?;
        if i == 0 && applied == crate::store::command::Applied::Unchanged {
            // A concurrent copy won the race; answer with its decision so both agree.
            if let Some(d) = state
                .store
                .delivery(key, now.timestamp())
                .map_err(AppError::from)?
            {
                return Ok(duplicate(d));
            }
        }
    }
    tracing::info!(source = source.as_str(), "webhook decided");
    Ok(Receipt {
        status: "decided",
        decision_id: delivery.decision_id,
        ticket_id: delivery.ticket_id,
    })
}

fn duplicate(d: Delivery) -> Receipt {
    Receipt {
        status: "duplicate",
        decision_id: d.decision_id,
        ticket_id: d.ticket_id,
    }
}
