//! Where tokens wait until they are needed again.
//!
//! [`TokenCache`] is the interface of a process's own store, the
//! [`MemoryCache`]; the stores shared by processes (files, Redis) are in
//! `shared/`, behind the client's memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use sha2::{Digest, Sha256};

use crate::cache_setting::CacheSetting;
use crate::clock::Tick;
use crate::config::Config;
use crate::fork::{self, PerProcess};
use crate::secret::constant_time_eq;
use crate::token::Token;

/// Identifies the token a configuration would get: a SHA-256 over everything
/// that shapes the request, the secret included, so that a wrong secret never
/// reuses the token of the right one, yet no key holds a secret in clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    pub fn for_config(config: &Config) -> CacheKey {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            // Length-prefixed, so ("ab","c") and ("a","bc") differ.
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"bearer-cache-key-v1");
        field(
            format!(
                "{:?}|{:?}|{:?}|{:?}",
                config.shape, config.grant, config.body, config.client_auth
            )
            .as_bytes(),
        );
        field(config.token_url.as_bytes());
        field(config.client_id.as_bytes());
        field(config.audience.as_deref().unwrap_or_default().as_bytes());
        field(config.scope.as_deref().unwrap_or_default().as_bytes());
        field(
            serde_json::Value::Object(config.extra_params.clone())
                .to_string()
                .as_bytes(),
        );
        field(config.issuer.as_deref().unwrap_or_default().as_bytes());
        for secret in [&config.client_secret, &config.refresh_token] {
            field(
                secret
                    .as_ref()
                    .map(|s| s.expose())
                    .unwrap_or_default()
                    .as_bytes(),
            );
        }
        if let Some(identity) = &config.client_identity {
            field(identity.fingerprint());
        }
        // A private_key_jwt client's key is its secret.
        if let Some(key) = &config.signing_key {
            field(key.expose_der());
            field(
                format!(
                    "{:?}|{:?}|{:?}",
                    key.alg, key.key_id, config.assertion_audience
                )
                .as_bytes(),
            );
        }
        CacheKey(hasher.finalize().into())
    }

    /// This key extended by what shapes the connection and the call (the
    /// deadline, retries, proxy, CA roots and shared store): clients that differ only
    /// there share a token, but never a client, so each call keeps its own
    /// deadline and trust settings.
    pub fn with_transport(&self, config: &Config) -> CacheKey {
        let mut hasher = Sha256::new();
        hasher.update(b"bearer-client-key-v1");
        hasher.update(self.0);
        hasher.update((config.timeout.as_millis() as u64).to_le_bytes());
        hasher.update(config.retries.to_le_bytes());
        let cache = match &config.cache {
            CacheSetting::Memory => None,
            CacheSetting::File(folder) => Some(folder.as_os_str().as_encoded_bytes()),
            CacheSetting::Redis(url) => Some(url.expose().as_bytes()),
        };
        for setting in [
            config
                .ca_file
                .as_ref()
                .map(|path| path.as_os_str().as_encoded_bytes()),
            config.proxy.as_ref().map(|proxy| proxy.expose().as_bytes()),
            cache,
        ] {
            // Absent and empty differ, and each is length-prefixed.
            match setting {
                None => hasher.update([0]),
                Some(bytes) => {
                    hasher.update([1]);
                    hasher.update((bytes.len() as u64).to_le_bytes());
                    hasher.update(bytes);
                }
            }
        }
        CacheKey(hasher.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, for logs.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CacheKey({})", &self.to_hex()[..16])
    }
}

/// A store of tokens by key. Implementations must be cheap on `get`: it sits
/// on the path of every API call a user makes.
pub trait TokenCache: Send + Sync {
    /// The stored token, if any, fresh or not: the caller decides.
    fn get(&self, key: &CacheKey) -> Option<Arc<Token>>;
    /// Stores a token, replacing any earlier one for the key.
    fn put(&self, key: CacheKey, token: Arc<Token>);
    /// Removes the key's token only if its access token is `access_token`
    /// (compare-and-delete); says whether it did.
    fn remove_if(&self, key: &CacheKey, access_token: &str) -> bool;
}

/// The key is already a uniform hash: its first eight bytes are the bucket.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for (slot, byte) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*byte) << (slot * 8);
        }
    }
}

type Entries = HashMap<CacheKey, Arc<Token>, BuildHasherDefault<KeyHasher>>;

/// Tokens in this process's memory. A forked child starts with a copy of
/// its parent's tokens (they are valid there too) behind a lock of its own.
pub struct MemoryCache {
    entries: PerProcess<RwLock<Entries>>,
    max_entries: usize,
}

impl MemoryCache {
    /// A cache that holds at most `max_entries` tokens; when full, expired
    /// tokens make room first, then arbitrary ones.
    pub fn new(max_entries: usize) -> MemoryCache {
        MemoryCache {
            entries: PerProcess::new(),
            max_entries: max_entries.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> &RwLock<Entries> {
        self.entries
            .get(|parents| RwLock::new(fork::inherit_rw(parents)))
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries()
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries()
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl TokenCache for MemoryCache {
    fn get(&self, key: &CacheKey) -> Option<Arc<Token>> {
        self.read().get(key).cloned()
    }

    fn put(&self, key: CacheKey, token: Arc<Token>) {
        let mut entries = self.write();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            let now = Tick::now();
            entries.retain(|_, token| token.is_fresh(now));
            while entries.len() >= self.max_entries {
                let Some(victim) = entries.keys().next().copied() else {
                    break;
                };
                entries.remove(&victim);
            }
        }
        entries.insert(key, token);
    }

    fn remove_if(&self, key: &CacheKey, access_token: &str) -> bool {
        let mut entries = self.write();
        let current = entries.get(key).is_some_and(|token| {
            constant_time_eq(token.access_token.as_bytes(), access_token.as_bytes())
        });
        if current {
            entries.remove(key);
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secret: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"client_id":"a","client_secret":"{secret}"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn the_key_depends_on_the_secret_without_showing_it() {
        let key = CacheKey::for_config(&config("one"));
        assert_ne!(key, CacheKey::for_config(&config("two")));
        assert_eq!(key, CacheKey::for_config(&config("one")));
        assert!(!format!("{key:?}").contains("one"));
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = MemoryCache::new(2);
        let token =
            Arc::new(Token::from_response(br#"{"access_token":"t","expires_in":60}"#).unwrap());
        for secret in ["a", "b", "c"] {
            cache.put(CacheKey::for_config(&config(secret)), token.clone());
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&CacheKey::for_config(&config("c"))).is_some());
    }
}
