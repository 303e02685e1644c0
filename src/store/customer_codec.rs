//! The stored form of a customer record: a compact binary encoding, versioned by its
//! first byte.
//!
//! Why not JSON: a bulk import of a million records spent a large share of its time
//! writing JSON, and the JSON form repeats every field name and currency in every record.
//! The binary form keeps the strings exactly as they were validated (amounts such as
//! `"120.50"`, dates, tiers), so a record reads back byte for byte as it was written.
//!
//! Values written before this format are JSON objects and always start with `{`; the
//! version byte is never `{`, so both are read for as long as old stores exist.
//!
//! Layout of version 1 (`str` is a varint length then UTF-8; `int` a zigzag varint):
//!
//! ```text
//! 0x01 | str updated_at | str currency | u16 LE presence bits | money lifetime_revenue
//!      | the present optional fields, in the order of `Field`
//! money = str amount | 0x00 (same currency as the record) or 0x01 str currency
//! nps   = int score | str at
//! ```

use crate::domain::customer::{CustomerRecordDto, NpsDto};
use crate::money::MoneyDto;
use serde::{Deserialize, Serialize};

/// A customer record as stored: the validated wire form and when it was written. On disk
/// it is the compact binary form below; older stores hold JSON, read too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCustomer {
    pub record: CustomerRecordDto,
    /// RFC 3339.
    pub updated_at: String,
}

/// First byte of a version 1 binary value.
const V1: u8 = 0x01;
/// First byte of every value stored before the binary form: a JSON object.
const JSON_OBJECT: u8 = b'{';
/// Longest string a stored value may declare; guards against a corrupt length
/// asking for gigabytes.
const MAX_STR: u64 = 1 << 20;

/// Why a stored customer value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty customer value")]
    Empty,
    #[error("unknown customer value format `{0:#04x}`")]
    UnknownFormat(u8),
    #[error("customer value ends early, reading {0}")]
    Truncated(&'static str),
    #[error("customer value has {0} bytes after its end")]
    TrailingBytes(usize),
    #[error("customer value: {0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("customer value: {0} is out of range")]
    OutOfRange(&'static str),
    #[error("customer value: unknown presence bits `{0:#06x}`")]
    UnknownFields(u16),
    #[error("customer value: bad currency tag `{0}`")]
    CurrencyTag(u8),
    #[error("customer value (JSON): {0}")]
    Json(String),
}

/// Optional fields, in stored order; the discriminant is the presence bit.
#[derive(Clone, Copy)]
enum Field {
    Orders = 0,
    FirstOrderAt,
    LastOrderAt,
    PredictedValue,
    Revenue12m,
    Tier,
    PeakTier,
    Referrals,
    Nps,
    Goodwill12m,
    Claims90d,
}

impl Field {
    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// Every bit a version 1 value may set.
const KNOWN_BITS: u16 = (1 << (Field::Claims90d as u16 + 1)) - 1;

/// Encode a customer for storage (always the current binary version).
pub fn encode(c: &StoredCustomer) -> Vec<u8> {
    let r = &c.record;
    let mut out = Vec::with_capacity(128);
    out.push(V1);
    put_str(&mut out, &c.updated_at);
    put_str(&mut out, &r.currency);
    let present = [
        (Field::Orders, r.orders.is_some()),
        (Field::FirstOrderAt, r.first_order_at.is_some()),
        (Field::LastOrderAt, r.last_order_at.is_some()),
        (Field::PredictedValue, r.predicted_value.is_some()),
        (Field::Revenue12m, r.revenue_12m.is_some()),
        (Field::Tier, r.tier.is_some()),
        (Field::PeakTier, r.peak_tier.is_some()),
        (Field::Referrals, r.referrals.is_some()),
        (Field::Nps, r.nps.is_some()),
        (Field::Goodwill12m, r.goodwill_12m.is_some()),
        (Field::Claims90d, r.claims_90d.is_some()),
    ]
    .iter()
    .filter(|(_, is)| *is)
    .fold(0u16, |bits, (f, _)| bits | f.bit());
    out.extend_from_slice(&present.to_le_bytes());
    put_money(&mut out, &r.currency, &r.lifetime_revenue);
    // Same order as `Field`; absent fields write nothing.
    if let Some(n) = r.orders {
        put_int(&mut out, n);
    }
    for s in [&r.first_order_at, &r.last_order_at].into_iter().flatten() {
        put_str(&mut out, s);
    }
    for m in [&r.predicted_value, &r.revenue_12m].into_iter().flatten() {
        put_money(&mut out, &r.currency, m);
    }
    for s in [&r.tier, &r.peak_tier].into_iter().flatten() {
        put_str(&mut out, s);
    }
    if let Some(n) = r.referrals {
        put_int(&mut out, n);
    }
    if let Some(nps) = &r.nps {
        put_int(&mut out, nps.score);
        put_str(&mut out, &nps.at);
    }
    if let Some(m) = &r.goodwill_12m {
        put_money(&mut out, &r.currency, m);
    }
    if let Some(n) = r.claims_90d {
        put_int(&mut out, n);
    }
    out
}

/// Decode a stored customer value, binary or the JSON of older stores.
pub fn decode(bytes: &[u8]) -> Result<StoredCustomer, CodecError> {
    match bytes.first() {
        None => Err(CodecError::Empty),
        Some(&V1) => decode_v1(bytes.get(1..).unwrap_or_default()),
        Some(&JSON_OBJECT) => {
            serde_json::from_slice(bytes).map_err(|e| CodecError::Json(e.to_string()))
        }
        Some(&other) => Err(CodecError::UnknownFormat(other)),
    }
}

fn decode_v1(bytes: &[u8]) -> Result<StoredCustomer, CodecError> {
    let mut r = Reader { rest: bytes };
    let updated_at = r.str("updated_at")?;
    let currency = r.str("currency")?;
    let bits = u16::from_le_bytes([r.byte("presence bits")?, r.byte("presence bits")?]);
    if bits & !KNOWN_BITS != 0 {
        return Err(CodecError::UnknownFields(bits & !KNOWN_BITS));
    }
    let has = |f: Field| bits & f.bit() != 0;
    let lifetime_revenue = r.money("lifetime_revenue", &currency)?;
    // Each field is read only when its bit is set, in the order `encode` wrote them.
    let orders = has(Field::Orders).then(|| r.int("orders")).transpose()?;
    let first_order_at = has(Field::FirstOrderAt)
        .then(|| r.str("first_order_at"))
        .transpose()?;
    let last_order_at = has(Field::LastOrderAt)
        .then(|| r.str("last_order_at"))
        .transpose()?;
    let predicted_value = has(Field::PredictedValue)
        .then(|| r.money("predicted_value", &currency))
        .transpose()?;
    let revenue_12m = has(Field::Revenue12m)
        .then(|| r.money("revenue_12m", &currency))
        .transpose()?;
    let tier = has(Field::Tier).then(|| r.str("tier")).transpose()?;
    let peak_tier = has(Field::PeakTier)
        .then(|| r.str("peak_tier"))
        .transpose()?;
    let referrals = has(Field::Referrals)
        .then(|| r.int("referrals"))
        .transpose()?;
    let nps = has(Field::Nps)
        .then(|| -> Result<NpsDto, CodecError> {
            Ok(NpsDto {
                score: r.int("nps.score")?,
                at: r.str("nps.at")?,
            })
        })
        .transpose()?;
    let goodwill_12m = has(Field::Goodwill12m)
        .then(|| r.money("goodwill_12m", &currency))
        .transpose()?;
    let claims_90d = has(Field::Claims90d)
        .then(|| r.int("claims_90d"))
        .transpose()?;
    if !r.rest.is_empty() {
        return Err(CodecError::TrailingBytes(r.rest.len()));
    }
    Ok(StoredCustomer {
        record: CustomerRecordDto {
            currency,
            lifetime_revenue,
            orders,
            first_order_at,
            last_order_at,
            predicted_value,
            revenue_12m,
            tier,
            peak_tier,
            referrals,
            nps,
            goodwill_12m,
            claims_90d,
        },
        updated_at,
    })
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    // Zigzag, so small negative numbers stay short too.
    put_varint(out, ((n << 1) ^ (n >> 63)) as u64);
}

fn put_money(out: &mut Vec<u8>, record_currency: &str, m: &MoneyDto) {
    put_str(out, &m.amount);
    // Validated records carry the record's currency in every amount; store it once.
    if m.currency == record_currency {
        out.push(0);
    } else {
        out.push(1);
        put_str(out, &m.currency);
    }
}

/// What is left of a value being decoded; every read checks the length first.
struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let (&b, rest) = self.rest.split_first().ok_or(CodecError::Truncated(what))?;
        self.rest = rest;
        Ok(b)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte(what)?;
            n |= u64::from(b & 0x7f)
                .checked_shl(shift)
                .ok_or(CodecError::OutOfRange(what))?;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(CodecError::OutOfRange(what))
    }

    fn int(&mut self, what: &'static str) -> Result<i64, CodecError> {
        let z = self.varint(what)?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    fn str(&mut self, what: &'static str) -> Result<String, CodecError> {
        let len = self.varint(what)?;
        if len > MAX_STR {
            return Err(CodecError::OutOfRange(what));
        }
        let len = usize::try_from(len).map_err(|_| CodecError::OutOfRange(what))?;
        if len > self.rest.len() {
            return Err(CodecError::Truncated(what));
        }
        let (s, rest) = self.rest.split_at(len);
        self.rest = rest;
        String::from_utf8(s.to_vec()).map_err(|_| CodecError::NotUtf8(what))
    }

    fn money(&mut self, what: &'static str, record_currency: &str) -> Result<MoneyDto, CodecError> {
        let amount = self.str(what)?;
        let currency = match self.byte(what)? {
            0 => record_currency.to_string(),
            1 => self.str(what)?,
            other => return Err(CodecError::CurrencyTag(other)),
        };
        Ok(MoneyDto { amount, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: &str) -> MoneyDto {
        MoneyDto {
            amount: amount.into(),
            currency: currency.into(),
        }
    }

    fn full() -> StoredCustomer {
        StoredCustomer {
            record: CustomerRecordDto {
                currency: "EUR".into(),
                lifetime_revenue: money("10400.00", "EUR"),
                orders: Some(38),
                first_order_at: Some("2019-03-02".into()),
                last_order_at: Some("2026-10-30".into()),
                predicted_value: Some(money("12000.00", "EUR")),
                revenue_12m: Some(money("900.50", "EUR")),
                tier: Some("silver".into()),
                peak_tier: Some("gold".into()),
                referrals: Some(3),
                nps: Some(NpsDto {
                    score: 4,
                    at: "2026-09-12".into(),
                }),
                goodwill_12m: Some(money("35.00", "EUR")),
                claims_90d: Some(1),
            },
            updated_at: "2026-12-02T10:00:00Z".into(),
        }
    }

    fn minimal() -> StoredCustomer {
        StoredCustomer {
            record: CustomerRecordDto {
                currency: "USD".into(),
                lifetime_revenue: money("0.00", "USD"),
                orders: None,
                first_order_at: None,
                last_order_at: None,
                predicted_value: None,
                revenue_12m: None,
                tier: None,
                peak_tier: None,
                referrals: None,
                nps: None,
                goodwill_12m: None,
                claims_90d: None,
            },
            updated_at: String::new(),
        }
    }

    #[test]
    fn records_round_trip() {
        let mut odd = full();
        // Not what validation lets through, but the codec must not lose it either.
        odd.record.goodwill_12m = Some(money("-5.00", "CHF"));
        odd.record.orders = Some(i64::MIN);
        odd.record.referrals = Some(i64::MAX);
        odd.record.tier = Some("ünïcødé ✓".into());
        for c in [full(), minimal(), odd] {
            let bytes = encode(&c);
            assert_eq!(bytes.first(), Some(&V1));
            assert_eq!(decode(&bytes).unwrap(), c);
        }
    }

    #[test]
    fn binary_is_smaller_than_json() {
        let c = full();
        assert!(encode(&c).len() * 2 < serde_json::to_vec(&c).unwrap().len());
    }

    #[test]
    fn json_values_of_older_stores_still_read() {
        for c in [full(), minimal()] {
            let old = serde_json::to_vec(&c).unwrap();
            assert_eq!(decode(&old).unwrap(), c);
        }
        // As an older version wrote it, field by field.
        let old = br#"{"record":{"currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"},"tier":"gold"},"updated_at":"2026-11-01T00:00:00Z"}"#;
        let c = decode(old).unwrap();
        assert_eq!(c.record.tier.as_deref(), Some("gold"));
        assert_eq!(c.updated_at, "2026-11-01T00:00:00Z");
    }

    #[test]
    fn corrupt_values_are_errors_not_panics() {
        assert_eq!(decode(b""), Err(CodecError::Empty));
        assert_eq!(decode(b"\x07abc"), Err(CodecError::UnknownFormat(7)));
        assert!(matches!(decode(b"{\"record\":"), Err(CodecError::Json(_))));
        let good = encode(&full());
        // Every truncation and every single-byte change is an error or a value, never a panic.
        for len in 0..good.len() {
            assert!(decode(good.get(..len).unwrap()).is_err(), "length {len}");
        }
        for i in 0..good.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = decode(&bad);
            }
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(CodecError::TrailingBytes(1)));
        // A length far beyond the value, and a varint that never ends.
        assert!(decode(&[V1, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(
            decode(&[V1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
                .is_err()
        );
        let mut bits = encode(&minimal());
        // updated_at (1 byte) and currency (4 bytes) come before the presence bits.
        bits[6] = 0xff;
        bits[7] = 0xff;
        assert!(matches!(decode(&bits), Err(CodecError::UnknownFields(_))));
    }
}
