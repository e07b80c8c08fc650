//! The HTTP server: a `tiny_http` listener, a fixed pool of worker threads sharing an r2d2
//! pool of PostgreSQL connections, and per-request logging and panic isolation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Response};

use crate::format::KojiLinks;
use crate::priority::PriorityWeights;
use crate::routes;

/// The pool of PostgreSQL connections the server reads through (koschei-core's).
pub use koschei_core::db::Pool;

/// Settings of the web server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of worker threads answering requests (at least 1).
    pub workers: usize,
    /// Koji web UI URL, for `taskinfo` links.
    pub koji_weburl: String,
    /// Koji top URL, for task results and logs.
    pub koji_topurl: String,
    /// Web UI URL of the secondary Koji (real builds of secondary-mode collections).
    pub secondary_koji_weburl: Option<String>,
    /// Top URL of the secondary Koji.
    pub secondary_koji_topurl: Option<String>,
    /// Rows per package list page.
    pub packages_per_page: i64,
    /// History entries per package page.
    pub builds_per_page: i64,
    /// Priority weights (for the current priority shown).
    pub priority: PriorityWeights,
    /// How long a successful page or API response may be served again from memory
    /// (zero disables the cache). Koschei's data changes on the scale of minutes, so a
    /// short cache costs nothing in freshness and absorbs bursts on popular pages.
    pub cache_ttl: Duration,
}

impl Default for Options {
    /// The original's defaults (Fedora Koji URLs, 100 packages and 15 builds per page).
    fn default() -> Self {
        Options {
            workers: 8,
            koji_weburl: "https://koji.fedoraproject.org/koji".into(),
            koji_topurl: "https://kojipkgs.fedoraproject.org".into(),
            secondary_koji_weburl: None,
            secondary_koji_topurl: None,
            packages_per_page: 100,
            builds_per_page: 15,
            priority: PriorityWeights::default(),
            cache_ttl: Duration::from_secs(1),
        }
    }
}

/// Starting the server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on `{addr}`")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A worker thread could not be started.
    #[error("cannot start worker thread")]
    Spawn(#[source] std::io::Error),
}

/// Shared by all workers.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) pool: Pool,
    pub(crate) options: Options,
    pub(crate) koji: KojiLinks,
    pub(crate) secondary_koji: Option<KojiLinks>,
    pub(crate) cache: ResponseCache,
    /// Package list totals by (collection, untracked, filter), kept as long as responses.
    pub(crate) totals: Mutex<HashMap<String, (Instant, i64)>>,
}

/// Successful responses by request target, each fresh for `ttl`.
///
/// When an entry is stale, the first request recomputes it while concurrent requests for the
/// same target keep getting the stale copy, so an expensive page is computed once per
/// `ttl` instead of by every worker at the same moment.
#[derive(Debug, Default)]
pub(crate) struct ResponseCache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

#[derive(Debug)]
struct CacheEntry {
    at: Instant,
    refreshing: bool,
    reply: Reply,
}

/// At most this many responses are cached; bodies above `MAX_CACHED_BODY` are not.
const MAX_CACHED: usize = 512;
const MAX_CACHED_BODY: usize = 256 << 10;
const REFRESH_GRACE: Duration = Duration::from_secs(30);

impl ResponseCache {
    /// A fresh (or being refreshed) response, or `None` when the caller must compute it.
    pub(crate) fn get(&self, key: &str, ttl: Duration, now: Instant) -> Option<Reply> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get_mut(key)?;
        let age = now.duration_since(entry.at);
        // A refresh that has not finished within a grace period (its request panicked or
        // hangs) is taken over by the next request.
        if age < ttl || (entry.refreshing && age < ttl + REFRESH_GRACE) {
            return Some(entry.reply.clone());
        }
        entry.refreshing = true;
        None
    }

    /// Stores a computed response (only successes), or ends a refresh that failed.
    pub(crate) fn put(&self, key: &str, reply: &Reply, ttl: Duration, now: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if reply.status != 200 || reply.body.len() > MAX_CACHED_BODY {
            entries.remove(key);
            return;
        }
        if entries.len() >= MAX_CACHED {
            entries.retain(|_, e| now.duration_since(e.at) < ttl);
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
        }
        entries.insert(
            key.to_owned(),
            CacheEntry {
                at: now,
                refreshing: false,
                reply: reply.clone(),
            },
        );
    }
}

/// A running server. Dropping it (or [`Server::shutdown`]) stops the workers and closes the
/// listening socket.
pub struct Server {
    addr: SocketAddr,
    http: Arc<tiny_http::Server>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl Server {
    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets running requests finish and joins the workers.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Blocks until the server stops (it stops only on shutdown from another thread or on
    /// process exit).
    pub fn wait(mut self) {
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    fn stop_workers(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for _ in 0..self.workers.len() {
            self.http.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_workers();
    }
}

/// Starts the server on `listen` (for example `127.0.0.1:5000`, or port 0 for any free
/// port) and returns once it accepts connections.
pub fn serve(listen: &str, pool: Pool, options: Options) -> Result<Server, Error> {
    let http =
        tiny_http::Server::from_listener(bind(listen)?, None).map_err(|source| Error::Bind {
            addr: listen.to_owned(),
            source,
        })?;
    let addr = match http.server_addr() {
        tiny_http::ListenAddr::IP(a) => a,
        #[allow(unreachable_patterns)]
        _ => {
            return Err(Error::Bind {
                addr: listen.to_owned(),
                source: "not an IP address".into(),
            });
        }
    };
    let http = Arc::new(http);
    let stop = Arc::new(AtomicBool::new(false));
    let koji = KojiLinks {
        weburl: options.koji_weburl.clone(),
        topurl: options.koji_topurl.clone(),
    };
    let secondary_koji = match (
        &options.secondary_koji_weburl,
        &options.secondary_koji_topurl,
    ) {
        (Some(w), Some(t)) => Some(KojiLinks {
            weburl: w.clone(),
            topurl: t.clone(),
        }),
        _ => None,
    };
    let n = options.workers.max(1);
    let state = Arc::new(AppState {
        pool,
        options,
        koji,
        secondary_koji,
        cache: ResponseCache::default(),
        totals: Mutex::new(HashMap::new()),
    });
    let mut server = Server {
        addr,
        http: Arc::clone(&http),
        stop: Arc::clone(&stop),
        workers: Vec::with_capacity(n),
    };
    for i in 0..n {
        let http = Arc::clone(&http);
        let stop = Arc::clone(&stop);
        let state = Arc::clone(&state);
        let handle = std::thread::Builder::new()
            .name(format!("koschei-web-{i}"))
            .spawn(move || worker(&http, &stop, &state))
            .map_err(Error::Spawn)?;
        server.workers.push(handle);
    }
    tracing::info!(%addr, workers = n, "koschei-web listening");
    Ok(server)
}

/// Binds the listening socket with `TCP_NODELAY`, which accepted connections inherit.
///
/// `tiny_http` writes a response in several pieces; without `TCP_NODELAY` the last piece
/// waits for the client's delayed ACK (40 ms on Linux) on every keep-alive request.
fn bind(listen: &str) -> Result<std::net::TcpListener, Error> {
    let err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Bind {
        addr: listen.to_owned(),
        source,
    };
    let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(listen)
        .map_err(|e| err(e.into()))?
        .next()
        .ok_or_else(|| err("address resolves to nothing".into()))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(|e| err(e.into()))?;
    socket.set_reuse_address(true).map_err(|e| err(e.into()))?;
    socket.set_tcp_nodelay(true).map_err(|e| err(e.into()))?;
    socket.bind(&addr.into()).map_err(|e| err(e.into()))?;
    socket.listen(1024).map_err(|e| err(e.into()))?;
    Ok(socket.into())
}

fn worker(http: &tiny_http::Server, stop: &AtomicBool, state: &AppState) {
    loop {
        match http.recv() {
            Ok(request) => handle(state, request),
            Err(e) => {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                tracing::debug!(error = %e, "accept failed");
            }
        }
    }
}

fn handle(state: &AppState, request: tiny_http::Request) {
    let started = Instant::now();
    let method = request.method().clone();
    let url = request.url().to_owned();
    let reply = match catch_unwind(AssertUnwindSafe(|| routes::route(state, &method, &url))) {
        Ok(reply) => reply,
        Err(_) => {
            tracing::error!(%method, url, "request handler panicked");
            Reply::text(500, "internal server error\n")
        }
    };
    let status = reply.status;
    let bytes = reply.body.len();
    if let Err(e) = request.respond(reply.into_response()) {
        tracing::debug!(error = %e, url, "client went away");
    }
    tracing::info!(
        target: "koschei_web::access",
        %method,
        url,
        status,
        bytes,
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
}

/// A response before it is handed to `tiny_http`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// Scripts are never needed; forbidding them is a second line of defence behind escaping.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";

impl Reply {
    pub(crate) fn html(status: u16, markup: maud::Markup) -> Self {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: markup.into_string().into_bytes(),
            headers: vec![("Content-Security-Policy", CSP.to_owned())],
        }
    }

    pub(crate) fn text(status: u16, text: &str) -> Self {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Reply {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn redirect(location: &str) -> Self {
        Reply {
            status: 302,
            content_type: "text/plain; charset=utf-8",
            body: Vec::new(),
            headers: vec![("Location", location.to_owned())],
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn into_response(self) -> Response<std::io::Cursor<Vec<u8>>> {
        let mut resp = Response::from_data(self.body).with_status_code(self.status);
        let mut add = |name: &str, value: &str| {
            if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                resp.add_header(h);
            }
        };
        add("Content-Type", self.content_type);
        add("X-Content-Type-Options", "nosniff");
        for (name, value) in &self.headers {
            add(name, value);
        }
        resp
    }
}

/// Whether the method is a read (GET or HEAD); anything else gets 405.
pub(crate) fn is_read(method: &Method) -> bool {
    matches!(method, Method::Get | Method::Head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_serves_fresh_then_one_refresher_while_others_get_stale() {
        let cache = ResponseCache::default();
        let ttl = Duration::from_secs(1);
        let t0 = Instant::now();
        assert_eq!(cache.get("/a", ttl, t0), None);
        let v1 = Reply::text(200, "v1");
        cache.put("/a", &v1, ttl, t0);
        assert_eq!(
            cache.get("/a", ttl, t0 + Duration::from_millis(500)),
            Some(v1.clone())
        );
        // Stale: the first caller recomputes, the others get the old reply meanwhile.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(cache.get("/a", ttl, t1), None);
        assert_eq!(cache.get("/a", ttl, t1), Some(v1.clone()));
        // A refresh that never finishes is taken over after the grace period.
        assert_eq!(cache.get("/a", ttl, t1 + REFRESH_GRACE), None);
        let v2 = Reply::text(200, "v2");
        cache.put("/a", &v2, ttl, t1);
        assert_eq!(cache.get("/a", ttl, t1), Some(v2));
        // Errors are not cached and drop the old entry.
        cache.put("/a", &Reply::text(503, "down"), ttl, t1);
        assert_eq!(cache.get("/a", ttl, t1), None);
        // Other targets are separate.
        assert_eq!(cache.get("/b", ttl, t1), None);
    }
}
