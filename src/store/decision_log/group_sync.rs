//! Group syncs outside the writer lock. With strict durability an append is answered only
//! after an `fdatasync` that began after the append was written. Running that sync while
//! holding the writer lock made the next batch wait for it. Here the next batch is
//! written while the last one syncs, and every writer waiting when a sync ends is covered
//! by the next one: one sync in flight at a time.

use super::{io, DecisionLog};
use crate::store::StoreError;
use std::sync::{Condvar, Mutex};

#[derive(Default)]
pub struct GroupSync {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    /// Every byte below this is on disk.
    synced: u64,
    /// A sync is in flight.
    running: bool,
}

impl DecisionLog {
    /// Return once every byte of the log below `upto` is on disk.
    pub fn sync_to(&self, upto: u64) -> Result<(), StoreError> {
        let group = &self.group;
        let mut st = group.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if st.synced >= upto {
                return Ok(());
            }
            if st.running {
                st = group.done.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            st.running = true;
            drop(st);
            // INVARIANT: `end` only moves past bytes whose `pwrite` has returned, so this
            // sync covers everything below it.
            let end = self.end();
            let result = self.file.sync_data().map_err(|e| io("sync", e));
            st = group.state.lock().unwrap_or_else(|p| p.into_inner());
            st.running = false;
            if result.is_ok() {
                st.synced = st.synced.max(end);
            }
            group.done.notify_all();
            result?;
        }
    }
}
