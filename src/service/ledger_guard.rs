//! The ledger guards, checked again when an outcome is recorded.
//!
//! A decision applies the guards (claims per 90 days, goodwill share of revenue) to the
//! customer's goodwill ledger as it is when the decision is made. Two tickets of one
//! customer decided at the same time both see the same ledger, and each grant would pass
//! alone: recording both would beat the guard. So when an outcome grants something and the
//! customer's ledger has grown since the decision, the guards are applied again to the
//! ledger as it is now. A grant they passed then and refuse now is refused
//! (`409 ledger_changed`) unless a lead approved it (an approval on record whose approver
//! the outcome names in `approved_by`): a grant the guards already refused when the
//! decision was made was the agent's call then and stays so.
//!
//! The check is optimistic: the outcome carries the ledger's length as checked
//! (`Command::RecordOutcome::ledger_seen`), and the store refuses it as `Stale` if another
//! outcome for the customer was written in between; then the check runs again on the new
//! ledger. In cluster mode the length is compared when the log's entry is applied, in log
//! order on every replica, so of two outcomes raced to two replicas the second to reach
//! the log is checked against the first, wherever each was sent.

use super::effective_customer::effective_customer;
use super::AppState;
use crate::domain::customer::CustomerRecord;
use crate::error::AppError;
use crate::error_code::Code;
use crate::money::Money;
use crate::policy::compiled::CompiledPolicy;
use crate::policy::engine::{guard_verdict, Verdict};
use crate::store::decision_record::StoredDecision;
use chrono::{DateTime, Utc};

/// What recording an outcome must hold the ledger to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerCheck {
    /// Nothing: the outcome grants nothing, the customer was unknown to the decision, or a
    /// lead approved the grant.
    None,
    /// The customer's ledger must still have this many entries when the outcome is written.
    Unchanged(u64),
}

/// Check `granted` of `gesture` for decision `d` against the customer's ledger as it is
/// now; `Err(409 ledger_changed)` if the guards passed it when the decision was made and
/// refuse it now.
pub fn check(
    state: &AppState,
    policy: &CompiledPolicy,
    d: &StoredDecision,
    gesture: &str,
    granted: &Money,
    approved: bool,
    now: DateTime<Utc>,
) -> Result<LedgerCheck, AppError> {
    if gesture == "none" || granted.amount.is_zero() || approved || d.erased {
        return Ok(LedgerCheck::None);
    }
    // The engine saw no record: the floor, which no ledger guard acts on.
    let Some(then) = d.customer_snapshot.as_ref().and_then(|s| s.validate().ok()) else {
        return Ok(LedgerCheck::None);
    };
    let customer_id = &d.request.customer_id;
    // The length first: an outcome written after this read makes the write `Stale`, even
    // if the record read below already counts it.
    let seen = state.store.ledger_len(customer_id)?;
    let current = match effective_customer(&state.store, policy, customer_id, now)? {
        Some(Ok(c)) => c.record,
        // Erased or no longer valid since: nothing to hold the grant against.
        _ => return Ok(LedgerCheck::Unchanged(seen)),
    };
    if current.claims_90d <= then.claims_90d && current.goodwill_12m <= then.goodwill_12m {
        return Ok(LedgerCheck::Unchanged(seen));
    }
    let decided = DateTime::parse_from_rfc3339(&d.decision.created_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let at = |c: &CustomerRecord, day: DateTime<Utc>| {
        guard_verdict(policy, Some(c), gesture, granted.amount, day.date_naive())
    };
    let before = at(&then, decided);
    let after = at(&current, now);
    if !before.passes(granted.amount) || after.passes(granted.amount) {
        return Ok(LedgerCheck::Unchanged(seen));
    }
    Err(AppError::Conflict {
        code: Code::LedgerChanged,
        message: refusal(policy, d, granted, &current, &after),
    })
}

/// Why the grant is refused now, with the numbers, and the two ways forward.
fn refusal(
    policy: &CompiledPolicy,
    d: &StoredDecision,
    granted: &Money,
    now: &CustomerRecord,
    v: &Verdict,
) -> String {
    let mut why = Vec::new();
    if let (Some(_), Some((max, _, _))) = (v.claims, policy.guards.claim_frequency) {
        why.push(format!(
            "this would be claim {} in 90 days, the policy allows {max}",
            now.claims_90d.saturating_add(1)
        ));
    }
    if v.share.is_some() {
        let given = Money::new(now.goodwill_12m, granted.currency);
        why.push(format!(
            "{} of goodwill was given in the last 12 months, beyond what the goodwill budget \
             leaves for this grant",
            given.display()
        ));
    }
    format!(
        "since decision `{id}` was made, other outcomes were recorded for its customer and \
         the guards no longer allow {amount}: {why}; decide again (POST /v1/decisions) for \
         an answer on today's ledger, or have a lead approve it (POST \
         /v1/decisions/{id}/approval) and name them in `approved_by`",
        id = d.decision.decision_id,
        amount = granted.display(),
        why = why.join("; ")
    )
}
