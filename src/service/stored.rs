//! Reading stored decisions: by id, by ticket, and as much of them as a caller may see.
//! Apart from `decisions` (the write path), so the modules that read a decision
//! (approvals, shadow results, outcomes) need not import the one that makes them.

use super::AppState;
use crate::domain::check_id;
use crate::domain::customer::CustomerRecordDto;
use crate::domain::decision::Decision;
use crate::domain::outcome::{ApprovalRecord, OutcomeRecord};
use crate::domain::request::DecisionRequestDto;
use crate::error::AppError;
use crate::error_code::Code;
use crate::store::decisions::StoredDecision;
use crate::store::keys::Scope;

/// A stored decision as far as one caller may read it: the stored record's parts, out of
/// the store's type, for the HTTP layer to answer (http/decision_body.rs).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionView {
    pub decision: Decision,
    pub request: DecisionRequestDto,
    /// Left out for a caller without `ingest` or `admin`.
    pub customer_snapshot: Option<CustomerRecordDto>,
    pub approval: Option<ApprovalRecord>,
    /// Without its `note` for a caller without `ingest` or `admin`.
    pub outcome: Option<OutcomeRecord>,
    pub erased: bool,
}

/// What a caller may read of a stored decision. A `decide` key is held by a desk
/// integration that any agent drives, and tickets ids are guessable, so without `ingest`
/// or `admin` the customer's record (`customer_snapshot`) and the outcome's free-text
/// note are left out: the answer, its request and the outcome are what the sidebar shows.
pub fn view_for(d: StoredDecision, scopes: &[Scope]) -> DecisionView {
    let StoredDecision {
        decision,
        request,
        mut customer_snapshot,
        approval,
        mut outcome,
        erased,
    } = d;
    if !scopes
        .iter()
        .any(|s| matches!(s, Scope::Ingest | Scope::Admin))
    {
        customer_snapshot = None;
        if let Some(o) = outcome.as_mut() {
            o.note = None;
        }
    }
    DecisionView {
        decision,
        request,
        customer_snapshot,
        approval,
        outcome,
        erased,
    }
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
