//! Failed webhook signatures counted per peer address: after `LIMIT` failures in a
//! minute, the peer's deliveries are refused (429) until the minute is over, so guessing
//! signatures or flooding the routes with junk costs the sender, not the server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures a peer may cause per window.
pub const LIMIT: u32 = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Peers remembered at most; beyond it the expired windows are dropped first, then all
/// (an attacker with many addresses resets the count, but cannot grow the map).
const MAX_PEERS: usize = 10_000;

/// Per-peer fixed windows of failures. A `Mutex`: it is taken only on the webhook
/// routes, briefly, and never across an `.await`.
#[derive(Debug, Default)]
pub struct SignatureFailures {
    peers: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl SignatureFailures {
    /// How long `ip` must wait when it is over its budget.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let peers = self
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, count) = peers.get(&ip)?;
        let elapsed = now.saturating_duration_since(*start);
        (elapsed < WINDOW && *count >= LIMIT).then(|| WINDOW - elapsed)
    }

    /// Count a failed signature from `ip`.
    pub fn record(&self, ip: IpAddr, now: Instant) {
        let mut peers = self
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if peers.len() >= MAX_PEERS && !peers.contains_key(&ip) {
            peers.retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
            if peers.len() >= MAX_PEERS {
                peers.clear();
            }
        }
        let entry = peers.entry(ip).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_blocked_after_the_limit_until_the_window_ends() {
        let f = SignatureFailures::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..LIMIT - 1 {
            f.record(ip, t0);
        }
        assert_eq!(f.blocked(ip, t0), None);
        f.record(ip, t0);
        assert_eq!(f.blocked(ip, t0), Some(WINDOW));
        assert_eq!(f.blocked(other, t0), None);
        assert_eq!(f.blocked(ip, t0 + WINDOW), None);
    }
}
