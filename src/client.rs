//! A token client: one configuration, one cache entry, one request in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ureq::Agent;

use crate::cache::{CacheKey, MemoryCache, TokenCache};
use crate::clock::Tick;
use crate::config::{Config, Grant};
use crate::discovery;
use crate::grant::{self, GrantRequest};
use crate::http;
use crate::problem::Problem;
use crate::secret::Secret;
use crate::token::Token;

/// Gets and caches tokens for one configuration, by client credentials or
/// by refresh token. Share it between threads: when many ask for an expired
/// token at once, one request goes out and the others get its result,
/// success or problem.
pub struct Client {
    config: Config,
    /// The refresh token to use next: the server may rotate it on every use.
    refresh_token: Mutex<Option<Secret>>,
    key: CacheKey,
    cache: Arc<dyn TokenCache>,
    agent: Agent,
    /// Held while a request is in flight; keeps the outcome for the waiters.
    flight: Mutex<Option<Result<Arc<Token>, Problem>>>,
    /// Counts finished flights, so a waiter can tell that one ended while it waited.
    flights_done: AtomicU64,
}

impl Client {
    /// A client with its own in-memory cache.
    pub fn new(config: Config) -> Result<Client, Problem> {
        Self::with_cache(config, Arc::new(MemoryCache::new(1)))
    }

    /// A client whose tokens live in `cache`, which may be shared. With an
    /// `issuer` and no `token_url`, this reads the discovery document.
    pub fn with_cache(mut config: Config, cache: Arc<dyn TokenCache>) -> Result<Client, Problem> {
        if matches!(config.grant, Grant::AuthorizationCode | Grant::Implicit) {
            return Err(Problem::config_key(
                "grant_type",
                "a client gets tokens by \"client_credentials\" or \"refresh_token\"; a user signs in through the authorize URL or the loopback login first",
            ));
        }
        discovery::resolve(&mut config)?;
        Ok(Client {
            agent: http::agent_for(&config)?,
            key: CacheKey::for_config(&config),
            refresh_token: Mutex::new(config.refresh_token.clone()),
            config,
            cache,
            flight: Mutex::new(None),
            flights_done: AtomicU64::new(0),
        })
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
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        let flights_seen = self.flights_done.load(Ordering::Acquire);
        let mut flight = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
        if self.flights_done.load(Ordering::Acquire) != flights_seen
            && let Some(outcome) = flight.as_ref()
        {
            return outcome.clone();
        }
        // A flight may have ended between the cache check and the count.
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        let outcome = self.request_token().map(Arc::new);
        if let Ok(token) = &outcome
            && token.is_cacheable()
        {
            self.cache.put(self.key, token.clone());
        }
        *flight = Some(outcome.clone());
        self.flights_done.fetch_add(1, Ordering::Release);
        outcome
    }

    /// The `Authorization` header value for a valid token.
    pub fn authorization_header(&self) -> Result<String, Problem> {
        self.token().map(|token| token.authorization_header())
    }

    /// One request for a new token, inside the single flight.
    fn request_token(&self) -> Result<Token, Problem> {
        if self.config.grant != Grant::RefreshToken {
            return grant::fetch(&self.agent, &self.config, GrantRequest::ClientCredentials);
        }
        let mut current = self
            .refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let refresh_token = current
            .clone()
            .expect("a refresh_token client is built with a refresh token");
        let mut token = grant::fetch(
            &self.agent,
            &self.config,
            GrantRequest::RefreshToken {
                refresh_token: refresh_token.expose(),
            },
        )?;
        // A rotated token replaces the old one, which the server now refuses;
        // an unrotated one stays in the response the caller sees.
        match &token.refresh_token {
            Some(rotated) => *current = Some(Secret::new(rotated.clone())),
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

static ONE_SHOT: Mutex<Option<OneShot>> = Mutex::new(None);

/// The one-shot call's clients, which all keep their tokens in one cache.
struct OneShot {
    cache: Arc<MemoryCache>,
    clients: HashMap<CacheKey, Arc<Client>>,
}

/// Empties the process-wide cache of the one-shot call and drops the shared
/// HTTP agents, so that a leak checker at exit sees nothing held. Clients
/// built with [`Client::new`] keep working; later calls start afresh.
pub fn clear_process_state() {
    *ONE_SHOT.lock().unwrap_or_else(PoisonError::into_inner) = None;
    discovery::clear();
    http::drop_shared_agents();
}

fn one_shot_client(config: Config) -> Result<Arc<Client>, Problem> {
    let key = CacheKey::for_config(&config);
    let mut one_shot = ONE_SHOT.lock().unwrap_or_else(PoisonError::into_inner);
    let OneShot { cache, clients } = one_shot.get_or_insert_with(|| OneShot {
        cache: Arc::new(MemoryCache::new(ONE_SHOT_CLIENTS)),
        clients: HashMap::new(),
    });
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    if clients.len() >= ONE_SHOT_CLIENTS {
        // Clients without a fresh token cost a request either way; drop them first.
        clients.retain(|_, client| client.fresh_token().is_some());
        if clients.len() >= ONE_SHOT_CLIENTS {
            clients.clear();
        }
    }
    let client = Arc::new(Client::with_cache(config, cache.clone())?);
    clients.insert(key, client.clone());
    Ok(client)
}
