//! The test knobs: query parameters on the token paths and `/authorize`
//! that shape the answer (see [`LocalAuthServer`](super::LocalAuthServer)).

use super::faults::Fault;
use super::request::form_decode;
use super::response::push_http_date;

const DEFAULT_STALL_MS: u64 = 10_000;
const DEFAULT_DRIP_MS: u64 = 50;

pub(super) struct Knobs {
    pub(super) expires_in: Option<i64>,
    pub(super) omit_expires_in: bool,
    pub(super) opaque: bool,
    pub(super) plain: bool,
    pub(super) fault: Option<Fault>,
    pub(super) stall_ms: u64,
    pub(super) fail_first: Option<u64>,
    pub(super) fail_after: Option<u64>,
    pub(super) retry_after: Option<u64>,
    pub(super) retry_after_date: bool,
    pub(super) drip_ms: u64,
    pub(super) redirect_status: u16,
    pub(super) content_type: Option<String>,
    pub(super) token_type: Option<String>,
    pub(super) date_offset: i64,
    /// `/authorize` only: name the issuer in the redirect (RFC 9207).
    pub(super) send_iss: bool,
}

impl Knobs {
    pub(super) fn token_type(&self) -> &str {
        self.token_type.as_deref().unwrap_or("Bearer")
    }
}

impl Knobs {
    /// Unknown keys are ignored; a bad value is an error, so a typo in a
    /// test shows up instead of silently succeeding.
    pub(super) fn parse(query: &str) -> Result<Self, String> {
        let mut stall_given = false;
        let mut knobs = Knobs {
            expires_in: None,
            omit_expires_in: false,
            opaque: false,
            plain: false,
            fault: None,
            stall_ms: DEFAULT_STALL_MS,
            fail_first: None,
            fail_after: None,
            retry_after: None,
            retry_after_date: false,
            drip_ms: DEFAULT_DRIP_MS,
            redirect_status: 302,
            content_type: None,
            token_type: None,
            date_offset: 0,
            send_iss: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || format!("Invalid test parameter: {key}={value}");
            match key {
                "expires_in" => knobs.expires_in = Some(value.parse().map_err(|_| bad())?),
                "stall_ms" => {
                    knobs.stall_ms = value.parse().map_err(|_| bad())?;
                    stall_given = true;
                }
                "omit_expires_in" => knobs.omit_expires_in = flag(value).ok_or_else(bad)?,
                "opaque" => knobs.opaque = flag(value).ok_or_else(bad)?,
                "plain" => knobs.plain = flag(value).ok_or_else(bad)?,
                "send_iss" => knobs.send_iss = flag(value).ok_or_else(bad)?,
                "fail_first" => knobs.fail_first = Some(value.parse().map_err(|_| bad())?),
                "fail_after" => knobs.fail_after = Some(value.parse().map_err(|_| bad())?),
                "retry_after" => knobs.retry_after = Some(value.parse().map_err(|_| bad())?),
                "retry_after_date" => knobs.retry_after_date = flag(value).ok_or_else(bad)?,
                "drip_ms" => knobs.drip_ms = value.parse().map_err(|_| bad())?,
                "redirect_status" => {
                    knobs.redirect_status = value
                        .parse()
                        .ok()
                        .filter(|s| matches!(s, 301 | 302 | 303 | 307 | 308))
                        .ok_or_else(bad)?;
                }
                "content_type" => {
                    let media = form_decode(value.as_bytes());
                    // Anything that could end the header line is refused.
                    if !media.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
                        return Err(bad());
                    }
                    knobs.content_type = Some(media);
                }
                "date_offset" => knobs.date_offset = value.parse().map_err(|_| bad())?,
                // Anything at all, CR and LF included: the client must refuse it.
                "token_type" => knobs.token_type = Some(form_decode(value.as_bytes())),
                "fault" => {
                    knobs.fault = Some(match value {
                        "rate_limit" => Fault::RateLimit,
                        "server_error" => Fault::ServerError,
                        "garbage" => Fault::Garbage,
                        "html" => Fault::Html,
                        "empty" => Fault::Empty,
                        "oversize" => Fault::Oversize,
                        "stall" => Fault::Stall,
                        "drop" => Fault::Drop,
                        "drop_mid_body" => Fault::DropMidBody,
                        "redirect" => Fault::Redirect,
                        "echo" => Fault::Echo,
                        "unavailable" => Fault::Unavailable,
                        "bad_gateway" => Fault::BadGateway,
                        "drip" => Fault::Drip,
                        "reset" => Fault::Reset,
                        _ => return Err(bad()),
                    })
                }
                _ => {}
            }
        }
        // `stall_ms=N` alone delays an otherwise normal answer.
        if stall_given && knobs.fault.is_none() {
            knobs.fault = Some(Fault::Stall);
        }
        Ok(knobs)
    }

    /// The Retry-After value: seconds, or with `retry_after_date` the
    /// date that many seconds from `now`, the server's clock.
    pub(super) fn retry_after_value(&self, seconds: u64, now: i64) -> String {
        if self.retry_after_date {
            let mut date = Vec::with_capacity(29);
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            push_http_date(&mut date, now.saturating_add(seconds));
            String::from_utf8(date).unwrap_or_default()
        } else {
            seconds.to_string()
        }
    }
}

pub(super) fn flag(value: &str) -> Option<bool> {
    match value {
        "" | "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}
