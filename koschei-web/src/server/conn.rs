//! One client connection: request heads read under size limits and deadlines, requests handed
//! to the worker pool, responses written by `tiny_http` under a deadline.
//!
//! Each connection has its own thread (their number is bounded by
//! [`Options::max_connections`](super::Options::max_connections)), so a client that sends
//! slowly or reads slowly only ever holds its own thread, never a worker or a database
//! connection.

use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tiny_http::{HTTPVersion, Header, Method};

use super::{Reply, Shared};

/// Longest request line accepted (Apache httpd's `LimitRequestLine`); longer gives 414.
pub const MAX_REQUEST_LINE: usize = 8190;
/// Longest header field, name and value (httpd's `LimitRequestFieldSize`); longer gives 431.
pub const MAX_HEADER_FIELD: usize = 8190;
/// Most header fields in one request (httpd's `LimitRequestFields`); more gives 431.
pub const MAX_HEADERS: usize = 100;
/// Largest request head (request line and all headers); larger gives 431.
pub const MAX_HEAD: usize = 64 << 10;
/// How long unread request data is drained after an error reply before the connection is
/// closed, so that the client reads the reply instead of a reset.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;
/// Longest URL written to the access log; longer ones are cut and marked.
pub(crate) const LOGGED_URL: usize = 256;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Head {
    pub(crate) method: Method,
    /// The request target in origin form (`/path?query`).
    pub(crate) target: String,
    pub(crate) version: HTTPVersion,
    /// Whether the client wants the connection kept open.
    pub(crate) keep_alive: bool,
    /// The `Host` header, when it is a plausible host name and port.
    pub(crate) host: Option<String>,
    /// Whether a body follows (`Content-Length` > 0 or any `Transfer-Encoding`); bodies are
    /// never read, so such a connection is closed after the reply.
    pub(crate) has_body: bool,
}

/// Why no request head was read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The client closed the connection or stayed silent past the idle timeout before
    /// sending anything: close without a reply.
    Closed,
    /// The connection broke in the middle of a head.
    Io,
    /// A head was started but not finished in time: 408.
    Timeout,
    /// The head is refused with this status and text (400, 414, 431).
    Refused(u16, &'static str),
}

/// Parses the head at the start of `buf`: `Ok(None)` when more bytes are needed,
/// `Ok(Some((head, length)))` when complete, `Err((status, reason))` when refused.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, (u16, &'static str)> {
    // Empty lines before the request line are allowed (RFC 9112 section 2.2).
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    let line = &buf[start..];
    match line.iter().position(|b| *b == b'\n') {
        Some(end) if end > MAX_REQUEST_LINE + 1 => return Err((414, "request line too long")),
        None if line.len() > MAX_REQUEST_LINE + 1 => return Err((414, "request line too long")),
        _ => {}
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let length = match req.parse(buf) {
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err((431, "request header fields too large"));
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Ok(httparse::Status::Complete(n)) if n > MAX_HEAD => {
            return Err((431, "request header fields too large"));
        }
        Ok(httparse::Status::Complete(n)) => n,
        Err(httparse::Error::TooManyHeaders) => {
            return Err((431, "too many request header fields"));
        }
        Err(httparse::Error::Version) => return Err((505, "HTTP version not supported")),
        Err(_) => return Err((400, "malformed request")),
    };
    let method = req
        .method
        .and_then(|m| Method::from_str(m).ok())
        .ok_or((400, "malformed request method"))?;
    let path = req.path.ok_or((400, "malformed request target"))?;
    let target = origin_form(path).ok_or((400, "malformed request target"))?;
    let version = match req.version {
        Some(0) => HTTPVersion(1, 0),
        _ => HTTPVersion(1, 1),
    };
    let mut connection_close = false;
    let mut connection_keep_alive = false;
    let mut has_body = false;
    let mut host = None;
    for h in req.headers.iter() {
        if h.name.len() + h.value.len() + 2 > MAX_HEADER_FIELD {
            return Err((431, "request header field too large"));
        }
        let value = String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                connection_close |= token.eq_ignore_ascii_case("close");
                connection_keep_alive |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            has_body |= value.trim() != "0";
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        } else if h.name.eq_ignore_ascii_case("host") {
            let v = value.trim();
            if !v.is_empty()
                && v.len() <= 255
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            {
                host = Some(v.to_owned());
            }
        }
    }
    let keep_alive = !connection_close && (version == HTTPVersion(1, 1) || connection_keep_alive);
    Ok(Some((
        Head {
            method,
            target,
            version,
            keep_alive,
            host,
            has_body,
        },
        length,
    )))
}

/// `/path?q` from an origin-form or absolute-form target; `None` for anything else.
fn origin_form(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return Some(path.to_owned());
    }
    let rest = path
        .strip_prefix("http://")
        .or_else(|| path.strip_prefix("https://"))?;
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => Some(rest[i..].to_owned()),
        Some(i) => Some(format!("/{}", &rest[i..])),
        None => Some("/".to_owned()),
    }
}

/// Reads the next request head into `buf` (which may already hold bytes of it).
///
/// Waits `idle` for the first byte, then `read` for the whole head.
fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    idle: Duration,
    read: Duration,
) -> Result<(Head, usize), HeadError> {
    let first_byte_by = Instant::now() + idle;
    let mut head_by = (!buf.is_empty()).then(|| Instant::now() + read);
    let mut chunk = [0u8; 8192];
    loop {
        if !buf.is_empty() {
            match parse_head(buf) {
                Ok(Some(done)) => return Ok(done),
                Ok(None) => {}
                Err((status, text)) => return Err(HeadError::Refused(status, text)),
            }
        }
        let deadline = head_by.unwrap_or(first_byte_by);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if head_by.is_none() {
                HeadError::Closed
            } else {
                HeadError::Timeout
            });
        }
        if stream.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::Io);
        }
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Err(HeadError::Closed),
            Ok(0) => return Err(HeadError::Io),
            Ok(n) => {
                if head_by.is_none() {
                    head_by = Some(Instant::now() + read);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) if buf.is_empty() => return Err(HeadError::Closed),
            Err(_) => return Err(HeadError::Io),
        }
    }
}

/// A writer that fails once `deadline` has passed, so a client that reads slowly (or not at
/// all) cannot hold its connection longer than the write timeout.
struct DeadlineWriter<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Write for DeadlineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "response not taken by the client in time",
            ));
        }
        self.stream.set_write_timeout(Some(left))?;
        match (&*self.stream).write(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "response not taken by the client in time",
            )),
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.stream).flush()
    }
}

/// Writes `reply` through `tiny_http`'s response writer.
fn write_reply(
    stream: &TcpStream,
    reply: Reply,
    version: HTTPVersion,
    head_only: bool,
    keep_alive: bool,
    timeout: Duration,
) -> io::Result<()> {
    let mut response = reply.into_response().with_chunked_threshold(usize::MAX);
    let connection = match (keep_alive, version == HTTPVersion(1, 0)) {
        (false, _) => Some(&b"close"[..]),
        (true, true) => Some(&b"keep-alive"[..]),
        (true, false) => None,
    };
    if let Some(value) = connection
        && let Ok(h) = Header::from_bytes(&b"Connection"[..], value)
    {
        response.add_header(h);
    }
    let mut writer = BufWriter::with_capacity(
        64 << 10,
        DeadlineWriter {
            stream,
            deadline: Instant::now() + timeout,
        },
    );
    response.raw_print(&mut writer, version, &[], head_only, None)?;
    writer.flush()
}

/// Closes after an error reply: stops sending, then drains what the client still sends for a
/// moment, so the reply is read rather than lost to a connection reset.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// `url` cut to [`LOGGED_URL`] bytes (at a character boundary), with the full length noted.
pub(crate) fn loggable_url(url: &str) -> std::borrow::Cow<'_, str> {
    if url.len() <= LOGGED_URL {
        return url.into();
    }
    let mut end = LOGGED_URL;
    while !url.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &url[..end], url.len()).into()
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Serves one connection until it closes, times out or the server stops.
pub(super) fn serve_connection(shared: &Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    let limits = &shared.limits;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut idle = limits.read_timeout;
    loop {
        let (head, length) = match read_head(&mut stream, &mut buf, idle, limits.read_timeout) {
            Ok(h) => h,
            Err(HeadError::Closed | HeadError::Io) => return,
            Err(HeadError::Timeout) => {
                refuse(
                    shared,
                    &mut stream,
                    peer,
                    408,
                    "request not received in time",
                );
                return;
            }
            Err(HeadError::Refused(status, text)) => {
                refuse(shared, &mut stream, peer, status, text);
                return;
            }
        };
        buf.drain(..length);
        let started = Instant::now();
        let busy = shared.active.load(Ordering::Relaxed) * 4 > limits.max_connections * 3;
        let keep_alive =
            head.keep_alive && !head.has_body && !busy && !shared.stop.load(Ordering::SeqCst);
        let done = shared.dispatch(head.method.clone(), head.target.clone(), head.host.clone());
        let reply = done.reply;
        let (status, bytes) = (reply.status, reply.body.len());
        shared.state.http.observe(
            crate::metrics::route_label(&head.target),
            status,
            started.elapsed(),
        );
        let written = write_reply(
            &stream,
            reply,
            head.version,
            head.method == Method::Head,
            keep_alive,
            limits.write_timeout,
        );
        tracing::info!(
            target: "koschei_web::access",
            method = %head.method,
            url = %loggable_url(&head.target),
            status,
            bytes,
            micros = micros(started.elapsed()),
            queue_micros = micros(done.waited),
            handler_micros = micros(done.handled),
            "request"
        );
        if let Err(e) = written {
            tracing::debug!(error = %e, %peer, "response not delivered");
            return;
        }
        if !keep_alive {
            if head.has_body {
                linger_close(&mut stream);
            }
            return;
        }
        idle = limits.keep_alive_timeout;
    }
}

/// Answers a head that was refused (or not finished in time) and closes.
fn refuse(shared: &Shared, stream: &mut TcpStream, peer: SocketAddr, status: u16, text: &str) {
    tracing::info!(target: "koschei_web::access", %peer, status, reason = text, "request refused");
    let reply = Reply::text(status, &format!("{text}\n"));
    if write_reply(
        stream,
        reply,
        HTTPVersion(1, 1),
        false,
        false,
        shared.limits.write_timeout,
    )
    .is_ok()
    {
        linger_close(stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> Head {
        match parse_head(raw.as_bytes()) {
            Ok(Some((h, n))) => {
                assert_eq!(n, raw.len());
                h
            }
            other => panic!("{raw:?}: {other:?}"),
        }
    }

    #[test]
    fn heads_parse_with_keep_alive_and_body_flags() {
        let h = ok("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.target, "/a?b=1");
        assert!(h.keep_alive && !h.has_body);
        assert_eq!(h.host.as_deref(), Some("x"));
        assert_eq!(ok("GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n").host, None);
        assert!(!ok("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(ok("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").has_body);
        assert!(ok("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_body);
        assert!(!ok("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").has_body);
        assert_eq!(ok("\r\nGET / HTTP/1.1\r\n\r\n").target, "/");
        assert_eq!(ok("GET http://h:1/p?q HTTP/1.1\r\n\r\n").target, "/p?q");
        assert_eq!(ok("GET http://h?q HTTP/1.1\r\n\r\n").target, "/?q");
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Ok(None)
        ));
    }

    #[test]
    fn oversized_or_malformed_heads_are_refused() {
        let status = |raw: &[u8]| parse_head(raw).err().map(|(s, _)| s);
        let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(status(long_target.as_bytes()), Some(414));
        // Refused before the line ends.
        assert_eq!(
            status(&long_target.as_bytes()[..MAX_REQUEST_LINE + 10]),
            Some(414)
        );
        let long_field = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "b".repeat(MAX_HEADER_FIELD)
        );
        assert_eq!(status(long_field.as_bytes()), Some(431));
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(status(many.as_bytes()), Some(431));
        let endless = format!("GET / HTTP/1.1\r\n{}", "C: d\r\n".repeat(MAX_HEAD / 6 + 1));
        assert!(matches!(status(endless.as_bytes()), Some(431)));
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), Some(505));
        assert_eq!(status(b"\x01\x02 / HTTP/1.1\r\n\r\n"), Some(400));
        assert_eq!(status(b"GET * HTTP/1.1\r\n\r\n"), Some(400));
    }

    #[test]
    fn logged_urls_are_cut() {
        assert_eq!(loggable_url("/a"), "/a");
        let long = format!("/{}", "é".repeat(400));
        let cut = loggable_url(&long);
        assert!(cut.len() < LOGGED_URL + 20, "{}", cut.len());
        assert!(cut.ends_with(&format!("… ({} bytes)", long.len())), "{cut}");
    }
}
