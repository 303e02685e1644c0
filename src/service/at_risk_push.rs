//! Pushing the at-risk list to an outreach webhook (`serve --at-risk-webhook URL`): every
//! pass computes the list as `GET /v1/customers/at-risk` does (default quiet period, all
//! segments) and POSTs each customer not pushed yet (at most `max_per_pass`, highest
//! value at risk first) as a proactive-ticket payload. A
//! customer is recorded as pushed only after the receiver answered 2xx, so a failed push
//! is retried on the next pass; a customer who leaves the list is forgotten and pushed
//! again if they return.
//!
//! Each request is signed like the webhooks kulanz receives: `X-Kulanz-Signature` is
//! `base64(HMAC-SHA256(secret, X-Kulanz-Timestamp + body))`; `X-Kulanz-Delivery` is a
//! unique id for the receiver to drop retries with.

use super::at_risk::{ranked, AtRiskCustomer, DEFAULT_QUIET_DAYS};
use super::AppState;
use crate::error::AppError;
use crate::store::at_risk_pushes::AtRiskPush;
use crate::store::Command;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashSet;

/// How long one push may take before it counts as failed.
const PUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where and how often to push (from `serve`'s flags).
#[derive(Clone)]
pub struct PushConfig {
    pub url: reqwest::Url,
    pub secret: Option<String>,
    pub interval: std::time::Duration,
    /// Most customers sent per pass, highest value at risk first: switching the push on
    /// over a large store must not open hundreds of tickets at once. The rest follow on
    /// later passes.
    pub max_per_pass: usize,
}

/// `max_per_pass` unless configured.
pub const DEFAULT_MAX_PER_PASS: usize = 50;

impl std::fmt::Debug for PushConfig {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConfig")
            .field("url", &self.url.as_str())
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("interval", &self.interval)
            .field("max_per_pass", &self.max_per_pass)
            .finish()
    }
}

impl PushConfig {
    /// Check the URL: absolute `http://` (this build has no TLS stack: put a TLS-terminating
    /// proxy in front of an `https://` receiver).
    pub fn new(
        url: &str,
        secret: Option<String>,
        interval: std::time::Duration,
    ) -> Result<Self, String> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| format!("--at-risk-webhook `{url}` is not a URL: {e}"))?;
        if url.scheme() != "http" || url.host_str().is_none() {
            return Err(format!(
                "--at-risk-webhook must be an http:// URL with a host (got `{url}`); \
                 for an https:// receiver, send through a TLS-terminating proxy"
            ));
        }
        Ok(PushConfig {
            url,
            secret: secret.filter(|s| !s.is_empty()),
            interval,
            max_per_pass: DEFAULT_MAX_PER_PASS,
        })
    }
}

impl PushConfig {
    /// The longest a pass can take: every push timing out, plus the time to record each
    /// (a log write waits at most a few seconds) and to read the list. In cluster mode a
    /// replica holding the turn longer is taken to have died (cluster/turns.rs).
    pub fn longest_pass(&self) -> std::time::Duration {
        let per_push = PUSH_TIMEOUT + std::time::Duration::from_secs(10);
        let pushes = u32::try_from(self.max_per_pass).unwrap_or(u32::MAX);
        per_push
            .saturating_mul(pushes)
            .saturating_add(std::time::Duration::from_secs(60))
    }

    /// At least one per pass.
    pub fn with_max_per_pass(mut self, n: usize) -> Self {
        self.max_per_pass = n.max(1);
        self
    }
}

/// The ticket a help desk can open from a push.
#[derive(Debug, Clone, Serialize)]
pub struct ProactiveTicket {
    pub subject: String,
    pub description: String,
    /// `high` for a customer in the policy's first segment, else `normal`.
    pub priority: &'static str,
    pub tags: Vec<String>,
    /// Stable per customer and day, for desks that deduplicate on it.
    pub external_id: String,
}

/// What is POSTed for one customer.
#[derive(Debug, Clone, Serialize)]
pub struct PushPayload<'a> {
    pub event: &'static str,
    pub sent_at: String,
    pub customer: &'a AtRiskCustomer,
    pub ticket: ProactiveTicket,
}

/// Why a pass stopped (a failed push is not an error: it is retried next pass).
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("the pass's worker thread stopped: {0}")]
    Worker(String),
}

impl From<crate::store::StoreError> for PassError {
    fn from(e: crate::store::StoreError) -> Self {
        PassError::App(e.into())
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Customers on the list now.
    pub listed: usize,
    pub pushed: usize,
    pub failed: usize,
    pub forgotten: usize,
}

/// Words for the ticket; the amount as the decision API shows it.
pub fn ticket(c: &AtRiskCustomer, top_segment: &str, now: DateTime<Utc>) -> ProactiveTicket {
    let s = &c.suggested;
    // Amounts as agents read them in reasons (`€15,000`), the raw form if it does not parse.
    let shown = |m: &crate::money::MoneyDto| {
        m.parse()
            .map(|m| m.display())
            .unwrap_or_else(|_| format!("{} {}", m.amount, m.currency))
    };
    let mut description = String::from("kulanz lists this customer as at risk of leaving:\n");
    for r in &c.reasons {
        description.push_str(&format!("- {r}\n"));
    }
    description.push_str(&format!(
        "Value at risk: {}.\nSuggested proactive gesture: {} of {}.\nScript: {}",
        shown(&c.value_at_risk),
        s.gesture,
        shown(&s.amount),
        s.agent_script
    ));
    let mut tags = vec!["kulanz".to_string(), "at-risk".to_string()];
    tags.extend(c.signals.iter().map(|s| s.replace('_', "-")));
    ProactiveTicket {
        subject: format!(
            "Proactive contact: customer {} ({} segment) is at risk",
            c.customer_id, c.segment
        ),
        description,
        priority: if c.segment == top_segment {
            "high"
        } else {
            "normal"
        },
        tags,
        external_id: format!(
            "kulanz-at-risk-{}-{}",
            c.customer_id,
            now.format("%Y-%m-%d")
        ),
    }
}

/// `base64(HMAC-SHA256(secret, timestamp + body))`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A listed customer with the top segment of the market that listed them.
type Listed = (AtRiskCustomer, String);

/// The list as the pass sees it, each customer with the top segment of the market they
/// were listed in, and the customers pushed before (blocking store reads). Every market's
/// list, one after the other (with several markets each lists the customers kept in its
/// currency); a customer listed by two markets of one currency is pushed once.
fn snapshot(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<(Vec<Listed>, HashSet<String>), AppError> {
    let markets = state.policies.all_active();
    if markets.is_empty() {
        return Err(AppError::NoActivePolicy);
    }
    let quiet = Duration::days(i64::from(DEFAULT_QUIET_DAYS));
    let mut listed: Vec<Listed> = Vec::new();
    let mut seen = HashSet::new();
    for policy in markets {
        let top = policy
            .segments
            .first()
            .map(|s| s.id.clone())
            .unwrap_or_default();
        for (_, c) in ranked(state, &policy, None, quiet, now)? {
            if seen.insert(c.customer_id.clone()) {
                listed.push((c, top.clone()));
            }
        }
    }
    let pushed = state.store.at_risk_pushed_ids()?.into_iter().collect();
    Ok((listed, pushed))
}

/// One pass: forget who left the list, push who is new on it.
pub async fn push_once(
    state: &AppState,
    cfg: &PushConfig,
    client: &reqwest::Client,
    now: DateTime<Utc>,
) -> Result<PassSummary, PassError> {
    let s = state.clone();
    let (listed, pushed) = tokio::task::spawn_blocking(move || snapshot(&s, now))
        .await
        .map_err(|e| PassError::Worker(e.to_string()))??;
    let mut summary = PassSummary {
        listed: listed.len(),
        ..PassSummary::default()
    };
    let on_list: HashSet<&str> = listed.iter().map(|(c, _)| c.customer_id.as_str()).collect();
    let gone: Vec<String> = pushed
        .iter()
        .filter(|id| !on_list.contains(id.as_str()))
        .cloned()
        .collect();
    if !gone.is_empty() {
        summary.forgotten = gone.len();
        state
            .store
            .apply_durable(Command::ForgetAtRiskPushes { customer_ids: gone })
            .await?;
    }
    let new = listed
        .iter()
        .filter(|(c, _)| !pushed.contains(&c.customer_id));
    for (c, top) in new.take(cfg.max_per_pass) {
        let delivery_id = ulid::Ulid::new().to_string();
        match deliver(cfg, client, c, top, &delivery_id, now).await {
            Ok(()) => {
                crate::metrics::record_at_risk_push(true);
                summary.pushed += 1;
                let push = AtRiskPush {
                    pushed_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    delivery_id,
                    signals: c.signals.iter().map(|s| s.to_string()).collect(),
                };
                state
                    .store
                    .apply_durable(Command::RecordAtRiskPush {
                        customer_id: c.customer_id.clone(),
                        push,
                    })
                    .await?;
            }
            Err(why) => {
                crate::metrics::record_at_risk_push(false);
                summary.failed += 1;
                tracing::warn!(customer_id = %c.customer_id, error = %why, "at-risk push failed; retried next pass");
            }
        }
    }
    Ok(summary)
}

/// POST one customer; `Err` with the reason unless the receiver answered 2xx.
async fn deliver(
    cfg: &PushConfig,
    client: &reqwest::Client,
    c: &AtRiskCustomer,
    top: &str,
    delivery_id: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let payload = PushPayload {
        event: "kulanz.at_risk",
        sent_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        customer: c,
        ticket: ticket(c, top, now),
    };
    let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    let timestamp = Utc::now().timestamp().to_string();
    let mut req = client
        .post(cfg.url.clone())
        .timeout(PUSH_TIMEOUT)
        .header("content-type", "application/json")
        .header("x-kulanz-event", "at_risk")
        .header("x-kulanz-delivery", delivery_id)
        .header("x-kulanz-timestamp", &timestamp);
    if let Some(secret) = &cfg.secret {
        req = req.header("x-kulanz-signature", sign(secret, &timestamp, &body));
    }
    let resp = req.body(body).send().await.map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", resp.status()))
    }
}

/// Push every `cfg.interval` for as long as the server runs (first pass at start).
pub fn spawn(state: AppState, cfg: PushConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            // In cluster mode one replica pushes per interval (cluster/turns.rs): every
            // replica given the webhook would otherwise reach the same customers.
            let turn = match &state.cluster {
                Some(cluster) => match cluster
                    .take_turn("at_risk_push", cfg.interval, cfg.longest_pass())
                    .await
                {
                    Some(turn) => Some((cluster, turn)),
                    None => {
                        tracing::info!("at-risk push pass left to another replica");
                        tokio::time::sleep(cfg.interval).await;
                        continue;
                    }
                },
                None => None,
            };
            let pass = push_once(&state, &cfg, &client, Utc::now()).await;
            if let Some((cluster, turn)) = turn {
                cluster.end_turn(turn).await;
            }
            match pass {
                Ok(s) => tracing::info!(
                    listed = s.listed,
                    pushed = s.pushed,
                    failed = s.failed,
                    forgotten = s.forgotten,
                    "at-risk push pass"
                ),
                Err(e) => tracing::warn!(error = %e, "at-risk push pass failed"),
            }
            tokio::time::sleep(cfg.interval).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        let ok = PushConfig::new("http://desk.local:8080/hook", None, Default::default());
        assert!(ok.is_ok());
        for bad in [
            "https://desk.example/hook",
            "ftp://x/y",
            "desk.local/hook",
            "",
        ] {
            let e = PushConfig::new(bad, None, Default::default()).unwrap_err();
            assert!(e.contains("--at-risk-webhook"), "{e}");
        }
    }

    #[test]
    fn the_signature_is_the_one_kulanz_checks_on_incoming_webhooks() {
        let body = br#"{"event":"kulanz.at_risk"}"#;
        let sig = sign("s3cret", "1700000000", body);
        assert!(
            crate::service::webhooks::verify_signature("s3cret", "1700000000", body, &sig).is_ok()
        );
        assert!(
            crate::service::webhooks::verify_signature("other", "1700000000", body, &sig).is_err()
        );
    }

    #[test]
    fn an_empty_secret_means_unsigned() {
        let cfg = PushConfig::new("http://h/x", Some(String::new()), Default::default()).unwrap();
        assert!(cfg.secret.is_none());
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }
}
