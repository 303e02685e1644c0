//! Cluster mode (docs/cluster.md): several replicas share one replicated log, a NATS
//! JetStream stream. Every write (a `store::Command`) is appended to the stream and
//! acknowledged by a quorum of NATS nodes; every replica, the writer included, applies the
//! stream in order to its local store, so sled is a cache of the log that any replica can
//! rebuild. A write answers only once it is in the log *and* applied on the replica that
//! took it, so a client reading back from that replica sees it.

mod append;
mod applier;
pub mod config;
mod entry;
pub mod position;
mod replicator;
mod secrets;
mod snapshot;
mod stream;
mod turns;

pub use append::append;
pub use config::ClusterConfig;

use crate::store::Store;
use applier::Progress;
use std::sync::Arc;
use std::time::Duration;

/// How long a write waits for the log's acknowledgement, and then for its local apply.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a read may wait for this replica to reach a position (`Kulanz-After`).
pub const READ_WAIT: Duration = Duration::from_secs(2);

/// A connected replica: its log, and how far it has applied it.
pub struct Cluster {
    cfg: ClusterConfig,
    js: async_nats::jetstream::Context,
    client: async_nats::Client,
    progress: Arc<Progress>,
    snapshots: Arc<snapshot::Snapshots>,
}

impl Cluster {
    /// Connect to NATS, create or check the stream, adopt the cluster's pseudonym key and
    /// apply the log to `store` until this replica has caught up with it. A stream weaker
    /// than configured (fewer replicas, memory storage) stops the start.
    pub async fn start(cfg: ClusterConfig, store: &Store) -> anyhow::Result<Arc<Cluster>> {
        let client = cfg.connect().await?;
        let js = async_nats::jetstream::ContextBuilder::new()
            .timeout(WRITE_TIMEOUT)
            .backpressure_on_inflight(true)
            .build(client.clone());
        let replicas = stream::ensure(&js, &cfg).await?;
        tracing::info!(
            stream = %cfg.stream_name(),
            replicas,
            replica_id = %cfg.replica_id,
            "cluster log ready"
        );
        // First: a directory holding a single node's data is refused with the clearer reason.
        store.mark_replica(&cfg.name)?;
        let snapshots = snapshot::Snapshots::open(&js, &cfg, replicas).await?;
        if snapshots.restore_if_needed(store).await?.is_some() {
            store.mark_replica(&cfg.name)?;
        }
        secrets::adopt_pseudonym_key(&js, &cfg, store).await?;
        let progress = Arc::new(Progress::new(store.cluster_applied()?));
        let cluster = Arc::new(Cluster {
            cfg,
            js,
            client,
            progress,
            snapshots,
        });
        applier::spawn(cluster.clone(), store.local());
        cluster.wait_caught_up_at_start().await?;
        Ok(cluster)
    }

    /// Block the start until the replica has applied the log as it was when it started:
    /// answering from a replica that has not would answer from the past.
    async fn wait_caught_up_at_start(&self) -> anyhow::Result<()> {
        let target = self.last_sequence().await?;
        let started = std::time::Instant::now();
        let mut logged = started;
        loop {
            let applied = self.progress.applied();
            if applied >= target {
                tracing::info!(
                    applied,
                    millis = started.elapsed().as_millis() as u64,
                    "replica caught up with the log"
                );
                return Ok(());
            }
            if logged.elapsed() > Duration::from_secs(5) {
                tracing::info!(applied, target, "catching up with the log");
                logged = std::time::Instant::now();
            }
            self.progress
                .wait_for(target, Duration::from_millis(500))
                .await;
        }
    }

    /// The log's last sequence now (what a replica must apply to be caught up).
    async fn last_sequence(&self) -> anyhow::Result<u64> {
        let stream = self.js.get_stream(self.cfg.stream_name()).await?;
        Ok(stream.get_info().await?.state.last_sequence)
    }

    /// How far this replica has applied the log.
    pub fn applied(&self) -> u64 {
        self.progress.applied()
    }

    /// Wait until this replica has applied `position`, at most `limit`; whether it has.
    pub async fn wait_for(&self, position: u64, limit: Duration) -> bool {
        self.progress.wait_for(position, limit).await
    }

    /// Entries the log holds that this replica has not applied, and the age in seconds of
    /// the oldest of them (0 when caught up): the lag in `/readyz` and `/metrics`.
    pub fn lag(&self) -> (u64, f64) {
        self.progress.lag()
    }

    /// The cluster's secret `name`, the same on every replica (cluster/secrets.rs).
    pub async fn shared_secret(&self, name: &str) -> anyhow::Result<[u8; 32]> {
        secrets::shared_secret(&self.js, &self.cfg, name).await
    }

    /// Whether the replica is connected to NATS and caught up enough to answer.
    pub fn is_ready(&self) -> bool {
        let connected = self.client.connection_state() == async_nats::connection::State::Connected;
        connected && self.progress.lag().0 < applier::CATCHING_UP
    }

    /// This replica's id and the cluster's name, for `/readyz`.
    pub fn config(&self) -> &ClusterConfig {
        &self.cfg
    }

    /// Called with each command a replica applies that changes what the service keeps in
    /// memory (the active policy, the shadow): set once by the service at start.
    pub fn on_applied(&self, hook: applier::Hook) {
        self.progress.set_hook(hook);
    }
}

pub use applier::{Changed, Hook};
