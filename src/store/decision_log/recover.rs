//! Opening the log: read every frame, rebuild the indexes, and repair what a crash can
//! leave behind:
//! - a torn tail (a batch cut short; with strict durability it was never acknowledged):
//!   cut off, so the next append starts at a frame boundary. Appends go into zeros the
//!   writer allocated ahead (write.rs), and the pages of an append that was never synced
//!   reach the disk in any order, sector by sector: its frames can show a zeroed body, or
//!   one with sectors still zero, with whole frames after them. Erasure only ever zeroes a
//!   version after the version replacing it is on disk, so such a *latest* version near
//!   the end is an append that was never synced: the log is cut there (nothing after it
//!   was synced either: a sync covers every earlier write). A body damaged any other way
//!   (a changed byte) with whole frames after it is still damage;
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
    /// The file's length: `end`, then zeros allocated ahead.
    pub size: u64,
}

/// A frame whose body did not check out (or is zeroed), held until it is known whether
/// it is superseded (erasure) or a torn tail.
struct Damaged {
    frame: u64,
    body: u64,
    len: u32,
    id: u128,
    /// Part of the body is still the zeros the space held (`unwritten_sector`).
    unwritten: bool,
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
        size,
    };
    let mut at = 0u64;
    let mut pending: Vec<Damaged> = Vec::new();
    let mut superseded: Vec<Damaged> = Vec::new();
    let mut zeroed: Vec<Damaged> = Vec::new();
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
        let seen = Damaged {
            frame: frame_at,
            body: body_at,
            len: h.body_len,
            id: h.id,
            unwritten: state == Body::Zeroed
                || (state == Body::Damaged && unwritten_sector(body_at, &body)),
        };
        if state == Body::Damaged {
            pending.push(seen);
        } else {
            if state == Body::Zeroed {
                zeroed.push(seen);
            }
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
    // After the last frame there may only be the zeros allocated ahead.
    let torn = match torn {
        None if !all_zero(file, at, size)? => Some("bytes after the last record".to_string()),
        torn => torn,
    };
    let latest = |d: &Damaged| found.index.by_id.get(&d.id).map(|l| l.body) == Some(d.body);
    let never_synced = superseded
        .iter()
        .chain(&zeroed)
        .filter(|d| d.unwritten && latest(d) && found.end - d.frame <= MAX_TORN_TAIL)
        .map(|d| d.frame)
        .min();
    let cut = [pending.first().map(|d| d.frame), never_synced]
        .into_iter()
        .flatten()
        .min()
        .or(torn.is_some().then_some(found.end));
    if let Some(cut) = cut {
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
        if cut < found.end || !pending.is_empty() {
            // The tail's frames were indexed as they were read: read the whole frames again.
            return rescan_after_cut(file, path, cut);
        }
        file.set_len(cut).map_err(|e| io("cut the torn tail", e))?;
        file.sync_all().map_err(|e| io("sync", e))?;
        found.size = cut;
    }
    for d in &superseded {
        if latest(d) {
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

/// Whether a body at file offset `at` holds a sector's worth of zeros: a whole sector, or
/// at least `EDGE` bytes of one at either end of the body. Writes reach the disk in whole
/// sectors, so an unsynced append shows this; compressed JSON never does, nor does a
/// changed byte.
fn unwritten_sector(at: u64, body: &[u8]) -> bool {
    const SECTOR: u64 = 512;
    const EDGE: usize = 64;
    let end = at + body.len() as u64;
    let mut start = at;
    while start < end {
        let stop = ((start / SECTOR + 1) * SECTOR).min(end);
        let piece = &body[(start - at) as usize..(stop - at) as usize];
        let whole = piece.len() as u64 == SECTOR;
        if (whole || piece.len() >= EDGE) && piece.iter().all(|b| *b == 0) {
            return true;
        }
        start = stop;
    }
    false
}

/// Whether the file holds only zero bytes from `from` to `to`.
fn all_zero(file: &File, mut from: u64, to: u64) -> Result<bool, StoreError> {
    let mut buf = vec![0u8; 64 << 10];
    while from < to {
        let n = buf
            .len()
            .min(usize::try_from(to - from).unwrap_or(usize::MAX));
        file.read_exact_at(&mut buf[..n], from)
            .map_err(|e| io("read", e))?;
        if buf[..n].iter().any(|b| *b != 0) {
            return Ok(false);
        }
        from += n as u64;
    }
    Ok(true)
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
