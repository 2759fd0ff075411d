//! The C ABI. Every `extern "C"` item of bearer lives below this module and
//! nothing else does: the core knows nothing of C, this layer nothing of OAuth.
//!
//! Conventions (the README's "API conventions" says the same for C users):
//! each fallible function returns a [`BearerStatus`], writes its result
//! through an `*_out` parameter only on success and, on failure, writes a
//! problem-details JSON string to `problem_out` unless that is NULL. Strings
//! bearer returns are freed with `bearer_string_free`, handles with their own
//! `_free`; both accept NULL.

mod client;
mod device;
mod flows;
mod token;

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use crate::problem::{Problem, ProblemKind};

pub use client::*;
pub use flows::*;
pub use token::*;

/// What a call did. `BEARER_STATUS_OK` is 0; the detail of any other status
/// is the problem JSON written to `problem_out`. Numbers are never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BearerStatus {
    Ok = 0,
    /// NULL where a value is required, text that is not UTF-8, or a
    /// redirect URL that does not answer the authorization request.
    InvalidArgument = 1,
    /// The configuration JSON is malformed, incomplete or unsafe.
    InvalidConfig = 2,
    /// The token endpoint refused (bad credentials, no grant, bad request, a
    /// used code, or its own problem details), or the user declined.
    Rejected = 3,
    /// The token endpoint is throttling; see `extensions.retry_after`.
    RateLimited = 4,
    /// The token endpoint could not be reached, failed (5xx) or redirected.
    Unavailable = 5,
    /// No answer within the deadline.
    Timeout = 6,
    /// The answer could not be read or was too large.
    BadResponse = 7,
    /// A bug in bearer (a caught panic).
    Internal = 8,
    /// Another thread cancelled the wait (`bearer_device_cancel`).
    Cancelled = 9,
}

impl From<ProblemKind> for BearerStatus {
    fn from(kind: ProblemKind) -> Self {
        match kind {
            ProblemKind::InvalidArgument | ProblemKind::InvalidCallback => Self::InvalidArgument,
            ProblemKind::InvalidConfig | ProblemKind::InsecureUrl => Self::InvalidConfig,
            ProblemKind::Unauthorized
            | ProblemKind::Forbidden
            | ProblemKind::InvalidRequest
            | ProblemKind::UpstreamProblem
            | ProblemKind::InvalidGrant
            | ProblemKind::AuthorizationDenied
            | ProblemKind::DeviceCodeExpired => Self::Rejected,
            ProblemKind::RateLimited => Self::RateLimited,
            ProblemKind::UpstreamError | ProblemKind::Redirected | ProblemKind::Unreachable => {
                Self::Unavailable
            }
            ProblemKind::Timeout => Self::Timeout,
            ProblemKind::InvalidResponse | ProblemKind::ResponseTooLarge => Self::BadResponse,
            ProblemKind::Internal => Self::Internal,
            ProblemKind::Cancelled => Self::Cancelled,
        }
    }
}

/// Runs the body of an extern fn: a panic becomes `BEARER_STATUS_INTERNAL`,
/// a problem becomes its status and, when `problem_out` is not NULL, its JSON.
///
/// # Safety
/// `problem_out` must be NULL or valid for one pointer write.
unsafe fn boundary(
    problem_out: *mut *mut c_char,
    body: impl FnOnce() -> Result<(), Problem>,
) -> BearerStatus {
    quiet_caught_panics();
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(Problem::new(
            ProblemKind::Internal,
            "bearer panicked; this is a bug, please report it",
        ))
    });
    match outcome {
        Ok(()) => BearerStatus::Ok,
        Err(problem) => {
            if !problem_out.is_null() {
                // A problem's JSON escapes NUL, so this cannot fail.
                if let Ok(json) = CString::new(problem.to_json()) {
                    // SAFETY: non-NULL and valid for a write, per the contract.
                    unsafe { *problem_out = json.into_raw() };
                }
            }
            problem.kind().into()
        }
    }
}

/// A panic the boundary catches is a bug reported as a problem; Rust's
/// default hook would also print its message and a backtrace on the host's
/// stderr (a web server's error log, say), where its payload does not
/// belong. Inside a C ABI call one line says where it happened; every other
/// panic of the process goes to the hook that was there before. Whether the
/// panic is inside a call is read off the stack when it happens, so the
/// calls themselves pay nothing for it.
fn quiet_caught_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if inside_a_c_call() {
                let at = info
                    .location()
                    .map(|at| format!(" at {}:{}", at.file(), at.line()))
                    .unwrap_or_default();
                eprintln!("bearer: a bug was caught{at}; the call returned BEARER_STATUS_INTERNAL");
            } else {
                previous(info);
            }
        }));
    });
}

/// Whether a frame of this thread's stack is an exported `bearer_*`
/// function: those are never inlined, and every one runs its body inside
/// the boundary.
fn inside_a_c_call() -> bool {
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    trace.lines().any(|line| {
        line.trim_start()
            .split_once(": ")
            .is_some_and(|(index, symbol)| {
                index.bytes().all(|b| b.is_ascii_digit()) && symbol.starts_with("bearer_")
            })
    })
}

/// Borrows a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `text` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn input_str<'a>(text: *const c_char, name: &str) -> Result<&'a str, Problem> {
    if text.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: non-NULL and NUL-terminated, per the contract.
    unsafe { CStr::from_ptr(text) }.to_str().map_err(|error| {
        Problem::new(
            ProblemKind::InvalidArgument,
            format!(
                "{name} is not valid UTF-8 (at byte {})",
                error.valid_up_to()
            ),
        )
    })
}

/// Refuses a NULL out-parameter before any work is done.
fn check_out<T>(out: *mut *mut T, name: &str) -> Result<(), Problem> {
    if out.is_null() {
        Err(null_argument(name))
    } else {
        Ok(())
    }
}

fn null_argument(name: &str) -> Problem {
    Problem::new(
        ProblemKind::InvalidArgument,
        format!("{name} must not be NULL"),
    )
    .with_extension("argument", name)
}

/// Writes `value` through `out`, an optional out-parameter, unless it is NULL.
///
/// # Safety
/// `out` must be NULL or valid for one write.
unsafe fn write_optional<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: not NULL, and valid for one write by the caller's contract.
        unsafe { *out = value };
    }
}

/// Hands a string to C; it comes back through `bearer_string_free`.
///
/// # Safety
/// `out` must be non-NULL (see [`check_out`]) and valid for one pointer write.
unsafe fn write_string(out: *mut *mut c_char, text: &str) -> Result<(), Problem> {
    // Room for the NUL up front: CString::new would otherwise reallocate.
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    let text = CString::new(bytes)
        .map_err(|_| Problem::new(ProblemKind::Internal, "a returned string held a NUL byte"))?;
    // SAFETY: non-NULL and valid for a write, per the contract.
    unsafe { *out = text.into_raw() };
    Ok(())
}

/// The library's version, e.g. `"0.1.0"`: a static string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn bearer_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Frees a string that bearer returned (a token, JSON or problem).
///
/// NULL is allowed and does nothing. Passing any other pointer, or the same
/// pointer twice, is undefined behaviour.
///
/// # Safety
/// `text` must be NULL or a string returned by bearer and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_string_free(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: it came from CString::into_raw in this library.
        drop(unsafe { CString::from_raw(text) });
    }
}

/// Empties the process-wide token cache of `bearer_fetch_token` and closes
/// pooled connections not held by a client handle. Optional: call it before
/// exit so that leak checkers see nothing held. Client handles keep working
/// and later one-shot calls start afresh. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn bearer_global_cleanup() {
    // A poisoned lock is recovered inside; nothing here can unwind into C.
    let _ = catch_unwind(crate::client::clear_process_state);
}

/// Always fails by panicking inside bearer, so that a caller or binding can
/// test its handling of `BEARER_STATUS_INTERNAL`. Returns that status and
/// writes a problem to `problem_out` (may be NULL).
///
/// # Safety
/// `problem_out` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bearer_test_panic(problem_out: *mut *mut c_char) -> BearerStatus {
    // SAFETY: forwarded contract.
    unsafe { boundary(problem_out, || panic!("bearer_test_panic was called")) }
}
