//! Read-only queries behind the web frontend and the JSON API, and the view-model structs
//! they return.
//!
//! Every function reads through a [`Reader`]: a pooled connection that is read-only for its
//! whole session and keeps the statements it ran prepared (see there).
//! SQL text is assembled only from `&'static str` fragments chosen from closed lists
//! (see the private `Sql` builder); every value coming from a request is a bound parameter.

use std::fmt::Write as _;
use std::time::SystemTime;

use postgres::types::{ToSql, Type};

use crate::model::{
    BasePackageId, BuildId, BuildState, CollectionId, CollectionState, Evr, KojiTaskId, PackageId,
    PackageState, SchedulerSkip,
};

mod detail;
mod list;
mod metrics;
mod misc;
mod reader;

pub use reader::Reader;

pub use detail::{
    AppliedChange, BuildDetail, BuildHistoryEntry, HistoryEntry, KojiTaskRow, OtherCollectionState,
    PackageDetail, ResolutionHistoryEntry, build_detail, dependency_changes_of_package,
    package_detail, package_history, unapplied_changes,
};
pub use list::{
    Direction, ListFilter, ListQuery, OrderKey, PackageListPage, PackageListRow, TimePriority,
    UnifiedCell, UnifiedOrderKey, UnifiedPage, UnifiedQuery, UnifiedRow, package_list,
    unified_list,
};
pub use metrics::{CollectionMetrics, PACKAGE_STATES, collection_metrics};
pub use misc::{
    AffectedByRow, ApiBuild, ApiPackage, CollectionGroupRow, GroupRow, ResourceRow, ScalarStats,
    SchemaVersion, StateDiffRow, affected_by, api_packages, collection_diff, collection_groups,
    global_groups, group_by_name, group_maintainers, healthcheck, package_state, resource_stats,
    scalar_stats,
};

pub(crate) use crate::db::{Error, build_state, column};

/// Result of the web queries.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// SQL text built only from static fragments, with numbered parameters.
///
/// This is the only way the web queries build SQL: [`Sql::push`] accepts `&'static str`
/// alone, so request data can reach the server only through [`Sql::param`].
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    params: Vec<Box<dyn Param>>,
}

/// A query parameter with its PostgreSQL type (the statement is prepared with these types).
pub(crate) trait Param: ToSql + Sync {
    fn pg_type(&self) -> Type;
}

macro_rules! param_type {
    ($($t:ty => $pg:expr),* $(,)?) => {
        $(impl Param for $t {
            fn pg_type(&self) -> Type {
                $pg
            }
        })*
    };
}

param_type!(
    i32 => Type::INT4,
    i64 => Type::INT8,
    bool => Type::BOOL,
    f64 => Type::FLOAT8,
    String => Type::TEXT,
    &str => Type::TEXT,
    Option<String> => Type::TEXT,
    SystemTime => Type::TIMESTAMPTZ,
    Option<SystemTime> => Type::TIMESTAMPTZ,
    Vec<i32> => Type::INT4_ARRAY,
    &[String] => Type::TEXT_ARRAY,
    Vec<String> => Type::TEXT_ARRAY,
    Vec<u8> => Type::BYTEA,
);

impl std::fmt::Debug for Sql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sql")
            .field("text", &self.text)
            .field("params", &self.params.len())
            .finish()
    }
}

impl Sql {
    pub(crate) fn new(start: &'static str) -> Self {
        Sql {
            text: start.to_owned(),
            params: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, fragment: &'static str) -> &mut Self {
        self.text.push_str(fragment);
        self
    }

    /// Appends `$n` for a new bound parameter.
    pub(crate) fn param<T: Param + 'static>(&mut self, value: T) -> &mut Self {
        self.params.push(Box::new(value));
        // Writing to a String cannot fail.
        let _ = write!(self.text, "${}", self.params.len());
        self
    }

    fn params(&self) -> Vec<&dyn Param> {
        self.params.iter().map(|p| p.as_ref()).collect()
    }

    pub(crate) fn query(
        &self,
        client: &mut Reader,
        name: &'static str,
    ) -> Result<Vec<postgres::Row>> {
        client.query(name, &self.text, &self.params())
    }

    /// Hands the rows to `each` as they arrive (see [`Reader`]).
    pub(crate) fn for_each_row(
        &self,
        client: &mut Reader,
        name: &'static str,
        each: impl FnMut(&postgres::Row) -> Result<()>,
    ) -> Result<()> {
        client.for_each_row(name, &self.text, &self.params(), each)
    }
}

pub(crate) fn query(
    client: &mut Reader,
    name: &'static str,
    sql: &'static str,
    params: &[&dyn Param],
) -> Result<Vec<postgres::Row>> {
    client.query(name, sql, params)
}

/// A collection with all its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRow {
    /// Id.
    pub id: CollectionId,
    /// Machine name used in URLs.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Display order (highest first).
    pub order: i32,
    /// Whether the collection uses the secondary Koji.
    pub secondary_mode: bool,
    /// Koji target for scratch builds.
    pub target: String,
    /// Koji destination tag.
    pub dest_tag: String,
    /// Koji build tag.
    pub build_tag: String,
    /// Bugzilla product, if bug links are enabled.
    pub bugzilla_product: Option<String>,
    /// Bugzilla version, if bug links are enabled.
    pub bugzilla_version: Option<String>,
    /// Multiplier of the dynamic priority.
    pub priority_coefficient: f64,
    /// Name of the Koji build group.
    pub build_group: String,
    /// Latest Koji repo seen.
    pub latest_repo_id: Option<i32>,
    /// Whether the build group of the latest repo installs.
    pub latest_repo_resolved: Option<bool>,
    /// Whether untracked packages are polled too.
    pub poll_untracked: bool,
}

impl CollectionRow {
    /// `ok`, `unresolved` or `unknown`.
    pub fn state(&self) -> CollectionState {
        CollectionState::from_resolved(self.latest_repo_resolved)
    }
}

/// What every page shows: the collections, the admin notice and the buildroot problems.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chrome {
    /// All collections, ordered by `order` descending then name descending.
    pub collections: Vec<CollectionRow>,
    /// The `global_notice` admin notice, if set.
    pub notice: Option<String>,
    /// Buildroot problems per collection (only collections that have some).
    pub buildroot_problems: Vec<(CollectionId, Vec<String>)>,
}

/// Loads the collections, the admin notice and the buildroot problems.
pub fn chrome(client: &mut Reader) -> Result<Chrome> {
    let collections = collections(client)?;
    const N: &str = "admin notice and buildroot problems";
    let rows = query(
        client,
        N,
        "SELECT (SELECT content FROM admin_notice WHERE key = 'global_notice') AS notice,
                coalesce((SELECT array_agg(collection_id ORDER BY collection_id, id)
                          FROM buildroot_problem), '{}') AS cids,
                coalesce((SELECT array_agg(problem ORDER BY collection_id, id)
                          FROM buildroot_problem), '{}') AS problems",
        &[],
    )?;
    let (notice, cids, problems): (Option<String>, Vec<i32>, Vec<String>) = match rows.first() {
        Some(r) => (
            column(r, N, "notice")?,
            column(r, N, "cids")?,
            column(r, N, "problems")?,
        ),
        None => (None, Vec::new(), Vec::new()),
    };
    let mut buildroot_problems: Vec<(CollectionId, Vec<String>)> = Vec::new();
    for (cid, problem) in cids.into_iter().map(CollectionId).zip(problems) {
        match buildroot_problems.last_mut() {
            Some((c, v)) if *c == cid => v.push(problem),
            _ => buildroot_problems.push((cid, vec![problem])),
        }
    }
    Ok(Chrome {
        collections,
        notice,
        buildroot_problems,
    })
}

/// All collections, ordered by `order` descending then name descending.
pub fn collections(client: &mut Reader) -> Result<Vec<CollectionRow>> {
    const N: &str = "collections";
    let rows = query(
        client,
        N,
        "SELECT id, name, display_name, \"order\", secondary_mode, target, dest_tag, build_tag,
                bugzilla_product, bugzilla_version, priority_coefficient, build_group,
                latest_repo_id, latest_repo_resolved, poll_untracked
         FROM collection ORDER BY \"order\" DESC, name DESC",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(CollectionRow {
                id: CollectionId(column(r, N, "id")?),
                name: column(r, N, "name")?,
                display_name: column(r, N, "display_name")?,
                order: column(r, N, "order")?,
                secondary_mode: column(r, N, "secondary_mode")?,
                target: column(r, N, "target")?,
                dest_tag: column(r, N, "dest_tag")?,
                build_tag: column(r, N, "build_tag")?,
                bugzilla_product: column(r, N, "bugzilla_product")?,
                bugzilla_version: column(r, N, "bugzilla_version")?,
                priority_coefficient: column(r, N, "priority_coefficient")?,
                build_group: column(r, N, "build_group")?,
                latest_repo_id: column(r, N, "latest_repo_id")?,
                latest_repo_resolved: column(r, N, "latest_repo_resolved")?,
                poll_untracked: column(r, N, "poll_untracked")?,
            })
        })
        .collect()
}

/// The inputs of a package's current priority and state, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageFlags {
    /// Blocked in Koji.
    pub blocked: bool,
    /// Tracked by Koschei.
    pub tracked: bool,
    /// Whether the build dependencies resolve (`None` = not resolved yet).
    pub resolved: Option<bool>,
    /// Whether resolution is skipped.
    pub skip_resolution: bool,
    /// State of the last complete build.
    pub last_complete_build_state: Option<BuildState>,
    /// Whether the last build is still running.
    pub running: bool,
    /// Start of the last build, if any.
    pub last_build_started: Option<SystemTime>,
    /// `manual_priority`.
    pub manual_priority: i32,
    /// `static_priority`.
    pub static_priority: i32,
    /// `dependency_priority`.
    pub dependency_priority: i32,
    /// `build_priority`.
    pub build_priority: i32,
    /// `scheduler_skip_reason`: why the scheduler last passed the package over.
    pub scheduler_skip_reason: Option<SchedulerSkip>,
    /// The collection's `priority_coefficient`.
    pub priority_coefficient: f64,
    /// The collection's `latest_repo_resolved`.
    pub collection_resolved: Option<bool>,
    /// `suspended_until`: scheduling suspended until then.
    pub suspended_until: Option<SystemTime>,
    /// `last_submitted`: the last scratch build submission.
    pub last_submitted: Option<SystemTime>,
    /// `min_rebuild_interval_hours`, as a duration.
    pub min_rebuild_interval: Option<std::time::Duration>,
}

impl PackageFlags {
    /// The state with the original's precedence.
    pub fn state(&self) -> PackageState {
        PackageState::from_flags(
            self.blocked,
            self.tracked,
            self.resolved,
            self.last_complete_build_state,
        )
    }
}

/// Columns selected by every query that fills [`PackageFlags`]; needs `p` (package),
/// `c` (collection) and `lb` (last build, left-joined).
pub(crate) const FLAG_COLUMNS: &str = "p.blocked, p.tracked, p.resolved, p.skip_resolution,
    p.last_complete_build_state,
    (p.last_build_id IS DISTINCT FROM p.last_complete_build_id) AS running,
    lb.started AS lb_started, p.manual_priority, p.static_priority, p.dependency_priority,
    p.build_priority, p.scheduler_skip_reason, c.priority_coefficient,
    c.latest_repo_resolved AS collection_resolved, p.suspended_until, p.last_submitted,
    p.min_rebuild_interval_hours";

pub(crate) fn flags(row: &postgres::Row, name: &'static str) -> Result<PackageFlags> {
    Ok(PackageFlags {
        blocked: column(row, name, "blocked")?,
        tracked: column(row, name, "tracked")?,
        resolved: column(row, name, "resolved")?,
        skip_resolution: column(row, name, "skip_resolution")?,
        last_complete_build_state: build_state(
            "package.last_complete_build_state",
            column(row, name, "last_complete_build_state")?,
        )?,
        running: column(row, name, "running")?,
        last_build_started: column(row, name, "lb_started")?,
        manual_priority: column(row, name, "manual_priority")?,
        static_priority: column(row, name, "static_priority")?,
        dependency_priority: column(row, name, "dependency_priority")?,
        build_priority: column(row, name, "build_priority")?,
        scheduler_skip_reason: scheduler_skip(column(row, name, "scheduler_skip_reason")?)?,
        priority_coefficient: column(row, name, "priority_coefficient")?,
        collection_resolved: column(row, name, "collection_resolved")?,
        suspended_until: column(row, name, "suspended_until")?,
        last_submitted: column(row, name, "last_submitted")?,
        min_rebuild_interval: crate::db::priority::rebuild_interval(column(
            row,
            name,
            "min_rebuild_interval_hours",
        )?),
    })
}

fn scheduler_skip(v: Option<i32>) -> Result<Option<SchedulerSkip>> {
    v.map(|v| {
        SchedulerSkip::from_db(v).ok_or(Error::BadValue {
            column: "package.scheduler_skip_reason",
            value: i64::from(v),
        })
    })
    .transpose()
}

/// A build as shown in lists: ids, state, times and the SRPM EVR.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSummary {
    /// Id.
    pub id: BuildId,
    /// Koji build task.
    pub task_id: KojiTaskId,
    /// State.
    pub state: BuildState,
    /// Start time.
    pub started: SystemTime,
    /// End time, unless running.
    pub finished: Option<SystemTime>,
    /// SRPM EVR (absent while running).
    pub evr: Option<Evr>,
}

/// Builds a [`BuildSummary`] from columns prefixed with `prefix` (`lcb_` etc.); `None` when
/// the id column is null (no such build).
pub(crate) fn build_summary(
    row: &postgres::Row,
    name: &'static str,
    cols: [&'static str; 8],
) -> Result<Option<BuildSummary>> {
    let [
        id,
        task_id,
        state,
        started,
        finished,
        epoch,
        version,
        release,
    ] = cols;
    let Some(id) = column::<Option<i32>>(row, name, id)? else {
        return Ok(None);
    };
    let state_v: i32 = column(row, name, state)?;
    let state = build_state("build.state", Some(state_v))?.ok_or(Error::BadValue {
        column: "build.state",
        value: i64::from(state_v),
    })?;
    let version: Option<String> = column(row, name, version)?;
    let release: Option<String> = column(row, name, release)?;
    let evr = match (version, release) {
        (Some(v), Some(r)) => Some(Evr::new(column(row, name, epoch)?, v, r)),
        _ => None,
    };
    Ok(Some(BuildSummary {
        id: BuildId(id),
        task_id: KojiTaskId(column(row, name, task_id)?),
        state,
        started: column(row, name, started)?,
        finished: column(row, name, finished)?,
        evr,
    }))
}

/// The package row a detail page or badge is about.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageKey {
    /// Package id.
    pub id: PackageId,
    /// Base package id.
    pub base_id: BasePackageId,
    /// Collection id.
    pub collection_id: CollectionId,
}

/// Names of the global groups (namespace null) and namespaced groups (`ns/name`) of the
/// given base packages, as `(base id, full group name)` sorted by base id then name.
pub fn groups_of(
    client: &mut Reader,
    base_ids: &[BasePackageId],
) -> Result<Vec<(BasePackageId, String)>> {
    const N: &str = "groups of packages";
    let ids: Vec<i32> = base_ids.iter().map(|b| b.0).collect();
    let rows = query(
        client,
        N,
        "SELECT r.base_id, g.namespace, g.name FROM package_group_relation r
         JOIN package_group g ON g.id = r.group_id
         WHERE r.base_id = ANY($1)
         ORDER BY r.base_id, g.namespace NULLS FIRST, g.name",
        &[&ids],
    )?;
    rows.iter()
        .map(|r| {
            let ns: Option<String> = column(r, N, "namespace")?;
            let name: String = column(r, N, "name")?;
            let full = match ns {
                Some(ns) => format!("{ns}/{name}"),
                None => name,
            };
            Ok((BasePackageId(column(r, N, "base_id")?), full))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_builder_numbers_parameters_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.param(1_i32).push(" AND b = ").param("x".to_owned());
        assert_eq!(sql.text, "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(sql.params.len(), 2);
    }
}
