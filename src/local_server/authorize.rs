//! `GET /authorize`: the test user signs in and approves at once; codes
//! (PKCE `S256`), the implicit redirect, registered redirect URIs, and
//! errors sent back to the client.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::grants::{CodeGrant, user_audience};
use super::knobs::{Knobs, flag};
use super::request::Request;
use super::response::Out;
use super::shared::{Shared, lock};
use super::tokens::{Holder, jwt, opaque_token};
use super::wire::Reply;
use super::{AUTH0_CLIENT_ID, DEMO_AUDIENCE, JWT_CLIENT_ID, NATIVE_CLIENT_ID, WEB_REDIRECT_URI};

/// Auth0's default for tokens from the Implicit flow.
const IMPLICIT_DEFAULT_LIFETIME: i64 = 7_200;
/// Authorization codes are good for one minute, and one use.
const CODE_LIFETIME: Duration = Duration::from_secs(60);

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
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
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
                *slot = Some(value.into_owned());
            }
        }
        params
    }
}

/// The registered client of that id, as a `'static` name to keep in grants.
pub(super) fn user_flow_client(client_id: &str) -> Option<&'static str> {
    [AUTH0_CLIENT_ID, NATIVE_CLIENT_ID, JWT_CLIENT_ID]
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
pub(super) fn authorize(shared: &Shared, req: &Request<'_>, knobs: &Knobs, out: &mut Out) -> Reply {
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
