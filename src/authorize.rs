//! The user flows of the DataCosmos v2 page: the authorize URL with `state`
//! and PKCE (RFC 7636), and the callback that turns the browser's redirect
//! into tokens, by code exchange or from the implicit flow's fragment.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use ureq::Agent;

use crate::config::{Config, DEFAULT_USER_SCOPE, Grant};
use crate::discovery;
use crate::grant::{self, GrantRequest};
use crate::problem::{Problem, ProblemKind};
use crate::retry::Deadline;
use crate::secret::{Secret, constant_time_eq};
use crate::token::{self, Token};

/// What the browser is sent for (`response_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseType {
    /// Authorization code, returned in the redirect's query.
    Code,
    /// Implicit: the access token itself, returned in the redirect's fragment.
    Token,
}

impl ResponseType {
    fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
        }
    }
}

/// An authorization request on its way through the browser: the URL to open
/// and what the caller keeps until the redirect comes back. `state` and the
/// code verifier are secrets of this login; `Debug` never shows them, nor
/// the URL that carries the state.
#[derive(Clone)]
pub struct AuthorizationRequest {
    pub url: String,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    pub state: Secret,
    pub code_verifier: Option<Secret>,
    pub nonce: Option<Secret>,
}

impl AuthorizationRequest {
    /// `url`, `response_type`, `redirect_uri`, `state` and, when used,
    /// `code_verifier` and `nonce`: what `bearer_authorize_start` returns.
    pub fn to_json(&self) -> String {
        let mut members = Map::new();
        members.insert("url".into(), self.url.clone().into());
        members.insert("response_type".into(), self.response_type.as_str().into());
        members.insert("redirect_uri".into(), self.redirect_uri.clone().into());
        members.insert("state".into(), self.state.expose().into());
        for (name, value) in [
            ("code_verifier", &self.code_verifier),
            ("nonce", &self.nonce),
        ] {
            if let Some(value) = value {
                members.insert(name.into(), value.expose().into());
            }
        }
        Value::Object(members).to_string()
    }

    /// Reads back what [`to_json`](Self::to_json) wrote.
    pub fn from_json(text: &str) -> Result<AuthorizationRequest, Problem> {
        let invalid = |detail: &str| {
            Problem::new(
                ProblemKind::InvalidArgument,
                format!("request_json {detail}; pass what bearer_authorize_start returned"),
            )
        };
        let Ok(Value::Object(members)) = serde_json::from_str::<Value>(text) else {
            return Err(invalid("is not a JSON object"));
        };
        let text = |name: &str| members.get(name).and_then(Value::as_str).map(str::to_owned);
        let required = |name: &str| text(name).ok_or_else(|| invalid(&format!("has no {name}")));
        let response_type = match required("response_type")?.as_str() {
            "code" => ResponseType::Code,
            "token" => ResponseType::Token,
            _ => return Err(invalid("has an unknown response_type")),
        };
        let code_verifier = text("code_verifier").map(Secret::new);
        if response_type == ResponseType::Code && code_verifier.is_none() {
            return Err(invalid("has no code_verifier"));
        }
        Ok(AuthorizationRequest {
            url: required("url")?,
            response_type,
            redirect_uri: required("redirect_uri")?,
            state: Secret::new(required("state")?),
            code_verifier,
            nonce: text("nonce").map(Secret::new),
        })
    }
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("response_type", &self.response_type)
            .field("redirect_uri", &self.redirect_uri)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Builds the authorize URL for the configuration's `redirect_uri`.
pub fn start(config: &Config) -> Result<AuthorizationRequest, Problem> {
    start_with_redirect(config, config.require_redirect_uri()?)
}

/// Builds the authorize URL: `response_type`, `client_id`, `redirect_uri`,
/// `audience`, `scope` (`openid profile email` by default for a code),
/// 256 bits of `state`, a PKCE S256 challenge for a code, and a `nonce`
/// when OpenID Connect is asked for.
pub(crate) fn start_with_redirect(
    config: &Config,
    redirect_uri: &str,
) -> Result<AuthorizationRequest, Problem> {
    let response_type = match config.grant {
        Grant::AuthorizationCode => ResponseType::Code,
        Grant::Implicit => ResponseType::Token,
        Grant::ClientCredentials | Grant::RefreshToken | Grant::DeviceCode => {
            return Err(Problem::config_key(
                "grant_type",
                "an authorize URL needs grant_type \"authorization_code\" or \"implicit\"",
            ));
        }
    };
    if config.authorize_url.is_empty() {
        return Err(Problem::config_key(
            "authorize_url",
            "the issuer's discovery document has no authorization_endpoint; set authorize_url",
        ));
    }
    let scope = match (&config.scope, response_type) {
        (Some(scope), _) => Some(scope.as_str()),
        (None, ResponseType::Code) => Some(DEFAULT_USER_SCOPE),
        (None, ResponseType::Token) => None,
    };
    let state = random_text(32)?;
    let code_verifier = match response_type {
        ResponseType::Code => Some(random_text(32)?),
        ResponseType::Token => None,
    };
    let wants_id_token = scope.is_some_and(|scope| scope.split(' ').any(|s| s == "openid"));
    let nonce = if wants_id_token {
        Some(random_text(16)?)
    } else {
        None
    };

    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", response_type.as_str());
    query.append_pair("client_id", &config.client_id);
    query.append_pair("redirect_uri", redirect_uri);
    if let Some(audience) = &config.audience {
        query.append_pair("audience", audience);
    }
    if let Some(scope) = scope {
        query.append_pair("scope", scope);
    }
    query.append_pair("state", &state);
    if let Some(verifier) = &code_verifier {
        query.append_pair("code_challenge", &code_challenge(verifier));
        query.append_pair("code_challenge_method", "S256");
    }
    if let Some(nonce) = &nonce {
        query.append_pair("nonce", nonce);
    }
    for (name, value) in &config.extra_params {
        match value {
            Value::String(text) => query.append_pair(name, text),
            other => query.append_pair(name, &other.to_string()),
        };
    }
    let separator = if config.authorize_url.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(AuthorizationRequest {
        url: format!("{}{separator}{}", config.authorize_url, query.finish()),
        response_type,
        redirect_uri: redirect_uri.to_owned(),
        state: Secret::new(state),
        code_verifier: code_verifier.map(Secret::new),
        nonce: nonce.map(Secret::new),
    })
}

/// Reads the redirect the browser came back with: checks it is ours, that
/// `state` matches (in constant time) and that an `iss` names the issuer
/// (RFC 9207), turns `error=` into a problem,
/// then exchanges the code or reads the implicit token from the fragment.
pub fn complete(
    agent: &Agent,
    config: &Config,
    request: &AuthorizationRequest,
    redirect_url: &str,
) -> Result<Token, Problem> {
    match read_callback(config, request, redirect_url)? {
        Callback::Token(token) => Ok(token),
        Callback::Code(code) => {
            let token = grant::fetch(
                agent,
                config,
                GrantRequest::AuthorizationCode {
                    code: code.expose(),
                    redirect_uri: &request.redirect_uri,
                    code_verifier: request.code_verifier.as_ref().map(Secret::expose),
                },
                Deadline::after(config.timeout),
            )?;
            check_nonce(&token, request, &config.token_url)?;
            Ok(token)
        }
    }
}

/// What a checked redirect carries.
pub(crate) enum Callback {
    /// A code, still to be exchanged at the token endpoint.
    Code(Secret),
    /// The implicit flow's token, read from the fragment.
    Token(Token),
}

/// Everything [`complete`] does before the network: the redirect URL, its
/// `state` and `error=` checked, the code or the implicit token read (and
/// its ID token's nonce checked).
pub(crate) fn read_callback(
    config: &Config,
    request: &AuthorizationRequest,
    redirect_url: &str,
) -> Result<Callback, Problem> {
    let callback = |detail: &str| {
        Problem::new(ProblemKind::InvalidCallback, detail)
            .with_instance(crate::http::endpoint_for_display(&request.redirect_uri))
    };
    let (before_fragment, fragment) = split_once_or_empty(redirect_url, '#');
    let (base, query) = split_once_or_empty(before_fragment, '?');
    let (expected_base, _) = split_once_or_empty(&request.redirect_uri, '?');
    if base != expected_base {
        return Err(callback(
            "the redirect URL is not the redirect_uri of this authorization request",
        ));
    }
    let mut params = callback_params(request, query, fragment);
    let text = |name: &str| params.get(name).and_then(Value::as_str);

    let Some(state) = text("state") else {
        return Err(callback(
            "the redirect has no state, so it cannot be matched to this request",
        ));
    };
    if !state_is(request, state) {
        return Err(callback(
            "the redirect's state does not match this request (a forged or stale redirect)",
        )
        .with_extension("reason", "state_mismatch"));
    }
    // Before `error=`: an error from another server is not this one's refusal.
    check_issuer(config, (query, fragment), callback)?;
    if let Some(error) = text("error") {
        let mut problem = Problem::new(
            ProblemKind::AuthorizationDenied,
            text("error_description").unwrap_or(error),
        )
        .with_instance(crate::http::endpoint_for_display(&config.authorize_url))
        .with_extension("error", error);
        if error != "access_denied" {
            problem = problem.with_status(400);
        }
        for member in ["error_description", "error_uri"] {
            if let Some(value) = text(member) {
                problem = problem.with_extension(member, value);
            }
        }
        return Err(problem);
    }

    match request.response_type {
        ResponseType::Code => {
            let Some(code) = text("code").filter(|code| !code.is_empty()) else {
                return Err(callback("the redirect has neither a code nor an error"));
            };
            Ok(Callback::Code(Secret::new(code.to_owned())))
        }
        ResponseType::Token => {
            if text("access_token").is_none() {
                return Err(callback(
                    "the redirect's fragment has neither an access_token nor an error",
                ));
            }
            params.remove("state");
            let token = Token::from_object(params, None)?;
            check_nonce(&token, request, &config.authorize_url)?;
            Ok(Callback::Token(token))
        }
    }
}

/// Whether `redirect_url` carries this request's `state`, read as
/// [`complete`] reads it: the loopback listener answers anything else and
/// keeps waiting.
pub(crate) fn carries_state(request: &AuthorizationRequest, redirect_url: &str) -> bool {
    let (before_fragment, fragment) = split_once_or_empty(redirect_url, '#');
    let (_, query) = split_once_or_empty(before_fragment, '?');
    callback_params(request, query, fragment)
        .get("state")
        .and_then(Value::as_str)
        .is_some_and(|state| state_is(request, state))
}

fn state_is(request: &AuthorizationRequest, state: &str) -> bool {
    constant_time_eq(state.as_bytes(), request.state.expose().as_bytes())
}

/// The redirect's parameters: codes come in the query, implicit tokens in
/// the fragment; an error may come in either.
fn callback_params(
    request: &AuthorizationRequest,
    query: &str,
    fragment: &str,
) -> Map<String, Value> {
    let (primary, other) = match request.response_type {
        ResponseType::Code => (query, fragment),
        ResponseType::Token => (fragment, query),
    };
    let params = parse_params(primary);
    if !params.contains_key("state") && !params.contains_key("error") {
        return parse_params(other);
    }
    params
}

/// The issuer a callback's `iss` must name (RFC 9207): the discovery
/// document's `issuer` when this process read it, else the configured one.
pub(crate) fn expected_issuer(config: &Config) -> Option<String> {
    discovery::known_issuer(config)
        .map(|facts| facts.issuer)
        .or_else(|| config.issuer.clone())
}

/// RFC 9207 2.4: every `iss` the redirect carries (query or fragment, so a
/// second one cannot hide behind the first) must equal the expected issuer,
/// compared as plain strings. With no issuer configured there is nothing
/// to compare with; RFC 9207 leaves the expected value to the client's
/// configuration, so an `iss` is refused rather than taken on trust, and
/// the problem says to set `issuer`. A callback without `iss` is accepted
/// unless the issuer's discovery document promised one.
fn check_issuer(
    config: &Config,
    (query, fragment): (&str, &str),
    callback: impl Fn(&str) -> Problem,
) -> Result<(), Problem> {
    let refuse =
        |detail: &str, reason: &str| Err(callback(detail).with_extension("reason", reason));
    let named: Vec<String> = [query, fragment]
        .into_iter()
        .flat_map(|part| form_urlencoded::parse(part.as_bytes()))
        .filter(|(name, _)| name == "iss")
        .map(|(_, value)| value.into_owned())
        .collect();
    if named.is_empty() {
        if discovery::known_issuer(config).is_some_and(|facts| facts.sends_iss) {
            return refuse(
                "the redirect has no iss, though the issuer's discovery document says it sends one (RFC 9207)",
                "issuer_missing",
            );
        }
        return Ok(());
    }
    let Some(expected) = expected_issuer(config) else {
        return refuse(
            "the redirect names an issuer (iss) but the configuration has none to compare it with; set issuer",
            "issuer_unknown",
        );
    };
    match named.iter().find(|iss| **iss != expected) {
        Some(iss) => refuse(
            &format!(
                "the redirect's iss {iss:?} is not the issuer {expected:?} (a mix-up: the answer comes from another authorization server)"
            ),
            "issuer_mismatch",
        ),
        None => Ok(()),
    }
}

/// An ID token must carry the nonce this request sent (OIDC Core 3.1.3.7
/// for the code flow, 3.2.2.11 for implicit); `source` is where it came from.
fn check_nonce(token: &Token, request: &AuthorizationRequest, source: &str) -> Result<(), Problem> {
    let (Some(nonce), Some(id_token)) = (&request.nonce, &token.id_token) else {
        return Ok(());
    };
    let claims = token::jwt_claims(id_token).unwrap_or_default();
    let sent = claims
        .get("nonce")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if constant_time_eq(sent.as_bytes(), nonce.expose().as_bytes()) {
        Ok(())
    } else {
        Err(Problem::new(
            ProblemKind::InvalidResponse,
            "the ID token's nonce does not match this request",
        )
        .with_instance(crate::http::endpoint_for_display(source)))
    }
}

fn split_once_or_empty(text: &str, separator: char) -> (&str, &str) {
    text.split_once(separator).unwrap_or((text, ""))
}

/// Form-decoded parameters; the first of a repeated name wins.
fn parse_params(text: &str) -> Map<String, Value> {
    let mut params = Map::new();
    for (name, value) in form_urlencoded::parse(text.as_bytes()) {
        params
            .entry(name.into_owned())
            .or_insert_with(|| json!(value.into_owned()));
    }
    params
}

/// `bytes` from the OS random source, base64url without padding.
fn random_text(bytes: usize) -> Result<String, Problem> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| {
        Problem::new(
            ProblemKind::Internal,
            format!("the OS random source failed: {error}"),
        )
    })?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)).
fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn state_is_256_random_bits_and_never_repeats() {
        let (a, b) = (random_text(32).unwrap(), random_text(32).unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
