//! Retries inside one call's deadline: which failed attempts deserve another,
//! and how long to wait before it.
//!
//! A throttled (429) or failing (5xx) endpoint, or a connection reset on the
//! way, is worth another try; every other 4xx is an answer, never retried.
//! Waits honour `Retry-After` when the server gives one, else follow capped
//! exponential backoff with full jitter, so that clients that failed together
//! do not come back together. No wait ever runs past the deadline: a retry
//! that would not fit is not made, and the last problem is returned.

use std::time::{Duration, Instant};

/// The first backoff step; each retry doubles it, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most a `Retry-After` wait is spread by.
const MAX_RETRY_AFTER_JITTER: Duration = Duration::from_secs(1);
/// How long a 429 without `Retry-After` is taken to ask for.
const DEFAULT_THROTTLE: Duration = Duration::from_secs(1);
/// A retry is only worth making with at least this much time left for it.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(100);

/// The moment one call must be over by, attempts and waits included.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

/// `Instant::now() + timeout`, or as far ahead as an `Instant` goes: a
/// caller's number never overflows the clock.
pub fn instant_after(mut timeout: Duration) -> Instant {
    let now = Instant::now();
    loop {
        if let Some(deadline) = now.checked_add(timeout) {
            return deadline;
        }
        timeout /= 2;
    }
}

impl Deadline {
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(instant_after(timeout))
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// How a failed attempt may be followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// An answer that another attempt would not change.
    Never,
    /// Worth another attempt after the backoff.
    Backoff,
    /// Worth another attempt once the server's `Retry-After` has passed.
    After(Duration),
}

impl Retry {
    /// The verdict on an HTTP answer's status.
    pub fn for_status(status: u16, retry_after: Option<u64>) -> Retry {
        // 501 says the server will never do it; the other 5xx may pass.
        let transient = status == 429 || ((500..=599).contains(&status) && status != 501);
        match (transient, retry_after) {
            (false, _) => Retry::Never,
            (true, Some(seconds)) => Retry::After(Duration::from_secs(seconds)),
            // Throttled without a word on how long: a polite second.
            (true, None) if status == 429 => Retry::After(DEFAULT_THROTTLE),
            (true, None) => Retry::Backoff,
        }
    }

    /// How long to wait before retry number `retry` (0 for the first), or
    /// None when no retry may be made before `deadline`.
    pub fn wait(self, retry: u32, deadline: Deadline) -> Option<Duration> {
        let wait = match self {
            Retry::Never => return None,
            Retry::Backoff => backoff(retry),
            // Up to a tenth more (at most a second), so that the clients
            // one Retry-After sent away do not all come back at once.
            Retry::After(wait) => wait.saturating_add(
                (wait / 10)
                    .min(MAX_RETRY_AFTER_JITTER)
                    .mul_f64(unit_random()),
            ),
        };
        (wait.saturating_add(MIN_ATTEMPT_TIME) <= deadline.remaining()).then_some(wait)
    }
}

/// Full jitter: a uniform wait between zero and the capped exponential step.
pub fn backoff(retry: u32) -> Duration {
    let step = BASE_BACKOFF
        .saturating_mul(1 << retry.min(16))
        .min(MAX_BACKOFF);
    step.mul_f64(unit_random())
}

/// A uniform number in [0, 1), from the system's generator. Without one,
/// 0.5: spreading clients out is best effort, never a reason to fail.
pub fn unit_random() -> f64 {
    getrandom::u64().map_or(0.5, |bits| (bits >> 11) as f64 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_as_far_off_as_a_caller_likes_does_not_overflow() {
        assert!(Deadline::after(Duration::MAX).remaining() > Duration::from_secs(3600 * 24 * 365));
    }

    #[test]
    fn only_throttling_and_failing_servers_are_retried() {
        assert_eq!(Retry::for_status(400, None), Retry::Never);
        assert_eq!(Retry::for_status(401, Some(3)), Retry::Never);
        assert_eq!(Retry::for_status(501, None), Retry::Never);
        assert_eq!(Retry::for_status(503, None), Retry::Backoff);
        assert_eq!(
            Retry::for_status(429, None),
            Retry::After(Duration::from_secs(1))
        );
        assert_eq!(
            Retry::for_status(429, Some(2)),
            Retry::After(Duration::from_secs(2))
        );
    }

    #[test]
    fn backoff_is_jittered_below_a_doubling_cap() {
        for retry in 0..20 {
            let cap = BASE_BACKOFF
                .saturating_mul(1 << retry.min(16))
                .min(MAX_BACKOFF);
            let waits: Vec<_> = (0..50).map(|_| backoff(retry)).collect();
            assert!(waits.iter().all(|wait| *wait <= cap), "{retry}: {waits:?}");
            assert!(
                waits.iter().any(|wait| *wait != waits[0]),
                "{retry}: jittered"
            );
        }
    }

    #[test]
    fn no_wait_runs_past_the_deadline() {
        let deadline = Deadline::after(Duration::from_secs(1));
        let wait = Retry::After(Duration::from_millis(200))
            .wait(0, deadline)
            .unwrap();
        assert!(
            (Duration::from_millis(200)..=Duration::from_millis(220)).contains(&wait),
            "{wait:?}"
        );
        assert_eq!(Retry::After(Duration::from_secs(2)).wait(0, deadline), None);
        assert_eq!(
            Retry::for_status(429, Some(u64::MAX)).wait(0, deadline),
            None
        );
        assert_eq!(Retry::Never.wait(0, deadline), None);
        let spent = Deadline::after(Duration::from_millis(50));
        assert_eq!(Retry::Backoff.wait(0, spent), None);
    }
}
