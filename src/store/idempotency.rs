//! Idempotency records: for each (API key, `Idempotency-Key`), the request fingerprint and,
//! once answered, the response to replay. Claims use compare-and-swap, so of two concurrent
//! requests with one key exactly one runs.

use super::{from_json, to_json, Store, StoreError};
use super::{Applied, Command};
use serde::{Deserialize, Serialize};

/// A stored idempotency record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdemRecord {
    /// SHA-256 over method, path and body of the first request.
    pub fingerprint: String,
    /// When the first request started (ms since the epoch).
    pub started_ms: i64,
    /// After this the key may be reused (ms since the epoch).
    pub expires_ms: i64,
    /// The answer, once there is one.
    pub response: Option<StoredResponse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The caller holds the key now and must run the request.
    Granted,
    /// Answered before with the same request: replay this.
    Replay(StoredResponse),
    /// Another request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// After this long an unanswered claim is taken to be abandoned (its process died).
pub const ABANDONED_MS: i64 = 60_000;

impl Store {
    /// Claim `key` for a request with `fingerprint` at `now_ms`: a write, so in cluster
    /// mode it goes through the log and every replica agrees on who holds the key.
    pub async fn idempotency_claim(
        &self,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<Claim, StoreError> {
        let cmd = Command::ClaimIdempotency {
            key: key.to_string(),
            fingerprint: fingerprint.to_string(),
            now_ms,
            window_ms,
        };
        // Not flushed in single-node mode: a claim lost in a crash only lets a retry run.
        let applied = match &self.replicator {
            Some(r) => r.submit(cmd).await?,
            None => self.apply_local(cmd)?,
        };
        match applied {
            Applied::Claim(c) => Ok(c),
            other => Err(StoreError::Corrupt(format!(
                "an idempotency claim was applied as {other:?}"
            ))),
        }
    }

    pub(super) fn idempotency_claim_local(
        &self,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<Claim, StoreError> {
        let fresh = IdemRecord {
            fingerprint: fingerprint.to_string(),
            started_ms: now_ms,
            expires_ms: now_ms + window_ms,
            response: None,
        };
        loop {
            let current = self.idempotency.get(key.as_bytes())?;
            let existing: Option<IdemRecord> =
                current.as_ref().map(|v| from_json(v)).transpose()?;
            let claim = match &existing {
                Some(r) if r.expires_ms > now_ms => {
                    if r.fingerprint != fingerprint {
                        return Ok(Claim::Mismatch);
                    }
                    if let Some(resp) = &r.response {
                        return Ok(Claim::Replay(resp.clone()));
                    }
                    if now_ms - r.started_ms < ABANDONED_MS {
                        return Ok(Claim::InFlight);
                    }
                    Claim::Granted
                }
                _ => Claim::Granted,
            };
            let swapped = self.idempotency.compare_and_swap(
                key.as_bytes(),
                current,
                Some(to_json(&fresh)?),
            )?;
            if swapped.is_ok() {
                return Ok(claim);
            }
        }
    }

    pub(super) fn apply_idempotency_done(
        &self,
        key: &str,
        response: &StoredResponse,
    ) -> Result<Applied, StoreError> {
        let Some(v) = self.idempotency.get(key.as_bytes())? else {
            return Ok(Applied::Unchanged);
        };
        let mut r: IdemRecord = from_json(&v)?;
        r.response = Some(response.clone());
        self.idempotency.insert(key.as_bytes(), to_json(&r)?)?;
        Ok(Applied::Done)
    }

    pub(super) fn apply_idempotency_release(&self, key: &str) -> Result<Applied, StoreError> {
        self.idempotency.remove(key.as_bytes())?;
        Ok(Applied::Done)
    }

    /// Forget every kept answer that mentions `needle` (erasure: a replay must not bring
    /// an erased customer's data back). Returns how many were removed.
    pub(super) fn idempotency_forget(&self, needle: &str) -> Result<usize, StoreError> {
        let quoted = serde_json::to_string(needle).unwrap_or_default();
        let mut n = 0;
        for item in self.idempotency.iter() {
            let (k, v) = item?;
            let r: IdemRecord = from_json(&v)?;
            if r.response
                .as_ref()
                .is_some_and(|resp| resp.body.contains(&quoted))
            {
                self.idempotency.remove(&k)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Remove expired records; returns how many.
    pub fn idempotency_expire(&self, now_ms: i64) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.idempotency.iter() {
            let (k, v) = item?;
            let r: IdemRecord = from_json(&v)?;
            if r.expires_ms <= now_ms {
                // Only if unchanged since read, so a fresh claim is never removed.
                if self
                    .idempotency
                    .compare_and_swap(&k, Some(v), None as Option<&[u8]>)?
                    .is_ok()
                {
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}
