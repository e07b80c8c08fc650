//! A minimal HTTP/1.1 server on `std::net`: keep-alive, `Content-Length` bodies, and the ability to drop a
//! connection on purpose (which a higher-level server library would hide).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Header names lowercased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send a response.
    Respond {
        status: u16,
        reason: &'static str,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
    /// `401 Unauthorized` with `WWW-Authenticate: Negotiate`, as Apache's mod_auth_gssapi answers
    /// a request without a valid Kerberos token.
    Unauthorized { body: Vec<u8> },
}

/// Handler type.
pub(crate) type Handler = dyn Fn(Request) -> Reply + Send + Sync;

/// The listening server; stops accepting when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving on a random port of 127.0.0.1, over TLS when `tls` is given.
    pub(crate) fn start(
        handler: Arc<Handler>,
        tls: Option<openssl::ssl::SslAcceptor>,
    ) -> std::io::Result<Server> {
        let tls = tls.map(Arc::new);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fakehub-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = handler.clone();
                    let stop3 = stop2.clone();
                    let tls = tls.clone();
                    let _ = std::thread::Builder::new()
                        .name("fakehub-conn".into())
                        .spawn(move || {
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                            let _ = stream.set_nodelay(true);
                            match tls {
                                None => serve(stream, &*handler, &stop3),
                                Some(acceptor) => {
                                    // A failed handshake (an untrusting client) just ends.
                                    if let Ok(s) = acceptor.accept(stream) {
                                        serve(s, &*handler, &stop3);
                                    }
                                }
                            }
                        });
                }
            })?;
        Ok(Server {
            port,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop up.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A connection: plain TCP or TLS over TCP.
trait Conn: Read + Write {
    fn tcp(&self) -> &TcpStream;
}

impl Conn for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Conn for openssl::ssl::SslStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref()
    }
}

fn serve<C: Conn>(stream: C, handler: &Handler, stop: &AtomicBool) {
    let mut reader = BufReader::new(stream);
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match handler(request) {
            Reply::Unauthorized { body } => {
                let head = format!(
                    "HTTP/1.1 401 Unauthorized\r\nServer: koschei-fakehub\r\nWWW-Authenticate: Negotiate\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let mut out = head.into_bytes();
                out.extend_from_slice(&body);
                if reader.get_mut().write_all(&out).is_err() {
                    return;
                }
                let _ = reader.get_mut().flush();
            }
            Reply::Drop => {
                let _ = reader.get_ref().tcp().shutdown(Shutdown::Both);
                return;
            }
            Reply::Respond {
                status,
                reason,
                content_type,
                body,
            } => {
                let head = format!(
                    "HTTP/1.1 {status} {reason}\r\nServer: koschei-fakehub\r\nKoji-Version: 1.35.3\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                // One write: a separate small body write would wait for the peer's delayed ACK.
                let mut out = head.into_bytes();
                out.extend_from_slice(&body);
                if reader.get_mut().write_all(&out).is_err() {
                    return;
                }
                let _ = reader.get_mut().flush();
                if close {
                    return;
                }
            }
        }
    }
}

fn read_request<C: Conn>(reader: &mut BufReader<C>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}
