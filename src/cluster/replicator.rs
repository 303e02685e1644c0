//! Writes through the log: `store::replica::Replicator` for a cluster replica.

use super::{entry, position, Cluster, READ_WAIT, WRITE_TIMEOUT};
use crate::store::replica::{Replicator, Submitted};
use crate::store::{Applied, Command, StoreError};
use async_nats::jetstream::context::PublishErrorKind;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a write keeps trying to reach a quorum before it answers 503: longer than
/// NATS's leader election (4 to 9 s), shorter than the request time limit (30 s).
const PUBLISH_PATIENCE: Duration = Duration::from_secs(12);
/// One publish attempt's wait for its acknowledgement.
const ATTEMPT: Duration = Duration::from_secs(2);
/// The pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Why the log did not take an entry.
enum Refused {
    /// The entry's subject already holds one (the conflict the log settles).
    Taken,
    /// No quorum, no connection, or another refusal; nothing was written.
    Unavailable(String),
}

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

    /// Publish `message` until a quorum acknowledges it, for up to `PUBLISH_PATIENCE`.
    /// When the stream's leader dies, NATS elects another within 4 to 9 seconds (its
    /// election timeout, not configurable; measured in tests/nats_harness.rs); retrying
    /// meanwhile turns that gap into a slower answer instead of a failed one. A retry
    /// carries the same message id, so an entry whose first acknowledgement was lost is
    /// stored once (the stream's duplicate window is two minutes).
    async fn publish(
        &self,
        subject: &str,
        message: async_nats::jetstream::message::PublishMessage,
    ) -> Result<async_nats::jetstream::publish::PublishAck, Refused> {
        let deadline = tokio::time::Instant::now() + PUBLISH_PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let attempt = tokio::time::timeout(left.min(ATTEMPT), async {
                self.js
                    .send_publish(subject.to_string(), message.clone())
                    .await?
                    .await
            })
            .await;
            let why = match attempt {
                Ok(Ok(ack)) => return Ok(ack),
                Ok(Err(e)) if is_wrong_last_sequence(&e) => return Err(Refused::Taken),
                Ok(Err(e)) => format!("the log refused the write: {e}"),
                Err(_) => "no quorum acknowledged the write in time".to_string(),
            };
            if tokio::time::Instant::now() + RETRY_PAUSE >= deadline {
                return Err(Refused::Unavailable(why));
            }
            tracing::debug!(reason = %why, "log write not acknowledged; retrying");
            tokio::time::sleep(RETRY_PAUSE).await;
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
        let ack = match self.publish(&route.subject, message).await {
            Ok(ack) => ack,
            Err(e) => {
                self.progress.forget(&msg_id);
                return Err(match (e, route.first_only) {
                    (Refused::Taken, Some(conflict)) => conflict,
                    (Refused::Taken, None) => {
                        StoreError::Unavailable("the log refused the write".into())
                    }
                    (Refused::Unavailable(why), _) => StoreError::Unavailable(why),
                });
            }
        };
        position::record(ack.sequence);
        tracing::trace!(seq = ack.sequence, %msg_id, "write acknowledged by the log");
        match tokio::time::timeout(WRITE_TIMEOUT, applied).await {
            Ok(Ok(Ok(done))) => {
                if let Some(subject) = route.purge {
                    self.purge(subject).await?;
                }
                Ok(done)
            }
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
pub(super) fn is_wrong_last_sequence(e: &async_nats::jetstream::context::PublishError) -> bool {
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
