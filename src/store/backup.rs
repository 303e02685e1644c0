//! Backup and restore: a consistent snapshot of every tree as gzip-compressed NDJSON.
//!
//! Consistency: `apply` (every command) holds the store's write gate shared; a backup
//! holds it exclusively while it reads, so no command lands half-way through the copy.
//! Writers wait for the copy to finish (a pause proportional to the store's size).

use super::audit::{self, AuditEntry};
use super::decision_log::frame::{self, Kind};
use super::decisions::StoredDecision;
use super::{from_json, Store, StoreError};
use crate::error_code::Code;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

const FORMAT: &str = "kulanz-backup";
const VERSION: u32 = 1;
/// Where a restore keeps the backup's decisions and audit links until the log is written.
const STAGED_DECISIONS: &str = "restore_decisions";
const STAGED_AUDIT: &str = "restore_audit";
/// Frames appended to the log at a time while restoring it.
const RESTORE_BATCH: usize = 1000;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    created_at: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    tree: String,
    key: String,
    value: String,
}

/// What a backup or restore copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Copied {
    pub trees: usize,
    pub entries: u64,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("backup I/O: {e}"))
}

impl Store {
    /// Shared access for one command. While a backup holds the gate the command waits; on a
    /// multi-threaded runtime it waits with `block_in_place`, so the other requests (reads,
    /// health checks) keep being served by the remaining workers.
    pub(super) fn enter_gate(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        use std::sync::TryLockError;
        match self.gate.try_read() {
            Ok(g) => g,
            // A poisoned gate only means a backup panicked; commands are still whole.
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                let wait = || self.gate.read().unwrap_or_else(|p| p.into_inner());
                match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                    Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                        tokio::task::block_in_place(wait)
                    }
                    _ => wait(),
                }
            }
        }
    }

    /// Write a consistent snapshot of every tree to `out` (gzip NDJSON).
    pub fn backup(&self, out: impl Write) -> Result<Copied, StoreError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let _gate = self
            .gate
            .write()
            .map_err(|_| StoreError::Corrupt("backup gate poisoned".into()))?;
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            created_at: chrono::Utc::now().to_rfc3339(),
        };
        serde_json::to_writer(&mut gz, &header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        gz.write_all(b"\n").map_err(io)?;
        let mut copied = Copied::default();
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            copied.trees += usize::from(!tree.is_empty());
            let tree_name = String::from_utf8_lossy(&name).into_owned();
            for item in tree.iter() {
                let (k, v) = item?;
                let e = Entry {
                    tree: tree_name.clone(),
                    key: b64.encode(&k),
                    value: b64.encode(&v),
                };
                serde_json::to_writer(&mut gz, &e)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                gz.write_all(b"\n").map_err(io)?;
                copied.entries += 1;
            }
        }
        self.backup_log(&mut gz, &mut copied)?;
        gz.finish().map_err(io)?.flush().map_err(io)?;
        Ok(copied)
    }

    /// The decision log, as entries of two trees that exist only in backups
    /// (`decisions`: ULID → record, `audit`: seq → link); `restore_log` writes the log
    /// back from them.
    fn backup_log(&self, out: &mut impl Write, copied: &mut Copied) -> Result<(), StoreError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut put = |tree: &str, key: &[u8], value: &[u8]| {
            let e = Entry {
                tree: tree.to_string(),
                key: b64.encode(key),
                value: b64.encode(value),
            };
            serde_json::to_writer(&mut *out, &e).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.write_all(b"\n").map_err(io)?;
            copied.entries += 1;
            Ok::<_, StoreError>(())
        };
        if self.log.is_empty() {
            return Ok(());
        }
        copied.trees += 2;
        for d in self.log.range(0, u128::MAX) {
            let d = d?;
            let id = ulid::Ulid::from_string(&d.decision.decision_id)
                .map_err(|e| StoreError::Corrupt(format!("decision id: {e}")))?;
            put("decisions", &id.to_bytes(), &super::to_json(&d)?)?;
        }
        let mut prev = super::audit::GENESIS.to_string();
        self.log.for_each_frame(|h, _, _| {
            if h.kind.is_linked() {
                let hash = hex::encode(h.hash);
                let entry = super::audit::AuditEntry {
                    seq: h.seq,
                    kind: h.kind.label().to_string(),
                    decision_id: ulid::Ulid(h.id).to_string(),
                    prev: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                };
                put("audit", &h.seq.to_be_bytes(), &super::to_json(&entry)?)?;
            }
            Ok(true)
        })
    }

    /// Nothing but the store's own pseudonym key may be present before a restore.
    fn ensure_empty(&self) -> Result<(), StoreError> {
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            let only_key = tree.iter().keys().all(|k| {
                // What every freshly opened store holds: its pseudonym key and creation marker.
                k.is_ok_and(|k| {
                    name.as_ref() == b"meta"
                        && (k.as_ref() == super::audit::PSEUDONYM_KEY
                            || k.as_ref() == super::integrity::MARKER)
                })
            });
            if !only_key {
                return Err(StoreError::Conflict {
                    code: Code::StoreNotEmpty,
                    message: format!(
                        "restore needs an empty data directory; tree `{}` has data",
                        String::from_utf8_lossy(&name)
                    ),
                });
            }
        }
        if !self.log.is_empty() {
            return Err(StoreError::Conflict {
                code: Code::StoreNotEmpty,
                message: "restore needs an empty data directory; it holds decisions".into(),
            });
        }
        Ok(())
    }

    /// Restore a snapshot into this store, which must be empty; flushed before returning.
    /// The backup's `decisions` and `audit` entries are staged in sled trees of their own
    /// (memory stays flat whatever the number of decisions), written to the decision log
    /// and dropped.
    pub fn restore(&self, input: impl std::io::Read) -> Result<Copied, StoreError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        self.ensure_empty()?;
        let mut input = std::io::BufReader::new(input);
        let magic = std::io::BufRead::fill_buf(&mut input).map_err(io)?;
        if !magic.starts_with(&[0x1f, 0x8b]) {
            return Err(StoreError::Corrupt(
                "not a kulanz backup (not a gzip file)".into(),
            ));
        }
        let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(input));
        let mut lines = reader.lines();
        let first = lines
            .next()
            .ok_or_else(|| StoreError::Corrupt("empty backup file".into()))?
            .map_err(io)?;
        let header: Header = serde_json::from_str(&first)
            .map_err(|_| StoreError::Corrupt("not a kulanz backup (no header)".into()))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(StoreError::Corrupt(format!(
                "unsupported backup format {} v{}",
                header.format, header.version
            )));
        }
        let mut copied = Copied::default();
        let mut seen = std::collections::BTreeSet::new();
        let staged_decisions = self.db.open_tree(STAGED_DECISIONS)?;
        let staged_audit = self.db.open_tree(STAGED_AUDIT)?;
        for (n, line) in lines.enumerate() {
            let line = line.map_err(io)?;
            let e: Entry = serde_json::from_str(&line)
                .map_err(|err| StoreError::Corrupt(format!("backup line {}: {err}", n + 2)))?;
            let decode = |s: &str| {
                b64.decode(s)
                    .map_err(|err| StoreError::Corrupt(format!("backup line {}: {err}", n + 2)))
            };
            let (key, value) = (decode(&e.key)?, decode(&e.value)?);
            match e.tree.as_str() {
                "decisions" => staged_decisions.insert(key, value)?,
                "audit" => staged_audit.insert(key, value)?,
                tree => self.db.open_tree(tree.as_bytes())?.insert(key, value)?,
            };
            seen.insert(e.tree);
            copied.entries += 1;
        }
        copied.trees = seen.len();
        self.restore_log(&staged_decisions, &staged_audit)?;
        self.db.drop_tree(STAGED_DECISIONS)?;
        self.db.drop_tree(STAGED_AUDIT)?;
        // The restored keys must authenticate (and only they): the lookup reads memory.
        self.key_cache.reload(&self.keys)?;
        self.db.flush()?;
        Ok(copied)
    }

    /// Write the decision log from a backup's decisions (ULID → record) and audit links
    /// (seq → link): in chain order, each frame with its hash as backed up, so the chain
    /// verifies as it did; then sync it.
    fn restore_log(&self, decisions: &sled::Tree, links: &sled::Tree) -> Result<(), StoreError> {
        let key = self.pseudonym_key()?;
        let mut linked = std::collections::HashSet::new();
        let mut frames: Vec<(frame::Header, Vec<u8>)> = Vec::new();
        let make = |kind: Kind, seq: u64, hash: [u8; 32], bytes: Vec<u8>| {
            let d: StoredDecision = from_json(&bytes)?;
            let id = ulid::Ulid::from_string(&d.decision.decision_id)
                .map_err(|e| StoreError::Corrupt(format!("decision id: {e}")))?;
            Ok::<_, StoreError>((
                frame::Header {
                    kind,
                    erased: d.erased,
                    lz4: false,
                    body_len: 0,
                    body_crc: 0,
                    seq,
                    id: id.0,
                    hash,
                    customer: audit::customer_key(&key, &d),
                    ticket: d.decision.ticket_id.clone(),
                },
                bytes,
            ))
        };
        for item in links.iter() {
            let (_, v) = item?;
            let e: AuditEntry = from_json(&v)?;
            let Ok(id) = ulid::Ulid::from_string(&e.decision_id) else {
                continue;
            };
            let Some(bytes) = decisions.get(id.to_bytes())? else {
                // A link whose record is gone: `audit verify` reports the break it leaves.
                continue;
            };
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&e.hash, &mut hash)
                .map_err(|err| StoreError::Corrupt(format!("audit entry {}: {err}", e.seq)))?;
            let kind = Kind::from_label(&e.kind).unwrap_or(Kind::Decision);
            frames.push(make(kind, e.seq, hash, bytes.to_vec())?);
            linked.insert(id.0);
            if frames.len() >= RESTORE_BATCH {
                self.log.append_frames(&frames)?;
                frames.clear();
            }
        }
        // Records no link covers (none should exist) are kept, as rewrites.
        for item in decisions.iter() {
            let (k, v) = item?;
            let id = <[u8; 16]>::try_from(k.as_ref())
                .map(u128::from_be_bytes)
                .ok();
            if id.is_some_and(|id| !linked.contains(&id)) {
                frames.push(make(Kind::Rewrite, 0, [0; 32], v.to_vec())?);
            }
        }
        self.log.append_frames(&frames)?;
        self.log.sync()
    }
}
