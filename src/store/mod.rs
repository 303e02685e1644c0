//! The embedded store (sled): customer records, decisions, API keys, policy versions.
//!
//! Every write is a `Command` applied in exactly one place (`apply`), so that a later
//! replicated log can feed the same commands to every replica; reads are local methods.
//! Durability: a write is acknowledged only after `flush` returns (see `Store::flush`).

pub mod approvals;
pub mod at_risk_pushes;
pub mod audit;
pub mod backup;
pub mod canonical_json;
pub mod command;
pub mod compact;
pub mod customer_codec;
pub mod customers;
pub mod decision_batch;
pub mod decision_log;
pub mod decision_record;
pub mod decisions;
mod dir_lock;
pub mod durability;
pub mod err;
pub mod idempotency;
pub mod integrity;
pub mod keys;
pub mod ledger;
mod log_open;
pub mod models;
pub mod nps;
pub mod orders;
pub mod policies;
pub mod replica;
pub mod shadows;
pub mod tickets;
pub mod webhooks;

pub use command::Command;
pub use err::StoreError;

pub use durability::Durability;

use durability::GroupCommit;
use std::path::Path;
use std::sync::Arc;

/// Handle to the open store; cloning is one reference count (handlers clone it per
/// request: one count, not one per tree, which showed in profiles under load).
#[derive(Clone)]
pub struct Store {
    trees: Arc<Trees>,
    durability: Durability,
    /// In cluster mode, where writes go first (store/replica.rs); `None`: applied here.
    replicator: Option<Arc<dyn replica::Replicator>>,
}

/// What every clone of a store shares; `Store` derefs to it.
pub struct Trees {
    db: sled::Db,
    customers: sled::Tree,
    /// Every decision and its audit links (store/decision_log).
    log: Arc<decision_log::DecisionLog>,
    keys: sled::Tree,
    /// `keys` in memory, for the lookup every request makes (store/keys.rs).
    key_cache: keys::KeyCache,
    policies: sled::Tree,
    meta: sled::Tree,
    shadows: sled::Tree,
    idempotency: sled::Tree,
    /// Shared by every clone: one flusher per open store.
    group: Arc<GroupCommit>,
    /// Shared by every clone: one decision batcher per open store.
    batch: Arc<decision_batch::DecisionBatch>,
    /// Shared by every command while it applies, taken exclusively by a backup so the
    /// snapshot never holds half a command. Held for microseconds, never across `.await`.
    gate: Arc<std::sync::RwLock<()>>,
    /// Handled webhook deliveries, for deduplicating retries.
    webhooks: sled::Tree,
    orders: sled::Tree,
    order_days: sled::Tree,
    order_summaries: sled::Tree,
    value_models: sled::Tree,
    customer_orders: sled::Tree,
    /// Customer id, NUL, decision ULID → ledger entry (store/ledger.rs).
    ledger: sled::Tree,
    /// Customer id → NPS history (store/nps.rs).
    nps: sled::Tree,
    /// Customer id → the at-risk push sent for them (store/at_risk_pushes.rs).
    at_risk_pushes: sled::Tree,
    /// Held while the store is open, so no compaction swaps the files under it.
    _lock: dir_lock::DirLock,
}

impl std::ops::Deref for Store {
    type Target = Trees;
    fn deref(&self) -> &Trees {
        &self.trees
    }
}

/// Open sled, waiting up to a second for the directory's file lock: when this process
/// has just closed the store, sled's background flusher can hold the lock a moment longer.
/// Another process holding it is still reported after that second.
fn open_sled(dir: &Path) -> sled::Result<sled::Db> {
    let mut tries = 0;
    loop {
        match sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()
        {
            Err(sled::Error::Io(e)) if tries < 20 && is_lock_error(&e) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

impl Store {
    /// Open (or create) the store in `dir`. A directory another process holds, or one
    /// whose files are damaged, is an error: never a silently empty store.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            dir: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        Store::open_locked(dir, dir_lock::DirLock::take(dir)?)
    }

    /// `open`, with the directory's lock already taken (a compaction holds it on).
    fn open_locked(dir: &Path, lock: dir_lock::DirLock) -> Result<Store, StoreError> {
        // Before sled reads its files: they may be half swapped by a compaction.
        compact::swap::recover(dir)?;
        let had_log = integrity::has_log(dir);
        let db = open_sled(dir).map_err(|e| StoreError::Open {
            dir: dir.display().to_string(),
            reason: match e {
                // sled reports the held file lock as an I/O error; say what it means.
                sled::Error::Io(io) if is_lock_error(&io) => dir_lock::IN_USE.to_string(),
                // A damaged file, not an I/O failure: say so, sled's wording misleads.
                e @ (sled::Error::Corruption { .. } | sled::Error::Unsupported(_)) => {
                    format!("the data directory is damaged (restore it from a backup): {e}")
                }
                other => other.to_string(),
            },
        })?;
        let trees = Trees {
            customers: db.open_tree("customers")?,
            log: Arc::new(decision_log::DecisionLog::open(dir)?),
            key_cache: keys::KeyCache::load(&db.open_tree("keys")?)?,
            keys: db.open_tree("keys")?,
            policies: db.open_tree("policies")?,
            meta: db.open_tree("meta")?,
            shadows: db.open_tree("shadows")?,
            idempotency: db.open_tree("idempotency")?,
            group: Arc::new(GroupCommit::default()),
            batch: Arc::new(decision_batch::DecisionBatch::default()),
            gate: Arc::new(std::sync::RwLock::new(())),
            webhooks: db.open_tree("webhook_deliveries")?,
            orders: db.open_tree("orders")?,
            order_days: db.open_tree("order_days")?,
            order_summaries: db.open_tree("order_summaries")?,
            value_models: db.open_tree("value_models")?,
            customer_orders: db.open_tree("customer_orders")?,
            ledger: db.open_tree("ledger")?,
            nps: db.open_tree("nps")?,
            at_risk_pushes: db.open_tree("at_risk_pushes")?,
            db,
            _lock: lock,
        };
        let store = Store {
            trees: Arc::new(trees),
            durability: Durability::Strict,
            replicator: None,
        };
        let s = &store;
        let trees = [&s.customers, &s.keys, &s.policies, &s.shadows];
        // The decision log does not count: sled losing its records is damage whatever the
        // log holds.
        integrity::check(dir, had_log, &s.db, &s.meta, &trees)?;
        // The pseudonym key is made once per store (after the integrity check, which must
        // see the store as it was) and never changes: past pseudonyms and the audit hashes
        // over them depend on it.
        if store.meta.get(audit::PSEUDONYM_KEY)?.is_none() {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
            let _ = store.meta.compare_and_swap(
                audit::PSEUDONYM_KEY,
                None as Option<&[u8]>,
                Some(&key[..]),
            )?;
        }
        // Made durable by `settle_log` (which flushes): decisions are hashed over it.
        store.settle_log()?;
        store.db.flush()?;
        decision_log::DecisionLog::start_syncer(&store.log);
        Ok(store)
    }

    /// The same store with another durability setting.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Make every write so far durable (group commit: concurrent callers share one
    /// flush). With relaxed durability this returns at once; see `durability`. In cluster
    /// mode the replicated log is what is durable, so there is nothing to wait for here.
    /// The decision log syncs its own appends (store/decision_log).
    pub async fn flush(&self) -> Result<(), StoreError> {
        if self.replicator.is_some() {
            return Ok(());
        }
        match self.durability {
            Durability::Strict => self.group.flush(&self.db).await,
            Durability::Relaxed => Ok(()),
        }
    }

    /// Blocking flush of sled and the decision log, for the CLI and shutdown.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.log.sync()?;
        Ok(())
    }

    /// A cheap liveness probe for `/readyz`: one read of the meta tree.
    pub fn is_readable(&self) -> bool {
        self.meta.get(b"probe").is_ok()
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// What applying a command changed, for the caller's response.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Done,
    /// A record was created (as opposed to replaced).
    Created,
    /// The command found nothing to change (e.g. deleting a missing customer, or
    /// re-uploading an identical policy version).
    Unchanged,
    /// What an idempotency claim found (`Command::ClaimIdempotency`).
    Claim(idempotency::Claim),
}
