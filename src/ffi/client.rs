//! The client handle: a configuration with its own cache, shared by threads.

use std::borrow::Cow;
use std::ffi::c_char;

use super::{
    BearerStatus, boundary, check_out, input_str, null_argument, write_optional, write_string,
};
use crate::client::Client;
use crate::token::Token;

/// An opaque client: one configuration and its cached token. Create it with
/// `bearer_client_new`, free it with `bearer_client_free`. All functions
/// taking a `const bearer_client *` may be called from many threads at once.
pub struct BearerClient {
    client: Client,
}

/// Builds a client from the credentials JSON `config_json`. No request is
/// made until a token is asked for.
///
/// On `BEARER_STATUS_OK`, `*client_out` is a new handle the caller frees with
/// `bearer_client_free`. On failure it is untouched and, unless
/// `problem_out` is NULL, `*problem_out` is a problem JSON to free with
/// `bearer_string_free`. `config_json` is borrowed for the call only.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `client_out` and
/// `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_new(
    config_json: *const c_char,
    client_out: *mut *mut BearerClient,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(client_out, "client_out")?;
            let client = Client::from_json(input_str(config_json, "config_json")?)?;
            *client_out = Box::into_raw(Box::new(BearerClient { client }));
            Ok(())
        })
    }
}

/// Writes a valid access token to `*token_out`: the cached one while it is
/// fresh, else a new one (one request, however many threads ask).
///
/// On `BEARER_STATUS_OK`, `*token_out` is a new string to free with
/// `bearer_string_free`; on failure, as for `bearer_client_new`.
///
/// # Safety
/// `client` must be NULL or a live handle from `bearer_client_new`;
/// `token_out` and `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_token(
    client: *const BearerClient,
    token_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        client_call(client, token_out, problem_out, "token_out", |token| {
            Cow::Borrowed(&token.access_token)
        })
    }
}

/// Writes the token response JSON for a valid token to `*json_out` (members
/// as for `bearer_fetch_token_response`).
///
/// # Safety
/// As for `bearer_client_token`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_token_response(
    client: *const BearerClient,
    json_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        client_call(client, json_out, problem_out, "json_out", |token| {
            Cow::Owned(token.to_json())
        })
    }
}

/// Writes the `Authorization` header value for a valid token, e.g.
/// `Bearer eyJ...`, to `*header_out`.
///
/// # Safety
/// As for `bearer_client_token`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_authorization_header(
    client: *const BearerClient,
    header_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        client_call(client, header_out, problem_out, "header_out", |token| {
            Cow::Owned(token.authorization_header())
        })
    }
}

/// Takes the problem of a refresh that failed while the cached token was
/// still valid, so the call that triggered it got that token and succeeded
/// (serve-stale). Each run of failed refreshes is reported once; the next
/// successful refresh starts a new run. Its `extensions` carry
/// `serving_cached_token_until` (unix seconds) when the token's expiry is
/// known.
///
/// On `BEARER_STATUS_OK`: when there is nothing to report,
/// `*refresh_problem_out` is NULL and `*refresh_status_out` is
/// `BEARER_STATUS_OK`; else `*refresh_problem_out` is a problem JSON to free
/// with `bearer_string_free` and `*refresh_status_out` the status the failed
/// refresh would have returned (e.g. `BEARER_STATUS_UNAVAILABLE`).
/// `refresh_status_out` may be NULL. On failure (a NULL `client` or
/// `refresh_problem_out`), as for `bearer_client_new`.
///
/// # Safety
/// As for `bearer_client_token`; `refresh_status_out` must be NULL or valid
/// for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_take_refresh_problem(
    client: *const BearerClient,
    refresh_status_out: *mut BearerStatus,
    refresh_problem_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(refresh_problem_out, "refresh_problem_out")?;
            let client: &BearerClient = client.as_ref().ok_or_else(|| null_argument("client"))?;
            let taken = client.client.take_refresh_problem();
            let status = match &taken {
                Some(problem) => {
                    write_string(refresh_problem_out, &problem.to_json())?;
                    problem.kind().into()
                }
                None => {
                    *refresh_problem_out = std::ptr::null_mut();
                    BearerStatus::Ok
                }
            };
            write_optional(refresh_status_out, status);
            Ok(())
        })
    }
}

/// Tells the client that an API refused `token` (an HTTP 401, with
/// `WWW-Authenticate: Bearer error="invalid_token"` or no error at all):
/// compare-and-invalidate. The cached access token is dropped, in memory and
/// in a shared store, only if it is still `token`; a late refusal of a token
/// already replaced drops nothing. A refresh token is never dropped. At
/// most one token is dropped per client, and per shared entry, every two
/// seconds: within that window a refusal drops nothing. The next
/// `bearer_client_token` gets a new token when one was dropped.
///
/// On `BEARER_STATUS_OK`, `*dropped_out` (unless NULL) says whether a token
/// was dropped. On failure, as for `bearer_client_new`.
///
/// # Safety
/// `client` must be NULL or a live handle from `bearer_client_new`; `token`
/// NULL or a NUL-terminated string; `dropped_out` and `problem_out` NULL or
/// valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_token_refused(
    client: *const BearerClient,
    token: *const c_char,
    dropped_out: *mut bool,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            let client: &BearerClient = client.as_ref().ok_or_else(|| null_argument("client"))?;
            let refusal = client.client.token_refused(input_str(token, "token")?)?;
            write_optional(dropped_out, refusal.dropped());
            Ok(())
        })
    }
}

/// Frees a client. NULL is allowed and does nothing; freeing a handle twice,
/// or while another thread is using it, is undefined behaviour.
///
/// # Safety
/// `client` must be NULL or a live handle from `bearer_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_client_free(client: *mut BearerClient) {
    if !client.is_null() {
        // SAFETY: it came from Box::into_raw in bearer_client_new.
        drop(unsafe { Box::from_raw(client) });
    }
}

/// The shared body of the three getters: check, get a token, render, write.
///
/// # Safety
/// As for `bearer_client_token`.
unsafe fn client_call(
    client: *const BearerClient,
    out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
    out_name: &str,
    render: impl FnOnce(&Token) -> Cow<'_, str>,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(out, out_name)?;
            let client: &BearerClient = client.as_ref().ok_or_else(|| null_argument("client"))?;
            let token = client.client.token()?;
            write_string(out, &render(&token))
        })
    }
}
