//! Typed Koji calls (spec sections 8 and 10); the engine's [`super::KojiApi`] is implemented
//! over them in `engine_calls.rs`.
//!
//! Result structs tolerate unknown members and missing optional ones, since field sets differ across hub
//! versions.

use serde::Deserialize;

use super::client::Client;
use super::de::from_value;
use super::error::Error;
use super::policy::{dependency_strings, load};
use super::types::{KojiBuildState, RepoState, ScratchBuild};
use super::xmlrpc::{Call, Fault, Struct, Value};
use crate::model::TaskState;
use std::time::{Duration, SystemTime};

/// Seconds since the epoch as a time (`None` for missing, negative or non-finite values).
pub(crate) fn epoch_time(secs: Option<f64>) -> Option<SystemTime> {
    secs.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s))
}

fn task_state<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TaskState, D::Error> {
    let v = i64::deserialize(d)?;
    TaskState::from_koji(v)
        .ok_or_else(|| serde::de::Error::custom(format_args!("unknown task state {v}")))
}

use crate::model::{KojiBuildId, KojiEventId, KojiTaskId, RepoId};

macro_rules! id_value {
    ($($name:ident),*) => {$(
        impl From<$name> for Value {
            fn from(v: $name) -> Value {
                Value::Int(i64::from(v.0))
            }
        }
    )*};
}
id_value!(KojiTaskId, RepoId, KojiBuildId, KojiEventId);

/// A repo (`getRepo`, `repoInfo`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RepoInfo {
    /// Repo id.
    pub id: RepoId,
    /// Repo state.
    pub state: RepoState,
    /// Event the repo was generated for (use it for `getTagGroups`).
    pub create_event: KojiEventId,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub create_ts: Option<f64>,
    /// Tag id.
    #[serde(default)]
    pub tag_id: Option<i64>,
    /// Tag name (the directory under `{topurl}/repos/`).
    #[serde(default)]
    pub tag_name: Option<String>,
    /// Whether it is a dist repo.
    #[serde(default)]
    pub dist: Option<bool>,
    /// The `newRepo` task that made it.
    #[serde(default)]
    pub task_id: Option<KojiTaskId>,
}

impl RepoInfo {
    /// Koschei accepts READY and EXPIRED repos for resolution.
    pub fn is_usable(&self) -> bool {
        self.state.is_usable()
    }
}

/// A comps group of a tag (`getTagGroups`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TagGroup {
    /// Group name, e.g. `build`.
    pub name: String,
    /// Group id.
    #[serde(default)]
    pub group_id: Option<i64>,
    /// Whether the group is blocked.
    #[serde(default)]
    pub blocked: Option<bool>,
    /// Package entries.
    #[serde(default)]
    pub packagelist: Vec<GroupPackage>,
}

/// A package entry of a comps group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GroupPackage {
    /// Package name.
    pub package: String,
    /// `mandatory`, `default`, `optional` or `conditional`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Whether the entry is blocked.
    #[serde(default)]
    pub blocked: Option<bool>,
}

/// A build target (`getBuildTarget`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BuildTarget {
    /// Target id.
    pub id: i64,
    /// Target name.
    pub name: String,
    /// Build tag id.
    pub build_tag: i64,
    /// Build tag name.
    pub build_tag_name: String,
    /// Destination tag id.
    pub dest_tag: i64,
    /// Destination tag name.
    pub dest_tag_name: String,
}

/// Build configuration of a tag (`getBuildConfig`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BuildConfig {
    /// Tag id.
    pub id: i64,
    /// Tag name.
    pub name: String,
    /// Space-separated arches (nil or empty on tags without arches).
    #[serde(default)]
    pub arches: Option<String>,
    /// Merged tag extra.
    #[serde(default)]
    pub extra: Option<Struct>,
}

impl BuildConfig {
    /// The arches as a list (Koschei's `get_koji_arches`).
    pub fn arch_list(&self) -> Vec<String> {
        self.arches
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

/// A build as listed in a tag (`listTagged`, `getLatestBuilds`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaggedBuild {
    /// Build id.
    pub build_id: KojiBuildId,
    /// Package name.
    pub name: String,
    /// Package id.
    #[serde(default)]
    pub package_id: Option<i64>,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Epoch.
    #[serde(default)]
    pub epoch: Option<i32>,
    /// `name-version-release`.
    #[serde(default)]
    pub nvr: Option<String>,
    /// Build state.
    pub state: KojiBuildState,
    /// The build task (nil for imported builds).
    #[serde(default)]
    pub task_id: Option<KojiTaskId>,
    /// Tag the build is actually in (may be an ancestor).
    #[serde(default)]
    pub tag_name: Option<String>,
    /// Event of the tagging.
    #[serde(default)]
    pub create_event: Option<KojiEventId>,
    /// Owner name.
    #[serde(default)]
    pub owner_name: Option<String>,
    /// Creation time string.
    #[serde(default)]
    pub creation_time: Option<String>,
    /// Completion time string.
    #[serde(default)]
    pub completion_time: Option<String>,
}

/// A build (`getBuild`, `listBuilds`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BuildInfo {
    /// Build id (`listBuilds` has no `id` member, only `build_id`).
    pub build_id: KojiBuildId,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Epoch.
    #[serde(default)]
    pub epoch: Option<i64>,
    /// `name-version-release`.
    #[serde(default)]
    pub nvr: Option<String>,
    /// Build state.
    pub state: KojiBuildState,
    /// The build task.
    #[serde(default)]
    pub task_id: Option<KojiTaskId>,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub creation_ts: Option<f64>,
    /// Completion time, epoch seconds.
    #[serde(default)]
    pub completion_ts: Option<f64>,
    /// SCM source URL.
    #[serde(default)]
    pub source: Option<String>,
}

/// A package listing entry (`listPackages`, `getPackageConfig`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PackageEntry {
    /// Package id.
    pub package_id: i64,
    /// Package name.
    pub package_name: String,
    /// Tag the listing lives in.
    #[serde(default)]
    pub tag_name: Option<String>,
    /// Whether the package is blocked.
    #[serde(default)]
    pub blocked: bool,
    /// Extra arches.
    #[serde(default)]
    pub extra_arches: Option<String>,
}

/// An RPM (`listRPMs`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RpmInfo {
    /// RPM id.
    pub id: i64,
    /// Build id.
    pub build_id: KojiBuildId,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Epoch.
    #[serde(default)]
    pub epoch: Option<i32>,
    /// Arch (`src` for the SRPM).
    pub arch: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<i64>,
}

impl RpmInfo {
    /// The NVRA struct Koji accepts as an rpm reference.
    pub fn nvra(&self) -> Nvra {
        Nvra {
            name: self.name.clone(),
            version: self.version.clone(),
            release: self.release.clone(),
            arch: self.arch.clone(),
        }
    }

    /// Path of this SRPM relative to the hub's `work/` directory, as Koschei passes it to `build`.
    pub fn srpm_path(&self, root: &str) -> String {
        format!(
            "{root}/packages/{n}/{v}/{r}/src/{n}-{v}-{r}.src.rpm",
            n = self.name,
            v = self.version,
            r = self.release
        )
    }
}

/// Name, version, release and arch of an RPM.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nvra {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Arch.
    pub arch: String,
}

impl From<&Nvra> for Value {
    fn from(n: &Nvra) -> Value {
        let mut s = Struct::new();
        s.insert("name".into(), Value::from(n.name.as_str()));
        s.insert("version".into(), Value::from(n.version.as_str()));
        s.insert("release".into(), Value::from(n.release.as_str()));
        s.insert("arch".into(), Value::from(n.arch.as_str()));
        Value::Struct(s)
    }
}

/// A dependency of an RPM (`getRPMDeps`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RpmDep {
    /// Name (a whole rich dependency expression for rich deps).
    pub name: String,
    /// Version (empty if none).
    #[serde(default)]
    pub version: String,
    /// RPMSENSE bits.
    pub flags: i64,
    /// Dependency type (0 = requires).
    #[serde(rename = "type")]
    pub dep_type: i64,
}

/// A task (`getTaskInfo`, `getTaskChildren`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaskInfo {
    /// Task id.
    pub id: KojiTaskId,
    /// Method, e.g. `build`, `buildArch`.
    pub method: String,
    /// Task state.
    #[serde(deserialize_with = "task_state")]
    pub state: TaskState,
    /// Task arch.
    pub arch: String,
    /// Label (`srpm`, an arch) or nil.
    #[serde(default)]
    pub label: Option<String>,
    /// Parent task.
    #[serde(default)]
    pub parent: Option<KojiTaskId>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub create_ts: Option<f64>,
    /// Start time, epoch seconds.
    #[serde(default)]
    pub start_ts: Option<f64>,
    /// Completion time, epoch seconds.
    #[serde(default)]
    pub completion_ts: Option<f64>,
    /// Host.
    #[serde(default)]
    pub host_id: Option<i64>,
    /// The call's positional arguments (only with `request=True`).
    #[serde(default)]
    pub request: Option<Vec<Value>>,
}

impl TaskInfo {
    /// Whether the task is CLOSED, CANCELED or FAILED.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            TaskState::Closed | TaskState::Canceled | TaskState::Failed
        )
    }

    /// When the task was created (the epoch when the hub did not say).
    pub fn created(&self) -> SystemTime {
        epoch_time(self.create_ts).unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// When the task finished, if it did.
    pub fn completed(&self) -> Option<SystemTime> {
        epoch_time(self.completion_ts)
    }

    /// The arch Koschei records for a child task: its label (`srpm`, an arch), else its arch.
    pub fn arch_label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.arch)
    }

    /// The repo id a `rebuildSRPM`/`buildArch` child was built against (from its request), or a
    /// `createrepo` child's repo.
    pub fn request_repo_id(&self) -> Option<RepoId> {
        let req = self.request.as_ref()?;
        let found = match self.method.as_str() {
            "createrepo" => req.first().and_then(Value::as_i64),
            _ => req
                .iter()
                .rev()
                .find_map(|v| v.get("repo_id").and_then(Value::as_i64)),
        };
        found.and_then(|v| i32::try_from(v).ok()).map(RepoId)
    }
}

/// A build host (`listHosts`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Host {
    /// Host id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Space-separated arches.
    pub arches: String,
    /// Current load.
    pub task_load: f64,
    /// Capacity.
    pub capacity: f64,
    /// Ready to take tasks.
    pub ready: bool,
    /// Enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl Host {
    /// A ready-or-not host with these arches and load figures (id 0, no name), as tests and
    /// load computations build them.
    pub fn new(arches: &str, capacity: f64, task_load: f64, ready: bool) -> Host {
        Host {
            id: 0,
            name: String::new(),
            arches: arches.to_owned(),
            task_load,
            capacity,
            ready,
            enabled: Some(true),
        }
    }
}

/// A channel (`getChannel`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Channel {
    /// Channel id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The latest build of a package in a tag with its SRPM's BuildRequires ([`Client::tag_sources`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TaggedSource {
    /// The build (`listTagged(tag, latest=True, inherit=True)`).
    pub build: TaggedBuild,
    /// The BuildRequires of its SRPM as dependency strings (`getRPMDeps`, spec 3.1); `None`
    /// when Koji answered the call with a fault.
    pub build_requires: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Typed calls.

fn typed<T: serde::de::DeserializeOwned>(method: &str, value: &Value) -> Result<T, Error> {
    from_value(value).map_err(|e| Error::UnexpectedResult {
        method: method.to_owned(),
        message: e.to_string(),
    })
}

fn call_typed<T: serde::de::DeserializeOwned>(client: &Client, call: Call) -> Result<T, Error> {
    let value = client.call(&call)?;
    typed(&call.method, &value)
}

impl Client {
    /// `getRepo(tag, state=READY)`: the newest ready repo of a tag, if any.
    pub fn latest_repo(&self, tag: &str) -> Result<Option<RepoInfo>, Error> {
        call_typed(
            self,
            Call::new("getRepo")
                .arg(tag)
                .kwarg("state", RepoState::Ready.code()),
        )
    }

    /// `repoInfo(repo_id)`; `None` when missing.
    pub fn repo_info(&self, repo: RepoId) -> Result<Option<RepoInfo>, Error> {
        call_typed(self, Call::new("repoInfo").arg(repo))
    }

    /// `getTagGroups(tag, event=event)`.
    pub fn tag_groups(
        &self,
        tag: &str,
        event: Option<KojiEventId>,
    ) -> Result<Vec<TagGroup>, Error> {
        let mut call = Call::new("getTagGroups").arg(tag);
        if let Some(e) = event {
            call = call.kwarg("event", e);
        }
        call_typed(self, call)
    }

    /// `getBuildTarget(name)`; `None` when missing.
    pub fn build_target(&self, name: &str) -> Result<Option<BuildTarget>, Error> {
        call_typed(self, Call::new("getBuildTarget").arg(name))
    }

    /// `getBuildConfig(tag)`.
    pub fn build_config(&self, tag: &str) -> Result<BuildConfig, Error> {
        call_typed(self, Call::new("getBuildConfig").arg(tag))
    }

    /// `listTagged(tag, latest=True, inherit=True[, package=...])`: the latest builds in a tag.
    pub fn list_tagged_latest(
        &self,
        tag: &str,
        package: Option<&str>,
    ) -> Result<Vec<TaggedBuild>, Error> {
        let mut call = Call::new("listTagged")
            .arg(tag)
            .kwarg("latest", true)
            .kwarg("inherit", true);
        if let Some(p) = package {
            call = call.kwarg("package", p);
        }
        call_typed(self, call)
    }

    /// `listTagged(tag, event, latest=True)`: the latest builds at an event.
    pub fn list_tagged_at(&self, tag: &str, event: KojiEventId) -> Result<Vec<TaggedBuild>, Error> {
        call_typed(
            self,
            Call::new("listTagged")
                .arg(tag)
                .arg(event)
                .kwarg("latest", true),
        )
    }

    /// `getPackageConfig(tag, package)`; `None` when the package is not listed.
    pub fn package_config(&self, tag: &str, package: &str) -> Result<Option<PackageEntry>, Error> {
        call_typed(self, Call::new("getPackageConfig").arg(tag).arg(package))
    }

    /// `listPackages(tagID=tag, inherited=True)`.
    pub fn list_packages(&self, tag: &str) -> Result<Vec<PackageEntry>, Error> {
        call_typed(
            self,
            Call::new("listPackages")
                .kwarg("tagID", tag)
                .kwarg("inherited", true),
        )
    }

    /// `getBuild(build)` by id ([`KojiBuildId`]) or NVR string; `None` when missing.
    pub fn build_info(&self, build: impl Into<Value>) -> Result<Option<BuildInfo>, Error> {
        call_typed(self, Call::new("getBuild").arg(build))
    }

    /// `listBuilds(packageID=..., state=..., taskID=...)` with the given filters.
    pub fn list_builds(
        &self,
        package_id: Option<i64>,
        state: Option<KojiBuildState>,
        task_id: Option<KojiTaskId>,
    ) -> Result<Vec<BuildInfo>, Error> {
        let mut call = Call::new("listBuilds");
        if let Some(p) = package_id {
            call = call.kwarg("packageID", p);
        }
        if let Some(s) = state {
            call = call.kwarg("state", s.code());
        }
        if let Some(t) = task_id {
            call = call.kwarg("taskID", t);
        }
        call_typed(self, call)
    }

    /// `listRPMs(buildID=build, arches="src")`: the SRPM of a build.
    pub fn source_rpms(&self, build: KojiBuildId) -> Result<Vec<RpmInfo>, Error> {
        call_typed(
            self,
            Call::new("listRPMs")
                .kwarg("buildID", build)
                .kwarg("arches", "src"),
        )
    }

    /// `getRPMDeps(nvra, 0)` for one RPM.
    pub fn rpm_deps(&self, nvra: &Nvra) -> Result<Vec<RpmDep>, Error> {
        call_typed(self, Call::new("getRPMDeps").arg(nvra).arg(0))
    }

    /// `getRPMHeaders(rpmID=nvra, headers=[...])`: an empty struct when the RPM is unknown.
    pub fn rpm_headers(&self, nvra: &Nvra, headers: &[&str]) -> Result<Struct, Error> {
        call_typed(
            self,
            Call::new("getRPMHeaders")
                .kwarg("rpmID", nvra)
                .kwarg("headers", headers.to_vec()),
        )
    }

    /// `build(src, target, opts, priority=priority)` as a scratch build (`opts` are the
    /// client's `build_opts` with the build's own); returns the task id.
    pub fn scratch_build(&self, build: &ScratchBuild) -> Result<KojiTaskId, Error> {
        call_typed(
            self,
            Call::new("build")
                .arg(build.srpm_url.as_str())
                .arg(build.target.as_deref())
                .arg(build.opts(&self.options().build_opts))
                .kwarg("priority", i64::from(build.priority)),
        )
    }

    /// `getTaskInfo(task_id[, request=True])`; `None` when missing.
    pub fn task_info(&self, task: KojiTaskId, request: bool) -> Result<Option<TaskInfo>, Error> {
        let mut call = Call::new("getTaskInfo").arg(task);
        if request {
            call = call.kwarg("request", true);
        }
        call_typed(self, call)
    }

    /// `getTaskChildren(task_id, request=True)`, sorted by id.
    pub fn task_children(&self, task: KojiTaskId) -> Result<Vec<TaskInfo>, Error> {
        let mut v: Vec<TaskInfo> = call_typed(
            self,
            Call::new("getTaskChildren")
                .arg(task)
                .kwarg("request", true),
        )?;
        v.sort_by_key(|t| t.id);
        Ok(v)
    }

    /// `getTaskResult(task_id)`: the result value, or the fault the task failed with.
    pub fn task_result(&self, task: KojiTaskId) -> Result<Result<Value, Fault>, Error> {
        match self.call(&Call::new("getTaskResult").arg(task)) {
            Ok(v) => Ok(Ok(v)),
            Err(Error::Fault { fault, .. }) => Ok(Err(fault)),
            Err(e) => Err(e),
        }
    }

    /// `cancelTask(task_id)`.
    pub fn cancel_task(&self, task: KojiTaskId) -> Result<(), Error> {
        self.call(&Call::new("cancelTask").arg(task)).map(|_| ())
    }

    /// `getChannel(name)`; `None` when missing.
    pub fn channel(&self, name: &str) -> Result<Option<Channel>, Error> {
        call_typed(self, Call::new("getChannel").arg(name))
    }

    /// `listHosts(arches, channel_id, enabled=True)`.
    pub fn list_hosts(&self, arches: &[String], channel: i64) -> Result<Vec<Host>, Error> {
        call_typed(
            self,
            Call::new("listHosts")
                .arg(arches.to_vec())
                .arg(channel)
                .kwarg("enabled", true),
        )
    }

    /// Multicall of `getTaskInfo` for several tasks (`None` for missing tasks or per-call faults).
    pub fn task_infos(&self, tasks: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, Error> {
        let calls: Vec<Call> = tasks
            .iter()
            .map(|t| Call::new("getTaskInfo").arg(*t))
            .collect();
        self.multicall(&calls)?
            .into_iter()
            .map(|r| match r {
                Ok(v) => typed("getTaskInfo", &v),
                Err(_) => Ok(None),
            })
            .collect()
    }

    /// Multicall of `getTaskChildren(id, request=True)` (`None` for per-call faults).
    pub fn tasks_children(
        &self,
        tasks: &[KojiTaskId],
    ) -> Result<Vec<Option<Vec<TaskInfo>>>, Error> {
        let calls: Vec<Call> = tasks
            .iter()
            .map(|t| Call::new("getTaskChildren").arg(*t).kwarg("request", true))
            .collect();
        self.multicall(&calls)?
            .into_iter()
            .map(|r| match r {
                Ok(v) => typed::<Vec<TaskInfo>>("getTaskChildren", &v).map(|mut c| {
                    c.sort_by_key(|t| t.id);
                    Some(c)
                }),
                Err(_) => Ok(None),
            })
            .collect()
    }

    /// Koschei's `get_rpm_requires`: multicall `getRPMDeps(nvra, 0)` and render each result into dependency
    /// strings (`None` for per-call faults).
    pub fn rpm_requires(&self, nvras: &[Nvra]) -> Result<Vec<Option<Vec<String>>>, Error> {
        let calls: Vec<Call> = nvras
            .iter()
            .map(|n| Call::new("getRPMDeps").arg(n).arg(0))
            .collect();
        self.multicall(&calls)?
            .into_iter()
            .map(|r| match r {
                Ok(v) => {
                    typed::<Vec<RpmDep>>("getRPMDeps", &v).map(|d| Some(dependency_strings(&d)))
                }
                Err(_) => Ok(None),
            })
            .collect()
    }

    /// The source packages of `tag` as the engine gets them: the latest build of every package
    /// of the tag that is not blocked (`listPackages(tagID=tag, inherited=True)`,
    /// `listTagged(tag, latest=True, inherit=True)`) with its SRPM's BuildRequires
    /// (`getRPMDeps({name, version, release, arch: "src"}, 0)`, one multicall), sorted by name.
    pub fn tag_sources(&self, tag: &str) -> Result<Vec<TaggedSource>, Error> {
        let blocked: std::collections::BTreeSet<String> = self
            .list_packages(tag)?
            .into_iter()
            .filter(|p| p.blocked)
            .map(|p| p.package_name)
            .collect();
        let mut builds: Vec<TaggedBuild> = self
            .list_tagged_latest(tag, None)?
            .into_iter()
            .filter(|b| !blocked.contains(&b.name))
            .collect();
        builds.sort_by(|a, b| a.name.cmp(&b.name));
        let nvras: Vec<Nvra> = builds
            .iter()
            .map(|b| Nvra {
                name: b.name.clone(),
                version: b.version.clone(),
                release: b.release.clone(),
                arch: "src".to_owned(),
            })
            .collect();
        let requires = if nvras.is_empty() {
            Vec::new()
        } else {
            self.rpm_requires(&nvras)?
        };
        Ok(builds
            .into_iter()
            .zip(requires)
            .map(|(build, build_requires)| TaggedSource {
                build,
                build_requires,
            })
            .collect())
    }

    /// Koschei's `get_koji_load`: `getChannel("default")`, `listHosts`, then [`load`].
    pub fn koji_load(&self, all_arches: &[String], arches: &[String]) -> Result<f64, Error> {
        let channel = self
            .channel("default")?
            .ok_or_else(|| Error::UnexpectedResult {
                method: "getChannel".to_owned(),
                message: "no channel named `default`".to_owned(),
            })?;
        let query: Vec<String> = if arches.iter().any(|a| a == "noarch") {
            all_arches.to_vec()
        } else {
            arches.to_vec()
        };
        let hosts = self.list_hosts(&query, channel.id)?;
        Ok(load(all_arches, arches, &hosts))
    }
}
