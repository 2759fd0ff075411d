//! Routing: path to endpoint, the request counters, the helpers
//! (`/_stats`, `/healthz`, `/_redirect_target`, and `/api/` and
//! `/_revoke` in `resource.rs`), and the knobs applied
//! before an endpoint answers (`fail_first`, `fail_after`, faults).

use std::sync::atomic::Ordering;

use super::auth0::auth0_token;
use super::authorize::authorize;
use super::cobuilder::{PROBLEM_405, cobuilder_token};
use super::device::{DEVICE_PATH, DEVICE_SWITCH_PATH, device_code, device_switch};
use super::discovery::discovery;
use super::faults::{Fault, apply_fault};
use super::json::{push_json_str, push_u64};
use super::knobs::Knobs;
use super::request::Request;
use super::resource::{API_PREFIX, REVOKE_PATH, api, revoke};
use super::response::Out;
use super::shared::{Shared, lock};
use super::tokens::opaque_token;
use super::wire::Reply;
use super::{AUTH0_PATH, AUTHORIZE_PATH, COBUILDER_PATH, DISCOVERY_PATH, REDIRECT_TARGET_PATH};

pub(super) fn route(shared: &Shared, req: &Request<'_>, out: &mut Out) -> Reply {
    let endpoint = match req.path {
        AUTH0_PATH => {
            shared.auth0.fetch_add(1, Ordering::SeqCst);
            Endpoint::Auth0
        }
        COBUILDER_PATH => {
            shared.cobuilder.fetch_add(1, Ordering::SeqCst);
            Endpoint::Cobuilder
        }
        AUTHORIZE_PATH => {
            shared.authorize.fetch_add(1, Ordering::SeqCst);
            Endpoint::Authorize
        }
        DISCOVERY_PATH => {
            shared.discovery.fetch_add(1, Ordering::SeqCst);
            if !matches!(req.method, "GET" | "HEAD") {
                return out.finish_405("GET");
            }
            return discovery(shared, shared.base_for(req.secure), out);
        }
        path if path.starts_with(API_PREFIX) => return api(shared, req, out),
        REVOKE_PATH => return revoke(shared, req, out),
        DEVICE_PATH => return device_code(shared, req, out),
        DEVICE_SWITCH_PATH => return device_switch(shared, req, out),
        "/_stats" | "/healthz" if !matches!(req.method, "GET" | "HEAD") => {
            return out.finish_405("GET");
        }
        "/_stats" => {
            let b = &mut out.body;
            for (i, (name, counter)) in [
                ("auth0", &shared.auth0),
                ("cobuilder", &shared.cobuilder),
                ("authorize", &shared.authorize),
                ("refresh", &shared.refresh),
                ("discovery", &shared.discovery),
                ("redirect_target", &shared.redirect_target),
                ("connections", &shared.next_conn),
                ("api", &shared.api),
                ("api_refused", &shared.api_refused),
                ("device", &shared.device),
                ("device_polls", &shared.device_polls),
            ]
            .into_iter()
            .enumerate()
            {
                b.push(if i == 0 { b'{' } else { b',' });
                push_json_str(b, name);
                b.push(b':');
                push_u64(b, counter.load(Ordering::SeqCst));
            }
            b.push(b'}');
            return out.finish(200, "application/json", &[]);
        }
        "/healthz" => return out.send(200, "text/plain", "ok"),
        REDIRECT_TARGET_PATH => {
            shared.redirect_target.fetch_add(1, Ordering::SeqCst);
            let b = &mut out.body;
            b.extend_from_slice(b"{\"access_token\":");
            push_json_str(b, &opaque_token());
            b.extend_from_slice(b",\"token_type\":\"Bearer\",\"expires_in\":86400}");
            return out.finish(200, "application/json", &[]);
        }
        _ => return out.send(404, "application/json", "{\"error\":\"not_found\"}"),
    };

    let mut knobs = match Knobs::parse(req.query) {
        Ok(knobs) => knobs,
        Err(message) => return out.json_error(400, "invalid_request", &message),
    };
    out.clock_offset = knobs.date_offset;
    out.content_type = knobs.content_type.take();
    if knobs.fail_first.is_some() || knobs.fail_after.is_some() {
        let mut seen = lock(&shared.seen);
        let count = seen
            .entry(format!("{}?{}", req.path, req.query))
            .or_insert(0);
        *count += 1;
        let faulted = knobs.fail_first.is_none_or(|first| *count <= first)
            && knobs.fail_after.is_none_or(|after| *count > after);
        if !faulted {
            knobs.fault = None;
        }
    }
    match answer(shared, endpoint, req, &knobs, out) {
        Reply::Send if knobs.fault == Some(Fault::Drip) => Reply::Drip(knobs.drip_ms),
        reply => reply,
    }
}

/// The answer at a token path or `/authorize`, the knobs applied.
fn answer(
    shared: &Shared,
    endpoint: Endpoint,
    req: &Request<'_>,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    if let Some(fault) = knobs.fault
        && let Some(reply) = apply_fault(shared, fault, knobs, req, out)
    {
        return reply;
    }
    if let Endpoint::Authorize = endpoint {
        if !matches!(req.method, "GET" | "HEAD") {
            return out.finish_405("GET");
        }
        return authorize(shared, req, knobs, out);
    }
    if req.method != "POST" {
        return match endpoint {
            Endpoint::Auth0 | Endpoint::Authorize => {
                out.body.extend_from_slice(
                    b"{\"error\":\"method_not_allowed\",\"error_description\":\"Use POST\"}",
                );
                out.finish(405, "application/json", &[("Allow", "POST")])
            }
            Endpoint::Cobuilder => {
                out.problem(405, PROBLEM_405, "Method Not Allowed", "Use POST.", true)
            }
        };
    }
    match endpoint {
        Endpoint::Auth0 | Endpoint::Authorize => auth0_token(shared, req, knobs, out),
        Endpoint::Cobuilder => cobuilder_token(shared, req, knobs, out),
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    Auth0,
    Cobuilder,
    Authorize,
}
