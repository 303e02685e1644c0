//! The decision log: every decision with its request, the customer record it saw, the
//! policy version, and later the outcome. Keyed by ULID, so it is in time order.

use super::command::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::domain::customer::CustomerRecordDto;
use crate::domain::decision::Decision;
use crate::domain::request::DecisionRequestDto;
use crate::money::MoneyDto;
use serde::{Deserialize, Serialize};
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

    pub(super) fn apply_put_decision(&self, d: &StoredDecision) -> Result<Applied, StoreError> {
        self.decisions
            .insert(key(&d.decision.decision_id)?, to_json(d)?)?;
        self.index_ticket(&d.decision.ticket_id, &d.decision.decision_id)?;
        Ok(Applied::Created)
    }

    /// Record the outcome once; a second outcome for the same decision is a conflict.
    pub(super) fn apply_record_outcome(
        &self,
        id: &str,
        outcome: &OutcomeRecord,
    ) -> Result<Applied, StoreError> {
        let k = key(id)?;
        loop {
            let Some(old) = self.decisions.get(k)? else {
                return Err(StoreError::NotFound(format!(
                    "no decision `{}`",
                    crate::money::truncate(id)
                )));
            };
            let mut d: StoredDecision = from_json(&old)?;
            if d.outcome.is_some() {
                return Err(StoreError::Conflict {
                    code: "outcome_exists",
                    message: format!("decision `{id}` already has an outcome"),
                });
            }
            d.outcome = Some(outcome.clone());
            // INVARIANT: compare-and-swap, so two concurrent outcomes cannot both win.
            if self
                .decisions
                .compare_and_swap(k, Some(old), Some(to_json(&d)?))?
                .is_ok()
            {
                return Ok(Applied::Done);
            }
        }
    }
}
