//! Access tokens: reading a successful answer and knowing when it stops being good.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::clock::Tick;
use crate::problem::{Problem, ProblemKind};

/// The longest a token is refreshed ahead of its expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The longest lifetime believed: a server that says a token lives for ever
/// gets it refreshed within a year (Auth0 allows at most 30 days).
const MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// A token response (RFC 6749 §5.1), plus when the cache must stop serving it.
#[derive(Clone)]
pub struct Token {
    pub access_token: String,
    pub token_type: String,
    /// Unix seconds at which the token expires, when the answer said.
    pub expires_at: Option<u64>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// Monotonic time after which the cache fetches anew; `None`: never cached.
    refresh_at: Option<Tick>,
    /// Monotonic time until which the token may still be handed out when a
    /// refresh fails (serve-stale): just short of its expiry.
    usable_until: Option<Tick>,
}

impl Token {
    /// Reads a 2xx answer: a token-response object, a JSON string or a bare
    /// token in plain text. Lifetime comes from `expires_in`, else from the
    /// JWT `exp` claim (read, not verified).
    pub fn from_response(body: &[u8]) -> Result<Token, Problem> {
        Self::from_answer(body, None)
    }

    /// As [`from_response`](Self::from_response), for an answer that came
    /// with the server's clock (`Date`, unix seconds): a JWT `exp` is then
    /// measured against the server's clock, not a skewed local one.
    pub fn from_answer(body: &[u8], server_now: Option<u64>) -> Result<Token, Problem> {
        let text = std::str::from_utf8(body)
            .map_err(|_| invalid_response("the token response is not UTF-8 text"))?
            .trim();
        if text.is_empty() {
            return Err(invalid_response("the token response is empty"));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(members)) => Self::from_object(members, server_now),
            Ok(Value::String(bare)) => Self::from_bare(bare, server_now),
            Ok(_) => Err(invalid_response(
                "the token response is JSON but neither an object nor a string",
            )),
            Err(_) if text.starts_with(['{', '[', '"']) => {
                Err(invalid_response("the token response is malformed JSON"))
            }
            Err(_) if is_b64token(text) => Self::from_bare(text.to_owned(), server_now),
            Err(_) => Err(invalid_response(
                "the token response is neither JSON nor a bare token",
            )),
        }
    }

    /// Reads a token-response object; the implicit flow's fragment arrives
    /// as one too, with every value a string.
    pub(crate) fn from_object(
        mut members: Map<String, Value>,
        server_now: Option<u64>,
    ) -> Result<Token, Problem> {
        let access_token = match members.remove("access_token") {
            Some(Value::String(token)) if looks_like_token(&token) => token,
            Some(_) => {
                return Err(invalid_response(
                    "the token response's access_token is not a usable token",
                ));
            }
            None => {
                return Err(invalid_response("the token response has no access_token"));
            }
        };
        // The scheme of the Authorization header: anything but an HTTP token
        // (RFC 9110 5.6.2) could end the header line and start another.
        let token_type = match members.remove("token_type") {
            None => "Bearer".to_owned(),
            Some(Value::String(scheme)) if is_http_token(&scheme) => scheme,
            Some(_) => {
                return Err(invalid_response(
                    "the token response's token_type is not an HTTP authentication scheme",
                ));
            }
        };
        let mut text = |name: &str| match members.remove(name) {
            Some(Value::String(value)) => Some(value),
            _ => None,
        };
        let scope = text("scope");
        let refresh_token = text("refresh_token");
        let id_token = text("id_token");
        let expires_in = members.get("expires_in").and_then(seconds);
        Ok(Token::with_lifetime(
            access_token,
            token_type,
            expires_in,
            server_now,
            scope,
            refresh_token,
            id_token,
        ))
    }

    /// A token as [`to_json`](Self::to_json) wrote it into a shared store,
    /// with its lifetime counted anew from `expires_at` (an expired one is
    /// read too: its refresh token may still be the latest); None when it
    /// is not one.
    pub fn from_shared(json: &[u8]) -> Option<Token> {
        let Ok(Value::Object(mut members)) = serde_json::from_slice::<Value>(json) else {
            return None;
        };
        let expires_at = members.get("expires_at").and_then(Value::as_u64)?;
        let left = expires_at.saturating_sub(unix_now());
        members.insert("expires_in".into(), left.into());
        Self::from_object(members, None).ok()
    }

    fn from_bare(token: String, server_now: Option<u64>) -> Result<Token, Problem> {
        if !looks_like_token(&token) {
            return Err(invalid_response(
                "the bare token has characters a token cannot have",
            ));
        }
        Ok(Token::with_lifetime(
            token,
            "Bearer".into(),
            None,
            server_now,
            None,
            None,
            None,
        ))
    }

    /// `expires_at` is on the local clock, whatever the server's says: a
    /// lifetime from `expires_in` is relative already, and one from a JWT
    /// `exp` is measured from the server's `Date` (`server_now`) when known.
    fn with_lifetime(
        access_token: String,
        token_type: String,
        expires_in: Option<u64>,
        server_now: Option<u64>,
        scope: Option<String>,
        refresh_token: Option<String>,
        id_token: Option<String>,
    ) -> Token {
        let now = unix_now();
        let lifetime = match expires_in {
            Some(lifetime) => Some(lifetime),
            None => {
                jwt_expiry(&access_token).map(|exp| exp.saturating_sub(server_now.unwrap_or(now)))
            }
        }
        .map(|lifetime| lifetime.min(MAX_LIFETIME_SECS));
        let expires_at = lifetime.map(|lifetime| now.saturating_add(lifetime));
        let (refresh_at, usable_until) = match lifetime.filter(|seconds| *seconds > 0) {
            Some(seconds) => {
                let lifetime = Duration::from_secs(seconds);
                let start = Tick::now();
                (
                    Some(start + (lifetime - jittered_refresh_margin(lifetime))),
                    Some(start + (lifetime - stale_guard(lifetime))),
                )
            }
            None => (None, None),
        };
        Token {
            access_token,
            token_type,
            expires_at,
            scope,
            refresh_token,
            id_token,
            refresh_at,
            usable_until,
        }
    }

    /// Whether the cache may hand this token out without refreshing it.
    pub fn is_fresh(&self, now: Tick) -> bool {
        self.refresh_at.is_some_and(|refresh_at| now < refresh_at)
    }

    /// How much longer this token is good to use (zero when it is not).
    pub fn usable_for(&self, now: Tick) -> Duration {
        self.usable_until
            .map_or(Duration::ZERO, |usable_until| now.until(usable_until))
    }

    /// Whether this token is still good to use, due for refresh or not:
    /// what a failed refresh falls back on.
    pub fn is_usable(&self, now: Tick) -> bool {
        self.usable_until
            .is_some_and(|usable_until| now < usable_until)
    }

    /// Whether this token may be cached at all (its lifetime is known).
    pub fn is_cacheable(&self) -> bool {
        self.refresh_at.is_some()
    }

    /// Seconds left until expiry, as `expires_in` would say now.
    pub fn expires_in(&self) -> Option<u64> {
        self.expires_at
            .map(|expires_at| expires_at.saturating_sub(unix_now()))
    }

    /// The value of an `Authorization` header carrying this token.
    pub fn authorization_header(&self) -> String {
        // RFC 6750 names the scheme "Bearer"; Auth0 answers "Bearer" too, but
        // some servers send "bearer", which strict APIs refuse.
        let scheme = if self.token_type.eq_ignore_ascii_case("bearer") {
            "Bearer"
        } else {
            &self.token_type
        };
        format!("{scheme} {}", self.access_token)
    }

    /// The token response as JSON: `access_token`, `token_type`, `expires_in`
    /// (seconds left now), `expires_at` (unix seconds) and, when present,
    /// `scope`, `refresh_token`, `id_token`.
    pub fn to_json(&self) -> String {
        let mut members = Map::new();
        members.insert("access_token".into(), self.access_token.clone().into());
        members.insert("token_type".into(), self.token_type.clone().into());
        if let Some(expires_in) = self.expires_in() {
            members.insert("expires_in".into(), expires_in.into());
        }
        if let Some(expires_at) = self.expires_at {
            members.insert("expires_at".into(), expires_at.into());
        }
        for (name, value) in [
            ("scope", &self.scope),
            ("refresh_token", &self.refresh_token),
            ("id_token", &self.id_token),
        ] {
            if let Some(value) = value {
                members.insert(name.into(), value.clone().into());
            }
        }
        Value::Object(members).to_string()
    }
}

impl std::fmt::Debug for Token {
    /// Tokens are credentials too: show only their shape.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field(
                "access_token",
                &format_args!("[{} bytes]", self.access_token.len()),
            )
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A tenth of the lifetime, at most a minute: long tokens refresh a minute
/// early, a two-second test token 200 ms early.
fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(MAX_REFRESH_MARGIN)
}

/// The refresh margin plus up to half again, at random, so that the
/// processes sharing one credential do not all refresh in the same second.
fn jittered_refresh_margin(lifetime: Duration) -> Duration {
    let margin = refresh_margin(lifetime);
    margin + (margin / 2).mul_f64(crate::retry::unit_random())
}

/// How long before expiry even a stale token stops being handed out: the
/// time for it to reach the API it is meant for.
fn stale_guard(lifetime: Duration) -> Duration {
    (lifetime / 50).min(Duration::from_secs(1))
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// `expires_in` as a number or a numeric string (some servers send "3600").
fn seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number
            .as_u64()
            .or_else(|| number.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The `exp` claim of a JWT, without verifying anything: it only tells the
/// cache how long the token lives.
fn jwt_expiry(token: &str) -> Option<u64> {
    jwt_claims(token)?.get("exp").and_then(seconds)
}

/// The claims of a JWT, read but not verified.
pub(crate) fn jwt_claims(token: &str) -> Option<Value> {
    let mut segments = token.split('.');
    let (_header, payload, _signature) = (segments.next()?, segments.next()?, segments.next()?);
    let decoded = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .ok()?;
    serde_json::from_slice(&decoded).ok()
}

/// RFC 6750 `b64token` characters, loosened to any visible ASCII so that
/// opaque tokens pass; whitespace, controls and non-ASCII never do.
fn looks_like_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_graphic())
}

/// An RFC 9110 `token` (`tchar`s), as an authentication scheme must be.
fn is_http_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// RFC 6750 `b64token`: what a bare token in plain text must look like, so
/// that an HTML page or a stray word is never taken for a token.
fn is_b64token(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte))
}

fn invalid_response(detail: &str) -> Problem {
    Problem::new(ProblemKind::InvalidResponse, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn a_token_type_that_could_end_the_header_line_is_refused() {
        for scheme in [
            "Bearer\r\nX-Injected: yes",
            "Bearer x",
            "",
            " Bearer",
            "Bea\u{7f}rer",
        ] {
            let body =
                serde_json::json!({"access_token": "abc", "token_type": scheme, "expires_in": 60});
            let problem = Token::from_response(body.to_string().as_bytes()).unwrap_err();
            assert_eq!(problem.kind(), ProblemKind::InvalidResponse, "{scheme:?}");
        }
        let wrong_type = br#"{"access_token":"abc","token_type":7}"#;
        assert!(Token::from_response(wrong_type).is_err());
        for (scheme, header) in [
            ("bearer", "Bearer abc"),
            ("BEARER", "Bearer abc"),
            ("DPoP", "DPoP abc"),
        ] {
            let body = serde_json::json!({"access_token": "abc", "token_type": scheme});
            let token = Token::from_response(body.to_string().as_bytes()).unwrap();
            assert_eq!(token.authorization_header(), header);
        }
    }

    #[test]
    fn a_token_response_object_is_read() {
        let token = Token::from_response(
            br#"{"access_token":"abc","token_type":"Bearer","expires_in":86400,"scope":"read"}"#,
        )
        .unwrap();
        assert_eq!(token.access_token, "abc");
        assert_eq!(token.expires_at, Some(unix_now() + 86400));
        assert!(token.is_fresh(Tick::now()));
        assert_eq!(token.authorization_header(), "Bearer abc");
        assert_eq!(token.scope.as_deref(), Some("read"));
    }

    #[test]
    fn without_expires_in_the_jwt_exp_is_used() {
        let exp = unix_now() + 600;
        let token = Token::from_response(
            format!(
                r#"{{"access_token":"{}"}}"#,
                jwt(&format!(r#"{{"exp":{exp}}}"#))
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(token.expires_at, Some(exp));
        assert!(token.is_cacheable());
    }

    #[test]
    fn a_bare_token_is_read_as_json_string_or_plain_text() {
        let exp = unix_now() + 3600;
        let bare = jwt(&format!(r#"{{"exp":{exp}}}"#));
        let quoted = Token::from_response(format!("\"{bare}\"").as_bytes()).unwrap();
        let plain = Token::from_response(format!("{bare}\r\n").as_bytes()).unwrap();
        assert_eq!(quoted.access_token, bare);
        assert_eq!(plain.access_token, bare);
        assert_eq!(plain.expires_at, Some(exp));
    }

    #[test]
    fn a_token_of_unknown_lifetime_is_not_cached() {
        let token = Token::from_response(b"opaque-token-123").unwrap();
        assert!(!token.is_cacheable());
        assert!(!token.is_fresh(Tick::now()));
    }

    #[test]
    fn unreadable_answers_are_problems() {
        for body in [
            &b""[..],
            b"{\"access_token\": ",
            b"<html><body>Login</body></html>",
            b"{\"token_type\":\"Bearer\"}",
            b"{\"access_token\":\"has space\"}",
            b"\xff\xfe",
            b"[1,2]",
            b"<html>",
        ] {
            let problem = Token::from_response(body).unwrap_err();
            assert_eq!(problem.kind(), ProblemKind::InvalidResponse, "{body:?}");
        }
    }

    #[test]
    fn a_lifetime_past_belief_is_capped() {
        for body in [
            format!(r#"{{"access_token":"t","expires_in":{}}}"#, u64::MAX),
            r#"{"access_token":"t","expires_in":1e300}"#.to_owned(),
            format!(
                r#"{{"access_token":"{}"}}"#,
                jwt(&format!(r#"{{"exp":{}}}"#, u64::MAX))
            ),
        ] {
            let token = Token::from_response(body.as_bytes()).unwrap();
            assert_eq!(token.expires_in(), Some(MAX_LIFETIME_SECS), "{body}");
            assert!(token.is_fresh(Tick::now()));
        }
    }

    #[test]
    fn a_jwt_exp_is_measured_on_the_servers_clock() {
        // The server's clock is an hour behind ours; its token lives 600 s.
        let server_now = unix_now() - 3600;
        let body = format!(
            r#"{{"access_token":"{}"}}"#,
            jwt(&format!(r#"{{"exp":{}}}"#, server_now + 600))
        );
        let skewed = Token::from_answer(body.as_bytes(), Some(server_now)).unwrap();
        assert_eq!(skewed.expires_in(), Some(600));
        assert!(skewed.is_fresh(Tick::now()));
        // Read against the local clock alone, it would look long expired.
        let local = Token::from_response(body.as_bytes()).unwrap();
        assert!(!local.is_cacheable());
    }

    #[test]
    fn the_refresh_margin_is_a_tenth_up_to_a_minute() {
        assert_eq!(
            refresh_margin(Duration::from_secs(86400)),
            MAX_REFRESH_MARGIN
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
    }
}
