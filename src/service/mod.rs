//! The service layer: what each request does, between the thin HTTP handlers and the pure
//! engine and the store. The CLI calls the same functions.

pub mod approvals;
pub mod at_risk;
pub mod at_risk_push;
pub mod backtest;
pub mod cluster_follow;
pub mod customers;
pub mod decisions;
pub mod effective_customer;
pub mod idempotency;
pub mod import;
pub mod integrity;
pub mod keys;
pub mod ledger;
pub mod ledger_guard;
pub mod markets;
pub mod ndjson_lines;
pub mod nps;
pub mod order_history;
pub mod order_ids;
pub mod order_parse;
pub mod orders;
pub mod policies;
pub mod policy_versions;
pub mod rate_limit;
pub mod report;
pub mod report_decisions;
pub mod report_retention;
pub mod report_row;
pub mod retention;
pub mod shadow;
pub mod stored;
pub mod value;
pub mod value_charts;
pub mod value_validate;
pub mod watch;
pub mod webhook_failures;
pub mod webhook_payload;
pub mod webhooks;
pub mod zendesk_app;

use crate::error::AppError;
use crate::policy::CompiledPolicy;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Shared state of the running service; cloned into every handler and middleware, so a
/// clone is one reference count (it derefs to [`Shared`]).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    /// sled handles are internally reference-counted and thread-safe; no lock needed.
    pub store: Store,
    /// The active policy of each market, and each market's shadow candidate (one that
    /// evaluates every live decision of its market beside the active one, never
    /// answering). Swapped atomically on activation (service/markets.rs says how); each
    /// request keeps the version it loaded for its whole evaluation.
    pub policies: Arc<markets::MarketPolicies>,
    /// Versions that passed every check in this process, by version, so activating one
    /// is a pointer swap. A std mutex: held only for a map lookup, never across `.await`.
    pub verified: Arc<Mutex<HashMap<String, Arc<CompiledPolicy>>>>,
    /// How long an `Idempotency-Key` is remembered, in milliseconds.
    pub idempotency_window_ms: i64,
    /// Requests per second per API key (`None`: unlimited). The limiter's state is a
    /// concurrent map (dashmap) with atomic cells: no lock around the whole table.
    pub rate_limit: Option<Arc<rate_limit::RateLimit>>,
    /// Longest a request may take (bulk import and backtest are exempt).
    pub request_timeout: std::time::Duration,
    /// Webhook secrets and tolerance; fixed at start, so a plain `Arc` (no lock) is enough.
    pub webhooks: Arc<webhooks::WebhookConfig>,
    /// Retention evidence for the expected-value ranking (service/retention.rs).
    pub retention: Arc<retention::RetentionCache>,
    /// What the policy-folder watcher did (service/watch.rs).
    pub watch: Arc<watch::WatchStatus>,
    /// The Zendesk app's token check, role mapping and session key; fixed at start, so
    /// a plain `Arc`. `None`: `POST /zendesk/app` is off and no desk session verifies.
    pub zendesk_app: Option<Arc<zendesk_app::ZendeskApp>>,
    /// Cluster mode: the replicated log this replica writes through and applies
    /// (src/cluster); `None` on a single node. Fixed at start.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl AppState {
    /// A state with these active policies, at most one per market (`Some(policy)` for a
    /// deployment of one market).
    pub fn new(store: Store, policies: impl IntoIterator<Item = Arc<CompiledPolicy>>) -> Self {
        let policies: Vec<Arc<CompiledPolicy>> = policies.into_iter().collect();
        let verified = policies
            .iter()
            .map(|p| (p.version.clone(), p.clone()))
            .collect();
        AppState(Arc::new(Shared {
            store,
            policies: Arc::new(markets::MarketPolicies::new(policies)),
            verified: Arc::new(Mutex::new(verified)),
            idempotency_window_ms: 24 * 3600 * 1000,
            rate_limit: None,
            request_timeout: std::time::Duration::from_secs(30),
            webhooks: Arc::new(webhooks::WebhookConfig {
                tolerance_secs: webhooks::DEFAULT_TOLERANCE_SECS,
                ..Default::default()
            }),
            retention: Arc::new(retention::RetentionCache::default()),
            watch: Arc::new(watch::WatchStatus::default()),
            zendesk_app: None,
            cluster: None,
        }))
    }

    /// Change settings while building the service (`startup::Application`): before any
    /// clone is handed out, so nothing is copied; a state already shared is copied, and
    /// the other holders keep the old settings.
    pub fn configure(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// The active policy of the market a request without `market` is decided in (the
    /// market `default`, else the only market), or `no_active_policy`.
    pub fn active_policy(&self) -> Result<Arc<CompiledPolicy>, AppError> {
        self.policies.choose(None)
    }

    /// The policy of the market a request without `market` decides in, else (several
    /// markets, none `default`) the first market's; `None` when no policy is active.
    /// For what needs one policy whatever the market: readiness, the retention window.
    pub fn main_policy(&self) -> Option<Arc<CompiledPolicy>> {
        self.active_policy()
            .ok()
            .or_else(|| self.policies.all_active().into_iter().next())
    }

    /// The active policy of `market` (`None`: as [`AppState::active_policy`]); an unknown
    /// market is a 422 naming `market` and the known ones.
    pub fn policy_for(&self, market: Option<&str>) -> Result<Arc<CompiledPolicy>, AppError> {
        self.policies.choose(market)
    }
}
