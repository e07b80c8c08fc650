//! Plain data types of the Koschei domain: ids, EVR/NEVRA with RPM ordering, states.
//!
//! This module is pure: no I/O, no clock. Database rows are converted to these types in `db`.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Id of a `collection` row.
    CollectionId
);
id_type!(
    /// Id of a `collection_group` row.
    CollectionGroupId
);
id_type!(
    /// Id of a `base_package` row (a package name shared by all collections).
    BasePackageId
);
id_type!(
    /// Id of a `package` row (a package in one collection).
    PackageId
);
id_type!(
    /// Id of a `build` row.
    BuildId
);
id_type!(
    /// Id of a Koji task (a build task or one of its per-arch subtasks).
    KojiTaskId
);
id_type!(
    /// Id of a Koji repo.
    RepoId
);
id_type!(
    /// Id of a Koji build (a row of Koji's `build` table; Koschei's own build rows are
    /// [`BuildId`]).
    KojiBuildId
);
id_type!(
    /// Id of a Koji event (a point in the hub's history: repos are generated for one).
    KojiEventId
);
id_type!(
    /// Id of a `dependency` row (one binary NEVRA).
    DependencyId
);
id_type!(
    /// Id of a `package_group` row.
    PackageGroupId
);
id_type!(
    /// Id of a `users` row.
    UserId
);

/// An RPM epoch-version-release. `epoch` is `None` when the package has none (equal to epoch 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evr {
    /// The epoch, `None` when absent.
    pub epoch: Option<i32>,
    /// The version.
    pub version: String,
    /// The release.
    pub release: String,
}

impl Evr {
    /// Creates an EVR.
    pub fn new(epoch: Option<i32>, version: impl Into<String>, release: impl Into<String>) -> Self {
        Evr {
            epoch,
            version: version.into(),
            release: release.into(),
        }
    }

    /// Parses `[E:]V-R`; a missing release is an empty string.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                let epoch = e.parse::<i32>().map_err(|_| ParseError {
                    what: "EVR",
                    input: s.to_owned(),
                    reason: "epoch is not a number",
                })?;
                (Some(epoch), rest)
            }
            None => (None, s),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, r),
            None => (rest, ""),
        };
        if version.is_empty() {
            return Err(ParseError {
                what: "EVR",
                input: s.to_owned(),
                reason: "empty version",
            });
        }
        Ok(Evr::new(epoch, version, release))
    }

    /// The form `E:V-R` with the epoch always written (0 when absent), as the JSON outputs use.
    pub fn to_full_string(&self) -> String {
        format!(
            "{}:{}-{}",
            self.epoch.unwrap_or(0),
            self.version,
            self.release
        )
    }

    /// A byte string whose memcmp order is RPM version order (stored as `dependency.evr_key`).
    pub fn sort_key(&self) -> Vec<u8> {
        let epoch = self.epoch.unwrap_or(0).to_string();
        rpm_version::EvrSortKey::from_values(&epoch, &self.version, &self.release)
            .as_bytes()
            .to_vec()
    }

    fn as_rpm(&self) -> rpm_version::Evr<'_> {
        rpm_version::Evr::new(
            std::borrow::Cow::Owned(self.epoch.unwrap_or(0).to_string()),
            std::borrow::Cow::Borrowed(self.version.as_str()),
            std::borrow::Cow::Borrowed(self.release.as_str()),
        )
    }
}

impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_rpm().cmp(&other.as_rpm())
    }
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Evr {
    /// `V-R`, prefixed by `E:` only when an epoch is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = self.epoch {
            write!(f, "{e}:")?;
        }
        write!(f, "{}-{}", self.version, self.release)
    }
}

/// A binary package identity: name, EVR and arch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nevra {
    /// Package name.
    pub name: String,
    /// Epoch, version, release.
    pub evr: Evr,
    /// Architecture (`x86_64`, `noarch`, `src`, ...).
    pub arch: String,
}

impl Nevra {
    /// Parses `name-[E:]V-R.arch` (the form the resolver prints, epoch always written).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason| ParseError {
            what: "NEVRA",
            input: s.to_owned(),
            reason,
        };
        let (rest, arch) = s.rsplit_once('.').ok_or_else(|| err("no arch"))?;
        let (rest, release) = rest.rsplit_once('-').ok_or_else(|| err("no release"))?;
        let (name, ev) = rest.rsplit_once('-').ok_or_else(|| err("no version"))?;
        if name.is_empty() || arch.is_empty() {
            return Err(err("empty name or arch"));
        }
        let evr = Evr::parse(&format!("{ev}-{release}"))?;
        Ok(Nevra {
            name: name.to_owned(),
            evr,
            arch: arch.to_owned(),
        })
    }
}

impl fmt::Display for Nevra {
    /// `name-E:V-R.arch` with the epoch always written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}.{}",
            self.name,
            self.evr.to_full_string(),
            self.arch
        )
    }
}

/// An EVR or NEVRA string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {reason}")]
pub struct ParseError {
    /// What was being parsed.
    pub what: &'static str,
    /// The input.
    pub input: String,
    /// Why it was refused.
    pub reason: &'static str,
}

/// Why the scheduler last passed a package over, as stored in `package.scheduler_skip_reason`
/// (the original's numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchedulerSkip {
    /// Koji has no SRPM for the last build (1); the scheduler leaves the package out until
    /// the next polling pass ends the backoff.
    NoSrpm,
    /// None of the SRPM's arches is a configured build arch (2); the manual priority was
    /// lowered by 1000.
    NoBuildArch,
}

impl SchedulerSkip {
    /// The database value (1 or 2).
    pub fn to_db(self) -> i32 {
        match self {
            SchedulerSkip::NoSrpm => 1,
            SchedulerSkip::NoBuildArch => 2,
        }
    }

    /// From the database value.
    pub fn from_db(v: i32) -> Option<Self> {
        match v {
            1 => Some(SchedulerSkip::NoSrpm),
            2 => Some(SchedulerSkip::NoBuildArch),
            _ => None,
        }
    }
}

/// State of a build as stored in `build.state` (the original's numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BuildState {
    /// Still running in Koji.
    Running,
    /// Finished successfully.
    Complete,
    /// Finished with a failure.
    Failed,
}

impl BuildState {
    /// The database value (2, 3 or 5).
    pub fn to_db(self) -> i32 {
        match self {
            BuildState::Running => 2,
            BuildState::Complete => 3,
            BuildState::Failed => 5,
        }
    }

    /// From the database value.
    pub fn from_db(v: i32) -> Option<Self> {
        match v {
            2 => Some(BuildState::Running),
            3 => Some(BuildState::Complete),
            5 => Some(BuildState::Failed),
            _ => None,
        }
    }

    /// Lower-case name (`running`, `complete`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            BuildState::Running => "running",
            BuildState::Complete => "complete",
            BuildState::Failed => "failed",
        }
    }
}

/// Koji `TASK_STATES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskState {
    /// 0
    Free,
    /// 1
    Open,
    /// 2
    Closed,
    /// 3
    Canceled,
    /// 4
    Assigned,
    /// 5
    Failed,
}

impl TaskState {
    /// From Koji's integer.
    pub fn from_koji(v: i64) -> Option<Self> {
        Some(match v {
            0 => TaskState::Free,
            1 => TaskState::Open,
            2 => TaskState::Closed,
            3 => TaskState::Canceled,
            4 => TaskState::Assigned,
            5 => TaskState::Failed,
            _ => return None,
        })
    }

    /// Koji's integer.
    pub fn to_koji(self) -> i32 {
        match self {
            TaskState::Free => 0,
            TaskState::Open => 1,
            TaskState::Closed => 2,
            TaskState::Canceled => 3,
            TaskState::Assigned => 4,
            TaskState::Failed => 5,
        }
    }

    /// Koji's name (`FREE`, `OPEN`, `CLOSED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Free => "FREE",
            TaskState::Open => "OPEN",
            TaskState::Closed => "CLOSED",
            TaskState::Canceled => "CANCELED",
            TaskState::Assigned => "ASSIGNED",
            TaskState::Failed => "FAILED",
        }
    }

    /// CLOSED, CANCELED or FAILED.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskState::Closed | TaskState::Canceled | TaskState::Failed
        )
    }
}

/// The state of a package in a collection, as users see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PackageState {
    /// Blocked in Koji.
    Blocked,
    /// Not tracked by Koschei.
    Untracked,
    /// Build dependencies cannot be installed.
    Unresolved,
    /// Last complete build succeeded.
    Ok,
    /// Last complete build failed.
    Failing,
    /// No complete build known.
    Unknown,
}

impl PackageState {
    /// The state with the original's precedence (first match wins):
    /// blocked > untracked > unresolved > ok/failing (by last complete build) > unknown.
    pub fn from_flags(
        blocked: bool,
        tracked: bool,
        resolved: Option<bool>,
        last_complete_build_state: Option<BuildState>,
    ) -> Self {
        if blocked {
            PackageState::Blocked
        } else if !tracked {
            PackageState::Untracked
        } else if resolved == Some(false) {
            PackageState::Unresolved
        } else {
            match last_complete_build_state {
                Some(BuildState::Complete) => PackageState::Ok,
                Some(BuildState::Failed) => PackageState::Failing,
                _ => PackageState::Unknown,
            }
        }
    }

    /// The state string (`ok`, `failing`, ...), also the badge name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Blocked => "blocked",
            PackageState::Untracked => "untracked",
            PackageState::Unresolved => "unresolved",
            PackageState::Ok => "ok",
            PackageState::Failing => "failing",
            PackageState::Unknown => "unknown",
        }
    }

    /// The state used in state-change events: the state if ok, failing or unresolved, else `ignored`.
    pub fn msg_state(self) -> &'static str {
        match self {
            PackageState::Ok | PackageState::Failing | PackageState::Unresolved => self.as_str(),
            _ => "ignored",
        }
    }
}

impl fmt::Display for PackageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a collection: whether its build group installs in the latest repo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CollectionState {
    /// Base buildroot installable.
    Ok,
    /// Base buildroot not installable.
    Unresolved,
    /// No repo resolved yet.
    Unknown,
}

impl CollectionState {
    /// From `collection.latest_repo_resolved`.
    pub fn from_resolved(resolved: Option<bool>) -> Self {
        match resolved {
            Some(true) => CollectionState::Ok,
            Some(false) => CollectionState::Unresolved,
            None => CollectionState::Unknown,
        }
    }

    /// `ok`, `unresolved` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionState::Ok => "ok",
            CollectionState::Unresolved => "unresolved",
            CollectionState::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evr_orders_like_rpm() {
        let cases = [
            ("1.0-1", "2.0-1", Ordering::Less),
            ("2.0.1a-1", "2.0.1-1", Ordering::Greater),
            ("1.0~rc1-1", "1.0-1", Ordering::Less),
            ("1.0^git1-1", "1.0-1", Ordering::Greater),
            ("1:1.0-1", "2.0-1", Ordering::Greater),
            ("0:1.0-1", "1.0-1", Ordering::Equal),
            ("10.0001-1", "10.1-1", Ordering::Equal),
            ("1.1-11.fc26", "1.1-8.fc26", Ordering::Greater),
        ];
        for (a, b, want) in cases {
            let (a, b) = (Evr::parse(a).unwrap(), Evr::parse(b).unwrap());
            assert_eq!(a.cmp(&b), want, "{a} vs {b}");
            assert_eq!(a.sort_key().cmp(&b.sort_key()), want, "sort key {a} vs {b}");
        }
    }

    #[test]
    fn nevra_round_trips_with_epoch_written() {
        let n = Nevra::parse("glibc-devel-0:2.36-9.x86_64").unwrap();
        assert_eq!(n.name, "glibc-devel");
        assert_eq!(n.evr, Evr::new(Some(0), "2.36", "9"));
        assert_eq!(n.to_string(), "glibc-devel-0:2.36-9.x86_64");
        assert!(Nevra::parse("nonsense").is_err());
    }

    #[test]
    fn package_state_precedence() {
        use PackageState::*;
        let c = Some(BuildState::Complete);
        let f = Some(BuildState::Failed);
        assert_eq!(
            PackageState::from_flags(true, false, Some(false), f),
            Blocked
        );
        assert_eq!(
            PackageState::from_flags(false, false, Some(false), f),
            Untracked
        );
        assert_eq!(
            PackageState::from_flags(false, true, Some(false), c),
            Unresolved
        );
        assert_eq!(PackageState::from_flags(false, true, None, c), Ok);
        assert_eq!(
            PackageState::from_flags(false, true, Some(true), f),
            Failing
        );
        assert_eq!(PackageState::from_flags(false, true, None, None), Unknown);
        assert_eq!(
            PackageState::from_flags(false, true, Some(true), None),
            Unknown
        );
        assert_eq!(Blocked.msg_state(), "ignored");
        assert_eq!(Failing.msg_state(), "failing");
    }
}
