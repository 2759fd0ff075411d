//! The user flows: authorize URL and callback (web apps, implicit), and the
//! loopback login of native apps.

use std::ffi::{c_char, c_uint};
use std::time::Duration;

use super::{BearerStatus, boundary, check_out, input_str, null_argument, write_string};
use crate::authorize::{self, AuthorizationRequest};
use crate::config::{Config, Grant};
use crate::discovery;
use crate::http;
use crate::loopback::LoopbackLogin;

/// Starts a sign-in: builds the authorize URL for the configuration's
/// `grant_type` (`authorization_code`, with PKCE S256, or `implicit`) and
/// `redirect_uri`, with a fresh random `state`.
///
/// On `BEARER_STATUS_OK`, `*request_out` is a JSON object to free with
/// `bearer_string_free`: `url` (send the browser there), `response_type`,
/// `redirect_uri`, `state`, and `code_verifier` and `nonce` when used. Keep
/// it (it is secret: server side, or in the user's session) until the
/// browser comes back, then pass it to `bearer_authorize_complete`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `request_out` and
/// `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_authorize_start(
    config_json: *const c_char,
    request_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(request_out, "request_out")?;
            let mut config = Config::from_json(input_str(config_json, "config_json")?)?;
            discovery::resolve(&mut config)?;
            write_string(request_out, &authorize::start(&config)?.to_json())
        })
    }
}

/// Finishes a sign-in from the URL the browser was redirected to: checks
/// that it is the request's `redirect_uri` and that `state` matches, turns
/// an `error=` redirect into a problem, then exchanges the code (with the
/// PKCE verifier, and the secret of a confidential client) or reads the
/// implicit token from the fragment.
///
/// On `BEARER_STATUS_OK`, `*json_out` is the token response JSON (members as
/// for `bearer_fetch_token_response`, with `refresh_token` and `id_token`
/// when the server sent them). A missing or wrong `state`, or an `iss` that
/// is not the configuration's issuer (RFC 9207), is
/// `BEARER_STATUS_INVALID_ARGUMENT` (`invalid-callback`); a declined sign-in
/// or a used code is `BEARER_STATUS_REJECTED`.
///
/// # Safety
/// `config_json`, `request_json` and `redirect_url` must be NULL or
/// NUL-terminated strings; `json_out` and `problem_out` must be NULL or
/// valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_authorize_complete(
    config_json: *const c_char,
    request_json: *const c_char,
    redirect_url: *const c_char,
    json_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(json_out, "json_out")?;
            let mut config = Config::from_json(input_str(config_json, "config_json")?)?;
            let request =
                AuthorizationRequest::from_json(input_str(request_json, "request_json")?)?;
            let redirect_url = input_str(redirect_url, "redirect_url")?;
            discovery::resolve(&mut config)?;
            let agent = http::agent_for(&config)?;
            let token = authorize::complete(&agent, &config, &request, redirect_url)?;
            write_string(json_out, &token.to_json())
        })
    }
}

/// A native app's sign-in in progress (RFC 8252): a listener on 127.0.0.1
/// waiting for the browser's redirect. Create it with `bearer_login_start`,
/// free it with `bearer_login_free`.
pub struct BearerLogin {
    login: LoopbackLogin,
}

/// Starts a native-app sign-in: listens on 127.0.0.1 on an ephemeral port
/// (or the port of an `http://127.0.0.1:PORT/path` `redirect_uri`) and
/// builds the authorize URL (`grant_type` `authorization_code`, which a
/// configuration without `grant_type` means here; PKCE S256) that redirects
/// there.
///
/// On `BEARER_STATUS_OK`, `*login_out` is a handle to free with
/// `bearer_login_free`, and `*url_out` the URL to open in the user's browser
/// (free it with `bearer_string_free`). Then call `bearer_login_wait`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `login_out`,
/// `url_out` and `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_login_start(
    config_json: *const c_char,
    login_out: *mut *mut BearerLogin,
    url_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(login_out, "login_out")?;
            check_out(url_out, "url_out")?;
            let config_json = input_str(config_json, "config_json")?;
            let config = Config::from_json_for(config_json, Grant::AuthorizationCode)?;
            let login = LoopbackLogin::start(config)?;
            write_string(url_out, login.url())?;
            *login_out = Box::into_raw(Box::new(BearerLogin { login }));
            Ok(())
        })
    }
}

/// Waits up to `timeout_ms` milliseconds for the browser's redirect, answers
/// it with a short page, and writes the token response JSON to `*json_out`
/// (as for `bearer_authorize_complete`). A request without this login's
/// `state` (forged, stale) gets a 400 and the wait goes on. No redirect in
/// time is `BEARER_STATUS_TIMEOUT`. A login completes once; waiting again is
/// `BEARER_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `login` must be NULL or a live handle from `bearer_login_start`;
/// `json_out` and `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_login_wait(
    login: *const BearerLogin,
    timeout_ms: c_uint,
    json_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(json_out, "json_out")?;
            let login: &BearerLogin = login.as_ref().ok_or_else(|| null_argument("login"))?;
            let token = login
                .login
                .wait(Duration::from_millis(u64::from(timeout_ms)))?;
            write_string(json_out, &token.to_json())
        })
    }
}

/// Frees a login and closes its listener. NULL is allowed and does nothing;
/// freeing twice, or while another thread waits on it, is undefined
/// behaviour.
///
/// # Safety
/// `login` must be NULL or a live handle from `bearer_login_start`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_login_free(login: *mut BearerLogin) {
    if !login.is_null() {
        // SAFETY: it came from Box::into_raw in bearer_login_start.
        drop(unsafe { Box::from_raw(login) });
    }
}
