//! Decision ids: ULIDs that also order decisions made in the same millisecond.
//!
//! Why: a ULID is 48 bits of milliseconds and 80 random bits, so two decisions on one
//! ticket within a millisecond sorted by chance, and "the ticket's latest decision" (the
//! greatest id, decision_log/index.rs) was the earlier one half of the time. Under load
//! that is common (a benchmark repeats one ticket at 30k/s; `tests/decision_log.rs` saw it).
//! Here the top 16 random bits count the ids made in the same millisecond, so an id made
//! after another in that millisecond is greater; the lower 64 bits stay random.
//!
//! The time is the decision's own (`now`), never moved: tests and backtests decide at
//! chosen times, and time ranges are id ranges. Near the clock (within `NEAR_MS`), each
//! millisecond has its own count in a ring of `SLOTS`, so ids of a millisecond stay
//! ordered even when ids of a later one are made meanwhile (a request that read the
//! clock just before another but got here after it: with one count for the latest
//! millisecond only, such an id was a plain ULID, and two decisions on one ticket sorted
//! by chance again; `tests/decision_log.rs` saw it when its tests ran side by side).
//! Ids at chosen times away from the clock share one count for the latest such
//! millisecond, so a decision dated a year ahead does not take a slot of the present.
//! An id whose count holds a later millisecond is a plain ULID of its time. Lock-free:
//! one compare-and-swap on the hot path.

use std::sync::atomic::{AtomicU64, Ordering};

/// How many recent milliseconds keep their own count.
const SLOTS: usize = 64;
/// How far from the clock an id's time may be and still count as near it.
const NEAR_MS: u64 = 1_000;

/// Per slot (millisecond modulo `SLOTS`), for ids near the clock; then one for the rest:
/// the millisecond counted (upper 48 bits) and how many ids came before the last one in
/// it (lower 16).
static NEAR: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static AWAY: AtomicU64 = AtomicU64::new(0);

const COUNTER_BITS: u32 = 16;
const COUNTER_MAX: u64 = (1 << COUNTER_BITS) - 1;

/// A new decision id at `now`.
pub fn new(now: chrono::DateTime<chrono::Utc>) -> ulid::Ulid {
    let random = ulid::Ulid::from_datetime(now.into());
    let ms = random.timestamp_ms();
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let slot = if ms.abs_diff(clock) <= NEAR_MS {
        &NEAR[(ms % SLOTS as u64) as usize]
    } else {
        &AWAY
    };
    let mut last = slot.load(Ordering::Relaxed);
    let n = loop {
        let n = match (last >> COUNTER_BITS).cmp(&ms) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => (last & COUNTER_MAX) + 1,
            // The count is of a later millisecond (`SLOTS` ms or more later, near the
            // clock). Its own time, unordered within that millisecond; taking the count
            // over would restart the later one's.
            std::cmp::Ordering::Greater => return random,
        };
        if n > COUNTER_MAX {
            // 65,536 ids in one millisecond: the rest of it is unordered, still unique.
            return random;
        }
        match slot.compare_exchange_weak(
            last,
            (ms << COUNTER_BITS) | n,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => break n,
            Err(now_last) => last = now_last,
        }
    };
    let counter_mask = u128::from(COUNTER_MAX) << 64;
    ulid::Ulid((random.0 & !counter_mask) | (u128::from(n) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_one_millisecond_increase_and_keep_its_time() {
        // Later than any other test's clock, so none of them is the latest millisecond.
        let now = chrono::DateTime::parse_from_rfc3339("9500-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let ids: Vec<ulid::Ulid> = (0..1000).map(|_| new(now)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in the order made");
        let ms = u64::try_from(now.timestamp_millis()).unwrap_or_default();
        assert!(ids.iter().all(|id| id.timestamp_ms() == ms));
    }

    #[test]
    fn ids_of_a_millisecond_stay_ordered_when_a_later_one_comes_between() {
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::milliseconds(1);
        let first = new(now);
        new(later);
        let second = new(now);
        assert!(first < second);
        assert_eq!(first.timestamp_ms(), second.timestamp_ms());
    }

    #[test]
    fn an_earlier_time_gets_its_own_time() {
        let now = chrono::DateTime::parse_from_rfc3339("9000-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let before = now - chrono::Duration::days(30);
        let (a, b) = (new(now), new(before));
        assert_eq!(
            b.timestamp_ms(),
            u64::try_from(before.timestamp_millis()).unwrap_or_default()
        );
        assert!(b < a);
    }
}
