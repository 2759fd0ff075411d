//! The state every connection of one server shares: counters, the codes
//! and refresh tokens issued, the `fail_first`/`fail_after` counts, and
//! the stop signal that wakes stalled handlers.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::device::DeviceGrant;
use super::grants::{CodeGrant, RefreshGrant};

pub(super) struct Shared {
    pub(super) base_url: String,
    /// `https://127.0.0.1:PORT` when there is a TLS listener.
    pub(super) tls_base_url: Option<String>,
    /// `https://127.0.0.1:PORT` of the listener requiring client certificates.
    pub(super) mtls_base_url: Option<String>,
    pub(super) auth0: AtomicU64,
    pub(super) cobuilder: AtomicU64,
    pub(super) authorize: AtomicU64,
    pub(super) refresh: AtomicU64,
    pub(super) discovery: AtomicU64,
    pub(super) redirect_target: AtomicU64,
    /// Requests at the protected resource, and its 401 `invalid_token`s.
    pub(super) api: AtomicU64,
    pub(super) api_refused: AtomicU64,
    /// Tokens issued before this place in the issue order are revoked.
    pub(super) revoked_before: AtomicU64,
    /// RFC 9207 for every `/authorize` request, advertised in discovery.
    pub(super) iss_parameter: AtomicBool,
    /// `fail_first` and `fail_after`: requests seen per path and query.
    pub(super) seen: Mutex<HashMap<String, u64>>,
    /// Authorization codes not presented yet; presenting one removes it.
    pub(super) codes: Mutex<HashMap<String, CodeGrant>>,
    /// The `jti`s of client assertions seen, until they expire: a replay is refused.
    pub(super) assertion_ids: Mutex<HashMap<String, i64>>,
    /// Device codes handed out and not yet exchanged (RFC 8628).
    pub(super) devices: Mutex<HashMap<String, DeviceGrant>>,
    /// Device code requests, and device code grants at the token path.
    pub(super) device: AtomicU64,
    pub(super) device_polls: AtomicU64,
    /// Live refresh tokens; using one replaces it by a new one (rotation).
    pub(super) refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    pub(super) stopping: AtomicBool,
    /// Stalled handlers wait on this so Drop can wake them at once.
    pub(super) stop_flag: Mutex<bool>,
    pub(super) stop_cv: Condvar,
    /// Clones of open connections, so Drop can end handlers blocked in a read.
    pub(super) conns: Mutex<HashMap<u64, TcpStream>>,
    pub(super) next_conn: AtomicU64,
}

impl Shared {
    pub(super) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        *lock(&self.stop_flag) = true;
        self.stop_cv.notify_all();
    }

    /// The base URL of the listener a request came in on.
    pub(super) fn base_for(&self, secure: bool) -> &str {
        match &self.tls_base_url {
            Some(tls_base) if secure => tls_base,
            _ => &self.base_url,
        }
    }

    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps up to `ms`; returns false when the server stopped meanwhile.
    pub(super) fn stall(&self, ms: u64) -> bool {
        let guard = lock(&self.stop_flag);
        let (guard, _) = self
            .stop_cv
            .wait_timeout_while(guard, Duration::from_millis(ms), |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        !*guard
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
