//! Writes through the log: `store::replica::Replicator` for a cluster replica.

use super::{entry, position, Cluster, READ_WAIT, WRITE_TIMEOUT};
use crate::store::replica::{Replicator, Submitted};
use crate::store::{Applied, Command, StoreError};
use async_nats::jetstream::context::PublishErrorKind;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::oneshot;

impl Replicator for Cluster {
    fn submit(&self, cmd: Command) -> Submitted<'_> {
        Box::pin(self.write(cmd))
    }

    fn catch_up(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            match tokio::time::timeout(READ_WAIT, self.last_sequence()).await {
                Ok(Ok(last)) => self.wait_for(last, READ_WAIT).await,
                _ => false,
            }
        })
    }
}

impl Cluster {
    /// Remove every entry on `subject` from the log (an erased customer's records). The
    /// erasure itself is applied on every replica by then; if the purge fails the caller
    /// gets a 503 and retries the (idempotent) erasure, which purges again.
    async fn purge(&self, subject: String) -> Result<(), StoreError> {
        let purge = async {
            let stream = self.js.get_stream(self.cfg.stream_name()).await?;
            stream.purge().filter(subject).await?;
            Ok::<(), async_nats::Error>(())
        };
        match tokio::time::timeout(WRITE_TIMEOUT, purge).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Unavailable(format!(
                "the customer is erased on every replica, but the log still holds their \
                 records: {e}; retry the erasure"
            ))),
            Err(_) => Err(StoreError::Unavailable(
                "the customer is erased on every replica, but purging the log timed out; \
                 retry the erasure"
                    .into(),
            )),
        }
    }

    /// The largest entry body the NATS servers take, less room for the headers.
    fn max_entry(&self) -> usize {
        self.client
            .server_info()
            .max_payload
            .saturating_sub(4096)
            .max(64 * 1024)
    }

    /// Append `cmd` to the log, wait for a quorum's acknowledgement, then for this replica
    /// to apply it; answer what applying it returned. Nothing is applied anywhere but
    /// from the log, so a write that fails here changed nothing on any replica, unless it
    /// reached the log (then every replica applies it, this one too).
    async fn write(&self, cmd: Command) -> Result<Applied, StoreError> {
        let payload = entry::encode(&cmd)?;
        if payload.len() > self.max_entry() {
            return match entry::split(cmd) {
                Some((a, b)) => {
                    let first = Box::pin(self.write(a)).await?;
                    let second = Box::pin(self.write(b)).await?;
                    Ok(if second == Applied::Created {
                        second
                    } else {
                        first
                    })
                }
                None => Err(StoreError::TooLarge(format!(
                    "the record is {} bytes, more than the {} bytes one log entry holds",
                    payload.len(),
                    self.max_entry()
                ))),
            };
        }
        let route = entry::route(self.cfg.prefix(), &cmd);
        drop(cmd);
        let msg_id = format!("{}-{}", self.cfg.replica_id, ulid::Ulid::new());
        let first_only = route.first_only.is_some();
        let message = entry::message(payload, &msg_id, &self.cfg.replica_id, first_only);
        tracing::trace!(%msg_id, "writing to the log");
        let (reply, applied) = oneshot::channel();
        self.progress.register(msg_id.clone(), reply);
        let acked = tokio::time::timeout(WRITE_TIMEOUT, async {
            self.js.send_publish(route.subject, message).await?.await
        })
        .await;
        let ack = match acked {
            Ok(Ok(ack)) => ack,
            Ok(Err(e)) => {
                self.progress.forget(&msg_id);
                return Err(match route.first_only {
                    Some(conflict) if is_wrong_last_sequence(&e) => conflict,
                    _ => StoreError::Unavailable(format!("the log refused the write: {e}")),
                });
            }
            Err(_) => {
                self.progress.forget(&msg_id);
                return Err(StoreError::Unavailable(
                    "no quorum acknowledged the write in time".into(),
                ));
            }
        };
        position::record(ack.sequence);
        tracing::trace!(seq = ack.sequence, %msg_id, "write acknowledged by the log");
        match tokio::time::timeout(WRITE_TIMEOUT, applied).await {
            Ok(Ok(Ok(done))) => match route.purge {
                Some(subject) => self.purge(subject).await.map(|()| done),
                None => Ok(done),
            },
            Ok(Ok(result)) => result,
            _ => {
                self.progress.forget(&msg_id);
                Err(StoreError::Unavailable(format!(
                    "the write is in the log at position {} but this replica has not applied it yet",
                    ack.sequence
                )))
            }
        }
    }
}

/// Whether the log refused a publish because its subject already holds an entry. nats-server
/// 2.15 answers a subject-sequence mismatch with code 10164, which async-nats 0.46 reports
/// as `Other` (it maps only 10071 to `WrongLastSequence`).
fn is_wrong_last_sequence(e: &async_nats::jetstream::context::PublishError) -> bool {
    use async_nats::jetstream::ErrorCode;
    e.kind() == PublishErrorKind::WrongLastSequence
        || std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<async_nats::jetstream::Error>())
            .is_some_and(|j| {
                let code = j.error_code();
                code == ErrorCode::STREAM_WRONG_LAST_SEQUENCE
                    || code == ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT
            })
}
