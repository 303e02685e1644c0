//! One frame of the decision log: a header with its own CRC, then the record.
//!
//! ```text
//! 0  magic "KD"         2   kind (1 decision, 2 outcome, 3 rewrite)
//! 3  flags (1: erased, 2: LZ4)  4 body length u32   8  body CRC32 u32
//! 12 audit seq u64      20  decision ULID [16]  36 audit hash [32]
//! 68 customer length u16    70 ticket length u16
//! 72 customer key, ticket id, then the header's CRC32 u32; then the body
//! ```
//!
//! Two CRCs, because erasure overwrites a superseded record's body with zeros in place and
//! must leave the header (its audit link and index keys) readable. The customer key is
//! the customer id's pseudonym, never the id itself, so headers hold no personal data.
//! The body is the stored decision's JSON, LZ4-compressed (a third of the size: fewer
//! bytes for the kernel to copy on every append, and a third of the disk). Length and CRC
//! are over the bytes as stored. All integers are little-endian.

use std::io::Read;

pub const MAGIC: [u8; 2] = *b"KD";
const FIXED: usize = 72;
/// Longer keys than these are refused when writing and read as damage when scanning
/// (ids are validated far shorter: domain::check_id).
const MAX_KEY: usize = 1024;
/// A body longer than this is damage, not a record (requests are capped far below).
pub const MAX_BODY: u32 = 64 << 20;

/// What a frame adds to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new decision; carries the decision's audit link.
    Decision = 1,
    /// The decision again, with its outcome; carries the outcome's audit link.
    Outcome = 2,
    /// The decision again after erasure; no audit link (the hashed form is unchanged).
    Rewrite = 3,
    /// The decision again, with its approval; carries the approval's audit link.
    Approval = 4,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Decision),
            2 => Some(Kind::Outcome),
            3 => Some(Kind::Rewrite),
            4 => Some(Kind::Approval),
            _ => None,
        }
    }

    /// The name the audit report and a backup give the frame's link.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Decision => "decision",
            Kind::Outcome => "outcome",
            Kind::Rewrite => "rewrite",
            Kind::Approval => "approval",
        }
    }

    /// The frame kind a backup's link names (`label`); `None` for an unknown name.
    pub fn from_label(label: &str) -> Option<Kind> {
        [Kind::Decision, Kind::Outcome, Kind::Rewrite, Kind::Approval]
            .into_iter()
            .find(|k| k.label() == label)
    }

    /// Whether the frame is a link of the audit chain.
    pub fn is_linked(self) -> bool {
        self != Kind::Rewrite
    }
}

/// Flag bits.
const ERASED: u8 = 1;
const LZ4: u8 = 2;

/// A frame's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kind: Kind,
    /// The record in the body is erased (its customer id is a pseudonym).
    pub erased: bool,
    /// The body is LZ4-compressed (`json` undoes it). Set by `encode`.
    pub lz4: bool,
    pub body_len: u32,
    pub body_crc: u32,
    /// Audit sequence number (0 for a rewrite).
    pub seq: u64,
    pub id: u128,
    /// Audit hash of this link (zeros for a rewrite).
    pub hash: [u8; 32],
    /// The customer id's pseudonym.
    pub customer: String,
    pub ticket: String,
}

impl Header {
    /// Bytes from the frame's start to its body.
    pub fn size(&self) -> u64 {
        (FIXED + self.customer.len() + self.ticket.len() + 4) as u64
    }
}

/// A record's body as stored: LZ4-compressed JSON and its CRC. It depends on nothing but
/// the record, so a request makes it before joining a batch (`StoredBody::of`) and the one
/// writer only copies it into place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    bytes: Vec<u8>,
    crc: u32,
}

impl StoredBody {
    pub fn of(json: &[u8]) -> StoredBody {
        let bytes = lz4_flex::compress_prepend_size(json);
        StoredBody {
            crc: crc32fast::hash(&bytes),
            bytes,
        }
    }
}

/// Append a frame for `h` with the record `json` (compressed here) to `out`; returns the
/// header as written (body length, CRC, flags).
pub fn encode(h: &Header, json: &[u8], out: &mut Vec<u8>) -> Header {
    encode_body(h, &StoredBody::of(json), out)
}

/// `encode` with the body made already. Keys over the limit are cut to it: they cannot
/// occur (ids are validated shorter), and a frame must always be readable back.
pub fn encode_body(h: &Header, body: &StoredBody, out: &mut Vec<u8>) -> Header {
    let StoredBody { bytes: body, crc } = body;
    let start = out.len();
    let customer = cut(&h.customer);
    let ticket = cut(&h.ticket);
    let written = Header {
        lz4: true,
        body_len: body.len() as u32,
        body_crc: *crc,
        customer: String::from_utf8_lossy(customer).into_owned(),
        ticket: String::from_utf8_lossy(ticket).into_owned(),
        ..h.clone()
    };
    out.extend_from_slice(&MAGIC);
    out.push(h.kind as u8);
    out.push(if h.erased { ERASED } else { 0 } | LZ4);
    out.extend_from_slice(&written.body_len.to_le_bytes());
    out.extend_from_slice(&written.body_crc.to_le_bytes());
    out.extend_from_slice(&h.seq.to_le_bytes());
    out.extend_from_slice(&h.id.to_be_bytes());
    out.extend_from_slice(&h.hash);
    out.extend_from_slice(&(customer.len() as u16).to_le_bytes());
    out.extend_from_slice(&(ticket.len() as u16).to_le_bytes());
    out.extend_from_slice(customer);
    out.extend_from_slice(ticket);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(body);
    written
}

/// The record's JSON from a body as stored.
pub fn json<'a>(h: &Header, stored: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    if h.lz4 {
        lz4_flex::decompress_size_prepended(stored)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| format!("a record that does not decompress: {e}"))
    } else {
        Ok(std::borrow::Cow::Borrowed(stored))
    }
}

fn cut(s: &str) -> &[u8] {
    let b = s.as_bytes();
    b.get(..MAX_KEY).unwrap_or(b)
}

/// What reading the next frame found.
#[derive(Debug)]
pub enum Next {
    /// The end of the data, exactly at a frame boundary: the end of the input, or zeros
    /// where the next frame would start (the space the writer allocates ahead, write.rs).
    End,
    /// A frame whose header holds; the body was read into the caller's buffer.
    Frame(Header, Body),
    /// Not a whole frame: a write a crash cut short, or damage. The reason, in words.
    Torn(String),
}

/// The state of a frame's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Intact,
    /// All zeros: erased in place.
    Zeroed,
    /// Neither: damaged, or a zeroing a crash cut short.
    Damaged,
}

/// Read one frame from `r`, its body into `body`.
pub fn read(r: &mut impl Read, body: &mut Vec<u8>) -> std::io::Result<Next> {
    let mut fixed = [0u8; FIXED];
    match read_full(r, &mut fixed)? {
        0 => return Ok(Next::End),
        // No frame starts with a zero byte (the magic is "KD"); whether all of the space
        // after this point is zeros is for the caller to check (recover.rs).
        _ if fixed[0] == 0 && fixed[1] == 0 => return Ok(Next::End),
        n if n < FIXED => return Ok(Next::Torn(format!("a header cut short ({n} bytes)"))),
        _ => {}
    }
    if fixed[..2] != MAGIC {
        return Ok(Next::Torn("no frame starts here".into()));
    }
    let Some(kind) = Kind::from_byte(fixed[2]) else {
        return Ok(Next::Torn(format!("unknown frame kind {}", fixed[2])));
    };
    let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]) as usize;
    let u32_at =
        |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
    let (clen, tlen) = (u16_at(68), u16_at(70));
    let body_len = u32_at(4);
    if clen > MAX_KEY || tlen > MAX_KEY || body_len > MAX_BODY {
        return Ok(Next::Torn("a header with impossible lengths".into()));
    }
    let mut keys = vec![0u8; clen + tlen + 4];
    if read_full(r, &mut keys)? < keys.len() {
        return Ok(Next::Torn("a header cut short".into()));
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&fixed);
    crc.update(&keys[..clen + tlen]);
    let stored = &keys[clen + tlen..];
    if crc.finalize().to_le_bytes() != stored {
        return Ok(Next::Torn("a header whose checksum does not match".into()));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut id = [0u8; 16];
    id.copy_from_slice(&fixed[20..36]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&fixed[36..68]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&fixed[12..20]);
    let header = Header {
        kind,
        erased: fixed[3] & ERASED != 0,
        lz4: fixed[3] & LZ4 != 0,
        body_len,
        body_crc: u32_at(8),
        seq: u64::from_le_bytes(seq),
        id: u128::from_be_bytes(id),
        hash,
        customer: text(&keys[..clen]),
        ticket: text(&keys[clen..clen + tlen]),
    };
    body.clear();
    body.resize(body_len as usize, 0);
    if read_full(r, body)? < body.len() {
        return Ok(Next::Torn("a record cut short".into()));
    }
    let state = body_state(&header, body);
    Ok(Next::Frame(header, state))
}

/// Whether `body` is the one `h` was written with, zeroed, or neither.
pub fn body_state(h: &Header, body: &[u8]) -> Body {
    if crc32fast::hash(body) == h.body_crc {
        Body::Intact
    } else if body.iter().all(|b| *b == 0) {
        Body::Zeroed
    } else {
        Body::Damaged
    }
}

/// Fill `buf` as far as the input goes; how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: Kind) -> Header {
        Header {
            kind,
            erased: false,
            lz4: false,
            body_len: 0,
            body_crc: 0,
            seq: 7,
            id: 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
            hash: [9; 32],
            customer: "ps_abc".into(),
            ticket: "T-1".into(),
        }
    }

    #[test]
    fn a_frame_reads_back_as_written() {
        let mut out = Vec::new();
        encode(&header(Kind::Decision), b"{\"a\":1}", &mut out);
        encode(&header(Kind::Outcome), b"{}", &mut out);
        let mut r = &out[..];
        let mut body = Vec::new();
        let Next::Frame(h, Body::Intact) = read(&mut r, &mut body).unwrap() else {
            panic!("first frame")
        };
        let mut body = json(&h, &body).unwrap().into_owned();
        assert_eq!(
            (h.kind, h.seq, h.customer.as_str(), h.ticket.as_str()),
            (Kind::Decision, 7, "ps_abc", "T-1")
        );
        assert_eq!(h.id, header(Kind::Decision).id);
        assert_eq!(body, b"{\"a\":1}");
        assert!(matches!(
            read(&mut r, &mut body).unwrap(),
            Next::Frame(_, Body::Intact)
        ));
        assert!(matches!(read(&mut r, &mut body).unwrap(), Next::End));
    }

    #[test]
    fn zeros_where_a_frame_would_start_are_the_end() {
        let mut out = Vec::new();
        encode(&header(Kind::Decision), b"{\"a\":1}", &mut out);
        out.resize(out.len() + 4096, 0);
        let (mut r, mut body) = (&out[..], Vec::new());
        assert!(matches!(
            read(&mut r, &mut body).unwrap(),
            Next::Frame(_, Body::Intact)
        ));
        assert!(matches!(read(&mut r, &mut body).unwrap(), Next::End));
    }

    #[test]
    fn a_cut_or_changed_frame_is_torn_and_a_zeroed_body_is_told_apart_from_damage() {
        let mut out = Vec::new();
        let written = encode(&header(Kind::Decision), b"{\"a\":1}", &mut out);
        let mut body = Vec::new();
        for cut in [1, 40, out.len() - 3] {
            let mut r = &out[..cut];
            assert!(
                matches!(read(&mut r, &mut body).unwrap(), Next::Torn(_)),
                "cut at {cut}"
            );
        }
        let mut changed = out.clone();
        changed[30] ^= 1;
        assert!(matches!(
            read(&mut &changed[..], &mut body).unwrap(),
            Next::Torn(_)
        ));
        let body_at = out.len() - written.body_len as usize;
        let mut zeroed = out.clone();
        zeroed[body_at..].fill(0);
        assert!(matches!(
            read(&mut &zeroed[..], &mut body).unwrap(),
            Next::Frame(_, Body::Zeroed)
        ));
        let mut damaged = out.clone();
        damaged[body_at] = b'[';
        assert!(matches!(
            read(&mut &damaged[..], &mut body).unwrap(),
            Next::Frame(_, Body::Damaged)
        ));
    }
}
