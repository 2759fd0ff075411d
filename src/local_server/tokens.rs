//! The tokens the server issues: JWT-shaped access and ID tokens (a hash
//! stands in for the signature) and opaque tokens, unique per process.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::TEST_USER;
use super::json::{push_hex, push_i64, push_json_parts, push_json_str};

/// Auth0's default ID token lifetime.
const ID_TOKEN_LIFETIME: i64 = 36_000;
/// base64url of `{"alg":"RS256","typ":"JWT"}`.
const JWT_HEADER: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";

/// Process-wide, so tokens from two servers in one process never collide.
pub(super) static TOKEN_SEQ: AtomicU64 = AtomicU64::new(1);

/// Differs per process, so a restarted `bearer serve` never reissues a token.
pub(super) fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        nanos ^ (u64::from(std::process::id()) << 32)
    })
}

/// Whom an access token is for: a client (client credentials) or the test
/// user signed in through a client (the user flows).
#[derive(Clone, Copy)]
pub(super) enum Holder<'a> {
    Client(&'a str),
    User { client_id: &'a str },
}

/// A JWT-shaped access token issued at `now`, the server's clock
/// (unsigned in substance: the signature is a hash, since clients only
/// read claims, never verify them). A client's token says `gty: client-credentials`; a user's has `azp`, the client.
pub(super) fn jwt(
    now: i64,
    base_url: &str,
    holder: Holder<'_>,
    audience: &str,
    lifetime: i64,
    scope: Option<&str>,
) -> String {
    let seq = TOKEN_SEQ.fetch_add(1, Ordering::Relaxed);
    let mut payload = Vec::with_capacity(256);
    payload.extend_from_slice(b"{\"iss\":");
    push_json_parts(&mut payload, &[base_url, "/"]);
    payload.extend_from_slice(b",\"sub\":");
    match holder {
        Holder::Client(client_id) => push_json_parts(&mut payload, &[client_id, "@clients"]),
        Holder::User { .. } => push_json_str(&mut payload, TEST_USER),
    }
    payload.extend_from_slice(b",\"aud\":");
    push_json_str(&mut payload, audience);
    payload.extend_from_slice(b",\"iat\":");
    push_i64(&mut payload, now);
    payload.extend_from_slice(b",\"exp\":");
    push_i64(&mut payload, now.saturating_add(lifetime));
    if let Some(scope) = scope {
        payload.extend_from_slice(b",\"scope\":");
        push_json_str(&mut payload, scope);
    }
    match holder {
        Holder::Client(_) => payload.extend_from_slice(b",\"gty\":\"client-credentials\""),
        Holder::User { client_id } => {
            payload.extend_from_slice(b",\"azp\":");
            push_json_str(&mut payload, client_id);
        }
    }
    payload.extend_from_slice(b",\"jti\":\"");
    push_hex(&mut payload, process_seed());
    push_hex(&mut payload, seq);
    payload.extend_from_slice(b"\"}");
    seal(&payload)
}

/// A JWT-shaped OpenID Connect ID token for [`TEST_USER`].
pub(super) fn id_token(now: i64, base_url: &str, client_id: &str, nonce: Option<&str>) -> String {
    let mut payload = Vec::with_capacity(256);
    payload.extend_from_slice(b"{\"iss\":");
    push_json_parts(&mut payload, &[base_url, "/"]);
    payload.extend_from_slice(b",\"sub\":");
    push_json_str(&mut payload, TEST_USER);
    payload.extend_from_slice(b",\"aud\":");
    push_json_str(&mut payload, client_id);
    payload.extend_from_slice(b",\"iat\":");
    push_i64(&mut payload, now);
    payload.extend_from_slice(b",\"exp\":");
    push_i64(&mut payload, now.saturating_add(ID_TOKEN_LIFETIME));
    if let Some(nonce) = nonce {
        payload.extend_from_slice(b",\"nonce\":");
        push_json_str(&mut payload, nonce);
    }
    payload.push(b'}');
    seal(&payload)
}

/// Header, base64url payload and a hash standing in for a signature.
fn seal(payload: &[u8]) -> String {
    let mut token = String::with_capacity(512);
    token.push_str(JWT_HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = signature(&token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

fn signature(signed: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(process_seed().to_le_bytes())
        .chain_update(signed.as_bytes())
        .finalize()
        .into()
}

/// What the protected resource reads of an access token this process issued.
pub(super) struct Claims {
    pub(super) sub: String,
    pub(super) exp: i64,
    pub(super) scope: Option<String>,
    /// Its place in [`TOKEN_SEQ`]: issue order, for revocation.
    pub(super) seq: u64,
}

/// The claims of a JWT access token this process signed; None for any
/// other string (an ID token has no `jti` and is refused too).
pub(super) fn verify(token: &str) -> Option<Claims> {
    let (signed, sent) = token.rsplit_once('.')?;
    let (_, payload) = signed.split_once('.')?;
    if URL_SAFE_NO_PAD.decode(sent).ok()? != signature(signed) {
        return None;
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let jti = claims.get("jti")?.as_str()?;
    Some(Claims {
        sub: claims.get("sub")?.as_str()?.to_owned(),
        exp: claims.get("exp")?.as_i64()?,
        scope: claims
            .get("scope")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
        seq: u64::from_str_radix(jti.get(16..)?, 16).ok()?,
    })
}

/// A unique token with no structure a client could read.
pub(super) fn opaque_token() -> String {
    let seq = TOKEN_SEQ.fetch_add(1, Ordering::Relaxed);
    let digest = Sha256::new()
        .chain_update(b"opaque")
        .chain_update(process_seed().to_le_bytes())
        .chain_update(seq.to_le_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}
