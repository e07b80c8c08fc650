//! A fake Koji hub for tests and the demo: a small stateful server speaking real XML-RPC over HTTP on
//! `127.0.0.1` (random port), with a static file tree under its topurl.
//!
//! It keeps tags, packages, builds, repos, tasks and sessions the way Koji 1.35 does for the calls Koschei
//! makes, checks call numbers like the real hub (`SequenceError`, `RetryError`), and can inject faults:
//! `ServerOffline` for N calls, dropped connections (before or after the call committed), expired sessions.
//! Answers have the same field names and value types as the real hub (a test replays the recorded
//! fixtures against it). It is test support, not part of the production path.
//!
//! ```no_run
//! let hub = koschei_fakehub::FakeHub::start()?;
//! hub.add_tag("f40", &["x86_64"], None);
//! println!("{}", hub.url());
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod http;
pub mod kdc;
pub mod process;
pub mod rng;
pub mod rpmmd;
pub mod scenario;
pub mod scripted;
mod state;
pub mod tls;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use koschei_core::koji::{Fault, Value};

pub use state::{Failure, RecordedCall, SubmittedBuild, TaskState};

use state::State;

/// A running fake hub. Stops listening when dropped.
#[derive(Debug)]
pub struct FakeHub {
    state: Arc<Mutex<State>>,
    server: http::Server,
    scheme: &'static str,
}

impl FakeHub {
    /// Starts an empty hub on a random port of 127.0.0.1, with channel `default`, host `builder1`
    /// (`x86_64 aarch64 i686`), and users `koschei` (sslLogin; password `koschei`) and `kojiadmin`
    /// (password `kojiadmin-pw`).
    pub fn start() -> std::io::Result<FakeHub> {
        FakeHub::start_inner(None)
    }

    /// Like [`FakeHub::start`], but speaking HTTPS (hub and files) with the server certificate of
    /// `ca`; URLs are `https://localhost:PORT/...`, which the certificate names. Client
    /// certificates are not checked (a `/ssllogin` request counts as certificate-verified, as over
    /// plain HTTP).
    pub fn start_https(ca: &tls::TestCa) -> std::io::Result<FakeHub> {
        FakeHub::start_inner(Some(ca))
    }

    /// [`FakeHub::start_with_fixture_data`] over HTTPS (see [`FakeHub::start_https`]).
    pub fn start_https_with_fixture_data(ca: &tls::TestCa) -> std::io::Result<FakeHub> {
        let hub = FakeHub::start_https(ca)?;
        hub.add_fixture_data();
        Ok(hub)
    }

    fn start_inner(tls: Option<&tls::TestCa>) -> std::io::Result<FakeHub> {
        let acceptor = tls.map(tls::TestCa::acceptor).transpose()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let state = Arc::new(Mutex::new(State::new()));
        let s2 = state.clone();
        let handler: Arc<http::Handler> = Arc::new(move |req| {
            let is_call = req.method == "POST";
            let (reply, delay) = {
                let mut st = s2.lock().unwrap_or_else(|e| e.into_inner());
                let delay = if is_call && st.inject.slow > 0 {
                    st.inject.slow -= 1;
                    Some(st.inject.slow_by)
                } else {
                    None
                };
                (st.handle(req), delay)
            };
            // Sleep without holding the state, so other connections go on.
            if let Some(d) = delay {
                std::thread::sleep(d);
            }
            reply
        });
        let server = http::Server::start(handler, acceptor)?;
        Ok(FakeHub {
            state,
            server,
            scheme,
        })
    }

    /// Starts a hub holding the data of the recorded fixtures (`../shared/koji-wire/README.md`): tags `f40`
    /// and `f40-build`, target `f40`, builds `bar-2.0-3.fc40` and `foo-1.0-1.fc40`, groups `build` and
    /// `srpm-build`, repos 1 (EXPIRED) and 2 (READY) of `f40-build`.
    pub fn start_with_fixture_data() -> std::io::Result<FakeHub> {
        let hub = FakeHub::start()?;
        hub.add_fixture_data();
        Ok(hub)
    }

    fn add_fixture_data(&self) {
        let hub = self;
        hub.add_tag("f40", &["x86_64", "aarch64"], None);
        hub.add_tag("f40-build", &["x86_64", "aarch64", "i686"], Some("f40"));
        hub.add_target("f40", "f40-build", "f40");
        hub.add_package("f40", "foo", false);
        hub.add_package("f40", "bar", false);
        hub.add_package("f40", "baz", true);
        hub.add_group(
            "f40-build",
            "build",
            &["bash", "coreutils", "rpm-build", "gcc"],
        );
        hub.add_group("f40-build", "srpm-build", &["bash", "rpm-build"]);
        let bar = hub.add_build("f40", "bar-2.0-3.fc40", &[]);
        hub.set_build_arches(bar, &[], &["x86_64", "aarch64"]);
        hub.set_build_epoch(bar, Some(1));
        let foo_build = hub.add_build(
            "f40",
            "foo-1.0-1.fc40",
            &["bar >= 2.0", "python3-devel", "(baz or qux)"],
        );
        hub.set_build_arches(foo_build, &["noarch"], &[]);
        hub.add_repo_state("f40-build", None, 2);
        hub.add_repo_state("f40-build", None, 1);
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `scheme://host:PORT`: `http://127.0.0.1:PORT`, or `https://localhost:PORT` over TLS.
    fn base(&self) -> String {
        let host = if self.scheme == "https" {
            "localhost"
        } else {
            "127.0.0.1"
        };
        format!("{}://{host}:{}", self.scheme, self.server.port)
    }

    /// The hub URL (`http://127.0.0.1:PORT/kojihub`; `https://localhost:PORT/kojihub` over TLS).
    pub fn url(&self) -> String {
        format!("{}/kojihub", self.base())
    }

    /// The topurl of the static file tree (`.../kojifiles`).
    pub fn topurl(&self) -> String {
        format!("{}/kojifiles", self.base())
    }

    /// A web URL (links only; nothing is served there).
    pub fn weburl(&self) -> String {
        format!("{}/koji", self.base())
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// Adds a tag with arches and an optional parent; returns its id.
    pub fn add_tag(&self, name: &str, arches: &[&str], parent: Option<&str>) -> i64 {
        self.st().add_tag(name, arches, parent)
    }

    /// Creates a side tag of `base` the way Koji's sidetag plugin does (`createSideTag`, by user
    /// `kojiadmin`): `<base>-side-<tag id>`, inheriting `base` (its builds, groups and arches),
    /// with `extra` `{sidetag: true, sidetag_user, sidetag_user_id}`. Returns its name.
    ///
    /// # Panics
    ///
    /// When `base` does not exist (test setup error).
    pub fn add_side_tag(&self, base: &str) -> String {
        self.st()
            .add_side_tag(base, "kojiadmin")
            .unwrap_or_else(|| panic!("no tag `{base}` to make a side tag of"))
    }

    /// Adds a build target.
    pub fn add_target(&self, name: &str, build_tag: &str, dest_tag: &str) -> i64 {
        self.st().add_target(name, build_tag, dest_tag)
    }

    /// Lists (or blocks) a package in a tag; returns the package id.
    pub fn add_package(&self, tag: &str, name: &str, blocked: bool) -> i64 {
        self.st().add_package(tag, name, blocked)
    }

    /// Adds a comps group with mandatory packages to a tag.
    pub fn add_group(&self, tag: &str, group: &str, packages: &[&str]) {
        self.st().add_group(tag, group, packages, "mandatory");
    }

    /// Adds a group package entry of a given type (`mandatory`, `default`, `optional`...).
    pub fn add_group_package(&self, tag: &str, group: &str, package: &str, kind: &str) {
        self.st().add_group(tag, group, &[package], kind);
    }

    /// Imports a COMPLETE build `name-version-release` tagged into `tag` (listing the package there if
    /// needed), with its SRPM's BuildRequires given as strings like `"bar >= 2.0"`; returns the build id.
    pub fn add_build(&self, tag: &str, nvr: &str, build_requires: &[&str]) -> i64 {
        self.st().add_build(tag, nvr, build_requires)
    }

    /// Imports a COMPLETE build with a CLOSED build task (children in the build tag's latest
    /// repo), as builders make them; returns the build id. See [`FakeHub::add_build`].
    pub fn add_build_with_task(
        &self,
        tag: &str,
        target: &str,
        nvr: &str,
        build_requires: &[&str],
    ) -> i64 {
        self.st()
            .add_build_with_task(tag, target, nvr, build_requires)
    }

    /// Sets the SRPM's BuildArch and ExclusiveArch headers of a build.
    pub fn set_build_arches(&self, build: i64, build_archs: &[&str], exclusive_arch: &[&str]) {
        self.st()
            .set_build_arches(build, build_archs, exclusive_arch);
    }

    /// Sets a build's epoch.
    pub fn set_build_epoch(&self, build: i64, epoch: Option<i64>) {
        self.st().set_build_epoch(build, epoch);
    }

    /// Sets a build's state (`BUILD_STATES`).
    pub fn set_build_state(&self, build: i64, state: i64) {
        self.st().set_build_state(build, state);
    }

    /// Adds a READY repo of `tag` whose files (`<arch>/repodata/...`) are served from `dir` at
    /// `{topurl}/repos/{tag}/{id}/`; older READY repos of the tag become EXPIRED. Returns the repo id.
    pub fn add_repo(&self, tag: &str, dir: &Path) -> i64 {
        self.st().add_repo(tag, Some(dir.to_owned()), 1)
    }

    /// Adds a READY repo of `tag` whose `arch` files are the rpm-md repository in `dir` (the
    /// directory holding `repodata/`), served at `{topurl}/repos/{tag}/{id}/{arch}/`; older READY
    /// repos of the tag become EXPIRED. Returns the repo id.
    pub fn add_arch_repo(&self, tag: &str, arch: &str, dir: &Path) -> i64 {
        self.st()
            .add_repo_for(tag, Some(dir.to_owned()), Some(arch), 1)
    }

    /// Adds a repo in a given `REPO_STATES` state, optionally with files.
    pub fn add_repo_state(&self, tag: &str, dir: Option<&Path>, state: i64) -> i64 {
        self.st().add_repo(tag, dir.map(Path::to_owned), state)
    }

    /// Serves `bytes` at `{topurl}/{path}` (overrides repo directories).
    pub fn add_file(&self, path: &str, bytes: &[u8]) {
        self.st()
            .files
            .insert(path.trim_start_matches('/').to_owned(), bytes.to_vec());
    }

    /// Serves the files under `dir` at `{topurl}/{prefix}/...` (a plain file server, e.g. a
    /// Copr results tree or a mirror); files are read when requested, so a test can change or
    /// remove them between requests.
    pub fn serve_dir(&self, prefix: &str, dir: &Path) {
        self.st()
            .trees
            .push((prefix.trim_matches('/').to_owned(), dir.to_owned()));
    }

    /// Moves a task (and its children) to CLOSED, FAILED or CANCELED. A finished `build` task gets one
    /// `buildArch` child per arch of its target's build tag (or `arch_override`); a FAILED one fails with
    /// `BuildError` 1005.
    pub fn finish_task(&self, task: i64, state: TaskState) {
        self.st().finish_task(task, state, None);
    }

    /// Fails a task with a specific fault as its result (e.g. `LockError` 1001 to play "Koji's fault").
    pub fn fail_task_with(&self, task: i64, fault: Fault) {
        self.st().finish_task(task, TaskState::Failed, Some(fault));
    }

    /// Moves a task to OPEN (running).
    pub fn open_task(&self, task: i64) {
        self.st().open_task(task);
    }

    /// The `build` calls accepted so far, in order.
    pub fn submitted_builds(&self) -> Vec<SubmittedBuild> {
        self.st().submitted.clone()
    }

    /// Every XML-RPC call received (multicall entries appear as their own records after the `multiCall`).
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.st().calls.clone()
    }

    /// Paths of every GET request received (static files), in order.
    pub fn file_requests(&self) -> Vec<String> {
        self.st().file_requests.clone()
    }

    /// The state of a task (`TASK_STATES`), if it exists.
    pub fn task_state(&self, task: i64) -> Option<i64> {
        self.st()
            .tasks
            .iter()
            .find(|t| t.id == task)
            .map(|t| t.state)
    }

    /// Answers the next `n` XML-RPC calls with `ServerOffline` (1014).
    pub fn set_offline(&self, n: u32) {
        self.st().inject.offline = n;
    }

    /// Drops the connection of the next `n` XML-RPC calls without processing them.
    pub fn drop_connections(&self, n: u32) {
        self.st().inject.drop_before = n;
    }

    /// Processes the next `n` XML-RPC calls (committing writes) but drops the connection instead of
    /// answering, as when a reply is lost on the way back.
    pub fn drop_after_commit(&self, n: u32) {
        self.st().inject.drop_after = n;
    }

    /// Makes the next `n` calls of `method` fail as `failure` says; other calls are answered
    /// normally. A multicall is the method `multiCall`. Use it to break a pass in its middle.
    pub fn fail_calls(&self, method: &str, n: u32, failure: Failure) {
        self.st()
            .inject
            .on_method
            .push((method.to_owned(), n, failure));
    }

    /// Answers the next `n` XML-RPC calls with an HTTP error page of the given status.
    pub fn http_errors(&self, n: u32, status: u16) {
        let mut st = self.st();
        st.inject.http_error = n;
        st.inject.http_status = status;
        st.inject.http_body = None;
    }

    /// Answers the next `n` XML-RPC calls with the given HTTP status and body.
    pub fn http_error_pages(&self, n: u32, status: u16, body: &[u8]) {
        let mut st = self.st();
        st.inject.http_error = n;
        st.inject.http_status = status;
        st.inject.http_body = Some(body.to_vec());
    }

    /// Answers the next `n` XML-RPC calls with this raw body (`200 OK`, `text/xml`), e.g. truncated XML.
    pub fn raw_responses(&self, n: u32, body: &[u8]) {
        let mut st = self.st();
        st.inject.raw = n;
        st.inject.raw_body = body.to_vec();
        st.inject.raw_content_type = "text/xml";
    }

    /// Answers the next `n` XML-RPC calls with `200 OK` and an HTML page (a captive portal or a
    /// maintenance page in front of the hub).
    pub fn html_pages(&self, n: u32) {
        let mut st = self.st();
        st.inject.raw = n;
        st.inject.raw_body =
            b"<html><head><title>Koji is down for maintenance</title></head></html>\n".to_vec();
        st.inject.raw_content_type = "text/html; charset=utf-8";
    }

    /// Answers the next `n` XML-RPC calls only after `delay` (the call itself is processed at once).
    pub fn slow_replies(&self, n: u32, delay: std::time::Duration) {
        let mut st = self.st();
        st.inject.slow = n;
        st.inject.slow_by = delay;
    }

    /// Marks every open session as expired (`AuthExpired` until renewed).
    pub fn expire_sessions(&self) {
        for s in &mut self.st().sessions {
            s.expired = true;
        }
    }

    /// Makes `/ssllogin` require an `Authorization: Negotiate` token (SPNEGO) that verifies with a
    /// service key from `keytab`, as Apache's mod_auth_gssapi in front of a real hub; requests
    /// without a valid token get `401 Unauthorized`. The principal becomes the user named like it
    /// (without realm and instance), created when missing; the session's authtype is 3 (GSSAPI).
    pub fn require_gssapi(&self, keytab: &Path) -> Result<(), koschei_gss::Error> {
        let acceptor = koschei_gss::Acceptor::from_keytab(keytab)?;
        self.st().gssapi = Some(acceptor);
        Ok(())
    }

    /// The principals of the Negotiate tokens verified so far, in order.
    pub fn gssapi_principals(&self) -> Vec<String> {
        self.st().gssapi_principals.clone()
    }

    /// How many sessions are open (logged in and not logged out or closed).
    pub fn open_sessions(&self) -> usize {
        self.st().sessions.iter().filter(|s| !s.closed).count()
    }

    /// Closes every open session on the hub side, as a hub restart or an administrator does: their
    /// keys then get `AuthError` 1002 "Invalid session or bad credentials".
    pub fn close_sessions(&self) {
        for s in &mut self.st().sessions {
            s.closed = true;
        }
    }

    /// Sets the load of host `builder1`.
    pub fn set_host_load(&self, task_load: f64, capacity: f64, ready: bool) {
        let mut st = self.st();
        if let Some(h) = st.hosts.first_mut() {
            h.task_load = task_load;
            h.capacity = capacity;
            h.ready = ready;
        }
    }

    /// Calls the hub's dispatcher directly (no HTTP), for quick checks of answers.
    pub fn dispatch(&self, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        self.st().dispatch_anonymous(method, params)
    }
}
