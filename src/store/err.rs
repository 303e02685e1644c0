//! Errors of the store layer.

use crate::error_code::Code;

/// What can go wrong reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store in `{dir}`: {reason}")]
    Open { dir: String, reason: String },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// Reading or writing the decision log failed (store/decision_log).
    #[error("decision log: {0}")]
    Log(String),
    #[error("stored record cannot be read: {0}")]
    Corrupt(String),
    /// A command conflicts with what is stored; the code is the API error code.
    #[error("{message}")]
    Conflict { code: Code, message: String },
    #[error("{0}")]
    NotFound(String),
    /// Rewriting sled's files failed (store/compact).
    #[error("compaction: {0}")]
    Compact(String),
    /// Cluster mode: the replicated log cannot take the write now (no quorum, no
    /// connection); nothing was written.
    #[error("cluster unavailable: {0}")]
    Unavailable(String),
    /// Cluster mode: one record is larger than a log entry may be.
    #[error("{0}")]
    TooLarge(String),
    /// A command was computed from state that changed before it applied (orders and
    /// their summaries, store/orders.rs); nothing was written: compute it again.
    #[error("computed from an older state: {0}")]
    Stale(String),
    /// A background writer (the import's) could not start or stopped unexpectedly.
    #[error("background writer failed: {0}")]
    Worker(String),
}
