//! The writing half of an import: a thread that applies full batches to the store while
//! the caller parses the next lines.
//!
//! Why a thread: parsing and validating a line and writing it to sled cost about the
//! same, and they do not depend on each other once a batch is complete. Done one after
//! the other they add up; overlapped on two cores the slower one sets the pace.
//!
//! Batches go through a bounded channel of `QUEUED` batches, so a fast parser waits for
//! the store instead of holding the whole input in memory. Batches are written in the
//! order they were sent, record by record (store/customers.rs says why not as sled batches).
//!
//! A batch is consumed where it is applied (`Command` by value), so its records are
//! freed on the writer thread; with mimalloc's per-thread heaps that costs no lock.

use crate::store::customers::StoredCustomer;
use crate::store::{Command, Store, StoreError};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Full batches waiting for the writer; with the one being written and the one being
/// filled, at most `QUEUED + 2` batches are in memory.
const QUEUED: usize = 4;

type Batch = Vec<(String, StoredCustomer)>;

/// Hands batches to the writer thread; `finish` waits for every one to be written.
pub struct BatchWriter {
    /// `None` once `finish` or `drop` closed the channel.
    tx: Option<SyncSender<Batch>>,
    /// Ends with the number of records written, or the first store error (after which
    /// the thread writes nothing more and drops the channel, so `send` notices).
    handle: Option<JoinHandle<Result<u64, StoreError>>>,
}

impl BatchWriter {
    pub fn spawn(store: Store) -> Result<Self, StoreError> {
        let (tx, rx) = sync_channel::<Batch>(QUEUED);
        let handle = std::thread::Builder::new()
            .name("import-writer".into())
            .spawn(move || {
                let mut written = 0u64;
                for customers in rx {
                    let n = customers.len() as u64;
                    store.apply(Command::PutCustomers { customers })?;
                    written += n;
                }
                Ok(written)
            })
            .map_err(|e| StoreError::Worker(format!("cannot start the import writer: {e}")))?;
        Ok(BatchWriter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue a full batch; waits while `QUEUED` batches are already waiting. A store
    /// error from an earlier batch is returned here, ending the import as before.
    pub fn send(&mut self, batch: Batch) -> Result<(), StoreError> {
        let sent = match &self.tx {
            Some(tx) => tx.send(batch).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The writer stopped: its result says why.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(StoreError::Worker("the import writer stopped early".into())),
        }
    }

    /// Wait until every queued batch is written; the number of records written.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.join()
    }

    fn join(&mut self) -> Result<u64, StoreError> {
        // Closing the channel ends the writer's loop once the queue is drained.
        self.tx = None;
        match self.handle.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| StoreError::Worker("the import writer panicked".into()))?,
            None => Err(StoreError::Worker("the import writer already ended".into())),
        }
    }
}

impl Drop for BatchWriter {
    /// An import abandoned half-way (a client that went away) still ends with its full
    /// batches written, as when batches were written inline; the partial one is dropped.
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.join();
        }
    }
}
