//! RFC 9457 problem details: the one error type of the library.
//!
//! Every failure, from a NULL pointer to a throttling identity provider, is a
//! [`Problem`] whose JSON has the members the Cobuilder page shows: `type`,
//! `title`, `status`, `detail`, `instance` and `extensions`.

use std::fmt;

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// The stable kinds of failure. Each has its own `type` URI (see the README's
/// table); numbers and names are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A NULL pointer, invalid UTF-8 or other misuse of the API itself.
    InvalidArgument,
    /// The configuration JSON is malformed, has a missing, unknown or mistyped key.
    InvalidConfig,
    /// A URL would send credentials in clear text (`http://` to a non-loopback host).
    InsecureUrl,
    /// The token endpoint rejected the client's credentials (401).
    Unauthorized,
    /// The client is known but not allowed this token, e.g. no client grant for the audience (403).
    Forbidden,
    /// The token endpoint rejected the request as malformed (400 and other 4xx).
    InvalidRequest,
    /// The token endpoint is throttling the client (429); `extensions.retry_after` says for how long.
    RateLimited,
    /// The token endpoint answered with its own problem details, passed through unchanged.
    UpstreamProblem,
    /// The token endpoint failed (5xx or an unexpected status).
    UpstreamError,
    /// The token endpoint answered with a redirect, which is never followed.
    Redirected,
    /// No connection could be made: DNS, refused, reset, TLS, proxy.
    Unreachable,
    /// The call's deadline passed before an answer arrived.
    Timeout,
    /// The answer was not a token response bearer can read.
    InvalidResponse,
    /// The answer was larger than the response-size cap.
    ResponseTooLarge,
    /// A bug in bearer: a panic was caught at the boundary.
    Internal,
    /// The token endpoint refused a code or refresh token (`invalid_grant`):
    /// reused or expired code, wrong PKCE verifier, rotated refresh token.
    InvalidGrant,
    /// The authorization server sent the browser back with `error=`, e.g.
    /// the user declined (`access_denied`).
    AuthorizationDenied,
    /// The redirect handed back cannot be trusted or read: missing or
    /// mismatched `state`, no code or token, not our redirect URI.
    InvalidCallback,
    /// The device flow's code expired before the user approved (RFC 8628
    /// `expired_token`).
    DeviceCodeExpired,
    /// Another thread cancelled the wait (a device flow poll).
    Cancelled,
}

impl ProblemKind {
    /// Every kind, in declaration order (for documentation and tests).
    pub const ALL: [ProblemKind; 20] = [
        Self::InvalidArgument,
        Self::InvalidConfig,
        Self::InsecureUrl,
        Self::Unauthorized,
        Self::Forbidden,
        Self::InvalidRequest,
        Self::RateLimited,
        Self::UpstreamProblem,
        Self::UpstreamError,
        Self::Redirected,
        Self::Unreachable,
        Self::Timeout,
        Self::InvalidResponse,
        Self::ResponseTooLarge,
        Self::Internal,
        Self::InvalidGrant,
        Self::AuthorizationDenied,
        Self::InvalidCallback,
        Self::DeviceCodeExpired,
        Self::Cancelled,
    ];

    /// The `type` member: a URN, stable across releases.
    pub fn type_uri(self) -> &'static str {
        match self {
            Self::InvalidArgument => "urn:bearer:problem:invalid-argument",
            Self::InvalidConfig => "urn:bearer:problem:invalid-config",
            Self::InsecureUrl => "urn:bearer:problem:insecure-url",
            Self::Unauthorized => "urn:bearer:problem:unauthorized",
            Self::Forbidden => "urn:bearer:problem:forbidden",
            Self::InvalidRequest => "urn:bearer:problem:invalid-request",
            Self::RateLimited => "urn:bearer:problem:rate-limited",
            // Passed-through problems keep the server's own type; this one is
            // used only when the server sent none.
            Self::UpstreamProblem => "about:blank",
            Self::UpstreamError => "urn:bearer:problem:upstream-error",
            Self::Redirected => "urn:bearer:problem:redirected",
            Self::Unreachable => "urn:bearer:problem:unreachable",
            Self::Timeout => "urn:bearer:problem:timeout",
            Self::InvalidResponse => "urn:bearer:problem:invalid-response",
            Self::ResponseTooLarge => "urn:bearer:problem:response-too-large",
            Self::Internal => "urn:bearer:problem:internal",
            Self::InvalidGrant => "urn:bearer:problem:invalid-grant",
            Self::AuthorizationDenied => "urn:bearer:problem:authorization-denied",
            Self::InvalidCallback => "urn:bearer:problem:invalid-callback",
            Self::DeviceCodeExpired => "urn:bearer:problem:device-code-expired",
            Self::Cancelled => "urn:bearer:problem:cancelled",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::InvalidArgument => "Invalid argument",
            Self::InvalidConfig => "Invalid configuration",
            Self::InsecureUrl => "Insecure URL",
            Self::Unauthorized => "Client authentication failed",
            Self::Forbidden => "Client not authorized",
            Self::InvalidRequest => "Token request rejected",
            Self::RateLimited => "Rate limited by the token endpoint",
            Self::UpstreamProblem => "Token endpoint problem",
            Self::UpstreamError => "Token endpoint error",
            Self::Redirected => "Token endpoint redirected",
            Self::Unreachable => "Token endpoint unreachable",
            Self::Timeout => "Timed out",
            Self::InvalidResponse => "Unreadable token response",
            Self::ResponseTooLarge => "Token response too large",
            Self::Internal => "Internal error",
            Self::InvalidGrant => "Grant rejected",
            Self::AuthorizationDenied => "Authorization denied",
            Self::InvalidCallback => "Invalid callback",
            Self::DeviceCodeExpired => "Device code expired",
            Self::Cancelled => "Cancelled",
        }
    }

    /// The HTTP-like status a problem of this kind carries by default.
    pub fn default_status(self) -> u16 {
        match self {
            Self::InvalidArgument
            | Self::InvalidConfig
            | Self::InsecureUrl
            | Self::InvalidRequest
            | Self::UpstreamProblem
            | Self::InvalidGrant
            | Self::InvalidCallback
            | Self::Cancelled => 400,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::AuthorizationDenied | Self::DeviceCodeExpired => 403,
            Self::RateLimited => 429,
            Self::UpstreamError
            | Self::Redirected
            | Self::Unreachable
            | Self::InvalidResponse
            | Self::ResponseTooLarge => 502,
            Self::Timeout => 504,
            Self::Internal => 500,
        }
    }
}

/// One failure, as RFC 9457 problem details.
#[derive(Clone, PartialEq)]
pub struct Problem {
    kind: ProblemKind,
    members: Map<String, Value>,
}

impl Problem {
    /// A problem of `kind` with its default title and status.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        let mut members = Map::new();
        members.insert("type".into(), kind.type_uri().into());
        members.insert("title".into(), kind.title().into());
        members.insert("status".into(), kind.default_status().into());
        members.insert("detail".into(), Value::String(detail.into()));
        members.insert("instance".into(), Value::String(String::new()));
        members.insert("extensions".into(), Value::Object(Map::new()));
        Problem { kind, members }
    }

    /// A caller-input problem about one configuration key; `instance` points at it.
    pub fn config_key(key: &str, detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::InvalidConfig, detail)
            .with_instance(format!("#/{key}"))
            .with_extension("key", key)
    }

    /// A problem as [`to_json`](Self::to_json) wrote it (another process's,
    /// from a shared store): its kind from its `type`.
    pub fn from_json(json: &str) -> Option<Problem> {
        let Ok(Value::Object(members)) = serde_json::from_str::<Value>(json) else {
            return None;
        };
        let type_uri = members.get("type")?.as_str()?;
        let kind = ProblemKind::ALL
            .into_iter()
            .find(|kind| kind.type_uri() == type_uri)
            .unwrap_or(ProblemKind::UpstreamProblem);
        let status = members.get("status")?.as_u64()?;
        let mut problem = Problem::passthrough(members, u16::try_from(status).ok()?);
        problem.kind = kind;
        Some(problem)
    }

    /// A problem object the token endpoint sent, kept as it is; members it
    /// lacks are filled in as RFC 9457 defines them.
    pub fn passthrough(mut members: Map<String, Value>, http_status: u16) -> Self {
        let kind = ProblemKind::UpstreamProblem;
        // RFC 9457 3.1: a member of the wrong type is ignored, as if absent;
        // the bindings read `type`, `title` and `status` without checking.
        for (name, fits) in [
            ("type", Value::is_string as fn(&Value) -> bool),
            ("title", Value::is_string),
            ("status", Value::is_u64),
            ("detail", Value::is_string),
            ("instance", Value::is_string),
        ] {
            if members.get(name).is_some_and(|value| !fits(value)) {
                members.remove(name);
            }
        }
        members
            .entry("type")
            .or_insert_with(|| kind.type_uri().into());
        members
            .entry("title")
            .or_insert_with(|| kind.title().into());
        members
            .entry("status")
            .or_insert_with(|| http_status.into());
        members
            .entry("detail")
            .or_insert_with(|| Value::String(String::new()));
        members
            .entry("instance")
            .or_insert_with(|| Value::String(String::new()));
        members
            .entry("extensions")
            .or_insert_with(|| Value::Object(Map::new()));
        Problem { kind, members }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.members.insert("status".into(), status.into());
        self
    }

    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.members
            .insert("instance".into(), Value::String(instance.into()));
        self
    }

    pub fn with_extension(mut self, name: &str, value: impl Into<Value>) -> Self {
        if let Some(Value::Object(extensions)) = self.members.get_mut("extensions") {
            extensions.insert(name.into(), value.into());
        }
        self
    }

    pub fn without_extension(mut self, name: &str) -> Self {
        if let Some(Value::Object(extensions)) = self.members.get_mut("extensions") {
            extensions.shift_remove(name);
        }
        self
    }

    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    pub fn type_uri(&self) -> &str {
        self.str_member("type")
    }

    pub fn title(&self) -> &str {
        self.str_member("title")
    }

    pub fn status(&self) -> u16 {
        self.members
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or_else(|| self.kind.default_status())
    }

    pub fn detail(&self) -> &str {
        self.str_member("detail")
    }

    pub fn instance(&self) -> &str {
        self.str_member("instance")
    }

    /// The `extensions` member (empty when a passed-through problem had a non-object there).
    pub fn extensions(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match self.members.get("extensions") {
            Some(Value::Object(extensions)) => extensions,
            _ => EMPTY.get_or_init(Map::new),
        }
    }

    /// The problem as one JSON object.
    pub fn to_json(&self) -> String {
        Value::Object(self.members.clone()).to_string()
    }

    fn str_member(&self, name: &str) -> &str {
        self.members
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The secrets of one request, to scrub from text that came from outside: a
/// server's answer (which may echo the request) or the HTTP stack's errors.
/// Only that text is scrubbed, never bearer's own words or the endpoint it
/// names, so a one-letter secret cannot garble them, nor be read off the
/// gaps it would leave.
#[derive(Default)]
pub struct Redaction {
    needles: Vec<Zeroizing<String>>,
}

impl Redaction {
    /// Adds a secret as it is and as a JSON string or a form field carries it.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let json_escaped = Value::from(secret).to_string();
        self.add_exact(secret);
        self.add_exact(&json_escaped[1..json_escaped.len() - 1]);
        self.add_exact(&form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>());
    }

    /// Adds a secret only as it is (a Basic credential, say).
    pub fn add_exact(&mut self, secret: &str) {
        if !secret.is_empty() && !self.needles.iter().any(|needle| **needle == *secret) {
            self.needles.push(Zeroizing::new(secret.to_owned()));
            // Longest first, so no encoding is cut up by a shorter one.
            self.needles
                .sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The strings scrubbed, for checks that nothing shows them.
    pub fn needles(&self) -> impl Iterator<Item = &str> {
        self.needles.iter().map(|needle| needle.as_str())
    }

    /// Outside text with every secret in it replaced by `[REDACTED]`.
    pub fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), "[REDACTED]");
            }
        }
        text
    }

    /// Outside JSON: every string in it, member names included.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.text(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(members) => self.object(members),
            _ => {}
        }
    }

    /// [`value`](Self::value) for an object.
    pub fn object(&self, members: &mut Map<String, Value>) {
        *members = std::mem::take(members)
            .into_iter()
            .map(|(name, mut member)| {
                self.value(&mut member);
                (self.text(&name), member)
            })
            .collect();
    }
}

impl fmt::Display for Problem {
    /// `title: detail`, the message users see in every binding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail().is_empty() {
            f.write_str(self.title())
        } else {
            write!(f, "{}: {}", self.title(), self.detail())
        }
    }
}

impl fmt::Debug for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("kind", &self.kind)
            .field("json", &json!(self.members))
            .finish()
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_in_the_documented_order() {
        let json = Problem::new(ProblemKind::Timeout, "no answer in 10 s").to_json();
        assert_eq!(
            json,
            r#"{"type":"urn:bearer:problem:timeout","title":"Timed out","status":504,"detail":"no answer in 10 s","instance":"","extensions":{}}"#
        );
    }

    #[test]
    fn passthrough_keeps_the_servers_members_and_fills_the_missing() {
        let mut upstream = Map::new();
        upstream.insert("title".into(), "Unauthorized".into());
        upstream.insert("traceId".into(), "abc".into());
        let problem = Problem::passthrough(upstream, 401);
        assert_eq!(problem.type_uri(), "about:blank");
        assert_eq!(problem.title(), "Unauthorized");
        assert_eq!(problem.status(), 401);
        assert!(problem.to_json().contains(r#""traceId":"abc""#));
    }

    fn redaction(secret: &str) -> Redaction {
        let mut redaction = Redaction::default();
        redaction.add(secret);
        redaction
    }

    #[test]
    fn redaction_reaches_nested_strings_and_member_names() {
        let mut value = json!({"list": ["xs3cretx"], "s3cret": 1, "nested": {"a": "s3cret"}});
        redaction("s3cret").value(&mut value);
        assert!(!value.to_string().contains("s3cret"), "{value}");
        assert_eq!(value["list"][0], "x[REDACTED]x");
    }

    #[test]
    fn redaction_covers_the_json_and_form_encodings() {
        let redaction = redaction("a b\"c");
        assert_eq!(
            redaction.text(r#"raw a b"c json a b\"c form a+b%22c"#),
            "raw [REDACTED] json [REDACTED] form [REDACTED]"
        );
    }

    #[test]
    fn a_passed_through_member_of_the_wrong_type_is_ignored() {
        let upstream =
            json!({"type": 1, "title": null, "status": "400", "detail": ["d"], "traceId": 7});
        let Value::Object(members) = upstream else {
            unreachable!()
        };
        let json: Value =
            serde_json::from_str(&Problem::passthrough(members, 401).to_json()).unwrap();
        assert_eq!(json["type"], "about:blank");
        assert_eq!(json["title"], ProblemKind::UpstreamProblem.title());
        assert_eq!(json["status"], 401);
        assert_eq!(json["detail"], "");
        assert_eq!(json["traceId"], 7);
    }

    #[test]
    fn every_kind_has_a_distinct_type() {
        let mut types: Vec<_> = ProblemKind::ALL
            .iter()
            .map(|kind| kind.type_uri())
            .collect();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), ProblemKind::ALL.len());
    }
}
