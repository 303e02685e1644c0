//! What an operator checks the store with over HTTP: the audit chain, and the digest two
//! replicas compare to see that they converged. Service types, so the answers are not
//! the store's structs.

use crate::error::AppError;
use crate::store::Store;
use serde::Serialize;
use utoipa::ToSchema;

/// Where verification of the audit chain stopped.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Verification)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries: u64,
    /// `true` when every link holds.
    pub intact: bool,
    /// The first broken entry, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_break: Option<String>,
}

/// Walk the audit chain from its first link (reads every decision).
pub fn verify_audit(store: &Store) -> Result<AuditVerification, AppError> {
    let v = store.verify_audit()?;
    Ok(AuditVerification {
        entries: v.entries,
        intact: v.intact,
        first_break: v.first_break,
    })
}

/// A fingerprint of what a replica holds: equal on two replicas that applied the same log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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

/// Digest the customers, decisions and ledger (reads everything).
pub fn state_digest(store: &Store) -> Result<StateDigest, AppError> {
    let d = store.state_digest()?;
    Ok(StateDigest {
        customers: d.customers,
        decisions: d.decisions,
        ledger: d.ledger,
        decision_count: d.decision_count,
        audit_seq: d.audit_seq,
        audit_head: d.audit_head,
    })
}
