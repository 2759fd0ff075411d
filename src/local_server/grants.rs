//! The user-flow grants at the Auth0 token endpoint: `authorization_code`
//! (PKCE) and `refresh_token` (with rotation), and the tokens they answer
//! with.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::auth0::Auth0Params;
use super::authorize::user_flow_client;
use super::json::{push_i64, push_json_str};
use super::knobs::Knobs;
use super::response::Out;
use super::shared::{Shared, lock};
use super::tokens::{Holder, id_token, jwt, opaque_token};
use super::wire::Reply;
use super::{AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_DEFAULT_LIFETIME, JWT_CLIENT_ID};
use crate::secret::constant_time_eq;

/// What an authorization code stands for, until its one use.
pub(super) struct CodeGrant {
    pub(super) client_id: &'static str,
    pub(super) redirect_uri: String,
    pub(super) code_challenge: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) expires: Instant,
}

/// What a refresh token stands for, until it is rotated.
pub(super) struct RefreshGrant {
    client_id: &'static str,
    scope: Option<String>,
    audience: Option<String>,
}

/// The audience of a user token: as asked, else the userinfo endpoint, as
/// Auth0 does.
pub(super) fn user_audience(shared: &Shared, audience: Option<&str>) -> String {
    audience.map_or_else(|| format!("{}/userinfo", shared.base_url), str::to_string)
}

fn has_scope(scope: Option<&str>, wanted: &str) -> bool {
    scope.is_some_and(|s| s.split(' ').any(|t| t == wanted))
}

/// Client authentication for the user-flow grants: the confidential
/// client with its secret, the public client with none. Err is the answer.
pub(super) fn user_flow_client_auth(
    params: &Auth0Params,
    out: &mut Out,
) -> Result<&'static str, Reply> {
    let Some(client_id) = params.client_id.as_deref() else {
        return Err(out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: client_id",
        ));
    };
    let secret = params.client_secret.as_deref();
    let authenticated = match user_flow_client(client_id) {
        Some(AUTH0_CLIENT_ID) => {
            secret.is_some_and(|s| constant_time_eq(s.as_bytes(), AUTH0_CLIENT_SECRET.as_bytes()))
        }
        Some(JWT_CLIENT_ID) => params.asserted_client == Some(JWT_CLIENT_ID),
        Some(_) => secret.is_none(),
        None => false,
    };
    match user_flow_client(client_id) {
        Some(client) if authenticated => Ok(client),
        _ => Err(out.json_error(401, "access_denied", "Unauthorized")),
    }
}

fn is_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `grant_type=authorization_code` (RFC 6749 4.1.3, RFC 7636 4.6).
pub(super) fn code_grant(
    shared: &Shared,
    params: &Auth0Params,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    const INVALID_CODE: &str = "Invalid authorization code";
    let client_id = match user_flow_client_auth(params, out) {
        Ok(client_id) => client_id,
        Err(reply) => return reply,
    };
    let Some(code) = params.code.as_deref() else {
        return out.json_error(400, "invalid_request", "Missing required parameter: code");
    };
    // Presenting a code uses it up, whatever comes next.
    let grant = lock(&shared.codes).remove(code);
    let Some(grant) = grant.filter(|g| g.expires > Instant::now()) else {
        return out.json_error(403, "invalid_grant", INVALID_CODE);
    };
    if grant.client_id != client_id {
        return out.json_error(403, "invalid_grant", INVALID_CODE);
    }
    if params.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return out.json_error(403, "invalid_grant", "Unauthorized redirect_uri");
    }
    let verifier = params.code_verifier.as_deref();
    if let Some(verifier) = verifier
        && !is_code_verifier(verifier)
    {
        return out.json_error(
            400,
            "invalid_request",
            "Invalid code_verifier: 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        );
    }
    let pkce_ok = match (grant.code_challenge.as_deref(), verifier) {
        (None, None) => true,
        (Some(challenge), Some(verifier)) => {
            let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            constant_time_eq(digest.as_bytes(), challenge.as_bytes())
        }
        // A verifier for a code issued without a challenge is a downgrade.
        _ => false,
    };
    if !pkce_ok {
        return out.json_error(403, "invalid_grant", "Failed PKCE verification");
    }
    let issue = Issue {
        client_id,
        audience: grant.audience.as_deref(),
        granted_scope: grant.scope.as_deref(),
        scope: grant.scope.as_deref(),
        nonce: grant.nonce.as_deref(),
    };
    user_tokens(shared, &issue, knobs, out)
}

/// `grant_type=refresh_token` with rotation (RFC 6749 6, RFC 9700 4.14.2).
pub(super) fn refresh_grant(
    shared: &Shared,
    params: &Auth0Params,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    const INVALID_REFRESH: &str = "Unknown or invalid refresh token.";
    let client_id = match user_flow_client_auth(params, out) {
        Ok(client_id) => client_id,
        Err(reply) => return reply,
    };
    let Some(refresh_token) = params.refresh_token.as_deref() else {
        return out.json_error(
            400,
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
    };
    let asked = params.scope.as_deref();
    let grant = {
        let mut tokens = lock(&shared.refresh_tokens);
        match tokens.get(refresh_token) {
            None => None,
            Some(grant) if grant.client_id != client_id => None,
            // A narrower scope may be asked for this access token (the new
            // refresh token keeps the whole grant); a wider one is refused
            // without using the refresh token up.
            Some(grant)
                if asked.is_some_and(|asked| {
                    !asked
                        .split(' ')
                        .filter(|t| !t.is_empty())
                        .all(|t| has_scope(grant.scope.as_deref(), t))
                }) =>
            {
                return out.json_error(
                    403,
                    "invalid_scope",
                    "The requested scope exceeds the scope granted by the resource owner",
                );
            }
            Some(_) => tokens.remove(refresh_token),
        }
    };
    let Some(grant) = grant else {
        return out.json_error(403, "invalid_grant", INVALID_REFRESH);
    };
    let issue = Issue {
        client_id,
        audience: grant.audience.as_deref(),
        granted_scope: grant.scope.as_deref(),
        scope: asked.or(grant.scope.as_deref()),
        nonce: None,
    };
    user_tokens(shared, &issue, knobs, out)
}

/// What the code and refresh grants answer with.
pub(super) struct Issue<'a> {
    pub(super) client_id: &'static str,
    /// As asked at `/authorize`; None means the userinfo audience.
    pub(super) audience: Option<&'a str>,
    /// What the user granted, and a new refresh token stands for.
    pub(super) granted_scope: Option<&'a str>,
    /// What this access token carries.
    pub(super) scope: Option<&'a str>,
    pub(super) nonce: Option<&'a str>,
}

/// The token answer of the code and refresh grants.
pub(super) fn user_tokens(
    shared: &Shared,
    issue: &Issue<'_>,
    knobs: &Knobs,
    out: &mut Out,
) -> Reply {
    let Issue {
        client_id, scope, ..
    } = *issue;
    let audience = &user_audience(shared, issue.audience);
    let lifetime = knobs.expires_in.unwrap_or(AUTH0_DEFAULT_LIFETIME);
    let now = out.now();
    let access_token = if knobs.opaque {
        opaque_token()
    } else {
        jwt(
            now,
            &shared.base_url,
            Holder::User { client_id },
            audience,
            lifetime,
            scope,
        )
    };
    let b = &mut out.body;
    b.extend_from_slice(b"{\"access_token\":");
    push_json_str(b, &access_token);
    if has_scope(scope, "openid") {
        b.extend_from_slice(b",\"id_token\":");
        push_json_str(b, &id_token(now, &shared.base_url, client_id, issue.nonce));
    }
    if has_scope(issue.granted_scope, "offline_access") {
        let refresh_token = opaque_token();
        b.extend_from_slice(b",\"refresh_token\":");
        push_json_str(b, &refresh_token);
        lock(&shared.refresh_tokens).insert(
            refresh_token,
            RefreshGrant {
                client_id,
                scope: issue.granted_scope.map(str::to_string),
                audience: issue.audience.map(str::to_string),
            },
        );
    }
    if let Some(scope) = scope {
        b.extend_from_slice(b",\"scope\":");
        push_json_str(b, scope);
    }
    if !knobs.omit_expires_in && !knobs.opaque {
        b.extend_from_slice(b",\"expires_in\":");
        push_i64(b, lifetime);
    }
    b.extend_from_slice(b",\"token_type\":");
    push_json_str(b, knobs.token_type());
    b.push(b'}');
    out.finish(
        200,
        "application/json",
        &[("Cache-Control", "no-store"), ("Pragma", "no-cache")],
    )
}
