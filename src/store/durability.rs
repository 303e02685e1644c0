//! Group commit: every acknowledged write waits for a flush, but concurrent writers share
//! one. Waiters queue on a channel; one task takes everyone queued, runs a single sled
//! flush (one fsync) on the blocking pool, and wakes them all with its result.
//!
//! `Durability::Relaxed` skips the wait: sled's background flush (every 500 ms) makes the
//! write durable later, so a machine crash can lose the last half second of acknowledged
//! writes. Decisions go to the decision log, which syncs its own appends: per batch when
//! strict, at least every 500 ms when relaxed (store/decision_log).

use super::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// When a write counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Durability {
    /// Flushed to disk before the response (the default).
    #[default]
    Strict,
    /// Acknowledged once applied in memory; flushed within about 500 ms.
    Relaxed,
}

type Waiter = oneshot::Sender<Result<(), String>>;

/// A writer waiting for a flush, with a handle to the store to flush. The flusher keeps
/// no handle of its own while idle, so closing the store is never held up by it.
type Request = (Waiter, sled::Db);

/// The group-commit flusher of one store.
#[derive(Default)]
pub struct GroupCommit {
    tx: OnceLock<mpsc::UnboundedSender<Request>>,
    /// Flushes run so far (each is one fsync).
    flushes: Arc<AtomicU64>,
}

impl GroupCommit {
    /// Wait until everything written before this call is on disk.
    pub async fn flush(&self, db: &sled::Db) -> Result<(), StoreError> {
        let tx = self.tx.get_or_init(|| start(self.flushes.clone()));
        let (done, wait) = oneshot::channel();
        if tx.send((done, db.clone())).is_err() {
            // The flusher is gone (runtime shutting down): flush directly.
            db.flush_async().await?;
            return Ok(());
        }
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Corrupt(format!("flush failed: {e}"))),
            Err(_) => {
                db.flush_async().await?;
                Ok(())
            }
        }
    }
}

impl GroupCommit {
    /// How many flushes have run (each covering every writer queued at the time).
    pub fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}

fn start(flushes: Arc<AtomicU64>) -> mpsc::UnboundedSender<Request> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
    tokio::spawn(async move {
        while let Some((first, db)) = rx.recv().await {
            let mut batch = vec![first];
            while let Ok((more, _)) = rx.try_recv() {
                batch.push(more);
            }
            // INVARIANT: every waiter in `batch` queued after its write was applied, so
            // this one flush covers all of their writes.
            let result = tokio::task::spawn_blocking(move || db.flush().map(|_| ()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            flushes.fetch_add(1, Ordering::Relaxed);
            crate::metrics::record_flush(batch.len());
            for w in batch {
                let _ = w.send(result.clone());
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::GroupCommit;

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_writers_share_one_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let group = GroupCommit::default();
        for i in 0..20u32 {
            db.insert(i.to_be_bytes(), &b"x"[..]).unwrap();
        }
        // All twenty queue before the flusher task first runs, so one flush serves them.
        let waits: Vec<_> = (0..20).map(|_| group.flush(&db)).collect();
        for r in futures_join(waits).await {
            r.unwrap();
        }
        assert_eq!(group.flush_count(), 1);
        group.flush(&db).await.unwrap();
        assert_eq!(group.flush_count(), 2);
    }

    async fn futures_join<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
        let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
        let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
                if slot.is_none() {
                    match f.as_mut().poll(cx) {
                        std::task::Poll::Ready(v) => *slot = Some(v),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        out.into_iter().flatten().collect()
    }
}
