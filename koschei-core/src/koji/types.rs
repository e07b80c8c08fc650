//! The engine's Koji vocabulary: state enums, the SRPM and scratch-build types, and the
//! [`KojiApi`] trait the services call. Answers are the typed structs of the client
//! ([`RepoInfo`], [`TaggedBuild`], [`TaskInfo`], [`Host`], [`PackageEntry`]), one struct per
//! Koji answer; ids are the 32-bit ids of [`crate::model`], range-checked when decoded.

use std::collections::BTreeSet;
use std::time::SystemTime;

use serde::Deserialize;

use super::api::{Host, PackageEntry, RepoInfo, TaggedBuild, TaskInfo};
use super::xmlrpc::{Struct, Value};
use crate::model::{KojiEventId, KojiTaskId, RepoId};
use crate::schedule::SrpmArchHeaders;

macro_rules! koji_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
        #[serde(try_from = "i64")]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl $name {
            /// Koji's integer.
            pub fn code(self) -> i64 {
                match self {
                    $($name::$variant => $code),*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }

        impl TryFrom<i64> for $name {
            type Error = String;
            fn try_from(v: i64) -> Result<Self, String> {
                match v {
                    $($code => Ok($name::$variant),)*
                    other => Err(format!(concat!("unknown ", $what, " {}"), other)),
                }
            }
        }
    };
}

koji_enum!(
    /// Koji `REPO_STATES`.
    RepoState, "repo state" {
        /// Being generated.
        Init = 0,
        /// Usable, newest.
        Ready = 1,
        /// Usable, superseded.
        Expired = 2,
        /// Deleted.
        Deleted = 3,
        /// Broken.
        Problem = 4,
    }
);

impl RepoState {
    /// READY and EXPIRED repos can still be downloaded (Koschei resolves in both).
    pub fn is_usable(self) -> bool {
        matches!(self, RepoState::Ready | RepoState::Expired)
    }
}

koji_enum!(
    /// Koji `BUILD_STATES`.
    KojiBuildState, "build state" {
        /// In progress.
        Building = 0,
        /// Done.
        Complete = 1,
        /// Deleted.
        Deleted = 2,
        /// Failed.
        Failed = 3,
        /// Canceled.
        Canceled = 4,
    }
);

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
    /// A stop was requested before the call was sent or while it waited for the hub: the call
    /// was given up. Unless `maybe_done`, it certainly did not take effect.
    #[error("koji `{method}` given up: a stop was requested")]
    Interrupted {
        /// The Koji method.
        method: String,
        /// Whether an attempt may have reached the hub and taken effect (as for
        /// [`KojiError::Transport`]).
        maybe_done: bool,
        /// The client's account (what was being waited out).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl KojiError {
    /// Whether the call was given up because a stop was requested.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, KojiError::Interrupted { .. })
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

impl ScratchBuild {
    /// A scratch build of `srpm_url` for `target` at Koschei's default task priority (30),
    /// arches left to Koji.
    pub fn new(srpm_url: impl Into<String>, target: Option<&str>) -> ScratchBuild {
        ScratchBuild {
            srpm_url: srpm_url.into(),
            target: target.map(str::to_owned),
            arch_override: None,
            repo_id: None,
            priority: 30,
        }
    }

    /// The `opts` struct sent to `build`: the configured `build_opts` (`extra`), then
    /// `scratch`, `arch_override` and `repo_id`.
    pub fn opts(&self, extra: &Struct) -> Value {
        let mut s = extra.clone();
        s.insert("scratch".into(), Value::Bool(true));
        if let Some(a) = &self.arch_override {
            s.insert("arch_override".into(), Value::from(a.join(" ").as_str()));
        }
        if let Some(r) = self.repo_id {
            s.insert("repo_id".into(), Value::from(r));
        }
        Value::Struct(s)
    }
}

/// The Koji calls of the engine: the one seam between the services and Koji. [`super::Client`]
/// implements it over XML-RPC (multicalls are split into `multicall_chunk_size` chunks by the
/// client, nowhere else); tests use the scripted fake of `koschei-fakehub` or the fake hub.
pub trait KojiApi {
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
        event: KojiEventId,
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
    fn list_packages(&self, tag: &str) -> Result<Vec<PackageEntry>, KojiError>;
    /// `build(srpm, target, opts + scratch, priority)`: returns the new task id.
    fn submit_scratch_build(&self, build: &ScratchBuild) -> Result<KojiTaskId, KojiError>;
    /// `getTaskInfo` for many tasks (multicall); `None` where Koji faulted.
    fn task_info(&self, tasks: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, KojiError>;
    /// `getTaskChildren(task, request=True)` for many tasks (multicall), each sorted by id.
    fn task_children(&self, tasks: &[KojiTaskId]) -> Result<Vec<Vec<TaskInfo>>, KojiError>;
    /// Whether a finished task ended in a Koji fault (`getTaskResult` raising a lock error or
    /// a raw fault) rather than a build failure.
    fn task_faulted(&self, task: KojiTaskId) -> Result<bool, KojiError>;
    /// `cancelTask(task)`.
    fn cancel_task(&self, task: KojiTaskId) -> Result<(), KojiError>;
    /// The hub's clock: the time of its latest event (`getLastEvent`), which is at most the
    /// hub's current time (earlier when the hub is idle).
    fn hub_time(&self) -> Result<SystemTime, KojiError>;
    /// The `build` tasks the session's user created after `after` by the hub's clock
    /// (`getLoggedInUser`, then `listTasks(opts={method: 'build', owner, createdAfter,
    /// decode: True})`), by id, with their requests (`[src, target, opts]`); `None` when the
    /// session has no user (anonymous), so its tasks cannot be told from others'.
    fn own_build_tasks(&self, after: SystemTime) -> Result<Option<Vec<TaskInfo>>, KojiError>;
}
