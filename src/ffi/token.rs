//! One-shot calls: credentials JSON in, token out, through the process-wide cache.

use std::ffi::c_char;

use super::{BearerStatus, boundary, check_out, input_str, write_optional, write_string};
use crate::client::{fetch_token, token_refused};

/// Gets an access token for the credentials JSON `config_json` (either seed
/// shape), from the process-wide cache when it holds a fresh one.
///
/// On `BEARER_STATUS_OK`, `*token_out` is a new string the caller frees with
/// `bearer_string_free`. On failure `*token_out` is untouched and, unless
/// `problem_out` is NULL, `*problem_out` is a problem JSON to free likewise.
/// `config_json` is borrowed for the call only. Thread-safe.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `token_out` and
/// `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_fetch_token(
    config_json: *const c_char,
    token_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(token_out, "token_out")?;
            let token = fetch_token(input_str(config_json, "config_json")?)?;
            write_string(token_out, &token.access_token)
        })
    }
}

/// Like `bearer_fetch_token`, but writes the whole token response as JSON:
/// `access_token`, `token_type`, `expires_in` (seconds left), `expires_at`
/// (unix seconds) and, when present, `scope`, `refresh_token`, `id_token`.
///
/// # Safety
/// As for `bearer_fetch_token`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_fetch_token_response(
    config_json: *const c_char,
    json_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(json_out, "json_out")?;
            let token = fetch_token(input_str(config_json, "config_json")?)?;
            write_string(json_out, &token.to_json())
        })
    }
}

/// `bearer_client_token_refused` for the one-shot calls: an API refused
/// `token`, which `bearer_fetch_token` gave for `config_json`. The
/// process-wide cache drops it, and a shared store named by `cache`, only
/// if it is still the current token; at most once every two seconds.
///
/// On `BEARER_STATUS_OK`, `*dropped_out` (unless NULL) says whether a token
/// was dropped. On failure, as for `bearer_fetch_token`.
///
/// # Safety
/// `config_json` and `token` must be NULL or NUL-terminated strings;
/// `dropped_out` and `problem_out` NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_token_refused(
    config_json: *const c_char,
    token: *const c_char,
    dropped_out: *mut bool,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            let refusal = token_refused(
                input_str(config_json, "config_json")?,
                input_str(token, "token")?,
            )?;
            write_optional(dropped_out, refusal.dropped());
            Ok(())
        })
    }
}
