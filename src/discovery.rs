//! OpenID Connect discovery (OIDC Discovery 1.0, RFC 8414): the endpoints an
//! `issuer` publishes at `/.well-known/openid-configuration`, read once per
//! issuer, trust settings and process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

use crate::config::{Config, Grant, check_url_is_safe};
use crate::fork::{self, PerProcess};
use crate::http;
use crate::problem::{Problem, ProblemKind};
use crate::secret::Secret;

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

#[derive(Clone)]
struct Endpoints {
    token: String,
    /// `mtls_endpoint_aliases.token_endpoint` (RFC 8705 5): where a
    /// mutual-TLS client asks instead.
    mtls_token: Option<String>,
    /// `device_authorization_endpoint` (RFC 8628 4).
    device_authorization: Option<String>,
    authorize: Option<String>,
    /// The document's `issuer`, as written: what RFC 9207's `iss` must equal.
    issuer: String,
    /// `authorization_response_iss_parameter_supported`: every callback
    /// must then carry `iss` (RFC 9207 2.4).
    sends_iss: bool,
}

/// What an issuer's discovery document said about the callback's `iss`.
pub(crate) struct IssuerFacts {
    pub issuer: String,
    pub sends_iss: bool,
}

/// Whose document it is and how it was fetched: a configuration with other
/// CA roots or another proxy never uses endpoints it did not fetch itself.
#[derive(Clone, PartialEq, Eq, Hash)]
struct DocumentKey {
    issuer: String,
    ca_file: Option<PathBuf>,
    proxy: Option<Secret>,
}

impl DocumentKey {
    fn for_config(config: &Config) -> Option<DocumentKey> {
        Some(DocumentKey {
            issuer: config.issuer.clone()?,
            ca_file: config.ca_file.clone(),
            proxy: config.proxy.clone(),
        })
    }
}

/// The configured issuer's document, when this process has read it.
pub(crate) fn known_issuer(config: &Config) -> Option<IssuerFacts> {
    let key = DocumentKey::for_config(config)?;
    let endpoints = lock().as_ref()?.get(&key)?.clone();
    Some(IssuerFacts {
        issuer: endpoints.issuer,
        sends_iss: endpoints.sends_iss,
    })
}

type Documents = Mutex<Option<HashMap<DocumentKey, Endpoints>>>;

/// A forked child starts with the parent's documents when their lock is free.
static DOCUMENTS: PerProcess<Documents> = PerProcess::new();

/// Fills the endpoints the configuration left to its issuer. Explicit
/// `token_url` and `authorize_url` win over the document.
pub fn resolve(config: &mut Config) -> Result<(), Problem> {
    let Some(key) = DocumentKey::for_config(config) else {
        return Ok(());
    };
    let device_url_missing =
        config.grant == Grant::DeviceCode && config.device_authorization_url.is_empty();
    if !config.token_url.is_empty() && !config.authorize_url.is_empty() && !device_url_missing {
        return Ok(());
    }
    let known = lock().as_ref().and_then(|map| map.get(&key).cloned());
    let endpoints = match known {
        Some(endpoints) => endpoints,
        None => {
            let endpoints = fetch(config, &key.issuer)?;
            lock()
                .get_or_insert_with(HashMap::new)
                .insert(key, endpoints.clone());
            endpoints
        }
    };
    if config.token_url.is_empty() {
        config.token_url = match endpoints.mtls_token {
            Some(alias) if config.client_auth.is_mutual_tls() => alias,
            _ => endpoints.token,
        };
    }
    if config.authorize_url.is_empty()
        && let Some(authorize) = endpoints.authorize
    {
        config.authorize_url = authorize;
    }
    if config.device_authorization_url.is_empty()
        && let Some(device) = endpoints.device_authorization
    {
        config.device_authorization_url = device;
    }
    Ok(())
}

/// Forgets every document read (for leak checkers at exit, and tests).
pub fn clear() {
    *lock() = None;
}

fn lock() -> std::sync::MutexGuard<'static, Option<HashMap<DocumentKey, Endpoints>>> {
    DOCUMENTS
        .get(|parents| Mutex::new(fork::inherit(parents)))
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn fetch(config: &Config, issuer: &str) -> Result<Endpoints, Problem> {
    let url = format!("{}{WELL_KNOWN}", issuer.trim_end_matches('/'));
    let instance = http::endpoint_for_display(&url);
    let agent = http::agent_for(config)?;
    let answer = http::get(&agent, config, &url)?;
    if answer.status != 200 {
        return Err(Problem::new(
            ProblemKind::UpstreamError,
            format!(
                "the discovery document could not be read: the issuer answered {}",
                answer.status
            ),
        )
        .with_instance(instance)
        .with_extension("upstream_status", answer.status));
    }
    let invalid = |detail: &str| {
        Problem::new(
            ProblemKind::InvalidResponse,
            format!("the discovery document {detail}"),
        )
        .with_instance(instance.clone())
    };
    let Ok(Value::Object(document)) = serde_json::from_slice::<Value>(&answer.body) else {
        return Err(invalid("is not a JSON object"));
    };
    let text = |name: &str| document.get(name).and_then(Value::as_str);
    // OIDC Discovery 4.3: the document must name the issuer it was asked for.
    let Some(named) =
        text("issuer").filter(|named| named.trim_end_matches('/') == issuer.trim_end_matches('/'))
    else {
        return Err(invalid("names another issuer"));
    };
    let endpoint = |name: &str| -> Result<Option<String>, Problem> {
        let Some(url) = text(name) else {
            return Ok(None);
        };
        check_url_is_safe(url, name).map_err(|_| invalid(&format!("has an unsafe {name}")))?;
        Ok(Some(url.to_owned()))
    };
    let mtls_token = match document
        .get("mtls_endpoint_aliases")
        .and_then(|aliases| aliases.get("token_endpoint"))
        .and_then(Value::as_str)
    {
        Some(url) => {
            check_url_is_safe(url, "mtls_endpoint_aliases")
                .map_err(|_| invalid("has an unsafe mtls_endpoint_aliases.token_endpoint"))?;
            Some(url.to_owned())
        }
        None => None,
    };
    Ok(Endpoints {
        token: endpoint("token_endpoint")?.ok_or_else(|| invalid("has no token_endpoint"))?,
        mtls_token,
        device_authorization: endpoint("device_authorization_endpoint")?,
        authorize: endpoint("authorization_endpoint")?,
        issuer: named.to_owned(),
        sends_iss: document
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}
