//! A token client: one configuration, one cache entry, one request in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ureq::Agent;

use crate::cache::{CacheKey, MemoryCache, TokenCache};
use crate::clock::Tick;
use crate::config::{Config, Grant};
use crate::discovery;
use crate::fork::{self, PerProcess};
use crate::grant::{self, GrantRequest};
use crate::http::{self, Failed};
use crate::problem::{Problem, ProblemKind};
use crate::retry::{Deadline, Retry};
use crate::secret::{Secret, constant_time_eq};
use crate::shared::{REFUSAL_WINDOW, SharedEntry, SharedRefusal};
use crate::token::Token;

/// Gets and caches tokens for one configuration, by client credentials or
/// by refresh token. Share it between threads: when many ask for an expired
/// token at once, one request goes out and the others get its result,
/// success or problem.
///
/// A token due for refresh but not yet expired is refreshed by one caller
/// while the others keep getting it; when that refresh fails, the caller
/// gets the still-valid token too (serve-stale) and the failure waits in
/// [`take_refresh_problem`](Self::take_refresh_problem). While the endpoint
/// throttles (`Retry-After`), calls that would need it fail at once with its
/// problem instead of adding to the load.
///
/// After `fork()`, the child gets its own connections, flight and locks on
/// first use; the cached token stays.
pub struct Client {
    config: Config,
    key: CacheKey,
    cache: Arc<dyn TokenCache>,
    /// The entry in a store shared with other processes, when `cache` names one.
    shared: Option<SharedEntry>,
    local: PerProcess<Local>,
}

/// What a client holds for the process it runs in: a forked child makes its
/// own, since the parent's connections are shared sockets and its flight
/// and locks may belong to threads the child does not have.
struct Local {
    agent: Result<Arc<Agent>, Problem>,
    /// The refresh token to use next: the server may rotate it on every use.
    refresh_token: Mutex<Option<Secret>>,
    /// The request in flight, if any, and the outcome of the last one. Not
    /// held across the request: waiters wait on `landed`, each until its
    /// own deadline.
    flight: Mutex<Flight>,
    landed: Condvar,
    /// Counts finished flights, so a caller can tell that one ended between
    /// its look at the cache and its look at the flight.
    flights_done: AtomicU64,
    health: Mutex<Health>,
}

impl Local {
    /// A new process's part; from the parent's, what can be read without
    /// waiting: the refresh token it rotated to, and its throttling window.
    fn new(config: &Config, parents: Option<&Local>) -> Local {
        let refresh_token = fork::inherit(parents.map(|parents| &parents.refresh_token))
            .or_else(|| config.refresh_token.clone());
        let throttled = fork::inherit(parents.map(|parents| &parents.health)).throttled;
        Local {
            agent: http::agent_for(config),
            refresh_token: Mutex::new(refresh_token),
            flight: Mutex::default(),
            landed: Condvar::new(),
            flights_done: AtomicU64::new(0),
            health: Mutex::new(Health {
                throttled,
                ..Health::default()
            }),
        }
    }

    fn flight(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Outcome = Result<Arc<Token>, Problem>;

#[derive(Default)]
struct Flight {
    in_flight: bool,
    /// The outcome of the last flight, for the callers that waited for it.
    last: Option<Outcome>,
}

/// What the client remembers of the endpoint's recent failures.
#[derive(Default)]
struct Health {
    /// Until then no request goes out: the endpoint asked us to wait.
    throttled: Option<(Tick, Problem)>,
    /// Refreshes failed in a row while the cached token was served instead.
    failed_refreshes: u32,
    /// After a failed refresh, the next refresh-ahead waits until then.
    next_refresh: Option<Tick>,
    /// The first failure of the current run of failed refreshes, until taken.
    untaken: Option<Problem>,
    /// When a refusal last dropped this client's token.
    refused_at: Option<Tick>,
}

/// What [`Client::token_refused`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The token was the current one and is dropped: the next call gets a
    /// new one.
    Dropped,
    /// The token is not (or no longer) the current one: nothing dropped.
    NotCurrent,
    /// The token is current, but a refusal dropped one less than two
    /// seconds ago (in this client, or in the shared entry): it stays.
    TooSoon,
}

impl Refusal {
    pub fn dropped(self) -> bool {
        self == Refusal::Dropped
    }
}

/// The longest wait between refresh attempts while a stale token is served.
const MAX_REFRESH_BACKOFF: Duration = Duration::from_secs(30);
/// The longest a `Retry-After` keeps the client from asking again: a server
/// that says "in a year" is not taken at its word.
const MAX_THROTTLE: Duration = Duration::from_secs(600);

impl Client {
    /// A client with its own in-memory cache.
    pub fn new(config: Config) -> Result<Client, Problem> {
        Self::with_cache(config, Arc::new(MemoryCache::new(1)))
    }

    /// A client whose tokens live in `cache`, which may be shared. With an
    /// `issuer` and no `token_url`, this reads the discovery document.
    pub fn with_cache(mut config: Config, cache: Arc<dyn TokenCache>) -> Result<Client, Problem> {
        if matches!(
            config.grant,
            Grant::AuthorizationCode | Grant::Implicit | Grant::DeviceCode
        ) {
            return Err(Problem::config_key(
                "grant_type",
                "a client gets tokens by \"client_credentials\" or \"refresh_token\"; a user signs in through the authorize URL, the loopback login or the device flow first",
            ));
        }
        discovery::resolve(&mut config)?;
        let key = CacheKey::for_config(&config);
        let client = Client {
            shared: SharedEntry::for_config(&config, &key)?,
            key,
            config,
            cache,
            local: PerProcess::new(),
        };
        if let Err(problem) = &client.local().agent {
            return Err(problem.clone());
        }
        Ok(client)
    }

    fn local(&self) -> &Local {
        self.local.get(|parents| Local::new(&self.config, parents))
    }

    /// Parses the credentials JSON and builds a client.
    pub fn from_json(config_json: &str) -> Result<Client, Problem> {
        Self::new(Config::from_json(config_json)?)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A valid token: the cached one while fresh, otherwise a new one.
    pub fn token(&self) -> Result<Arc<Token>, Problem> {
        let cached = self.cache.get(&self.key);
        let now = Tick::now();
        match cached {
            Some(token) if token.is_fresh(now) => Ok(token),
            Some(token) if token.is_usable(now) => self.refresh_ahead(token),
            // Not in memory: another process may have it.
            _ => match self.shared_token()? {
                Some(token) if token.is_fresh(now) => Ok(token),
                Some(token) if token.is_usable(now) => self.refresh_ahead(token),
                _ => self.fetch_waiting(),
            },
        }
    }

    /// The shared entry's token, kept in memory from now on; None without
    /// a shared store, or when its token has expired.
    fn shared_token(&self) -> Result<Option<Arc<Token>>, Problem> {
        let Some(shared) = &self.shared else {
            return Ok(None);
        };
        Ok(shared
            .load()?
            .filter(|token| token.is_usable(Tick::now()))
            .map(|token| self.adopt(token)))
    }

    /// Takes a token another process stored: into memory, and its refresh
    /// token (the server's latest rotation) for this process's next refresh.
    fn adopt(&self, token: Token) -> Arc<Token> {
        self.adopt_refresh_token(&token);
        let token = Arc::new(token);
        self.cache.put(self.key, token.clone());
        token
    }

    fn adopt_refresh_token(&self, token: &Token) {
        if self.config.grant == Grant::RefreshToken
            && let Some(rotated) = &token.refresh_token
        {
            *self
                .local()
                .refresh_token
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Secret::new(rotated.clone()));
        }
    }

    /// The token a flight brings: from the shared entry when another
    /// process got one meanwhile, else from a request made under the
    /// entry's lock, so that one process of the host or fleet asks. A
    /// refresh ahead (`refreshing`) only tries the lock: when another
    /// process holds it, that one is refreshing, and the still-valid token
    /// is served meanwhile. A store that fails costs the sharing, not the
    /// token: this process then asks on its own.
    fn obtain(
        &self,
        deadline: Deadline,
        refreshing: Option<&Arc<Token>>,
    ) -> Result<Arc<Token>, Failed> {
        let Some(shared) = &self.shared else {
            return self.request_token(deadline).map(Arc::new);
        };
        if refreshing.is_some() {
            // Another process may have been told to wait (a miss looked already).
            self.note_shared_window();
            if let Some(problem) = self.local().health().throttled_problem(Tick::now()) {
                return Err(Failed {
                    problem,
                    retry: Retry::Never,
                });
            }
        }
        let wait = match refreshing {
            Some(_) => Duration::ZERO,
            None => deadline.remaining(),
        };
        match shared.lock(wait, self.lease()) {
            Ok(Some(_held)) => {
                let stored = shared.load().map_err(|problem| Failed {
                    problem,
                    retry: Retry::Never,
                })?;
                if let Some(token) = &stored {
                    self.adopt_refresh_token(token);
                }
                let newer = |token: &Token| {
                    refreshing.is_none_or(|stale| token.access_token != stale.access_token)
                };
                if let Some(token) =
                    stored.filter(|token| token.is_fresh(Tick::now()) && newer(token))
                {
                    return Ok(self.adopt(token));
                }
                let token = self.request_token(deadline)?;
                if token.is_cacheable() {
                    // Unsaved, it is still this process's token.
                    let _ = shared.save(&token);
                }
                Ok(Arc::new(token))
            }
            Ok(None) => match refreshing {
                Some(stale) => Ok(stale.clone()),
                None => match self.shared_token() {
                    Ok(Some(token)) => Ok(token),
                    Ok(None) => Err(Failed {
                        problem: self.wait_timed_out(),
                        retry: Retry::Never,
                    }),
                    Err(problem) => Err(Failed {
                        problem,
                        retry: Retry::Never,
                    }),
                },
            },
            Err(_) => self.request_token(deadline).map(Arc::new),
        }
    }

    /// The problem of a refresh that failed while the cached token was
    /// still valid and was returned instead, once per run of failures: the
    /// next successful refresh starts a new run. None when there is none.
    pub fn take_refresh_problem(&self) -> Option<Problem> {
        self.local().health().untaken.take()
    }

    /// The token is due but still valid: one caller refreshes it, and the
    /// others, and that one too when the refresh fails, get the valid token.
    fn refresh_ahead(&self, stale: Arc<Token>) -> Result<Arc<Token>, Problem> {
        let local = self.local();
        if local.health().holds_back(Tick::now()) {
            return Ok(stale);
        }
        {
            let mut flight = local.flight();
            // Another caller is refreshing: no need to wait for it.
            if flight.in_flight {
                return Ok(stale);
            }
            if let Some(token) = self.fresh_token() {
                return Ok(token);
            }
            flight.in_flight = true;
        }
        // The refresh may take half the time the cached token stays usable,
        // so that a stalled endpoint still leaves it to be served.
        let deadline = Deadline::after(self.config.timeout.min(stale.usable_for(Tick::now()) / 2));
        match self.fly(deadline, Some(&stale)) {
            Ok(token) => Ok(token),
            // The attempt outlived the token: nothing valid is left to give.
            Err(problem) if !stale.is_usable(Tick::now()) => Err(problem),
            Err(problem) => {
                let mut health = local.health();
                health.failed_refreshes = health.failed_refreshes.saturating_add(1);
                // 1 s, 2 s, 4 s ... 30 s apart, and at least four more tries
                // before the token expires, however short its life.
                let now = Tick::now();
                let backoff = Duration::from_secs(1 << (health.failed_refreshes - 1).min(5))
                    .min(MAX_REFRESH_BACKOFF)
                    .min(stale.usable_for(now) / 4);
                health.next_refresh = Some(now + backoff);
                if health.failed_refreshes == 1 {
                    let mut problem = problem;
                    if let Some(expires_at) = stale.expires_at {
                        problem = problem.with_extension("serving_cached_token_until", expires_at);
                    }
                    health.untaken = Some(problem);
                }
                Ok(stale)
            }
        }
    }

    /// No valid token: wait for the flight in progress, or make one. A
    /// waiter waits no longer than its own deadline.
    fn fetch_waiting(&self) -> Result<Arc<Token>, Problem> {
        let deadline = Deadline::after(self.config.timeout);
        self.note_shared_window();
        let local = self.local();
        let flights_seen = local.flights_done.load(Ordering::Acquire);
        let mut flight = local.flight();
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        // A flight ended between the cache check and here: share its outcome.
        if local.flights_done.load(Ordering::Acquire) != flights_seen
            && !flight.in_flight
            && let Some(outcome) = &flight.last
        {
            return outcome.clone();
        }
        if flight.in_flight {
            let seen = local.flights_done.load(Ordering::Acquire);
            let (flight, waited) = local
                .landed
                .wait_timeout_while(flight, deadline.remaining(), |_| {
                    local.flights_done.load(Ordering::Acquire) == seen
                })
                .unwrap_or_else(PoisonError::into_inner);
            if waited.timed_out() {
                return Err(self.wait_timed_out());
            }
            return match &flight.last {
                Some(outcome) => outcome.clone(),
                None => Err(self.wait_timed_out()),
            };
        }
        if let Some(problem) = local.health().throttled_problem(Tick::now()) {
            return Err(problem);
        }
        flight.in_flight = true;
        drop(flight);
        self.fly(deadline, None)
    }

    /// Takes a throttling window another process stored, so that this one
    /// does not ask the endpoint before it has passed either.
    fn note_shared_window(&self) {
        let Some((left, problem)) = self.shared.as_ref().and_then(SharedEntry::held_back) else {
            return;
        };
        let until = Tick::now() + left.min(MAX_THROTTLE);
        let mut health = self.local().health();
        if health
            .throttled
            .as_ref()
            .is_none_or(|(known, _)| *known < until)
        {
            health.throttled = Some((until, problem));
        }
    }

    /// How long a shared entry's lock lasts: a holder that dies unseen
    /// (Redis) blocks the others no longer than this.
    fn lease(&self) -> Duration {
        self.config.timeout + Duration::from_secs(2)
    }

    fn wait_timed_out(&self) -> Problem {
        Problem::new(
            ProblemKind::Timeout,
            format!(
                "no token within {} ms: another caller's request for it is still in flight",
                self.config.timeout.as_millis()
            ),
        )
        .with_instance(http::endpoint_for_display(&self.config.token_url))
    }

    /// One request for a token, made by the caller that set `in_flight`:
    /// caches a success, remembers a throttling answer, and hands the
    /// outcome to the waiters.
    fn fly(&self, deadline: Deadline, refreshing: Option<&Arc<Token>>) -> Outcome {
        // Lands the flight even if the request panics, so no waiter waits
        // for a flight that will never land.
        struct Landing<'a>(&'a Local, Option<Outcome>);
        impl Drop for Landing<'_> {
            fn drop(&mut self) {
                let outcome = self.1.take().unwrap_or_else(|| {
                    Err(Problem::new(
                        ProblemKind::Internal,
                        "the token request panicked; this is a bug, please report it",
                    ))
                });
                let mut flight = self.0.flight();
                flight.in_flight = false;
                flight.last = Some(outcome);
                self.0.flights_done.fetch_add(1, Ordering::Release);
                self.0.landed.notify_all();
            }
        }
        let local = self.local();
        let mut landing = Landing(local, None);
        let outcome = match self.obtain(deadline, refreshing) {
            Ok(token) => {
                if token.is_cacheable() {
                    self.cache.put(self.key, token.clone());
                }
                let mut health = local.health();
                health.failed_refreshes = 0;
                health.next_refresh = None;
                Ok(token)
            }
            Err(failed) => {
                let window = local.health().note_throttling(&failed);
                if let (Some(window), Some(shared)) = (window, &self.shared) {
                    // Unshared, the window still holds back this process.
                    let _ = shared.hold_back(window, &failed.problem);
                }
                Err(failed.problem)
            }
        };
        landing.1 = Some(outcome.clone());
        outcome
    }

    /// An API refused `access_token` (a 401 `invalid_token`): drops it
    /// from every tier, memory and shared, only if it is still the current
    /// token (compare-and-invalidate), so a late refusal of a token already
    /// replaced does nothing. A refresh token is never dropped. At most one
    /// token is dropped per client, and per shared entry, every two
    /// seconds: an API that refuses every token cannot drive a fetch storm.
    pub fn token_refused(&self, access_token: &str) -> Result<Refusal, Problem> {
        let same = |token: &Token| {
            constant_time_eq(token.access_token.as_bytes(), access_token.as_bytes())
        };
        match self.cache.get(&self.key) {
            Some(current) if !same(&current) => return Ok(Refusal::NotCurrent),
            None if self.shared.is_none() => return Ok(Refusal::NotCurrent),
            _ => {}
        }
        let local = self.local();
        let within_window =
            |at: &Option<Tick>| at.is_some_and(|at| Tick::now() < at + REFUSAL_WINDOW);
        if within_window(&local.health().refused_at) {
            return Ok(Refusal::TooSoon);
        }
        let mut dropped = false;
        if let Some(shared) = &self.shared {
            // A store that fails costs the sharing: memory is still dropped.
            match shared.refuse(access_token, self.config.timeout, self.lease()) {
                Ok(SharedRefusal::TooSoon) => return Ok(Refusal::TooSoon),
                Ok(SharedRefusal::Replaced(newer)) => {
                    self.adopt(newer);
                    return Ok(Refusal::NotCurrent);
                }
                Ok(SharedRefusal::Dropped) => dropped = true,
                Ok(SharedRefusal::DroppedElsewhere) => {
                    self.cache.remove_if(&self.key, access_token);
                    return Ok(Refusal::NotCurrent);
                }
                Ok(SharedRefusal::Absent) | Err(_) => {}
            }
        }
        dropped |= self.cache.remove_if(&self.key, access_token);
        if !dropped {
            return Ok(Refusal::NotCurrent);
        }
        let mut health = local.health();
        if within_window(&health.refused_at) {
            // Another thread dropped it meanwhile.
            return Ok(Refusal::NotCurrent);
        }
        health.refused_at = Some(Tick::now());
        Ok(Refusal::Dropped)
    }

    /// The `Authorization` header value for a valid token.
    pub fn authorization_header(&self) -> Result<String, Problem> {
        self.token().map(|token| token.authorization_header())
    }

    /// One request for a new token, inside the single flight.
    fn request_token(&self, deadline: Deadline) -> Result<Token, Failed> {
        let local = self.local();
        let agent = local.agent.as_ref().map_err(|problem| Failed {
            problem: problem.clone(),
            retry: Retry::Never,
        })?;
        if self.config.grant != Grant::RefreshToken {
            return grant::fetch(
                agent,
                &self.config,
                GrantRequest::ClientCredentials,
                deadline,
            );
        }
        // Not held across the request: the flight is single already, and a
        // lock held there would stay locked in a child forked meanwhile.
        let refresh_token = local
            .refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .expect("a refresh_token client is built with a refresh token");
        let mut token = grant::fetch(
            agent,
            &self.config,
            GrantRequest::RefreshToken {
                refresh_token: refresh_token.expose(),
            },
            deadline,
        )?;
        // A rotated token replaces the old one, which the server now refuses;
        // an unrotated one stays in the response the caller sees.
        match &token.refresh_token {
            Some(rotated) => {
                *local
                    .refresh_token
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Secret::new(rotated.clone()));
            }
            None => token.refresh_token = Some(refresh_token.expose().to_owned()),
        }
        Ok(token)
    }

    fn fresh_token(&self) -> Option<Arc<Token>> {
        self.cache
            .get(&self.key)
            .filter(|token| token.is_fresh(Tick::now()))
    }
}

impl Health {
    /// Whether a refresh-ahead should not be tried now.
    fn holds_back(&self, now: Tick) -> bool {
        self.next_refresh.is_some_and(|next| now < next)
            || self
                .throttled
                .as_ref()
                .is_some_and(|(until, _)| now < *until)
    }

    /// The endpoint's throttling problem while its window lasts, with
    /// `retry_after` counting down (and no `attempts`: none were made).
    fn throttled_problem(&mut self, now: Tick) -> Option<Problem> {
        let (until, problem) = self.throttled.as_ref()?;
        if now >= *until {
            self.throttled = None;
            return None;
        }
        let seconds_left = now.until(*until).as_secs_f64().ceil() as u64;
        Some(
            problem
                .clone()
                .without_extension("attempts")
                .with_extension("retry_after", seconds_left),
        )
    }

    /// Opens a throttling window when the endpoint's answer asked for a
    /// wait: a 429, or a 5xx with `Retry-After`. Only the HTTP header
    /// counts, never what a problem body says.
    /// Returns the window opened, if any.
    fn note_throttling(&mut self, failed: &Failed) -> Option<Duration> {
        let Retry::After(window) = failed.retry else {
            return None;
        };
        if window.is_zero() {
            return None;
        }
        let window = window.min(MAX_THROTTLE);
        self.throttled = Some((Tick::now() + window, failed.problem.clone()));
        Some(window)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// How many distinct configurations the one-shot call keeps clients for.
const ONE_SHOT_CLIENTS: usize = 256;

/// One-shot: the token for a credentials JSON, from a process-wide cache
/// keyed by [`CacheKey`], so callers that keep no client (a PHP request, a
/// Ruby script) still reuse tokens and still send one request at a time.
pub fn fetch_token(config_json: &str) -> Result<Arc<Token>, Problem> {
    let config = Config::from_json(config_json)?;
    one_shot_client(config)?.token()
}

/// One-shot: [`Client::token_refused`] for the token [`fetch_token`] gave
/// for this credentials JSON.
pub fn token_refused(config_json: &str, access_token: &str) -> Result<Refusal, Problem> {
    let config = Config::from_json(config_json)?;
    one_shot_client(config)?.token_refused(access_token)
}

/// The one-shot call's clients. A forked child starts with the parent's
/// when their lock is free: each client makes its own connections there.
static ONE_SHOT: PerProcess<Mutex<OneShot>> = PerProcess::new();

/// The one-shot call's clients, which all keep their tokens in one cache:
/// a client per configuration (keyed with its transport settings, see
/// [`CacheKey::with_transport`]), a token per request.
struct OneShot {
    cache: Arc<MemoryCache>,
    clients: HashMap<CacheKey, Arc<Client>>,
}

impl Default for OneShot {
    fn default() -> OneShot {
        OneShot {
            cache: Arc::new(MemoryCache::new(ONE_SHOT_CLIENTS)),
            clients: HashMap::new(),
        }
    }
}

fn one_shot() -> MutexGuard<'static, OneShot> {
    ONE_SHOT
        .get(|parents| Mutex::new(fork::inherit(parents)))
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Empties the process-wide cache of the one-shot call and drops the shared
/// HTTP agents, so that a leak checker at exit sees nothing held. Clients
/// built with [`Client::new`] keep working; later calls start afresh.
pub fn clear_process_state() {
    *one_shot() = OneShot::default();
    discovery::clear();
    http::drop_shared_agents();
}

fn one_shot_client(config: Config) -> Result<Arc<Client>, Problem> {
    let key = CacheKey::for_config(&config).with_transport(&config);
    let cache = {
        let one_shot = one_shot();
        if let Some(client) = one_shot.clients.get(&key) {
            return Ok(client.clone());
        }
        one_shot.cache.clone()
    };
    // Built without the lock held: discovery may make a request.
    let client = Arc::new(Client::with_cache(config, cache)?);
    let mut one_shot = one_shot();
    let clients = &mut one_shot.clients;
    if let Some(first) = clients.get(&key) {
        return Ok(first.clone());
    }
    if clients.len() >= ONE_SHOT_CLIENTS {
        // Clients without a fresh token cost a request either way; drop them first.
        clients.retain(|_, client| client.fresh_token().is_some());
        if clients.len() >= ONE_SHOT_CLIENTS {
            clients.clear();
        }
    }
    clients.insert(key, client.clone());
    Ok(client)
}
