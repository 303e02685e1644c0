//! The audit chain: every stored decision and outcome appends an entry whose hash covers
//! the record (in a canonical form) and the previous entry's hash, so any later change to
//! a record or the order breaks the chain at that point. `kulanz audit verify` walks it.
//!
//! Customer ids are hashed in pseudonymous form (a keyed HMAC), so erasure can replace
//! them in past decisions without breaking the chain.

use super::decision_log::frame::Kind;
use super::decisions::{OutcomeRecord, StoredDecision};
use super::{canonical_json, from_json, Store, StoreError};
use crate::domain::customer::CustomerRecordDto;
use crate::domain::decision::Decision;
use crate::domain::request::DecisionRequestDto;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub(super) const HEAD: &[u8] = b"audit_head";
pub(super) const PSEUDONYM_KEY: &[u8] = b"pseudonym_key";
/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    /// `decision` or `outcome`.
    pub kind: String,
    pub decision_id: String,
    pub prev: String,
    pub hash: String,
}

/// The last link as recorded in sled after every append to the decision log: an anchor
/// outside the log, so links cut off its end are noticed. It may lag the log after a
/// crash (sled syncs on its own schedule), never lead it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Head {
    pub seq: u64,
    pub hash: String,
    /// The log's length then: every outcome before it has its ledger entry in sled
    /// (store/log_open.rs completes the ones after it).
    #[serde(default)]
    pub log_end: u64,
}

/// JSON with object keys sorted at every level, no whitespace: one byte string per value.
pub fn canonical(v: &Value) -> Vec<u8> {
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend(serde_json::to_vec(k).unwrap_or_default());
                    out.push(b':');
                    if let Some(x) = m.get(k) {
                        write(x, out);
                    }
                }
                out.push(b'}');
            }
            Value::Array(a) => {
                out.push(b'[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(x, out);
                }
                out.push(b']');
            }
            other => out.extend(serde_json::to_vec(other).unwrap_or_default()),
        }
    }
    let mut out = Vec::new();
    write(v, &mut out);
    out
}

/// `sha256(prev || "\n" || canonical(form))`, hex.
pub fn link(prev: &str, form: &Value) -> String {
    link_canonical(prev, &canonical(form))
}

/// `link` for a form already in canonical bytes.
pub fn link_canonical(prev: &str, canonical_form: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical_form);
    hex::encode(h.finalize())
}

/// A keyed pseudonym of a customer id: stable, not reversible without the store's key.
#[expect(
    clippy::expect_used,
    reason = "HMAC-SHA256 accepts keys of any length; new_from_slice cannot fail"
)]
pub fn pseudonym(key: &[u8], customer_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(customer_id.as_bytes());
    let hex = hex::encode(mac.finalize().into_bytes());
    format!("ps_{}", hex.get(..32).unwrap_or(&hex))
}

/// What is hashed for a decision: the record without its outcome (hashed separately) and
/// with the customer id in pseudonymous form.
pub fn decision_form(key: &[u8], d: &StoredDecision) -> Value {
    decision_form_as(d, &customer_key(key, d))
}

fn decision_form_as(d: &StoredDecision, alias: &str) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("outcome");
        o.remove("approval");
        o.remove("erased");
    }
    v["request"]["customer_id"] = Value::String(alias.to_string());
    v
}

/// `canonical(&decision_form(key, d))`, the bytes a decision's link covers, written
/// straight from the record (`canonical_json`) instead of through a `Value` tree: the same
/// bytes at a fraction of the cost, on every decision. A record the direct writer cannot
/// take goes the `Value` way.
pub fn decision_canonical(key: &[u8], d: &StoredDecision) -> Vec<u8> {
    decision_canonical_as(d, &customer_key(key, d))
}

/// The customer id as the audit form and the log's index hold it: its pseudonym, which
/// is the id itself once erased.
pub fn customer_key(key: &[u8], d: &StoredDecision) -> String {
    if d.erased {
        d.request.customer_id.clone()
    } else {
        pseudonym(key, &d.request.customer_id)
    }
}

/// `decision_canonical` with the pseudonym already computed (`customer_key`).
pub fn decision_canonical_as(d: &StoredDecision, alias: &str) -> Vec<u8> {
    /// `decision_form` as a struct: the record's fields but `outcome` and `erased`, and the
    /// request with the pseudonym. A field added to `StoredDecision` must be added here
    /// too; `tests/audit_form.rs` compares both forms on real decisions and fails if not.
    #[derive(Serialize)]
    struct Form<'a> {
        #[serde(flatten)]
        decision: &'a Decision,
        request: std::borrow::Cow<'a, DecisionRequestDto>,
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_snapshot: Option<&'a CustomerRecordDto>,
    }
    let request = if d.request.customer_id == alias {
        std::borrow::Cow::Borrowed(&d.request)
    } else {
        let mut r = d.request.clone();
        r.customer_id = alias.to_string();
        std::borrow::Cow::Owned(r)
    };
    let form = Form {
        decision: &d.decision,
        request,
        customer_snapshot: d.customer_snapshot.as_ref(),
    };
    let mut out = Vec::with_capacity(4096);
    match canonical_json::write(&form, &mut out) {
        Ok(()) => out,
        Err(_) => canonical(&decision_form_as(d, alias)),
    }
}

/// What is hashed for an outcome.
pub fn outcome_form(decision_id: &str, o: &OutcomeRecord) -> Value {
    serde_json::json!({"decision_id": decision_id, "outcome": o})
}

/// Where verification stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// `true` when every link holds.
    pub intact: bool,
    /// The first broken entry, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_break: Option<String>,
}

impl Store {
    pub(super) fn pseudonym_key(&self) -> Result<Vec<u8>, StoreError> {
        Ok(self
            .meta
            .get(PSEUDONYM_KEY)?
            .map(|v| v.to_vec())
            .unwrap_or_default())
    }

    /// The pseudonym of a customer id under this store's key.
    pub fn pseudonymise(&self, customer_id: &str) -> Result<String, StoreError> {
        Ok(pseudonym(&self.pseudonym_key()?, customer_id))
    }

    /// Record where the chain ends in sled (after every append to the decision log).
    pub(super) fn record_head(&self, a: &super::decision_log::Appended) -> Result<(), StoreError> {
        let head = Head {
            seq: a.seq,
            hash: a.hash.clone(),
            log_end: a.end,
        };
        self.meta.insert(HEAD, super::to_json(&head)?)?;
        Ok(())
    }

    pub(super) fn recorded_head(&self) -> Result<Head, StoreError> {
        Ok(match self.meta.get(HEAD)? {
            Some(v) => from_json(&v)?,
            None => Head {
                seq: 0,
                hash: GENESIS.to_string(),
                log_end: 0,
            },
        })
    }

    /// Walk the chain from the start and report the first entry that does not hold.
    pub fn verify_audit(&self) -> Result<Verification, StoreError> {
        let key = self.pseudonym_key()?;
        let head = self.recorded_head()?;
        let mut prev = GENESIS.to_string();
        let mut entries = 0u64;
        let mut head_hash = None;
        let mut first_break = None;
        self.log.for_each_frame(|h, _, _| {
            if !h.kind.is_linked() {
                return Ok(true);
            }
            entries += 1;
            let id = ulid::Ulid(h.id).to_string();
            let kind = h.kind.label();
            let what = format!("entry {} ({kind} {id})", h.seq);
            let hash = hex::encode(h.hash);
            let why = if h.seq != entries {
                Some(format!("{what}: entry {entries} is missing before it"))
            } else {
                match self.log.get(h.id)? {
                    None => Some(format!("{what}: the decision is missing")),
                    Some(d) => {
                        let form = match (h.kind, &d.outcome, &d.approval) {
                            (Kind::Decision, _, _) => Some(decision_canonical(&key, &d)),
                            (Kind::Approval, _, Some(a)) => {
                                Some(canonical(&super::approvals::approval_form(&id, a)))
                            }
                            (Kind::Outcome, Some(o), _) => Some(canonical(&outcome_form(&id, o))),
                            _ => None,
                        };
                        match form {
                            None => Some(format!("{what}: the {kind} is missing")),
                            Some(f) if link_canonical(&prev, &f) != hash => Some(format!(
                                "{what}: the record was changed after it was written"
                            )),
                            Some(_) => None,
                        }
                    }
                }
            };
            if let Some(why) = why {
                first_break = Some(why);
                return Ok(false);
            }
            if h.seq == head.seq {
                head_hash = Some(hash.clone());
            }
            prev = hash;
            Ok(true)
        })?;
        if first_break.is_none() && head.seq > 0 && head_hash.as_deref() != Some(&head.hash) {
            // The head records where the chain ended: entries cut off the end show up here.
            first_break = Some(if head.seq > entries {
                format!(
                    "the end: the chain has {entries} entries but its head records {}",
                    head.seq
                )
            } else {
                format!(
                    "the end: entry {} does not match the recorded head",
                    head.seq
                )
            });
        }
        Ok(Verification {
            entries,
            intact: first_break.is_none(),
            first_break,
        })
    }
}
