//! The decision log's indexes, in memory: rebuilt from the frame headers when the log is
//! opened, updated after every append. Nothing here is ever the only copy of anything.

use super::frame::{Header, Kind};
use std::collections::{BTreeMap, HashMap};

/// Where the latest version of a decision's record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    /// Offset of the frame's body in the log.
    pub body: u64,
    pub len: u32,
    pub crc: u32,
    pub kind: Kind,
    pub erased: bool,
    pub lz4: bool,
}

/// One frame about a customer: erasure zeroes every one but the latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef {
    pub id: u128,
    /// Offset of the frame's body.
    pub body: u64,
    pub len: u32,
}

#[derive(Debug, Default)]
pub struct Index {
    /// ULID → latest version. ULIDs sort by time, so a time range is a key range.
    pub by_id: BTreeMap<u128, Loc>,
    /// Ticket id → its latest decision.
    pub by_ticket: HashMap<Box<str>, u128>,
    /// Customer pseudonym → every frame about the customer, in log order. Erasure takes
    /// the customer out.
    pub by_customer: HashMap<Box<str>, Vec<FrameRef>>,
}

impl Index {
    /// Take in a frame whose body starts at `body`.
    pub fn add(&mut self, h: &Header, body: u64) {
        let loc = Loc {
            body,
            len: h.body_len,
            crc: h.body_crc,
            kind: h.kind,
            erased: h.erased,
            lz4: h.lz4,
        };
        self.by_id.insert(h.id, loc);
        // A ticket's latest decision is the one appended last: frames are taken in in
        // append order, at open and when written. Only new decisions count (an outcome
        // for an older decision of the ticket must not make it the latest again).
        if h.kind == Kind::Decision {
            match self.by_ticket.get_mut(h.ticket.as_str()) {
                Some(latest) => *latest = h.id,
                None => {
                    self.by_ticket.insert(h.ticket.as_str().into(), h.id);
                }
            }
        }
        if !h.erased {
            let frame = FrameRef {
                id: h.id,
                body,
                len: h.body_len,
            };
            match self.by_customer.get_mut(h.customer.as_str()) {
                Some(v) => v.push(frame),
                None => {
                    self.by_customer
                        .insert(h.customer.as_str().into(), vec![frame]);
                }
            }
        }
    }

    /// The customer's latest decision.
    pub fn latest_for_customer(&self, pseudonym: &str) -> Option<u128> {
        self.by_customer
            .get(pseudonym)
            .and_then(|v| v.iter().map(|f| f.id).max())
    }

    /// After a scan: customers whose every decision was erased have no entry.
    pub fn drop_erased(&mut self) {
        let by_id = &self.by_id;
        self.by_customer.retain(|_, frames| {
            frames.retain(|f| by_id.get(&f.id).is_some_and(|l| !l.erased));
            !frames.is_empty()
        });
    }
}
