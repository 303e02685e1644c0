//! Turns: periodic work that one replica should do for the whole cluster (the at-risk
//! push, which sends customers to an outreach system: two replicas sending the same
//! customer would reach them twice). Each replica runs the same timer; before a pass it
//! asks for the turn, and after the pass it ends it.
//!
//! The turn is an entry on `<name>.meta.turn.<job>`, appended with "only if the last entry
//! there is the one I saw", so of two replicas asking at once one wins. The last entry says
//! either "taken by r1" or "done by r1":
//! - taken: nobody else may take it until the holder ends it, or until the lease (the
//!   longest a pass can last) has run out, the holder being taken to have died;
//! - done: the next turn is free once the interval has passed since.
//!
//! The work a pass records goes through the log before its "done" entry, and a new holder
//! starts only once its own replica has applied its "taken" entry, which comes after: so
//! each pass sees everything the passes before it recorded, whichever replica ran them.

use super::Cluster;
use async_nats::jetstream::message::PublishMessage as Publish;
use std::time::Duration;

/// How long a new holder waits for its own replica to apply the log up to its turn.
const CATCH_UP: Duration = Duration::from_secs(10);

/// A turn this replica holds; give it back with [`Cluster::end_turn`].
#[must_use = "a turn not ended blocks the job on every replica until its lease runs out"]
pub struct Turn {
    subject: String,
    sequence: u64,
}

impl Cluster {
    /// This interval's turn at `job` (a subject token), if this replica gets it. `None`
    /// when another replica holds it or ended it within `interval`, won the race for it,
    /// this replica cannot catch up with the log, or the log cannot be reached (the pass
    /// waits for the next interval: skipping is safe, doing it twice is not). `lease` is
    /// the longest a pass can take: a turn held longer is taken to be abandoned.
    pub async fn take_turn(&self, job: &str, interval: Duration, lease: Duration) -> Option<Turn> {
        // A replica behind the log would work from an old state (an old "pushed" list).
        if !self.is_ready() {
            return None;
        }
        let turn = match self.try_turn(job, interval, lease).await {
            Ok(turn) => turn?,
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot ask the log for a turn; skipping this pass");
                return None;
            }
        };
        if self.wait_for(turn.sequence, CATCH_UP).await {
            return Some(turn);
        }
        tracing::warn!(
            job,
            "took the turn but could not apply the log up to it; giving it back"
        );
        self.end_turn(turn).await;
        None
    }

    /// End a turn taken with [`Cluster::take_turn`]: the next one is free after the
    /// interval. If the log cannot be reached, the turn frees itself when its lease ends.
    pub async fn end_turn(&self, turn: Turn) {
        let done = format!("done {}", self.cfg.replica_id);
        if let Err(e) = self
            .append_turn_entry(&turn.subject, done, turn.sequence)
            .await
        {
            tracing::warn!(subject = %turn.subject, error = %e, "cannot end the turn; it frees itself when its lease runs out");
        }
    }

    async fn try_turn(
        &self,
        job: &str,
        interval: Duration,
        lease: Duration,
    ) -> anyhow::Result<Option<Turn>> {
        let subject = format!("{}.meta.turn.{job}", self.cfg.prefix());
        let stream = self.js.get_stream(self.cfg.stream_name()).await?;
        let last = match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(m) => Some(m),
            Err(e)
                if e.kind()
                    == async_nats::jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
            {
                None
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(m) = &last {
            // A timer fires a little early or late on each replica: a turn ended less than
            // 90% of the interval ago belongs to this interval.
            let busy = if m.payload.starts_with(b"done ") {
                interval.mul_f64(0.9)
            } else {
                lease.max(interval.mul_f64(0.9))
            };
            let now = i128::from(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX));
            let age = now - m.time.unix_timestamp_nanos();
            if age < i128::try_from(busy.as_nanos()).unwrap_or(i128::MAX) {
                return Ok(None);
            }
        }
        let expected = last.as_ref().map_or(0, |m| m.sequence);
        let taken = self.cfg.replica_id.clone();
        match self.append_turn_entry(&subject, taken, expected).await? {
            Some(sequence) => Ok(Some(Turn { subject, sequence })),
            None => Ok(None),
        }
    }

    /// Append `payload` to `subject` if its last entry is still `expected`: the new
    /// entry's position, or `None` when another replica wrote there first.
    async fn append_turn_entry(
        &self,
        subject: &str,
        payload: String,
        expected: u64,
    ) -> anyhow::Result<Option<u64>> {
        let publish = Publish::build()
            .payload(payload.into_bytes().into())
            .expected_last_subject_sequence(expected);
        let sequence = match self
            .js
            .send_publish(subject.to_string(), publish)
            .await?
            .await
        {
            Ok(ack) => ack.sequence,
            Err(e) if super::replicator::is_wrong_last_sequence(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // Only the last entry matters; the older ones need not stay in the log.
        let stream = self.js.get_stream(self.cfg.stream_name()).await?;
        stream.purge().filter(subject).keep(1).await?;
        Ok(Some(sequence))
    }
}
