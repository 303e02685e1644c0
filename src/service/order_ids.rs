//! Order ids for exports that have none (`kulanz import orders --order-column none`): an id
//! from the order's content and its occurrence in the file.
//!
//! The id is `auto-` + 24 hex digits of SHA-256 over (customer, time, amount, currency) +
//! `-` + the how-many-th time this content appears in the file. So the same file imported
//! twice gives the same ids and adds nothing, and two identical purchases on one day stay
//! two orders. What it cannot tell apart is in docs/value.md ("Exports without order ids").

use crate::store::orders::StoredOrder;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Bytes of the digest kept: 96 bits, so two different contents in one store share an id
/// with a probability far below that of a disk error.
const DIGEST_BYTES: usize = 12;

/// Counts each content seen in one import. Memory: one entry per distinct content, about
/// 40 bytes, for the length of the import.
#[derive(Debug, Default)]
pub struct ContentIds {
    seen: HashMap<[u8; DIGEST_BYTES], u32>,
}

impl ContentIds {
    /// Give `o` its id: its content's digest and its occurrence so far, counting from 1.
    pub fn assign(&mut self, o: &mut StoredOrder) {
        let digest = content_digest(o);
        let n = self.seen.entry(digest).or_insert(0);
        *n += 1;
        o.order_id = format!("auto-{}-{n}", hex::encode(digest));
    }
}

fn content_digest(o: &StoredOrder) -> [u8; DIGEST_BYTES] {
    let mut h = Sha256::new();
    // NUL cannot occur in an id, a time or a currency, so the fields cannot run together;
    // the amount is normalised so `12.5` and `12.50` are the same purchase.
    for part in [
        o.customer_id.as_str(),
        &o.at.to_rfc3339(),
        &o.amount.normalize().to_string(),
        &o.currency,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let full = h.finalize();
    let mut out = [0u8; DIGEST_BYTES];
    out.copy_from_slice(full.get(..DIGEST_BYTES).unwrap_or(&[0; DIGEST_BYTES]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn order(customer: &str, amount: &str) -> StoredOrder {
        StoredOrder {
            order_id: String::new(),
            customer_id: customer.into(),
            at: Utc.with_ymd_and_hms(1997, 1, 1, 0, 0, 0).unwrap(),
            amount: amount.parse().unwrap(),
            currency: "USD".into(),
        }
    }

    #[test]
    fn identical_lines_get_successive_ids_and_a_second_pass_the_same_ones() {
        let ids = |ids: &mut ContentIds| {
            ["29.33", "29.330", "12.00", "29.33"]
                .map(|a| {
                    let mut o = order("1", a);
                    ids.assign(&mut o);
                    o.order_id
                })
                .to_vec()
        };
        let first = ids(&mut ContentIds::default());
        assert!(first
            .iter()
            .all(|id| id.starts_with("auto-") && id.len() <= 128));
        assert_ne!(first[0], first[1], "the same purchase twice is two orders");
        assert!(first[0].ends_with("-1") && first[1].ends_with("-2") && first[3].ends_with("-3"));
        assert_eq!(
            first[0].trim_end_matches("-1"),
            first[1].trim_end_matches("-2")
        );
        assert_eq!(first, ids(&mut ContentIds::default()), "deterministic");
        let mut other = order("2", "29.33");
        ContentIds::default().assign(&mut other);
        assert_ne!(other.order_id, first[0], "another customer, another id");
    }
}
