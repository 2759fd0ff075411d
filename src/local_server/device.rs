//! The device authorization grant (RFC 8628) as Auth0 runs it:
//! `POST /oauth/device/code` hands out a device code and a user code, the
//! token path answers `authorization_pending` until the user acts, and
//! `POST /_device?user_code=...&action=approve|deny|slow_down` is the user.
//!
//! Query switches on the device path: `interval=N` (seconds between polls,
//! 5 by default; a poll sooner is answered `slow_down`, as Auth0 does) and
//! `expires_in=N` (the codes' lifetime, 900 s by default).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::auth0::Auth0Params;
use super::authorize::user_flow_client;
use super::grants::{Issue, user_flow_client_auth, user_tokens};
use super::json::{push_json_parts, push_json_str, push_u64};
use super::knobs::Knobs;
use super::request::Request;
use super::response::Out;
use super::shared::{Shared, lock};
use super::tokens::opaque_token;
use super::wire::Reply;

pub(super) const DEVICE_PATH: &str = "/oauth/device/code";
pub(super) const DEVICE_SWITCH_PATH: &str = "/_device";
const ACTIVATE_PATH: &str = "/activate";
const DEFAULT_INTERVAL: u64 = 5;
const DEFAULT_LIFETIME: u64 = 900;

/// A device code until it is exchanged, denied or expired.
pub(super) struct DeviceGrant {
    user_code: String,
    client_id: &'static str,
    scope: Option<String>,
    audience: Option<String>,
    expires: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    state: DeviceState,
    slow_down_next: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DeviceState {
    Pending,
    Approved,
    Denied,
}

/// `POST /oauth/device/code`: form `client_id`, `scope`, `audience`.
pub(super) fn device_code(shared: &Shared, req: &Request<'_>, out: &mut Out) -> Reply {
    shared.device.fetch_add(1, Ordering::SeqCst);
    if req.method != "POST" {
        return out.finish_405("POST");
    }
    let mut interval = DEFAULT_INTERVAL;
    let mut lifetime = DEFAULT_LIFETIME;
    for (key, value) in form_urlencoded::parse(req.query.as_bytes()) {
        let number = value.parse::<u64>();
        match (&*key, number) {
            ("interval", Ok(n)) => interval = n,
            ("expires_in", Ok(n)) => lifetime = n,
            ("interval" | "expires_in", Err(_)) => {
                return out.json_error(400, "invalid_request", "Invalid test parameter");
            }
            _ => {}
        }
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(req.body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.clone())
    };
    let Some(client_id) = field("client_id").as_deref().and_then(user_flow_client) else {
        return out.json_error(401, "unauthorized_client", "Unknown client");
    };
    let device_code = opaque_token();
    let user_code = user_code(&device_code);
    lock(&shared.devices).insert(
        device_code.clone(),
        DeviceGrant {
            user_code: user_code.clone(),
            client_id,
            scope: field("scope"),
            audience: field("audience"),
            expires: Instant::now() + Duration::from_secs(lifetime),
            interval: Duration::from_secs(interval),
            last_poll: None,
            state: DeviceState::Pending,
            slow_down_next: false,
        },
    );
    let base = shared.base_for(req.secure);
    let b = &mut out.body;
    b.extend_from_slice(b"{\"device_code\":");
    push_json_str(b, &device_code);
    b.extend_from_slice(b",\"user_code\":");
    push_json_str(b, &user_code);
    b.extend_from_slice(b",\"verification_uri\":");
    push_json_parts(b, &[base, ACTIVATE_PATH]);
    b.extend_from_slice(b",\"verification_uri_complete\":");
    push_json_parts(b, &[base, ACTIVATE_PATH, "?user_code=", &user_code]);
    b.extend_from_slice(b",\"expires_in\":");
    push_u64(b, lifetime);
    b.extend_from_slice(b",\"interval\":");
    push_u64(b, interval);
    b.push(b'}');
    out.finish(200, "application/json", &[])
}

/// Eight letters a person can type, from the device code: `ABCD-EFGH`.
fn user_code(device_code: &str) -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::with_capacity(9);
    for (i, byte) in device_code.bytes().take(8).enumerate() {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(LETTERS[usize::from(byte) % LETTERS.len()]));
    }
    code
}

/// `POST /_device?user_code=...&action=approve|deny|slow_down`: what the
/// user does at the verification URI.
pub(super) fn device_switch(shared: &Shared, req: &Request<'_>, out: &mut Out) -> Reply {
    if req.method != "POST" {
        return out.finish_405("POST");
    }
    let query: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let get = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(user_code), Some(action)) = (get("user_code"), get("action")) else {
        return out.json_error(400, "invalid_request", "user_code and action are required");
    };
    if !matches!(action, "approve" | "deny" | "slow_down") {
        return out.json_error(400, "invalid_request", "action: approve, deny or slow_down");
    }
    if !act(shared, user_code, action) {
        return out.json_error(404, "not_found", "Unknown user_code");
    }
    out.send(200, "application/json", "{\"ok\":true}")
}

/// The user's action on the code `user_code`; false when there is none.
pub(super) fn act(shared: &Shared, user_code: &str, action: &str) -> bool {
    let mut devices = lock(&shared.devices);
    let Some(grant) = devices
        .values_mut()
        .find(|grant| grant.user_code == user_code)
    else {
        return false;
    };
    match action {
        "approve" => grant.state = DeviceState::Approved,
        "deny" => grant.state = DeviceState::Denied,
        "slow_down" => grant.slow_down_next = true,
        _ => return false,
    }
    true
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` at the token
/// path: Auth0's answers, 403 with `authorization_pending`, `slow_down`,
/// `expired_token` or `access_denied`, until the approved code is exchanged.
pub(super) fn device_grant(
    shared: &Shared,
    params: &Auth0Params,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    shared.device_polls.fetch_add(1, Ordering::SeqCst);
    let client_id = match user_flow_client_auth(params, out) {
        Ok(client_id) => client_id,
        Err(reply) => return reply,
    };
    let Some(device_code) = params.device_code.as_deref() else {
        return out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: device_code",
        );
    };
    let mut devices = lock(&shared.devices);
    let Some(grant) = devices.get_mut(device_code) else {
        return out.json_error(403, "invalid_grant", "Invalid or expired device code.");
    };
    if client_id != grant.client_id {
        return out.json_error(403, "invalid_grant", "Invalid or expired device code.");
    }
    let now = Instant::now();
    if now >= grant.expires {
        devices.remove(device_code);
        return out.json_error(403, "expired_token", "The device code has expired.");
    }
    let too_soon = grant
        .last_poll
        .is_some_and(|last| now.duration_since(last) < grant.interval);
    grant.last_poll = Some(now);
    if std::mem::take(&mut grant.slow_down_next) || too_soon {
        grant.interval += Duration::from_secs(5);
        return out.json_error(429, "slow_down", "You are polling faster than allowed.");
    }
    match grant.state {
        DeviceState::Pending => out.json_error(
            403,
            "authorization_pending",
            "User has yet to authorize device code.",
        ),
        DeviceState::Denied => {
            devices.remove(device_code);
            out.json_error(403, "access_denied", "User refused the request.")
        }
        DeviceState::Approved => {
            let Some(grant) = devices.remove(device_code) else {
                return out.json_error(403, "invalid_grant", "Invalid or expired device code.");
            };
            drop(devices);
            let issue = Issue {
                client_id: grant.client_id,
                audience: grant.audience.as_deref(),
                granted_scope: grant.scope.as_deref(),
                scope: grant.scope.as_deref(),
                nonce: None,
            };
            user_tokens(shared, &issue, knobs, out)
        }
    }
}
