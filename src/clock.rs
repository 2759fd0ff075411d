//! The monotonic clock the cache decides freshness by.
//!
//! A cached get reads the clock on every call, and `Instant::now` costs about
//! a quarter of that call; Linux's coarse monotonic clock costs a few
//! nanoseconds at a resolution of a few milliseconds, which is nothing beside
//! a refresh margin of at least a tenth of a token's lifetime.

use std::ops::Add;
use std::time::Duration;

/// A point on the monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tick(Duration);

impl Tick {
    #[cfg(target_os = "linux")]
    pub fn now() -> Tick {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a valid out-pointer; it cannot fail.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
        Tick(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
    }

    #[cfg(not(target_os = "linux"))]
    pub fn now() -> Tick {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        Tick(START.get_or_init(std::time::Instant::now).elapsed())
    }
}

impl Tick {
    /// The time from this tick to a later one; zero when it is not later.
    pub fn until(self, later: Tick) -> Duration {
        later.0.saturating_sub(self.0)
    }
}

impl Add<Duration> for Tick {
    type Output = Tick;

    fn add(self, later: Duration) -> Tick {
        Tick(self.0.saturating_add(later))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward_with_real_time() {
        let before = Tick::now();
        std::thread::sleep(Duration::from_millis(30));
        let after = Tick::now();
        assert!(
            after > before + Duration::from_millis(15),
            "{before:?} {after:?}"
        );
        assert!(after < before + Duration::from_secs(5));
    }
}
