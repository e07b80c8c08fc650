//! HTTP(S) transport to a Koji hub: sessions, `sslLogin`, call numbers, retries and multicall (shell module).
//!
//! Behaves like koji's own `ClientSession` with Koschei's session options (spec section 6):
//! network and HTTP errors are retried with the *same* request bytes and call number, `ServerOffline` is
//! waited out, `AuthExpired` renews the session and `AuthError` (a session the hub no longer knows) logs
//! in anew, each repeating the call once, and a `RetryError` on `build`
//! becomes [`Error::MaybeSubmitted`] so a build is never submitted twice.
//!
//! A stop request ([`ClientOptions::stop`]) ends every wait (an offline hub, the pause before a
//! retry) within [`STOP_POLL`] with [`Error::Interrupted`], and no call starts after it. A
//! logged-in client logs out when it is dropped (one attempt, see [`Client::logout`]), so every
//! command that logged in leaves no session open on the hub.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use super::error::{Error, FaultKind};
use super::gssapi;
use super::xmlrpc::{self, Call, Fault, Value};

/// How to log in to the hub.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Login {
    /// Anonymous (read-only) session; Koschei's secondary hubs and read-only tools use this.
    #[default]
    None,
    /// `sslLogin` with a TLS client certificate at `{server}/ssllogin`.
    Ssl(SslLogin),
    /// `sslLogin` at `{server}/ssllogin` with a Kerberos (SPNEGO) token in `Authorization:
    /// Negotiate`, as Fedora's hub expects (the original's `gssapi_login`). Needs the `gssapi` cargo
    /// feature (on by default).
    Gssapi(GssapiLogin),
    /// Password `login` (test hubs only; Fedora does not use it).
    Password {
        /// User name.
        user: String,
        /// Password (never printed).
        password: String,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::None => f.write_str("None"),
            Login::Ssl(s) => f.debug_tuple("Ssl").field(s).finish(),
            Login::Gssapi(g) => f.debug_tuple("Gssapi").field(g).finish(),
            Login::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Files for certificate login: Fedora's `~/.fedora.cert` style (certificate and key in one PEM file) or two
/// files, plus an optional CA bundle to verify the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslLogin {
    /// PEM file with the client certificate (and the key, when `key` is `None`).
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8), if not inside `cert`.
    pub key: Option<PathBuf>,
    /// PEM CA bundle used to verify the hub instead of the system roots.
    pub ca: Option<PathBuf>,
}

/// Where Kerberos credentials come from (the original's `login_args` of `gssapi_login`); all `None`
/// = the default credential cache (`KRB5CCNAME`) and its principal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GssapiLogin {
    /// Client principal, e.g. `koschei/koschei01.example.org@EXAMPLE.ORG`.
    pub principal: Option<String>,
    /// Client keytab: tickets are got from it, and got again when they expire.
    pub keytab: Option<PathBuf>,
    /// Credential cache (`FILE:/path`, `KEYRING:...`); `None` = the default one without a keytab,
    /// a private in-memory one with a keytab.
    pub ccache: Option<String>,
}

/// Options of a Koji client. `Default` gives Fedora's hub and Koschei's session options.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// XML-RPC hub URL.
    pub server: String,
    /// Root of the static file tree (repos, packages, task output).
    pub topurl: String,
    /// Web UI root (links only).
    pub weburl: String,
    /// How many times a failed call is retried.
    pub max_retries: u32,
    /// Wait between retries (the first retry is immediate).
    pub retry_interval: Duration,
    /// Whether `ServerOffline` is waited out (forever).
    pub offline_retry: bool,
    /// Wait between attempts while the hub is offline.
    pub offline_retry_interval: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Time to establish a connection (TCP and TLS handshake), within `timeout`
    /// (`koji_config.connect_timeout`).
    pub connect_timeout: Duration,
    /// Timeout of login calls.
    pub auth_timeout: Duration,
    /// Whether anonymous calls are retried too.
    pub anon_retry: bool,
    /// Calls per `multiCall` request: the only place multicalls are split.
    pub multicall_chunk_size: usize,
    /// How to log in.
    pub login: Login,
    /// Prefix of SRPM paths passed to `build` (`koji_config.srpm_relative_path_root`: `..`
    /// means relative to the hub's `work/` directory).
    pub srpm_relative_path_root: String,
    /// Options added to every scratch build (`koji_config.build_opts`).
    pub build_opts: super::Struct,
    /// PEM CA bundle that verifies the hub (and the file server at `topurl`) instead of the system
    /// roots, whatever the login method. [`SslLogin::ca`] is used when this is `None`.
    pub ca: Option<PathBuf>,
    /// The proxies the hub is reached through (the environment's, as `config` read them);
    /// none by default.
    pub proxies: crate::config::Proxies,
    /// A stop request shared with the caller (a SIGTERM/SIGINT handler sets it): once it is
    /// set, no call starts and every wait ends within [`STOP_POLL`] with
    /// [`Error::Interrupted`]. `None`: calls wait as long as the options say.
    pub stop: Option<Arc<AtomicBool>>,
}

impl ClientOptions {
    /// The web UI link of a task: `{weburl}/taskinfo?taskID={id}`.
    pub fn task_url(&self, task: crate::model::KojiTaskId) -> String {
        format!(
            "{}/taskinfo?taskID={task}",
            self.weburl.trim_end_matches('/')
        )
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            server: "https://koji.fedoraproject.org/kojihub".to_owned(),
            topurl: "https://kojipkgs.fedoraproject.org".to_owned(),
            weburl: "https://koji.fedoraproject.org/koji".to_owned(),
            max_retries: 1000,
            retry_interval: Duration::from_secs(20),
            offline_retry: true,
            offline_retry_interval: Duration::from_secs(120),
            timeout: Duration::from_secs(3600),
            connect_timeout: Duration::from_secs(30),
            auth_timeout: Duration::from_secs(60),
            anon_retry: true,
            multicall_chunk_size: 100,
            login: Login::None,
            srpm_relative_path_root: "..".to_owned(),
            build_opts: super::Struct::new(),
            ca: None,
            proxies: crate::config::Proxies::none(),
            stop: None,
        }
    }
}

/// The longest a wait of the client sleeps without looking at [`ClientOptions::stop`].
pub const STOP_POLL: Duration = Duration::from_millis(200);

/// The longest a logout may take (it is tried once, at the end of a command).
const LOGOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// A logged-in session.
struct Session {
    id: i64,
    key: String,
    /// The number the *next* call will carry.
    callnum: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .field("callnum", &self.callnum)
            .finish()
    }
}

/// A Koji hub client. Calls take `&self`; calls of a logged-in client are serialised so call numbers arrive
/// in order.
#[derive(Debug)]
pub struct Client {
    opts: ClientOptions,
    agent: ureq::Agent,
    login_agent: ureq::Agent,
    logout_agent: ureq::Agent,
    session: Mutex<Option<Session>>,
}

impl Client {
    /// Creates a client; reads the TLS files named in the login options (no network traffic yet).
    pub fn new(opts: ClientOptions) -> Result<Client, Error> {
        let mut opts = opts;
        if let Login::Gssapi(g) = &mut opts.login
            && g.keytab.is_some()
            && g.ccache.is_none()
        {
            // Tickets from the keytab go to a cache of this client's own, which MIT refills from
            // the keytab when they expire; the user's default cache is left alone.
            static CACHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = CACHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            g.ccache = Some(format!("MEMORY:koschei-{}-{n}", std::process::id()));
        }
        let tls = tls_config(&opts)?;
        let proxy = match opts.proxies.for_url(&opts.server) {
            None => None,
            Some(p) => Some(ureq::Proxy::new(p.expose()).map_err(|e| Error::Proxy {
                proxy: p.to_string(),
                variable: p.variable().to_owned(),
                message: e.to_string(),
            })?),
        };
        let connect = opts.connect_timeout;
        let agent = make_agent(tls.clone(), opts.timeout, connect, proxy.clone());
        let login_agent = make_agent(tls.clone(), opts.auth_timeout, connect, proxy.clone());
        let logout_agent = make_agent(tls, opts.auth_timeout.min(LOGOUT_TIMEOUT), connect, proxy);
        Ok(Client {
            opts,
            agent,
            login_agent,
            logout_agent,
            session: Mutex::new(None),
        })
    }

    /// An anonymous client for `server` with default options otherwise.
    pub fn anonymous(server: &str) -> Result<Client, Error> {
        Client::new(ClientOptions {
            server: server.to_owned(),
            ..ClientOptions::default()
        })
    }

    /// The options this client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// Whether a session is currently open.
    pub fn is_logged_in(&self) -> bool {
        self.lock().is_some()
    }

    /// Logs in now with the configured method (calls also log in lazily when needed).
    pub fn login(&self) -> Result<(), Error> {
        let mut guard = self.lock();
        let session = self.open_session(None)?;
        *guard = Some(session);
        Ok(())
    }

    /// Whether a stop was requested through [`ClientOptions::stop`].
    pub fn stop_requested(&self) -> bool {
        self.opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Closes the session, if any: one attempt, even after a stop request, without retries or
    /// waiting out an offline hub, and within 10 seconds (the hub expires a session nobody
    /// closed, so a failed logout only leaves it open until then). The client forgets the
    /// session whatever the answer; a hub that no longer knows it (`AuthError`) counts as
    /// logged out. Dropping a logged-in client calls this.
    pub fn logout(&self) -> Result<(), Error> {
        let mut guard = self.lock();
        let Some(mut session) = guard.take() else {
            return Ok(());
        };
        let call = Call::new("logout");
        let callnum = session.next_callnum();
        let body = xmlrpc::encode_call(&call);
        let url = self.opts.server.as_str();
        match self.send_once(
            &self.logout_agent,
            url,
            "logout",
            &body,
            Some((&session, callnum)),
            None,
        )? {
            Ok(_) => {
                tracing::debug!(session = session.id, "logged out of koji");
                Ok(())
            }
            Err(fault) if fault.kind() == FaultKind::Auth => {
                tracing::debug!(session = session.id, fault = %fault, "koji session already closed");
                Ok(())
            }
            Err(fault) => Err(Error::Fault {
                method: "logout".to_owned(),
                fault,
            }),
        }
    }

    /// Calls a method and returns its result.
    pub fn call(&self, call: &Call) -> Result<Value, Error> {
        if matches!(self.opts.login, Login::None) {
            return self.exchange(&self.opts.server, call, None, false);
        }
        let mut guard = self.lock();
        if guard.is_none() {
            *guard = Some(self.open_session(None)?);
        }
        // One new login per call: a session the hub expired (1007) is renewed, one it no longer
        // knows (1002: closed by a hub restart or an administrator, or bound to another address)
        // is replaced; then the call is repeated once.
        let mut relogged = false;
        loop {
            let Some(session) = guard.as_mut() else {
                return Err(Error::NotLoggedIn {
                    method: call.method.clone(),
                });
            };
            let callnum = session.next_callnum();
            match self.exchange(&self.opts.server, call, Some((&*session, callnum)), false) {
                Err(e) if e.fault_kind() == Some(FaultKind::AuthExpired) && !relogged => {
                    tracing::info!(session = session.id, "koji session expired, renewing");
                    let mut fresh = self.open_session(Some(&*session))?;
                    // Keep counting up: the hub may still remember the old call numbers.
                    fresh.callnum = session.callnum;
                    *session = fresh;
                    relogged = true;
                }
                Err(e) if e.fault_kind() == Some(FaultKind::Auth) && !relogged => {
                    tracing::warn!(
                        session = session.id,
                        method = %call.method,
                        fault = %e.fault().map(ToString::to_string).unwrap_or_default(),
                        "koji session no longer valid, logging in again"
                    );
                    *guard = None;
                    *guard = Some(self.open_session(None)?);
                    relogged = true;
                }
                other => return other,
            }
        }
    }

    /// Calls several methods through `multiCall`, in chunks of `multicall_chunk_size`; one result per call,
    /// a fault for each call that failed on its own.
    pub fn multicall(&self, calls: &[Call]) -> Result<Vec<Result<Value, Fault>>, Error> {
        let mut out = Vec::with_capacity(calls.len());
        for chunk in calls.chunks(self.opts.multicall_chunk_size.max(1)) {
            let request = xmlrpc::multicall_request(chunk);
            let value = self.call(&request)?;
            let results =
                xmlrpc::multicall_results(value).map_err(|message| Error::UnexpectedResult {
                    method: "multiCall".to_owned(),
                    message,
                })?;
            if results.len() != chunk.len() {
                return Err(Error::UnexpectedResult {
                    method: "multiCall".to_owned(),
                    message: format!("{} results for {} calls", results.len(), chunk.len()),
                });
            }
            out.extend(results);
        }
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs in (or renews `old` with `renew=True` and its headers).
    fn open_session(&self, old: Option<&Session>) -> Result<Session, Error> {
        let ssl_url = || format!("{}/ssllogin", self.opts.server.trim_end_matches('/'));
        let mut negotiate = None;
        let (url, mut call) = match &self.opts.login {
            Login::None => {
                return Err(Error::NotLoggedIn {
                    method: "login".to_owned(),
                });
            }
            Login::Ssl(_) => (ssl_url(), Call::new("sslLogin")),
            Login::Gssapi(g) => {
                negotiate = Some(gssapi::Negotiator::acquire(g, &self.opts.server)?);
                (ssl_url(), Call::new("sslLogin"))
            }
            Login::Password { user, password } => (
                self.opts.server.clone(),
                Call::new("login").arg(user.as_str()).arg(password.as_str()),
            ),
        };
        if old.is_some() {
            call = call.kwarg("renew", true);
        }
        let old = old.map(|s| (s, s.callnum));
        let value = self
            .exchange_with(&url, &call, old, true, negotiate.as_ref())
            .map_err(|e| match (&negotiate, e) {
                (
                    Some(n),
                    Error::Http {
                        status: 401,
                        url,
                        first_line,
                        ..
                    },
                ) => Error::LoginRefused {
                    url,
                    principal: n.principal().to_owned(),
                    first_line,
                },
                (_, e) => e,
            })?;
        let id = value.get("session-id").and_then(Value::as_i64);
        let key = value.get("session-key").and_then(Value::as_str);
        match (id, key) {
            (Some(id), Some(key)) => {
                tracing::debug!(session = id, method = %call.method, "logged in to koji");
                Ok(Session {
                    id,
                    key: key.to_owned(),
                    callnum: 0,
                })
            }
            _ => Err(Error::UnexpectedResult {
                method: call.method.clone(),
                message: format!(
                    "login result is a {} without session-id and session-key",
                    value.type_name()
                ),
            }),
        }
    }

    /// Sends one call with retries: the request bytes and call number stay fixed across attempts.
    fn exchange(
        &self,
        url: &str,
        call: &Call,
        session: Option<(&Session, i64)>,
        is_login: bool,
    ) -> Result<Value, Error> {
        self.exchange_with(url, call, session, is_login, None)
    }

    /// [`Client::exchange`] with a Kerberos token on each attempt (a fresh one each time: the hub's
    /// replay cache refuses a token seen before).
    fn exchange_with(
        &self,
        url: &str,
        call: &Call,
        session: Option<(&Session, i64)>,
        is_login: bool,
        negotiate: Option<&gssapi::Negotiator>,
    ) -> Result<Value, Error> {
        let body = xmlrpc::encode_call(call);
        let method = call.method.as_str();
        let agent = if is_login {
            &self.login_agent
        } else {
            &self.agent
        };
        let mut tries: u32 = 0;
        // Whether an attempt may have reached the hub and taken effect (no answer came back).
        let mut maybe_done = false;
        let mut last: Option<Error> = None;
        loop {
            if self.stop_requested() {
                return Err(interrupted(method, maybe_done, last));
            }
            let authorization = negotiate.map(gssapi::Negotiator::header).transpose()?;
            let err = match self.send_once(
                agent,
                url,
                method,
                &body,
                session,
                authorization.as_deref(),
            ) {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(fault)) => match fault.kind() {
                    FaultKind::ServerOffline if self.opts.offline_retry => {
                        tracing::warn!(method, fault = %fault, "koji hub offline, waiting");
                        last = Some(Error::Fault {
                            method: method.to_owned(),
                            fault,
                        });
                        if !self.pause(self.opts.offline_retry_interval) {
                            return Err(interrupted(method, maybe_done, last));
                        }
                        tries = 0;
                        continue;
                    }
                    FaultKind::Retry if method == "build" => {
                        return Err(Error::MaybeSubmitted {
                            method: method.to_owned(),
                            fault,
                        });
                    }
                    _ => {
                        return Err(Error::Fault {
                            method: method.to_owned(),
                            fault,
                        });
                    }
                },
                Err(e) => e,
            };
            if is_certificate_error(&err) || (is_login && is_auth_refusal(&err)) {
                return Err(err);
            }
            if session.is_none() && !is_login && !self.opts.anon_retry {
                return Err(err);
            }
            tries += 1;
            if tries > self.opts.max_retries {
                return Err(err);
            }
            tracing::warn!(
                method,
                tries,
                error = %crate::error::chain(&err),
                "koji call failed, retrying"
            );
            maybe_done = true;
            let pause = if tries > 1 {
                self.opts.retry_interval
            } else {
                Duration::ZERO
            };
            last = Some(err);
            if !self.pause(pause) {
                return Err(interrupted(method, maybe_done, last));
            }
        }
    }

    /// Sleeps `total` in steps of at most [`STOP_POLL`] while a stop flag is set; `false` when a
    /// stop was requested before or during the wait.
    fn pause(&self, total: Duration) -> bool {
        let Some(stop) = &self.opts.stop else {
            std::thread::sleep(total);
            return true;
        };
        let mut left = total;
        while !left.is_zero() {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let step = left.min(STOP_POLL);
            std::thread::sleep(step);
            left -= step;
        }
        !stop.load(Ordering::Relaxed)
    }

    /// One HTTP round trip. `Err` for transport, HTTP status and decoding problems; `Ok(Err)` for a fault.
    fn send_once(
        &self,
        agent: &ureq::Agent,
        url: &str,
        method: &str,
        body: &[u8],
        session: Option<(&Session, i64)>,
        authorization: Option<&str>,
    ) -> Result<Result<Value, Fault>, Error> {
        let transport = |e: ureq::Error| Error::Transport {
            method: method.to_owned(),
            url: url.to_owned(),
            source: Box::new(e),
        };
        let mut req = agent.post(url).header("Content-Type", "text/xml");
        if let Some((s, callnum)) = session {
            req = req
                .header("Koji-Session-Id", s.id.to_string())
                .header("Koji-Session-Key", s.key.as_str())
                .header("Koji-Session-Callnum", callnum.to_string());
        }
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let mut resp = req.send(body).map_err(transport)?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                method: method.to_owned(),
                url: url.to_owned(),
                status,
                first_line: first_line(&bytes),
            });
        }
        if !content_type.is_empty() && !content_type.contains("xml") {
            return Err(Error::ContentType {
                method: method.to_owned(),
                url: url.to_owned(),
                content_type,
                first_line: first_line(&bytes),
            });
        }
        xmlrpc::decode_response(&bytes).map_err(|source| Error::Decode {
            method: method.to_owned(),
            source,
        })
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.is_logged_in() {
            return;
        }
        if let Err(e) = self.logout() {
            tracing::warn!(
                error = %crate::error::chain(&e),
                "cannot log out of koji; the hub expires the session itself"
            );
        }
    }
}

/// The error of a call given up because a stop was requested.
fn interrupted(method: &str, maybe_done: bool, last: Option<Error>) -> Error {
    Error::Interrupted {
        method: method.to_owned(),
        maybe_done,
        last: last.map(Box::new),
    }
}

impl Session {
    fn next_callnum(&mut self) -> i64 {
        let n = self.callnum;
        self.callnum += 1;
        n
    }
}

/// Responses larger than this are refused (a full Fedora `listTagged` is tens of MB).
const MAX_RESPONSE_BYTES: u64 = 2 << 30;

/// The first non-empty line of an error body, shortened, for messages.
pub(crate) fn first_line(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(empty body)");
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push_str("...");
    }
    out
}

fn is_certificate_error(err: &Error) -> bool {
    match err {
        Error::Transport { source, .. } => matches!(
            **source,
            ureq::Error::Tls(_)
                | ureq::Error::NativeTls(_)
                | ureq::Error::Pem(_)
                | ureq::Error::Der(_)
        ),
        Error::TlsFile { .. } => true,
        _ => false,
    }
}

/// An HTTP 401 or 403 answer to a login: the credentials were refused; retrying cannot help.
fn is_auth_refusal(err: &Error) -> bool {
    matches!(
        err,
        Error::Http {
            status: 401 | 403,
            ..
        }
    )
}

fn make_agent(
    tls: TlsConfig,
    timeout: Duration,
    connect: Duration,
    proxy: Option<ureq::Proxy>,
) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(connect.min(timeout)))
        .tls_config(tls)
        // Explicitly: ureq would read the environment itself otherwise.
        .proxy(proxy)
        .user_agent(concat!("koschei-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::TlsFile {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn pem_items(path: &Path, bytes: &[u8]) -> Result<Vec<PemItem<'static>>, Error> {
    ureq::tls::parse_pem(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::TlsFile {
            path: path.to_owned(),
            message: format!("invalid PEM: {e}"),
        })
}

/// The root certificates of a PEM CA bundle.
pub(crate) fn root_certs(ca: &Path) -> Result<RootCerts, Error> {
    let bytes = read_file(ca)?;
    let certs: Vec<Certificate<'static>> = pem_items(ca, &bytes)?
        .into_iter()
        .filter_map(|item| match item {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(Error::TlsFile {
            path: ca.to_owned(),
            message: "no certificate found".to_owned(),
        });
    }
    Ok(RootCerts::new_with_certs(&certs))
}

fn tls_config(opts: &ClientOptions) -> Result<TlsConfig, Error> {
    let mut builder = TlsConfig::builder()
        .provider(TlsProvider::NativeTls)
        .root_certs(RootCerts::PlatformVerifier);
    let ssl_ca = match &opts.login {
        Login::Ssl(ssl) => ssl.ca.as_ref(),
        _ => None,
    };
    if let Some(ca) = opts.ca.as_ref().or(ssl_ca) {
        builder = builder.root_certs(root_certs(ca)?);
    }
    if let Login::Ssl(ssl) = &opts.login {
        let cert_bytes = read_file(&ssl.cert)?;
        let mut chain = Vec::new();
        let mut key: Option<PrivateKey<'static>> = None;
        for item in pem_items(&ssl.cert, &cert_bytes)? {
            match item {
                PemItem::Certificate(c) => chain.push(c),
                PemItem::PrivateKey(k) if key.is_none() => key = Some(k),
                _ => {}
            }
        }
        if chain.is_empty() {
            return Err(Error::TlsFile {
                path: ssl.cert.clone(),
                message: "no certificate found".to_owned(),
            });
        }
        if let Some(key_path) = &ssl.key {
            let key_bytes = read_file(key_path)?;
            key = pem_items(key_path, &key_bytes)?
                .into_iter()
                .find_map(|item| match item {
                    PemItem::PrivateKey(k) => Some(k),
                    _ => None,
                });
            if key.is_none() {
                return Err(Error::TlsFile {
                    path: key_path.clone(),
                    message: "no private key found".to_owned(),
                });
            }
        }
        let Some(key) = key else {
            return Err(Error::TlsFile {
                path: ssl.cert.clone(),
                message: "no private key found (give it in the same file or as `key`)".to_owned(),
            });
        };
        builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(builder.build())
}
