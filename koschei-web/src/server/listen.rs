//! The accept loop: survives accept errors, bounds the connections and sheds the rest.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Shared;

/// The reply to a connection the server has no room for.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 29\r\n\
Retry-After: 5\r\n\
Connection: close\r\n\
\r\n\
server busy, try again later\n";

/// Pause after an accept error that is not about descriptors (memory, buffers).
const ERROR_PAUSE: Duration = Duration::from_millis(50);
/// At most one warning per this interval while accept keeps failing.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// Accept failures, logged once per [`WARN_EVERY`] with a count.
#[derive(Debug, Default)]
struct ErrorLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl ErrorLog {
    fn note(&mut self, error: &std::io::Error, what: &str) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < WARN_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(
            error = %error,
            repeated = self.suppressed,
            "accepting a connection failed; {what}"
        );
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// Answers 503 without a thread and closes. Unread request bytes are drained first
/// (without waiting), so that the close does not turn into a reset that hides the reply.
pub(super) fn shed(stream: TcpStream) {
    let _ = stream.set_nonblocking(true);
    let mut sink = [0u8; 8192];
    let _ = (&stream).read(&mut sink);
    let _ = (&stream).write_all(BUSY);
    let _ = stream.shutdown(Shutdown::Write);
}

/// A descriptor held in reserve: when the process runs out of descriptors, it is closed to
/// accept (and refuse) one waiting connection, then opened again.
fn reserve() -> Option<File> {
    File::open("/dev/null").ok()
}

/// Accepts until the server stops. Never gives up on an accept error: descriptor exhaustion
/// refuses waiting clients with 503 (through the reserve descriptor) until descriptors are
/// free again; other errors pause briefly.
pub(super) fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut spare = reserve();
    let mut errors = ErrorLog::default();
    loop {
        let accepted = listener.accept();
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match accepted {
            Ok((stream, peer)) => {
                if shared.active.load(Ordering::SeqCst) >= shared.limits.max_connections {
                    tracing::debug!(%peer, "connection limit reached, refusing");
                    shared.shed.fetch_add(1, Ordering::Relaxed);
                    shed(stream);
                    continue;
                }
                super::spawn_connection(shared, stream, peer);
            }
            Err(e) => match e.raw_os_error() {
                Some(libc::EMFILE | libc::ENFILE) => {
                    errors.note(&e, "refusing connections until descriptors are free");
                    if spare.take().is_some() {
                        if let Ok((stream, _)) = listener.accept() {
                            shared.shed.fetch_add(1, Ordering::Relaxed);
                            shed(stream);
                        }
                        spare = reserve();
                    } else {
                        std::thread::sleep(ERROR_PAUSE);
                        spare = reserve();
                    }
                }
                // The client gave up before we took its connection, or a signal.
                Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => {}
                _ => {
                    errors.note(&e, "retrying");
                    std::thread::sleep(ERROR_PAUSE);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_reply_has_the_right_length() {
        let text = std::str::from_utf8(BUSY).unwrap_or_default();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
    }
}
