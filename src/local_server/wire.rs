//! The accept loop and the HTTP/1.1 connection loop: one thread per
//! connection, keep-alive, `100 Continue`, and the replies that break the
//! protocol on purpose (drip, oversize, reset, send then close).

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::faults::{OVERSIZE_TAIL, OVERSIZE_TOKEN_LEN};
use super::request::{MAX_BODY, ReadOutcome, Request, read_body, read_head};
use super::response::Out;
use super::routes::route;
use super::shared::{Shared, lock};

pub(super) fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    tls: Option<&Arc<ServerConfig>>,
) {
    loop {
        let accepted = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or an aborted handshake: back off briefly.
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let for_conn = Arc::clone(shared);
        let tls = tls.map(Arc::clone);
        let spawned = thread::Builder::new()
            .name("bearer-local-conn".into())
            .spawn(move || {
                match tls {
                    None => serve_connection(&for_conn, stream, false),
                    // The handshake runs on the first read.
                    Some(config) => {
                        if let Ok(session) = ServerConnection::new(config) {
                            serve_connection(&for_conn, StreamOwned::new(session, stream), true);
                        }
                    }
                }
                lock(&for_conn.conns).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.conns).remove(&id);
        }
    }
}

/// A connection's byte stream: plain TCP, or TLS over it.
pub(super) trait Wire: Read + Write {
    fn tcp(&self) -> &TcpStream;

    /// The client's certificate (DER), once a mutual-TLS handshake is done.
    fn client_certificate(&self) -> Option<Vec<u8>> {
        None
    }

    /// Ends the sending side (TLS: close_notify first).
    fn shutdown_write(&mut self) {
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl Wire for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

/// Per-connection buffers, reused by every request on the connection.
struct Conn<S> {
    reader: BufReader<S>,
    head: Vec<u8>,
    body: Vec<u8>,
    out: Out,
    /// Came in on the HTTPS listener.
    secure: bool,
    /// The mutual-TLS client certificate, read after the handshake.
    client_cert: Option<Vec<u8>>,
}

/// What the connection loop does after a handler ran.
pub(super) enum Reply {
    /// `out.buf` holds a complete response.
    Send,
    /// Send `out.buf`, then close (a deliberately broken response).
    SendThenClose,
    /// Close without answering.
    Close,
    /// Send `out.buf` (headers), then the streamed 2 MiB body.
    Oversize,
    /// Send the head in `out.buf`, then its body a byte every N ms.
    Drip(u64),
    /// Close with a TCP reset instead of answering.
    Reset,
}

fn serve_connection<S: Wire>(shared: &Shared, stream: S, secure: bool) {
    let mut conn = Conn {
        reader: BufReader::with_capacity(8 * 1024, stream),
        head: Vec::with_capacity(1024),
        body: Vec::new(),
        out: Out {
            buf: Vec::with_capacity(1024),
            body: Vec::with_capacity(1024),
            close: false,
            head_only: false,
            clock_offset: 0,
            stamp: None,
            content_type: None,
            body_start: 0,
        },
        secure,
        client_cert: None,
    };
    while !shared.is_stopping() {
        match serve_one(shared, &mut conn) {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

/// Serves one request; Ok(true) keeps the connection open.
fn serve_one<S: Wire>(shared: &Shared, conn: &mut Conn<S>) -> io::Result<bool> {
    let head = match read_head(&mut conn.reader, &mut conn.head)? {
        ReadOutcome::Request(head) => head,
        ReadOutcome::Eof => return Ok(false),
        ReadOutcome::Reject(status, message) => {
            conn.out.start(true, false);
            conn.out.json_error(status, "invalid_request", message);
            write_all(&mut conn.reader, &conn.out.buf)?;
            close_gently(&mut conn.reader);
            return Ok(false);
        }
    };
    if head.expect_continue
        && !head.http10
        && (head.chunked || head.content_length.is_some_and(|n| n > 0))
    {
        write_all(&mut conn.reader, b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if let Err(status) = read_body(&mut conn.reader, &head, &mut conn.body)? {
        conn.out.start(true, false);
        conn.out
            .json_error(status, "invalid_request", "Request body too large");
        write_all(&mut conn.reader, &conn.out.buf)?;
        close_gently(&mut conn.reader);
        return Ok(false);
    }

    if conn.secure && conn.client_cert.is_none() {
        conn.client_cert = conn.reader.get_ref().client_certificate();
    }
    let text = |r: &Range<usize>| std::str::from_utf8(&conn.head[r.clone()]).unwrap_or("");
    let method = text(&head.method);
    let mut target = text(&head.target);
    // Absolute form, as a proxy-minded client may send it.
    if let Some(rest) = target.strip_prefix("http://") {
        target = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let req = Request {
        secure: conn.secure,
        method,
        path,
        query,
        content_type: head.content_type.as_ref().map(text),
        authorization: head.authorization.as_ref().map(text),
        headers: &conn.head[head.headers.clone()],
        client_cert: conn.client_cert.as_deref(),
        body: &conn.body,
    };
    let close = head.close || head.http10;
    conn.out.start(close, method == "HEAD");
    let reply = route(shared, &req, &mut conn.out);

    let stream = &mut conn.reader;
    match reply {
        Reply::Send => {
            write_all(stream, &conn.out.buf)?;
            Ok(!close)
        }
        Reply::SendThenClose => {
            write_all(stream, &conn.out.buf)?;
            Ok(false)
        }
        Reply::Close => Ok(false),
        Reply::Oversize => {
            static FILLER: [u8; 64 * 1024] = [b'a'; 64 * 1024];
            write_all(stream, &conn.out.buf)?;
            let mut left = OVERSIZE_TOKEN_LEN;
            while left > 0 {
                let n = left.min(FILLER.len());
                write_all(stream, &FILLER[..n])?;
                left -= n;
            }
            write_all(stream, OVERSIZE_TAIL.as_bytes())?;
            Ok(!close)
        }
        Reply::Drip(ms) => {
            let (head, body) = conn.out.buf.split_at(conn.out.body_start);
            write_all(stream, head)?;
            for byte in body.chunks(1) {
                if !shared.stall(ms) {
                    return Ok(false);
                }
                write_all(stream, byte)?;
            }
            Ok(!close)
        }
        Reply::Reset => {
            // The RST goes out when the last descriptor closes: this one
            // and the clone in `Shared::conns`, both dropped on return.
            let _ = linger_zero(stream.get_ref().tcp());
            Ok(false)
        }
    }
}

/// SO_LINGER on with a zero timeout: close() then sends RST, not FIN.
#[cfg(target_os = "linux")]
fn linger_zero(stream: &TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a socket descriptor we own, and an option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// std cannot set SO_LINGER (unstable), and libc is a Linux-only dependency.
#[cfg(not(target_os = "linux"))]
fn linger_zero(_stream: &TcpStream) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

fn write_all<S: Wire>(reader: &mut BufReader<S>, bytes: &[u8]) -> io::Result<()> {
    let stream = reader.get_mut();
    stream.write_all(bytes)?;
    stream.flush()
}

/// Closing with unread input makes the kernel send a reset, which can
/// destroy the error answer before the client reads it; so stop writing,
/// then drain for a moment.
fn close_gently<S: Wire>(reader: &mut BufReader<S>) {
    reader.get_mut().shutdown_write();
    let mut stream: &TcpStream = reader.get_ref().tcp();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 8192];
    let mut budget = 2 * MAX_BODY;
    while budget > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}
