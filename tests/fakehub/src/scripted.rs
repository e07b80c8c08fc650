//! A scripted [`KojiApi`]: answers from plain data, no HTTP, for service tests and benches
//! that need to control every answer (faults, dropped replies, slow submissions) without a
//! hub. Tests of the wire protocol use [`crate::FakeHub`] instead.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use koschei_core::koji::{
    Host, KojiApi, KojiBuildState, KojiError, PackageEntry, RepoInfo, RepoState, ScratchBuild,
    Srpm, SrpmNvr, TaggedBuild, TaskInfo,
};
use koschei_core::model::{KojiBuildId, KojiEventId, KojiTaskId, RepoId, TaskState};
use koschei_core::schedule::SrpmArchHeaders;

fn epoch_secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A READY repo `id` of `tag` created at `event`.
pub fn ready_repo(id: i32, tag: &str, event: i32) -> RepoInfo {
    RepoInfo {
        id: RepoId(id),
        state: RepoState::Ready,
        create_event: KojiEventId(event),
        create_ts: None,
        tag_id: None,
        tag_name: Some(tag.to_owned()),
        dist: Some(false),
        task_id: None,
    }
}

/// A task as `getTaskInfo`/`getTaskChildren(request=True)` give it; `repo` goes into the
/// request as a `buildArch` child's `repo_id`.
pub fn task_info(
    id: i32,
    method: &str,
    state: TaskState,
    created: SystemTime,
    finished: Option<SystemTime>,
    repo: Option<RepoId>,
) -> TaskInfo {
    use koschei_core::koji::{Struct, Value};
    let request = repo.map(|r| {
        let mut opts = Struct::new();
        opts.insert("repo_id".into(), Value::from(r));
        vec![
            Value::from("pkg.src.rpm"),
            Value::Int(1),
            Value::from("x86_64"),
            Value::Bool(true),
            Value::Struct(opts),
        ]
    });
    TaskInfo {
        id: KojiTaskId(id),
        method: method.to_owned(),
        state,
        arch: if method == "buildArch" {
            "x86_64".to_owned()
        } else {
            "noarch".to_owned()
        },
        label: (method == "buildArch").then(|| "x86_64".to_owned()),
        parent: None,
        priority: None,
        create_ts: Some(epoch_secs(created)),
        start_ts: None,
        completion_ts: finished.map(epoch_secs),
        host_id: None,
        request,
    }
}

/// A top-level `build` task as `listTasks(decode=True)` gives it: request `[src, target,
/// {scratch: true}]`, created at `created`, FREE.
pub fn build_task(id: i32, src: &str, target: Option<&str>, created: SystemTime) -> TaskInfo {
    use koschei_core::koji::{Struct, Value};
    let mut opts = Struct::new();
    opts.insert("scratch".into(), Value::Bool(true));
    TaskInfo {
        request: Some(vec![
            Value::from(src),
            Value::from(target),
            Value::Struct(opts),
        ]),
        ..task_info(id, "build", TaskState::Free, created, None, None)
    }
}

/// A latest build of `name` in a tag (`listTagged`).
pub fn tagged_build(
    name: &str,
    task: Option<i32>,
    state: KojiBuildState,
    epoch: Option<i32>,
    version: &str,
    release: &str,
) -> TaggedBuild {
    TaggedBuild {
        build_id: KojiBuildId(task.unwrap_or(0)),
        name: name.to_owned(),
        package_id: None,
        version: version.to_owned(),
        release: release.to_owned(),
        epoch,
        nvr: Some(format!("{name}-{version}-{release}")),
        state,
        task_id: task.map(KojiTaskId),
        tag_name: None,
        create_event: None,
        owner_name: None,
        creation_time: None,
        completion_time: None,
    }
}

/// A package listed in a tag (`listPackages`).
pub fn tag_package(name: &str, blocked: bool) -> PackageEntry {
    PackageEntry {
        package_id: 0,
        package_name: name.to_owned(),
        tag_name: None,
        blocked,
        extra_arches: None,
    }
}

/// What [`ScriptedKoji`] answers.
#[derive(Debug, Default)]
#[allow(
    missing_docs,
    reason = "each field is the answer of the call it is named after"
)]
pub struct State {
    pub latest_repo: HashMap<String, RepoId>,
    pub repos: HashMap<RepoId, RepoInfo>,
    pub group: Option<Vec<String>>,
    pub requires: HashMap<String, Vec<String>>,
    pub arches: Vec<String>,
    pub headers: Option<SrpmArchHeaders>,
    pub hosts: Vec<Host>,
    pub tagged: Vec<TaggedBuild>,
    pub srpm_missing: BTreeSet<String>,
    pub packages: Vec<PackageEntry>,
    pub tasks: HashMap<KojiTaskId, TaskInfo>,
    pub children: HashMap<KojiTaskId, Vec<TaskInfo>>,
    pub faulted: BTreeSet<KojiTaskId>,
    pub submitted: Vec<ScratchBuild>,
    pub canceled: Vec<KojiTaskId>,
    /// Errors returned by the next submissions.
    pub submit_errors: VecDeque<KojiError>,
    pub submit_delay: Duration,
    pub next_task: i32,
    pub calls: Vec<&'static str>,
    /// `getRPMDeps` fails in transport while set.
    pub requires_down: bool,
    /// `getTaskChildren` fails in transport while set.
    pub children_down: bool,
    /// The session's `build` tasks (`listTasks`), filtered by creation time when asked;
    /// `None`: the session has no user.
    pub own_tasks: Option<Vec<TaskInfo>>,
    /// `listTasks` fails in transport while set.
    pub list_tasks_down: bool,
    /// The hub's clock (`getLastEvent`); `None`: the epoch, so that every scripted task is
    /// in any window of time.
    pub hub_time: Option<SystemTime>,
}

/// A Koji whose every answer comes from [`State`], which tests and benches script; it
/// records the calls it gets in [`State::calls`].
#[derive(Debug)]
pub struct ScriptedKoji(pub Mutex<State>);

/// A fault answer (the call certainly did not take effect).
pub fn fault(method: &str) -> KojiError {
    KojiError::Fault {
        method: method.into(),
        code: 1000,
        message: "boom".into(),
    }
}

/// A transport failure (the call may or may not have taken effect).
pub fn transport(method: &str) -> KojiError {
    KojiError::Transport {
        method: method.into(),
        source: "connection reset".into(),
    }
}

impl Default for ScriptedKoji {
    fn default() -> Self {
        ScriptedKoji::new()
    }
}

impl ScriptedKoji {
    /// Repo 123 of f25-build ready; build group R; x86_64 only; an idle x86_64 host.
    pub fn new() -> ScriptedKoji {
        let mut s = State::default();
        s.latest_repo.insert("f25-build".into(), RepoId(123));
        for id in 100..140 {
            s.repos
                .insert(RepoId(id), ready_repo(id, "f25-build", id * 10));
        }
        s.group = Some(vec!["R".into()]);
        s.arches = vec!["x86_64".into()];
        s.headers = Some(SrpmArchHeaders::default());
        s.hosts = vec![Host::new("x86_64 i386", 10.0, 3.0, true)];
        s.next_task = 1000;
        s.own_tasks = Some(Vec::new());
        ScriptedKoji(Mutex::new(s))
    }

    /// Reads or changes the script.
    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.0.lock().expect("fake koji lock"))
    }

    fn call(&self, name: &'static str) {
        self.with(|s| s.calls.push(name));
    }

    /// A finished (or running) build task with one buildArch child in repo `repo`.
    /// A finished (or running) build task with one `buildArch` child in repo `repo`.
    pub fn task(&self, task: i32, state: TaskState, repo: Option<i32>, start: SystemTime) {
        let finished = state
            .is_finished()
            .then_some(start + Duration::from_secs(600));
        self.with(|s| {
            s.tasks.insert(
                KojiTaskId(task),
                task_info(task, "build", state, start, finished, None),
            );
            s.children.insert(
                KojiTaskId(task),
                vec![task_info(
                    task + 1,
                    "buildArch",
                    state,
                    start,
                    finished,
                    repo.map(RepoId),
                )],
            );
        });
    }
}

impl KojiApi for ScriptedKoji {
    fn latest_repo(&self, build_tag: &str) -> Result<Option<RepoId>, KojiError> {
        self.call("getRepo");
        Ok(self.with(|s| s.latest_repo.get(build_tag).copied()))
    }
    fn repo_info(&self, repo_id: RepoId) -> Result<Option<RepoInfo>, KojiError> {
        self.call("repoInfo");
        Ok(self.with(|s| s.repos.get(&repo_id).cloned()))
    }
    fn build_group(
        &self,
        _tag: &str,
        _group: &str,
        _event: KojiEventId,
    ) -> Result<Option<Vec<String>>, KojiError> {
        self.call("getTagGroups");
        Ok(self.with(|s| s.group.clone()))
    }
    fn rpm_requires(&self, srpms: &[SrpmNvr]) -> Result<Vec<Option<Vec<String>>>, KojiError> {
        self.call("getRPMDeps");
        if self.with(|s| s.requires_down) {
            return Err(transport("getRPMDeps"));
        }
        Ok(self.with(|s| {
            srpms
                .iter()
                .map(|n| s.requires.get(&n.name).cloned())
                .collect()
        }))
    }
    fn build_arches(&self, _tag: &str) -> Result<Vec<String>, KojiError> {
        self.call("getBuildConfig");
        Ok(self.with(|s| s.arches.clone()))
    }
    fn srpm_arch_headers(&self, _srpm: &SrpmNvr) -> Result<Option<SrpmArchHeaders>, KojiError> {
        self.call("getRPMHeaders");
        Ok(self.with(|s| s.headers.clone()))
    }
    fn hosts(&self, _arches: &BTreeSet<String>) -> Result<Vec<Host>, KojiError> {
        self.call("listHosts");
        Ok(self.with(|s| s.hosts.clone()))
    }
    fn latest_tagged_builds(
        &self,
        _tag: &str,
        package: Option<&str>,
    ) -> Result<Vec<TaggedBuild>, KojiError> {
        self.call("listTagged");
        Ok(self.with(|s| {
            s.tagged
                .iter()
                .filter(|t| package.is_none_or(|p| p == t.name))
                .cloned()
                .collect()
        }))
    }
    fn latest_srpm(&self, _tag: &str, package: &str) -> Result<Option<Srpm>, KojiError> {
        self.call("listRPMs");
        Ok(self.with(|s| {
            (!s.srpm_missing.contains(package)).then(|| Srpm {
                nvr: SrpmNvr {
                    name: package.into(),
                    version: "1".into(),
                    release: "2.fc25".into(),
                },
                epoch: None,
                url: format!("../packages/{package}/1/2.fc25/src/{package}-1-2.fc25.src.rpm"),
            })
        }))
    }
    fn list_packages(&self, _tag: &str) -> Result<Vec<PackageEntry>, KojiError> {
        self.call("listPackages");
        Ok(self.with(|s| s.packages.clone()))
    }
    fn submit_scratch_build(&self, build: &ScratchBuild) -> Result<KojiTaskId, KojiError> {
        self.call("build");
        let delay = self.with(|s| s.submit_delay);
        std::thread::sleep(delay);
        self.with(|s| {
            let outcome = s.submit_errors.pop_front();
            s.submitted.push(build.clone());
            match outcome {
                Some(e) => Err(e),
                None => {
                    s.next_task += 10;
                    Ok(KojiTaskId(s.next_task))
                }
            }
        })
    }
    fn task_info(&self, tasks: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, KojiError> {
        self.call("getTaskInfo");
        Ok(self.with(|s| tasks.iter().map(|t| s.tasks.get(t).cloned()).collect()))
    }
    fn task_children(&self, tasks: &[KojiTaskId]) -> Result<Vec<Vec<TaskInfo>>, KojiError> {
        self.call("getTaskChildren");
        if self.with(|s| s.children_down) {
            return Err(transport("getTaskChildren"));
        }
        Ok(self.with(|s| {
            tasks
                .iter()
                .map(|t| s.children.get(t).cloned().unwrap_or_default())
                .collect()
        }))
    }
    fn task_faulted(&self, task: KojiTaskId) -> Result<bool, KojiError> {
        self.call("getTaskResult");
        Ok(self.with(|s| s.faulted.contains(&task)))
    }
    fn cancel_task(&self, task: KojiTaskId) -> Result<(), KojiError> {
        self.call("cancelTask");
        self.with(|s| s.canceled.push(task));
        Ok(())
    }
    fn hub_time(&self) -> Result<SystemTime, KojiError> {
        self.call("getLastEvent");
        Ok(self.with(|s| s.hub_time.unwrap_or(SystemTime::UNIX_EPOCH)))
    }
    fn own_build_tasks(&self, after: SystemTime) -> Result<Option<Vec<TaskInfo>>, KojiError> {
        self.call("listTasks");
        if self.with(|s| s.list_tasks_down) {
            return Err(transport("listTasks"));
        }
        let after = epoch_secs(after);
        Ok(self.with(|s| {
            s.own_tasks.as_ref().map(|tasks| {
                tasks
                    .iter()
                    .filter(|t| t.method == "build" && t.create_ts.is_some_and(|c| c > after))
                    .cloned()
                    .collect()
            })
        }))
    }
}
