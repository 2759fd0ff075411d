//! The fleet tier as the client sees it: Redis, and the host tier when
//! Redis cannot answer.
//!
//! A Redis call that fails or times out is made on the host's files
//! instead, and Redis is left alone for a backoff (1 s, doubling to 30 s)
//! before it is tried again. An outage then costs one request per host per
//! token lifetime (the host tier's lock still holds its processes back),
//! never one per worker, and never a failed call. Each lock is released on
//! the tier that granted it: the guard is that tier's own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::file::FileStore;
use super::redis::RedisStore;
use super::{EntryInfo, SharedStore, StoreLock};
use crate::problem::{Problem, ProblemKind};
use crate::secret::Secret;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Redis first, the host's files when it is down.
pub struct FleetStore {
    redis: RedisStore,
    /// The host tier, or why there is none (no home folder, a refused one).
    host: Result<FileStore, Problem>,
    health: Health,
}

impl FleetStore {
    /// Redis at `url`, falling back to files under `folder`.
    pub fn open(url: &Secret, folder: Option<std::path::PathBuf>) -> Result<FleetStore, Problem> {
        let redis = RedisStore::open(url)?;
        let host = match folder {
            Some(folder) => FileStore::open(&folder),
            None => Err(Problem::new(
                ProblemKind::InvalidConfig,
                "Redis did not answer and there is no host tier to fall back to: neither XDG_CACHE_HOME nor HOME is set",
            )),
        };
        Ok(FleetStore {
            redis,
            host,
            health: Health::new(),
        })
    }

    /// `on_redis` unless Redis is backing off; on its failure, `on_host`.
    fn either<T>(
        &self,
        on_redis: impl FnOnce(&RedisStore) -> Result<T, Problem>,
        on_host: impl FnOnce(&FileStore) -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        if self.health.is_up() {
            match on_redis(&self.redis) {
                Ok(value) => {
                    self.health.answered();
                    return Ok(value);
                }
                Err(_) => self.health.failed(),
            }
        }
        match &self.host {
            Ok(host) => on_host(host),
            Err(problem) => Err(problem.clone()),
        }
    }
}

impl SharedStore for FleetStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, Problem> {
        // Without a host tier either, a miss: the client then asks itself.
        self.either(|redis| redis.load(name), |host| host.load(name))
            .or_else(|problem| self.host.as_ref().map_or(Ok(None), |_| Err(problem)))
    }

    fn save(&self, name: &str, sealed: &[u8], ttl: Duration) -> Result<(), Problem> {
        self.either(
            |redis| redis.save(name, sealed, ttl),
            |host| host.save(name, sealed, ttl),
        )
    }

    fn lock(
        &self,
        name: &str,
        wait: Duration,
        lease: Duration,
    ) -> Result<Option<StoreLock>, Problem> {
        let deadline = crate::retry::instant_after(wait);
        self.either(
            |redis| redis.lock(name, wait, lease),
            // What is left of the wait: Redis may have used some of it.
            |host| {
                let left = deadline.saturating_duration_since(Instant::now());
                host.lock(name, left, lease)
            },
        )
    }

    fn remove(&self, name: &str) -> Result<(), Problem> {
        self.either(|redis| redis.remove(name), |host| host.remove(name))
    }

    // Listing and clearing are for people: they are told Redis's state,
    // not the host's fallback entries instead.
    fn list(&self) -> Result<Vec<EntryInfo>, Problem> {
        self.redis.list()
    }

    fn clear(&self) -> Result<usize, Problem> {
        self.redis.clear()
    }

    fn describe(&self) -> String {
        self.redis.describe()
    }
}

/// Whether Redis is worth a try, in atomics a forked child may copy as
/// they are (a mutex held by a parent thread would stay held there).
struct Health {
    since: Instant,
    /// Milliseconds after `since` before which Redis is not tried.
    down_until: AtomicU64,
    /// The last backoff, in milliseconds; zero while Redis answers.
    backoff: AtomicU64,
}

impl Health {
    fn new() -> Health {
        Health {
            since: Instant::now(),
            down_until: AtomicU64::new(0),
            backoff: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_up(&self) -> bool {
        self.now() >= self.down_until.load(Ordering::Relaxed)
    }

    fn answered(&self) {
        // Read first: the hot path writes nothing.
        if self.backoff.load(Ordering::Relaxed) != 0 {
            self.backoff.store(0, Ordering::Relaxed);
        }
    }

    fn failed(&self) {
        let first = FIRST_BACKOFF.as_millis() as u64;
        let max = MAX_BACKOFF.as_millis() as u64;
        let backoff = self
            .backoff
            .load(Ordering::Relaxed)
            .saturating_mul(2)
            .clamp(first, max);
        self.backoff.store(backoff, Ordering::Relaxed);
        self.down_until
            .store(self.now().saturating_add(backoff), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_is_left_alone_for_a_backoff_that_doubles_to_thirty_seconds() {
        let health = Health::new();
        assert!(health.is_up());
        let mut seen = Vec::new();
        for _ in 0..7 {
            health.failed();
            assert!(!health.is_up());
            seen.push(health.backoff.load(Ordering::Relaxed));
        }
        assert_eq!(seen, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        health.answered();
        health.failed();
        assert_eq!(health.backoff.load(Ordering::Relaxed), 1000, "starts over");
    }

    #[test]
    fn an_unreachable_redis_falls_back_to_the_host_tier_and_backs_off() {
        let folder = std::env::temp_dir().join(format!("bearer-fleet-unit-{}", std::process::id()));
        // Port 9 on loopback: refused at once.
        let url = Secret::new("redis://127.0.0.1:9/0".into());
        let store = FleetStore::open(&url, Some(folder.clone())).unwrap();
        let name = "ab".repeat(16);
        assert!(store.load(&name).unwrap().is_none());
        assert!(!store.health.is_up(), "the failure is remembered");
        let held = store
            .lock(&name, Duration::ZERO, Duration::from_secs(1))
            .unwrap();
        assert!(held.is_some(), "the host tier's lock");
        store
            .save(&name, b"sealed", Duration::from_secs(60))
            .unwrap();
        assert_eq!(store.load(&name).unwrap().as_deref(), Some(&b"sealed"[..]));
        drop(held);
        assert!(store.list().is_err(), "listing tells Redis is down");
        let _ = std::fs::remove_dir_all(&folder);
    }

    #[test]
    fn without_a_host_tier_a_down_redis_is_a_miss_and_locks_fail() {
        let url = Secret::new("redis://127.0.0.1:9/0".into());
        let store = FleetStore::open(&url, None).unwrap();
        let name = "cd".repeat(16);
        assert!(store.load(&name).unwrap().is_none());
        assert!(
            store
                .lock(&name, Duration::ZERO, Duration::from_secs(1))
                .is_err(),
            "the client then asks on its own"
        );
    }
}
