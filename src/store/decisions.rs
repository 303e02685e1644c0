//! The decision log: every decision with its request, the customer record it saw, the
//! policy version, and later the outcome. Keyed by ULID, so it is in time order.

use super::command::Applied;
use super::{audit, from_json, to_json, Store, StoreError};
use crate::domain::customer::CustomerRecordDto;
use crate::domain::decision::Decision;
use crate::domain::request::DecisionRequestDto;
use crate::money::MoneyDto;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;
use utoipa::ToSchema;

/// What was actually granted for a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeRecord {
    pub granted: GrantedDto,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_accepted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who recorded it: the agent id given, or the API key's name.
    pub recorded_by: String,
    /// How the agent closed the recommendation, when they said (the widget always does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OutcomeStatus>,
    /// RFC 3339.
    pub recorded_at: String,
}

/// How an outcome relates to the recommendation. `escalated` and `declined` grant
/// nothing (`granted.gesture` is `none`); the note says why or to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    GrantedAsRecommended,
    GrantedOther,
    Escalated,
    Declined,
}

/// The gesture granted and its amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantedDto {
    pub gesture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<MoneyDto>,
}

/// A decision as stored, and as `GET /v1/decisions/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredDecision {
    #[serde(flatten)]
    pub decision: Decision,
    /// The request as the caller sent it.
    pub request: DecisionRequestDto,
    /// The customer record the engine saw (absent for an unknown customer), so the
    /// decision can be replayed under another policy version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_snapshot: Option<CustomerRecordDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeRecord>,
    /// The customer asked for erasure: `request.customer_id` holds a pseudonym.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

fn key(id: &str) -> Result<[u8; 16], StoreError> {
    ulid::Ulid::from_string(id)
        .map(|u| u.to_bytes())
        .map_err(|_| StoreError::NotFound(format!("no decision `{}`", crate::money::truncate(id))))
}

impl Store {
    pub fn get_decision(&self, id: &str) -> Result<Option<StoredDecision>, StoreError> {
        let Ok(k) = key(id) else { return Ok(None) };
        self.decisions.get(k)?.map(|v| from_json(&v)).transpose()
    }

    pub fn decision_count(&self) -> usize {
        self.decisions.len()
    }

    /// Store a decision, its customer index entry and its audit link, all or nothing.
    pub(super) fn apply_put_decision(&self, d: &StoredDecision) -> Result<Applied, StoreError> {
        self.apply_put_decisions(std::slice::from_ref(d))
    }

    /// Store decisions in one transaction, in order: each with its customer index entry,
    /// ticket pointer and audit link; all or nothing. One transaction for many decisions
    /// is what makes batching pay: sled writes its log buffer out at every transaction
    /// (`pin_log` rolls the buffer), whatever its size (store/decision_batch.rs).
    pub(super) fn apply_put_decisions(&self, ds: &[StoredDecision]) -> Result<Applied, StoreError> {
        let pseudonym_key = self.pseudonym_key()?;
        let prepared = ds
            .iter()
            .map(|d| {
                let k = key(&d.decision.decision_id)?;
                Ok(PreparedDecision {
                    bytes: to_json(d)?.into(),
                    form: audit::decision_canonical(&pseudonym_key, d),
                    idx: index_key(&d.request.customer_id, &k),
                    key: k,
                    id: d.decision.decision_id.as_str(),
                    ticket: d.decision.ticket_id.as_bytes(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        (
            &self.decisions,
            &self.audit,
            &self.meta,
            &self.by_customer,
            &self.tickets,
        )
            .transaction(|(dt, at, mt, bt, tt)| {
                for p in &prepared {
                    dt.insert(&p.key[..], p.bytes.clone())?;
                    bt.insert(p.idx.clone(), &[][..])?;
                    // The ticket points at its latest decision (ULIDs sort by time).
                    if tt
                        .get(p.ticket)?
                        .is_none_or(|old| old.as_ref() < p.id.as_bytes())
                    {
                        tt.insert(p.ticket, p.id.as_bytes())?;
                    }
                    append(at, mt, "decision", p.id, &p.form)?;
                }
                Ok(())
            })
            .map_err(tx_err)?;
        Ok(Applied::Created)
    }

    /// Record the outcome once, with its audit link; a second outcome is a conflict.
    pub(super) fn apply_record_outcome(
        &self,
        id: &str,
        outcome: &OutcomeRecord,
    ) -> Result<Applied, StoreError> {
        let k = key(id)?;
        let form = audit::canonical(&audit::outcome_form(id, outcome));
        (&self.decisions, &self.audit, &self.meta, &self.ledger)
            .transaction(|(dt, at, mt, lt)| {
                let Some(old) = dt.get(k)? else {
                    return abort(StoreError::NotFound(format!(
                        "no decision `{}`",
                        crate::money::truncate(id)
                    )));
                };
                let mut d: StoredDecision = from_json(&old).or_else(abort)?;
                if d.outcome.is_some() {
                    return abort(StoreError::Conflict {
                        code: "outcome_exists",
                        message: format!("decision `{id}` already has an outcome"),
                    });
                }
                d.outcome = Some(outcome.clone());
                dt.insert(&k[..], to_json(&d).or_else(abort)?)?;
                // The ledger the guards read at the next decision; an erased customer
                // has no ledger.
                if !d.erased {
                    let entry = ledger_entry(&d, outcome).or_else(abort)?;
                    let lk = super::ledger::ledger_key(&d.request.customer_id, &k);
                    lt.insert(lk, to_json(&entry).or_else(abort)?)?;
                }
                append(at, mt, "outcome", id, &form)
            })
            .map_err(tx_err)?;
        Ok(Applied::Done)
    }

    /// Replace the customer id by its pseudonym in every decision about the customer.
    /// Hashes are over the pseudonymous form, so the audit chain stays intact. Returns
    /// how many decisions were rewritten.
    pub(super) fn pseudonymise_decisions(&self, customer_id: &str) -> Result<usize, StoreError> {
        let alias = self.pseudonymise(customer_id)?;
        let mut prefix = customer_id.as_bytes().to_vec();
        prefix.push(0);
        let mut n = 0;
        for item in self.by_customer.scan_prefix(&prefix) {
            let (idx, _) = item?;
            let Some(k) = idx.get(prefix.len()..) else {
                continue;
            };
            if let Some(v) = self.decisions.get(k)? {
                let mut d: StoredDecision = from_json(&v)?;
                if !d.erased {
                    d.request.customer_id = alias.clone();
                    d.erased = true;
                    self.decisions.insert(k, to_json(&d)?)?;
                    n += 1;
                }
            }
            self.by_customer.remove(&idx)?;
        }
        Ok(n)
    }
}

fn ledger_entry(
    d: &StoredDecision,
    outcome: &OutcomeRecord,
) -> Result<super::ledger::LedgerEntry, StoreError> {
    let at = chrono::DateTime::parse_from_rfc3339(&outcome.recorded_at)
        .map_err(|e| StoreError::Corrupt(format!("outcome time: {e}")))?
        .with_timezone(&chrono::Utc);
    let (amount, currency) = match &outcome.granted.amount {
        Some(m) => {
            let m = m.parse().map_err(StoreError::Corrupt)?;
            (m.amount, m.currency.to_string())
        }
        None => (
            rust_decimal::Decimal::ZERO,
            d.decision.evaluation.authority.limit.currency.clone(),
        ),
    };
    Ok(super::ledger::LedgerEntry {
        decision_id: d.decision.decision_id.clone(),
        at,
        gesture: outcome.granted.gesture.clone(),
        amount,
        currency,
    })
}

fn index_key(customer_id: &str, k: &[u8; 16]) -> Vec<u8> {
    let mut idx = customer_id.as_bytes().to_vec();
    idx.push(0);
    idx.extend_from_slice(k);
    idx
}

/// One decision's writes, computed before the transaction (which may run more than once).
struct PreparedDecision<'a> {
    key: [u8; 16],
    /// An `IVec`, so a transaction retry clones a pointer, not the record.
    bytes: sled::IVec,
    /// Canonical bytes of the audit form (`audit::decision_canonical`).
    form: Vec<u8>,
    idx: Vec<u8>,
    id: &'a str,
    ticket: &'a [u8],
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

/// Append one link to the audit chain inside a transaction.
fn append(
    audit_tree: &TransactionalTree,
    meta: &TransactionalTree,
    kind: &str,
    decision_id: &str,
    form: &[u8],
) -> TxResult<()> {
    let head: audit::Head = match meta.get(audit::HEAD)? {
        Some(v) => from_json(&v).or_else(abort)?,
        None => audit::Head {
            seq: 0,
            hash: audit::GENESIS.to_string(),
        },
    };
    let entry = audit::AuditEntry {
        seq: head.seq + 1,
        kind: kind.to_string(),
        decision_id: decision_id.to_string(),
        hash: audit::link_canonical(&head.hash, form),
        prev: head.hash,
    };
    audit_tree.insert(
        &entry.seq.to_be_bytes()[..],
        to_json(&entry).or_else(abort)?,
    )?;
    let next = audit::Head {
        seq: entry.seq,
        hash: entry.hash,
    };
    meta.insert(audit::HEAD, to_json(&next).or_else(abort)?)?;
    Ok(())
}

impl Store {
    /// Every stored decision from `since` (inclusive) up to `until` (exclusive), oldest
    /// first, read lazily: a backtest streams through the log in constant memory.
    pub fn decisions_between(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> impl Iterator<Item = Result<StoredDecision, StoreError>> + '_ {
        // ULIDs start with their millisecond timestamp, so a time range is a key range.
        let bound = |t: chrono::DateTime<chrono::Utc>| {
            ulid::Ulid::from_parts(t.timestamp_millis().max(0) as u64, 0).to_bytes()
        };
        let start = since.map(bound).unwrap_or([0u8; 16]);
        let end = until.map(bound).unwrap_or([0xffu8; 16]);
        self.decisions.range(start..end).map(|item| {
            item.map_err(StoreError::from)
                .and_then(|(_, v)| from_json(&v))
        })
    }
}
