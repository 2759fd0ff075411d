//! A protected resource under `/api/`, as an API behind Auth0 answers:
//! tokens this server issued and still considers valid are accepted; the
//! rest get a 401 `invalid_token` (RFC 6750 3.1). The paths pick the case:
//!
//! - `/api/open`: no token needed; says whether one came.
//! - `/api/refuse...`: every token refused, valid or not.
//! - `/api/admin...`: needs the `admin` scope: a 403 `insufficient_scope`.
//! - `/api/redirect?to=URL`: a 302 to URL (form-encoded), no token needed.
//! - anything else: the token's `sub`, and the request echoed.
//!
//! `POST /_revoke` refuses every token issued so far from then on.

use std::sync::atomic::Ordering;

use super::json::{push_json_str, push_u64};
use super::request::{Request, form_decode};
use super::response::Out;
use super::shared::Shared;
use super::tokens::{TOKEN_SEQ, verify};
use super::wire::Reply;

pub(super) const API_PREFIX: &str = "/api/";
pub(super) const REVOKE_PATH: &str = "/_revoke";

pub(super) fn api(shared: &Shared, req: &Request<'_>, out: &mut Out) -> Reply {
    shared.api.fetch_add(1, Ordering::SeqCst);
    let path = &req.path[API_PREFIX.len() - 1..];
    if path == "/redirect" {
        let to = req
            .query
            .split('&')
            .find_map(|pair| pair.strip_prefix("to="))
            .map(|to| form_decode(to.as_bytes()))
            .filter(|to| to.bytes().all(|b| b.is_ascii_graphic()));
        return match to {
            Some(to) => {
                out.body.extend_from_slice(b"{\"redirect\":true}");
                out.finish(302, "application/json", &[("Location", &to)])
            }
            None => out.json_error(400, "invalid_request", "redirect needs to=URL"),
        };
    }
    let token = req.authorization.and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    if path == "/open" {
        return echo(req, None, token.is_some(), out);
    }
    let Some(token) = token else {
        // No credentials at all: a challenge without an error (RFC 6750 3.1).
        out.body.extend_from_slice(b"{\"error\":\"unauthorized\"}");
        return out.finish(
            401,
            "application/json",
            &[("WWW-Authenticate", "Bearer realm=\"api\"")],
        );
    };
    let now = out.now();
    let claims = verify(token).filter(|claims| claims.exp > now);
    let revoked = |seq: u64| seq < shared.revoked_before.load(Ordering::SeqCst);
    let claims = match claims {
        Some(claims) if !revoked(claims.seq) && !path.starts_with("/refuse") => claims,
        _ => {
            shared.api_refused.fetch_add(1, Ordering::SeqCst);
            out.body.extend_from_slice(b"{\"error\":\"invalid_token\"}");
            return out.finish(
                401,
                "application/json",
                &[(
                    "WWW-Authenticate",
                    "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token is expired, revoked or unknown\"",
                )],
            );
        }
    };
    let admin = claims
        .scope
        .as_deref()
        .is_some_and(|scope| scope.split(' ').any(|s| s == "admin"));
    if path.starts_with("/admin") && !admin {
        out.body
            .extend_from_slice(b"{\"error\":\"insufficient_scope\"}");
        return out.finish(
            403,
            "application/json",
            &[(
                "WWW-Authenticate",
                "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"admin\"",
            )],
        );
    }
    echo(req, Some(&claims.sub), true, out)
}

/// 200: `{"sub", "method", "path", "body", "authorization", "headers"}`,
/// the header names lowercased in the order sent.
fn echo(req: &Request<'_>, sub: Option<&str>, authorization: bool, out: &mut Out) -> Reply {
    let b = &mut out.body;
    b.extend_from_slice(b"{\"sub\":");
    match sub {
        Some(sub) => push_json_str(b, sub),
        None => b.extend_from_slice(b"null"),
    }
    b.extend_from_slice(b",\"method\":");
    push_json_str(b, req.method);
    b.extend_from_slice(b",\"path\":");
    push_json_str(b, req.path);
    b.extend_from_slice(b",\"body\":");
    push_json_str(b, &String::from_utf8_lossy(req.body));
    b.extend_from_slice(b",\"authorization\":");
    b.extend_from_slice(if authorization { b"true" } else { b"false" });
    b.extend_from_slice(b",\"headers\":[");
    let names = req.headers.split(|&byte| byte == b'\n').filter_map(|line| {
        line.iter()
            .position(|&byte| byte == b':')
            .map(|at| &line[..at])
    });
    for (i, name) in names.enumerate() {
        if i > 0 {
            b.push(b',');
        }
        push_json_str(b, &String::from_utf8_lossy(name).to_ascii_lowercase());
    }
    b.extend_from_slice(b"]}");
    out.finish(200, "application/json", &[])
}

/// `POST /_revoke`: every token issued so far is refused from now on.
pub(super) fn revoke(shared: &Shared, req: &Request<'_>, out: &mut Out) -> Reply {
    if req.method != "POST" {
        return out.finish_405("POST");
    }
    revoke_all(shared);
    let b = &mut out.body;
    b.extend_from_slice(b"{\"revoked_before\":");
    push_u64(b, shared.revoked_before.load(Ordering::SeqCst));
    b.push(b'}');
    out.finish(200, "application/json", &[])
}

pub(super) fn revoke_all(shared: &Shared) {
    shared
        .revoked_before
        .store(TOKEN_SEQ.load(Ordering::SeqCst), Ordering::SeqCst);
}
