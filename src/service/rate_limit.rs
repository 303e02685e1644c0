//! The per-key rate limit (GCRA via `governor`): how many requests an API key name may
//! send a second, with a burst allowance. The HTTP layer answers 429 from it
//! (`http::limits::too_many`).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Requests per second per API key, with a burst allowance.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl RateLimit {
    /// `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<Arc<RateLimit>> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Some(Arc::new(RateLimit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        }))
    }

    /// `Err(wait)` when the key is over its rate. A `&String` because the limiter looks
    /// keys up by `&K`: with `&str` every request copied the name into a new `String`.
    #[allow(clippy::ptr_arg)]
    pub fn check(&self, key: &String) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}
