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
}

impl Application {
    /// Open the store in `data_dir`, load the policies of `policy_dir`, bind `listen`
    /// (port 0 picks a free port; see `local_addr`).
    pub async fn build(listen: &str, data_dir: &Path, policy_dir: &Path) -> anyhow::Result<Self> {
        let store = Store::open(data_dir)?;
        let (policy, report) = policies::bootstrap(&store, policy_dir).map_err(describe)?;
        let state = AppState::new(store, policy.map(Arc::new));
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on `{listen}`: {e}"))?;
        Ok(Application {
            state,
            listener,
            report,
        })
    }

    /// Set the webhook secrets and tolerance (from `serve`'s flags).
    pub fn with_webhooks(mut self, cfg: crate::service::webhooks::WebhookConfig) -> Self {
        self.state.webhooks = Arc::new(cfg);
        self
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
        let router = crate::http::app(self.state);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await?;
        store.flush_blocking()?;
        tracing::info!("store flushed; bye");
        Ok(())
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
        other => anyhow::anyhow!("{other}"),
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
