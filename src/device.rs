//! The device authorization grant (RFC 8628): sign-in for a machine
//! without a browser. `start` asks for a device code and a user code; the
//! user opens the verification URI elsewhere and approves; `poll` asks the
//! token endpoint every `interval` seconds until the tokens come, the user
//! declines, the code expires, or another thread cancels.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use ureq::Agent;

use crate::config::{Config, Grant};
use crate::discovery;
use crate::grant::{self, GrantRequest};
use crate::http;
use crate::problem::{Problem, ProblemKind};
use crate::retry::{Deadline, instant_after};
use crate::secret::Secret;
use crate::token::Token;

/// RFC 8628 3.2: the interval when the server names none.
const DEFAULT_INTERVAL: u64 = 5;
/// What `slow_down` adds to the interval (RFC 8628 3.5).
const SLOW_DOWN: Duration = Duration::from_secs(5);
/// The shortest wait between polls, whatever the server says.
const MIN_INTERVAL: Duration = Duration::from_millis(50);
/// A device code lives at most this long, whatever the server says.
const MAX_LIFETIME: u64 = 3600;

/// A device flow in progress: what to show the user, and the device code
/// (a secret: `Debug` never shows it) to poll with.
pub struct DeviceLogin {
    config: Config,
    agent: Arc<Agent>,
    device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    pub interval: u64,
    expires_at: Instant,
    cancelled: Mutex<bool>,
    wake: Condvar,
}

impl DeviceLogin {
    /// Asks the device authorization endpoint for the codes.
    pub fn start(mut config: Config) -> Result<DeviceLogin, Problem> {
        if config.grant != Grant::DeviceCode {
            return Err(Problem::config_key(
                "grant_type",
                "the device flow needs grant_type \"device_code\"",
            ));
        }
        discovery::resolve(&mut config)?;
        if config.device_authorization_url.is_empty() {
            return Err(Problem::config_key(
                "device_authorization_url",
                "the issuer's discovery document has no device_authorization_endpoint; set device_authorization_url",
            ));
        }
        let agent = http::agent_for(&config)?;
        let answer = grant::device_authorization(&agent, &config, Deadline::after(config.timeout))?;
        let instance = http::endpoint_for_display(&config.device_authorization_url);
        let invalid = |what: &str| {
            Problem::new(
                ProblemKind::InvalidResponse,
                format!("the device authorization answer {what}"),
            )
            .with_instance(instance.clone())
        };
        let text = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
        let number = |name: &str| answer.get(name).and_then(Value::as_u64);
        let device_code = text("device_code").ok_or_else(|| invalid("has no device_code"))?;
        let user_code = text("user_code").ok_or_else(|| invalid("has no user_code"))?;
        // Auth0 once wrote `verification_url`; RFC 8628 says `verification_uri`.
        let verification_uri = text("verification_uri")
            .or_else(|| text("verification_url"))
            .ok_or_else(|| invalid("has no verification_uri"))?;
        let expires_in = number("expires_in")
            .ok_or_else(|| invalid("has no expires_in"))?
            .min(MAX_LIFETIME);
        Ok(DeviceLogin {
            device_code: Secret::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete: text("verification_uri_complete"),
            expires_in,
            interval: number("interval").unwrap_or(DEFAULT_INTERVAL),
            expires_at: instant_after(Duration::from_secs(expires_in)),
            cancelled: Mutex::new(false),
            wake: Condvar::new(),
            config,
            agent,
        })
    }

    /// What the user is shown: `user_code`, `verification_uri`,
    /// `verification_uri_complete` (when given), `expires_in`, `interval`.
    pub fn to_json(&self) -> String {
        let mut members = Map::new();
        members.insert("user_code".into(), self.user_code.clone().into());
        members.insert(
            "verification_uri".into(),
            self.verification_uri.clone().into(),
        );
        if let Some(complete) = &self.verification_uri_complete {
            members.insert("verification_uri_complete".into(), complete.clone().into());
        }
        members.insert("expires_in".into(), self.expires_in.into());
        members.insert("interval".into(), self.interval.into());
        Value::Object(members).to_string()
    }

    /// Polls until the tokens come (honouring `authorization_pending` and
    /// `slow_down`), the user declines (`authorization-denied`), the code
    /// expires (`device-code-expired`), or [`cancel`](Self::cancel).
    pub fn poll(&self) -> Result<Token, Problem> {
        let mut interval = Duration::from_secs(self.interval);
        loop {
            self.check_cancelled()?;
            let left = self.expires_at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.expired());
            }
            let deadline = Deadline::after(self.config.timeout.min(left));
            let grant = GrantRequest::DeviceCode {
                device_code: self.device_code.expose(),
            };
            let problem = match grant::fetch(&self.agent, &self.config, grant, deadline) {
                Ok(token) => return Ok(token),
                Err(failed) => failed.problem,
            };
            let error = problem.extensions().get("error").and_then(Value::as_str);
            match error {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += SLOW_DOWN,
                Some("expired_token") => return Err(self.expired()),
                Some("access_denied") => {
                    return Err(Problem::new(
                        ProblemKind::AuthorizationDenied,
                        "the user declined the sign-in on the other device",
                    )
                    .with_instance(http::endpoint_for_display(&self.config.token_url)));
                }
                _ => return Err(problem),
            }
            self.sleep(interval.max(MIN_INTERVAL))?;
        }
    }

    /// Ends a poll in progress at once, and every later one, with a
    /// `cancelled` problem. Safe from any thread.
    pub fn cancel(&self) {
        *self
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }

    fn check_cancelled(&self) -> Result<(), Problem> {
        if *self
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            return Err(Problem::new(
                ProblemKind::Cancelled,
                "the device sign-in was cancelled",
            ));
        }
        Ok(())
    }

    /// Waits `wait` (at most until the code expires), or until cancelled.
    fn sleep(&self, wait: Duration) -> Result<(), Problem> {
        let until = instant_after(wait).min(self.expires_at);
        let cancelled = self
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .wake
            .wait_timeout_while(
                cancelled,
                until.saturating_duration_since(Instant::now()),
                |c| !*c,
            )
            .unwrap_or_else(PoisonError::into_inner);
        self.check_cancelled()
    }

    fn expired(&self) -> Problem {
        Problem::new(
            ProblemKind::DeviceCodeExpired,
            format!(
                "the code {} was not approved within {} s; start again",
                self.user_code, self.expires_in
            ),
        )
        .with_instance(http::endpoint_for_display(&self.config.token_url))
    }
}

impl std::fmt::Debug for DeviceLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceLogin")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}
