//! The Auth0 token endpoint: JSON and form bodies, `client_secret_basic`,
//! and the client credentials grant; the code and refresh grants are in
//! [`grants`](super::grants).

use std::sync::atomic::Ordering;

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, PAD_INDIFFERENT};

use super::assertion::verify_client_assertion;
use super::device::device_grant;
use super::grants::{code_grant, refresh_grant};
use super::json::{push_i64, push_json_str};
use super::knobs::Knobs;
use super::request::{Request, form_decode, is_json_media, media_type};
use super::response::Out;
use super::shared::Shared;
use super::tls::{CLIENT_CERT_PEM, SELF_SIGNED_PEM, first_der};
use super::tokens::{Holder, jwt, opaque_token};
use super::wire::Reply;
use super::{
    AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_DEFAULT_LIFETIME, AUTH0_SECOND_CLIENT_ID,
    AUTH0_SECOND_CLIENT_SECRET, DEMO_AUDIENCE, MTLS_CLIENT_ID, MTLS_SELF_SIGNED_CLIENT_ID,
};
use crate::secret::constant_time_eq;

/// Basic credentials arrive padded or not, depending on the client.
const BASIC_B64: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, PAD_INDIFFERENT);

#[derive(Default)]
pub(super) struct Auth0Params {
    pub(super) grant_type: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) code: Option<String>,
    pub(super) redirect_uri: Option<String>,
    pub(super) code_verifier: Option<String>,
    pub(super) refresh_token: Option<String>,
    pub(super) client_assertion_type: Option<String>,
    pub(super) client_assertion: Option<String>,
    pub(super) device_code: Option<String>,
    /// The client a verified client assertion authenticated.
    pub(super) asserted_client: Option<&'static str>,
}

/// The parameters [`Auth0Params`] reads; a JSON body must give them as strings.
const AUTH0_PARAM_NAMES: [&str; 12] = [
    "device_code",
    "client_assertion_type",
    "client_assertion",
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
            "client_assertion_type" => &mut self.client_assertion_type,
            "client_assertion" => &mut self.client_assertion,
            "device_code" => &mut self.device_code,
            _ => return,
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    }
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
            for (key, value) in form_urlencoded::parse(req.body) {
                params.set(&key, value.into_owned());
            }
        }
        Some(m) => return Err(format!("Unsupported Content-Type: {m}")),
        None => return Err("Missing Content-Type".to_string()),
    }
    Ok(params)
}

/// Client id and secret from `Authorization: Basic` (RFC 6749 2.3.1: each
/// form-urlencoded, then joined by `:`). Ok(None) when there is no Basic
/// header; Err when it is malformed.
pub(super) fn basic_credentials(
    authorization: Option<&str>,
) -> Result<Option<(String, String)>, ()> {
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

/// Whether the connection's client certificate is the one registered for
/// `client_id` (RFC 8705): the CA-issued `tests/tls/client.pem` stands for
/// its subject DN, the self-signed one is matched byte for byte. rustls
/// has checked the chain or the registration, and the key, already.
fn mutual_tls_client(client_id: &str, cert: Option<&[u8]>) -> bool {
    let registered = match client_id {
        MTLS_CLIENT_ID => CLIENT_CERT_PEM,
        MTLS_SELF_SIGNED_CLIENT_ID => SELF_SIGNED_PEM,
        _ => return false,
    };
    cert.is_some_and(|cert| cert == first_der(registered).as_slice())
}

pub(super) fn auth0_token(
    shared: &Shared,
    req: &Request<'_>,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
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

    if params.client_assertion_type.is_some() || params.client_assertion.is_some() {
        if params.client_secret.is_some() {
            return out.json_error(
                400,
                "invalid_request",
                "Multiple client authentication methods",
            );
        }
        let now = out.now();
        match verify_client_assertion(
            shared,
            params.client_assertion_type.as_deref(),
            params.client_assertion.as_deref(),
            params.client_id.as_deref(),
            req.secure,
            now,
        ) {
            Ok(client) => {
                params.client_id = Some(client.to_owned());
                params.asserted_client = Some(client);
            }
            Err(message) => return out.json_error(401, "invalid_client", &message),
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
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            return device_grant(shared, &params, knobs, out);
        }
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
    let secret_ok = params.asserted_client == Some(client_id)
        || mutual_tls_client(client_id, req.client_cert)
        || registered.is_some_and(|known| constant_time_eq(secret.as_bytes(), known.as_bytes()));
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
