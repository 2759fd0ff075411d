//! A local authorization server that answers like Auth0's `/oauth/token` and
//! the Cobuilder token endpoint, for the tests, the benchmark and the `bearer
//! demo` / `bearer serve` commands. It binds 127.0.0.1 only and never
//! contacts anything but loopback.
//!
//! Besides client credentials it runs the user flows of an Auth0 tenant with
//! one auto-approved user ([`TEST_USER`]): `GET /authorize` (Authorization
//! Code with PKCE, and Implicit), the `authorization_code` and
//! `refresh_token` grants (with refresh token rotation) and
//! `GET /.well-known/openid-configuration`.
//!
//! Query parameters on the token paths shape the answer: `expires_in=N`,
//! `omit_expires_in=1`, `opaque=1`, `plain=1`, `fault=<name>` (with
//! `fail_first=N`, `fail_after=N`, `retry_after=N`, `retry_after_date=1`, `drip_ms=N`,
//! `redirect_status=N`), `stall_ms=N`, `content_type=TYPE` and
//! `date_offset=N` (see [`LocalAuthServer`]). Every answer carries a `Date`.
//!
//! [`LocalAuthServer::start_tls`] adds an HTTPS listener (rustls) beside
//! the plain one, sharing its state; `tests/tls/` holds a test CA and a
//! certificate for `127.0.0.1` and `localhost` it signed.
//!
//! ## Where things live
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the public API: [`LocalAuthServer`] (start, URLs, counters, [`support_iss`](LocalAuthServer::support_iss), Drop), the registered clients and audiences, the paths |
//! | `shared.rs` | `Shared`: the state every connection sees (counters, codes, refresh tokens, `fail_first` counts, stopping) |
//! | `wire.rs` | the accept loop and the HTTP/1.1 connection loop: keep-alive, `100 Continue`, and the byte-level replies (drip, oversize, reset, send then close) |
//! | `tls.rs` | the rustls configuration of the HTTPS listener and its stream |
//! | `request.rs` | reading a request: head, headers, `Content-Length` and chunked bodies, size limits |
//! | `response.rs` | `Out`, the response under construction: status line, `Date`, headers, OAuth errors, RFC 9457 problems |
//! | `json.rs` | writing JSON strings and numbers straight into bytes |
//! | `routes.rs` | path → endpoint, the counters, `/_stats`, `/healthz`, `/_redirect_target`, `fail_first`/`fail_after` |
//! | `knobs.rs` | the query switches (`expires_in`, `fault=`, `stall_ms`, `content_type`, `date_offset`, ...) |
//! | `faults.rs` | what each `fault=` answers |
//! | `auth0.rs` | the Auth0 token endpoint: JSON and form bodies, Basic credentials, the client credentials grant |
//! | `device.rs` | the device authorization grant (RFC 8628): `/oauth/device/code`, the polls at the token path, `/_device` for the user |
//! | `assertion.rs` | `private_key_jwt`: checking a client assertion's signature and claims, replays |
//! | `authorize.rs` | `GET /authorize`: codes with PKCE, the implicit redirect, redirect URIs, errors sent back |
//! | `grants.rs` | the `authorization_code` and `refresh_token` grants (rotation), the user's tokens |
//! | `discovery.rs` | `GET /.well-known/openid-configuration` |
//! | `cobuilder.rs` | the Cobuilder token endpoint |
//! | `tokens.rs` | JWT access tokens, ID tokens, opaque tokens; reading back the ones it signed |
//! | `resource.rs` | the protected resource under `/api/` (401 `invalid_token`, 403 `insufficient_scope`, redirects) and `POST /_revoke` |

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::ServerConfig;

use shared::{Shared, lock};
use tls::{mtls_config, tls_config};
use wire::accept_loop;

mod assertion;
mod auth0;
mod authorize;
mod cobuilder;
mod device;
mod discovery;
mod faults;
mod grants;
mod json;
mod knobs;
mod request;
mod resource;
mod response;
mod routes;
mod shared;
mod tls;
mod tokens;
mod wire;

/// The only audience the Auth0 endpoint grants.
pub const DEMO_AUDIENCE: &str = "https://beeapp.open-cosmos.com";
/// The registered Auth0 client.
pub const AUTH0_CLIENT_ID: &str = "demo-client";
/// Secret of [`AUTH0_CLIENT_ID`].
pub const AUTH0_CLIENT_SECRET: &str = "demo-secret";
/// A second registered Auth0 machine-to-machine client, so tests can tell
/// whose token an answer carries (its `sub` is `<client id>@clients`).
pub const AUTH0_SECOND_CLIENT_ID: &str = "m2m-second";
/// Secret of [`AUTH0_SECOND_CLIENT_ID`].
pub const AUTH0_SECOND_CLIENT_SECRET: &str = "m2m-second-secret";
/// A registered Auth0 client that authenticates with `private_key_jwt`
/// (RFC 7523): its keys are the public halves of `tests/keys/rsa.key`
/// (RS256, PS256) and `tests/keys/ec.key` (ES256). It may use the client
/// credentials grant and the user flows.
pub const JWT_CLIENT_ID: &str = "jwt-client";
/// A registered client that authenticates with `tls_client_auth` (RFC 8705
/// 2.1) on the mutual-TLS listener: `tests/tls/client.pem`, issued by
/// `tests/tls/client-ca.pem`, and its key `tests/tls/client.key`.
pub const MTLS_CLIENT_ID: &str = "mtls-client";
/// A registered client that authenticates with `self_signed_tls_client_auth`
/// (RFC 8705 2.2): `tests/tls/self-signed.pem` and `self-signed.key`.
pub const MTLS_SELF_SIGNED_CLIENT_ID: &str = "mtls-self-signed";
/// The registered Cobuilder client.
pub const COBUILDER_CLIENT_ID: &str = "cobuilder-client";
/// Secret of [`COBUILDER_CLIENT_ID`].
pub const COBUILDER_CLIENT_SECRET: &str = "cobuilder-secret";
/// The only audience the Cobuilder endpoint grants.
pub const COBUILDER_AUDIENCE: &str = "https://api.cobuilder.com";
/// The registered public (native) client: no secret, and PKCE with `S256`
/// is mandatory in the Authorization Code flow. [`AUTH0_CLIENT_ID`] may use
/// the user flows too, authenticating with its secret at the token endpoint.
pub const NATIVE_CLIENT_ID: &str = "native-client";
/// The user who signs in at `/authorize`: approved at once, no login page
/// (unless the request carries `deny=1`). The `sub` of user tokens.
pub const TEST_USER: &str = "auth0|bearer-test-user";
/// The registered web redirect URI. Loopback redirect URIs are accepted as
/// well, on any port and path (RFC 8252 7.3): `http://127.0.0.1:PORT/...`,
/// `http://localhost:PORT/...` and `http://[::1]:PORT/...`.
pub const WEB_REDIRECT_URI: &str = "https://app.example.com/callback";

const AUTH0_PATH: &str = "/oauth/token";
const COBUILDER_PATH: &str = "/authentication/api/v1/oauth2/token";
const AUTHORIZE_PATH: &str = "/authorize";
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Where `fault=redirect` points: it answers like a token endpoint, and
/// counts, so a test sees whether a client followed.
const REDIRECT_TARGET_PATH: &str = "/_redirect_target";
const AUTH0_DEFAULT_LIFETIME: i64 = 86_400;

/// A running local authorization server.
///
/// Token endpoints: `POST /oauth/token` (Auth0) and
/// `POST /authentication/api/v1/oauth2/token` (Cobuilder). User flows:
/// `GET /authorize` and `GET /.well-known/openid-configuration`; the Auth0
/// token endpoint also takes the `authorization_code` and `refresh_token`
/// grants. Helpers: `GET /_stats`, `GET /healthz`.
///
/// Query parameters on the token paths (all optional, combinable; a bad
/// value is a 400 `invalid_request`, an unknown key is ignored):
///
/// - `expires_in=N`, `omit_expires_in=1`, `opaque=1` (an opaque token, no
///   `expires_in`), `plain=1` (Cobuilder: the token as `text/plain`).
/// - `stall_ms=N`: wait N ms, then answer as asked.
/// - `fault=` one of:
///   `rate_limit` (429 with `Retry-After`, 7 s unless `retry_after` says),
///   `server_error` (500, HTML), `unavailable` (503, HTML, `Retry-After`
///   only when `retry_after` is given), `bad_gateway` (502, HTML),
///   `garbage`, `html`, `empty`, `oversize` (a 2 MiB token),
///   `stall` (10 s unless `stall_ms` says otherwise, then a normal answer),
///   `drip` (a normal answer whose body goes out one byte every `drip_ms`
///   ms, 50 by default, after the head; the Content-Length is right),
///   `drop` (close without answering), `drop_mid_body`,
///   `reset` (read the request, then close with a TCP RST: SO_LINGER 0,
///   Linux only; elsewhere a plain close),
///   `redirect` (302, or `redirect_status=301|303|307|308`, to
///   `/_redirect_target` on the same listener), `echo` (a 400 repeating
///   the body and the Authorization header).
/// - `fail_first=N`: the fault applies to the first N requests with this
///   exact path and query only (counted per server); later ones are
///   answered normally. `fault=unavailable&fail_first=3`: three 503s, then
///   a token.
/// - `fail_after=N`: the other way round: the first N such requests are
///   answered normally, later ones get the fault. `fault=unavailable&
///   fail_after=1`: one token, then the provider is down.
/// - `retry_after=N`: the Retry-After seconds of `rate_limit` and
///   `unavailable`; `retry_after_date=1` sends it as an IMF-fixdate
///   (server clock + N) instead.
/// - `content_type=TYPE` (form-encoded): the Content-Type of the answer,
///   whatever it is; `content_type=` (empty) sends none.
/// - `token_type=TYPE` (form-encoded): the `token_type` of a token answer
///   (and of the implicit redirect), whatever it is, CR and LF included.
/// - `date_offset=N` (signed seconds): the server's clock runs N seconds
///   off: the `Date` header and the `iat`/`exp` of the JWTs it signs (and
///   a `retry_after_date`) come from now + N. Every answer has a `Date`
///   (IMF-fixdate, RFC 9110 5.6.7), from the true clock without this.
///
/// The same parameters ride on the `/authorize` query (next to the OAuth
/// parameters), plus `deny=1`: the user refuses, and `send_iss=1`: the
/// redirect back, an error too, names the issuer in `iss` (RFC 9207), which
/// Auth0 does not; [`support_iss`](Self::support_iss) does it for every
/// request and says so in the discovery document.
///
/// Under `/api/` is a protected resource that accepts the JWT access tokens
/// this server issued while they are valid, as an API behind Auth0 does:
/// any other path there echoes the request (`sub`, method, body, header
/// names) with 200, and a missing, expired, unknown or revoked token gets a
/// 401 `WWW-Authenticate: Bearer error="invalid_token"`; `/api/refuse...`
/// refuses every token, `/api/admin...` answers 403 `insufficient_scope`
/// unless the token has the `admin` scope, `/api/open` needs no token and
/// says whether one came, and `/api/redirect?to=URL` is a 302 to URL.
/// `POST /_revoke` ([`revoke_tokens`](Self::revoke_tokens)) revokes every
/// token issued so far.
///
/// `/_redirect_target` answers any method with 200 and a token-looking
/// JSON body, and counts ([`redirect_target_requests`](Self::redirect_target_requests)).
///
/// [`start_tls`](Self::start_tls) serves HTTPS on a second port with the
/// same state and counters ([`https_base_url`](Self::https_base_url)).
///
/// Dropping it stops accepting, closes open connections (TLS ones too) and
/// wakes stalled and dripping handlers.
pub struct LocalAuthServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    /// One per listener, with the address Drop connects to to wake it.
    accept_threads: Vec<(SocketAddr, JoinHandle<()>)>,
}

impl LocalAuthServer {
    /// Binds 127.0.0.1:0 and serves on background threads.
    pub fn start() -> io::Result<Self> {
        Self::start_on(0)
    }

    /// Binds 127.0.0.1:port (0 = ephemeral).
    pub fn start_on(port: u16) -> io::Result<Self> {
        Self::start_with(port, None)
    }

    /// Plain HTTP on an ephemeral port, as [`start`](Self::start), and
    /// HTTPS on another, with this certificate chain and private key (PEM;
    /// the key PKCS#8, PKCS#1 or SEC1). `tests/tls/server.pem` and
    /// `tests/tls/server.key` are a pair for `127.0.0.1` and `localhost`,
    /// signed by the CA in `tests/tls/ca.pem`.
    pub fn start_tls(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Self> {
        Self::start_tls_on(0, 0, cert_pem, key_pem)
    }

    /// [`start_tls`](Self::start_tls) on given ports (0 = ephemeral).
    pub fn start_tls_on(
        port: u16,
        tls_port: u16,
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> io::Result<Self> {
        let config = tls_config(cert_pem, key_pem)?;
        let mutual = mtls_config(cert_pem, key_pem)?;
        Self::start_with(port, Some((tls_port, config, mutual)))
    }

    fn start_with(
        port: u16,
        tls: Option<(u16, Arc<ServerConfig>, Arc<ServerConfig>)>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let tls = match tls {
            Some((tls_port, config, mutual)) => {
                let tls_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, tls_port))?;
                let tls_addr = tls_listener.local_addr()?;
                let mtls_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
                let mtls_addr = mtls_listener.local_addr()?;
                Some((
                    tls_listener,
                    tls_addr,
                    config,
                    mtls_listener,
                    mtls_addr,
                    mutual,
                ))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            base_url: format!("http://127.0.0.1:{}", addr.port()),
            tls_base_url: tls
                .as_ref()
                .map(|(_, tls_addr, ..)| format!("https://127.0.0.1:{}", tls_addr.port())),
            mtls_base_url: tls
                .as_ref()
                .map(|(.., mtls_addr, _)| format!("https://127.0.0.1:{}", mtls_addr.port())),
            auth0: AtomicU64::new(0),
            cobuilder: AtomicU64::new(0),
            authorize: AtomicU64::new(0),
            refresh: AtomicU64::new(0),
            discovery: AtomicU64::new(0),
            redirect_target: AtomicU64::new(0),
            api: AtomicU64::new(0),
            api_refused: AtomicU64::new(0),
            revoked_before: AtomicU64::new(0),
            iss_parameter: AtomicBool::new(false),
            seen: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            assertion_ids: Mutex::new(HashMap::new()),
            devices: Mutex::new(HashMap::new()),
            device: AtomicU64::new(0),
            device_polls: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            stop_flag: Mutex::new(false),
            stop_cv: Condvar::new(),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
        });
        let mut server = Self {
            shared,
            addr,
            tls_addr: tls.as_ref().map(|(_, tls_addr, ..)| *tls_addr),
            accept_threads: Vec::with_capacity(2),
        };
        // On an error here, dropping `server` ends the threads already started.
        server.spawn_accept(listener, addr, None)?;
        if let Some((tls_listener, tls_addr, config, mtls_listener, mtls_addr, mutual)) = tls {
            server.spawn_accept(tls_listener, tls_addr, Some(config))?;
            server.spawn_accept(mtls_listener, mtls_addr, Some(mutual))?;
        }
        Ok(server)
    }

    fn spawn_accept(
        &mut self,
        listener: TcpListener,
        addr: SocketAddr,
        tls: Option<Arc<ServerConfig>>,
    ) -> io::Result<()> {
        let for_thread = Arc::clone(&self.shared);
        let handle = thread::Builder::new()
            .name("bearer-local-accept".into())
            .spawn(move || accept_loop(&listener, &for_thread, tls.as_ref()))?;
        self.accept_threads.push((addr, handle));
        Ok(())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn auth0_token_url(&self) -> String {
        format!("{}{AUTH0_PATH}", self.shared.base_url)
    }

    pub fn cobuilder_token_url(&self) -> String {
        format!("{}{COBUILDER_PATH}", self.shared.base_url)
    }

    /// The HTTPS listener's address, when started with [`start_tls`](Self::start_tls).
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// `https://127.0.0.1:TLS_PORT`. The certificate of `tests/tls/` also
    /// names `localhost`.
    ///
    /// # Panics
    ///
    /// When the server was not started with [`start_tls`](Self::start_tls).
    pub fn https_base_url(&self) -> String {
        self.shared
            .tls_base_url
            .clone()
            .expect("the server was started with start_tls")
    }

    /// `https://127.0.0.1:MTLS_PORT`: the listener that requires a client
    /// certificate (RFC 8705), started with [`start_tls`](Self::start_tls);
    /// the discovery document names its token endpoint in
    /// `mtls_endpoint_aliases`. Panics as [`https_base_url`](Self::https_base_url).
    pub fn mtls_base_url(&self) -> String {
        self.shared
            .mtls_base_url
            .clone()
            .expect("the server was started with start_tls")
    }

    /// The Auth0 token endpoint on the mutual-TLS listener.
    pub fn mtls_auth0_token_url(&self) -> String {
        format!("{}{AUTH0_PATH}", self.mtls_base_url())
    }

    /// The Auth0 token endpoint over HTTPS; panics as [`https_base_url`](Self::https_base_url).
    pub fn https_auth0_token_url(&self) -> String {
        format!("{}{AUTH0_PATH}", self.https_base_url())
    }

    /// The Cobuilder token endpoint over HTTPS; panics as [`https_base_url`](Self::https_base_url).
    pub fn https_cobuilder_token_url(&self) -> String {
        format!("{}{COBUILDER_PATH}", self.https_base_url())
    }

    /// Requests received at the Auth0 token path: every method, every
    /// outcome, faults included.
    pub fn auth0_requests(&self) -> u64 {
        self.shared.auth0.load(Ordering::SeqCst)
    }

    /// Requests received at the Cobuilder token path, counted like
    /// [`auth0_requests`](Self::auth0_requests).
    pub fn cobuilder_requests(&self) -> u64 {
        self.shared.cobuilder.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT/authorize`
    pub fn authorize_url(&self) -> String {
        format!("{}{AUTHORIZE_PATH}", self.shared.base_url)
    }

    /// `http://127.0.0.1:PORT/`: the `iss` of every token, as Auth0 writes it.
    pub fn issuer(&self) -> String {
        format!("{}/", self.shared.base_url)
    }

    /// From now on, every redirect from `/authorize` carries `iss`, and the
    /// discovery document says `authorization_response_iss_parameter_supported`
    /// (RFC 9207), as an authorization server that supports it does.
    pub fn support_iss(&self) {
        self.shared.iss_parameter.store(true, Ordering::SeqCst);
    }

    /// Requests received at `/authorize`, every method and outcome.
    pub fn authorize_requests(&self) -> u64 {
        self.shared.authorize.load(Ordering::SeqCst)
    }

    /// `refresh_token` grants answered at the Auth0 token path, whatever the
    /// outcome (they count in [`auth0_requests`](Self::auth0_requests) too).
    pub fn refresh_requests(&self) -> u64 {
        self.shared.refresh.load(Ordering::SeqCst)
    }

    /// Requests received at `/.well-known/openid-configuration`.
    pub fn discovery_requests(&self) -> u64 {
        self.shared.discovery.load(Ordering::SeqCst)
    }

    /// Requests received at `/_redirect_target`, where `fault=redirect`
    /// points: not 0 means a client followed a redirect.
    pub fn redirect_target_requests(&self) -> u64 {
        self.shared.redirect_target.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT/api/PATH`: the protected resource.
    pub fn api_url(&self, path: &str) -> String {
        format!(
            "{}/api/{}",
            self.shared.base_url,
            path.trim_start_matches('/')
        )
    }

    /// Requests received under `/api/`.
    pub fn api_requests(&self) -> u64 {
        self.shared.api.load(Ordering::SeqCst)
    }

    /// Revokes every token issued so far: the protected resource refuses
    /// them from now on (as `POST /_revoke` does).
    pub fn revoke_tokens(&self) {
        resource::revoke_all(&self.shared);
    }

    /// `http://127.0.0.1:PORT/oauth/device/code`: the device authorization
    /// endpoint (RFC 8628 3.1).
    pub fn device_authorization_url(&self) -> String {
        format!("{}/oauth/device/code", self.shared.base_url)
    }

    /// What the user does at the verification URI with `user_code`:
    /// `approve`, `deny`, or `slow_down` (the next poll is told to).
    pub fn device_action(&self, user_code: &str, action: &str) -> bool {
        device::act(&self.shared, user_code, action)
    }

    /// Device code grants received at the token path (polls).
    pub fn device_polls(&self) -> u64 {
        self.shared.device_polls.load(Ordering::SeqCst)
    }

    /// Connections accepted so far, to see keep-alive at work.
    pub fn connections(&self) -> u64 {
        self.shared.next_conn.load(Ordering::SeqCst)
    }

    /// Blocks the calling thread until the process ends (used by `bearer serve`).
    pub fn serve_forever(&self) {
        loop {
            thread::park();
        }
    }
}

impl fmt::Debug for LocalAuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAuthServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for LocalAuthServer {
    fn drop(&mut self) {
        self.shared.stop();
        for (addr, handle) in self.accept_threads.drain(..) {
            // accept() only returns on a connection, so make one. Without
            // it a join could hang; the thread then ends on its next accept.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
                let _ = handle.join();
            }
        }
        for (_, stream) in lock(&self.shared.conns).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}
