//! Writes as commands: serialisable values applied in one place, in order.
//!
//! Today they are applied to the local sled; the plan (product.md) is to append them to a
//! replicated log first and have every replica apply them, so each command carries every
//! input it needs (times, ids) and applying it reads nothing but the store.

use super::customers::StoredCustomer;
use super::decision_log::NewDecision;
use super::decisions::{OutcomeRecord, StoredDecision};
use super::idempotency::StoredResponse;
use super::keys::ApiKeyRecord;
use super::policies::StoredPolicy;
use super::shadows::ShadowResult;
use super::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One write to the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    PutCustomer {
        customer_id: String,
        customer: Box<StoredCustomer>,
    },
    PutCustomers {
        customers: Vec<(String, StoredCustomer)>,
    },
    DeleteCustomer {
        customer_id: String,
    },
    /// Decisions of concurrent requests, in one log append (store/decision_batch.rs).
    /// Shared (`Arc`) with the requests that made them, which answer with them once the
    /// append is done: neither side copies a record.
    PutDecisions {
        decisions: Vec<Arc<StoredDecision>>,
        /// Their frames' parts, made by each request before it joined the batch
        /// (`Store::prepare_decision`); empty, they are made when the command is applied.
        /// Derived from `decisions` alone, so never serialised.
        #[serde(skip)]
        prepared: Vec<NewDecision>,
    },
    RecordOutcome {
        decision_id: String,
        outcome: OutcomeRecord,
        /// The length of the customer's goodwill ledger the service checked the guards
        /// against (service/ledger_guard.rs): if another outcome for the customer was
        /// recorded since, this one is `Stale` and the service checks again. `None`: no
        /// check (nothing granted). In the log in cluster mode, so every replica refuses
        /// the same loser of a race.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ledger_seen: Option<u64>,
    },
    /// A grant above the deciding role's authority, approved (once per decision).
    RecordApproval {
        decision_id: String,
        approval: super::decision_record::ApprovalRecord,
    },
    PutKey {
        hash: String,
        key: ApiKeyRecord,
    },
    PutPolicy {
        policy: Box<StoredPolicy>,
    },
    /// Revoke every API key with this name (key rotation: add the new one first).
    RevokeKeys {
        name: String,
    },
    /// Make a stored version its market's active version (the market is the stored
    /// document's, so the command is the same as before markets existed).
    ActivatePolicy {
        version: String,
    },
    /// Set (or with `None` clear) the version every live decision of its market is also
    /// evaluated under. Setting: the market is the stored version's. Clearing: `market`
    /// names it (`None`: the market `default`, as every command logged before markets).
    SetShadow {
        version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        market: Option<String>,
    },
    /// The answer to replay for an idempotency key.
    IdempotencyDone {
        key: String,
        response: StoredResponse,
    },
    /// Claim an idempotency key for a request with `fingerprint` at `now_ms` (unix
    /// milliseconds); applying it answers `Applied::Claim`.
    ClaimIdempotency {
        key: String,
        fingerprint: String,
        now_ms: i64,
        window_ms: i64,
    },
    /// Give an idempotency key back (the request failed on our side; a retry may run).
    IdempotencyRelease {
        key: String,
    },
    /// What the shadow version answered for a live decision.
    PutShadowResult {
        decision_id: String,
        result: Box<ShadowResult>,
    },
    /// Remember a handled webhook delivery; `now` (unix seconds) decides expiry.
    RecordDelivery {
        key: String,
        delivery: super::webhooks::Delivery,
        now: i64,
    },
    /// New orders from one request or import batch, with each of their customers'
    /// summary and prediction as the service computed them (store/orders.rs).
    PutOrders {
        orders: Vec<super::orders::StoredOrder>,
        summaries: Vec<super::orders::SummaryChange>,
        /// The active value model the predictions were made with.
        model_version: Option<u64>,
    },
    /// A newly fitted value model's document: stored and activated. Its predictions
    /// follow in `PutPredictions`.
    PutValueModel {
        model: Box<serde_json::Value>,
    },
    /// Predictions of value model `model_version` for stored summaries.
    PutPredictions {
        model_version: u64,
        predictions: Vec<super::orders::PredictionChange>,
    },
    /// Erase a customer's orders and order summary.
    EraseOrders {
        customer_id: String,
    },
    /// NPS answers (one request or batch), by customer id.
    RecordNps {
        answers: Vec<(String, super::nps::NpsAnswer)>,
    },
    /// The outreach webhook accepted a customer from the at-risk list.
    RecordAtRiskPush {
        customer_id: String,
        push: super::at_risk_pushes::AtRiskPush,
    },
    /// Customers who left the at-risk list: push them again if they return.
    ForgetAtRiskPushes {
        customer_ids: Vec<String>,
    },
}

pub use super::Applied;

impl Store {
    /// Apply one command here, by value: it is the unit of a write (and the unit the
    /// replicated log carries), consumed where it is applied. This is the only place the
    /// store is written; in cluster mode only the log's applier calls it
    /// (store/replica.rs), everyone else goes through `apply`.
    pub fn apply_local(&self, cmd: Command) -> Result<Applied, StoreError> {
        let _gate = self.enter_gate();
        match cmd {
            Command::PutCustomer {
                customer_id,
                customer,
            } => self.apply_put_customer(&customer_id, &customer),
            Command::PutCustomers { customers } => self.apply_put_customers(&customers),
            Command::DeleteCustomer { customer_id } => self.apply_delete_customer(&customer_id),
            Command::PutDecisions {
                decisions,
                prepared,
            } => self.apply_put_decisions(&decisions, &prepared),
            Command::RecordOutcome {
                decision_id,
                outcome,
                ledger_seen,
            } => self.apply_record_outcome(&decision_id, &outcome, ledger_seen),
            Command::RecordApproval {
                decision_id,
                approval,
            } => self.apply_record_approval(&decision_id, approval),
            Command::PutKey { hash, key } => self.apply_put_key(&hash, &key),
            Command::RevokeKeys { name } => self.apply_revoke_keys(&name),
            Command::PutPolicy { policy } => self.apply_put_policy(&policy),
            Command::ActivatePolicy { version } => self.apply_activate(&version),
            Command::IdempotencyDone { key, response } => {
                self.apply_idempotency_done(&key, &response)
            }
            Command::ClaimIdempotency {
                key,
                fingerprint,
                now_ms,
                window_ms,
            } => self
                .idempotency_claim_local(&key, &fingerprint, now_ms, window_ms)
                .map(Applied::Claim),
            Command::IdempotencyRelease { key } => self.apply_idempotency_release(&key),
            Command::SetShadow { version, market } => {
                self.apply_set_shadow(version.as_deref(), market.as_deref())
            }
            Command::PutShadowResult {
                decision_id,
                result,
            } => self.apply_put_shadow_result(&decision_id, &result),
            Command::RecordDelivery { key, delivery, now } => {
                self.apply_record_delivery(&key, &delivery, now)
            }
            Command::PutOrders {
                orders,
                summaries,
                model_version,
            } => self.apply_put_orders(&orders, &summaries, model_version),
            Command::PutValueModel { model } => self.apply_put_value_model(&model),
            Command::PutPredictions {
                model_version,
                predictions,
            } => self.apply_put_predictions(model_version, &predictions),
            Command::EraseOrders { customer_id } => self.apply_erase_orders(&customer_id),
            Command::RecordNps { answers } => self.apply_record_nps(&answers),
            Command::RecordAtRiskPush { customer_id, push } => {
                self.apply_record_at_risk_push(&customer_id, &push)
            }
            Command::ForgetAtRiskPushes { customer_ids } => {
                self.apply_forget_at_risk_pushes(&customer_ids)
            }
        }
    }

    /// Apply, then flush: the durable write every 2xx stands on. In cluster mode: in the
    /// replicated log on a quorum, and applied here.
    pub async fn apply_durable(&self, cmd: Command) -> Result<Applied, StoreError> {
        if let Some(r) = &self.replicator {
            return r.submit(cmd).await;
        }
        let applied = self.apply(cmd)?;
        self.flush().await?;
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The replicated log and its snapshots hold commands written before markets: they
    /// must read the same, and a `default` market's clear must be written as before.
    #[test]
    fn policy_commands_logged_before_markets_read_and_write_as_before() {
        let old = r#"{"command":"set_shadow","version":null}"#;
        let cmd: Command = serde_json::from_str(old).unwrap();
        assert!(matches!(
            cmd,
            Command::SetShadow {
                version: None,
                market: None
            }
        ));
        assert_eq!(serde_json::to_string(&cmd).unwrap(), old);
        let activate = r#"{"command":"activate_policy","version":"2026.11.0"}"#;
        let cmd: Command = serde_json::from_str(activate).unwrap();
        assert_eq!(serde_json::to_string(&cmd).unwrap(), activate);
        let clear_ch = Command::SetShadow {
            version: None,
            market: Some("ch".into()),
        };
        assert_eq!(
            serde_json::to_string(&clear_ch).unwrap(),
            r#"{"command":"set_shadow","version":null,"market":"ch"}"#
        );
    }
}
