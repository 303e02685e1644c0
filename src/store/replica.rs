//! The seam cluster mode replicates (docs/cluster.md). A store with a `Replicator` sends
//! every write to it instead of applying it: the replicator appends the command to the
//! replicated log, waits until this replica's applier has applied it (with
//! `Store::apply_local`, as every other replica does) and answers with what applying it
//! returned. The store knows nothing of the log itself (src/cluster implements this).

use super::{Applied, Command, Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A write on its way through the log.
pub type Submitted<'a> = Pin<Box<dyn Future<Output = Result<Applied, StoreError>> + Send + 'a>>;

/// Where a cluster replica's writes go first.
pub trait Replicator: Send + Sync {
    /// Append `cmd` to the log; resolve once it is on a quorum and applied here.
    fn submit(&self, cmd: Command) -> Submitted<'_>;
    /// Resolve once this replica has applied everything the log held when called
    /// (bounded); for reads of an id the replica may not have applied yet.
    fn catch_up(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
}

impl Store {
    /// The same store, writing through `replicator` from now on (cluster mode).
    pub fn with_replicator(mut self, replicator: Arc<dyn Replicator>) -> Self {
        self.replicator = Some(replicator);
        self
    }

    /// The same store, applying writes here: the handle the log's applier uses.
    pub fn local(&self) -> Store {
        Store {
            replicator: None,
            ..self.clone()
        }
    }

    /// Whether writes go through a replicated log (cluster mode).
    pub fn is_replicated(&self) -> bool {
        self.replicator.is_some()
    }

    /// Apply one command: here, or in cluster mode through the log (blocking this thread
    /// until it is applied; async callers use `apply_durable`).
    pub fn apply(&self, cmd: Command) -> Result<Applied, StoreError> {
        let Some(r) = &self.replicator else {
            return self.apply_local(cmd);
        };
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::Unavailable("no runtime to reach the cluster from".into()))?;
        let submit = r.submit(cmd);
        match handle.runtime_flavor() {
            // On a worker: let the runtime move its other tasks elsewhere while this waits.
            tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| handle.block_on(submit))
            }
            _ => Err(StoreError::Unavailable(
                "cluster writes need the multi-threaded runtime".into(),
            )),
        }
    }

    /// In cluster mode, wait (bounded) until this replica has applied what the log holds
    /// now; `false` if it could not. Single-node: nothing to wait for.
    pub async fn catch_up(&self) -> bool {
        match &self.replicator {
            Some(r) => r.catch_up().await,
            None => true,
        }
    }
}

/// meta: the cluster this store is a replica of.
const CLUSTER_NAME: &[u8] = b"cluster_name";
/// meta: the log position up to which this store is durably applied (u64, big-endian).
const CLUSTER_APPLIED: &[u8] = b"cluster_applied";

impl Store {
    /// Record that this store is a replica of cluster `name`; a store of another cluster,
    /// or one that was a single node with decisions, is refused: its state is not the log's.
    pub fn mark_replica(&self, name: &str) -> Result<(), StoreError> {
        match self.meta.get(CLUSTER_NAME)? {
            Some(v) if v.as_ref() == name.as_bytes() => Ok(()),
            Some(v) => Err(StoreError::Open {
                dir: "data".into(),
                reason: format!(
                    "this data directory is a replica of cluster `{}`, not `{name}`; start with an empty one",
                    String::from_utf8_lossy(&v)
                ),
            }),
            None if !self.log.is_empty() || !self.customers.is_empty() => Err(StoreError::Open {
                dir: "data".into(),
                reason: "this data directory holds a single node's data; a replica starts empty \
                         and fills from the cluster's log (load the data through the API instead)"
                    .into(),
            }),
            None => {
                self.meta.insert(CLUSTER_NAME, name.as_bytes())?;
                self.db.flush()?;
                Ok(())
            }
        }
    }

    /// The cluster this store is a replica of, if any (the CLI refuses to write to one).
    pub fn replica_of(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta
            .get(CLUSTER_NAME)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Take the cluster's pseudonym key; refused if this store made pseudonyms with another.
    pub fn adopt_pseudonym_key(&self, key: &[u8]) -> Result<(), StoreError> {
        let current = self.pseudonym_key()?;
        if current == key {
            return Ok(());
        }
        if !self.log.is_empty() || !self.customers.is_empty() {
            return Err(StoreError::Open {
                dir: "data".into(),
                reason: "this data directory was made with another pseudonym key than the \
                         cluster's; start the replica with an empty one"
                    .into(),
            });
        }
        self.meta.insert(super::audit::PSEUDONYM_KEY, key)?;
        self.db.flush()?;
        Ok(())
    }

    /// Empty this replica's store (every tree and the decision log) so that a snapshot
    /// can be restored into it: a replica's store is a cache of the cluster's log, and
    /// one further behind than the log keeps can only be rebuilt (cluster/snapshot.rs).
    pub fn wipe_replica(&self) -> Result<(), StoreError> {
        let _gate = self
            .gate
            .write()
            .map_err(|_| StoreError::Corrupt("store gate poisoned".into()))?;
        for name in self.db.tree_names() {
            self.db.open_tree(&name)?.clear()?;
        }
        self.log.reset()?;
        self.key_cache.reload(&self.keys)?;
        self.db.flush()?;
        Ok(())
    }

    /// The log position this store is durably applied to (0: nothing yet).
    pub fn cluster_applied(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(CLUSTER_APPLIED)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// Record that everything up to `position` is applied, durably: the decision log is
    /// synced before the position is written and sled flushed, so the recorded position
    /// never runs ahead of the disk. Blocking (two syncs).
    pub fn checkpoint_cluster(&self, position: u64) -> Result<(), StoreError> {
        self.log.sync()?;
        self.meta.insert(CLUSTER_APPLIED, &position.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }
}

/// A fingerprint of what a replica holds, to check that replicas converged: equal on two
/// replicas that applied the same log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StateDigest {
    /// SHA-256 over every customer record.
    pub customers: String,
    /// SHA-256 over every decision, as stored (outcome and approval included).
    pub decisions: String,
    /// SHA-256 over the goodwill ledger.
    pub ledger: String,
    /// Decisions stored.
    pub decision_count: usize,
    /// The audit chain's length and head hash.
    pub audit_seq: u64,
    pub audit_head: String,
}

impl Store {
    /// Digest the customers, decisions and ledger (reads everything: an operator's check).
    pub fn state_digest(&self) -> Result<StateDigest, StoreError> {
        use sha2::{Digest, Sha256};
        let tree = |t: &sled::Tree| -> Result<String, StoreError> {
            let mut h = Sha256::new();
            for kv in t.iter() {
                let (k, v) = kv?;
                h.update((k.len() as u64).to_be_bytes());
                h.update(&k);
                h.update((v.len() as u64).to_be_bytes());
                h.update(&v);
            }
            Ok(hex::encode(h.finalize()))
        };
        let mut decisions = Sha256::new();
        let mut decision_count = 0;
        for d in self.decisions_between(None, None) {
            let bytes = super::to_json(&d?)?;
            decisions.update((bytes.len() as u64).to_be_bytes());
            decisions.update(&bytes);
            decision_count += 1;
        }
        let (audit_seq, audit_head) = self.log.head();
        Ok(StateDigest {
            customers: tree(&self.customers)?,
            decisions: hex::encode(decisions.finalize()),
            ledger: tree(&self.ledger)?,
            decision_count,
            audit_seq,
            audit_head,
        })
    }
}
