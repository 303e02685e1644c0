//! Building and running the service: open the store, load policies, bind, serve, and
//! flush the store on shutdown.

use crate::error::AppError;
use crate::service::{policies, AppState};
use crate::store::Store;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A built application, bound to a port but not yet serving.
pub struct Application {
    pub state: AppState,
    listener: TcpListener,
    pub report: policies::Bootstrap,
    /// Background tasks holding the store; stopped when serving stops, so the store closes.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    limits: crate::connections::ConnectionLimits,
}

impl Application {
    /// Open the store in `data_dir` (compacting it first when erasures are waiting), load
    /// the policies of `policy_dir`, bind `listen` (port 0 picks a free port; see
    /// `local_addr`).
    pub async fn build(listen: &str, data_dir: &Path, policy_dir: &Path) -> anyhow::Result<Self> {
        Self::build_with(listen, data_dir, policy_dir, true).await
    }

    /// `build`; `compact_on_start` false leaves erased records in sled's files until a
    /// later start or `kulanz store compact` (`serve --compact-on-start false`).
    pub async fn build_with(
        listen: &str,
        data_dir: &Path,
        policy_dir: &Path,
        compact_on_start: bool,
    ) -> anyhow::Result<Self> {
        Self::build_clustered(listen, data_dir, policy_dir, compact_on_start, None).await
    }

    /// `build_with`, as a replica of `cluster` when given (docs/cluster.md): the store
    /// first applies the cluster's log until it has caught up, and from then on every
    /// write, the policies loaded here included, goes through the log.
    pub async fn build_clustered(
        listen: &str,
        data_dir: &Path,
        policy_dir: &Path,
        compact_on_start: bool,
        cluster: Option<crate::cluster::ClusterConfig>,
    ) -> anyhow::Result<Self> {
        let mut store = open_store(data_dir, compact_on_start)?;
        let cluster = match cluster {
            Some(cfg) => {
                let c = crate::cluster::Cluster::start(cfg, &store).await?;
                store = store.with_replicator(c.clone());
                Some(c)
            }
            None => None,
        };
        let (active, mut report) = policies::bootstrap(&store, policy_dir).map_err(describe)?;
        let mut state = AppState::new(store, active.into_iter().map(Arc::new));
        if let Some(c) = cluster {
            state.configure().cluster = Some(c.clone());
            crate::service::cluster_follow::follow(&state, &c);
        }
        restore_shadow(&state, &mut report);
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on `{listen}`: {e}"))?;
        Ok(Application {
            state,
            listener,
            report,
            tasks: Vec::new(),
            limits: crate::connections::ConnectionLimits::default(),
        })
    }

    /// Choose when writes are acknowledged (default: strict, flushed first).
    pub fn with_durability(mut self, durability: crate::store::Durability) -> Self {
        let store = self.state.store.clone().with_durability(durability);
        self.state.configure().store = store;
        self
    }

    /// Limit each API key to `per_second` requests (burst `burst`); 0 turns the limit off.
    pub fn with_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.state.configure().rate_limit =
            crate::service::rate_limit::RateLimit::new(per_second, burst);
        self
    }

    /// How many connections are served at once and how long a client may take to send
    /// a request's headers. The connection limit is kept below the open-file limit.
    pub fn with_connection_limits(mut self, limits: crate::connections::ConnectionLimits) -> Self {
        let (limits, lowered) = limits.within_open_files();
        if lowered {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit lowered below the open-file limit (ulimit -n)"
            );
        }
        self.limits = limits;
        self
    }

    /// The longest a request may take (bulk import and backtest are exempt).
    pub fn with_request_timeout(mut self, limit: std::time::Duration) -> Self {
        self.state.configure().request_timeout = limit;
        self
    }

    /// How long an `Idempotency-Key` is remembered.
    pub fn with_idempotency_window(mut self, window: std::time::Duration) -> Self {
        self.state.configure().idempotency_window_ms =
            i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// Reload the policy folder when it changes (`serve --watch-policies`).
    pub fn watch_policies(&mut self, dir: &Path, interval: std::time::Duration) {
        self.tasks.push(tokio::spawn(crate::service::watch::watch(
            self.state.clone(),
            dir.to_path_buf(),
            interval,
        )));
    }

    /// Set the webhook secrets and tolerance (from `serve`'s flags).
    pub fn with_webhooks(mut self, cfg: crate::service::webhooks::WebhookConfig) -> Self {
        self.state.configure().webhooks = Arc::new(cfg);
        self
    }

    /// Serve the Zendesk app's signed page and accept its desk sessions (`serve
    /// --zendesk-app-public-key`).
    pub fn with_zendesk_app(mut self, app: crate::service::zendesk_app::ZendeskApp) -> Self {
        self.state.configure().zendesk_app = Some(Arc::new(app));
        self
    }

    /// Push new at-risk customers to an outreach webhook (`serve --at-risk-webhook`).
    pub fn push_at_risk(&mut self, cfg: crate::service::at_risk_push::PushConfig) {
        self.tasks
            .push(crate::service::at_risk_push::spawn(self.state.clone(), cfg));
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` completes, then let requests in flight finish and flush.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let mut tasks = self.tasks;
        tasks.push(tokio::spawn(expire_idempotency_keys(store.clone())));
        tasks.push(crate::service::retention::spawn_refresher(
            self.state.clone(),
        ));
        let router = crate::http::app(self.state);
        crate::connections::serve(self.listener, router, self.limits, shutdown).await;
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
        store.flush_blocking()?;
        tracing::info!("store flushed; bye");
        Ok(())
    }
}

/// Open the store; when erasures happened since the last compaction, compact it first
/// (store/compact): sled keeps erased values in its files until then, and the store can
/// only be compacted while nothing has it open.
fn open_store(data_dir: &Path, compact: bool) -> anyhow::Result<Store> {
    let store = Store::open(data_dir)?;
    let pending = store.erasures_pending()?;
    if pending == 0 {
        return Ok(store);
    }
    if !compact {
        tracing::warn!(
            erasures = pending,
            "erased records stay in the store's files until it is compacted \
             (kulanz store compact, or a start with --compact-on-start true)"
        );
        return Ok(store);
    }
    drop(store);
    let c = crate::store::compact::compact(data_dir)?;
    tracing::info!(
        erasures = c.erasures,
        entries = c.entries,
        bytes_before = c.bytes_before,
        bytes_after = c.bytes_after,
        millis = c.millis,
        "store compacted: erased records are gone from its files"
    );
    Ok(Store::open(data_dir)?)
}

/// Resume each market's shadow runs of the version recorded in the store, if it still
/// compiles.
fn restore_shadow(state: &AppState, report: &mut policies::Bootstrap) {
    let Ok(versions) = state.store.shadow_versions() else {
        return;
    };
    for (market, version) in versions {
        match policies::compile_candidate(&state.store, &version) {
            Ok(p) => state.policies.set_shadow(&market, Some(Arc::new(p))),
            Err(e) => report
                .refused
                .push(format!("shadow version {version} no longer loads: {e}")),
        }
    }
}

fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::PolicyInvalid(problems) => anyhow::anyhow!(
            "policy invalid:\n{}",
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        // At start the operator reads this, not a caller: say what failed.
        AppError::Store(inner) => anyhow::anyhow!("storage failure: {inner}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Drop expired idempotency records every ten minutes (claims also ignore them).
async fn expire_idempotency_keys(store: Store) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        match store.idempotency_expire(chrono::Utc::now().timestamp_millis()) {
            Ok(n) if n > 0 => tracing::debug!(removed = n, "expired idempotency keys"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiring idempotency keys failed"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}
