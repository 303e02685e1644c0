//! Opening the log: read every frame, rebuild the indexes, and repair what a crash can
//! leave behind:
//! - a torn tail (a batch cut short; with strict durability it was never acknowledged):
//!   cut off, so the next append starts at a frame boundary;
//! - a superseded body that erasure was zeroing when the crash came: zeroed again (the
//!   redacted version was made durable before any zeroing began).
//!
//! A damaged frame with whole frames after it is not something a crash does: the store
//! refuses to open instead of guessing.

use super::frame::{self, Body, Next};
use super::index::Index;
use super::io;
use crate::store::StoreError;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// More unreadable bytes than this at the end are damage, not a torn batch: a batch is at
/// most `MAX_BATCH` records of a few KB (store/decision_batch.rs).
const MAX_TORN_TAIL: u64 = 64 << 20;

pub struct Found {
    pub index: Index,
    /// Where the next frame goes.
    pub end: u64,
    /// The last audit link.
    pub seq: u64,
    pub hash: [u8; 32],
}

/// A frame whose body did not check out, held until it is known whether whole frames
/// follow it (then it must be superseded) or not (then it is a torn tail).
struct Damaged {
    frame: u64,
    body: u64,
    len: u32,
    id: u128,
}

pub fn scan(file: &File, path: &Path) -> Result<Found, StoreError> {
    let size = file.metadata().map_err(|e| io("stat", e))?.len();
    let reader = File::open(path).map_err(|e| io("open for reading", e))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, reader);
    let mut found = Found {
        index: Index::default(),
        end: 0,
        seq: 0,
        hash: [0; 32],
    };
    let mut at = 0u64;
    let mut pending: Vec<Damaged> = Vec::new();
    let mut superseded: Vec<Damaged> = Vec::new();
    let mut body = Vec::new();
    let torn = loop {
        let next = frame::read(&mut r, &mut body).map_err(|e| io("read", e))?;
        let (h, state) = match next {
            Next::End => break None,
            Next::Torn(why) => break Some(why),
            Next::Frame(h, state) => (h, state),
        };
        let body_at = at + h.size();
        let frame_at = at;
        at = body_at + u64::from(h.body_len);
        if state == Body::Damaged {
            pending.push(Damaged {
                frame: frame_at,
                body: body_at,
                len: h.body_len,
                id: h.id,
            });
        } else {
            // A whole frame after damaged ones: they were not a tail.
            superseded.append(&mut pending);
            found.end = at;
        }
        found.index.add(&h, body_at);
        if h.kind.is_linked() {
            found.seq = h.seq;
            found.hash = h.hash;
        }
    };
    let cut = pending.first().map(|d| d.frame).unwrap_or(found.end);
    if cut < size {
        let lost = size - cut;
        if lost > MAX_TORN_TAIL {
            return Err(damaged(
                path,
                cut,
                torn.as_deref().unwrap_or("damaged records"),
            ));
        }
        tracing::warn!(
            at = cut,
            bytes = lost,
            why = torn.as_deref().unwrap_or("a record cut short"),
            "decision log: cutting off a torn tail (writes a crash interrupted, never acknowledged)"
        );
        if !pending.is_empty() {
            // The tail's frames were indexed as they were read: read the whole frames again.
            return rescan_after_cut(file, path, cut);
        }
        file.set_len(cut).map_err(|e| io("cut the torn tail", e))?;
        file.sync_all().map_err(|e| io("sync", e))?;
    }
    for d in &superseded {
        let latest = found.index.by_id.get(&d.id).map(|l| l.body);
        if latest == Some(d.body) {
            return Err(damaged(path, d.frame, "the latest version of a decision"));
        }
        file.write_all_at(&vec![0u8; d.len as usize], d.body)
            .map_err(|e| io("finish an interrupted erasure", e))?;
    }
    if !superseded.is_empty() {
        file.sync_data().map_err(|e| io("sync", e))?;
    }
    found.index.drop_erased();
    Ok(found)
}

/// Cut the file at `cut` and scan again (rare: only after a crash tore a body).
fn rescan_after_cut(file: &File, path: &Path, cut: u64) -> Result<Found, StoreError> {
    file.set_len(cut).map_err(|e| io("cut the torn tail", e))?;
    file.sync_all().map_err(|e| io("sync", e))?;
    scan(file, path)
}

fn damaged(path: &Path, at: u64, what: &str) -> StoreError {
    StoreError::Open {
        dir: path.display().to_string(),
        reason: format!(
            "the decision log is damaged at byte {at} ({what}), with records after it; \
             restore the data directory from a backup"
        ),
    }
}
