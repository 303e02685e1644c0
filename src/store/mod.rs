//! The embedded store (sled): customer records, decisions, API keys, policy versions.
//!
//! Every write is a `Command` applied in exactly one place (`apply`), so that a later
//! replicated log can feed the same commands to every replica; reads are local methods.
//! Durability: a write is acknowledged only after `flush` returns (see `Store::flush`).

pub mod command;
pub mod customers;
pub mod decisions;
pub mod err;
pub mod keys;
pub mod models;
pub mod orders;
pub mod policies;

pub use command::Command;
pub use err::StoreError;

use std::path::Path;

/// Handle to the open store; cheap to clone (sled trees are reference-counted).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    customers: sled::Tree,
    decisions: sled::Tree,
    keys: sled::Tree,
    policies: sled::Tree,
    meta: sled::Tree,
    orders: sled::Tree,
    order_days: sled::Tree,
    order_summaries: sled::Tree,
    value_models: sled::Tree,
    customer_orders: sled::Tree,
}

impl Store {
    /// Open (or create) the store in `dir`. A directory another process holds, or one
    /// whose files are damaged, is an error: never a silently empty store.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            dir: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| StoreError::Open {
                dir: dir.display().to_string(),
                reason: match e {
                    // sled reports the held file lock as an I/O error; say what it means.
                    sled::Error::Io(io)
                        if io.kind() == std::io::ErrorKind::WouldBlock
                            || io.to_string().contains("could not acquire lock") =>
                    {
                        "the data directory is in use by another kulanz process (stop the server first)"
                            .to_string()
                    }
                    other => other.to_string(),
                },
            })?;
        Ok(Store {
            customers: db.open_tree("customers")?,
            decisions: db.open_tree("decisions")?,
            keys: db.open_tree("keys")?,
            policies: db.open_tree("policies")?,
            meta: db.open_tree("meta")?,
            orders: db.open_tree("orders")?,
            order_days: db.open_tree("order_days")?,
            order_summaries: db.open_tree("order_summaries")?,
            value_models: db.open_tree("value_models")?,
            customer_orders: db.open_tree("customer_orders")?,
            db,
        })
    }

    /// Make every write so far durable. Concurrent callers share sled's flush, so a burst
    /// of writes costs about one fsync rather than one each.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Blocking flush, for the CLI and shutdown.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
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
