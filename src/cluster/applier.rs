//! The applier: reads the log in order, from the entry after the last one applied, and
//! applies each entry to the local store with `Store::apply_local`, exactly as every other
//! replica does. It answers the writer waiting on this replica (by the entry's message id)
//! with what applying returned, and a checkpoint task records, every quarter second, how
//! far the store is durably applied: a restart goes on from there, and the few entries it
//! may apply again are harmless (see `checkpoints`).

use super::entry;
use super::Cluster;
use crate::store::{Applied, Command, Store, StoreError};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Entries behind the log's end from which a replica counts as catching up rather than
/// live (`Cluster::is_ready` uses the same bound).
pub(super) const CATCHING_UP: u64 = 1_000;

/// What a writer waits for: the result of applying its entry here.
pub type Reply = oneshot::Sender<Result<Applied, StoreError>>;

/// What an applied entry changed that the service keeps in memory.
#[derive(Debug, Clone)]
pub enum Changed {
    /// This version became active.
    Policy(String),
    /// Shadow runs of a market now use this version (its market is the version's), or
    /// none in this market (`None`: the market `default`).
    Shadow {
        version: Option<String>,
        market: Option<String>,
    },
    /// An outcome was recorded (the retention evidence is stale).
    Outcome,
}

/// Told of each `Changed` (set by the service at start).
pub type Hook = Box<dyn Fn(Changed) + Send + Sync>;

/// How far this replica has applied the log, and who waits for what.
pub struct Progress {
    applied: watch::Sender<u64>,
    /// Entries not yet applied and the publish time (unix seconds) of the last applied.
    /// A std mutex: held for a copy, never across `.await`.
    lag: Mutex<(u64, f64)>,
    /// Writers on this replica by their entry's message id. A std mutex: held for a map
    /// insert or remove.
    waiters: Mutex<HashMap<String, Reply>>,
    hook: OnceLock<Hook>,
}

impl Progress {
    pub fn new(applied: u64) -> Progress {
        Progress {
            applied: watch::Sender::new(applied),
            lag: Mutex::new((0, 0.0)),
            waiters: Mutex::new(HashMap::new()),
            hook: OnceLock::new(),
        }
    }

    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Wait until `position` is applied, at most `limit`; whether it is.
    pub async fn wait_for(&self, position: u64, limit: Duration) -> bool {
        let mut rx = self.applied.subscribe();
        let reached = tokio::time::timeout(limit, rx.wait_for(|a| *a >= position)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Entries behind, and seconds since the last applied entry was written when behind.
    pub fn lag(&self) -> (u64, f64) {
        let (pending, published) = self.lag.lock().map(|l| *l).unwrap_or((0, 0.0));
        if pending == 0 {
            return (0, 0.0);
        }
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        (pending, (now - published).max(0.0))
    }

    /// Expect the entry `msg_id`: its result goes to `reply`.
    pub fn register(&self, msg_id: String, reply: Reply) {
        if let Ok(mut w) = self.waiters.lock() {
            w.insert(msg_id, reply);
        }
    }

    /// Stop expecting `msg_id` (its publish failed or its writer gave up).
    pub fn forget(&self, msg_id: &str) {
        if let Ok(mut w) = self.waiters.lock() {
            w.remove(msg_id);
        }
    }

    pub fn set_hook(&self, hook: Hook) {
        let _ = self.hook.set(hook);
    }

    fn done(&self, seq: u64, msg_id: Option<&str>, result: Result<Applied, StoreError>) {
        self.applied.send_replace(seq);
        let waiter = msg_id.and_then(|id| self.waiters.lock().ok()?.remove(id));
        tracing::trace!(seq, ?msg_id, waiter = waiter.is_some(), "log entry applied");
        match waiter {
            Some(reply) => {
                let _ = reply.send(result);
            }
            None => {
                if let Err(e) = result {
                    // Another replica's entry, refused here as there: the same result on
                    // every replica, nothing diverges. Logged for the operator.
                    tracing::debug!(seq, error = %e, "log entry applied as a refusal");
                }
            }
        }
    }
}

/// Start applying the log to `store` (and checkpointing it) in the background.
pub fn spawn(cluster: Arc<Cluster>, store: Store) {
    tokio::spawn(checkpoints(cluster.clone(), store.clone()));
    tokio::spawn(async move {
        loop {
            match run(&cluster, &store).await {
                Ok(()) => tracing::warn!("the log's consumer ended; starting another"),
                Err(Halt::Retry(e)) => {
                    tracing::warn!(error = %e, applied = cluster.applied(), "reading the log failed; retrying")
                }
                Err(Halt::Stop(e)) => {
                    // An entry this version cannot read: applying past it would diverge
                    // from the replicas that can. Stop; /readyz says not ready.
                    tracing::error!(error = %e, applied = cluster.applied(), "cannot apply the log; this replica stops applying (upgrade it)");
                    cluster.progress.halt();
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
}

enum Halt {
    Retry(String),
    Stop(String),
}

impl Progress {
    fn halt(&self) {
        if let Ok(mut l) = self.lag.lock() {
            *l = (u64::MAX, 0.0);
        }
    }
}

/// Read the log from the first entry not applied, and apply each.
async fn run(cluster: &Cluster, store: &Store) -> Result<(), Halt> {
    let retry = |e: &dyn std::fmt::Display| Halt::Retry(e.to_string());
    let start = cluster.applied() + 1;
    let stream = cluster
        .js
        .get_stream(cluster.cfg.stream_name())
        .await
        .map_err(|e| retry(&e))?;
    let consumer = stream
        // A push consumer: a pull consumer delivered a new entry up to seconds late when
        // idle (its pull request had to expire first), and every write waits for this.
        .create_consumer(async_nats::jetstream::consumer::push::OrderedConfig {
            deliver_subject: cluster.client.new_inbox(),
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| retry(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| retry(&e))?;
    while let Some(msg) = messages.next().await {
        let msg = msg.map_err(|e| retry(&e))?;
        let info = msg.info().map_err(|e| retry(&e))?;
        let seq = info.stream_sequence;
        let applied = cluster.applied();
        if seq <= applied {
            continue;
        }
        if seq > applied + 1 {
            behind_retention(cluster, applied).await?;
        }
        let published = info.published.unix_timestamp_nanos() as f64 / 1e9;
        let pending = info.pending;
        if super::secrets::is_meta(cluster.cfg.prefix(), msg.subject.as_str()) {
            if cluster.snapshots.is_claim(msg.subject.as_str()) {
                cluster.snapshots.claimed(store, seq, &msg.payload);
            }
            // A meta entry may be the log's last: the lag must say so (0), not keep the
            // count the entry before it was delivered with.
            if let Ok(mut l) = cluster.progress.lag.lock() {
                *l = (pending, published);
            }
            cluster.progress.done(seq, None, Ok(Applied::Unchanged));
            continue;
        }
        let cmd = entry::decode(&msg.payload)
            .map_err(|e| Halt::Stop(format!("entry {seq} cannot be read: {e}")))?;
        let msg_id = msg
            .headers
            .as_ref()
            .and_then(|h| h.get(entry::ENTRY_HEADER))
            .map(|v| v.as_str().to_string());
        tracing::trace!(seq, pending, subject = %msg.subject, "applying log entry");
        let changed = changed(&cmd);
        // service/customers.rs::erase ends with the order history.
        let erasure = matches!(cmd, Command::EraseOrders { .. });
        let result = if entry::is_bulk(&cmd) {
            tokio::task::block_in_place(|| store.apply_local(cmd))
        } else {
            store.apply_local(cmd)
        };
        if let Ok(mut l) = cluster.progress.lag.lock() {
            *l = (pending, published);
        }
        let ok = result.is_ok();
        cluster.progress.done(seq, msg_id.as_deref(), result);
        let (lag, secs) = cluster.progress.lag();
        crate::metrics::record_cluster_progress(seq, lag, secs);
        if let (true, Some(c), Some(hook)) = (ok, changed, cluster.progress.hook.get()) {
            hook(c);
        }
        if erasure && ok && pending < CATCHING_UP {
            // Every replica that applies an erasure live asks for the snapshot that purges
            // it from the log; one claim wins. Not only the replica that took the DELETE,
            // which may die before its claim reaches the log. A replica catching up on old
            // entries leaves it: the replicas that were live then asked already.
            cluster.snapshots.erasure_applied(seq);
        } else {
            cluster.snapshots.maybe_claim(seq);
        }
    }
    Ok(())
}

/// The log skipped entries after `applied`: an erasure's purge (harmless: what it removed
/// is erased here too), or the log's retention, when this replica is further behind than
/// the log keeps. Applying past those would diverge: stop; at its next start the replica
/// restores the latest snapshot (cluster/snapshot.rs).
async fn behind_retention(cluster: &Cluster, applied: u64) -> Result<(), Halt> {
    match cluster.snapshots.latest().await {
        Ok(Some(l)) if applied + 1 < l.purged_below => Err(Halt::Stop(format!(
            "this replica has applied the log to {applied}, but the log now starts at {}: \
             restart it, and it restores the latest snapshot (position {})",
            l.purged_below, l.position
        ))),
        Ok(_) => Ok(()),
        Err(e) => Err(Halt::Retry(format!("reading the latest snapshot: {e}"))),
    }
}

/// What applying `cmd` will change that the service keeps in memory.
fn changed(cmd: &Command) -> Option<Changed> {
    match cmd {
        Command::ActivatePolicy { version } => Some(Changed::Policy(version.clone())),
        Command::SetShadow { version, market } => Some(Changed::Shadow {
            version: version.clone(),
            market: market.clone(),
        }),
        Command::RecordOutcome { .. } => Some(Changed::Outcome),
        _ => None,
    }
}

/// Every quarter second, record how far the store is durably applied. The decision log is
/// synced first, then the position is written and sled flushed: so the recorded position
/// never runs ahead of what is on disk. Entries applied after it may be applied again
/// after a crash; applying is idempotent for them (a decision already stored is skipped,
/// a second outcome is refused as on every replica, records are put again).
async fn checkpoints(cluster: Arc<Cluster>, store: Store) {
    let mut last = cluster.applied();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = cluster.applied();
        if now == last {
            continue;
        }
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.checkpoint_cluster(now)).await {
            Ok(Ok(())) => last = now,
            Ok(Err(e)) => tracing::warn!(error = %e, "recording the applied position failed"),
            Err(e) => tracing::warn!(error = %e, "recording the applied position failed"),
        }
    }
}
