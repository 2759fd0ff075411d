//! The device flow handle (RFC 8628): start, poll (blocking), cancel.

use std::ffi::c_char;

use super::{BearerStatus, boundary, check_out, input_str, null_argument, write_string};
use crate::config::{Config, Grant};
use crate::device::DeviceLogin;

/// An opaque device sign-in: the codes to show the user, and the device
/// code to poll with. Create it with `bearer_device_start`, free it with
/// `bearer_device_free`. `bearer_device_cancel` may be called from any
/// thread while another one polls.
pub struct BearerDevice {
    login: DeviceLogin,
}

/// Starts the device authorization grant for `config_json` (grant_type
/// `"device_code"` is implied; `device_authorization_url`, or an `issuer`
/// whose discovery document names one).
///
/// On `BEARER_STATUS_OK`, `*device_out` is a new handle to free with
/// `bearer_device_free`, and `*json_out` a JSON object to free with
/// `bearer_string_free`, to show the user: `user_code`, `verification_uri`,
/// `verification_uri_complete` (when the server gave one), `expires_in` and
/// `interval` (seconds). On failure, as for `bearer_client_new`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `device_out`,
/// `json_out` and `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_device_start(
    config_json: *const c_char,
    device_out: *mut *mut BearerDevice,
    json_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(device_out, "device_out")?;
            check_out(json_out, "json_out")?;
            let config_json = input_str(config_json, "config_json")?;
            let login = DeviceLogin::start(Config::from_json_for(config_json, Grant::DeviceCode)?)?;
            write_string(json_out, &login.to_json())?;
            *device_out = Box::into_raw(Box::new(BearerDevice { login }));
            Ok(())
        })
    }
}

/// Blocks, polling the token endpoint every `interval` seconds (`slow_down`
/// adds 5), until the user approves: then `*token_json_out` is the token
/// response JSON (as `bearer_fetch_token_response` writes it), to free with
/// `bearer_string_free`. The user declining is `BEARER_STATUS_REJECTED`
/// (`authorization-denied`), the code expiring too (`device-code-expired`),
/// and `bearer_device_cancel` from another thread
/// `BEARER_STATUS_CANCELLED` (`cancelled`), at once or when the request in
/// flight ends. One poll at a time per handle.
///
/// # Safety
/// `device` must be NULL or a live handle from `bearer_device_start`;
/// `token_json_out` and `problem_out` must be NULL or valid for one pointer
/// write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_device_poll(
    device: *const BearerDevice,
    token_json_out: *mut *mut c_char,
    problem_out: *mut *mut c_char,
) -> BearerStatus {
    // SAFETY: the pointers' contract is the caller's, as documented.
    unsafe {
        boundary(problem_out, || {
            check_out(token_json_out, "token_json_out")?;
            let device: &BearerDevice = device.as_ref().ok_or_else(|| null_argument("device"))?;
            let token = device.login.poll()?;
            write_string(token_json_out, &token.to_json())
        })
    }
}

/// Makes a poll in progress return `BEARER_STATUS_CANCELLED`, and every
/// later one. NULL is allowed and does nothing. Thread-safe.
///
/// # Safety
/// `device` must be NULL or a live handle from `bearer_device_start`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_device_cancel(device: *const BearerDevice) {
    // SAFETY: the pointer's contract is the caller's, as documented.
    if let Some(device) = unsafe { device.as_ref() } {
        device.login.cancel();
    }
}

/// Frees a device sign-in. NULL is allowed and does nothing; freeing twice,
/// or while another thread polls it, is undefined behaviour (cancel, then
/// wait for the poll to return, then free).
///
/// # Safety
/// `device` must be NULL or a live handle from `bearer_device_start`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_device_free(device: *mut BearerDevice) {
    if !device.is_null() {
        // SAFETY: it came from Box::into_raw in bearer_device_start.
        drop(unsafe { Box::from_raw(device) });
    }
}
