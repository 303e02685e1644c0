//! What a cluster replica keeps in memory follows the log: when the applier applies an
//! activation (or a shadow change, or an outcome) written by any replica, this replica
//! swaps its compiled policy (or shadow, or marks its retention evidence stale) as the
//! writer did. Every replica switches at the same log position; each decision names the
//! version it used.

use super::{policies, AppState};
use crate::cluster::{Changed, Cluster};
use std::sync::Arc;

/// Follow `cluster`'s applied commands in `state`.
pub fn follow(state: &AppState, cluster: &Cluster) {
    let state = state.clone();
    cluster.on_applied(Box::new(move |changed| match changed {
        Changed::Policy(version) => match policies::verified(&state, &version) {
            Ok(p) => {
                let same = state
                    .policies
                    .active(p.market.as_str())
                    .is_some_and(|a| a.version == p.version);
                if !same {
                    tracing::info!(policy = %p.id, version = %p.version, market = %p.market, "policy activated (from the log)");
                    state.policies.activate(p);
                    state.retention.mark_dirty();
                }
            }
            Err(e) => tracing::error!(%version, error = %e, "an activated version does not load on this replica"),
        },
        Changed::Shadow { version: None, market } => state.policies.set_shadow(
            market.as_deref().unwrap_or(crate::domain::market::DEFAULT_MARKET),
            None,
        ),
        Changed::Shadow { version: Some(version), .. } => match policies::compile_candidate(&state.store, &version) {
            Ok(p) => {
                let market = p.market.as_str().to_string();
                state.policies.set_shadow(&market, Some(Arc::new(p)));
            }
            Err(e) => tracing::error!(%version, error = %e, "the shadow version does not load on this replica"),
        },
        Changed::Outcome => state.retention.mark_dirty(),
    }));
}
