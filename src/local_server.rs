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

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, PAD_INDIFFERENT, URL_SAFE_NO_PAD};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use sha2::{Digest, Sha256};

use crate::secret::constant_time_eq;

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
/// Auth0's default for tokens from the Implicit flow.
const IMPLICIT_DEFAULT_LIFETIME: i64 = 7_200;
/// Auth0's default ID token lifetime.
const ID_TOKEN_LIFETIME: i64 = 36_000;
/// Authorization codes are good for one minute, and one use.
const CODE_LIFETIME: Duration = Duration::from_secs(60);
const COBUILDER_DEFAULT_LIFETIME: i64 = 3_600;
const DEFAULT_STALL_MS: u64 = 10_000;
const DEFAULT_DRIP_MS: u64 = 50;
/// Auth0's Retry-After on a rate-limited token request, in seconds.
const DEFAULT_RETRY_AFTER: u64 = 7;
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const OVERSIZE_TOKEN_LEN: usize = 2 * 1024 * 1024;
/// base64url of `{"alg":"RS256","typ":"JWT"}`.
const JWT_HEADER: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
const PROBLEM_400: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.1";
const PROBLEM_401: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.2";
const PROBLEM_405: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.6";
const PROBLEM_415: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.16";

/// Basic credentials arrive padded or not, depending on the client.
const BASIC_B64: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, PAD_INDIFFERENT);

/// Process-wide, so tokens from two servers in one process never collide.
static TOKEN_SEQ: AtomicU64 = AtomicU64::new(1);

/// Differs per process, so a restarted `bearer serve` never reissues a token.
fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        nanos ^ (u64::from(std::process::id()) << 32)
    })
}

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

struct Shared {
    base_url: String,
    /// `https://127.0.0.1:PORT` when there is a TLS listener.
    tls_base_url: Option<String>,
    auth0: AtomicU64,
    cobuilder: AtomicU64,
    authorize: AtomicU64,
    refresh: AtomicU64,
    discovery: AtomicU64,
    redirect_target: AtomicU64,
    /// RFC 9207 for every `/authorize` request, advertised in discovery.
    iss_parameter: AtomicBool,
    /// `fail_first` and `fail_after`: requests seen per path and query.
    seen: Mutex<HashMap<String, u64>>,
    /// Authorization codes not presented yet; presenting one removes it.
    codes: Mutex<HashMap<String, CodeGrant>>,
    /// Live refresh tokens; using one replaces it by a new one (rotation).
    refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    stopping: AtomicBool,
    /// Stalled handlers wait on this so Drop can wake them at once.
    stop_flag: Mutex<bool>,
    stop_cv: Condvar,
    /// Clones of open connections, so Drop can end handlers blocked in a read.
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

impl Shared {
    fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        *lock(&self.stop_flag) = true;
        self.stop_cv.notify_all();
    }

    /// The base URL of the listener a request came in on.
    fn base_for(&self, secure: bool) -> &str {
        match &self.tls_base_url {
            Some(tls_base) if secure => tls_base,
            _ => &self.base_url,
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps up to `ms`; returns false when the server stopped meanwhile.
    fn stall(&self, ms: u64) -> bool {
        let guard = lock(&self.stop_flag);
        let (guard, _) = self
            .stop_cv
            .wait_timeout_while(guard, Duration::from_millis(ms), |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        !*guard
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
        Self::start_with(port, Some((tls_port, config)))
    }

    fn start_with(port: u16, tls: Option<(u16, Arc<ServerConfig>)>) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let tls = match tls {
            Some((tls_port, config)) => {
                let tls_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, tls_port))?;
                let tls_addr = tls_listener.local_addr()?;
                Some((tls_listener, tls_addr, config))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            base_url: format!("http://127.0.0.1:{}", addr.port()),
            tls_base_url: tls
                .as_ref()
                .map(|(_, tls_addr, _)| format!("https://127.0.0.1:{}", tls_addr.port())),
            auth0: AtomicU64::new(0),
            cobuilder: AtomicU64::new(0),
            authorize: AtomicU64::new(0),
            refresh: AtomicU64::new(0),
            discovery: AtomicU64::new(0),
            redirect_target: AtomicU64::new(0),
            iss_parameter: AtomicBool::new(false),
            seen: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            stop_flag: Mutex::new(false),
            stop_cv: Condvar::new(),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
        });
        let mut server = Self {
            shared,
            addr,
            tls_addr: tls.as_ref().map(|(_, tls_addr, _)| *tls_addr),
            accept_threads: Vec::with_capacity(2),
        };
        // On an error here, dropping `server` ends the threads already started.
        server.spawn_accept(listener, addr, None)?;
        if let Some((tls_listener, tls_addr, config)) = tls {
            server.spawn_accept(tls_listener, tls_addr, Some(config))?;
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

/// The rustls configuration of the HTTPS listener, with ring as ureq has it.
fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<ServerConfig>> {
    let invalid = |what: &str, error: &dyn fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {error}"))
    };
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("the certificate PEM", &e))?;
    if certs.is_empty() {
        return Err(invalid("the certificate PEM", &"no CERTIFICATE section"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid("the key PEM", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("the certificate and key", &e))?;
    Ok(Arc::new(config))
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, tls: Option<&Arc<ServerConfig>>) {
    loop {
        let accepted = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or an aborted handshake: back off briefly.
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let for_conn = Arc::clone(shared);
        let tls = tls.map(Arc::clone);
        let spawned = thread::Builder::new()
            .name("bearer-local-conn".into())
            .spawn(move || {
                match tls {
                    None => serve_connection(&for_conn, stream, false),
                    // The handshake runs on the first read.
                    Some(config) => {
                        if let Ok(session) = ServerConnection::new(config) {
                            serve_connection(&for_conn, StreamOwned::new(session, stream), true);
                        }
                    }
                }
                lock(&for_conn.conns).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.conns).remove(&id);
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP/1.1 framing
// ---------------------------------------------------------------------------

/// A connection's byte stream: plain TCP, or TLS over it.
trait Wire: Read + Write {
    fn tcp(&self) -> &TcpStream;

    /// Ends the sending side (TLS: close_notify first).
    fn shutdown_write(&mut self) {
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl Wire for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Wire for StreamOwned<ServerConnection, TcpStream> {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }

    fn shutdown_write(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(Shutdown::Write);
    }
}

/// Per-connection buffers, reused by every request on the connection.
struct Conn<S> {
    reader: BufReader<S>,
    head: Vec<u8>,
    body: Vec<u8>,
    out: Out,
    /// Came in on the HTTPS listener.
    secure: bool,
}

/// Byte ranges into `Conn::head`, so parsing a request allocates nothing.
struct Head {
    method: Range<usize>,
    target: Range<usize>,
    http10: bool,
    content_length: Option<usize>,
    chunked: bool,
    content_type: Option<Range<usize>>,
    authorization: Option<Range<usize>>,
    close: bool,
    expect_continue: bool,
}

enum ReadOutcome {
    Request(Head),
    /// The request cannot be framed: answer with this status, then close.
    Reject(u16, &'static str),
    Eof,
}

struct Request<'a> {
    secure: bool,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    content_type: Option<&'a str>,
    authorization: Option<&'a str>,
    body: &'a [u8],
}

/// What the connection loop does after a handler ran.
enum Reply {
    /// `out.buf` holds a complete response.
    Send,
    /// Send `out.buf`, then close (a deliberately broken response).
    SendThenClose,
    /// Close without answering.
    Close,
    /// Send `out.buf` (headers), then the streamed 2 MiB body.
    Oversize,
    /// Send the head in `out.buf`, then its body a byte every N ms.
    Drip(u64),
    /// Close with a TCP reset instead of answering.
    Reset,
}

fn serve_connection<S: Wire>(shared: &Shared, stream: S, secure: bool) {
    let mut conn = Conn {
        reader: BufReader::with_capacity(8 * 1024, stream),
        head: Vec::with_capacity(1024),
        body: Vec::new(),
        out: Out {
            buf: Vec::with_capacity(1024),
            body: Vec::with_capacity(1024),
            close: false,
            head_only: false,
            clock_offset: 0,
            stamp: None,
            content_type: None,
            body_start: 0,
        },
        secure,
    };
    while !shared.is_stopping() {
        match serve_one(shared, &mut conn) {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

/// Serves one request; Ok(true) keeps the connection open.
fn serve_one<S: Wire>(shared: &Shared, conn: &mut Conn<S>) -> io::Result<bool> {
    let head = match read_head(&mut conn.reader, &mut conn.head)? {
        ReadOutcome::Request(head) => head,
        ReadOutcome::Eof => return Ok(false),
        ReadOutcome::Reject(status, message) => {
            conn.out.start(true, false);
            conn.out.json_error(status, "invalid_request", message);
            write_all(&mut conn.reader, &conn.out.buf)?;
            close_gently(&mut conn.reader);
            return Ok(false);
        }
    };
    if head.expect_continue
        && !head.http10
        && (head.chunked || head.content_length.is_some_and(|n| n > 0))
    {
        write_all(&mut conn.reader, b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if let Err(status) = read_body(&mut conn.reader, &head, &mut conn.body)? {
        conn.out.start(true, false);
        conn.out
            .json_error(status, "invalid_request", "Request body too large");
        write_all(&mut conn.reader, &conn.out.buf)?;
        close_gently(&mut conn.reader);
        return Ok(false);
    }

    let text = |r: &Range<usize>| std::str::from_utf8(&conn.head[r.clone()]).unwrap_or("");
    let method = text(&head.method);
    let mut target = text(&head.target);
    // Absolute form, as a proxy-minded client may send it.
    if let Some(rest) = target.strip_prefix("http://") {
        target = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let req = Request {
        secure: conn.secure,
        method,
        path,
        query,
        content_type: head.content_type.as_ref().map(text),
        authorization: head.authorization.as_ref().map(text),
        body: &conn.body,
    };
    let close = head.close || head.http10;
    conn.out.start(close, method == "HEAD");
    let reply = route(shared, &req, &mut conn.out);

    let stream = &mut conn.reader;
    match reply {
        Reply::Send => {
            write_all(stream, &conn.out.buf)?;
            Ok(!close)
        }
        Reply::SendThenClose => {
            write_all(stream, &conn.out.buf)?;
            Ok(false)
        }
        Reply::Close => Ok(false),
        Reply::Oversize => {
            static FILLER: [u8; 64 * 1024] = [b'a'; 64 * 1024];
            write_all(stream, &conn.out.buf)?;
            let mut left = OVERSIZE_TOKEN_LEN;
            while left > 0 {
                let n = left.min(FILLER.len());
                write_all(stream, &FILLER[..n])?;
                left -= n;
            }
            write_all(stream, OVERSIZE_TAIL.as_bytes())?;
            Ok(!close)
        }
        Reply::Drip(ms) => {
            let (head, body) = conn.out.buf.split_at(conn.out.body_start);
            write_all(stream, head)?;
            for byte in body.chunks(1) {
                if !shared.stall(ms) {
                    return Ok(false);
                }
                write_all(stream, byte)?;
            }
            Ok(!close)
        }
        Reply::Reset => {
            // The RST goes out when the last descriptor closes: this one
            // and the clone in `Shared::conns`, both dropped on return.
            let _ = linger_zero(stream.get_ref().tcp());
            Ok(false)
        }
    }
}

/// SO_LINGER on with a zero timeout: close() then sends RST, not FIN.
#[cfg(target_os = "linux")]
fn linger_zero(stream: &TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a socket descriptor we own, and an option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// std cannot set SO_LINGER (unstable), and libc is a Linux-only dependency.
#[cfg(not(target_os = "linux"))]
fn linger_zero(_stream: &TcpStream) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

fn write_all<S: Wire>(reader: &mut BufReader<S>, bytes: &[u8]) -> io::Result<()> {
    let stream = reader.get_mut();
    stream.write_all(bytes)?;
    stream.flush()
}

/// Closing with unread input makes the kernel send a reset, which can
/// destroy the error answer before the client reads it; so stop writing,
/// then drain for a moment.
fn close_gently<S: Wire>(reader: &mut BufReader<S>) {
    reader.get_mut().shutdown_write();
    let mut stream: &TcpStream = reader.get_ref().tcp();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 8192];
    let mut budget = 2 * MAX_BODY;
    while budget > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}

/// Reads the request line and headers into `buf` (at most `MAX_HEAD` bytes).
fn read_head(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<ReadOutcome> {
    buf.clear();
    let mut head: Option<Head> = None;
    loop {
        let start = buf.len();
        let room = MAX_HEAD.saturating_sub(start);
        if room == 0 {
            return Ok(ReadOutcome::Reject(431, "Request header fields too large"));
        }
        let n = reader.take(room as u64).read_until(b'\n', buf)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            if n > 0 && buf.len() >= MAX_HEAD {
                return Ok(ReadOutcome::Reject(431, "Request header fields too large"));
            }
            // EOF: nothing to answer, whether idle or mid-request.
            return Ok(ReadOutcome::Eof);
        }
        let mut end = buf.len() - 1;
        if end > start && buf[end - 1] == b'\r' {
            end -= 1;
        }
        let line = start..end;
        match head.as_mut() {
            None if line.is_empty() => {
                // Stray CRLF between requests (RFC 9112 2.2).
                buf.clear();
            }
            None => match parse_request_line(buf, line) {
                Some(h) => head = Some(h),
                None => return Ok(ReadOutcome::Reject(400, "Malformed request line")),
            },
            Some(_) if line.is_empty() => {
                return Ok(head.map_or(ReadOutcome::Eof, ReadOutcome::Request));
            }
            Some(h) => {
                if let Err(message) = parse_header(buf, line, h) {
                    return Ok(ReadOutcome::Reject(400, message));
                }
            }
        }
    }
}

fn parse_request_line(buf: &[u8], line: Range<usize>) -> Option<Head> {
    let bytes = &buf[line.clone()];
    if !bytes.is_ascii() {
        return None;
    }
    let sp1 = bytes.iter().position(|&b| b == b' ')?;
    let sp2 = sp1 + 1 + bytes[sp1 + 1..].iter().position(|&b| b == b' ')?;
    let version = &bytes[sp2 + 1..];
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return None,
    };
    if sp1 == 0 || sp2 == sp1 + 1 || bytes[sp1 + 1..sp2].contains(&b' ') {
        return None;
    }
    Some(Head {
        method: line.start..line.start + sp1,
        target: line.start + sp1 + 1..line.start + sp2,
        http10,
        content_length: None,
        chunked: false,
        content_type: None,
        authorization: None,
        close: false,
        expect_continue: false,
    })
}

fn parse_header(buf: &[u8], line: Range<usize>, head: &mut Head) -> Result<(), &'static str> {
    let bytes = &buf[line.clone()];
    if bytes[0] == b' ' || bytes[0] == b'\t' {
        return Err("Obsolete header line folding");
    }
    let colon = bytes
        .iter()
        .position(|&b| b == b':')
        .ok_or("Malformed header line")?;
    let name = &bytes[..colon];
    let mut value = line.start + colon + 1..line.end;
    while value.start < value.end && matches!(buf[value.start], b' ' | b'\t') {
        value.start += 1;
    }
    while value.end > value.start && matches!(buf[value.end - 1], b' ' | b'\t') {
        value.end -= 1;
    }
    let v = &buf[value.clone()];
    if name.eq_ignore_ascii_case(b"content-length") {
        let parsed = std::str::from_utf8(v)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or("Invalid Content-Length")?;
        if head.content_length.is_some_and(|old| old != parsed) {
            return Err("Conflicting Content-Length headers");
        }
        head.content_length = Some(parsed);
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        head.chunked = has_token(v, b"chunked");
    } else if name.eq_ignore_ascii_case(b"content-type") {
        head.content_type = Some(value);
    } else if name.eq_ignore_ascii_case(b"authorization") {
        head.authorization = Some(value);
    } else if name.eq_ignore_ascii_case(b"connection") {
        head.close |= has_token(v, b"close");
    } else if name.eq_ignore_ascii_case(b"expect") {
        head.expect_continue = v.eq_ignore_ascii_case(b"100-continue");
    }
    Ok(())
}

/// Whether a comma-separated header value lists `token`.
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Reads the body into `body`. Ok(Err(status)) means it may not be read.
fn read_body(
    reader: &mut impl BufRead,
    head: &Head,
    body: &mut Vec<u8>,
) -> io::Result<Result<(), u16>> {
    body.clear();
    if head.chunked {
        return read_chunked(reader, body);
    }
    let Some(len) = head.content_length else {
        return Ok(Ok(()));
    };
    if len > MAX_BODY {
        return Ok(Err(413));
    }
    body.resize(len, 0);
    reader.read_exact(body)?;
    Ok(Ok(()))
}

fn read_chunked(reader: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<Result<(), u16>> {
    let mut line = Vec::with_capacity(32);
    loop {
        line.clear();
        reader.take(1024).read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let size_text = line
            .split(|&b| b == b';' || b == b'\r' || b == b'\n')
            .next();
        let size = size_text
            .and_then(|s| std::str::from_utf8(s.trim_ascii()).ok())
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or(io::ErrorKind::InvalidData)?;
        if size == 0 {
            // Trailer section, ended by an empty line.
            loop {
                line.clear();
                reader.take(MAX_HEAD as u64).read_until(b'\n', &mut line)?;
                if line.last() != Some(&b'\n') {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                if line.trim_ascii().is_empty() {
                    return Ok(Ok(()));
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Ok(Err(413));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
}

/// Response under construction: `body` is filled first, then `finish` puts
/// headers and body into `buf` so the response goes out in one write.
struct Out {
    buf: Vec<u8>,
    body: Vec<u8>,
    close: bool,
    head_only: bool,
    /// `date_offset`: seconds the server's clock is off.
    clock_offset: i64,
    /// The answer's time, read once so its Date, Retry-After and JWTs agree.
    stamp: Option<i64>,
    /// `content_type`: replaces the Content-Type ("" for none).
    content_type: Option<String>,
    /// Where the body starts in `buf` (for `fault=drip`).
    body_start: usize,
}

impl Out {
    fn start(&mut self, close: bool, head_only: bool) {
        self.buf.clear();
        self.body.clear();
        self.close = close;
        self.head_only = head_only;
        self.clock_offset = 0;
        self.stamp = None;
        self.content_type = None;
        self.body_start = 0;
    }

    /// The server's clock (unix seconds) when this answer was made.
    fn now(&mut self) -> i64 {
        *self
            .stamp
            .get_or_insert_with(|| now_secs().saturating_add(self.clock_offset))
    }

    fn status_line(&mut self, status: u16) {
        self.buf.extend_from_slice(b"HTTP/1.1 ");
        push_u64(&mut self.buf, u64::from(status));
        self.buf.push(b' ');
        self.buf.extend_from_slice(reason(status).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, name: &str, value: &str) {
        push_header(&mut self.buf, name, value);
    }

    /// Writes status line and headers, with `Content-Length: content_length`.
    fn head(&mut self, status: u16, ctype: &str, extra: &[(&str, &str)], content_length: usize) {
        self.status_line(status);
        self.buf.extend_from_slice(b"Date: ");
        let now = self.now();
        push_http_date(&mut self.buf, now);
        self.buf.extend_from_slice(b"\r\n");
        let ctype = self.content_type.as_deref().unwrap_or(ctype);
        if !ctype.is_empty() {
            push_header(&mut self.buf, "Content-Type", ctype);
        }
        self.buf.extend_from_slice(b"Content-Length: ");
        push_u64(&mut self.buf, content_length as u64);
        self.buf.extend_from_slice(b"\r\n");
        for (name, value) in extra {
            self.header(name, value);
        }
        if self.close {
            self.buf.extend_from_slice(b"Connection: close\r\n");
        }
        self.buf.extend_from_slice(b"\r\n");
        self.body_start = self.buf.len();
    }

    /// Completes a response whose body is in `self.body`.
    fn finish(&mut self, status: u16, ctype: &str, extra: &[(&str, &str)]) -> Reply {
        self.head(status, ctype, extra, self.body.len());
        if !self.head_only {
            self.buf.extend_from_slice(&self.body);
        }
        Reply::Send
    }

    fn finish_405(&mut self, allow: &str) -> Reply {
        self.body
            .extend_from_slice(b"{\"error\":\"method_not_allowed\"}");
        self.finish(405, "application/json", &[("Allow", allow)])
    }

    fn send(&mut self, status: u16, ctype: &str, body: &str) -> Reply {
        self.body.extend_from_slice(body.as_bytes());
        self.finish(status, ctype, &[])
    }

    /// An OAuth 2.0 error (RFC 6749 5.2), as Auth0 writes it.
    fn json_error(&mut self, status: u16, error: &str, description: &str) -> Reply {
        let b = &mut self.body;
        b.extend_from_slice(b"{\"error\":");
        push_json_str(b, error);
        b.extend_from_slice(b",\"error_description\":");
        push_json_str(b, description);
        b.push(b'}');
        self.finish(status, "application/json", &[])
    }

    /// An RFC 9457 problem, as the Cobuilder API writes it.
    fn problem(
        &mut self,
        status: u16,
        kind: &str,
        title: &str,
        detail: &str,
        trace: bool,
    ) -> Reply {
        let b = &mut self.body;
        b.extend_from_slice(b"{\"type\":");
        push_json_str(b, kind);
        b.extend_from_slice(b",\"title\":");
        push_json_str(b, title);
        b.extend_from_slice(b",\"status\":");
        push_u64(b, u64::from(status));
        b.extend_from_slice(b",\"detail\":");
        push_json_str(b, detail);
        b.extend_from_slice(b",\"instance\":");
        push_json_str(b, COBUILDER_PATH);
        b.extend_from_slice(b",\"extensions\":{");
        if trace {
            let seq = TOKEN_SEQ.fetch_add(1, Ordering::Relaxed);
            b.extend_from_slice(b"\"traceId\":\"00-");
            push_hex(b, process_seed());
            push_hex(b, seq);
            b.push(b'-');
            push_hex(b, seq ^ 0x9e37_79b9_7f4a_7c15);
            b.extend_from_slice(b"-00\"");
        }
        b.extend_from_slice(b"}}");
        self.finish(status, "application/problem+json", &[])
    }
}

fn push_header(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(value.as_bytes());
    buf.extend_from_slice(b"\r\n");
}

/// Appends `unix` seconds as an IMF-fixdate (RFC 9110 5.6.7), e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn push_http_date(out: &mut Vec<u8>, unix: i64) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Days to civil date (H. Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let two = |out: &mut Vec<u8>, n: i64| {
        out.push(b'0' + (n / 10 % 10) as u8);
        out.push(b'0' + (n % 10) as u8);
    };
    out.extend_from_slice(DAYS[days.rem_euclid(7) as usize].as_bytes());
    out.extend_from_slice(b", ");
    two(out, day);
    out.push(b' ');
    out.extend_from_slice(MONTHS[(month - 1) as usize].as_bytes());
    out.push(b' ');
    two(out, year.clamp(0, 9999) / 100);
    two(out, year.clamp(0, 9999) % 100);
    out.push(b' ');
    two(out, secs / 3600);
    out.push(b':');
    two(out, secs / 60 % 60);
    out.push(b':');
    two(out, secs % 60);
    out.extend_from_slice(b" GMT");
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

fn push_hex(out: &mut Vec<u8>, n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(HEX[((n >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Appends `s` as a quoted JSON string.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    push_json_parts(out, &[s]);
}

/// Appends the concatenation of `parts` as one quoted JSON string.
fn push_json_parts(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for &b in parts.iter().flat_map(|p| p.as_bytes()) {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f | 0x7f => {
                out.extend_from_slice(b"\\u00");
                push_hex_byte(out, b);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn push_hex_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0xf)]);
}

// ---------------------------------------------------------------------------
// Routing and test knobs
// ---------------------------------------------------------------------------

fn route(shared: &Shared, req: &Request<'_>, out: &mut Out) -> Reply {
    let endpoint = match req.path {
        AUTH0_PATH => {
            shared.auth0.fetch_add(1, Ordering::SeqCst);
            Endpoint::Auth0
        }
        COBUILDER_PATH => {
            shared.cobuilder.fetch_add(1, Ordering::SeqCst);
            Endpoint::Cobuilder
        }
        AUTHORIZE_PATH => {
            shared.authorize.fetch_add(1, Ordering::SeqCst);
            Endpoint::Authorize
        }
        DISCOVERY_PATH => {
            shared.discovery.fetch_add(1, Ordering::SeqCst);
            if !matches!(req.method, "GET" | "HEAD") {
                return out.finish_405("GET");
            }
            return discovery(shared, shared.base_for(req.secure), out);
        }
        "/_stats" | "/healthz" if !matches!(req.method, "GET" | "HEAD") => {
            return out.finish_405("GET");
        }
        "/_stats" => {
            let b = &mut out.body;
            for (i, (name, counter)) in [
                ("auth0", &shared.auth0),
                ("cobuilder", &shared.cobuilder),
                ("authorize", &shared.authorize),
                ("refresh", &shared.refresh),
                ("discovery", &shared.discovery),
                ("redirect_target", &shared.redirect_target),
                ("connections", &shared.next_conn),
            ]
            .into_iter()
            .enumerate()
            {
                b.push(if i == 0 { b'{' } else { b',' });
                push_json_str(b, name);
                b.push(b':');
                push_u64(b, counter.load(Ordering::SeqCst));
            }
            b.push(b'}');
            return out.finish(200, "application/json", &[]);
        }
        "/healthz" => return out.send(200, "text/plain", "ok"),
        REDIRECT_TARGET_PATH => {
            shared.redirect_target.fetch_add(1, Ordering::SeqCst);
            let b = &mut out.body;
            b.extend_from_slice(b"{\"access_token\":");
            push_json_str(b, &opaque_token());
            b.extend_from_slice(b",\"token_type\":\"Bearer\",\"expires_in\":86400}");
            return out.finish(200, "application/json", &[]);
        }
        _ => return out.send(404, "application/json", "{\"error\":\"not_found\"}"),
    };

    let mut knobs = match Knobs::parse(req.query) {
        Ok(knobs) => knobs,
        Err(message) => return out.json_error(400, "invalid_request", &message),
    };
    out.clock_offset = knobs.date_offset;
    out.content_type = knobs.content_type.take();
    if knobs.fail_first.is_some() || knobs.fail_after.is_some() {
        let mut seen = lock(&shared.seen);
        let count = seen
            .entry(format!("{}?{}", req.path, req.query))
            .or_insert(0);
        *count += 1;
        let faulted = knobs.fail_first.is_none_or(|first| *count <= first)
            && knobs.fail_after.is_none_or(|after| *count > after);
        if !faulted {
            knobs.fault = None;
        }
    }
    match answer(shared, endpoint, req, &knobs, out) {
        Reply::Send if knobs.fault == Some(Fault::Drip) => Reply::Drip(knobs.drip_ms),
        reply => reply,
    }
}

/// The answer at a token path or `/authorize`, the knobs applied.
fn answer(
    shared: &Shared,
    endpoint: Endpoint,
    req: &Request<'_>,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    if let Some(fault) = knobs.fault
        && let Some(reply) = apply_fault(shared, fault, knobs, req, out)
    {
        return reply;
    }
    if let Endpoint::Authorize = endpoint {
        if !matches!(req.method, "GET" | "HEAD") {
            return out.finish_405("GET");
        }
        return authorize(shared, req, knobs, out);
    }
    if req.method != "POST" {
        return match endpoint {
            Endpoint::Auth0 | Endpoint::Authorize => {
                out.body.extend_from_slice(
                    b"{\"error\":\"method_not_allowed\",\"error_description\":\"Use POST\"}",
                );
                out.finish(405, "application/json", &[("Allow", "POST")])
            }
            Endpoint::Cobuilder => {
                out.problem(405, PROBLEM_405, "Method Not Allowed", "Use POST.", true)
            }
        };
    }
    match endpoint {
        Endpoint::Auth0 | Endpoint::Authorize => auth0_token(shared, req, knobs, out),
        Endpoint::Cobuilder => cobuilder_token(shared, req, knobs, out),
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    Auth0,
    Cobuilder,
    Authorize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    RateLimit,
    ServerError,
    Garbage,
    Html,
    Empty,
    Oversize,
    Stall,
    Drop,
    DropMidBody,
    Redirect,
    Echo,
    Unavailable,
    BadGateway,
    Drip,
    Reset,
}

struct Knobs {
    expires_in: Option<i64>,
    omit_expires_in: bool,
    opaque: bool,
    plain: bool,
    fault: Option<Fault>,
    stall_ms: u64,
    fail_first: Option<u64>,
    fail_after: Option<u64>,
    retry_after: Option<u64>,
    retry_after_date: bool,
    drip_ms: u64,
    redirect_status: u16,
    content_type: Option<String>,
    token_type: Option<String>,
    date_offset: i64,
    /// `/authorize` only: name the issuer in the redirect (RFC 9207).
    send_iss: bool,
}

impl Knobs {
    fn token_type(&self) -> &str {
        self.token_type.as_deref().unwrap_or("Bearer")
    }
}

impl Knobs {
    /// Unknown keys are ignored; a bad value is an error, so a typo in a
    /// test shows up instead of silently succeeding.
    fn parse(query: &str) -> Result<Self, String> {
        let mut stall_given = false;
        let mut knobs = Knobs {
            expires_in: None,
            omit_expires_in: false,
            opaque: false,
            plain: false,
            fault: None,
            stall_ms: DEFAULT_STALL_MS,
            fail_first: None,
            fail_after: None,
            retry_after: None,
            retry_after_date: false,
            drip_ms: DEFAULT_DRIP_MS,
            redirect_status: 302,
            content_type: None,
            token_type: None,
            date_offset: 0,
            send_iss: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || format!("Invalid test parameter: {key}={value}");
            match key {
                "expires_in" => knobs.expires_in = Some(value.parse().map_err(|_| bad())?),
                "stall_ms" => {
                    knobs.stall_ms = value.parse().map_err(|_| bad())?;
                    stall_given = true;
                }
                "omit_expires_in" => knobs.omit_expires_in = flag(value).ok_or_else(bad)?,
                "opaque" => knobs.opaque = flag(value).ok_or_else(bad)?,
                "plain" => knobs.plain = flag(value).ok_or_else(bad)?,
                "send_iss" => knobs.send_iss = flag(value).ok_or_else(bad)?,
                "fail_first" => knobs.fail_first = Some(value.parse().map_err(|_| bad())?),
                "fail_after" => knobs.fail_after = Some(value.parse().map_err(|_| bad())?),
                "retry_after" => knobs.retry_after = Some(value.parse().map_err(|_| bad())?),
                "retry_after_date" => knobs.retry_after_date = flag(value).ok_or_else(bad)?,
                "drip_ms" => knobs.drip_ms = value.parse().map_err(|_| bad())?,
                "redirect_status" => {
                    knobs.redirect_status = value
                        .parse()
                        .ok()
                        .filter(|s| matches!(s, 301 | 302 | 303 | 307 | 308))
                        .ok_or_else(bad)?;
                }
                "content_type" => {
                    let media = form_decode(value.as_bytes());
                    // Anything that could end the header line is refused.
                    if !media.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
                        return Err(bad());
                    }
                    knobs.content_type = Some(media);
                }
                "date_offset" => knobs.date_offset = value.parse().map_err(|_| bad())?,
                // Anything at all, CR and LF included: the client must refuse it.
                "token_type" => knobs.token_type = Some(form_decode(value.as_bytes())),
                "fault" => {
                    knobs.fault = Some(match value {
                        "rate_limit" => Fault::RateLimit,
                        "server_error" => Fault::ServerError,
                        "garbage" => Fault::Garbage,
                        "html" => Fault::Html,
                        "empty" => Fault::Empty,
                        "oversize" => Fault::Oversize,
                        "stall" => Fault::Stall,
                        "drop" => Fault::Drop,
                        "drop_mid_body" => Fault::DropMidBody,
                        "redirect" => Fault::Redirect,
                        "echo" => Fault::Echo,
                        "unavailable" => Fault::Unavailable,
                        "bad_gateway" => Fault::BadGateway,
                        "drip" => Fault::Drip,
                        "reset" => Fault::Reset,
                        _ => return Err(bad()),
                    })
                }
                _ => {}
            }
        }
        // `stall_ms=N` alone delays an otherwise normal answer.
        if stall_given && knobs.fault.is_none() {
            knobs.fault = Some(Fault::Stall);
        }
        Ok(knobs)
    }

    /// The Retry-After value: seconds, or with `retry_after_date` the
    /// date that many seconds from `now`, the server's clock.
    fn retry_after_value(&self, seconds: u64, now: i64) -> String {
        if self.retry_after_date {
            let mut date = Vec::with_capacity(29);
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            push_http_date(&mut date, now.saturating_add(seconds));
            String::from_utf8(date).unwrap_or_default()
        } else {
            seconds.to_string()
        }
    }
}

fn flag(value: &str) -> Option<bool> {
    match value {
        "" | "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

const OVERSIZE_HEAD: &str = "{\"access_token\":\"";
const OVERSIZE_TAIL: &str = "\",\"token_type\":\"Bearer\",\"expires_in\":3600}";

/// Returns None when the request should then be answered normally (a stall
/// that ran its course).
fn apply_fault(
    shared: &Shared,
    fault: Fault,
    knobs: &Knobs,
    req: &Request<'_>,
    out: &mut Out,
) -> Option<Reply> {
    Some(match fault {
        Fault::RateLimit => {
            out.body.extend_from_slice(
                b"{\"error\":\"too_many_requests\",\"error_description\":\"Global limit has been reached\"}",
            );
            let retry_after = knobs
                .retry_after_value(knobs.retry_after.unwrap_or(DEFAULT_RETRY_AFTER), out.now());
            out.finish(429, "application/json", &[("Retry-After", &retry_after)])
        }
        Fault::ServerError => out.send(
            500,
            "text/html",
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
        ),
        // As a reverse proxy in front of the endpoint writes them.
        Fault::Unavailable => {
            out.body.extend_from_slice(
                b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n\
                  <body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n\
                  </body>\r\n</html>\r\n",
            );
            match knobs.retry_after {
                Some(seconds) => {
                    let retry_after = knobs.retry_after_value(seconds, out.now());
                    out.finish(503, "text/html", &[("Retry-After", &retry_after)])
                }
                None => out.finish(503, "text/html", &[]),
            }
        }
        Fault::BadGateway => out.send(
            502,
            "text/html",
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
             <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        ),
        // Answered normally; the connection loop sends the body slowly.
        Fault::Drip => return None,
        Fault::Reset => Reply::Reset,
        Fault::Garbage => out.send(200, "application/json", "{\"access_token\": "),
        Fault::Html => out.send(200, "text/html", "<html><body>Login</body></html>"),
        Fault::Empty => out.send(200, "application/json", ""),
        Fault::Oversize => {
            let len = OVERSIZE_HEAD.len() + OVERSIZE_TOKEN_LEN + OVERSIZE_TAIL.len();
            out.head(200, "application/json", &[], len);
            if out.head_only {
                return Some(Reply::Send);
            }
            out.buf.extend_from_slice(OVERSIZE_HEAD.as_bytes());
            Reply::Oversize
        }
        Fault::Stall => {
            if shared.stall(knobs.stall_ms) {
                return None;
            }
            Reply::Close
        }
        Fault::Drop => Reply::Close,
        Fault::DropMidBody => {
            out.close = true;
            out.head(200, "application/json", &[], 1000);
            // 20 of the promised 1000 bytes.
            out.buf.extend_from_slice(b"{\"access_token\":\"eyJ");
            Reply::SendThenClose
        }
        Fault::Redirect => {
            let location = format!("{}{REDIRECT_TARGET_PATH}", shared.base_for(req.secure));
            out.finish(knobs.redirect_status, "", &[("Location", &location)])
        }
        Fault::Echo => {
            let mut description = String::from("Bad request: ");
            description.push_str(&String::from_utf8_lossy(req.body));
            if let Some(auth) = req.authorization {
                description.push_str(" (Authorization: ");
                description.push_str(auth);
                description.push(')');
            }
            out.json_error(400, "invalid_request", &description)
        }
    })
}

// ---------------------------------------------------------------------------
// Auth0
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Auth0Params {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    audience: Option<String>,
    scope: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

/// The parameters [`Auth0Params`] reads; a JSON body must give them as strings.
const AUTH0_PARAM_NAMES: [&str; 9] = [
    "grant_type",
    "client_id",
    "client_secret",
    "audience",
    "scope",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
];

impl Auth0Params {
    /// First occurrence wins; empty values count as absent.
    fn set(&mut self, key: &str, value: String) {
        let slot = match key {
            "grant_type" => &mut self.grant_type,
            "client_id" => &mut self.client_id,
            "client_secret" => &mut self.client_secret,
            "audience" => &mut self.audience,
            "scope" => &mut self.scope,
            "code" => &mut self.code,
            "redirect_uri" => &mut self.redirect_uri,
            "code_verifier" => &mut self.code_verifier,
            "refresh_token" => &mut self.refresh_token,
            _ => return,
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    }
}

fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

fn is_json_media(media: &str) -> bool {
    media.eq_ignore_ascii_case("application/json")
        || media.len() > 5 && media[media.len() - 5..].eq_ignore_ascii_case("+json")
}

fn auth0_params(req: &Request<'_>) -> Result<Auth0Params, String> {
    let mut params = Auth0Params::default();
    let blank = req.body.trim_ascii().is_empty();
    let media = req.content_type.map(media_type);
    match media {
        _ if blank && media.is_none_or(is_json_media) => {}
        Some(m) if is_json_media(m) => {
            let value: serde_json::Value =
                serde_json::from_slice(req.body).map_err(|_| "Malformed JSON body".to_string())?;
            let object = value
                .as_object()
                .ok_or_else(|| "Request body must be a JSON object".to_string())?;
            for (key, value) in object {
                match value {
                    serde_json::Value::String(s) => params.set(key, s.clone()),
                    serde_json::Value::Null => {}
                    _ if AUTH0_PARAM_NAMES.contains(&key.as_str()) => {
                        return Err(format!("Invalid type for parameter: {key}"));
                    }
                    _ => {}
                }
            }
        }
        Some(m) if m.eq_ignore_ascii_case("application/x-www-form-urlencoded") => {
            for pair in req.body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
                let (key, value) = match pair.iter().position(|&b| b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, &b""[..]),
                };
                params.set(&form_decode(key), form_decode(value));
            }
        }
        Some(m) => return Err(format!("Unsupported Content-Type: {m}")),
        None => return Err("Missing Content-Type".to_string()),
    }
    Ok(params)
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, a bad
/// escape is kept as written.
fn form_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_val);
                let lo = input.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Client id and secret from `Authorization: Basic` (RFC 6749 2.3.1: each
/// form-urlencoded, then joined by `:`). Ok(None) when there is no Basic
/// header; Err when it is malformed.
fn basic_credentials(authorization: Option<&str>) -> Result<Option<(String, String)>, ()> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let value = value.trim();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return if value.eq_ignore_ascii_case("basic") {
            Err(())
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = BASIC_B64.decode(encoded.trim()).map_err(|_| ())?;
    let colon = decoded.iter().position(|&b| b == b':').ok_or(())?;
    Ok(Some((
        form_decode(&decoded[..colon]),
        form_decode(&decoded[colon + 1..]),
    )))
}

fn auth0_token(shared: &Shared, req: &Request<'_>, knobs: &Knobs, out: &mut Out) -> Reply {
    let mut params = match auth0_params(req) {
        Ok(params) => params,
        Err(message) => return out.json_error(400, "invalid_request", &message),
    };
    match basic_credentials(req.authorization) {
        Ok(None) => {}
        Ok(Some((id, secret))) => {
            let id_differs = params
                .client_id
                .as_ref()
                .is_some_and(|body_id| *body_id != id);
            if params.client_secret.is_some() || id_differs {
                return out.json_error(
                    400,
                    "invalid_request",
                    "Multiple client authentication methods",
                );
            }
            params.client_id = Some(id).filter(|s| !s.is_empty());
            params.client_secret = Some(secret).filter(|s| !s.is_empty());
        }
        Err(()) => {
            return out.json_error(
                400,
                "invalid_request",
                "Malformed Basic authorization header",
            );
        }
    }

    match params.grant_type.as_deref() {
        None => {
            return out.json_error(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            );
        }
        Some("client_credentials") => {}
        Some("authorization_code") => return code_grant(shared, &params, knobs, out),
        Some("refresh_token") => {
            shared.refresh.fetch_add(1, Ordering::SeqCst);
            return refresh_grant(shared, &params, knobs, out);
        }
        Some(other) => {
            let message = format!("Unsupported grant type: {other}");
            return out.json_error(400, "unsupported_grant_type", &message);
        }
    }
    let Some(client_id) = params.client_id.as_deref() else {
        return out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: client_id",
        );
    };
    let secret = params.client_secret.as_deref().unwrap_or("");
    let registered = match client_id {
        AUTH0_CLIENT_ID => Some(AUTH0_CLIENT_SECRET),
        AUTH0_SECOND_CLIENT_ID => Some(AUTH0_SECOND_CLIENT_SECRET),
        _ => None,
    };
    let secret_ok =
        registered.is_some_and(|known| constant_time_eq(secret.as_bytes(), known.as_bytes()));
    if !secret_ok {
        return out.json_error(401, "access_denied", "Unauthorized");
    }
    let audience = match params.audience.as_deref() {
        None => {
            return out.json_error(
                403,
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
            );
        }
        Some(a) if a == DEMO_AUDIENCE => a,
        Some(other) => {
            let message = format!(
                "Client is not authorized to access \"{other}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
            );
            return out.json_error(403, "access_denied", &message);
        }
    };

    let lifetime = knobs.expires_in.unwrap_or(AUTH0_DEFAULT_LIFETIME);
    let scope = params.scope.as_deref();
    let token = if knobs.opaque {
        opaque_token()
    } else {
        jwt(
            out.now(),
            &shared.base_url,
            Holder::Client(client_id),
            audience,
            lifetime,
            scope,
        )
    };
    let b = &mut out.body;
    b.extend_from_slice(b"{\"access_token\":");
    push_json_str(b, &token);
    b.extend_from_slice(b",\"token_type\":");
    push_json_str(b, knobs.token_type());
    if !knobs.omit_expires_in && !knobs.opaque {
        b.extend_from_slice(b",\"expires_in\":");
        push_i64(b, lifetime);
    }
    if let Some(scope) = scope {
        b.extend_from_slice(b",\"scope\":");
        push_json_str(b, scope);
    }
    b.push(b'}');
    out.finish(200, "application/json", &[])
}

// ---------------------------------------------------------------------------
// User flows: /authorize, the code and refresh grants, discovery
// ---------------------------------------------------------------------------

/// What an authorization code stands for, until its one use.
struct CodeGrant {
    client_id: &'static str,
    redirect_uri: String,
    code_challenge: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
    nonce: Option<String>,
    expires: Instant,
}

/// What a refresh token stands for, until it is rotated.
struct RefreshGrant {
    client_id: &'static str,
    scope: Option<String>,
    audience: Option<String>,
}

#[derive(Default)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    audience: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    deny: Option<String>,
}

impl AuthorizeParams {
    /// Reads a form-urlencoded query; first occurrence wins, empty values
    /// count as absent, unknown keys (the test knobs) are skipped.
    fn parse(query: &str) -> Self {
        let mut params = Self::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match form_decode(key.as_bytes()).as_str() {
                "response_type" => &mut params.response_type,
                "client_id" => &mut params.client_id,
                "redirect_uri" => &mut params.redirect_uri,
                "audience" => &mut params.audience,
                "scope" => &mut params.scope,
                "state" => &mut params.state,
                "code_challenge" => &mut params.code_challenge,
                "code_challenge_method" => &mut params.code_challenge_method,
                "nonce" => &mut params.nonce,
                "deny" => &mut params.deny,
                _ => continue,
            };
            if slot.is_none() && !value.is_empty() {
                *slot = Some(form_decode(value.as_bytes()));
            }
        }
        params
    }
}

/// The registered client of that id, as a `'static` name to keep in grants.
fn user_flow_client(client_id: &str) -> Option<&'static str> {
    [AUTH0_CLIENT_ID, NATIVE_CLIENT_ID]
        .into_iter()
        .find(|&c| c == client_id)
}

/// Whether `uri` is registered: [`WEB_REDIRECT_URI`], or an `http` loopback
/// URI with any port and path (RFC 8252 7.3). No fragment, no userinfo, and
/// nothing that could break out of a `Location` header.
fn redirect_uri_allowed(uri: &str) -> bool {
    if uri == WEB_REDIRECT_URI {
        return true;
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic()) || uri.contains('#') {
        return false;
    }
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if path.is_empty() {
        return false;
    }
    let port = ["127.0.0.1", "localhost", "[::1]"]
        .into_iter()
        .find_map(|host| {
            let tail = authority.get(..host.len())?;
            tail.eq_ignore_ascii_case(host)
                .then(|| &authority[host.len()..])
        });
    match port {
        Some("") => true,
        Some(port) => port
            .strip_prefix(':')
            .and_then(|p| p.parse::<u16>().ok())
            .is_some_and(|p| p > 0),
        None => false,
    }
}

/// Appends `value` percent-encoded: everything but RFC 3986 unreserved.
fn push_url_encoded(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// A redirect back to the client: `<redirect_uri>?k=v&...` (or `&k=v` when
/// the URI has a query already), or `<redirect_uri>#k=v&...`.
struct Redirect {
    location: String,
    first: bool,
}

impl Redirect {
    fn new(redirect_uri: &str, fragment: bool) -> Self {
        let mut location = String::with_capacity(redirect_uri.len() + 256);
        location.push_str(redirect_uri);
        if fragment {
            location.push('#');
        } else if redirect_uri.contains('?') {
            if !redirect_uri.ends_with(['?', '&']) {
                location.push('&');
            }
        } else {
            location.push('?');
        }
        Self {
            location,
            first: true,
        }
    }

    fn param(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.first {
            self.location.push('&');
        }
        self.first = false;
        self.location.push_str(key);
        self.location.push('=');
        push_url_encoded(&mut self.location, value);
        self
    }

    fn param_opt(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.param(key, value);
        }
        self
    }

    /// 302 with an empty body.
    fn send(&self, out: &mut Out) -> Reply {
        out.finish(
            302,
            "",
            &[("Location", &self.location), ("Cache-Control", "no-store")],
        )
    }
}

/// An error sent back to the client (RFC 6749 4.1.2.1 and 4.2.2.1), with
/// the issuer when asked (RFC 9207 2.2).
fn redirect_error(
    redirect_uri: &str,
    fragment: bool,
    error: &str,
    description: &str,
    (state, iss): (Option<&str>, Option<&str>),
    out: &mut Out,
) -> Reply {
    Redirect::new(redirect_uri, fragment)
        .param("error", error)
        .param("error_description", description)
        .param_opt("state", state)
        .param_opt("iss", iss)
        .send(out)
}

/// `GET /authorize`: the user is signed in and approves at once, unless
/// the query says `deny=1`.
fn authorize(shared: &Shared, req: &Request<'_>, knobs: &Knobs, out: &mut Out) -> Reply {
    let params = AuthorizeParams::parse(req.query);
    let Some(client_id) = params.client_id.as_deref() else {
        return out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: client_id",
        );
    };
    let Some(client_id) = user_flow_client(client_id) else {
        let message = format!("Unknown client: {client_id}");
        return out.json_error(400, "invalid_request", &message);
    };
    let Some(redirect_uri) = params.redirect_uri.as_deref() else {
        return out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: redirect_uri",
        );
    };
    if !redirect_uri_allowed(redirect_uri) {
        let message = format!("The redirect_uri is not registered for this client: {redirect_uri}");
        return out.json_error(400, "invalid_request", &message);
    }
    let deny = match params.deny.as_deref().map(flag) {
        None => false,
        Some(Some(deny)) => deny,
        Some(None) => {
            let value = params.deny.as_deref().unwrap_or("");
            let message = format!("Invalid test parameter: deny={value}");
            return out.json_error(400, "invalid_request", &message);
        }
    };
    let state = params.state.as_deref();
    let iss = (knobs.send_iss || shared.iss_parameter.load(Ordering::SeqCst))
        .then(|| format!("{}/", shared.base_url));
    let iss = iss.as_deref();
    let implicit = match params.response_type.as_deref() {
        Some("code") => false,
        Some("token") => true,
        other => {
            let message = match other {
                None => "Missing required parameter: response_type".to_string(),
                Some(other) => format!("Unsupported response type: {other}"),
            };
            return redirect_error(
                redirect_uri,
                false,
                "unsupported_response_type",
                &message,
                (state, iss),
                out,
            );
        }
    };
    let fail = |error: &str, description: &str, out: &mut Out| {
        redirect_error(
            redirect_uri,
            implicit,
            error,
            description,
            (state, iss),
            out,
        )
    };
    if let Some(audience) = params.audience.as_deref()
        && audience != DEMO_AUDIENCE
    {
        let message = format!("Service not found: {audience}");
        return fail("access_denied", &message, out);
    }
    if !implicit {
        match (
            params.code_challenge.as_deref(),
            params.code_challenge_method.as_deref(),
        ) {
            (None, None) if client_id != NATIVE_CLIENT_ID => {}
            (None, _) => {
                return fail(
                    "invalid_request",
                    "Missing required parameter: code_challenge (PKCE with S256 is required)",
                    out,
                );
            }
            (Some(_), None) => {
                return fail(
                    "invalid_request",
                    "Missing required parameter: code_challenge_method (only S256 is supported)",
                    out,
                );
            }
            (Some(_), Some(method)) if method != "S256" => {
                let message =
                    format!("Unsupported code_challenge_method: {method} (only S256 is supported)");
                return fail("invalid_request", &message, out);
            }
            (Some(challenge), Some(_)) => {
                let well_formed = challenge.len() == 43
                    && challenge
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !well_formed {
                    return fail(
                        "invalid_request",
                        "Invalid code_challenge: expected BASE64URL(SHA256(code_verifier))",
                        out,
                    );
                }
            }
        }
    }
    if deny {
        return fail("access_denied", "User did not authorize the request", out);
    }

    let scope = params.scope.as_deref();
    if implicit {
        let lifetime = knobs.expires_in.unwrap_or(IMPLICIT_DEFAULT_LIFETIME);
        let audience = user_audience(shared, params.audience.as_deref());
        let token = if knobs.opaque {
            opaque_token()
        } else {
            jwt(
                out.now(),
                &shared.base_url,
                Holder::User { client_id },
                &audience,
                lifetime,
                scope,
            )
        };
        let mut redirect = Redirect::new(redirect_uri, true);
        redirect
            .param("access_token", &token)
            .param("token_type", knobs.token_type());
        if !knobs.omit_expires_in && !knobs.opaque {
            redirect.param("expires_in", &lifetime.to_string());
        }
        return redirect
            .param_opt("state", state)
            .param_opt("scope", scope)
            .param_opt("iss", iss)
            .send(out);
    }

    let code = opaque_token();
    let now = Instant::now();
    {
        let mut codes = lock(&shared.codes);
        codes.retain(|_, grant| grant.expires > now);
        codes.insert(
            code.clone(),
            CodeGrant {
                client_id,
                redirect_uri: redirect_uri.to_string(),
                code_challenge: params.code_challenge.clone(),
                scope: params.scope.clone(),
                audience: params.audience.clone(),
                nonce: params.nonce.clone(),
                expires: now + CODE_LIFETIME,
            },
        );
    }
    Redirect::new(redirect_uri, false)
        .param("code", &code)
        .param_opt("state", state)
        .param_opt("iss", iss)
        .send(out)
}

/// The audience of a user token: as asked, else the userinfo endpoint, as
/// Auth0 does.
fn user_audience(shared: &Shared, audience: Option<&str>) -> String {
    audience.map_or_else(|| format!("{}/userinfo", shared.base_url), str::to_string)
}

fn has_scope(scope: Option<&str>, wanted: &str) -> bool {
    scope.is_some_and(|s| s.split(' ').any(|t| t == wanted))
}

/// Client authentication for the user-flow grants: the confidential
/// client with its secret, the public client with none. Err is the answer.
fn user_flow_client_auth(params: &Auth0Params, out: &mut Out) -> Result<&'static str, Reply> {
    let Some(client_id) = params.client_id.as_deref() else {
        return Err(out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: client_id",
        ));
    };
    let secret = params.client_secret.as_deref();
    let authenticated = match user_flow_client(client_id) {
        Some(AUTH0_CLIENT_ID) => {
            secret.is_some_and(|s| constant_time_eq(s.as_bytes(), AUTH0_CLIENT_SECRET.as_bytes()))
        }
        Some(_) => secret.is_none(),
        None => false,
    };
    match user_flow_client(client_id) {
        Some(client) if authenticated => Ok(client),
        _ => Err(out.json_error(401, "access_denied", "Unauthorized")),
    }
}

fn is_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `grant_type=authorization_code` (RFC 6749 4.1.3, RFC 7636 4.6).
fn code_grant(shared: &Shared, params: &Auth0Params, knobs: &Knobs, out: &mut Out) -> Reply {
    const INVALID_CODE: &str = "Invalid authorization code";
    let client_id = match user_flow_client_auth(params, out) {
        Ok(client_id) => client_id,
        Err(reply) => return reply,
    };
    let Some(code) = params.code.as_deref() else {
        return out.json_error(400, "invalid_request", "Missing required parameter: code");
    };
    // Presenting a code uses it up, whatever comes next.
    let grant = lock(&shared.codes).remove(code);
    let Some(grant) = grant.filter(|g| g.expires > Instant::now()) else {
        return out.json_error(403, "invalid_grant", INVALID_CODE);
    };
    if grant.client_id != client_id {
        return out.json_error(403, "invalid_grant", INVALID_CODE);
    }
    if params.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return out.json_error(403, "invalid_grant", "Unauthorized redirect_uri");
    }
    let verifier = params.code_verifier.as_deref();
    if let Some(verifier) = verifier
        && !is_code_verifier(verifier)
    {
        return out.json_error(
            400,
            "invalid_request",
            "Invalid code_verifier: 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        );
    }
    let pkce_ok = match (grant.code_challenge.as_deref(), verifier) {
        (None, None) => true,
        (Some(challenge), Some(verifier)) => {
            let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            constant_time_eq(digest.as_bytes(), challenge.as_bytes())
        }
        // A verifier for a code issued without a challenge is a downgrade.
        _ => false,
    };
    if !pkce_ok {
        return out.json_error(403, "invalid_grant", "Failed PKCE verification");
    }
    let issue = Issue {
        client_id,
        audience: grant.audience.as_deref(),
        granted_scope: grant.scope.as_deref(),
        scope: grant.scope.as_deref(),
        nonce: grant.nonce.as_deref(),
    };
    user_tokens(shared, &issue, knobs, out)
}

/// `grant_type=refresh_token` with rotation (RFC 6749 6, RFC 9700 4.14.2).
fn refresh_grant(shared: &Shared, params: &Auth0Params, knobs: &Knobs, out: &mut Out) -> Reply {
    const INVALID_REFRESH: &str = "Unknown or invalid refresh token.";
    let client_id = match user_flow_client_auth(params, out) {
        Ok(client_id) => client_id,
        Err(reply) => return reply,
    };
    let Some(refresh_token) = params.refresh_token.as_deref() else {
        return out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
    };
    let asked = params.scope.as_deref();
    let grant = {
        let mut tokens = lock(&shared.refresh_tokens);
        match tokens.get(refresh_token) {
            None => None,
            Some(grant) if grant.client_id != client_id => None,
            // A narrower scope may be asked for this access token (the new
            // refresh token keeps the whole grant); a wider one is refused
            // without using the refresh token up.
            Some(grant)
                if asked.is_some_and(|asked| {
                    !asked
                        .split(' ')
                        .filter(|t| !t.is_empty())
                        .all(|t| has_scope(grant.scope.as_deref(), t))
                }) =>
            {
                return out.json_error(
                    403,
                    "invalid_scope",
                    "The requested scope exceeds the scope granted by the resource owner",
                );
            }
            Some(_) => tokens.remove(refresh_token),
        }
    };
    let Some(grant) = grant else {
        return out.json_error(403, "invalid_grant", INVALID_REFRESH);
    };
    let issue = Issue {
        client_id,
        audience: grant.audience.as_deref(),
        granted_scope: grant.scope.as_deref(),
        scope: asked.or(grant.scope.as_deref()),
        nonce: None,
    };
    user_tokens(shared, &issue, knobs, out)
}

/// What the code and refresh grants answer with.
struct Issue<'a> {
    client_id: &'static str,
    /// As asked at `/authorize`; None means the userinfo audience.
    audience: Option<&'a str>,
    /// What the user granted, and a new refresh token stands for.
    granted_scope: Option<&'a str>,
    /// What this access token carries.
    scope: Option<&'a str>,
    nonce: Option<&'a str>,
}

/// The token answer of the code and refresh grants.
fn user_tokens(shared: &Shared, issue: &Issue<'_>, knobs: &Knobs, out: &mut Out) -> Reply {
    let Issue {
        client_id, scope, ..
    } = *issue;
    let audience = &user_audience(shared, issue.audience);
    let lifetime = knobs.expires_in.unwrap_or(AUTH0_DEFAULT_LIFETIME);
    let now = out.now();
    let access_token = if knobs.opaque {
        opaque_token()
    } else {
        jwt(
            now,
            &shared.base_url,
            Holder::User { client_id },
            audience,
            lifetime,
            scope,
        )
    };
    let b = &mut out.body;
    b.extend_from_slice(b"{\"access_token\":");
    push_json_str(b, &access_token);
    if has_scope(scope, "openid") {
        b.extend_from_slice(b",\"id_token\":");
        push_json_str(b, &id_token(now, &shared.base_url, client_id, issue.nonce));
    }
    if has_scope(issue.granted_scope, "offline_access") {
        let refresh_token = opaque_token();
        b.extend_from_slice(b",\"refresh_token\":");
        push_json_str(b, &refresh_token);
        lock(&shared.refresh_tokens).insert(
            refresh_token,
            RefreshGrant {
                client_id,
                scope: issue.granted_scope.map(str::to_string),
                audience: issue.audience.map(str::to_string),
            },
        );
    }
    if let Some(scope) = scope {
        b.extend_from_slice(b",\"scope\":");
        push_json_str(b, scope);
    }
    if !knobs.omit_expires_in && !knobs.opaque {
        b.extend_from_slice(b",\"expires_in\":");
        push_i64(b, lifetime);
    }
    b.extend_from_slice(b",\"token_type\":");
    push_json_str(b, knobs.token_type());
    b.push(b'}');
    out.finish(
        200,
        "application/json",
        &[("Cache-Control", "no-store"), ("Pragma", "no-cache")],
    )
}

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
/// The document names the endpoints of the listener it was asked on.
fn discovery(shared: &Shared, base: &str, out: &mut Out) -> Reply {
    let b = &mut out.body;
    b.extend_from_slice(b"{\"issuer\":");
    push_json_parts(b, &[base, "/"]);
    b.extend_from_slice(b",\"authorization_endpoint\":");
    push_json_parts(b, &[base, AUTHORIZE_PATH]);
    b.extend_from_slice(b",\"token_endpoint\":");
    push_json_parts(b, &[base, AUTH0_PATH]);
    b.extend_from_slice(
        b",\"response_types_supported\":[\"code\",\"token\"]\
          ,\"grant_types_supported\":[\"authorization_code\",\"implicit\",\"refresh_token\",\"client_credentials\"]\
          ,\"code_challenge_methods_supported\":[\"S256\"]\
          ,\"token_endpoint_auth_methods_supported\":[\"client_secret_post\",\"client_secret_basic\",\"none\"]\
          ,\"scopes_supported\":[\"openid\",\"profile\",\"email\",\"offline_access\"]",
    );
    if shared.iss_parameter.load(Ordering::SeqCst) {
        b.extend_from_slice(b",\"authorization_response_iss_parameter_supported\":true");
    }
    b.push(b'}');
    out.finish(200, "application/json", &[])
}

// ---------------------------------------------------------------------------
// Cobuilder
// ---------------------------------------------------------------------------

fn cobuilder_token(shared: &Shared, req: &Request<'_>, knobs: &Knobs, out: &mut Out) -> Reply {
    const VALIDATION: &str = "One or more validation errors occurred.";
    if let Some(media) = req.content_type.map(media_type)
        && !is_json_media(media)
    {
        let detail = format!("Unsupported Content-Type \"{media}\".");
        return out.problem(415, PROBLEM_415, "Unsupported Media Type", &detail, true);
    }
    if req.body.trim_ascii().is_empty() {
        return out.problem(
            400,
            PROBLEM_400,
            VALIDATION,
            "A non-empty request body is required.",
            true,
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(req.body) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            return out.problem(
                400,
                PROBLEM_400,
                VALIDATION,
                "The request body is not valid JSON.",
                true,
            );
        }
    };
    let basic = basic_credentials(req.authorization).ok().flatten();
    let mut fields: [Option<&str>; 3] = [None; 3];
    for (slot, name) in fields
        .iter_mut()
        .zip(["clientId", "clientSecret", "audienceUrl"])
    {
        match value.get(name) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => {
                *slot = Some(s.as_str()).filter(|s| !s.is_empty())
            }
            Some(_) => {
                let detail = format!("The {name} field must be a string.");
                return out.problem(400, PROBLEM_400, VALIDATION, &detail, true);
            }
        }
    }
    if let Some((id, secret)) = &basic {
        fields[0] = fields[0].or(Some(id.as_str()).filter(|s| !s.is_empty()));
        fields[1] = fields[1].or(Some(secret.as_str()).filter(|s| !s.is_empty()));
    }
    let [Some(client_id), Some(secret), Some(audience)] = fields else {
        let missing = ["clientId", "clientSecret", "audienceUrl"]
            .iter()
            .zip(fields)
            .find(|(_, v)| v.is_none())
            .map_or("clientId", |(name, _)| name);
        let detail = format!("The {missing} field is required.");
        return out.problem(400, PROBLEM_400, VALIDATION, &detail, true);
    };
    let secret_ok = constant_time_eq(secret.as_bytes(), COBUILDER_CLIENT_SECRET.as_bytes());
    if client_id != COBUILDER_CLIENT_ID || !secret_ok {
        return out.problem(
            401,
            PROBLEM_401,
            "Unauthorized",
            "Invalid client credentials.",
            false,
        );
    }
    if audience != COBUILDER_AUDIENCE {
        let detail = format!("Unknown audience \"{audience}\".");
        return out.problem(400, PROBLEM_400, "Invalid audience", &detail, true);
    }

    let lifetime = knobs.expires_in.unwrap_or(COBUILDER_DEFAULT_LIFETIME);
    let token = if knobs.opaque {
        opaque_token()
    } else {
        jwt(
            out.now(),
            &shared.base_url,
            Holder::Client(client_id),
            audience,
            lifetime,
            None,
        )
    };
    if knobs.plain {
        out.body.extend_from_slice(token.as_bytes());
        out.finish(200, "text/plain", &[])
    } else {
        push_json_str(&mut out.body, &token);
        out.finish(200, "application/json", &[])
    }
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Whom an access token is for: a client (client credentials) or the test
/// user signed in through a client (the user flows).
#[derive(Clone, Copy)]
enum Holder<'a> {
    Client(&'a str),
    User { client_id: &'a str },
}

/// A JWT-shaped access token issued at `now`, the server's clock
/// (unsigned in substance: the signature is a hash, since clients only
/// read claims, never verify them). A client's token says `gty: client-credentials`; a user's has `azp`, the client.
fn jwt(
    now: i64,
    base_url: &str,
    holder: Holder<'_>,
    audience: &str,
    lifetime: i64,
    scope: Option<&str>,
) -> String {
    let seq = TOKEN_SEQ.fetch_add(1, Ordering::Relaxed);
    let mut payload = Vec::with_capacity(256);
    payload.extend_from_slice(b"{\"iss\":");
    push_json_parts(&mut payload, &[base_url, "/"]);
    payload.extend_from_slice(b",\"sub\":");
    match holder {
        Holder::Client(client_id) => push_json_parts(&mut payload, &[client_id, "@clients"]),
        Holder::User { .. } => push_json_str(&mut payload, TEST_USER),
    }
    payload.extend_from_slice(b",\"aud\":");
    push_json_str(&mut payload, audience);
    payload.extend_from_slice(b",\"iat\":");
    push_i64(&mut payload, now);
    payload.extend_from_slice(b",\"exp\":");
    push_i64(&mut payload, now.saturating_add(lifetime));
    if let Some(scope) = scope {
        payload.extend_from_slice(b",\"scope\":");
        push_json_str(&mut payload, scope);
    }
    match holder {
        Holder::Client(_) => payload.extend_from_slice(b",\"gty\":\"client-credentials\""),
        Holder::User { client_id } => {
            payload.extend_from_slice(b",\"azp\":");
            push_json_str(&mut payload, client_id);
        }
    }
    payload.extend_from_slice(b",\"jti\":\"");
    push_hex(&mut payload, process_seed());
    push_hex(&mut payload, seq);
    payload.extend_from_slice(b"\"}");
    seal(&payload)
}

/// A JWT-shaped OpenID Connect ID token for [`TEST_USER`].
fn id_token(now: i64, base_url: &str, client_id: &str, nonce: Option<&str>) -> String {
    let mut payload = Vec::with_capacity(256);
    payload.extend_from_slice(b"{\"iss\":");
    push_json_parts(&mut payload, &[base_url, "/"]);
    payload.extend_from_slice(b",\"sub\":");
    push_json_str(&mut payload, TEST_USER);
    payload.extend_from_slice(b",\"aud\":");
    push_json_str(&mut payload, client_id);
    payload.extend_from_slice(b",\"iat\":");
    push_i64(&mut payload, now);
    payload.extend_from_slice(b",\"exp\":");
    push_i64(&mut payload, now.saturating_add(ID_TOKEN_LIFETIME));
    if let Some(nonce) = nonce {
        payload.extend_from_slice(b",\"nonce\":");
        push_json_str(&mut payload, nonce);
    }
    payload.push(b'}');
    seal(&payload)
}

/// Header, base64url payload and a hash standing in for a signature.
fn seal(payload: &[u8]) -> String {
    let mut token = String::with_capacity(512);
    token.push_str(JWT_HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = Sha256::new()
        .chain_update(process_seed().to_le_bytes())
        .chain_update(token.as_bytes())
        .finalize();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

/// A unique token with no structure a client could read.
fn opaque_token() -> String {
    let seq = TOKEN_SEQ.fetch_add(1, Ordering::Relaxed);
    let digest = Sha256::new()
        .chain_update(b"opaque")
        .chain_update(process_seed().to_le_bytes())
        .chain_update(seq.to_le_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::push_http_date;

    fn http_date(unix: i64) -> String {
        let mut out = Vec::new();
        push_http_date(&mut out, unix);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dates_are_imf_fixdates() {
        // RFC 9110 5.6.7's example, the epoch, a leap day, a negative time.
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(4_133_980_799), "Fri, 31 Dec 2100 23:59:59 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
    }
}
