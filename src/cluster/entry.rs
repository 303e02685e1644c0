//! One entry of the log: a `store::Command` as JSON, on a subject that says what it is.
//!
//! Most commands go to `<name>.w.<kind>`. An approval of a decision goes to a subject of
//! its own, published with "expect no earlier entry on this subject", so whichever
//! replica's entry reaches the log second is refused by JetStream, not by a local check.
//! An outcome has its own subject too, but the applier settles its race (in log order, on
//! every replica alike), because an outcome refused for a changed ledger is retried. A
//! single customer's record goes to a subject named by a hash of its id, so an erasure can
//! purge it from the log.

use crate::error_code::Code;
use crate::store::{Command, StoreError};
use async_nats::jetstream::message::PublishMessage as Publish;
use sha2::{Digest, Sha256};

/// The header naming the replica that wrote an entry (for operators reading the log).
pub const REPLICA_HEADER: &str = "Kulanz-Replica";
/// The entry's unique id, by which its writer waits for it (JetStream keeps
/// `Nats-Msg-Id` for deduplication but does not deliver it).
pub const ENTRY_HEADER: &str = "Kulanz-Entry";

/// Where `cmd` is published, and whether the subject must hold no entry yet (the conflict
/// the log settles, with the error a second writer gets).
pub struct Route {
    pub subject: String,
    pub first_only: Option<StoreError>,
    /// A subject to purge from the log once the command is applied (an erasure).
    pub purge: Option<String>,
}

/// The subject of `cmd` in the log with prefix `prefix`.
pub fn route(prefix: &str, cmd: &Command) -> Route {
    let plain = |kind: &str| Route {
        subject: format!("{prefix}.w.{kind}"),
        first_only: None,
        purge: None,
    };
    match cmd {
        // Not first-only: an outcome the applier refused as `Stale` (its ledger check was
        // overtaken, service/ledger_guard.rs) stays in the log, and the service's retry
        // must reach the log after it. Recording once is the applier's to settle: it
        // refuses a second outcome (`409 outcome_exists`) on every replica alike.
        Command::RecordOutcome { decision_id, .. } => Route {
            subject: format!("{prefix}.outcome.{}", token(decision_id)),
            first_only: None,
            purge: None,
        },
        Command::RecordApproval { decision_id, .. } => Route {
            subject: format!("{prefix}.approval.{}", token(decision_id)),
            first_only: Some(StoreError::Conflict {
                code: Code::ApprovalExists,
                message: format!("decision `{decision_id}` already has an approval"),
            }),
            purge: None,
        },
        Command::PutCustomer { customer_id, .. } => Route {
            subject: customer_subject(prefix, customer_id),
            first_only: None,
            purge: None,
        },
        Command::DeleteCustomer { customer_id } => Route {
            purge: Some(customer_subject(prefix, customer_id)),
            ..plain(kind(cmd))
        },
        other => plain(kind(other)),
    }
}

/// The subject holding `customer_id`'s own record entries (purged on erasure).
pub fn customer_subject(prefix: &str, customer_id: &str) -> String {
    format!("{prefix}.customer.{}", token(customer_id))
}

/// A subject token for any id: ids may hold dots or spaces, which subjects cannot.
fn token(id: &str) -> String {
    hex::encode(&Sha256::digest(id.as_bytes())[..16])
}

/// The entry's body.
pub fn encode(cmd: &Command) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(cmd).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The message for a command encoded as `payload`: a unique id (a retried publish is
/// stored once) and the writing replica.
pub fn message(payload: Vec<u8>, msg_id: &str, replica: &str, first_only: bool) -> Publish {
    let publish = Publish::build()
        .payload(payload.into())
        .message_id(msg_id)
        .header(ENTRY_HEADER, msg_id)
        .header(REPLICA_HEADER, replica);
    if first_only {
        publish.expected_last_subject_sequence(0)
    } else {
        publish
    }
}

/// Halves of a batch too large for one entry (customers, orders, NPS answers); `None`
/// when it is not a batch of more than one. Each half is applied on its own,
/// as the single-node import applies its batches.
pub fn split(cmd: Command) -> Option<(Command, Command)> {
    fn halves<T>(mut v: Vec<T>) -> (Vec<T>, Vec<T>) {
        let back = v.split_off(v.len() / 2);
        (v, back)
    }
    match cmd {
        Command::PutCustomers { customers } if customers.len() > 1 => {
            let (a, b) = halves(customers);
            Some((
                Command::PutCustomers { customers: a },
                Command::PutCustomers { customers: b },
            ))
        }
        // By customer: each half carries its customers' orders and summaries.
        Command::PutOrders {
            orders,
            summaries,
            model_version,
        } if summaries.len() > 1 => {
            let (a, b) = halves(summaries);
            let in_a: std::collections::HashSet<&str> =
                a.iter().map(|c| c.customer_id.as_str()).collect();
            let (orders_a, orders_b) = orders
                .into_iter()
                .partition(|o| in_a.contains(o.customer_id.as_str()));
            Some((
                Command::PutOrders {
                    orders: orders_a,
                    summaries: a,
                    model_version,
                },
                Command::PutOrders {
                    orders: orders_b,
                    summaries: b,
                    model_version,
                },
            ))
        }
        Command::PutPredictions {
            model_version,
            predictions,
        } if predictions.len() > 1 => {
            let (a, b) = halves(predictions);
            Some((
                Command::PutPredictions {
                    model_version,
                    predictions: a,
                },
                Command::PutPredictions {
                    model_version,
                    predictions: b,
                },
            ))
        }
        Command::RecordNps { answers } if answers.len() > 1 => {
            let (a, b) = halves(answers);
            Some((
                Command::RecordNps { answers: a },
                Command::RecordNps { answers: b },
            ))
        }
        _ => None,
    }
}

/// The command an entry carries.
pub fn decode(payload: &[u8]) -> Result<Command, String> {
    serde_json::from_slice(payload).map_err(|e| e.to_string())
}

/// A command's kind, as its subject's last token.
fn kind(cmd: &Command) -> &'static str {
    match cmd {
        Command::PutCustomer { .. } => "put_customer",
        Command::PutCustomers { .. } => "put_customers",
        Command::DeleteCustomer { .. } => "delete_customer",
        Command::PutDecisions { .. } => "put_decisions",
        Command::RecordOutcome { .. } => "record_outcome",
        Command::RecordApproval { .. } => "record_approval",
        Command::PutKey { .. } => "put_key",
        Command::PutPolicy { .. } => "put_policy",
        Command::RevokeKeys { .. } => "revoke_keys",
        Command::ActivatePolicy { .. } => "activate_policy",
        Command::SetShadow { .. } => "set_shadow",
        Command::ClaimIdempotency { .. } => "claim_idempotency",
        Command::IdempotencyDone { .. } => "idempotency_done",
        Command::IdempotencyRelease { .. } => "idempotency_release",
        Command::PutShadowResult { .. } => "put_shadow_result",
        Command::RecordDelivery { .. } => "record_delivery",
        Command::PutOrders { .. } => "put_orders",
        Command::PutValueModel { .. } => "put_value_model",
        Command::PutPredictions { .. } => "put_predictions",
        Command::EraseOrders { .. } => "erase_orders",
        Command::RecordNps { .. } => "record_nps",
        Command::RecordAtRiskPush { .. } => "record_at_risk_push",
        Command::ForgetAtRiskPushes { .. } => "forget_at_risk_pushes",
    }
}

/// Whether applying `cmd` may take long (many records): applied off the async workers.
pub fn is_bulk(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::PutCustomers { .. }
            | Command::PutOrders { .. }
            | Command::PutValueModel { .. }
            | Command::PutPredictions { .. }
            | Command::RecordNps { .. }
            | Command::DeleteCustomer { .. }
            | Command::EraseOrders { .. }
    )
}
