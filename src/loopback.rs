//! The native-app login of RFC 8252: a listener on 127.0.0.1 with an
//! ephemeral port takes the one redirect the browser makes after sign-in,
//! answers it with a short page and hands the code to the exchange.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::authorize::{self, AuthorizationRequest};
use crate::config::{Config, Grant, ip_literal};
use crate::discovery;
use crate::http;
use crate::problem::{Problem, ProblemKind};
use crate::token::Token;

const DEFAULT_CALLBACK_PATH: &str = "/callback";
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long one browser connection may take to send its request.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(5);
/// Connections read at once; a new one beyond this closes the oldest.
const MAX_PENDING: usize = 32;
/// How long the short answer page may take to write.
const MAX_WRITE_TIME: Duration = Duration::from_secs(1);
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A login in progress: the URL to open, and the listener waiting for the
/// browser to come back.
pub struct LoopbackLogin {
    config: Config,
    agent: std::sync::Arc<Agent>,
    request: AuthorizationRequest,
    listener: TcpListener,
    path: String,
    /// Held by `wait`; true once the callback has been handled.
    finished: Mutex<bool>,
}

impl LoopbackLogin {
    /// Listens on 127.0.0.1 and builds the authorize URL whose
    /// `redirect_uri` points there. A `redirect_uri` in the configuration
    /// may choose the port and path (`http://127.0.0.1:0/callback` is the
    /// default); any other host is refused.
    pub fn start(mut config: Config) -> Result<LoopbackLogin, Problem> {
        if config.grant != Grant::AuthorizationCode {
            return Err(Problem::config_key(
                "grant_type",
                "the loopback login needs grant_type \"authorization_code\" (an implicit token comes back in a fragment, which never reaches a listener)",
            ));
        }
        let (port, path) = match &config.redirect_uri {
            None => (0, DEFAULT_CALLBACK_PATH.to_owned()),
            Some(uri) => loopback_port_and_path(uri)?,
        };
        discovery::resolve(&mut config)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|error| {
                Problem::new(
                    ProblemKind::Unreachable,
                    format!("cannot listen on 127.0.0.1:{port} for the sign-in callback: {error}"),
                )
            })?;
        let port = listener
            .local_addr()
            .map_err(|error| {
                Problem::new(
                    ProblemKind::Unreachable,
                    format!("no local address: {error}"),
                )
            })?
            .port();
        let redirect_uri = format!("http://127.0.0.1:{port}{path}");
        let request = authorize::start_with_redirect(&config, &redirect_uri)?;
        Ok(LoopbackLogin {
            agent: http::agent_for(&config)?,
            config,
            request,
            listener,
            path,
            finished: Mutex::new(false),
        })
    }

    /// The authorize URL to open in the user's browser.
    pub fn url(&self) -> &str {
        &self.request.url
    }

    /// Where the browser will come back to.
    pub fn redirect_uri(&self) -> &str {
        &self.request.redirect_uri
    }

    /// Waits up to `timeout` for the callback, answers the browser and
    /// returns the tokens (or the problem the callback was). Only the
    /// callback path with this login's `state` ends the wait: other paths (a
    /// favicon, a stray probe) get a 404, a callback without the right state
    /// (forged, stale) a 400, and the wait goes on. Connections are read side
    /// by side, each for at most a few seconds, so a slow one delays nobody.
    /// A login completes once; later calls are an error.
    pub fn wait(&self, timeout: Duration) -> Result<Token, Problem> {
        let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        if *finished {
            return Err(Problem::new(
                ProblemKind::InvalidArgument,
                "this login has already finished; start a new one",
            ));
        }
        let deadline = crate::retry::instant_after(timeout);
        // Dropped (and so closed) when the wait ends, however it ends.
        let mut pending: Vec<Connection> = Vec::new();
        loop {
            // Bounded, so that a flood of connections cannot hold off the deadline.
            for _ in 0..MAX_PENDING {
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        if stream.set_nonblocking(true).is_err() {
                            continue;
                        }
                        if pending.len() == MAX_PENDING {
                            pending.remove(0);
                        }
                        pending.push(Connection {
                            stream,
                            head: Vec::new(),
                            deadline: crate::retry::instant_after(MAX_REQUEST_TIME).min(deadline),
                        });
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    Err(error)
                        if matches!(
                            error.kind(),
                            io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                        ) => {}
                    Err(error) => {
                        return Err(Problem::new(
                            ProblemKind::Unreachable,
                            format!("the callback listener failed: {error}"),
                        ));
                    }
                }
            }
            let mut index = 0;
            while index < pending.len() {
                match pending[index].read_available() {
                    Arrived::Incomplete => index += 1,
                    Arrived::Closed => drop(pending.swap_remove(index)),
                    Arrived::Target(target) => {
                        let connection = pending.swap_remove(index);
                        if let Some(outcome) = self.serve(connection.stream, &target) {
                            *finished = true;
                            return outcome;
                        }
                    }
                }
            }
            let now = Instant::now();
            pending.retain(|connection| connection.deadline > now);
            if now >= deadline {
                return Err(Problem::new(
                    ProblemKind::Timeout,
                    format!(
                        "no sign-in callback arrived within {} ms",
                        timeout.as_millis()
                    ),
                )
                .with_instance(self.request.redirect_uri.clone()));
            }
            std::thread::sleep(POLL_INTERVAL.min(deadline - now));
        }
    }

    /// Answers one request: `Some` outcome for the callback with this
    /// login's state, `None` for anything else.
    fn serve(&self, mut stream: TcpStream, target: &str) -> Option<Result<Token, Problem>> {
        let path = target.split(['?', '#']).next().unwrap_or_default();
        if path != self.path {
            respond(
                &mut stream,
                404,
                "Not found",
                "This is not the sign-in callback.",
            );
            return None;
        }
        let port = self.listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let redirect_url = format!("http://127.0.0.1:{port}{target}");
        if !authorize::carries_state(&self.request, &redirect_url) {
            // Anyone on this machine can reach the port: only the redirect
            // that knows the state may end the login.
            respond(
                &mut stream,
                400,
                "Not this sign-in",
                "This is not the redirect of the sign-in in progress.",
            );
            return None;
        }
        let outcome = authorize::complete(&self.agent, &self.config, &self.request, &redirect_url);
        match &outcome {
            Ok(_) => respond(
                &mut stream,
                200,
                "Signed in",
                "You are signed in. You can close this window and return to the application.",
            ),
            Err(problem) => respond(
                &mut stream,
                400,
                "Sign-in failed",
                &format!("Sign-in failed: {problem}. Return to the application for details."),
            ),
        }
        Some(outcome)
    }
}

/// An accepted connection whose request is still arriving.
struct Connection {
    stream: TcpStream,
    head: Vec<u8>,
    /// Closed unanswered after this.
    deadline: Instant,
}

enum Arrived {
    Incomplete,
    /// Unreadable, refused (and answered) or gone.
    Closed,
    /// The request target of a complete `GET`.
    Target(String),
}

impl Connection {
    /// Reads what has arrived, without blocking.
    fn read_available(&mut self) -> Arrived {
        let mut chunk = [0u8; 1024];
        while !self.head.windows(4).any(|w| w == b"\r\n\r\n") {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Arrived::Closed,
                Ok(read) => self.head.extend_from_slice(&chunk[..read]),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Arrived::Incomplete;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Arrived::Closed,
            }
            if self.head.len() > MAX_REQUEST_HEAD {
                respond(
                    &mut self.stream,
                    431,
                    "Too large",
                    "The request is too large.",
                );
                return Arrived::Closed;
            }
        }
        match request_target(&self.head) {
            Some(target) => Arrived::Target(target),
            None => {
                respond(
                    &mut self.stream,
                    405,
                    "Method not allowed",
                    "Only GET is answered here.",
                );
                Arrived::Closed
            }
        }
    }
}

impl std::fmt::Debug for LoopbackLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackLogin")
            .field("redirect_uri", &self.request.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The port and path of an `http://127.0.0.1...` redirect URI.
fn loopback_port_and_path(uri: &str) -> Result<(u16, String), Problem> {
    let refuse = || {
        Problem::config_key(
            "redirect_uri",
            "the loopback login listens on 127.0.0.1: redirect_uri must be http://127.0.0.1[:port]/path, or left out",
        )
    };
    let parsed: ureq::http::Uri = uri.parse().map_err(|_| refuse())?;
    let is_ipv4_loopback = parsed
        .host()
        .and_then(ip_literal)
        .is_some_and(|ip| ip == Ipv4Addr::LOCALHOST);
    if parsed.scheme_str() != Some("http") || !is_ipv4_loopback || parsed.query().is_some() {
        return Err(refuse());
    }
    let path = match parsed.path() {
        "" | "/" => DEFAULT_CALLBACK_PATH.to_owned(),
        path => path.to_owned(),
    };
    Ok((parsed.port_u16().unwrap_or(0), path))
}

/// The request target of a `GET` request head.
fn request_target(head: &[u8]) -> Option<String> {
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_owned()),
        _ => None,
    }
}

/// A short HTML page; the browser shows it, nobody parses it.
fn respond(stream: &mut TcpStream, status: u16, title: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
        html_escape(title),
        html_escape(title),
        html_escape(message)
    );
    let head = format!(
        "HTTP/1.1 {status} {title}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The page fits a fresh socket's buffer; the bound is for the odd case.
    let _ = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_write_timeout(Some(MAX_WRITE_TIME)));
    // The browser may already be gone; the outcome is the caller's either way.
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()));
}

fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}
