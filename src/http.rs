//! The one place bearer speaks HTTP: shared `ureq` agents, deadlines, the
//! response-size cap, and transport failures turned into problems.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::net::SocketAddr;

use ureq::Agent;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::config::Config;
pub use crate::endpoint::endpoint_for_display;
use crate::fork::{self, PerProcess};
use crate::identity::ClientIdentity;
use crate::problem::{Problem, ProblemKind, Redaction};
use crate::retry::{Deadline, Retry};
use crate::secret::Secret;

/// Token responses larger than this are refused unread.
pub const MAX_RESPONSE_BYTES: u64 = 256 * 1024;
/// Connecting (DNS, TCP, TLS) gets at most this much of the deadline.
const MAX_CONNECT_TIME: Duration = Duration::from_secs(10);

/// What the agents differ in; everything else is per request. The proxy
/// URL may carry a password: a secret, wiped when the agent goes.
#[derive(Clone, PartialEq, Eq, Hash)]
struct AgentKey {
    ca_file: Option<PathBuf>,
    proxy: Option<Secret>,
    /// Mutual TLS: the client certificate shapes every handshake.
    identity: Option<Arc<ClientIdentity>>,
}

/// How many agents the process keeps for sharing; agents no client uses
/// any more make room, so distinct proxies by the thousand cannot pile up.
const MAX_SHARED_AGENTS: usize = 64;

/// Returns the process-wide agent for this configuration's TLS roots and
/// proxy, so that every client with the same settings shares one pool of
/// kept-alive connections. When every kept agent is in use and there is no
/// room, the client gets one of its own.
pub fn agent_for(config: &Config) -> Result<Arc<Agent>, Problem> {
    let key = AgentKey {
        ca_file: config.ca_file.clone(),
        proxy: config.proxy.clone(),
        identity: config.client_identity.clone(),
    };
    let mut agents = agents();
    if let Some(agent) = agents.get(&key) {
        return Ok(agent.clone());
    }
    let agent = Arc::new(new_agent(&key)?);
    if agents.len() >= MAX_SHARED_AGENTS {
        agents.retain(|_, agent| Arc::strong_count(agent) > 1);
    }
    if agents.len() < MAX_SHARED_AGENTS {
        agents.insert(key, agent.clone());
    }
    Ok(agent)
}

/// How many agents the process keeps for sharing now (for tests).
#[doc(hidden)]
pub fn shared_agents() -> usize {
    agents().len()
}

/// The agents of this process. A forked child uses none of its parent's:
/// their pooled connections are the parent's sockets. It drops them, which
/// closes its own copies of those sockets and sends nothing on them.
static AGENTS: PerProcess<Mutex<HashMap<AgentKey, Arc<Agent>>>> = PerProcess::new();

fn agents() -> std::sync::MutexGuard<'static, HashMap<AgentKey, Arc<Agent>>> {
    AGENTS
        .get(|parents| {
            drop(fork::inherit(parents));
            Mutex::default()
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Forgets the shared agents; their pooled connections close once no client
/// holds them. The next request builds a new agent.
pub fn drop_shared_agents() {
    *agents() = HashMap::new();
}

fn new_agent(key: &AgentKey) -> Result<Agent, Problem> {
    let mut builder = Agent::config_builder()
        // 4xx/5xx answers carry the OAuth error or problem: read them.
        .http_status_as_error(false)
        // A token POST is never redirected: the body holds the secret.
        .max_redirects(0)
        .user_agent(concat!("bearer/", env!("CARGO_PKG_VERSION")))
        .accept("application/json");
    if key.ca_file.is_some() || key.identity.is_some() {
        let mut tls = TlsConfig::builder();
        if let Some(ca_file) = &key.ca_file {
            tls = tls.root_certs(RootCerts::Specific(Arc::new(read_ca_file(ca_file)?)));
        }
        if let Some(identity) = &key.identity {
            tls = tls.client_cert(Some(identity.client_cert().clone()));
        }
        builder = builder.tls_config(tls.build());
    }
    if let Some(proxy) = &key.proxy {
        let proxy = ureq::Proxy::new(proxy.expose())
            .map_err(|_| Problem::config_key("proxy", "proxy is not a valid proxy URL"))?;
        builder = builder.proxy(Some(proxy));
    }
    Ok(Agent::with_parts(
        builder.build(),
        DefaultConnector::default(),
        LiteralFirstResolver::default(),
    ))
}

/// Resolves an IP-literal host in place. ureq's resolver spawns a thread per
/// lookup to honour the deadline, and it resolves before it looks in the
/// connection pool, so every fetch from `http://127.0.0.1:...` would pay for
/// a thread. Names still go to ureq's resolver.
#[derive(Debug, Default)]
struct LiteralFirstResolver(DefaultResolver);

impl Resolver for LiteralFirstResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.host().and_then(crate::config::ip_literal);
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        });
        match (literal, port) {
            (Some(ip), Some(port)) => {
                let mut addrs = self.empty();
                addrs.push(SocketAddr::new(ip, port));
                Ok(addrs)
            }
            _ => self.0.resolve(uri, config, timeout),
        }
    }
}

fn read_ca_file(path: &std::path::Path) -> Result<Vec<Certificate<'static>>, Problem> {
    let pem = crate::secret::read_key_file(path).map_err(|error| {
        Problem::config_key(
            "ca_file",
            format!("ca_file \"{}\" cannot be read: {error}", path.display()),
        )
    })?;
    let certificates: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    if certificates.is_empty() {
        return Err(Problem::config_key(
            "ca_file",
            format!("ca_file \"{}\" holds no PEM certificate", path.display()),
        ));
    }
    Ok(certificates)
}

/// A request body, ready to send.
pub struct Body {
    pub content_type: &'static str,
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
}

/// What came back, read in full (within the cap).
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    /// `Retry-After` in seconds, when given as seconds or an HTTP date.
    pub retry_after: Option<u64>,
    /// The server's clock (`Date`), in unix seconds, when it sent one.
    pub date: Option<u64>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// A request that brought no answer, and whether another attempt may fare better.
#[derive(Debug)]
pub struct Failed {
    pub problem: Problem,
    pub retry: Retry,
}

impl From<Failed> for Problem {
    fn from(failed: Failed) -> Problem {
        failed.problem
    }
}

/// POSTs `body` to the token endpoint in the time left before `deadline`;
/// what the HTTP stack says of a failure is scrubbed with `redaction`.
pub fn post(
    agent: &Agent,
    config: &Config,
    deadline: Deadline,
    authorization: Option<&str>,
    body: &Body,
    redaction: &Redaction,
) -> Result<Answer, Failed> {
    post_to(
        agent,
        config,
        &config.token_url,
        deadline,
        authorization,
        body,
        redaction,
    )
}

/// [`post`] to another endpoint of the same server (the device flow's).
pub fn post_to(
    agent: &Agent,
    config: &Config,
    url: &str,
    deadline: Deadline,
    authorization: Option<&str>,
    body: &Body,
    redaction: &Redaction,
) -> Result<Answer, Failed> {
    let remaining = deadline.remaining();
    let mut request = agent
        .post(url)
        .config()
        .timeout_global(Some(remaining))
        .timeout_connect(Some(remaining.min(MAX_CONNECT_TIME)))
        .build()
        .header("Content-Type", body.content_type);
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    let response = request
        .send(&body.bytes[..])
        .map_err(|error| transport_problem(error, config, url, redaction))?;
    read_answer(response, config, url, redaction)
}

/// GETs a document (OIDC discovery) within the configuration's deadline.
pub fn get(agent: &Agent, config: &Config, url: &str) -> Result<Answer, Failed> {
    let redaction = config.redaction();
    let response = agent
        .get(url)
        .config()
        .timeout_global(Some(config.timeout))
        .timeout_connect(Some(config.timeout.min(MAX_CONNECT_TIME)))
        .build()
        .header("Accept", "application/json")
        .call()
        .map_err(|error| transport_problem(error, config, url, &redaction))?;
    read_answer(response, config, url, &redaction)
}

fn read_answer(
    mut response: ureq::http::Response<ureq::Body>,
    config: &Config,
    url: &str,
    redaction: &Redaction,
) -> Result<Answer, Failed> {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let content_type = header("content-type").unwrap_or_default();
    let date = header("date").and_then(|value| httpdate_seconds(value.trim()));
    let retry_after = header("retry-after").and_then(|value| parse_retry_after(&value, date));
    let location = header("location");
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(|error| transport_problem(error, config, url, redaction))?;
    Ok(Answer {
        status,
        content_type,
        retry_after,
        date,
        location,
        body,
    })
}

/// Seconds to wait; a date is measured against the server's own clock when
/// it sent one (`server_now`), so a skewed local clock changes nothing.
fn parse_retry_after(value: &str, server_now: Option<u64>) -> Option<u64> {
    let value = value.trim();
    value.parse().ok().or_else(|| {
        let now = server_now.unwrap_or_else(crate::token::unix_now);
        httpdate_seconds(value).map(|at| at.saturating_sub(now))
    })
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into unix seconds.
fn httpdate_seconds(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split([' ', ':']).collect();
    let [_, day, month, year, hour, minute, second, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|name| name == month)? as i64 + 1;
    let (year, day): (i64, i64) = (year.parse().ok()?, day.parse().ok()?);
    let (hour, minute, second): (i64, i64, i64) = (
        hour.parse().ok()?,
        minute.parse().ok()?,
        second.parse().ok()?,
    );
    // An IMF-fixdate has four digits of year; fields out of range are not a
    // date, and nothing below can overflow.
    if !(1970..=9999).contains(&year)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..=60).contains(&second)
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

fn transport_problem(
    error: ureq::Error,
    config: &Config,
    url: &str,
    redaction: &Redaction,
) -> Failed {
    use std::io::ErrorKind;
    use ureq::Error as E;
    let timeout_ms = config.timeout.as_millis();
    // A connection cut on the way may work on a new one; nothing else here would.
    let retry = match &error {
        E::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            ) =>
        {
            Retry::Backoff
        }
        _ => Retry::Never,
    };
    // The HTTP stack's own words may name the URL with its query, or echo
    // what it sent: shown with the URL as `instance` shows it, and scrubbed.
    let outside = |text: String| {
        let shown = endpoint_for_display(url);
        redaction.text(&text.replace(url, &shown))
    };
    let (kind, detail) = match error {
        E::Timeout(which) => (
            ProblemKind::Timeout,
            format!("no complete answer within {timeout_ms} ms ({which})"),
        ),
        E::BodyExceedsLimit(limit) => (
            ProblemKind::ResponseTooLarge,
            format!("the answer is larger than {limit} bytes"),
        ),
        E::HostNotFound => (
            ProblemKind::Unreachable,
            "the host name could not be resolved".into(),
        ),
        E::Io(io) if matches!(io.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => (
            ProblemKind::Timeout,
            format!("no complete answer within {timeout_ms} ms"),
        ),
        E::Io(io) if io.kind() == ErrorKind::UnexpectedEof => (
            ProblemKind::Unreachable,
            "the connection closed before the answer was complete".into(),
        ),
        E::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>()) =>
        {
            (
                ProblemKind::Unreachable,
                format!("TLS failed: {}", outside(io.to_string())),
            )
        }
        E::Io(io) => (
            ProblemKind::Unreachable,
            format!("connection failed: {}", outside(io.to_string())),
        ),
        E::Protocol(protocol) => (
            ProblemKind::InvalidResponse,
            format!(
                "the answer is not valid HTTP/1.1: {}",
                outside(protocol.to_string())
            ),
        ),
        E::Tls(reason) => (
            ProblemKind::Unreachable,
            format!("TLS failed: {}", outside(reason.to_string())),
        ),
        E::Rustls(rustls) => (
            ProblemKind::Unreachable,
            format!("TLS failed: {}", outside(rustls.to_string())),
        ),
        E::Pem(_) => (
            ProblemKind::Unreachable,
            "TLS failed: a certificate could not be read".into(),
        ),
        E::ConnectionFailed => (ProblemKind::Unreachable, "the connection failed".into()),
        other => (
            ProblemKind::Unreachable,
            format!("the request failed: {}", outside(other.to_string())),
        ),
    };
    Failed {
        problem: Problem::new(kind, detail).with_instance(endpoint_for_display(url)),
        retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        assert_eq!(parse_retry_after(" 7 ", None), Some(7));
        assert_eq!(
            httpdate_seconds("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", None),
            Some(0)
        );
        // Measured on the server's clock, which sent this date with its Date.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", Some(784_111_770)),
            Some(7)
        );
        assert_eq!(parse_retry_after("soon", None), None);
    }

    #[test]
    fn an_absurd_date_is_no_date() {
        for absurd in [
            "Sun, 06 Nov 9999999999999999 08:49:37 GMT",
            "Sun, 06 Nov -9999999999999999 08:49:37 GMT",
            "Sun, 99999999999 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 99999999999:49:37 GMT",
        ] {
            assert_eq!(httpdate_seconds(absurd), None, "{absurd}");
            assert_eq!(parse_retry_after(absurd, Some(784_111_770)), None);
        }
        assert_eq!(
            httpdate_seconds("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
    }
}
