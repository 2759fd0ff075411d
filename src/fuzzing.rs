//! Entry points for the fuzz targets in `tests/fuzz` (feature `fuzzing`,
//! off by default): thin wrappers that reach the private parsers the way
//! the library calls them, and stop before anything touches the network.

use std::ffi::CString;

use crate::authorize::{self, AuthorizationRequest};
use crate::config::Config;
use crate::http::Answer;
use crate::problem::Problem;
use crate::token::Token;

/// The configuration as `bearer_*_new` reads it from C: the bytes up to the
/// first NUL, checked as UTF-8 by the C ABI's own reader, then parsed.
#[doc(hidden)]
pub fn config_from_c(bytes: &[u8]) -> Result<Config, Problem> {
    let end = bytes
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(bytes.len());
    let text = CString::new(&bytes[..end]).expect("no NUL before `end`");
    // SAFETY: a valid NUL-terminated string that outlives the call.
    let text = unsafe { crate::ffi::input_str(text.as_ptr(), "config_json") }?;
    Config::from_json(text)
}

/// A token endpoint's answer read as the client credentials grant reads it,
/// with its problems redacted with the configuration's secrets as there.
#[doc(hidden)]
pub fn read_token_answer(
    config: &Config,
    status: u16,
    content_type: &str,
    retry_after: Option<u64>,
    date: Option<u64>,
    location: Option<&str>,
    body: &[u8],
) -> Result<Token, Problem> {
    let answer = Answer {
        status,
        content_type: content_type.to_owned(),
        retry_after,
        date,
        location: location.map(str::to_owned),
        body: body.to_vec(),
    };
    let read = crate::grant::read_answer(config, &config.redaction(), answer);
    // A token_type goes into the Authorization header as the scheme: one
    // with a space, CR/LF or another control character would split it.
    if let Ok(token) = &read {
        assert!(
            !token
                .token_type
                .chars()
                .any(|c| c.is_whitespace() || c.is_control()),
            "a token was accepted with a token_type a header cannot carry: {:?}",
            token.token_type
        );
    }
    read
}

/// What a checked callback carries.
#[doc(hidden)]
pub enum Callback {
    /// The code the exchange would send.
    Code(String),
    /// The implicit flow's token.
    Token(Token),
}

/// The callback checks of `authorize::complete`, without the code exchange.
#[doc(hidden)]
pub fn read_callback(
    config: &Config,
    request: &AuthorizationRequest,
    redirect_url: &str,
) -> Result<Callback, Problem> {
    let outcome = authorize::read_callback(config, request, redirect_url)?;
    // RFC 9207: whatever names another issuer (or any issuer, when none is
    // known) never yields a code or a token.
    let expected = authorize::expected_issuer(config);
    let (before_fragment, fragment) = redirect_url.split_once('#').unwrap_or((redirect_url, ""));
    let query = before_fragment
        .split_once('?')
        .map_or("", |(_, query)| query);
    for part in [query, fragment] {
        for (name, value) in form_urlencoded::parse(part.as_bytes()) {
            assert!(
                name != "iss" || expected.as_deref() == Some(&*value),
                "a callback naming issuer {value:?} was accepted; expected {expected:?}"
            );
        }
    }
    Ok(match outcome {
        authorize::Callback::Code(code) => Callback::Code(code.expose().to_owned()),
        authorize::Callback::Token(token) => Callback::Token(token),
    })
}
