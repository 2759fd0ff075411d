//! The Cobuilder token endpoint: a JSON body (or Basic credentials) in,
//! the token as a JSON string or plain text out, RFC 9457 problems on
//! failure.

use super::auth0::basic_credentials;
use super::json::push_json_str;
use super::knobs::Knobs;
use super::request::{Request, is_json_media, media_type};
use super::response::Out;
use super::shared::Shared;
use super::tokens::{Holder, jwt, opaque_token};
use super::wire::Reply;
use super::{COBUILDER_AUDIENCE, COBUILDER_CLIENT_ID, COBUILDER_CLIENT_SECRET};
use crate::secret::constant_time_eq;

const COBUILDER_DEFAULT_LIFETIME: i64 = 3_600;
const PROBLEM_400: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.1";
const PROBLEM_401: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.2";
pub(super) const PROBLEM_405: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.6";
const PROBLEM_415: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.16";

pub(super) fn cobuilder_token(
    shared: &Shared,
    req: &Request<'_>,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    const VALIDATION: &str = "One or more validation errors occurred.";
    if let Some(media) = req.content_type.map(media_type)
        && !is_json_media(media)
    {
        let detail = format!("Unsupported Content-Type \"{media}\".");
        return out.problem(415, PROBLEM_415, "Unsupported Media Type", &detail, true);
    }
    if req.body.trim_ascii().is_empty() {
        return out.problem(
            400,
            PROBLEM_400,
            VALIDATION,
            "A non-empty request body is required.",
            true,
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(req.body) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            return out.problem(
                400,
                PROBLEM_400,
                VALIDATION,
                "The request body is not valid JSON.",
                true,
            );
        }
    };
    let basic = basic_credentials(req.authorization).ok().flatten();
    let mut fields: [Option<&str>; 3] = [None; 3];
    for (slot, name) in fields
        .iter_mut()
        .zip(["clientId", "clientSecret", "audienceUrl"])
    {
        match value.get(name) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => {
                *slot = Some(s.as_str()).filter(|s| !s.is_empty())
            }
            Some(_) => {
                let detail = format!("The {name} field must be a string.");
                return out.problem(400, PROBLEM_400, VALIDATION, &detail, true);
            }
        }
    }
    if let Some((id, secret)) = &basic {
        fields[0] = fields[0].or(Some(id.as_str()).filter(|s| !s.is_empty()));
        fields[1] = fields[1].or(Some(secret.as_str()).filter(|s| !s.is_empty()));
    }
    let [Some(client_id), Some(secret), Some(audience)] = fields else {
        let missing = ["clientId", "clientSecret", "audienceUrl"]
            .iter()
            .zip(fields)
            .find(|(_, v)| v.is_none())
            .map_or("clientId", |(name, _)| name);
        let detail = format!("The {missing} field is required.");
        return out.problem(400, PROBLEM_400, VALIDATION, &detail, true);
    };
    let secret_ok = constant_time_eq(secret.as_bytes(), COBUILDER_CLIENT_SECRET.as_bytes());
    if client_id != COBUILDER_CLIENT_ID || !secret_ok {
        return out.problem(
            401,
            PROBLEM_401,
            "Unauthorized",
            "Invalid client credentials.",
            false,
        );
    }
    if audience != COBUILDER_AUDIENCE {
        let detail = format!("Unknown audience \"{audience}\".");
        return out.problem(400, PROBLEM_400, "Invalid audience", &detail, true);
    }

    let lifetime = knobs.expires_in.unwrap_or(COBUILDER_DEFAULT_LIFETIME);
    let token = if knobs.opaque {
        opaque_token()
    } else {
        jwt(
            out.now(),
            &shared.base_url,
            Holder::Client(client_id),
            audience,
            lifetime,
            None,
        )
    };
    if knobs.plain {
        out.body.extend_from_slice(token.as_bytes());
        out.finish(200, "text/plain", &[])
    } else {
        push_json_str(&mut out.body, &token);
        out.finish(200, "application/json", &[])
    }
}
