//! What each `fault=` answers. The connection loop
//! ([`wire`](super::wire)) sends the byte-level ones: a drip, the
//! oversize body, a reset.

use super::REDIRECT_TARGET_PATH;
use super::knobs::Knobs;
use super::request::Request;
use super::response::Out;
use super::shared::Shared;
use super::wire::Reply;

/// Auth0's Retry-After on a rate-limited token request, in seconds.
const DEFAULT_RETRY_AFTER: u64 = 7;
pub(super) const OVERSIZE_TOKEN_LEN: usize = 2 * 1024 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    RateLimit,
    ServerError,
    Garbage,
    Html,
    Empty,
    Oversize,
    Stall,
    Drop,
    DropMidBody,
    Redirect,
    Echo,
    Unavailable,
    BadGateway,
    Drip,
    Reset,
}

const OVERSIZE_HEAD: &str = "{\"access_token\":\"";
pub(super) const OVERSIZE_TAIL: &str = "\",\"token_type\":\"Bearer\",\"expires_in\":3600}";

/// Returns None when the request should then be answered normally (a stall
/// that ran its course).
pub(super) fn apply_fault(
    shared: &Shared,
    fault: Fault,
    knobs: &Knobs,
    req: &Request<'_>,
    out: &mut Out,
) -> Option<Reply> {
    Some(match fault {
        Fault::RateLimit => {
            out.body.extend_from_slice(
                b"{\"error\":\"too_many_requests\",\"error_description\":\"Global limit has been reached\"}",
            );
            let retry_after = knobs
                .retry_after_value(knobs.retry_after.unwrap_or(DEFAULT_RETRY_AFTER), out.now());
            out.finish(429, "application/json", &[("Retry-After", &retry_after)])
        }
        Fault::ServerError => out.send(
            500,
            "text/html",
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
        ),
        // As a reverse proxy in front of the endpoint writes them.
        Fault::Unavailable => {
            out.body.extend_from_slice(
                b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n\
                  <body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n\
                  </body>\r\n</html>\r\n",
            );
            match knobs.retry_after {
                Some(seconds) => {
                    let retry_after = knobs.retry_after_value(seconds, out.now());
                    out.finish(503, "text/html", &[("Retry-After", &retry_after)])
                }
                None => out.finish(503, "text/html", &[]),
            }
        }
        Fault::BadGateway => out.send(
            502,
            "text/html",
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
             <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        ),
        // Answered normally; the connection loop sends the body slowly.
        Fault::Drip => return None,
        Fault::Reset => Reply::Reset,
        Fault::Garbage => out.send(200, "application/json", "{\"access_token\": "),
        Fault::Html => out.send(200, "text/html", "<html><body>Login</body></html>"),
        Fault::Empty => out.send(200, "application/json", ""),
        Fault::Oversize => {
            let len = OVERSIZE_HEAD.len() + OVERSIZE_TOKEN_LEN + OVERSIZE_TAIL.len();
            out.head(200, "application/json", &[], len);
            if out.head_only {
                return Some(Reply::Send);
            }
            out.buf.extend_from_slice(OVERSIZE_HEAD.as_bytes());
            Reply::Oversize
        }
        Fault::Stall => {
            if shared.stall(knobs.stall_ms) {
                return None;
            }
            Reply::Close
        }
        Fault::Drop => Reply::Close,
        Fault::DropMidBody => {
            out.close = true;
            out.head(200, "application/json", &[], 1000);
            // 20 of the promised 1000 bytes.
            out.buf.extend_from_slice(b"{\"access_token\":\"eyJ");
            Reply::SendThenClose
        }
        Fault::Redirect => {
            let location = format!("{}{REDIRECT_TARGET_PATH}", shared.base_for(req.secure));
            out.finish(knobs.redirect_status, "", &[("Location", &location)])
        }
        Fault::Echo => {
            let mut description = String::from("Bad request: ");
            description.push_str(&String::from_utf8_lossy(req.body));
            if let Some(auth) = req.authorization {
                description.push_str(" (Authorization: ");
                description.push_str(auth);
                description.push(')');
            }
            out.json_error(400, "invalid_request", &description)
        }
    })
}
