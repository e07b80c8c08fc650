//! The HTTP server: an accept loop that survives accept errors and bounds the connections
//! (`listen`), one thread per connection reading request heads under size limits and
//! deadlines (`conn`), a fixed pool of worker threads sharing an r2d2 pool of PostgreSQL
//! connections, panic isolation, the response cache (`cache`) and the access log.
//!
//! `tiny_http` provides the HTTP vocabulary (methods, versions, headers) and writes every
//! response (status line, `Date`, framing, `HEAD`). Its own accept loop is not used: it stops
//! for good on the first accept error (such as `EMFILE`), starts a thread per connection
//! without bound, has no timeouts and no size limits on request heads, and its workers are
//! held by clients that do not read their responses. Heads are parsed with `httparse`.

mod cache;
mod conn;
mod listen;

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres::NoTls;
use tiny_http::{Header, Method, Response};

use crate::format::KojiLinks;
use crate::routes;
use koschei_core::config::{BugreportConfig, Config, Frontpage, Link};
use koschei_core::priority::Priorities;

pub(crate) use cache::ResponseCache;
pub use conn::{MAX_HEAD, MAX_HEADER_FIELD, MAX_HEADERS, MAX_REQUEST_LINE};

/// The pool of PostgreSQL connections the server reads through (koschei-core's).
pub use koschei_core::db::Pool;

/// A pool as the `koschei-web` binary opens it: at most `size` connections, made lazily
/// (the server starts, and answers 503, while the database is down, and recovers when it
/// comes back), not tested on checkout (a connection that died while idle is replaced when
/// a request finds it dead, see `routes`).
pub fn lazy_pool(config: r2d2_postgres::postgres::Config, size: u32) -> Pool {
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(0))
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(2))
        .build_unchecked(PostgresConnectionManager::new(config, NoTls))
}

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
    /// Priority weights: the scheduler's `[priorities]`, for the current priority shown and
    /// ordered by.
    pub priority: Priorities,
    /// What `/` shows (`frontend.frontpage`).
    pub frontpage: Frontpage,
    /// Public URL of the frontend (`frontend.external_url`); `None` = from the request's
    /// `Host`.
    pub external_url: Option<String>,
    /// The package page's links (`[[links]]`).
    pub links: Vec<Link>,
    /// The pre-filled bug report of "File new FTBFS bug" (`[bugreport]`).
    pub bugreport: BugreportConfig,
    /// How long a successful page or API response may be served again from memory
    /// (zero disables the cache). Koschei's data changes on the scale of minutes, so a
    /// short cache costs nothing in freshness and absorbs bursts on popular pages.
    pub cache_ttl: Duration,
    /// Most bytes the response cache holds (bodies, keys and headers).
    pub cache_max_bytes: usize,
    /// Most client connections open at once; further ones get an immediate 503. Keep it
    /// below the process's descriptor limit (`ulimit -n`) minus the database connections.
    pub max_connections: usize,
    /// Time a client has to send a whole request head (and, on a new connection, to start
    /// one); a partial head is then answered with 408 and closed.
    pub read_timeout: Duration,
    /// Time an idle keep-alive connection waits for the next request.
    pub keep_alive_timeout: Duration,
    /// Time a client has to take one whole response; a client that reads more slowly is
    /// cut off.
    pub write_timeout: Duration,
}

impl Default for Options {
    /// The original's defaults (Fedora Koji URLs, 100 packages and 15 builds per page), and
    /// limits in the spirit of Apache httpd's (`KeepAliveTimeout 5`, `RequestReadTimeout
    /// header=20`).
    fn default() -> Self {
        let defaults =
            Config::from_texts(&[], None).expect("the built-in configuration defaults are valid");
        Options {
            workers: 8,
            koji_weburl: "https://koji.fedoraproject.org/koji".into(),
            koji_topurl: "https://kojipkgs.fedoraproject.org".into(),
            secondary_koji_weburl: None,
            secondary_koji_topurl: None,
            packages_per_page: 100,
            builds_per_page: 15,
            priority: Priorities::default(),
            frontpage: Frontpage::PackageList,
            external_url: None,
            links: defaults.links,
            bugreport: defaults.bugreport,
            cache_ttl: Duration::from_secs(1),
            cache_max_bytes: 64 << 20,
            max_connections: 512,
            read_timeout: Duration::from_secs(20),
            keep_alive_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(60),
        }
    }
}

impl Options {
    /// The settings of a configuration: `[priorities]`, `[frontend]`, the Koji URLs of
    /// `[koji]` and `[secondary_koji]`; the server limits keep their defaults.
    pub fn from_config(config: &Config) -> Options {
        let secondary = config.secondary_koji.as_ref();
        Options {
            koji_weburl: config.koji.weburl.clone(),
            koji_topurl: config.koji.topurl.clone(),
            secondary_koji_weburl: secondary.map(|k| k.weburl.clone()),
            secondary_koji_topurl: secondary.map(|k| k.topurl.clone()),
            packages_per_page: i64::from(config.frontend.packages_per_page),
            builds_per_page: i64::from(config.frontend.builds_per_page),
            priority: config.priorities(),
            frontpage: config.frontend.frontpage.clone(),
            external_url: config.frontend.external_url.clone(),
            links: config.links.clone(),
            bugreport: config.bugreport.clone(),
            ..Options::default()
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
    /// Request counts and latencies for `/metrics`.
    pub(crate) http: crate::metrics::HttpMetrics,
}

/// The connection limits, from [`Options`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_connections: usize,
    read_timeout: Duration,
    keep_alive_timeout: Duration,
    write_timeout: Duration,
}

/// A request waiting for a worker, and where its reply goes.
struct Job {
    method: Method,
    url: String,
    host: Option<String>,
    /// When it was queued.
    queued: Instant,
    reply: mpsc::SyncSender<Done>,
}

/// A worker's answer to a [`Job`], with where the time went (for the access log).
pub(crate) struct Done {
    pub(crate) reply: Reply,
    /// From queueing to a worker taking the job.
    pub(crate) waited: Duration,
    /// In the handler.
    pub(crate) handled: Duration,
}

/// The requests waiting for a worker.
#[derive(Default)]
struct JobQueue {
    state: Mutex<(VecDeque<Job>, bool)>,
    ready: Condvar,
}

impl JobQueue {
    /// Queues a job; gives it back when the server is stopping.
    fn submit(&self, job: Job) -> Result<(), Job> {
        let Ok(mut s) = self.state.lock() else {
            return Err(job);
        };
        if s.1 {
            return Err(job);
        }
        s.0.push_back(job);
        self.ready.notify_one();
        Ok(())
    }

    /// The next job, or `None` once the queue is closed (waiting jobs are dropped, their
    /// connections answer 503).
    fn next(&self) -> Option<Job> {
        let mut s = self.state.lock().ok()?;
        loop {
            if s.1 {
                s.0.clear();
                return None;
            }
            if let Some(job) = s.0.pop_front() {
                return Some(job);
            }
            s = self.ready.wait(s).ok()?;
        }
    }

    fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.1 = true;
        }
        self.ready.notify_all();
    }
}

/// Everything the accept loop, the connection threads and the workers share.
struct Shared {
    state: AppState,
    jobs: JobQueue,
    limits: Limits,
    /// Open client connections (each has a thread).
    active: AtomicUsize,
    /// Connections refused with 503 because of the connection limit or descriptors.
    shed: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    /// Has a worker answer the request and waits for the reply.
    fn dispatch(&self, method: Method, url: String, host: Option<String>) -> Done {
        let (tx, rx) = mpsc::sync_channel(1);
        let job = Job {
            method,
            url,
            host,
            queued: Instant::now(),
            reply: tx,
        };
        let closing = || Done {
            reply: Reply::text(503, "server shutting down\n"),
            waited: Duration::ZERO,
            handled: Duration::ZERO,
        };
        if self.jobs.submit(job).is_err() {
            return closing();
        }
        rx.recv().unwrap_or_else(|_| closing())
    }
}

/// Decrements the connection count when a connection thread ends, however it ends.
struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts the thread of an accepted connection; sheds it when no thread can be started.
fn spawn_connection(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    shared.active.fetch_add(1, Ordering::SeqCst);
    let guard = ActiveGuard(Arc::clone(shared));
    // The stream is handed over through a slot so that it can be shed when the thread
    // cannot be started.
    let slot = Arc::new(Mutex::new(Some(stream)));
    let theirs = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name("koschei-web-conn".into())
        .stack_size(256 << 10)
        .spawn(move || {
            let guard = guard;
            let stream = theirs.lock().ok().and_then(|mut s| s.take());
            if let Some(stream) = stream {
                conn::serve_connection(&guard.0, stream, peer);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start a connection thread, refusing");
        if let Some(stream) = slot.lock().ok().and_then(|mut s| s.take()) {
            listen::shed(stream);
        }
    }
}

/// A running server. Dropping it (or [`Server::shutdown`]) stops accepting, lets running
/// requests finish and joins the workers; idle keep-alive connections end at their timeout.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// A duplicate of the listening socket, to wake the accept loop on shutdown.
    waker: Option<socket2::Socket>,
    accept: Option<JoinHandle<()>>,
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

    /// Open client connections.
    pub fn connections(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Connections refused with 503 so far (connection limit reached or no descriptors).
    pub fn refused_connections(&self) -> u64 {
        self.shared.shed.load(Ordering::Relaxed)
    }

    /// Stops accepting requests, lets running requests finish and joins the workers.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Blocks until the server stops (it stops only on shutdown from another thread or on
    /// process exit).
    pub fn wait(mut self) {
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // On Linux, shutting down a listening socket wakes a blocked accept; connecting is
        // the portable fallback.
        if let Some(w) = self.waker.take() {
            let _ = w.shutdown(std::net::Shutdown::Read);
        }
        if let Some(a) = self.accept.take() {
            if !a.is_finished() {
                let mut wake = self.addr;
                if wake.ip().is_unspecified() {
                    wake.set_ip(match wake {
                        SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                        SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                    });
                }
                let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
            }
            let _ = a.join();
        }
        self.shared.jobs.close();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the server on `listen` (for example `127.0.0.1:5000`, or port 0 for any free
/// port) and returns once it accepts connections.
pub fn serve(listen: &str, pool: Pool, options: Options) -> Result<Server, Error> {
    let listener = bind(listen)?;
    let bind_err = |source: std::io::Error| Error::Bind {
        addr: listen.to_owned(),
        source: source.into(),
    };
    let addr = listener.local_addr().map_err(bind_err)?;
    let waker = listener
        .try_clone()
        .map(socket2::Socket::from)
        .map_err(bind_err)?;
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
    let limits = Limits {
        max_connections: options.max_connections.max(1),
        read_timeout: nonzero(options.read_timeout),
        keep_alive_timeout: nonzero(options.keep_alive_timeout),
        write_timeout: nonzero(options.write_timeout),
    };
    let shared = Arc::new(Shared {
        state: AppState {
            pool,
            cache: ResponseCache::new(options.cache_max_bytes),
            options,
            koji,
            secondary_koji,
            http: crate::metrics::HttpMetrics::default(),
        },
        jobs: JobQueue::default(),
        limits,
        active: AtomicUsize::new(0),
        shed: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let mut server = Server {
        addr,
        shared: Arc::clone(&shared),
        waker: Some(waker),
        accept: None,
        workers: Vec::with_capacity(n),
    };
    for i in 0..n {
        let shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("koschei-web-{i}"))
            .spawn(move || worker(&shared))
            .map_err(Error::Spawn)?;
        server.workers.push(handle);
    }
    let accept_shared = Arc::clone(&shared);
    let handle = std::thread::Builder::new()
        .name("koschei-web-accept".into())
        .spawn(move || listen::accept_loop(&listener, &accept_shared))
        .map_err(Error::Spawn)?;
    server.accept = Some(handle);
    tracing::info!(
        %addr,
        workers = n,
        max_connections = limits.max_connections,
        "koschei-web listening"
    );
    Ok(server)
}

/// Socket timeouts cannot be zero; a zero setting means the shortest one.
fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// Binds the listening socket with `TCP_NODELAY`, which accepted connections inherit.
///
/// Responses are written through a buffer, but a keep-alive response that ends in a small
/// segment would otherwise wait for the client's delayed ACK (40 ms on Linux).
fn bind(listen: &str) -> Result<TcpListener, Error> {
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

fn worker(shared: &Shared) {
    while let Some(job) = shared.jobs.next() {
        let taken = Instant::now();
        let reply = match catch_unwind(AssertUnwindSafe(|| {
            routes::route(&shared.state, &job.method, &job.url, job.host.as_deref())
        })) {
            Ok(reply) => reply,
            Err(_) => {
                tracing::error!(
                    method = %job.method,
                    url = %conn::loggable_url(&job.url),
                    "request handler panicked"
                );
                Reply::text(500, "internal server error\n")
            }
        };
        let _ = job.reply.send(Done {
            reply,
            waited: taken.saturating_duration_since(job.queued),
            handled: taken.elapsed(),
        });
    }
}

/// A response body, shared by the response cache and the replies it serves: cloning one
/// counts a reference instead of copying the bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Body(Arc<Vec<u8>>);

impl Body {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body(Arc::new(bytes))
    }
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A response before it is handed to `tiny_http`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Body,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// Scripts are never needed; forbidding them is a second line of defence behind escaping.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";

impl Reply {
    pub(crate) fn html(status: u16, markup: maud::Markup) -> Self {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: markup.into_string().into_bytes().into(),
            headers: vec![("Content-Security-Policy", CSP.to_owned())],
        }
    }

    pub(crate) fn text(status: u16, text: &str) -> Self {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec().into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::json_body(status, value.to_string().into_bytes())
    }

    /// A JSON body already serialised.
    pub(crate) fn json_body(status: u16, body: Vec<u8>) -> Self {
        Reply {
            status,
            content_type: "application/json",
            body: body.into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn redirect(location: &str) -> Self {
        Reply {
            status: 302,
            content_type: "text/plain; charset=utf-8",
            body: Body::default(),
            headers: vec![("Location", location.to_owned())],
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn into_response(self) -> Response<std::io::Cursor<Body>> {
        let len = self.body.len();
        let mut resp = Response::new(
            tiny_http::StatusCode(self.status),
            Vec::new(),
            std::io::Cursor::new(self.body),
            Some(len),
            None,
        );
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
