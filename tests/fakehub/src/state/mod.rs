//! The hub's data and its XML-RPC method implementations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use koschei_core::koji::xmlrpc::{self, Call, Struct};
use koschei_core::koji::{Fault, Value};

use crate::http::{Reply, Request};

mod list_tasks;
mod methods;

use methods::check_signature;

/// A finished task state a test can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// CLOSED (2): success.
    Closed,
    /// FAILED (5).
    Failed,
    /// CANCELED (3).
    Canceled,
}

impl TaskState {
    fn code(self) -> i64 {
        match self {
            TaskState::Closed => 2,
            TaskState::Failed => 5,
            TaskState::Canceled => 3,
        }
    }
}

/// A `build` call the hub accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedBuild {
    /// The task created.
    pub task_id: i64,
    /// The `src` argument.
    pub src: String,
    /// The target (nil when building from a repo id).
    pub target: Option<String>,
    /// The `opts` struct.
    pub opts: Struct,
    /// The `priority` keyword (nil if not given).
    pub priority: Option<i64>,
}

/// One XML-RPC call as the hub saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// Method name.
    pub method: String,
    /// `Koji-Session-Id` header, if any.
    pub session_id: Option<i64>,
    /// `Koji-Session-Callnum` header, if any.
    pub callnum: Option<i64>,
    /// The whole call as decoded (keyword arguments sorted by name).
    pub call: Call,
}

#[derive(Debug, Default)]
pub(crate) struct Inject {
    pub(crate) offline: u32,
    pub(crate) drop_before: u32,
    pub(crate) drop_after: u32,
    pub(crate) http_error: u32,
    pub(crate) http_status: u16,
    pub(crate) http_body: Option<Vec<u8>>,
    pub(crate) raw: u32,
    pub(crate) raw_body: Vec<u8>,
    pub(crate) raw_content_type: &'static str,
    pub(crate) slow: u32,
    pub(crate) slow_by: std::time::Duration,
    /// Failures for the next calls of one method: (method, remaining, failure).
    pub(crate) on_method: Vec<(String, u32, Failure)>,
}

/// How [`crate::FakeHub::fail_calls`] makes a call fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Answer with this fault (the call is not processed).
    Fault(Fault),
    /// Drop the connection without processing the call.
    Drop,
    /// Process the call (committing writes), then drop the connection instead of answering.
    DropAfterCommit,
}

#[derive(Debug)]
struct Tag {
    id: i64,
    name: String,
    arches: String,
    parent: Option<i64>,
    /// The tag's own `extra` (a side tag's `sidetag`, `sidetag_user`, `sidetag_user_id`).
    extra: Struct,
}

#[derive(Debug)]
struct Target {
    id: i64,
    name: String,
    build_tag: i64,
    dest_tag: i64,
}

#[derive(Debug)]
struct Listing {
    tag: i64,
    package: i64,
    blocked: bool,
}

#[derive(Debug)]
struct GroupEntry {
    tag: i64,
    group_id: i64,
    group: String,
    package: String,
    kind: String,
}

#[derive(Debug)]
struct Build {
    id: i64,
    package_id: i64,
    name: String,
    version: String,
    release: String,
    epoch: Option<i64>,
    state: i64,
    task_id: Option<i64>,
    tags: Vec<(i64, i64)>,
    creation_event: i64,
    ts: f64,
    srpm_id: i64,
    deps: Vec<(String, i64, String)>,
    build_archs: Vec<String>,
    exclusive_arch: Vec<String>,
}

#[derive(Debug)]
struct Repo {
    id: i64,
    tag: i64,
    state: i64,
    create_event: i64,
    ts: f64,
    dir: Option<PathBuf>,
    /// When set, `dir` holds only this arch's `repodata/` (served at `<id>/<arch>/`).
    arch: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) id: i64,
    method: String,
    pub(crate) state: i64,
    arch: String,
    label: Option<String>,
    parent: Option<i64>,
    owner: i64,
    priority: i64,
    host_id: Option<i64>,
    create_ts: f64,
    start_ts: Option<f64>,
    completion_ts: Option<f64>,
    request: Vec<Value>,
    result: Option<Result<Value, Fault>>,
}

#[derive(Debug)]
pub(crate) struct Host {
    pub(crate) task_load: f64,
    pub(crate) capacity: f64,
    pub(crate) ready: bool,
    arches: String,
}

#[derive(Debug)]
pub(crate) struct Session {
    id: i64,
    key: String,
    user: i64,
    authtype: i64,
    callnum: Option<i64>,
    pub(crate) expired: bool,
    pub(crate) closed: bool,
    /// The Kerberos principal of a GSSAPI login.
    krb_principal: Option<String>,
}

/// How the web server in front authenticated an `sslLogin` request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FrontAuth {
    /// Nothing verified.
    None,
    /// A TLS client certificate (or a plain `/ssllogin` request without GSSAPI configured).
    Cert,
    /// A verified `Authorization: Negotiate` token of this principal (`REMOTE_USER`).
    Gssapi(String),
}

#[derive(Debug)]
struct User {
    id: i64,
    name: String,
    password: String,
}

/// Everything the hub knows.
#[derive(Debug)]
pub(crate) struct State {
    event: i64,
    tags: Vec<Tag>,
    targets: Vec<Target>,
    packages: Vec<(i64, String)>,
    listings: Vec<Listing>,
    groups: Vec<GroupEntry>,
    builds: Vec<Build>,
    repos: Vec<Repo>,
    pub(crate) tasks: Vec<Task>,
    pub(crate) hosts: Vec<Host>,
    pub(crate) sessions: Vec<Session>,
    users: Vec<User>,
    next_id: i64,
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    /// Directory trees served under `{topurl}/<prefix>/`.
    pub(crate) trees: Vec<(String, PathBuf)>,
    pub(crate) submitted: Vec<SubmittedBuild>,
    pub(crate) calls: Vec<RecordedCall>,
    pub(crate) file_requests: Vec<String>,
    pub(crate) inject: Inject,
    /// Service credentials that `/ssllogin` requires a Negotiate token for, when set.
    pub(crate) gssapi: Option<koschei_gss::Acceptor>,
    /// Principals of the verified Negotiate tokens, in order.
    pub(crate) gssapi_principals: Vec<String>,
}

/// Epoch seconds of the hub's fake clock at event 0 (2026-11-24, like the fixtures).
const BASE_TS: f64 = 1_795_527_900.0;

fn fault(code: i64, text: impl Into<String>) -> Fault {
    Fault::new(code, text)
}

fn st<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Struct(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn opt_i(v: Option<i64>) -> Value {
    v.map_or(Value::Nil, Value::Int)
}

fn opt_f(v: Option<f64>) -> Value {
    v.map_or(Value::Nil, Value::Double)
}

/// `isoformat(' ')` of a UTC timestamp, like the hub's time strings.
fn time_string(ts: f64) -> String {
    let secs = ts.floor() as i64;
    let micros = ((ts - ts.floor()) * 1e6).round() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
    if micros == 0 {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}+00:00")
    } else {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}.{micros:06}+00:00")
    }
}

fn parse_dep(s: &str) -> (String, i64, String) {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if s.starts_with('(') || parts.len() != 3 {
        return (s.to_owned(), 0, String::new());
    }
    let flags = parts[1].chars().fold(0, |f, c| {
        f | match c {
            '<' => 2,
            '>' => 4,
            '=' => 8,
            _ => 0,
        }
    });
    (parts[0].to_owned(), flags, parts[2].to_owned())
}

fn is_write(method: &str) -> bool {
    matches!(method, "build" | "cancelTask" | "logout" | "createTag")
}

impl State {
    pub(crate) fn new() -> State {
        State {
            event: 20,
            tags: Vec::new(),
            targets: Vec::new(),
            packages: Vec::new(),
            listings: Vec::new(),
            groups: Vec::new(),
            builds: Vec::new(),
            repos: Vec::new(),
            tasks: Vec::new(),
            hosts: vec![Host {
                task_load: 0.0,
                capacity: 2.0,
                ready: true,
                arches: "x86_64 aarch64 i686".to_owned(),
            }],
            sessions: Vec::new(),
            users: vec![
                User {
                    id: 1,
                    name: "kojiadmin".into(),
                    password: "kojiadmin-pw".into(),
                },
                User {
                    id: 3,
                    name: "koschei".into(),
                    password: "koschei".into(),
                },
            ],
            next_id: 0,
            files: BTreeMap::new(),
            trees: Vec::new(),
            submitted: Vec::new(),
            calls: Vec::new(),
            file_requests: Vec::new(),
            inject: Inject::default(),
            gssapi: None,
            gssapi_principals: Vec::new(),
        }
    }

    fn next_event(&mut self) -> i64 {
        self.event += 1;
        self.event
    }

    fn now(&self) -> f64 {
        BASE_TS + self.event as f64 * 1.25 + 0.000_125
    }

    fn tag_id(&self, name: &str) -> Option<i64> {
        self.tags.iter().find(|t| t.name == name).map(|t| t.id)
    }

    fn tag_by_value(&self, v: &Value) -> Option<&Tag> {
        match v {
            Value::Int(i) => self.tags.iter().find(|t| t.id == *i),
            Value::String(s) => self.tags.iter().find(|t| &t.name == s),
            _ => None,
        }
    }

    fn tag_name(&self, id: i64) -> String {
        self.tags
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    /// The tag and its ancestors, nearest first.
    fn lineage(&self, tag: i64) -> Vec<i64> {
        let mut out = vec![tag];
        let mut cur = tag;
        while let Some(p) = self
            .tags
            .iter()
            .find(|t| t.id == cur)
            .and_then(|t| t.parent)
        {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            cur = p;
        }
        out
    }

    pub(crate) fn add_tag(&mut self, name: &str, arches: &[&str], parent: Option<&str>) -> i64 {
        let id = self.tags.len() as i64 + 1;
        let parent = parent.and_then(|p| self.tag_id(p));
        self.tags.push(Tag {
            id,
            name: name.to_owned(),
            arches: arches.join(" "),
            parent,
            extra: Struct::new(),
        });
        self.next_event();
        id
    }

    /// A side tag of `base` as Koji's sidetag plugin makes it (`createSideTag`): named
    /// `<base>-side-<id>`, inheriting from `base`, no arches of its own, `extra` naming it a
    /// side tag of `user`. Returns the name; `None` when `base` does not exist.
    pub(crate) fn add_side_tag(&mut self, base: &str, user: &str) -> Option<String> {
        let parent = self.tag_id(base)?;
        let id = self.tags.len() as i64 + 1;
        let name = format!("{base}-side-{id}");
        let user_id = self
            .users
            .iter()
            .find(|u| u.name == user)
            .map_or(1, |u| u.id);
        let extra: Struct = [
            ("sidetag".to_owned(), Value::Bool(true)),
            ("sidetag_user".to_owned(), Value::from(user)),
            ("sidetag_user_id".to_owned(), Value::Int(user_id)),
        ]
        .into_iter()
        .collect();
        self.tags.push(Tag {
            id,
            name: name.clone(),
            arches: String::new(),
            parent: Some(parent),
            extra,
        });
        self.next_event();
        Some(name)
    }

    pub(crate) fn add_target(&mut self, name: &str, build_tag: &str, dest_tag: &str) -> i64 {
        let id = self.targets.len() as i64 + 1;
        let build_tag = self.tag_id(build_tag).unwrap_or(0);
        let dest_tag = self.tag_id(dest_tag).unwrap_or(0);
        self.targets.push(Target {
            id,
            name: name.to_owned(),
            build_tag,
            dest_tag,
        });
        id
    }

    fn package_id(&mut self, name: &str) -> i64 {
        if let Some((id, _)) = self.packages.iter().find(|(_, n)| n == name) {
            return *id;
        }
        let id = self.packages.len() as i64 + 1;
        self.packages.push((id, name.to_owned()));
        id
    }

    pub(crate) fn add_package(&mut self, tag: &str, name: &str, blocked: bool) -> i64 {
        let pkg = self.package_id(name);
        let tag = self.tag_id(tag).unwrap_or(0);
        self.listings
            .retain(|l| !(l.tag == tag && l.package == pkg));
        self.listings.push(Listing {
            tag,
            package: pkg,
            blocked,
        });
        self.next_event();
        pkg
    }

    pub(crate) fn add_group(&mut self, tag: &str, group: &str, packages: &[&str], kind: &str) {
        let tag = self.tag_id(tag).unwrap_or(0);
        let group_id = self
            .groups
            .iter()
            .find(|g| g.group == group)
            .map(|g| g.group_id)
            .unwrap_or_else(|| {
                let mut ids: Vec<i64> = self.groups.iter().map(|g| g.group_id).collect();
                ids.dedup();
                ids.into_iter().max().unwrap_or(0) + 1
            });
        for p in packages {
            self.groups.push(GroupEntry {
                tag,
                group_id,
                group: group.to_owned(),
                package: (*p).to_owned(),
                kind: kind.to_owned(),
            });
        }
        self.next_event();
    }

    pub(crate) fn add_build(&mut self, tag: &str, nvr: &str, build_requires: &[&str]) -> i64 {
        let mut parts = nvr.rsplitn(3, '-');
        let release = parts.next().unwrap_or("1").to_owned();
        let version = parts.next().unwrap_or("0").to_owned();
        let name = parts.next().unwrap_or(nvr).to_owned();
        let package_id = self.package_id(&name);
        let tag_id = self.tag_id(tag).unwrap_or(0);
        let listed = self.lineage(tag_id).iter().any(|t| {
            self.listings
                .iter()
                .any(|l| l.tag == *t && l.package == package_id)
        });
        if !listed {
            self.listings.push(Listing {
                tag: tag_id,
                package: package_id,
                blocked: false,
            });
        }
        let creation_event = self.next_event();
        let tag_event = self.next_event();
        let id = self.builds.len() as i64 + 1;
        self.next_id += 1;
        let mut deps: Vec<(String, i64, String)> =
            build_requires.iter().map(|d| parse_dep(d)).collect();
        deps.push((
            "rpmlib(CompressedFileNames)".into(),
            16_777_226,
            "3.0.4-1".into(),
        ));
        let ts = self.now();
        self.builds.push(Build {
            id,
            package_id,
            name,
            version,
            release,
            epoch: None,
            state: 1,
            task_id: None,
            tags: vec![(tag_id, tag_event)],
            creation_event,
            ts,
            srpm_id: id * 10 + 1,
            deps,
            build_archs: Vec::new(),
            exclusive_arch: Vec::new(),
        });
        id
    }

    fn build_mut(&mut self, id: i64) -> Option<&mut Build> {
        self.builds.iter_mut().find(|b| b.id == id)
    }

    pub(crate) fn set_build_arches(&mut self, id: i64, build_archs: &[&str], exclusive: &[&str]) {
        if let Some(b) = self.build_mut(id) {
            b.build_archs = build_archs.iter().map(|s| (*s).to_owned()).collect();
            b.exclusive_arch = exclusive.iter().map(|s| (*s).to_owned()).collect();
        }
    }

    pub(crate) fn set_build_epoch(&mut self, id: i64, epoch: Option<i64>) {
        if let Some(b) = self.build_mut(id) {
            b.epoch = epoch;
        }
    }

    pub(crate) fn set_build_state(&mut self, id: i64, state: i64) {
        if let Some(b) = self.build_mut(id) {
            b.state = state;
        }
    }

    pub(crate) fn add_repo(&mut self, tag: &str, dir: Option<PathBuf>, state: i64) -> i64 {
        self.add_repo_for(tag, dir, None, state)
    }

    pub(crate) fn add_repo_for(
        &mut self,
        tag: &str,
        dir: Option<PathBuf>,
        arch: Option<&str>,
        state: i64,
    ) -> i64 {
        let tag = self.tag_id(tag).unwrap_or(0);
        if state == 1 {
            for r in self
                .repos
                .iter_mut()
                .filter(|r| r.tag == tag && r.state == 1)
            {
                r.state = 2;
            }
        }
        let id = self.repos.len() as i64 + 1;
        let create_event = self.next_event();
        let ts = self.now();
        self.repos.push(Repo {
            id,
            tag,
            state,
            create_event,
            ts,
            dir,
            arch: arch.map(str::to_owned),
        });
        id
    }

    fn new_task(
        &mut self,
        method: &str,
        arch: &str,
        parent: Option<i64>,
        owner: i64,
        priority: i64,
        request: Vec<Value>,
    ) -> i64 {
        let id = self.tasks.len() as i64 + 1;
        self.next_event();
        let create_ts = self.now();
        self.tasks.push(Task {
            id,
            method: method.to_owned(),
            state: 0,
            arch: arch.to_owned(),
            label: None,
            parent,
            owner,
            priority,
            host_id: None,
            create_ts,
            start_ts: None,
            completion_ts: None,
            request,
            result: None,
        });
        id
    }

    pub(crate) fn open_task(&mut self, id: i64) {
        self.next_event();
        let now = self.now();
        if let Some(t) = self.tasks.iter_mut().find(|t| t.id == id) {
            t.state = 1;
            t.host_id = Some(1);
            t.start_ts = Some(now);
        }
    }

    pub(crate) fn finish_task(&mut self, id: i64, state: TaskState, with_fault: Option<Fault>) {
        let Some(idx) = self.tasks.iter().position(|t| t.id == id) else {
            return;
        };
        self.next_event();
        let now = self.now();
        let is_build = self.tasks[idx].method == "build";
        let has_children = self.tasks.iter().any(|t| t.parent == Some(id));
        if is_build && !has_children && state != TaskState::Canceled {
            let request = self.tasks[idx].request.clone();
            let owner = self.tasks[idx].owner;
            let prio = self.tasks[idx].priority - 1;
            let (build_tag, arches) = self.build_task_arches(&request);
            let repo = self
                .repos
                .iter()
                .filter(|r| r.tag == build_tag && r.state == 1)
                .map(|r| r.id)
                .max()
                .unwrap_or(0);
            let tag_name = self.tag_name(build_tag);
            let src = request.first().cloned().unwrap_or(Value::Nil);
            let srpm = self.new_task(
                "rebuildSRPM",
                "noarch",
                Some(id),
                owner,
                prio,
                vec![
                    src,
                    Value::from(tag_name.as_str()),
                    st([
                        ("repo_id", Value::Int(repo)),
                        ("scratch", Value::Bool(true)),
                    ]),
                ],
            );
            self.set_finished(srpm, 2, now, Some("srpm"), None);
            for (i, arch) in arches.iter().enumerate() {
                let child = self.new_task(
                    "buildArch",
                    arch,
                    Some(id),
                    owner,
                    prio,
                    vec![
                        Value::from(format!("tasks/{srpm}/{srpm}/x.src.rpm")),
                        Value::from(tag_name.as_str()),
                        Value::from(arch.as_str()),
                        Value::Bool(true),
                        st([("repo_id", Value::Int(repo))]),
                    ],
                );
                let failed = state == TaskState::Failed && i == 0;
                let result = if failed {
                    Some(Err(with_fault.clone().unwrap_or_else(|| build_error(arch))))
                } else {
                    Some(Ok(st([
                        ("brootid", Value::Int(child)),
                        (
                            "logs",
                            Value::from(vec![format!("tasks/{child}/{child}/build.log")]),
                        ),
                        ("rpms", Value::Array(vec![])),
                        ("srpms", Value::Array(vec![])),
                    ])))
                };
                self.set_finished(child, if failed { 5 } else { 2 }, now, Some(arch), result);
            }
        } else {
            let children: Vec<i64> = self
                .tasks
                .iter()
                .filter(|t| t.parent == Some(id) && !is_finished(t.state))
                .map(|t| t.id)
                .collect();
            for c in children {
                self.set_finished(c, state.code(), now, None, None);
            }
        }
        let result = match state {
            TaskState::Closed => Some(Ok(Value::Nil)),
            TaskState::Failed => {
                let arch = self.tasks[idx].arch.clone();
                Some(Err(with_fault.unwrap_or_else(|| build_error(&arch))))
            }
            TaskState::Canceled => None,
        };
        self.set_finished(id, state.code(), now, None, result);
    }

    fn set_finished(
        &mut self,
        id: i64,
        state: i64,
        now: f64,
        label: Option<&str>,
        result: Option<Result<Value, Fault>>,
    ) {
        if let Some(t) = self.tasks.iter_mut().find(|t| t.id == id) {
            t.state = state;
            t.completion_ts = Some(now);
            if state != 3 {
                t.host_id = Some(1);
                t.start_ts.get_or_insert(now);
            }
            if label.is_some() {
                t.label = label.map(str::to_owned);
            }
            if result.is_some() {
                t.result = result;
            }
        }
    }

    /// Build tag and arches of a `build` task's request.
    fn build_task_arches(&self, request: &[Value]) -> (i64, Vec<String>) {
        let target = request.get(1).and_then(Value::as_str).unwrap_or("");
        let build_tag = self
            .targets
            .iter()
            .find(|t| t.name == target)
            .map(|t| t.build_tag)
            .unwrap_or(0);
        let arches = request
            .get(2)
            .and_then(|o| o.get("arch_override"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                self.tags
                    .iter()
                    .find(|t| t.id == build_tag)
                    .map(|t| t.arches.clone())
            })
            .unwrap_or_else(|| "x86_64".to_owned());
        (
            build_tag,
            arches.split_whitespace().map(str::to_owned).collect(),
        )
    }

    // -----------------------------------------------------------------------------------------
    // HTTP entry point.

    pub(crate) fn handle(&mut self, req: Request) -> Reply {
        if req.method == "GET" {
            self.file_requests.push(req.target.clone());
            return self.serve_file(&req.target);
        }
        if req.method != "POST" || !req.target.starts_with("/kojihub") {
            return text(
                405,
                "Method Not Allowed",
                "Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.\n",
            );
        }
        let front = match self.front_auth(&req) {
            Ok(a) => a,
            Err(reply) => return reply,
        };
        if req.body.is_empty() {
            return text(400, "Bad Request", "Invalid request: Empty request\n");
        }
        let call = match xmlrpc::decode_call(&req.body) {
            Ok(c) => c,
            Err(e) => return text(400, "Bad Request", &format!("Invalid request: {e}\n")),
        };
        let session_id = req.header("koji-session-id").and_then(|v| v.parse().ok());
        let callnum = req
            .header("koji-session-callnum")
            .or_else(|| req.header("koji-callnum"))
            .and_then(|v| v.parse().ok());
        let key = req.header("koji-session-key").map(str::to_owned);
        self.calls.push(RecordedCall {
            method: call.method.clone(),
            session_id,
            callnum,
            call: call.clone(),
        });
        if self.inject.drop_before > 0 {
            self.inject.drop_before -= 1;
            return Reply::Drop;
        }
        let mut method_failure = None;
        if let Some(entry) = self
            .inject
            .on_method
            .iter_mut()
            .find(|(m, n, _)| *m == call.method && *n > 0)
        {
            entry.1 -= 1;
            method_failure = Some(entry.2.clone());
        }
        match &method_failure {
            Some(Failure::Drop) => return Reply::Drop,
            Some(Failure::Fault(f)) => {
                return Reply::Respond {
                    status: 200,
                    reason: "OK",
                    content_type: "text/xml",
                    body: xmlrpc::encode_fault(f),
                };
            }
            _ => {}
        }
        if self.inject.http_error > 0 {
            self.inject.http_error -= 1;
            let status = self.inject.http_status;
            let body = self.inject.http_body.clone().unwrap_or_else(|| {
                format!("<html><head><title>{status} Service Unavailable</title></head><body>down</body></html>\n")
                    .into_bytes()
            });
            return Reply::Respond {
                status,
                reason: "Error",
                content_type: "text/html",
                body,
            };
        }
        if self.inject.raw > 0 {
            self.inject.raw -= 1;
            return Reply::Respond {
                status: 200,
                reason: "OK",
                content_type: self.inject.raw_content_type,
                body: self.inject.raw_body.clone(),
            };
        }
        let result = if self.inject.offline > 0 {
            self.inject.offline -= 1;
            Err(fault(1014, "server is offline"))
        } else {
            self.dispatch_with_session(&call, session_id, key.as_deref(), callnum, front)
        };
        if self.inject.drop_after > 0 {
            self.inject.drop_after -= 1;
            return Reply::Drop;
        }
        if method_failure == Some(Failure::DropAfterCommit) {
            return Reply::Drop;
        }
        let body = match &result {
            Ok(v) => xmlrpc::encode_response(v),
            Err(f) => xmlrpc::encode_fault(f),
        };
        Reply::Respond {
            status: 200,
            reason: "OK",
            content_type: "text/xml",
            body,
        }
    }

    fn serve_file(&self, target: &str) -> Reply {
        let not_found = || text(404, "Not Found", "Not Found\n");
        let Some(path) = target.strip_prefix("/kojifiles/") else {
            return text(
                405,
                "Method Not Allowed",
                "Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.\n",
            );
        };
        if path.split('/').any(|c| c == ".." || c.is_empty()) {
            return not_found();
        }
        if let Some(bytes) = self.files.get(path) {
            return Reply::Respond {
                status: 200,
                reason: "OK",
                content_type: "application/octet-stream",
                body: bytes.clone(),
            };
        }
        let file = |dir: &Path, rest: &str| std::fs::read(dir.join(rest)).ok();
        for (prefix, dir) in &self.trees {
            if let Some(rest) = path
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
                && let Some(bytes) = file(dir, rest)
            {
                return Reply::Respond {
                    status: 200,
                    reason: "OK",
                    content_type: "application/octet-stream",
                    body: bytes,
                };
            }
        }
        // repos/<tag>/<id>/<rest>
        let parts: Vec<&str> = path.splitn(4, '/').collect();
        if let ["repos", tag, id, rest] = parts[..] {
            let repo = self
                .repos
                .iter()
                .find(|r| r.id.to_string() == id && self.tag_name(r.tag) == tag);
            let found = repo.and_then(|r| {
                let dir = r.dir.as_ref()?;
                match &r.arch {
                    None => file(dir, rest),
                    Some(arch) => file(dir, rest.strip_prefix(arch.as_str())?.strip_prefix('/')?),
                }
            });
            if let Some(bytes) = found {
                return Reply::Respond {
                    status: 200,
                    reason: "OK",
                    content_type: "application/octet-stream",
                    body: bytes,
                };
            }
        }
        not_found()
    }

    // -----------------------------------------------------------------------------------------
    // Sessions.

    fn dispatch_with_session(
        &mut self,
        call: &Call,
        session_id: Option<i64>,
        key: Option<&str>,
        callnum: Option<i64>,
        front: FrontAuth,
    ) -> Result<Value, Fault> {
        let is_login = matches!(call.method.as_str(), "login" | "sslLogin");
        let mut user = None;
        let mut sess_idx = None;
        if let (Some(id), Some(key)) = (session_id, key) {
            let idx = self
                .sessions
                .iter()
                .position(|s| s.id == id && s.key == key && !s.closed);
            let Some(idx) = idx else {
                return Err(fault(1002, "Invalid session or bad credentials"));
            };
            if self.sessions[idx].expired && !is_login {
                return Err(fault(1007, format!("session \"{id}\" has expired")));
            }
            if let (Some(n), Some(stored)) = (callnum, self.sessions[idx].callnum) {
                if n < stored {
                    return Err(fault(1008, format!("{stored} > {n} (session {id})")));
                }
                if n == stored && !is_login {
                    return Err(fault(
                        1009,
                        format!(
                            "unable to retry call {n} (method {}) for session {id}",
                            call.method
                        ),
                    ));
                }
            }
            user = Some(self.sessions[idx].user);
            sess_idx = Some(idx);
        }
        if is_login {
            return self.login(call, sess_idx, front);
        }
        let result = check_signature(call).and_then(|()| self.dispatch(call, user, sess_idx));
        if result.is_ok()
            && is_write_call(call)
            && let (Some(idx), Some(n)) = (sess_idx, callnum)
        {
            self.sessions[idx].callnum = Some(n);
        }
        result
    }

    /// What the web server in front of the hub checked: on `/ssllogin` with GSSAPI configured, a
    /// Negotiate token verified with the service keytab (401 without a valid one, before the hub
    /// sees the request, as mod_auth_gssapi does).
    fn front_auth(&mut self, req: &Request) -> Result<FrontAuth, Reply> {
        if !req.target.starts_with("/kojihub/ssllogin") {
            return Ok(FrontAuth::None);
        }
        let Some(acceptor) = &self.gssapi else {
            return Ok(FrontAuth::Cert);
        };
        let unauthorized = |why: String| Reply::Unauthorized {
            body: format!("Unauthorized: {why}\n").into_bytes(),
        };
        let Some(token) = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Negotiate "))
        else {
            return Err(unauthorized("no Negotiate token".into()));
        };
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .map_err(|e| unauthorized(format!("bad base64 in the Negotiate token: {e}")))?;
        let accepted = acceptor
            .accept(&token)
            .map_err(|e| unauthorized(e.to_string()))?;
        self.gssapi_principals.push(accepted.principal.clone());
        Ok(FrontAuth::Gssapi(accepted.principal))
    }

    /// The user of a Kerberos principal: the user named like the principal without realm (and
    /// without instance), or a new one (the hub's `LoginCreatesUser`).
    fn user_of_principal(&mut self, principal: &str) -> i64 {
        let name = principal.split('@').next().unwrap_or(principal);
        let short = name.split('/').next().unwrap_or(name);
        if let Some(u) = self
            .users
            .iter()
            .find(|u| u.name == name || u.name == short)
        {
            return u.id;
        }
        let id = self.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
        self.users.push(User {
            id,
            name: name.to_owned(),
            password: String::new(),
        });
        id
    }

    fn login(&mut self, call: &Call, old: Option<usize>, front: FrontAuth) -> Result<Value, Fault> {
        check_signature(call)?;
        let renew = matches!(call.kwarg_value("renew"), Some(Value::Bool(true)));
        let mut krb_principal = None;
        let (user, authtype) = if call.method == "sslLogin" {
            match front {
                FrontAuth::None => return Err(fault(1002, "could not verify client: None")),
                FrontAuth::Cert => (3, 2),
                FrontAuth::Gssapi(p) => {
                    let user = self.user_of_principal(&p);
                    krb_principal = Some(p);
                    (user, 3)
                }
            }
        } else {
            let name = call.param(0, "user").and_then(Value::as_str).unwrap_or("");
            let pw = call
                .param(1, "password")
                .and_then(Value::as_str)
                .unwrap_or("");
            match self
                .users
                .iter()
                .find(|u| u.name == name && u.password == pw)
            {
                Some(u) => (u.id, 0),
                None => return Err(fault(1002, "Invalid username or password")),
            }
        };
        let key_n = self.sessions.len() + 1;
        let key = format!("{user}-FakeKey{key_n:012}x");
        if renew && let Some(idx) = old {
            let s = &mut self.sessions[idx];
            s.key = key.clone();
            s.expired = false;
            let id = s.id;
            return Ok(session_value(id, &key));
        }
        let id = 24 + self.sessions.len() as i64 + 1;
        self.sessions.push(Session {
            id,
            key: key.clone(),
            user,
            authtype,
            callnum: None,
            expired: false,
            closed: false,
            krb_principal,
        });
        Ok(session_value(id, &key))
    }

    pub(crate) fn dispatch_anonymous(
        &mut self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, Fault> {
        let call = Call::from_wire(method, params);
        check_signature(&call)?;
        self.dispatch(&call, None, None)
    }
}

fn session_value(id: i64, key: &str) -> Value {
    st([
        ("header-auth", Value::Bool(true)),
        ("session-id", Value::Int(id)),
        ("session-key", Value::from(key)),
    ])
}

fn build_error(arch: &str) -> Fault {
    fault(
        1005,
        format!(
            "error building package (arch {arch}), mock exited with status 1; see build.log or root.log for more information"
        ),
    )
}

fn is_finished(state: i64) -> bool {
    matches!(state, 2 | 3 | 5)
}

fn is_write_call(call: &Call) -> bool {
    if matches!(call.method.as_str(), "multiCall" | "system.multicall") {
        return call
            .params
            .first()
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items.iter().any(|i| {
                    i.get("methodName")
                        .and_then(Value::as_str)
                        .is_some_and(is_write)
                })
            });
    }
    is_write(&call.method)
}

fn text(status: u16, reason: &'static str, body: &str) -> Reply {
    Reply::Respond {
        status,
        reason,
        content_type: "text/plain",
        body: body.as_bytes().to_vec(),
    }
}

impl State {
    /// Imports a COMPLETE build like [`State::add_build`] and gives it a CLOSED `build` task
    /// (with `rebuildSRPM` and `buildArch` children in the tag's latest repo), as a build made
    /// by Koji's builders has; Koschei only registers real builds that have a task.
    pub(crate) fn add_build_with_task(
        &mut self,
        tag: &str,
        target: &str,
        nvr: &str,
        build_requires: &[&str],
    ) -> i64 {
        let build = self.add_build(tag, nvr, build_requires);
        let src = format!("git+https://src.example/rpms/{nvr}");
        let task = self.new_task(
            "build",
            "noarch",
            None,
            1,
            20,
            vec![
                Value::from(src.as_str()),
                Value::from(target),
                Value::Struct(Struct::new()),
            ],
        );
        self.finish_task(task, TaskState::Closed, None);
        if let Some(b) = self.builds.iter_mut().find(|b| b.id == build) {
            b.task_id = Some(task);
        }
        build
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_strings_look_like_the_hub() {
        assert_eq!(
            time_string(1_795_528_014.801_931),
            "2026-11-24 13:46:54.801931+00:00"
        );
        assert_eq!(time_string(1_795_528_014.0), "2026-11-24 13:46:54+00:00");
    }

    #[test]
    fn deps_parse() {
        assert_eq!(parse_dep("bar >= 2.0"), ("bar".into(), 12, "2.0".into()));
        assert_eq!(
            parse_dep("(baz or qux)"),
            ("(baz or qux)".into(), 0, String::new())
        );
        assert_eq!(
            parse_dep("python3-devel"),
            ("python3-devel".into(), 0, String::new())
        );
    }
}
