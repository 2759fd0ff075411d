//! The credentials JSON, exactly as the seed pages write it, parsed strictly.
//!
//! Two shapes are accepted: the DataCosmos/Auth0 file
//! (`client_id`, `client_secret`, `audience`, `grant_type`) and the Cobuilder
//! body (`clientId`, `clientSecret`, `audienceUrl`). The Auth0 shape also
//! carries the user flows of the DataCosmos v2 page: `grant_type`
//! `authorization_code`, `implicit` or `refresh_token`, with `redirect_uri`,
//! `authorize_url`, `issuer` and `refresh_token`. A key that is missing,
//! unknown or of the wrong type is an error naming the key, never its value.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::assertion::SigningKey;
use crate::cache_setting::CacheSetting;
use crate::endpoint::endpoint_for_display;
use crate::identity::ClientIdentity;
use crate::problem::{Problem, ProblemKind, Redaction};
use crate::secret::{Secret, basic_credential};

/// Token endpoint of the DataCosmos Auth0 tenant.
pub const AUTH0_DEFAULT_TOKEN_URL: &str = "https://login.open-cosmos.com/oauth/token";
/// Authorization endpoint of the DataCosmos Auth0 tenant.
pub const AUTH0_DEFAULT_AUTHORIZE_URL: &str = "https://login.open-cosmos.com/authorize";
/// What the authorization code flow asks for when `scope` is not given, as
/// the DataCosmos v2 page does.
pub const DEFAULT_USER_SCOPE: &str = "openid profile email";
/// Token endpoint of the Cobuilder authentication API.
pub const COBUILDER_DEFAULT_TOKEN_URL: &str =
    "https://api.cobuilder.com/authentication/api/v1/oauth2/token";
/// Configuration text longer than this is refused before parsing.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
/// Default overall deadline of one token request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT_MS: u64 = 10 * 60 * 1000;
const DEFAULT_RETRIES: u32 = 3;
const MAX_RETRIES: u64 = 10;

const AUTH0_KEYS: [&str; 15] = [
    "device_authorization_url",
    "client_id",
    "client_secret",
    "client_cert_file",
    "client_key_file",
    "private_key_file",
    "key_id",
    "assertion_alg",
    "assertion_audience",
    "audience",
    "grant_type",
    "redirect_uri",
    "authorize_url",
    "issuer",
    "refresh_token",
];
const COBUILDER_KEYS: [&str; 3] = ["clientId", "clientSecret", "audienceUrl"];
const COMMON_KEYS: [&str; 10] = [
    "token_url",
    "scope",
    "client_auth",
    "body",
    "timeout_ms",
    "retries",
    "ca_file",
    "proxy",
    "cache",
    "extra_params",
];

/// Which vendor's request and response conventions to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// OAuth 2.0 client credentials as Auth0 takes them; answers are token-response JSON.
    Auth0,
    /// `{clientId, clientSecret, audienceUrl}`; answers are a bare token string.
    Cobuilder,
}

/// How the request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    Json,
    Form,
}

/// How the client authenticates (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// Id and secret in the request body.
    SecretPost,
    /// Id and secret in an `Authorization: Basic` header.
    SecretBasic,
    /// A JWT signed with the client's private key (RFC 7523 2.2).
    PrivateKeyJwt,
    /// The TLS client certificate, issued by a CA the provider trusts (RFC 8705 2.1).
    TlsClientAuth,
    /// A self-signed TLS client certificate registered with the provider (RFC 8705 2.2).
    SelfSignedTlsClientAuth,
}

impl ClientAuth {
    /// Whether the TLS handshake's client certificate authenticates the client.
    pub fn is_mutual_tls(self) -> bool {
        matches!(
            self,
            ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth
        )
    }
}

/// The `aud` of a client assertion: the token endpoint (RFC 7523), or the
/// issuer, which some providers want instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssertionAudience {
    TokenEndpoint,
    Issuer,
}

/// Which OAuth 2.0 flow the configuration is for (`grant_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    /// Machine to machine with the client's own secret (the default).
    ClientCredentials,
    /// A user signs in in a browser; the code comes back to `redirect_uri`
    /// and is exchanged with PKCE (and the secret of a confidential client).
    AuthorizationCode,
    /// Legacy browser flow: the token comes back in the redirect's fragment.
    Implicit,
    /// A refresh token gets new access tokens, rotated as the server says.
    RefreshToken,
    /// A user approves on another device; this one polls (RFC 8628).
    DeviceCode,
}

impl Grant {
    fn parse(text: &str) -> Option<Grant> {
        Some(match text {
            "client_credentials" => Grant::ClientCredentials,
            "authorization_code" => Grant::AuthorizationCode,
            "implicit" => Grant::Implicit,
            "refresh_token" => Grant::RefreshToken,
            "device_code" | "urn:ietf:params:oauth:grant-type:device_code" => Grant::DeviceCode,
            _ => return None,
        })
    }
}

/// A validated configuration. `Debug` never shows a secret: URLs appear
/// as [`endpoint_for_display`] shows them, secrets and `extra_params`
/// values masked.
#[derive(Clone)]
pub struct Config {
    pub shape: Shape,
    pub grant: Grant,
    pub client_id: String,
    /// None for a public client (a native or browser app in the user flows).
    pub client_secret: Option<Secret>,
    pub audience: Option<String>,
    /// Empty until discovery fills it when only `issuer` was given.
    pub token_url: String,
    /// Where the user flows send the browser; empty until discovery fills it
    /// when only `issuer` was given.
    pub authorize_url: String,
    /// Where the device flow starts (RFC 8628 3.1); empty until discovery
    /// fills it when only `issuer` was given.
    pub device_authorization_url: String,
    /// Where the browser comes back to (authorization code and implicit).
    pub redirect_uri: Option<String>,
    /// Read `/.well-known/openid-configuration` here for missing endpoints.
    pub issuer: Option<String>,
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
    pub client_auth: ClientAuth,
    /// The private key of `private_key_jwt`, wiped on drop.
    pub signing_key: Option<Arc<SigningKey>>,
    /// The client certificate and key of mutual TLS (RFC 8705).
    pub client_identity: Option<Arc<ClientIdentity>>,
    pub assertion_audience: AssertionAudience,
    pub body: BodyFormat,
    pub timeout: Duration,
    /// Further attempts after a 429, a 5xx or a reset connection, all
    /// within `timeout`.
    pub retries: u32,
    pub ca_file: Option<PathBuf>,
    /// May carry a password (`http://user:pass@proxy:3128`), hence a secret.
    pub proxy: Option<Secret>,
    /// Where tokens are kept beyond this process (`cache`, else `BEARER_CACHE`).
    pub cache: CacheSetting,
    pub extra_params: Map<String, Value>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |url: &str| endpoint_for_display(url);
        let masked = |secret: &Option<Secret>| secret.as_ref().map(|_| "[REDACTED]");
        let extra_params: Vec<(&str, &str)> = self
            .extra_params
            .keys()
            .map(|key| (key.as_str(), "[REDACTED]"))
            .collect();
        f.debug_struct("Config")
            .field("shape", &self.shape)
            .field("grant", &self.grant)
            .field("client_id", &self.client_id)
            .field("client_secret", &masked(&self.client_secret))
            .field("audience", &self.audience)
            .field("token_url", &shown(&self.token_url))
            .field("authorize_url", &shown(&self.authorize_url))
            .field(
                "device_authorization_url",
                &shown(&self.device_authorization_url),
            )
            .field("redirect_uri", &self.redirect_uri.as_deref().map(shown))
            .field("issuer", &self.issuer.as_deref().map(shown))
            .field("refresh_token", &masked(&self.refresh_token))
            .field("scope", &self.scope)
            .field("client_auth", &self.client_auth)
            .field("signing_key", &self.signing_key)
            .field("client_identity", &self.client_identity)
            .field("assertion_audience", &self.assertion_audience)
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("ca_file", &self.ca_file)
            .field("proxy", &masked(&self.proxy))
            .field("cache", &self.cache)
            .field("extra_params", &extra_params)
            .finish()
    }
}

impl Config {
    /// Parses and validates the credentials JSON.
    pub fn from_json(text: &str) -> Result<Config, Problem> {
        Self::from_json_for(text, Grant::ClientCredentials)
    }

    /// Parses the credentials JSON for a use that implies a grant when the
    /// text names none: the loopback login is an authorization code flow.
    pub fn from_json_for(text: &str, default_grant: Grant) -> Result<Config, Problem> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(Problem::new(
                ProblemKind::InvalidConfig,
                format!(
                    "the configuration is {} bytes; at most {MAX_CONFIG_BYTES} are accepted",
                    text.len()
                ),
            ));
        }
        let value: Value = serde_json::from_str(text).map_err(|error| {
            // serde_json's message names a line and column, never the text.
            Problem::new(
                ProblemKind::InvalidConfig,
                format!("the configuration is not valid JSON: {error}"),
            )
        })?;
        match value {
            Value::Object(members) => Self::from_members(members, default_grant),
            _ => Err(Problem::new(
                ProblemKind::InvalidConfig,
                "the configuration must be a JSON object",
            )),
        }
    }

    fn from_members(
        mut members: Map<String, Value>,
        default_grant: Grant,
    ) -> Result<Config, Problem> {
        let shape = detect_shape(&members)?;
        let shape_keys: &[&str] = match shape {
            Shape::Auth0 => &AUTH0_KEYS,
            Shape::Cobuilder => &COBUILDER_KEYS,
        };
        if let Some(unknown) = members
            .keys()
            .find(|key| !shape_keys.contains(&key.as_str()) && !COMMON_KEYS.contains(&key.as_str()))
        {
            return Err(unknown_key(unknown, shape_keys));
        }

        let mut take = Fields(&mut members);
        let grant = match take.optional_string("grant_type")? {
            None => default_grant,
            Some(text) => Grant::parse(&text).ok_or_else(|| {
                Problem::config_key(
                    "grant_type",
                    format!(
                        "grant_type \"{text}\" is not supported; use \"client_credentials\", \"authorization_code\", \"implicit\", \"refresh_token\" or \"device_code\""
                    ),
                )
            })?,
        };
        let client_auth = match take.optional_string("client_auth")?.as_deref() {
            None | Some("client_secret_post") => ClientAuth::SecretPost,
            Some("client_secret_basic") => ClientAuth::SecretBasic,
            Some("private_key_jwt") if shape == Shape::Auth0 => ClientAuth::PrivateKeyJwt,
            Some("tls_client_auth") if shape == Shape::Auth0 => ClientAuth::TlsClientAuth,
            Some("self_signed_tls_client_auth") if shape == Shape::Auth0 => {
                ClientAuth::SelfSignedTlsClientAuth
            }
            Some(other) => {
                return Err(Problem::config_key(
                    "client_auth",
                    format!(
                        "client_auth must be \"client_secret_post\" or \"client_secret_basic\" (and, not for Cobuilder, \"private_key_jwt\", \"tls_client_auth\" or \"self_signed_tls_client_auth\"), not \"{other}\""
                    ),
                ));
            }
        };
        let signing_key = SigningKey::from_settings(
            take.optional_string("private_key_file")?,
            take.optional_string("assertion_alg")?,
            take.optional_string("key_id")?,
            client_auth == ClientAuth::PrivateKeyJwt,
        )?;
        let client_identity = ClientIdentity::from_settings(
            take.optional_string("client_cert_file")?,
            take.optional_string("client_key_file")?,
            client_auth.is_mutual_tls(),
        )?;
        let (client_id, client_secret, audience, default_url) = match shape {
            Shape::Auth0 => {
                let client_id = take.required_string("client_id")?;
                // Only the machine-to-machine flow needs a secret; an app a
                // user signs in to may be a public client (PKCE instead),
                // and a private_key_jwt client signs instead.
                let client_secret = if signing_key.is_some() || client_auth.is_mutual_tls() {
                    if take.0.contains_key("client_secret") {
                        return Err(Problem::config_key(
                            "client_secret",
                            "a private_key_jwt or mutual-TLS client authenticates with its key and sends no secret: remove \"client_secret\"",
                        ));
                    }
                    None
                } else if grant == Grant::ClientCredentials {
                    Some(take.required_string("client_secret")?)
                } else {
                    take.optional_string("client_secret")?
                };
                (
                    client_id,
                    client_secret.map(Secret::new),
                    take.optional_string("audience")?,
                    AUTH0_DEFAULT_TOKEN_URL,
                )
            }
            Shape::Cobuilder => (
                take.required_string("clientId")?,
                Some(Secret::new(take.required_string("clientSecret")?)),
                Some(take.required_string("audienceUrl")?),
                COBUILDER_DEFAULT_TOKEN_URL,
            ),
        };
        let issuer = take.optional_url("issuer")?;
        // With an issuer, a missing endpoint comes from its discovery document.
        let default_for = |url: &str| {
            if issuer.is_some() {
                String::new()
            } else {
                url.to_owned()
            }
        };
        let token_url = take
            .optional_url("token_url")?
            .unwrap_or_else(|| default_for(default_url));
        let authorize_url = take
            .optional_url("authorize_url")?
            .unwrap_or_else(|| default_for(AUTH0_DEFAULT_AUTHORIZE_URL));
        let device_authorization_url = take.optional_url("device_authorization_url")?;
        if grant == Grant::DeviceCode && device_authorization_url.is_none() && issuer.is_none() {
            return Err(Problem::config_key(
                "device_authorization_url",
                "grant_type \"device_code\" needs \"device_authorization_url\" (Auth0: https://TENANT/oauth/device/code), or an \"issuer\" whose discovery document names it",
            ));
        }
        let device_authorization_url = device_authorization_url.unwrap_or_default();
        let redirect_uri = take.optional_url("redirect_uri")?;
        let refresh_token = take.optional_string("refresh_token")?.map(Secret::new);
        if grant == Grant::RefreshToken && refresh_token.is_none() {
            return Err(Problem::config_key(
                "refresh_token",
                "the configuration is missing \"refresh_token\", which grant_type \"refresh_token\" needs",
            ));
        }
        let body = match take.optional_string("body")?.as_deref() {
            None | Some("json") => BodyFormat::Json,
            Some("form") if shape == Shape::Auth0 => BodyFormat::Form,
            Some("form") => {
                return Err(Problem::config_key(
                    "body",
                    "the Cobuilder endpoint takes only a JSON body",
                ));
            }
            Some(other) => {
                return Err(Problem::config_key(
                    "body",
                    format!("body must be \"json\" or \"form\", not \"{other}\""),
                ));
            }
        };
        let timeout = match take.0.remove("timeout_ms") {
            None => DEFAULT_TIMEOUT,
            Some(value) => match value.as_u64() {
                Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(Problem::config_key(
                        "timeout_ms",
                        format!("timeout_ms must be a whole number from 1 to {MAX_TIMEOUT_MS}"),
                    ));
                }
            },
        };
        let retries = match take.0.remove("retries") {
            None => DEFAULT_RETRIES,
            Some(value) => match value.as_u64() {
                Some(retries) if retries <= MAX_RETRIES => retries as u32,
                _ => {
                    return Err(Problem::config_key(
                        "retries",
                        format!("retries must be a whole number from 0 to {MAX_RETRIES}"),
                    ));
                }
            },
        };
        let proxy = take.optional_string("proxy")?.map(Secret::new);
        if let Some(proxy) = &proxy {
            check_proxy(proxy)?;
        }
        let cache = match take.optional_string("cache")? {
            Some(value) => CacheSetting::parse(&value, "cache")?,
            None => CacheSetting::from_env()?,
        };
        let assertion_audience = match take.optional_string("assertion_audience")?.as_deref() {
            None | Some("token_endpoint") => AssertionAudience::TokenEndpoint,
            Some("issuer") if issuer.is_some() => AssertionAudience::Issuer,
            Some(_) => {
                return Err(Problem::config_key(
                    "assertion_audience",
                    "assertion_audience must be \"token_endpoint\" or, with an \"issuer\", \"issuer\"",
                ));
            }
        };
        let config = Config {
            shape,
            grant,
            client_id,
            client_secret,
            audience,
            token_url,
            authorize_url,
            device_authorization_url,
            redirect_uri,
            issuer,
            refresh_token,
            scope: take.optional_string("scope")?,
            client_auth,
            signing_key,
            client_identity,
            assertion_audience,
            body,
            timeout,
            retries,
            ca_file: take.optional_string("ca_file")?.map(PathBuf::from),
            proxy,
            cache,
            extra_params: take.extra_params(shape_keys)?,
        };
        Ok(config)
    }

    /// The secrets a request with this configuration carries, to scrub
    /// from what comes back: the client secret (also inside a Basic
    /// credential), the refresh token, the proxy URL, and every string in
    /// `extra_params` (assertions, passwords, API keys travel there).
    pub fn redaction(&self) -> Redaction {
        let mut redaction = Redaction::default();
        if let Some(secret) = &self.client_secret {
            redaction.add(secret.expose());
            let basic = basic_credential(&self.client_id, secret.expose());
            redaction.add_exact(basic.trim_start_matches("Basic "));
        }
        for secret in [&self.refresh_token, &self.proxy].into_iter().flatten() {
            redaction.add(secret.expose());
        }
        for text in self.extra_params.values().filter_map(Value::as_str) {
            redaction.add(text);
        }
        redaction
    }
}

impl Config {
    /// The `aud` of a client assertion.
    pub fn assertion_audience(&self) -> &str {
        match (self.assertion_audience, &self.issuer) {
            (AssertionAudience::Issuer, Some(issuer)) => issuer,
            _ => &self.token_url,
        }
    }

    /// The endpoint to send the browser to, or a problem naming what to set.
    pub fn require_redirect_uri(&self) -> Result<&str, Problem> {
        self.redirect_uri.as_deref().ok_or_else(|| {
            Problem::config_key(
                "redirect_uri",
                "the configuration is missing \"redirect_uri\", which the user flows need",
            )
        })
    }
}

/// Takes members out of the parsed object, checking their types.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Fields<'_> {
    fn optional_string(&mut self, key: &str) -> Result<Option<String>, Problem> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.is_empty() => {
                Err(Problem::config_key(key, format!("{key} must not be empty")))
            }
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(Problem::config_key(key, format!("{key} must be a string"))),
        }
    }

    /// An optional URL that credentials or codes travel to: https, or http
    /// to loopback only.
    fn optional_url(&mut self, key: &str) -> Result<Option<String>, Problem> {
        let url = self.optional_string(key)?;
        if let Some(url) = &url {
            check_url_is_safe(url, key)?;
        }
        Ok(url)
    }

    fn required_string(&mut self, key: &str) -> Result<String, Problem> {
        self.optional_string(key)?.ok_or_else(|| {
            Problem::config_key(key, format!("the configuration is missing \"{key}\""))
        })
    }

    fn extra_params(&mut self, shape_keys: &[&str]) -> Result<Map<String, Value>, Problem> {
        const KEY: &str = "extra_params";
        let params = match self.0.remove(KEY) {
            None | Some(Value::Null) => return Ok(Map::new()),
            Some(Value::Object(params)) => params,
            Some(_) => return Err(Problem::config_key(KEY, "extra_params must be an object")),
        };
        for (name, value) in &params {
            if shape_keys.contains(&name.as_str()) || name == "scope" {
                return Err(Problem::config_key(
                    KEY,
                    format!("extra_params may not set \"{name}\"; use the key of that name"),
                ));
            }
            if !(value.is_string() || value.is_number() || value.is_boolean()) {
                return Err(Problem::config_key(
                    KEY,
                    format!("extra_params.{name} must be a string, number or boolean"),
                ));
            }
        }
        Ok(params)
    }
}

fn detect_shape(members: &Map<String, Value>) -> Result<Shape, Problem> {
    let first_of =
        |keys: &[&'static str]| keys.iter().copied().find(|key| members.contains_key(*key));
    match (first_of(&AUTH0_KEYS), first_of(&COBUILDER_KEYS)) {
        (Some(auth0), Some(cobuilder)) => Err(Problem::config_key(
            cobuilder,
            format!(
                "the configuration mixes the Auth0 key \"{auth0}\" and the Cobuilder key \"{cobuilder}\"; use one shape"
            ),
        )),
        (_, Some(_)) => Ok(Shape::Cobuilder),
        (Some(_), None) => Ok(Shape::Auth0),
        (None, None) => Err(Problem::config_key(
            "client_id",
            "the configuration is missing \"client_id\" (or \"clientId\" for the Cobuilder shape)",
        )),
    }
}

fn unknown_key(key: &str, shape_keys: &[&str]) -> Problem {
    let closest = shape_keys
        .iter()
        .chain(COMMON_KEYS.iter())
        .map(|known| (edit_distance(key, known), *known))
        .min()
        .filter(|(distance, _)| *distance <= 2);
    let detail = match closest {
        Some((_, known)) => format!("unknown key \"{key}\"; did you mean \"{known}\"?"),
        None => format!("unknown key \"{key}\""),
    };
    Problem::config_key(key, detail)
}

/// Levenshtein distance, for "did you mean" on short key names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Refuses URLs that would carry credentials in clear text to another host.
pub(crate) fn check_url_is_safe(url: &str, key: &str) -> Result<(), Problem> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| Problem::config_key(key, format!("{key} is not a valid URL")))?;
    let host = uri
        .host()
        .ok_or_else(|| Problem::config_key(key, format!("{key} has no host")))?;
    // Where bearer itself sends a secret in clear, the host must be a
    // loopback address, not `localhost`, which is whatever the resolver
    // (or /etc/hosts) says (RFC 8252 8.3). A redirect URI is the browser's
    // to resolve, and servers register `http://localhost/...` ones.
    let loopback = ip_literal(host).is_some_and(|ip| ip.is_loopback())
        || (key == "redirect_uri" && host.eq_ignore_ascii_case("localhost"));
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if loopback => Ok(()),
        Some("http") if host.eq_ignore_ascii_case("localhost") => Err(Problem::new(
            ProblemKind::InsecureUrl,
            format!("{key} uses http:// to \"localhost\", which the resolver may send elsewhere; use http://127.0.0.1 or http://[::1]"),
        )
        .with_instance(format!("#/{key}"))
        .with_extension("key", key)),
        Some("http") => Err(Problem::new(
            ProblemKind::InsecureUrl,
            format!("{key} uses http:// to \"{host}\"; only https:// is allowed except to a loopback address"),
        )
        .with_instance(format!("#/{key}"))
        .with_extension("key", key)),
        _ => Err(Problem::config_key(key, format!("{key} must be an https:// URL"))),
    }
}

/// The address a URL host names literally (`127.0.0.1`, `[::1]`), if it does.
pub(crate) fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn check_proxy(proxy: &Secret) -> Result<(), Problem> {
    ureq::Proxy::new(proxy.expose())
        .map(drop)
        .map_err(|_| Problem::config_key("proxy", "proxy is not a valid proxy URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
        "client_id": "<client_id>",
        "client_secret": "<client_secret>",
        "audience": "https://beeapp.open-cosmos.com",
        "grant_type": "client_credentials"
    }"#;

    fn problem(text: &str) -> Problem {
        Config::from_json(text).expect_err("should be refused")
    }

    #[test]
    fn the_seed_file_parses_as_is() {
        let config = Config::from_json(SEED).unwrap();
        assert_eq!(config.shape, Shape::Auth0);
        assert_eq!(config.client_id, "<client_id>");
        assert_eq!(config.token_url, AUTH0_DEFAULT_TOKEN_URL);
        assert_eq!(
            config.audience.as_deref(),
            Some("https://beeapp.open-cosmos.com")
        );
        assert_eq!(config.body, BodyFormat::Json);
        assert_eq!(config.client_auth, ClientAuth::SecretPost);
        assert!(!format!("{config:?}").contains("<client_secret>"));
    }

    #[test]
    fn the_cobuilder_shape_parses_with_its_default_url() {
        let config = Config::from_json(
            r#"{"clientId":"a","clientSecret":"b","audienceUrl":"https://api.cobuilder.com"}"#,
        )
        .unwrap();
        assert_eq!(config.shape, Shape::Cobuilder);
        assert_eq!(config.token_url, COBUILDER_DEFAULT_TOKEN_URL);
    }

    #[test]
    fn a_misspelt_key_is_named_with_a_suggestion() {
        let problem = problem(r#"{"client_id":"a","client_secret":"b","audiance":"x"}"#);
        assert_eq!(problem.kind(), ProblemKind::InvalidConfig);
        assert_eq!(
            problem.detail(),
            "unknown key \"audiance\"; did you mean \"audience\"?"
        );
        assert_eq!(problem.instance(), "#/audiance");
    }

    #[test]
    fn a_missing_key_is_named() {
        let problem = problem(r#"{"clientId":"a","audienceUrl":"https://x"}"#);
        assert_eq!(
            problem.detail(),
            "the configuration is missing \"clientSecret\""
        );
        assert_eq!(problem.extensions()["key"], "clientSecret");
    }

    #[test]
    fn a_mistyped_secret_is_named_but_not_shown() {
        let problem = problem(r#"{"client_id":"a","client_secret":987654321}"#);
        assert_eq!(problem.detail(), "client_secret must be a string");
        assert!(!problem.to_json().contains("987654321"));
    }

    #[test]
    fn mixing_shapes_is_refused() {
        let problem = problem(r#"{"client_id":"a","clientSecret":"b"}"#);
        assert!(problem.detail().contains("mixes"), "{problem}");
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        let with_url = |url: &str| {
            Config::from_json(&format!(
                r#"{{"client_id":"a","client_secret":"b","token_url":"{url}"}}"#
            ))
        };
        assert!(with_url("http://127.0.0.1:8080/oauth/token").is_ok());
        let localhost = with_url("http://localhost/oauth/token").unwrap_err();
        assert_eq!(localhost.kind(), ProblemKind::InsecureUrl);
        assert!(localhost.detail().contains("127.0.0.1"), "{localhost}");
        assert!(with_url("http://[::1]:9/oauth/token").is_ok());
        let problem = with_url("http://login.open-cosmos.com/oauth/token").unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::InsecureUrl);
        assert_eq!(
            with_url("ftp://x/").unwrap_err().kind(),
            ProblemKind::InvalidConfig
        );
    }

    #[test]
    fn options_are_checked() {
        let base = r#""client_id":"a","client_secret":"b""#;
        let refused = |extra: &str| problem(&format!("{{{base},{extra}}}")).detail().to_owned();
        assert!(refused(r#""timeout_ms":0"#).contains("timeout_ms"));
        assert!(refused(r#""body":"xml""#).contains("\"xml\""));
        assert!(refused(r#""grant_type":"password""#).contains("password"));
        assert!(refused(r#""extra_params":{"client_secret":"x"}"#).contains("may not set"));
        assert!(refused(r#""client_auth":"client_secret_jwt""#).contains("client_auth"));
        let config = Config::from_json(&format!(
            r#"{{{base},"body":"form","client_auth":"client_secret_basic","timeout_ms":1500,"extra_params":{{"organization":"org_1"}}}}"#
        ))
        .unwrap();
        assert_eq!(config.body, BodyFormat::Form);
        assert_eq!(config.client_auth, ClientAuth::SecretBasic);
        assert_eq!(config.timeout, Duration::from_millis(1500));
        assert_eq!(config.extra_params["organization"], "org_1");
    }

    #[test]
    fn malformed_and_huge_input_is_refused() {
        assert!(problem("{").detail().contains("not valid JSON"));
        assert!(problem("[]").detail().contains("JSON object"));
        let huge = format!(r#"{{"client_id":"{}"}}"#, "x".repeat(MAX_CONFIG_BYTES));
        assert!(problem(&huge).detail().contains("at most"));
    }
}
