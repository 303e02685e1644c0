//! NPS answers per customer: the last few, in answer-time order, so the latest score and
//! the trend are one read. Idempotent: an answer with the same time replaces the old one.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many answers a customer's history keeps (the trend window).
pub const KEEP: usize = 5;

/// One NPS answer as stored. The comment is personal data: stored, never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsAnswer {
    pub score: u8,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A customer's last answers, oldest first (at most `KEEP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsHistory {
    pub answers: Vec<NpsAnswer>,
}

impl NpsHistory {
    /// Add an answer in time order; one at the same time replaces it; the oldest fall off.
    pub fn add(&mut self, answer: NpsAnswer) {
        self.answers.retain(|a| a.at != answer.at);
        let pos = self.answers.partition_point(|a| a.at < answer.at);
        self.answers.insert(pos, answer);
        let excess = self.answers.len().saturating_sub(KEEP);
        self.answers.drain(..excess);
    }

    pub fn latest(&self) -> Option<&NpsAnswer> {
        self.answers.last()
    }
}

impl Store {
    pub fn nps_history(&self, customer_id: &str) -> Result<Option<NpsHistory>, StoreError> {
        self.nps
            .get(customer_id.as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    /// Add answers; each customer's history is updated atomically.
    pub(super) fn apply_record_nps(
        &self,
        answers: &[(String, NpsAnswer)],
    ) -> Result<Applied, StoreError> {
        for (id, answer) in answers {
            let mut failed = None;
            self.nps.update_and_fetch(id.as_bytes(), |old| {
                let mut h: NpsHistory = match old.map(from_json).transpose() {
                    Ok(h) => h.unwrap_or_default(),
                    Err(e) => {
                        failed = Some(e);
                        return old.map(<[u8]>::to_vec);
                    }
                };
                h.add(answer.clone());
                match to_json(&h) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        failed = Some(e);
                        old.map(<[u8]>::to_vec)
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(Applied::Done)
    }

    /// Erasure: the customer's answers go with their record.
    pub(super) fn erase_nps(&self, customer_id: &str) -> Result<bool, StoreError> {
        Ok(self.nps.remove(customer_id.as_bytes())?.is_some())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::Command;
    use chrono::TimeZone;

    fn answer(score: u8, day: u32) -> NpsAnswer {
        NpsAnswer {
            score,
            at: Utc.with_ymd_and_hms(2026, 10, day, 0, 0, 0).unwrap(),
            channel: None,
            comment: None,
        }
    }

    #[test]
    fn history_keeps_the_last_answers_in_time_order_and_replaces_same_time() {
        let mut h = NpsHistory::default();
        for (score, day) in [(9, 5), (3, 1), (7, 9), (8, 2), (6, 7), (2, 8)] {
            h.add(answer(score, day));
        }
        h.add(answer(1, 9));
        let scores: Vec<u8> = h.answers.iter().map(|a| a.score).collect();
        assert_eq!(scores, vec![8, 9, 6, 2, 1]);
        assert_eq!(h.latest().unwrap().score, 1);
    }

    #[test]
    fn erasing_a_customer_erases_their_answers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let cmd = Command::RecordNps {
            answers: vec![("c-1".into(), answer(4, 1))],
        };
        store.apply(cmd).unwrap();
        assert!(store.nps_history("c-1").unwrap().is_some());
        let erase = Command::DeleteCustomer {
            customer_id: "c-1".into(),
        };
        assert_eq!(store.apply(erase).unwrap(), Applied::Done);
        assert!(store.nps_history("c-1").unwrap().is_none());
    }
}
