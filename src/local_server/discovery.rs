//! `GET /.well-known/openid-configuration`.

use std::sync::atomic::Ordering;

use super::device::DEVICE_PATH;
use super::json::push_json_parts;
use super::response::Out;
use super::shared::Shared;
use super::wire::Reply;
use super::{AUTH0_PATH, AUTHORIZE_PATH};

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
/// The document names the endpoints of the listener it was asked on.
pub(super) fn discovery(shared: &Shared, base: &str, out: &mut Out) -> Reply {
    let b = &mut out.body;
    b.extend_from_slice(b"{\"issuer\":");
    push_json_parts(b, &[base, "/"]);
    b.extend_from_slice(b",\"authorization_endpoint\":");
    push_json_parts(b, &[base, AUTHORIZE_PATH]);
    b.extend_from_slice(b",\"token_endpoint\":");
    push_json_parts(b, &[base, AUTH0_PATH]);
    b.extend_from_slice(b",\"device_authorization_endpoint\":");
    push_json_parts(b, &[base, DEVICE_PATH]);
    b.extend_from_slice(
        b",\"response_types_supported\":[\"code\",\"token\"]\
          ,\"grant_types_supported\":[\"authorization_code\",\"implicit\",\"refresh_token\",\"client_credentials\",\"urn:ietf:params:oauth:grant-type:device_code\"]\
          ,\"code_challenge_methods_supported\":[\"S256\"]\
          ,\"token_endpoint_auth_methods_supported\":[\"client_secret_post\",\"client_secret_basic\",\"private_key_jwt\",\"tls_client_auth\",\"self_signed_tls_client_auth\",\"none\"]\
          ,\"scopes_supported\":[\"openid\",\"profile\",\"email\",\"offline_access\"]",
    );
    if let Some(mtls_base) = &shared.mtls_base_url {
        b.extend_from_slice(b",\"mtls_endpoint_aliases\":{\"token_endpoint\":");
        push_json_parts(b, &[mtls_base, AUTH0_PATH]);
        b.push(b'}');
    }
    if shared.iss_parameter.load(Ordering::SeqCst) {
        b.extend_from_slice(b",\"authorization_response_iss_parameter_supported\":true");
    }
    b.push(b'}');
    out.finish(200, "application/json", &[])
}
