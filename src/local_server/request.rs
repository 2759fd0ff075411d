//! Reading a request: the request line and headers into byte ranges, the
//! body by `Content-Length` or chunked, within the size limits; media types
//! and form-urlencoded text.

use std::io::{self, BufRead, Read};
use std::ops::Range;

const MAX_HEAD: usize = 16 * 1024;
pub(super) const MAX_BODY: usize = 1024 * 1024;

/// Byte ranges into `Conn::head`, so parsing a request allocates nothing.
pub(super) struct Head {
    pub(super) method: Range<usize>,
    pub(super) target: Range<usize>,
    pub(super) http10: bool,
    pub(super) content_length: Option<usize>,
    pub(super) chunked: bool,
    pub(super) content_type: Option<Range<usize>>,
    pub(super) authorization: Option<Range<usize>>,
    pub(super) close: bool,
    pub(super) expect_continue: bool,
    /// The header lines, raw, CRLFs included.
    pub(super) headers: Range<usize>,
}

pub(super) enum ReadOutcome {
    Request(Head),
    /// The request cannot be framed: answer with this status, then close.
    Reject(u16, &'static str),
    Eof,
}

pub(super) struct Request<'a> {
    pub(super) secure: bool,
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) content_type: Option<&'a str>,
    pub(super) authorization: Option<&'a str>,
    /// The header lines, raw (for the protected resource's echo).
    pub(super) headers: &'a [u8],
    /// The client certificate of a mutual-TLS connection (DER).
    pub(super) client_cert: Option<&'a [u8]>,
    pub(super) body: &'a [u8],
}

/// Reads the request line and headers into `buf` (at most `MAX_HEAD` bytes).
pub(super) fn read_head(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<ReadOutcome> {
    buf.clear();
    let mut head: Option<Head> = None;
    loop {
        let start = buf.len();
        let room = MAX_HEAD.saturating_sub(start);
        if room == 0 {
            return Ok(ReadOutcome::Reject(431, "Request header fields too large"));
        }
        let n = reader.take(room as u64).read_until(b'\n', buf)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            if n > 0 && buf.len() >= MAX_HEAD {
                return Ok(ReadOutcome::Reject(431, "Request header fields too large"));
            }
            // EOF: nothing to answer, whether idle or mid-request.
            return Ok(ReadOutcome::Eof);
        }
        let mut end = buf.len() - 1;
        if end > start && buf[end - 1] == b'\r' {
            end -= 1;
        }
        let line = start..end;
        match head.as_mut() {
            None if line.is_empty() => {
                // Stray CRLF between requests (RFC 9112 2.2).
                buf.clear();
            }
            None => match parse_request_line(buf, line) {
                Some(mut h) => {
                    h.headers = buf.len()..buf.len();
                    head = Some(h);
                }
                None => return Ok(ReadOutcome::Reject(400, "Malformed request line")),
            },
            Some(_) if line.is_empty() => {
                return Ok(head.map_or(ReadOutcome::Eof, ReadOutcome::Request));
            }
            Some(h) => {
                if let Err(message) = parse_header(buf, line, h) {
                    return Ok(ReadOutcome::Reject(400, message));
                }
                h.headers.end = buf.len();
            }
        }
    }
}

fn parse_request_line(buf: &[u8], line: Range<usize>) -> Option<Head> {
    let bytes = &buf[line.clone()];
    if !bytes.is_ascii() {
        return None;
    }
    let sp1 = bytes.iter().position(|&b| b == b' ')?;
    let sp2 = sp1 + 1 + bytes[sp1 + 1..].iter().position(|&b| b == b' ')?;
    let version = &bytes[sp2 + 1..];
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return None,
    };
    if sp1 == 0 || sp2 == sp1 + 1 || bytes[sp1 + 1..sp2].contains(&b' ') {
        return None;
    }
    Some(Head {
        method: line.start..line.start + sp1,
        target: line.start + sp1 + 1..line.start + sp2,
        http10,
        content_length: None,
        chunked: false,
        content_type: None,
        authorization: None,
        close: false,
        expect_continue: false,
        headers: 0..0,
    })
}

fn parse_header(buf: &[u8], line: Range<usize>, head: &mut Head) -> Result<(), &'static str> {
    let bytes = &buf[line.clone()];
    if bytes[0] == b' ' || bytes[0] == b'\t' {
        return Err("Obsolete header line folding");
    }
    let colon = bytes
        .iter()
        .position(|&b| b == b':')
        .ok_or("Malformed header line")?;
    let name = &bytes[..colon];
    let mut value = line.start + colon + 1..line.end;
    while value.start < value.end && matches!(buf[value.start], b' ' | b'\t') {
        value.start += 1;
    }
    while value.end > value.start && matches!(buf[value.end - 1], b' ' | b'\t') {
        value.end -= 1;
    }
    let v = &buf[value.clone()];
    if name.eq_ignore_ascii_case(b"content-length") {
        let parsed = std::str::from_utf8(v)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or("Invalid Content-Length")?;
        if head.content_length.is_some_and(|old| old != parsed) {
            return Err("Conflicting Content-Length headers");
        }
        head.content_length = Some(parsed);
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        head.chunked = has_token(v, b"chunked");
    } else if name.eq_ignore_ascii_case(b"content-type") {
        head.content_type = Some(value);
    } else if name.eq_ignore_ascii_case(b"authorization") {
        head.authorization = Some(value);
    } else if name.eq_ignore_ascii_case(b"connection") {
        head.close |= has_token(v, b"close");
    } else if name.eq_ignore_ascii_case(b"expect") {
        head.expect_continue = v.eq_ignore_ascii_case(b"100-continue");
    }
    Ok(())
}

/// Whether a comma-separated header value lists `token`.
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Reads the body into `body`. Ok(Err(status)) means it may not be read.
pub(super) fn read_body(
    reader: &mut impl BufRead,
    head: &Head,
    body: &mut Vec<u8>,
) -> io::Result<Result<(), u16>> {
    body.clear();
    if head.chunked {
        return read_chunked(reader, body);
    }
    let Some(len) = head.content_length else {
        return Ok(Ok(()));
    };
    if len > MAX_BODY {
        return Ok(Err(413));
    }
    body.resize(len, 0);
    reader.read_exact(body)?;
    Ok(Ok(()))
}

fn read_chunked(reader: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<Result<(), u16>> {
    let mut line = Vec::with_capacity(32);
    loop {
        line.clear();
        reader.take(1024).read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let size_text = line
            .split(|&b| b == b';' || b == b'\r' || b == b'\n')
            .next();
        let size = size_text
            .and_then(|s| std::str::from_utf8(s.trim_ascii()).ok())
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or(io::ErrorKind::InvalidData)?;
        if size == 0 {
            // Trailer section, ended by an empty line.
            loop {
                line.clear();
                reader.take(MAX_HEAD as u64).read_until(b'\n', &mut line)?;
                if line.last() != Some(&b'\n') {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                if line.trim_ascii().is_empty() {
                    return Ok(Ok(()));
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Ok(Err(413));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
}

pub(super) fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

pub(super) fn is_json_media(media: &str) -> bool {
    media.eq_ignore_ascii_case("application/json")
        || media.len() > 5 && media[media.len() - 5..].eq_ignore_ascii_case("+json")
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, a bad
/// escape is kept as written.
pub(super) fn form_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_val);
                let lo = input.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
