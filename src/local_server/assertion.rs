//! `private_key_jwt` at the Auth0 token endpoint (RFC 7523 3, OpenID
//! Connect Core 9): the client assertion of [`JWT_CLIENT_ID`] is checked as
//! a real provider checks it: the signature against the registered public
//! key for its `alg` (`tests/keys/rsa.pub` for RS256 and PS256,
//! `tests/keys/ec.pub` for ES256), `iss` = `sub` = the client, `aud` the
//! token endpoint or the issuer, `exp` in the future and at most 5 minutes
//! after `iat`, `iat` not ahead of the server's clock, and a `jti` never
//! seen before.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey};
use serde_json::Value;

use super::shared::{Shared, lock};
use super::{AUTH0_PATH, JWT_CLIENT_ID};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const RSA_PUBLIC_KEY: &[u8] = include_bytes!("../../tests/keys/rsa.pub");
const EC_PUBLIC_KEY: &[u8] = include_bytes!("../../tests/keys/ec.pub");
/// The longest an assertion may live, and the clock skew allowed: Auth0's.
const MAX_LIFETIME: i64 = 300;
const SKEW: i64 = 10;

/// The client an assertion authenticates, or why it does not.
pub(super) fn verify_client_assertion(
    shared: &Shared,
    assertion_type: Option<&str>,
    assertion: Option<&str>,
    client_id: Option<&str>,
    secure: bool,
    now: i64,
) -> Result<&'static str, String> {
    if assertion_type != Some(ASSERTION_TYPE) {
        return Err(format!("client_assertion_type must be {ASSERTION_TYPE}"));
    }
    let assertion = assertion.ok_or("Missing required parameter: client_assertion")?;
    let mut parts = assertion.split('.');
    let (Some(header), Some(payload), Some(sent), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("client_assertion is not a JWS".into());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "client_assertion is not base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "client_assertion is not JSON".to_string())
    };
    let header = decode(header)?;
    let claims = decode(payload)?;
    let text =
        |value: &Value, name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let key = match text(&header, "alg").as_deref() {
        Some("RS256") => {
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, RSA_PUBLIC_KEY)
        }
        Some("PS256") => {
            UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, RSA_PUBLIC_KEY)
        }
        Some("ES256") => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, EC_PUBLIC_KEY),
        other => {
            return Err(format!(
                "Unsupported client_assertion alg: {}",
                other.unwrap_or("none")
            ));
        }
    };
    let signature = URL_SAFE_NO_PAD
        .decode(sent)
        .map_err(|_| "client_assertion signature is not base64url".to_string())?;
    let signed = &assertion[..assertion.len() - sent.len() - 1];
    key.verify(signed.as_bytes(), &signature)
        .map_err(|_| "Invalid client_assertion signature".to_string())?;

    let issuer = text(&claims, "iss");
    if issuer.as_deref() != Some(JWT_CLIENT_ID) || text(&claims, "sub") != issuer {
        return Err("client_assertion iss and sub must be the client_id".into());
    }
    if client_id.is_some_and(|id| id != JWT_CLIENT_ID) {
        return Err("client_id does not match the client_assertion".into());
    }
    let base = shared.base_for(secure);
    let audience_ok = |aud: &str| aud == format!("{base}{AUTH0_PATH}") || aud == format!("{base}/");
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => audience_ok(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(audience_ok),
        _ => false,
    };
    if !audience_ok {
        return Err("client_assertion aud must be the token endpoint or the issuer".into());
    }
    let (Some(exp), Some(iat)) = (number("exp"), number("iat")) else {
        return Err("client_assertion needs exp and iat".into());
    };
    if exp <= now - SKEW {
        return Err("client_assertion has expired".into());
    }
    if iat > now + SKEW {
        return Err("client_assertion iat is in the future".into());
    }
    if exp - iat > MAX_LIFETIME {
        return Err("client_assertion lives longer than 5 minutes".into());
    }
    let jti = text(&claims, "jti").ok_or("client_assertion needs a jti")?;
    let mut seen = lock(&shared.assertion_ids);
    seen.retain(|_, until| *until > now - SKEW);
    if seen.insert(jti, exp).is_some() {
        return Err("client_assertion jti was used before".into());
    }
    Ok(JWT_CLIENT_ID)
}
