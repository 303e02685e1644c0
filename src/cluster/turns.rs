//! Turns: periodic work that one replica should do for the whole cluster (the at-risk
//! push, which sends customers to an outreach system: two replicas sending the same
//! customer would reach them twice). Each replica runs the same timer; before a pass it
//! asks for the turn. The turn is an entry on `<name>.meta.turn.<job>`, appended with
//! "only if the last entry there is the one I saw", and only when that last entry is older
//! than the job's interval: so one replica per interval gets it, whichever replicas are up.

use super::Cluster;
use async_nats::jetstream::message::PublishMessage as Publish;
use std::time::Duration;

impl Cluster {
    /// Whether this replica takes this interval's turn at `job` (a subject token). `false`
    /// when another replica took it within `interval`, won the race for it, this replica
    /// is not caught up, or the log cannot be reached (the pass waits for the next interval: skipping is safe, doing
    /// it twice is not).
    pub async fn take_turn(&self, job: &str, interval: Duration) -> bool {
        // A replica behind the log would work from an old state (an old "pushed" list).
        if !self.is_ready() {
            return false;
        }
        match self.try_turn(job, interval).await {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot ask the log for a turn; skipping this pass");
                false
            }
        }
    }

    async fn try_turn(&self, job: &str, interval: Duration) -> anyhow::Result<bool> {
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
        // A timer fires a little early or late on each replica: a turn younger than 90% of
        // the interval belongs to this interval.
        let fresh = interval.mul_f64(0.9);
        if let Some(m) = &last {
            let now = i128::from(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX));
            let age = now - m.time.unix_timestamp_nanos();
            if age < i128::try_from(fresh.as_nanos()).unwrap_or(i128::MAX) {
                return Ok(false);
            }
        }
        let expected = last.as_ref().map_or(0, |m| m.sequence);
        let publish = Publish::build()
            .payload(self.cfg.replica_id.clone().into_bytes().into())
            .expected_last_subject_sequence(expected);
        match self.js.send_publish(subject.clone(), publish).await?.await {
            Ok(_) => {}
            Err(e) if super::replicator::is_wrong_last_sequence(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        // Only the last turn matters; the older ones need not stay in the log.
        stream.purge().filter(subject).keep(1).await?;
        Ok(true)
    }
}
