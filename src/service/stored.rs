//! Reading stored decisions: by id, by ticket, and as much of them as a caller may see.
//! Apart from `decisions` (the write path), so the modules that read a decision
//! (approvals, shadow results, outcomes) need not import the one that makes them.

use super::AppState;
use crate::domain::check_id;
use crate::error::AppError;
use crate::error_code::Code;
use crate::store::decisions::StoredDecision;
use crate::store::keys::Scope;

/// What a caller may read of a stored decision. A `decide` key is held by a desk
/// integration that any agent drives, and tickets ids are guessable, so without `ingest`
/// or `admin` the customer's record (`customer_snapshot`) and the outcome's free-text
/// note are left out: the answer, its request and the outcome are what the sidebar shows.
pub fn view_for(mut d: StoredDecision, scopes: &[Scope]) -> StoredDecision {
    if !scopes
        .iter()
        .any(|s| matches!(s, Scope::Ingest | Scope::Admin))
    {
        d.customer_snapshot = None;
        if let Some(o) = d.outcome.as_mut() {
            o.note = None;
        }
    }
    d
}

/// The decision `id`. In cluster mode an id this replica has not applied yet may have
/// been made on another: then it first waits (at most 2 s) until it has applied what the
/// log holds now.
pub async fn get(state: &AppState, id: &str) -> Result<StoredDecision, AppError> {
    if let Some(d) = state.store.get_decision(id)? {
        return Ok(d);
    }
    if state.store.is_replicated() && state.store.catch_up().await {
        if let Some(d) = state.store.get_decision(id)? {
            return Ok(d);
        }
    }
    Err(AppError::NotFound {
        code: Code::DecisionNotFound,
        message: format!("no decision `{}`", crate::money::truncate(id)),
    })
}

/// The latest decision stored for a help-desk ticket (made by the widget, an API call or
/// a webhook).
pub async fn for_ticket(state: &AppState, ticket_id: &str) -> Result<StoredDecision, AppError> {
    check_id("ticket_id", ticket_id)?;
    let id = state
        .store
        .ticket_decision(ticket_id)?
        .ok_or_else(|| AppError::NotFound {
            code: Code::DecisionNotFound,
            message: format!(
                "no decision for ticket `{}`",
                crate::money::truncate(ticket_id)
            ),
        })?;
    get(state, &id).await
}
