//! Token stores shared by processes: the host's files (`file.rs`) or a
//! fleet's Redis (`redis.rs`), behind the one [`SharedStore`] interface.
//! A `redis://` or `rediss://` setting opens a [`fleet::FleetStore`]: Redis,
//! with the host's files (in `$XDG_CACHE_HOME/bearer` or `~/.cache/bearer`)
//! and their locks in its place while Redis cannot answer, so an outage
//! costs one request per host per token lifetime, never a failed call.
//!
//! A store holds sealed bytes under opaque names ([`seal`]): it never sees a
//! token, a secret or a client id in clear. What the client does with it (a
//! miss in memory looks here; a miss here takes the entry's lock, looks
//! again, fetches, stores, releases) is in `client.rs`.

pub mod file;
pub mod fleet;
pub mod redis;
pub mod seal;

use std::sync::Arc;
use std::time::Duration;

use crate::cache::CacheKey;
use crate::cache_setting::CacheSetting;
use crate::config::Config;
use crate::problem::{Problem, ProblemKind};
use crate::token::Token;

/// A held lock on one entry; dropping it releases the lock.
pub struct StoreLock(#[allow(dead_code)] Box<dyn Send>);

impl StoreLock {
    pub fn new(held: impl Send + 'static) -> StoreLock {
        StoreLock(Box::new(held))
    }
}

/// Tries `take` until it gives a lock or `wait` runs out (zero: once),
/// pausing 2 ms doubling to 50 ms between tries; `take` gets the time left.
fn poll_for_lock(
    wait: Duration,
    mut take: impl FnMut(Duration) -> Result<Option<StoreLock>, Problem>,
) -> Result<Option<StoreLock>, Problem> {
    let deadline = crate::retry::instant_after(wait);
    let mut pause = Duration::from_millis(2);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if let Some(lock) = take(left)? {
            return Ok(Some(lock));
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// What `bearer cache list` shows of an entry: never the token.
pub struct EntryInfo {
    pub name: String,
    /// Unix seconds, when the entry says.
    pub expires_at: Option<u64>,
}

/// A store shared by processes. Names are [`seal::entry_name`]s; values are
/// sealed. Every call is bounded in time; a store that cannot answer says
/// so with a problem, and the client falls back (Redis to the host tier).
pub trait SharedStore: Send + Sync {
    /// The sealed bytes under `name`, if any.
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, Problem>;
    /// Stores `sealed` under `name`, to expire after `ttl`.
    fn save(&self, name: &str, sealed: &[u8], ttl: Duration) -> Result<(), Problem>;
    /// Takes the entry's lock, waiting at most `wait` (zero: try once). It
    /// lasts until the guard drops, or, where a holder may die unseen
    /// (Redis), until `lease` runs out.
    fn lock(
        &self,
        name: &str,
        wait: Duration,
        lease: Duration,
    ) -> Result<Option<StoreLock>, Problem>;
    /// Removes the entry, if there is one.
    fn remove(&self, name: &str) -> Result<(), Problem>;
    /// Every entry's name and expiry.
    fn list(&self) -> Result<Vec<EntryInfo>, Problem>;
    /// Removes every entry; returns how many.
    fn clear(&self) -> Result<usize, Problem>;
    /// Where it is, for people: `file:/...`, `redis://host:port/db`.
    fn describe(&self) -> String;
}

/// Opens the store a setting names (None for memory).
pub fn open(setting: &CacheSetting) -> Result<Option<Arc<dyn SharedStore>>, Problem> {
    match setting {
        CacheSetting::Memory => Ok(None),
        CacheSetting::File(folder) => Ok(Some(Arc::new(file::FileStore::open(folder)?))),
        CacheSetting::Redis(url) => Ok(Some(Arc::new(fleet::FleetStore::open(
            url,
            crate::cache_setting::default_folder(),
        )?))),
    }
}

/// One client's entry in a shared store: where its token is kept there, and
/// the keys that seal it.
pub struct SharedEntry {
    store: Arc<dyn SharedStore>,
    sealer: seal::Sealer,
    name: String,
    /// Where a `Retry-After` window one process saw holds back the others.
    throttle_name: String,
    /// When a process last dropped the entry's token because an API
    /// refused it, so that a refusal storm forces one refresh per window.
    refused_name: String,
}

/// What [`SharedEntry::refuse`] found.
pub enum SharedRefusal {
    /// The entry held the refused token; it holds none now (or, for a
    /// refresh token grant, an expired copy keeping the refresh token).
    Dropped,
    /// The entry holds another token: another process replaced it.
    Replaced(Token),
    /// The entry held the refused token, but a refusal dropped it less than
    /// [`REFUSAL_WINDOW`] ago: it stays.
    TooSoon,
    /// The entry holds no token because another process's refusal
    /// dropped it within [`REFUSAL_WINDOW`].
    DroppedElsewhere,
    /// The entry holds no token, or the lock could not be had in time.
    Absent,
}

/// At most one token per entry is dropped on a refusal in this window.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(2);

impl SharedEntry {
    /// The entry for a configuration whose `cache` names a shared store;
    /// None for memory, or for a client without a credential to seal with.
    pub fn for_config(config: &Config, key: &CacheKey) -> Result<Option<SharedEntry>, Problem> {
        let Some(store) = open(&config.cache)? else {
            return Ok(None);
        };
        let Some(sealer) = seal::Sealer::for_config(config) else {
            return Ok(None);
        };
        let name = sealer.entry_name(key, "token");
        let throttle_name = sealer.entry_name(key, "throttle");
        let refused_name = sealer.entry_name(key, "refused");
        Ok(Some(SharedEntry {
            store,
            sealer,
            name,
            throttle_name,
            refused_name,
        }))
    }

    /// The stored token, if there is one this credential sealed (expired
    /// or not: its refresh token may be the latest); a truncated, damaged or
    /// foreign value is a miss. A store that refuses (a symlinked entry) or
    /// fails says so.
    pub fn load(&self) -> Result<Option<Token>, Problem> {
        let Some(sealed) = self.store.load(&self.name)? else {
            return Ok(None);
        };
        Ok(self
            .sealer
            .open(&self.name, &sealed)
            .and_then(|plain| Token::from_shared(&plain)))
    }

    /// Stores a token that has a known expiry, for as long as it lives.
    pub fn save(&self, token: &Token) -> Result<(), Problem> {
        let Some(expires_at) = token.expires_at else {
            return Ok(());
        };
        let ttl = Duration::from_secs(expires_at.saturating_sub(crate::token::unix_now()));
        self.save_for(token, ttl)
    }

    /// Stores a token, to be kept `ttl` (however long it lives).
    fn save_for(&self, token: &Token, ttl: Duration) -> Result<(), Problem> {
        let plain = zeroize::Zeroizing::new(token.to_json().into_bytes());
        let sealed = self
            .sealer
            .seal(&self.name, token.expires_at, &plain)
            .ok_or_else(|| Problem::new(ProblemKind::Internal, "a token could not be sealed"))?;
        self.store.save(&self.name, &sealed, ttl)
    }

    /// Tells the other processes that the endpoint asked to wait `window`,
    /// with the problem it answered.
    pub fn hold_back(&self, window: Duration, problem: &Problem) -> Result<(), Problem> {
        let until = crate::token::unix_now().saturating_add(window.as_secs().max(1));
        let plain = problem.to_json();
        let sealed = self
            .sealer
            .seal(&self.throttle_name, Some(until), plain.as_bytes())
            .ok_or_else(|| Problem::new(ProblemKind::Internal, "a window could not be sealed"))?;
        self.store.save(&self.throttle_name, &sealed, window)
    }

    /// A window another process stored and that has not passed: how long it
    /// has left, and the endpoint's problem.
    pub fn held_back(&self) -> Option<(Duration, Problem)> {
        let sealed = self.store.load(&self.throttle_name).ok()??;
        let until = seal::expires_at(&sealed)??;
        let left = until
            .checked_sub(crate::token::unix_now())
            .filter(|s| *s > 0)?;
        let plain = self.sealer.open(&self.throttle_name, &sealed)?;
        let problem = Problem::from_json(std::str::from_utf8(&plain).ok()?)?;
        Some((Duration::from_secs(left), problem))
    }

    /// Compare-and-invalidate, under the entry's lock (waiting at most
    /// `wait`): drops the stored token only if it is `access_token` and no
    /// refusal dropped one within [`REFUSAL_WINDOW`]. A refresh token is
    /// never dropped: for that grant the entry keeps an expired copy.
    pub fn refuse(
        &self,
        access_token: &str,
        wait: Duration,
        lease: Duration,
    ) -> Result<SharedRefusal, Problem> {
        let Some(_held) = self.lock(wait, lease)? else {
            return Ok(SharedRefusal::Absent);
        };
        let now_ms = crate::token::unix_now_ms();
        let recently_refused = self
            .last_refusal_ms()
            .is_some_and(|at| now_ms.saturating_sub(at) < REFUSAL_WINDOW.as_millis() as u64);
        // An expired copy (what a refusal leaves for a refresh token grant)
        // holds no token to drop.
        let Some(mut stored) = self
            .load()?
            .filter(|token| token.is_usable(crate::clock::Tick::now()))
        else {
            return Ok(if recently_refused {
                SharedRefusal::DroppedElsewhere
            } else {
                SharedRefusal::Absent
            });
        };
        if !crate::secret::constant_time_eq(stored.access_token.as_bytes(), access_token.as_bytes())
        {
            return Ok(SharedRefusal::Replaced(stored));
        }
        if recently_refused {
            return Ok(SharedRefusal::TooSoon);
        }
        let marker = self
            .sealer
            .seal(&self.refused_name, None, &now_ms.to_le_bytes())
            .ok_or_else(|| Problem::new(ProblemKind::Internal, "a marker could not be sealed"))?;
        self.store
            .save(&self.refused_name, &marker, REFUSAL_WINDOW)?;
        match stored.refresh_token {
            None => self.store.remove(&self.name)?,
            Some(_) => {
                // Expired now, but kept while it would have lived: the
                // refresh token in it may be the latest rotation.
                let ttl = stored
                    .expires_in()
                    .filter(|seconds| *seconds > 0)
                    .map_or(REFUSAL_WINDOW, Duration::from_secs);
                stored.expires_at = Some(crate::token::unix_now());
                self.save_for(&stored, ttl)?;
            }
        }
        Ok(SharedRefusal::Dropped)
    }

    /// Unix milliseconds of the last refusal that dropped the entry's token.
    fn last_refusal_ms(&self) -> Option<u64> {
        let sealed = self.store.load(&self.refused_name).ok()??;
        let plain = self.sealer.open(&self.refused_name, &sealed)?;
        Some(u64::from_le_bytes(plain.as_slice().try_into().ok()?))
    }

    /// The entry's lock: see [`SharedStore::lock`].
    pub fn lock(&self, wait: Duration, lease: Duration) -> Result<Option<StoreLock>, Problem> {
        self.store.lock(&self.name, wait, lease)
    }

    /// Where the entry is, for people.
    pub fn describe(&self) -> String {
        self.store.describe()
    }
}
