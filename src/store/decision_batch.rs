//! Batched decision writes. Each append to the decision log is one `pwrite` and, with
//! strict durability, one `fdatasync`: batching concurrent decisions into one append
//! shares that cost, and the batch is the group commit (docs/performance.md).
//!
//! Writers queue their record (shared, `Arc`) on a channel; one task takes everyone
//! queued, applies them as one `PutDecisions` command (one append, synced there with
//! strict durability) and answers each writer with the result; the writer then takes its
//! record back out of the `Arc`, which the applied command no longer holds. Strict batches are applied on the
//! blocking pool (the sync takes a millisecond or so); relaxed ones on the task's own
//! worker. Each writer first makes its frame's parts (`Store::prepare_decision`: the audit
//! form, the stored JSON, compressed), in parallel with the others and with the sync in
//! progress, so the one writer's turn is only links, one write and the sync. A failed
//! batch is retried one decision at a time, so one bad record fails only its own request.
//! Like the group-commit flusher, the task holds a store handle only while it works, so
//! closing the store is never held up.

use super::decision_log::NewDecision;
use super::decisions::StoredDecision;
use super::Applied;
use super::{Command, Durability, Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// The most decisions one append takes; more wait for the next one.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Written>;
type Request = (Arc<StoredDecision>, NewDecision, Reply, Store);
/// Whether a writer's decision is in the log.
type Written = Result<(), StoreError>;

/// The decision batcher of one store.
#[derive(Default)]
pub struct DecisionBatch {
    tx: OnceLock<mpsc::UnboundedSender<Request>>,
    /// Batches written so far (each is one append).
    batches: Arc<AtomicU64>,
}

impl Store {
    /// Apply `PutDecisions` for `d`, batched with concurrent writers into one append.
    /// With strict durability it returns once the batch is synced to disk (one sync per
    /// batch: the batch is the group commit); relaxed, once it is written. The record
    /// comes back for the caller's answer, not copied.
    /// `answer` is the decision as JSON, when the caller serialised it already (see
    /// `prepare_decision`).
    pub async fn put_decision_batched(
        &self,
        d: Box<StoredDecision>,
        answer: Option<&[u8]>,
    ) -> Result<Box<StoredDecision>, StoreError> {
        if let Some(r) = &self.replicator {
            // Cluster mode: one log entry per decision; the log batches the syncs.
            let d = Arc::new(*d);
            r.submit(Command::PutDecisions {
                decisions: vec![d.clone()],
                prepared: Vec::new(),
            })
            .await?;
            return Ok(Box::new(
                Arc::try_unwrap(d).unwrap_or_else(|shared| (*shared).clone()),
            ));
        }
        let tx = self
            .batch
            .tx
            .get_or_init(|| start(self.batch.batches.clone()));
        let prepared = self.prepare_decision(&d, answer)?;
        let d = Arc::new(*d);
        let (reply, wait) = oneshot::channel();
        match tx.send((d.clone(), prepared, reply, self.clone())) {
            Ok(()) => wait.await.unwrap_or_else(|_| {
                Err(StoreError::Corrupt(
                    "the decision writer stopped before answering".into(),
                ))
            })?,
            // The batcher is gone (the runtime is shutting down): write it here.
            Err(mpsc::error::SendError((d, prepared, _, _))) => {
                self.apply(Command::PutDecisions {
                    decisions: vec![d],
                    prepared: vec![prepared],
                })?;
                self.flush().await?;
            }
        }
        // INVARIANT: the batcher and the applied command dropped their handles before the
        // answer came, so this is the only one; a clone would only cost a copy.
        Ok(Box::new(
            Arc::try_unwrap(d).unwrap_or_else(|shared| (*shared).clone()),
        ))
    }

    /// How many batched appends have been written (for tests and benchmarks).
    pub fn decision_batch_count(&self) -> u64 {
        self.batch.batches.load(Ordering::Relaxed)
    }
}

fn start(batches: Arc<AtomicU64>) -> mpsc::UnboundedSender<Request> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if first.3.durability == Durability::Relaxed {
                // Let the requests already ready on this worker join first. Relaxed, the
                // batch is written right here, so without this nearly every decision was a
                // batch of its own: one `pwrite` each (where ext4 zeroes the new part of
                // the page cache on every call, 8% of the server's time) and one sled
                // insert of the audit head each. With it, appending fell from 17-19% to
                // 8% of the server's CPU (perf, docs/performance.md). Strict batches fill
                // while the previous one syncs.
                tokio::task::yield_now().await;
            }
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            // Counted before the writers hear back, so a writer sees its own batch counted.
            batches.fetch_add(1, Ordering::Relaxed);
            let strict = batch
                .first()
                .is_some_and(|(_, _, _, s)| s.durability == Durability::Strict);
            if strict {
                // On the blocking pool: the sync takes a millisecond or so, and both workers
                // keep taking requests (filling the next batch) meanwhile. A panic in
                // `write` drops the replies: their writers get an error.
                // The answers go out from this task, not the pool's thread: woken from
                // a worker, the writers' tasks are queued on it; woken from outside the
                // runtime, each wake-up could unpark a worker.
                if let Ok(written) = tokio::task::spawn_blocking(move || write(batch)).await {
                    answer(written);
                }
            } else {
                // Relaxed, the turn is links and one `pwrite` (the requests made the rest,
                // `prepare_decision`), tens of microseconds: cheaper on this worker than
                // the hand-over to the pool and back, 60-63 against 70-80 us of server CPU
                // per decision (5 alternating pairs, docs/performance.md). The sync every
                // 500 ms may fall to this worker.
                answer(write(batch));
            }
        }
    });
    tx
}

/// Apply a batch as one command (on failure, each decision on its own), made durable
/// when the store is strict; each writer's result with its reply channel.
fn write(batch: Vec<Request>) -> Vec<(Written, Reply)> {
    let Some(store) = batch.first().map(|(_, _, _, s)| s.clone()) else {
        return Vec::new();
    };
    let mut records = Vec::with_capacity(batch.len());
    let mut prepared = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for (d, p, r, _) in batch {
        records.push(d);
        prepared.push(p);
        replies.push(r);
    }
    // INVARIANT: with strict durability the decision log syncs the batch before `apply`
    // returns, so a decision's 2xx means it is on disk; decisions queued meanwhile share
    // the next sync.
    let written = apply(&store, records, prepared);
    if store.durability == Durability::Strict {
        crate::metrics::record_flush(written.len());
    }
    written.into_iter().zip(replies).collect()
}

fn answer(written: Vec<(Written, Reply)>) {
    for (w, reply) in written {
        let _ = reply.send(w);
    }
}

/// One append for the batch; if it fails, one append per decision (re-prepared from the
/// record), so one bad record fails only its own request. The records are dropped here,
/// before the writers hear back.
fn apply(
    store: &Store,
    records: Vec<Arc<StoredDecision>>,
    prepared: Vec<NewDecision>,
) -> Vec<Written> {
    let n = records.len();
    let retry = (n > 1).then(|| records.clone());
    let whole = store.apply(Command::PutDecisions {
        decisions: records,
        prepared,
    });
    match (whole, retry) {
        (Ok(_), _) => (0..n).map(|_| Ok(())).collect(),
        (Err(e), None) => vec![Err(e)],
        (Err(_), Some(records)) => records
            .into_iter()
            .map(|d| {
                store
                    .apply(Command::PutDecisions {
                        decisions: vec![d],
                        prepared: Vec::new(),
                    })
                    .map(|_: Applied| ())
            })
            .collect(),
    }
}
