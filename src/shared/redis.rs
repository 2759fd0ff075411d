//! The fleet tier: sealed values in Redis under `bearer:v1:<name>`, each
//! kept for its token's remaining lifetime, and a leased lock per entry.
//!
//! - A lock is `SET <key>:lock <owner> NX PX <lease>`, with an owner of 128
//!   random bits; it is released by a compare-and-delete script, so a holder
//!   whose lease ran out never deletes the next holder's lock. A holder that
//!   dies costs the others at most the lease.
//! - Every command has a short timeout (250 ms to connect, at most 500 ms
//!   an answer): a slow Redis is a failed call, which `fleet.rs` turns into
//!   a fall back to the host tier.
//! - Idle connections are kept per process ([`PerProcess`]): a forked child
//!   never reads or writes on its parent's sockets.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ::redis::{Client, Connection, RedisError, Script, Value, cmd};

use super::{EntryInfo, SharedStore, StoreLock, seal};
use crate::fork::PerProcess;
use crate::problem::{Problem, ProblemKind};
use crate::secret::Secret;

const PREFIX: &str = "bearer:v1:";
const LOCK_SUFFIX: &str = ":lock";
const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// Even a try-once lock gets this long for its answer.
const MIN_COMMAND_TIMEOUT: Duration = Duration::from_millis(50);
/// Idle connections kept for the process's threads.
const IDLE_CONNECTIONS: usize = 4;
/// A sealed token is well under this; a larger value is not ours.
const MAX_VALUE_BYTES: usize = 64 * 1024;
const RELEASE: &str = r#"if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end"#;

/// One Redis server and database.
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    shown: String,
    idle: PerProcess<Mutex<Vec<Pooled>>>,
    release: Script,
}

struct Pooled {
    connection: Connection,
    /// The read and write timeout the socket has now.
    timeout: Duration,
}

impl RedisStore {
    /// Reads the URL; connects on first use.
    pub fn open(url: &Secret) -> Result<RedisStore, Problem> {
        // The parser's message may quote the URL, password and all: not shown.
        let client = Client::open(url.expose()).map_err(|_| {
            Problem::config_key(
                "cache",
                "the cache setting is not a Redis URL bearer can read: use redis://[user:password@]host:port/db or rediss://...",
            )
        })?;
        let info = client.get_connection_info();
        let scheme = if url.expose().starts_with("rediss://") {
            "rediss"
        } else {
            "redis"
        };
        let shown = format!("{scheme}://{}/{}", info.addr(), info.redis_settings().db());
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                shown,
                idle: PerProcess::new(),
                release: Script::new(RELEASE),
            }),
        })
    }
}

impl Inner {
    fn idle(&self) -> &Mutex<Vec<Pooled>> {
        // A child starts with no connection: its parent's are not its own.
        self.idle.get(|_| Mutex::new(Vec::new()))
    }

    /// Runs `command` on an idle connection, or a new one, with answers
    /// awaited at most `timeout` (clamped to the store's bounds). A
    /// connection that failed is dropped, never reused half-read. An idle
    /// one the server has closed (a restart, its idle timeout) is replaced
    /// once, so that is not taken for an outage.
    fn run<T>(
        &self,
        timeout: Duration,
        mut command: impl FnMut(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, Problem> {
        let timeout = timeout.clamp(MIN_COMMAND_TIMEOUT, COMMAND_TIMEOUT);
        let idle = self
            .idle()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let answer = match idle {
            Some(pooled) => match self.run_on(pooled, timeout, &mut command) {
                Err(error) if error.is_connection_dropped() && !error.is_timeout() => {
                    self.run_on(self.connect(timeout)?, timeout, &mut command)
                }
                answer => answer,
            },
            None => self.run_on(self.connect(timeout)?, timeout, &mut command),
        };
        answer.map_err(|error| self.problem(&error))
    }

    fn connect(&self, timeout: Duration) -> Result<Pooled, Problem> {
        let connection = self
            .client
            .get_connection_with_timeout(CONNECT_TIMEOUT.min(timeout))
            .map_err(|error| self.problem(&error))?;
        Ok(Pooled {
            connection,
            timeout: Duration::ZERO,
        })
    }

    /// Runs `command` on `pooled`, which goes back to the idle ones if it
    /// answered.
    fn run_on<T>(
        &self,
        mut pooled: Pooled,
        timeout: Duration,
        command: impl FnOnce(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, RedisError> {
        if pooled.timeout != timeout {
            let connection = &pooled.connection;
            connection.set_read_timeout(Some(timeout))?;
            connection.set_write_timeout(Some(timeout))?;
            pooled.timeout = timeout;
        }
        let answer = command(&mut pooled.connection)?;
        let mut idle = self.idle().lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(pooled);
        }
        Ok(answer)
    }

    fn problem(&self, error: &RedisError) -> Problem {
        let kind = if error.is_timeout() {
            ProblemKind::Timeout
        } else {
            ProblemKind::Unreachable
        };
        Problem::new(
            kind,
            format!("the Redis cache at {} failed: {error}", self.shown),
        )
        .with_instance("#/cache")
        .with_extension("key", "cache")
    }
}

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

fn lock_key(name: &str) -> String {
    format!("{PREFIX}{name}{LOCK_SUFFIX}")
}

/// 128 random bits in hex: whose lock it is.
fn random_owner() -> Result<String, Problem> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| Problem::new(ProblemKind::Internal, "no randomness for a lock owner"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl SharedStore for RedisStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, Problem> {
        let value: Option<Vec<u8>> = self
            .inner
            .run(COMMAND_TIMEOUT, |c| cmd("GET").arg(key(name)).query(c))?;
        // Oversized: a miss, overwritten by the next save.
        Ok(value.filter(|bytes| bytes.len() <= MAX_VALUE_BYTES))
    }

    fn save(&self, name: &str, sealed: &[u8], ttl: Duration) -> Result<(), Problem> {
        let ttl = millis(ttl);
        // An expired token is not worth keeping (and PX 0 is an error).
        if ttl == 0 {
            return Ok(());
        }
        self.inner.run(COMMAND_TIMEOUT, |c| {
            cmd("SET")
                .arg(key(name))
                .arg(sealed)
                .arg("PX")
                .arg(ttl)
                .query::<Value>(c)
        })?;
        Ok(())
    }

    fn lock(
        &self,
        name: &str,
        wait: Duration,
        lease: Duration,
    ) -> Result<Option<StoreLock>, Problem> {
        let key = lock_key(name);
        let owner = random_owner()?;
        let lease = millis(lease).max(1);
        super::poll_for_lock(wait, |left| {
            let taken = self.inner.run(left, |c| {
                cmd("SET")
                    .arg(&key)
                    .arg(&owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(lease)
                    .query::<Value>(c)
            })?;
            Ok((taken != Value::Nil).then(|| {
                StoreLock::new(RedisLock {
                    inner: self.inner.clone(),
                    key: key.clone(),
                    owner: owner.clone(),
                })
            }))
        })
    }

    fn remove(&self, name: &str) -> Result<(), Problem> {
        self.inner.run(COMMAND_TIMEOUT, |c| {
            cmd("DEL").arg(key(name)).query::<i64>(c)
        })?;
        Ok(())
    }

    fn list(&self) -> Result<Vec<EntryInfo>, Problem> {
        let mut names = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = self.inner.run(COMMAND_TIMEOUT, |c| {
                cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{PREFIX}*"))
                    .arg("COUNT")
                    .arg(200)
                    .query(c)
            })?;
            names.extend(
                keys.iter()
                    .filter(|key| !key.ends_with(LOCK_SUFFIX))
                    .filter_map(|key| key.strip_prefix(PREFIX))
                    .map(str::to_owned),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        names.sort();
        names.dedup();
        let now = crate::token::unix_now();
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let from_header = self
                .load(&name)?
                .and_then(|bytes| seal::expires_at(&bytes))
                .flatten();
            let expires_at = match from_header {
                Some(at) => Some(at),
                None => {
                    let left: i64 = self
                        .inner
                        .run(COMMAND_TIMEOUT, |c| cmd("PTTL").arg(key(&name)).query(c))?;
                    u64::try_from(left)
                        .ok()
                        .map(|left| now + left.div_ceil(1000))
                }
            };
            entries.push(EntryInfo { name, expires_at });
        }
        Ok(entries)
    }

    fn clear(&self) -> Result<usize, Problem> {
        let entries = self.list()?;
        let mut removed = 0;
        for entry in &entries {
            // Locks are left to their leases: a holder may be fetching.
            removed += self.inner.run(COMMAND_TIMEOUT, |c| {
                cmd("DEL").arg(key(&entry.name)).query::<usize>(c)
            })?;
        }
        Ok(removed)
    }

    fn describe(&self) -> String {
        self.inner.shown.clone()
    }
}

/// A held Redis lock; dropping it deletes the lock if it is still ours.
struct RedisLock {
    inner: Arc<Inner>,
    key: String,
    owner: String,
}

impl Drop for RedisLock {
    fn drop(&mut self) {
        // Failing, the lease ends it.
        let _ = self.inner.run(COMMAND_TIMEOUT, |c| {
            self.inner
                .release
                .key(&self.key)
                .arg(&self.owner)
                .invoke::<i64>(c)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_described_without_its_password() {
        let url = Secret::new("redis://user:hunter2@cache.example:6380/3".into());
        let store = RedisStore::open(&url).unwrap();
        assert_eq!(store.describe(), "redis://cache.example:6380/3");
        let tls = Secret::new("rediss://:hunter2@cache.example:6380".into());
        assert_eq!(
            RedisStore::open(&tls).unwrap().describe(),
            "rediss://cache.example:6380/0"
        );
    }

    #[test]
    fn a_url_that_does_not_parse_is_not_quoted() {
        let url = Secret::new("redis://user:hunter2@[bad".into());
        let problem = RedisStore::open(&url).err().unwrap();
        assert_eq!(problem.kind(), ProblemKind::InvalidConfig);
        assert!(!problem.detail().contains("hunter2"));
    }

    #[test]
    fn owners_are_128_random_bits() {
        let (one, two) = (random_owner().unwrap(), random_owner().unwrap());
        assert_eq!(one.len(), 32);
        assert_ne!(one, two);
    }
}
