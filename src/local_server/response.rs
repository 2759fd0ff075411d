//! The response under construction ([`Out`]): status line, `Date`,
//! headers and body, written into one buffer; OAuth errors and RFC 9457
//! problems.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use super::COBUILDER_PATH;
use super::json::{push_hex, push_json_str, push_u64};
use super::tokens::{TOKEN_SEQ, process_seed};
use super::wire::Reply;

/// Response under construction: `body` is filled first, then `finish` puts
/// headers and body into `buf` so the response goes out in one write.
pub(super) struct Out {
    pub(super) buf: Vec<u8>,
    pub(super) body: Vec<u8>,
    pub(super) close: bool,
    pub(super) head_only: bool,
    /// `date_offset`: seconds the server's clock is off.
    pub(super) clock_offset: i64,
    /// The answer's time, read once so its Date, Retry-After and JWTs agree.
    pub(super) stamp: Option<i64>,
    /// `content_type`: replaces the Content-Type ("" for none).
    pub(super) content_type: Option<String>,
    /// Where the body starts in `buf` (for `fault=drip`).
    pub(super) body_start: usize,
}

impl Out {
    pub(super) fn start(&mut self, close: bool, head_only: bool) {
        self.buf.clear();
        self.body.clear();
        self.close = close;
        self.head_only = head_only;
        self.clock_offset = 0;
        self.stamp = None;
        self.content_type = None;
        self.body_start = 0;
    }

    /// The server's clock (unix seconds) when this answer was made.
    pub(super) fn now(&mut self) -> i64 {
        *self
            .stamp
            .get_or_insert_with(|| now_secs().saturating_add(self.clock_offset))
    }

    fn status_line(&mut self, status: u16) {
        self.buf.extend_from_slice(b"HTTP/1.1 ");
        push_u64(&mut self.buf, u64::from(status));
        self.buf.push(b' ');
        self.buf.extend_from_slice(reason(status).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, name: &str, value: &str) {
        push_header(&mut self.buf, name, value);
    }

    /// Writes status line and headers, with `Content-Length: content_length`.
    pub(super) fn head(
        &mut self,
        status: u16,
        ctype: &str,
        extra: &[(&str, &str)],
        content_length: usize,
    ) {
        self.status_line(status);
        self.buf.extend_from_slice(b"Date: ");
        let now = self.now();
        push_http_date(&mut self.buf, now);
        self.buf.extend_from_slice(b"\r\n");
        let ctype = self.content_type.as_deref().unwrap_or(ctype);
        if !ctype.is_empty() {
            push_header(&mut self.buf, "Content-Type", ctype);
        }
        self.buf.extend_from_slice(b"Content-Length: ");
        push_u64(&mut self.buf, content_length as u64);
        self.buf.extend_from_slice(b"\r\n");
        for (name, value) in extra {
            self.header(name, value);
        }
        if self.close {
            self.buf.extend_from_slice(b"Connection: close\r\n");
        }
        self.buf.extend_from_slice(b"\r\n");
        self.body_start = self.buf.len();
    }

    /// Completes a response whose body is in `self.body`.
    pub(super) fn finish(&mut self, status: u16, ctype: &str, extra: &[(&str, &str)]) -> Reply {
        self.head(status, ctype, extra, self.body.len());
        if !self.head_only {
            self.buf.extend_from_slice(&self.body);
        }
        Reply::Send
    }

    pub(super) fn finish_405(&mut self, allow: &str) -> Reply {
        self.body
            .extend_from_slice(b"{\"error\":\"method_not_allowed\"}");
        self.finish(405, "application/json", &[("Allow", allow)])
    }

    pub(super) fn send(&mut self, status: u16, ctype: &str, body: &str) -> Reply {
        self.body.extend_from_slice(body.as_bytes());
        self.finish(status, ctype, &[])
    }

    /// An OAuth 2.0 error (RFC 6749 5.2), as Auth0 writes it.
    pub(super) fn json_error(&mut self, status: u16, error: &str, description: &str) -> Reply {
        let b = &mut self.body;
        b.extend_from_slice(b"{\"error\":");
        push_json_str(b, error);
        b.extend_from_slice(b",\"error_description\":");
        push_json_str(b, description);
        b.push(b'}');
        self.finish(status, "application/json", &[])
    }

    /// An RFC 9457 problem, as the Cobuilder API writes it.
    pub(super) fn problem(
        &mut self,
        status: u16,
        kind: &str,
        title: &str,
        detail: &str,
        trace: bool,
    ) -> Reply {
        let b = &mut self.body;
        b.extend_from_slice(b"{\"type\":");
        push_json_str(b, kind);
        b.extend_from_slice(b",\"title\":");
        push_json_str(b, title);
        b.extend_from_slice(b",\"status\":");
        push_u64(b, u64::from(status));
        b.extend_from_slice(b",\"detail\":");
        push_json_str(b, detail);
        b.extend_from_slice(b",\"instance\":");
        push_json_str(b, COBUILDER_PATH);
        b.extend_from_slice(b",\"extensions\":{");
        if trace {
            let seq = TOKEN_SEQ.fetch_add(1, Ordering::Relaxed);
            b.extend_from_slice(b"\"traceId\":\"00-");
            push_hex(b, process_seed());
            push_hex(b, seq);
            b.push(b'-');
            push_hex(b, seq ^ 0x9e37_79b9_7f4a_7c15);
            b.extend_from_slice(b"-00\"");
        }
        b.extend_from_slice(b"}}");
        self.finish(status, "application/problem+json", &[])
    }
}

fn push_header(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(value.as_bytes());
    buf.extend_from_slice(b"\r\n");
}

/// Appends `unix` seconds as an IMF-fixdate (RFC 9110 5.6.7), e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(super) fn push_http_date(out: &mut Vec<u8>, unix: i64) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Days to civil date (H. Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let two = |out: &mut Vec<u8>, n: i64| {
        out.push(b'0' + (n / 10 % 10) as u8);
        out.push(b'0' + (n % 10) as u8);
    };
    out.extend_from_slice(DAYS[days.rem_euclid(7) as usize].as_bytes());
    out.extend_from_slice(b", ");
    two(out, day);
    out.push(b' ');
    out.extend_from_slice(MONTHS[(month - 1) as usize].as_bytes());
    out.push(b' ');
    two(out, year.clamp(0, 9999) / 100);
    two(out, year.clamp(0, 9999) % 100);
    out.push(b' ');
    two(out, secs / 3600);
    out.push(b':');
    two(out, secs / 60 % 60);
    out.push(b':');
    two(out, secs % 60);
    out.extend_from_slice(b" GMT");
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::push_http_date;

    fn http_date(unix: i64) -> String {
        let mut out = Vec::new();
        push_http_date(&mut out, unix);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dates_are_imf_fixdates() {
        // RFC 9110 5.6.7's example, the epoch, a leap day, a negative time.
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(4_133_980_799), "Fri, 31 Dec 2100 23:59:59 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
    }
}
