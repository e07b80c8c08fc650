//! A scripted Koji port and a tiny name-level resolver, for service tests only.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use koschei_core::model::{KojiTaskId, Nevra, RepoId, TaskState};
use koschei_core::resolve::{InstalledDep, RepoDescriptor, Resolution, ResolveError, Resolver};
use koschei_core::schedule::{Host, SrpmArchHeaders};
use koschei_core::service::koji_port::{
    ChildTask, KojiError, KojiPort, RepoInfo, ScratchBuild, Srpm, SrpmNvr, TagPackage, TaggedBuild,
    TaskInfo,
};

#[derive(Default)]
pub(crate) struct State {
    pub(crate) latest_repo: HashMap<String, RepoId>,
    pub(crate) repos: HashMap<RepoId, RepoInfo>,
    pub(crate) group: Option<Vec<String>>,
    pub(crate) requires: HashMap<String, Vec<String>>,
    pub(crate) arches: Vec<String>,
    pub(crate) headers: Option<SrpmArchHeaders>,
    pub(crate) hosts: Vec<Host>,
    pub(crate) tagged: Vec<TaggedBuild>,
    pub(crate) srpm_missing: BTreeSet<String>,
    pub(crate) packages: Vec<TagPackage>,
    pub(crate) tasks: HashMap<KojiTaskId, TaskInfo>,
    pub(crate) children: HashMap<KojiTaskId, Vec<ChildTask>>,
    pub(crate) faulted: BTreeSet<KojiTaskId>,
    pub(crate) submitted: Vec<ScratchBuild>,
    pub(crate) canceled: Vec<KojiTaskId>,
    /// Errors returned by the next submissions.
    pub(crate) submit_errors: VecDeque<KojiError>,
    pub(crate) submit_delay: Duration,
    pub(crate) next_task: i32,
    pub(crate) calls: Vec<&'static str>,
    /// `getRPMDeps` fails in transport while set.
    pub(crate) requires_down: bool,
    /// `getTaskChildren` fails in transport while set.
    pub(crate) children_down: bool,
}

pub(crate) struct FakeKoji(pub(crate) Mutex<State>);

pub(crate) fn fault(method: &str) -> KojiError {
    KojiError::Fault {
        method: method.into(),
        code: 1000,
        message: "boom".into(),
    }
}

pub(crate) fn transport(method: &str) -> KojiError {
    KojiError::Transport {
        method: method.into(),
        source: "connection reset".into(),
    }
}

impl FakeKoji {
    /// Repo 123 of f25-build ready; build group R; x86_64 only; an idle x86_64 host.
    pub(crate) fn new() -> FakeKoji {
        let mut s = State::default();
        s.latest_repo.insert("f25-build".into(), RepoId(123));
        for id in 100..140 {
            s.repos.insert(
                RepoId(id),
                RepoInfo {
                    state: 1,
                    tag_name: "f25-build".into(),
                    create_event: i64::from(id) * 10,
                },
            );
        }
        s.group = Some(vec!["R".into()]);
        s.arches = vec!["x86_64".into()];
        s.headers = Some(SrpmArchHeaders::default());
        s.hosts = vec![Host {
            arches: "x86_64 i386".into(),
            capacity: 10.0,
            task_load: 3.0,
            ready: true,
        }];
        s.next_task = 1000;
        FakeKoji(Mutex::new(s))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.0.lock().expect("fake koji lock"))
    }

    fn call(&self, name: &'static str) {
        self.with(|s| s.calls.push(name));
    }

    /// A finished (or running) build task with one buildArch child in repo `repo`.
    pub(crate) fn task(&self, task: i32, state: TaskState, repo: Option<i32>, start: SystemTime) {
        let finished = state
            .is_finished()
            .then_some(start + Duration::from_secs(600));
        self.with(|s| {
            s.tasks.insert(
                KojiTaskId(task),
                TaskInfo {
                    state,
                    create_ts: start,
                    completion_ts: finished,
                },
            );
            s.children.insert(
                KojiTaskId(task),
                vec![ChildTask {
                    id: KojiTaskId(task + 1),
                    method: "buildArch".into(),
                    arch: "x86_64".into(),
                    state,
                    create_ts: start,
                    completion_ts: finished,
                    repo_id: repo.map(RepoId),
                }],
            );
        });
    }
}

impl KojiPort for FakeKoji {
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
        _event: i64,
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
                .filter(|t| package.is_none_or(|p| p == t.package_name))
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
    fn list_packages(&self, _tag: &str) -> Result<Vec<TagPackage>, KojiError> {
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
    fn task_children(&self, tasks: &[KojiTaskId]) -> Result<Vec<Vec<ChildTask>>, KojiError> {
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
}

/// A name-level resolver: each repo maps package names to a NEVRA and required names.
/// Installs the closure of the build group and the BuildRequires; distances are BFS levels
/// from the BuildRequires (1..4), `None` for group-only packages.
/// Package name → (NEVRA, required names).
pub(crate) type RepoContent = BTreeMap<String, (Nevra, Vec<String>)>;

#[derive(Default)]
pub(crate) struct FakeResolver {
    pub(crate) repos: Mutex<HashMap<RepoId, RepoContent>>,
    /// Runs once during the next resolution (to change the database meanwhile).
    pub(crate) during: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl FakeResolver {
    pub(crate) fn add_repo(&self, repo: i32, pkgs: &[(&str, &[&str])]) {
        let map = pkgs
            .iter()
            .map(|(nevra, reqs)| {
                let n = Nevra::parse(nevra).expect("fake repo NEVRA");
                (
                    n.name.clone(),
                    (n, reqs.iter().map(|r| (*r).to_owned()).collect()),
                )
            })
            .collect();
        self.repos.lock().expect("lock").insert(RepoId(repo), map);
    }

    /// The original's test repo 123 (spec section 11).
    pub(crate) fn with_test_repo(repo: i32, c_evr: &str, with_e: bool) -> FakeResolver {
        let r = FakeResolver::default();
        let c = format!("C-{c_evr}.fc22.x86_64");
        let mut pkgs: Vec<(&str, &[&str])> = vec![
            ("A-0:1-1.fc22.x86_64", &["B"]),
            ("B-0:4.1-2.fc22.noarch", &["C"]),
            (c.as_str(), &[]),
            ("D-2:8.b-1.rc1.fc22.x86_64", &["F"]),
            ("F-0:1-1.fc22.noarch", &["B", "C", "E"]),
            ("R-0:3.3-2.fc22.x86_64", &[]),
        ];
        if with_e {
            pkgs.push(("E-0:0.1-1.fc22.1.noarch", &["D"]));
        } else {
            pkgs[4] = ("F-0:1-1.fc22.noarch", &["B", "C"]);
        }
        r.add_repo(repo, &pkgs);
        r
    }
}

impl Resolver for FakeResolver {
    fn resolve_many(
        &mut self,
        repo: &RepoDescriptor,
        build_group: &[String],
        build_requires: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError> {
        // Package resolutions only (not the buildroot).
        if build_requires.iter().any(|b| !b.is_empty())
            && let Some(f) = self.during.lock().expect("lock").take()
        {
            f();
        }
        let repos = self.repos.lock().expect("lock");
        let Some(pkgs) = repos.get(&repo.repo_id) else {
            return Err(ResolveError::RepoUnavailable {
                build_tag: repo.build_tag.clone(),
                repo_id: repo.repo_id,
            });
        };
        Ok(build_requires
            .iter()
            .map(|brs| {
                let mut problems = BTreeSet::new();
                let mut dist: BTreeMap<String, Option<i32>> = BTreeMap::new();
                let mut level: Vec<String> = Vec::new();
                for br in brs {
                    if pkgs.contains_key(br) {
                        level.push(br.clone());
                    } else {
                        problems.insert(format!("No package found for: {br}"));
                    }
                }
                let mut d = 1;
                while !level.is_empty() {
                    let mut next = Vec::new();
                    for name in level {
                        if dist.contains_key(&name) {
                            continue;
                        }
                        dist.insert(name.clone(), (d < 5).then_some(d));
                        if let Some((_, reqs)) = pkgs.get(&name) {
                            for r in reqs {
                                if pkgs.contains_key(r) {
                                    next.push(r.clone());
                                } else {
                                    problems.insert(format!(
                                        "Problem: nothing provides {r} needed by {name}"
                                    ));
                                }
                            }
                        }
                    }
                    level = next;
                    d += 1;
                }
                let mut stack: Vec<String> = build_group
                    .iter()
                    .filter(|g| pkgs.contains_key(*g))
                    .cloned()
                    .collect();
                while let Some(name) = stack.pop() {
                    if dist.contains_key(&name) {
                        continue;
                    }
                    dist.insert(name.clone(), None);
                    if let Some((_, reqs)) = pkgs.get(&name) {
                        for r in reqs {
                            if pkgs.contains_key(r) {
                                stack.push(r.clone());
                            } else {
                                problems.insert(format!(
                                    "Problem: nothing provides {r} needed by {name}"
                                ));
                            }
                        }
                    }
                }
                if !problems.is_empty() {
                    return Resolution {
                        resolved: false,
                        installs: Vec::new(),
                        problems,
                    };
                }
                let installs = dist
                    .into_iter()
                    .filter_map(|(name, distance)| {
                        pkgs.get(&name).map(|(n, _)| InstalledDep {
                            nevra: n.clone(),
                            distance,
                        })
                    })
                    .collect();
                Resolution {
                    resolved: true,
                    installs,
                    problems,
                }
            })
            .collect())
    }
}
