//! The service layer: what each request does, between the thin HTTP handlers and the pure
//! engine and the store. The CLI calls the same functions.

pub mod customers;
pub mod decisions;
pub mod import;
pub mod order_parse;
pub mod orders;
pub mod policies;
pub mod value;

use crate::error::AppError;
use crate::policy::CompiledPolicy;
use crate::store::Store;
use arc_swap::ArcSwapOption;
use std::sync::Arc;

/// Shared state of the running service; cloned into every handler.
#[derive(Clone)]
pub struct AppState {
    /// sled handles are internally reference-counted and thread-safe; no lock needed.
    pub store: Store,
    /// The active policy. Swapped atomically on activation; each request loads one `Arc`
    /// and keeps that version for its whole evaluation, so no request sees a half-loaded
    /// policy and the hot path takes no lock.
    pub policy: Arc<ArcSwapOption<CompiledPolicy>>,
}

impl AppState {
    pub fn new(store: Store, policy: Option<Arc<CompiledPolicy>>) -> Self {
        AppState {
            store,
            policy: Arc::new(ArcSwapOption::new(policy)),
        }
    }

    /// The active policy, or `no_active_policy`.
    pub fn active_policy(&self) -> Result<Arc<CompiledPolicy>, AppError> {
        self.policy.load_full().ok_or(AppError::NoActivePolicy)
    }
}
