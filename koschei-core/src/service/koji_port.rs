//! The narrow view of Koji the services need (the I/O seam of the engine).
//!
//! The real Koji client implements [`KojiPort`] over XML-RPC; tests implement it with a small
//! fake. Every method maps to one Koji call (or one multicall) of spec section 5 and returns
//! plain data; anything Koji-specific (dict keys, fault codes, request layouts) stays in the
//! implementation.

use std::collections::BTreeSet;
use std::time::SystemTime;

use crate::model::{KojiTaskId, RepoId, TaskState};
use crate::schedule::{Host, SrpmArchHeaders};

/// A failed Koji call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KojiError {
    /// Koji answered with an XML-RPC fault: the call definitely did not take effect.
    #[error("koji `{method}` returned fault {code}: {message}")]
    Fault {
        /// The Koji method.
        method: String,
        /// The fault code.
        code: i64,
        /// The fault string.
        message: String,
    },
    /// No (complete) answer: connection refused or dropped, timeout, unreadable response.
    /// For a call that changes Koji, whether it took effect is unknown.
    #[error("koji `{method}` failed in transport")]
    Transport {
        /// The Koji method.
        method: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What `repoInfo` says about a repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// Koji repo state (0 INIT, 1 READY, 2 EXPIRED, 3 DELETED, 4 PROBLEM).
    pub state: i32,
    /// The build tag.
    pub tag_name: String,
    /// The event at which the repo was created.
    pub create_event: i64,
}

impl RepoInfo {
    /// READY or EXPIRED repos can still be downloaded.
    pub fn is_usable(&self) -> bool {
        self.state == 1 || self.state == 2
    }
}

/// An SRPM identity (the `arch: "src"` NVRA dict of Koji calls; no epoch).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SrpmNvr {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
}

/// The SRPM of the latest tagged build of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srpm {
    /// Name, version, release.
    pub nvr: SrpmNvr,
    /// Epoch of the SRPM.
    pub epoch: Option<i32>,
    /// URL or relative path to pass to `build` (`../packages/<n>/<v>/<r>/src/<n>-<v>-<r>.src.rpm`).
    pub url: String,
}

/// One entry of `listTagged(tag, latest=True, inherit=True)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedBuild {
    /// Package name.
    pub package_name: String,
    /// Koji build task (None for imported builds).
    pub task_id: Option<KojiTaskId>,
    /// Epoch.
    pub epoch: Option<i32>,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Koji build state (1 COMPLETE, 3 FAILED, ...).
    pub state: i32,
}

/// One entry of `listPackages(tagID, inherited=True)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPackage {
    /// Package name.
    pub name: String,
    /// Blocked in the tag.
    pub blocked: bool,
}

/// `getTaskInfo` fields the engine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Task state.
    pub state: TaskState,
    /// Creation time.
    pub create_ts: SystemTime,
    /// Completion time, when finished.
    pub completion_ts: Option<SystemTime>,
}

/// A child task of a build task (`getTaskChildren(task, request=True)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildTask {
    /// Task id.
    pub id: KojiTaskId,
    /// Method (`buildArch`, `rebuildSRPM`, `buildSRPMFromSCM`, ...).
    pub method: String,
    /// Arch label of the task.
    pub arch: String,
    /// Task state.
    pub state: TaskState,
    /// Creation time.
    pub create_ts: SystemTime,
    /// Completion time.
    pub completion_ts: Option<SystemTime>,
    /// The repo id from the task request (`buildArch`: `request[4].repo_id`,
    /// `rebuildSRPM`: `request[2].repo_id`).
    pub repo_id: Option<RepoId>,
}

/// Options of a scratch build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScratchBuild {
    /// SRPM URL or path.
    pub srpm_url: String,
    /// Build target; `None` when building from an explicit repo.
    pub target: Option<String>,
    /// Arches to build (`arch_override` option), `None` to let Koji decide.
    pub arch_override: Option<Vec<String>>,
    /// Build in this repo (`repo_id` option; needs Koji policy).
    pub repo_id: Option<RepoId>,
    /// Koji task priority.
    pub priority: i32,
}

/// The Koji calls of the engine.
pub trait KojiPort {
    /// `getRepo(build_tag, state=READY)`: the latest ready repo.
    fn latest_repo(&self, build_tag: &str) -> Result<Option<RepoId>, KojiError>;
    /// `repoInfo(repo_id)`.
    fn repo_info(&self, repo_id: RepoId) -> Result<Option<RepoInfo>, KojiError>;
    /// The non-blocked default/mandatory package names of `group` in `build_tag` at `event`
    /// (`getTagGroups`), `None` when the group does not exist.
    fn build_group(
        &self,
        build_tag: &str,
        group: &str,
        event: i64,
    ) -> Result<Option<Vec<String>>, KojiError>;
    /// BuildRequires of many SRPMs: `getRPMDeps(nvra, DEP_REQUIRE)` (multicall) turned into
    /// strings as spec 3.1 says (`name`, `name OP version`; `rpmlib(...)` and other flagged
    /// deps dropped); `None` where Koji faulted.
    fn rpm_requires(&self, srpms: &[SrpmNvr]) -> Result<Vec<Option<Vec<String>>>, KojiError>;
    /// `getBuildConfig(build_tag)['arches']`, split.
    fn build_arches(&self, build_tag: &str) -> Result<Vec<String>, KojiError>;
    /// `getRPMHeaders` for BUILDARCHS, EXCLUDEARCH, EXCLUSIVEARCH; `None` when Koji has none.
    fn srpm_arch_headers(&self, srpm: &SrpmNvr) -> Result<Option<SrpmArchHeaders>, KojiError>;
    /// `getChannel('default')` + `listHosts(arches, channel, enabled=True)`.
    fn hosts(&self, arches: &BTreeSet<String>) -> Result<Vec<Host>, KojiError>;
    /// `listTagged(tag, latest=True, inherit=True[, package])`.
    fn latest_tagged_builds(
        &self,
        tag: &str,
        package: Option<&str>,
    ) -> Result<Vec<TaggedBuild>, KojiError>;
    /// The SRPM of the latest build of `package` tagged in `tag` (`listTagged` + `listRPMs`).
    fn latest_srpm(&self, tag: &str, package: &str) -> Result<Option<Srpm>, KojiError>;
    /// `listPackages(tagID=tag, inherited=True)`.
    fn list_packages(&self, tag: &str) -> Result<Vec<TagPackage>, KojiError>;
    /// `build(srpm, target, opts + scratch, priority)`: returns the new task id.
    fn submit_scratch_build(&self, build: &ScratchBuild) -> Result<KojiTaskId, KojiError>;
    /// `getTaskInfo` for many tasks (multicall); `None` where Koji faulted.
    fn task_info(&self, tasks: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, KojiError>;
    /// `getTaskChildren(task, request=True)` for many tasks (multicall).
    fn task_children(&self, tasks: &[KojiTaskId]) -> Result<Vec<Vec<ChildTask>>, KojiError>;
    /// Whether a finished task ended in a Koji fault (`getTaskResult` raising a lock error or
    /// a raw fault) rather than a build failure.
    fn task_faulted(&self, task: KojiTaskId) -> Result<bool, KojiError>;
    /// `cancelTask(task)`.
    fn cancel_task(&self, task: KojiTaskId) -> Result<(), KojiError>;
}
