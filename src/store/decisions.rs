//! Decisions as stored: every decision with its request, the customer record it saw, the
//! policy version, and later the outcome. They live in the decision log
//! (store/decision_log), keyed by ULID, so in time order.

use super::decision_log::frame::{Kind, StoredBody};
use super::decision_log::{NewDecision, Version};
use super::Applied;
use super::{audit, to_json, Store, StoreError};
use crate::error_code::Code;

pub use super::decision_record::{
    ApprovalRecord, GrantedDto, OutcomeRecord, OutcomeStatus, StoredDecision,
};

fn key(id: &str) -> Result<[u8; 16], StoreError> {
    ulid::Ulid::from_string(id)
        .map(|u| u.to_bytes())
        .map_err(|_| StoreError::NotFound(format!("no decision `{}`", crate::money::truncate(id))))
}

/// `to_json(d)` for a new decision, given `decision`, the JSON of `d.decision`: the same
/// bytes, since `StoredDecision` flattens the decision first and adds its own fields after
/// it. A decision with an outcome or erased (never new) is serialised whole.
/// `tests/decision_log.rs` compares both on real decisions.
pub fn stored_json(d: &StoredDecision, decision: &[u8]) -> Result<Vec<u8>, StoreError> {
    let open = match decision.split_last() {
        Some((b'}', open))
            if open.len() > 1 && d.outcome.is_none() && d.approval.is_none() && !d.erased =>
        {
            open
        }
        _ => return to_json(d),
    };
    let mut out = Vec::with_capacity(decision.len() + 1024);
    out.extend_from_slice(open);
    out.extend_from_slice(b",\"request\":");
    serde_json::to_writer(&mut out, &d.request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(snapshot) = &d.customer_snapshot {
        out.extend_from_slice(b",\"customer_snapshot\":");
        serde_json::to_writer(&mut out, snapshot)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    out.push(b'}');
    Ok(out)
}

pub(super) fn log_id(id: &str) -> Result<u128, StoreError> {
    key(id).map(u128::from_be_bytes)
}

impl Store {
    pub fn get_decision(&self, id: &str) -> Result<Option<StoredDecision>, StoreError> {
        let Ok(k) = log_id(id) else { return Ok(None) };
        self.log.get(k)
    }

    pub fn decision_count(&self) -> usize {
        self.log.len()
    }

    /// What `d`'s log frame needs but its link: the pseudonym, the canonical audit form
    /// and the compressed record. Pure work on the record, done by each request before it
    /// joins a batch, so the one writer spends its turn on links, the write and the sync
    /// rather than on serialising (docs/performance.md).
    ///
    /// `answer` is `d.decision` as JSON when the caller has it (the response body): the
    /// stored record is then built around those bytes instead of serialising the decision
    /// a second time (`stored_json`).
    pub fn prepare_decision(
        &self,
        d: &StoredDecision,
        answer: Option<&[u8]>,
    ) -> Result<NewDecision, StoreError> {
        self.prepare_with(&self.pseudonym_key()?, d, answer)
    }

    fn prepare_with(
        &self,
        key: &[u8],
        d: &StoredDecision,
        answer: Option<&[u8]>,
    ) -> Result<NewDecision, StoreError> {
        let customer = audit::customer_key(key, d);
        let json = match answer {
            Some(answer) => stored_json(d, answer)?,
            None => to_json(d)?,
        };
        Ok(NewDecision {
            id: log_id(&d.decision.decision_id)?,
            form: audit::decision_canonical_as(d, &customer),
            customer,
            ticket: d.decision.ticket_id.clone(),
            body: StoredBody::of(&json),
        })
    }

    /// Append decisions to the decision log as one write, in order, each with its audit
    /// link; all or nothing. With strict durability the write is synced before this
    /// returns: the batch is the group commit (store/decision_batch.rs).
    /// `prepared` holds the decisions' frame parts when the caller made them (one per
    /// decision, in order); otherwise they are made here.
    pub(super) fn apply_put_decisions(
        &self,
        ds: &[std::sync::Arc<StoredDecision>],
        prepared: &[NewDecision],
    ) -> Result<Applied, StoreError> {
        // A decision already stored is not stored again: a cluster replica may apply a log
        // entry twice after a crash (cluster/applier.rs).
        let stored = |d: &StoredDecision| {
            log_id(&d.decision.decision_id).is_ok_and(|k| self.log.contains(k))
        };
        if ds.iter().any(|d| stored(d)) {
            let fresh: Vec<_> = ds.iter().filter(|d| !stored(d)).cloned().collect();
            if fresh.is_empty() {
                return Ok(Applied::Unchanged);
            }
            return self.apply_put_decisions(&fresh, &[]);
        }
        let made;
        let items = if prepared.len() == ds.len() {
            prepared
        } else {
            let key = self.pseudonym_key()?;
            made = ds
                .iter()
                .map(|d| self.prepare_with(&key, d, None))
                .collect::<Result<Vec<_>, StoreError>>()?;
            &made
        };
        let strict = self.durability == super::Durability::Strict;
        // The decisions are in the log once it returns: a failure to record the head (an
        // anchor allowed to lag, audit.rs) must not fail them, or the batch would be
        // retried and appended twice.
        self.log.append_decisions(items, strict, |a| {
            if let Err(e) = self.record_head(a) {
                tracing::warn!(error = %e, "could not record the audit head in sled");
            }
            Ok(())
        })?;
        Ok(Applied::Created)
    }

    /// Record the outcome once, with its audit link; a second outcome is a conflict. With
    /// `ledger_seen`, `Stale` unless the customer's ledger still has that many entries:
    /// checked under the log's writer lock, which the ledger entry is written under too,
    /// so two outcomes cannot both pass a check made before either was written.
    pub(super) fn apply_record_outcome(
        &self,
        id: &str,
        outcome: &OutcomeRecord,
        ledger_seen: Option<u64>,
    ) -> Result<Applied, StoreError> {
        let form = audit::canonical(&audit::outcome_form(id, outcome));
        self.append_linked(
            id,
            Kind::Outcome,
            form,
            |d| {
                if let Some(seen) = ledger_seen {
                    let now = self.ledger_len(&d.request.customer_id)?;
                    if now != seen {
                        return Err(StoreError::Stale(format!(
                            "the customer's goodwill ledger has {now} entries, not {seen}"
                        )));
                    }
                }
                d.outcome = Some(outcome.clone());
                Ok(())
            },
            // A ledger entry that fails here is made at the next open (log_open.rs): the
            // head, recorded after it, still says where the ledger was complete.
            |d| self.ledger_from(d),
        )
    }

    /// Append a new version of decision `id`, changed by `change`, as a link of the audit
    /// chain covering `form`; `after` runs once it is written, before the head is
    /// recorded. A decision that already has its outcome takes no further change.
    pub(super) fn append_linked(
        &self,
        id: &str,
        kind: Kind,
        form: Vec<u8>,
        change: impl FnOnce(&mut StoredDecision) -> Result<(), StoreError>,
        after: impl FnOnce(&StoredDecision) -> Result<(), StoreError>,
    ) -> Result<Applied, StoreError> {
        let k = log_id(id)?;
        let pseudonym_key = self.pseudonym_key()?;
        let strict = self.durability == super::Durability::Strict;
        let version = |mut d: StoredDecision| {
            if d.outcome.is_some() {
                return Err(StoreError::Conflict {
                    code: Code::OutcomeExists,
                    message: format!("decision `{id}` already has an outcome"),
                });
            }
            change(&mut d)?;
            Ok(Some(Version {
                customer: audit::customer_key(&pseudonym_key, &d),
                record: d,
                form: Some(form),
            }))
        };
        self.log.append_version(k, kind, strict, version, |d, a| {
            after(d)?;
            if let Err(e) = self.record_head(a) {
                tracing::warn!(error = %e, "could not record the audit head in sled");
            }
            Ok(())
        })?;
        Ok(Applied::Done)
    }

    /// The ledger entry the guards read at the next decision, for a decision with an
    /// outcome; an erased customer has no ledger.
    pub(super) fn ledger_from(&self, d: &StoredDecision) -> Result<(), StoreError> {
        let Some(outcome) = &d.outcome else {
            return Ok(());
        };
        if d.erased {
            return Ok(());
        }
        let k = key(&d.decision.decision_id)?;
        let entry = ledger_entry(d, outcome)?;
        let lk = super::ledger::ledger_key(&d.request.customer_id, &k);
        self.ledger.insert(lk, to_json(&entry)?)?;
        Ok(())
    }

    /// Replace the customer id by its pseudonym in every decision about the customer,
    /// and zero the earlier versions in the log. Hashes are over the pseudonymous form, so
    /// the audit chain stays intact. Returns how many decisions were rewritten.
    pub(super) fn pseudonymise_decisions(&self, customer_id: &str) -> Result<usize, StoreError> {
        let alias = self.pseudonymise(customer_id)?;
        self.log.erase_customer(&alias, |mut d| {
            if d.erased || d.request.customer_id != customer_id {
                return None;
            }
            d.request.customer_id = alias.clone();
            d.erased = true;
            Some(d)
        })
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
            d.decision.evaluation.authority.limit.currency.to_string(),
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

impl Store {
    /// Every stored decision from `since` (inclusive) up to `until` (exclusive), oldest
    /// first, read lazily: a backtest streams through the log in constant memory.
    pub fn decisions_between(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> impl Iterator<Item = Result<StoredDecision, StoreError>> + '_ {
        self.decisions_between_as(since, until)
    }

    /// `decisions_between`, each decision read as `T`, a view of the stored record's JSON
    /// with only the fields a report needs: the rest is skipped, not built.
    pub fn decisions_between_as<T: serde::de::DeserializeOwned + 'static>(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> impl Iterator<Item = Result<T, StoreError>> + '_ {
        // ULIDs start with their millisecond timestamp, so a time range is a key range.
        let bound = |t: chrono::DateTime<chrono::Utc>| {
            ulid::Ulid::from_parts(t.timestamp_millis().max(0) as u64, 0).to_bytes()
        };
        let start = since.map(bound).unwrap_or([0u8; 16]);
        let end = until.map(bound).unwrap_or([0xffu8; 16]);
        self.log
            .range_as(u128::from_be_bytes(start), u128::from_be_bytes(end))
    }
}
