//! Package and build detail: state, dependency changes, history, Koji tasks.

use std::time::SystemTime;

use super::{
    BuildSummary, Error, PackageFlags, Reader, Result, build_state, build_summary, column, flags,
    query,
};
use crate::model::{
    BasePackageId, BuildId, CollectionId, Evr, KojiTaskId, PackageId, PackageState, TaskState,
};

/// A package in one collection, with everything its page shows except the history.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageDetail {
    /// Package id.
    pub id: PackageId,
    /// Base package id.
    pub base_id: BasePackageId,
    /// Name.
    pub name: String,
    /// Collection.
    pub collection_id: CollectionId,
    /// Space-separated arch override, if set.
    pub arch_override: Option<String>,
    /// State and priority inputs.
    pub flags: PackageFlags,
    /// Last build (maybe running).
    pub last_build: Option<BuildSummary>,
    /// Last complete build.
    pub last_complete_build: Option<BuildSummary>,
    /// The package's state in the other collections that have it.
    pub other_collections: Vec<OtherCollectionState>,
    /// Full names of the package's groups.
    pub groups: Vec<String>,
    /// Problems of the latest resolution change, when it says unresolvable.
    pub problems: Vec<String>,
}

/// The state of the same package in another collection.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherCollectionState {
    /// The other collection.
    pub collection_id: CollectionId,
    /// State there.
    pub state: PackageState,
    /// Whether a build runs there.
    pub running: bool,
}

/// Loads the package `name` of `collection`; `None` when it does not exist there.
pub fn package_detail(
    client: &mut Reader,
    name: &str,
    collection: CollectionId,
) -> Result<Option<PackageDetail>> {
    const N: &str = "package detail";
    let rows = query(client, N, PACKAGE_DETAIL_SQL, &[&name, &collection.0])?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let id = PackageId(column(r, N, "id")?);
    let base_id = BasePackageId(column(r, N, "base_id")?);
    let last_build = build_summary(
        r,
        N,
        [
            "lb_id",
            "lb_task_id",
            "lb_state",
            "lb_started",
            "lb_finished",
            "lb_epoch",
            "lb_version",
            "lb_release",
        ],
    )?;
    let last_complete_build = build_summary(
        r,
        N,
        [
            "lcb_id",
            "lcb_task_id",
            "lcb_state",
            "lcb_started",
            "lcb_finished",
            "lcb_epoch",
            "lcb_version",
            "lcb_release",
        ],
    )?;
    let o_cids: Vec<i32> = column(r, N, "o_cids")?;
    let o_blocked: Vec<bool> = column(r, N, "o_blocked")?;
    let o_tracked: Vec<bool> = column(r, N, "o_tracked")?;
    let o_resolved: Vec<Option<bool>> = column(r, N, "o_resolved")?;
    let o_lcbs: Vec<Option<i32>> = column(r, N, "o_lcbs")?;
    let o_running: Vec<bool> = column(r, N, "o_running")?;
    let mut other_collections = Vec::with_capacity(o_cids.len());
    for (i, cid) in o_cids.iter().enumerate() {
        let lcb = build_state(
            "package.last_complete_build_state",
            o_lcbs.get(i).copied().flatten(),
        )?;
        other_collections.push(OtherCollectionState {
            collection_id: CollectionId(*cid),
            state: PackageState::from_flags(
                o_blocked.get(i).copied().unwrap_or(false),
                o_tracked.get(i).copied().unwrap_or(false),
                o_resolved.get(i).copied().flatten(),
                lcb,
            ),
            running: o_running.get(i).copied().unwrap_or(false),
        });
    }
    Ok(Some(PackageDetail {
        id,
        base_id,
        name: column(r, N, "name")?,
        collection_id: collection,
        arch_override: column(r, N, "arch_override")?,
        flags: flags(r, N)?,
        last_build,
        last_complete_build,
        other_collections,
        groups: column(r, N, "groups")?,
        problems: column(r, N, "problems")?,
    }))
}

/// The flag columns are spelled out as in `FLAG_COLUMNS` because `concat!` needs literals.
const PACKAGE_DETAIL_SQL: &str = concat!(
    "SELECT p.id, p.base_id, p.name, p.arch_override, ",
    "p.blocked, p.tracked, p.resolved, p.skip_resolution, p.last_complete_build_state, ",
    "(p.last_build_id IS DISTINCT FROM p.last_complete_build_id) AS running, ",
    "lb.started AS lb_started, p.manual_priority, p.static_priority, p.dependency_priority, ",
    "p.build_priority, p.scheduler_skip_reason, c.priority_coefficient, ",
    "c.latest_repo_resolved AS collection_resolved, p.suspended_until, p.last_submitted, ",
    "p.min_rebuild_interval_hours, ",
    "lb.id AS lb_id, lb.task_id AS lb_task_id, lb.state AS lb_state, ",
    "lb.finished AS lb_finished, lb.epoch AS lb_epoch, lb.version AS lb_version, ",
    "lb.release AS lb_release, ",
    "lcb.id AS lcb_id, lcb.task_id AS lcb_task_id, lcb.state AS lcb_state, ",
    "lcb.started AS lcb_started, lcb.finished AS lcb_finished, lcb.epoch AS lcb_epoch, ",
    "lcb.version AS lcb_version, lcb.release AS lcb_release, ",
    // The package in the other collections, in collection order.
    "coalesce(o.cids, '{}') AS o_cids, coalesce(o.blocked, '{}') AS o_blocked, ",
    "coalesce(o.tracked, '{}') AS o_tracked, coalesce(o.resolved, '{}') AS o_resolved, ",
    "coalesce(o.lcbs, '{}') AS o_lcbs, coalesce(o.running, '{}') AS o_running, ",
    // Its groups, as `groups_of` names and orders them.
    "coalesce((SELECT array_agg(coalesce(g.namespace || '/', '') || g.name ",
    "                           ORDER BY g.namespace NULLS FIRST, g.name) ",
    "          FROM package_group_relation r JOIN package_group g ON g.id = r.group_id ",
    "          WHERE r.base_id = p.base_id), '{}') AS groups, ",
    // The problems of its newest resolution change, when that says unresolvable.
    "ARRAY(SELECT pr.problem FROM resolution_problem pr ",
    "      WHERE pr.resolution_id = (",
    "          SELECT rc.id FROM resolution_change rc ",
    "          WHERE rc.package_id = p.id AND NOT rc.resolved ",
    "            AND rc.id = (SELECT max(x.id) FROM resolution_change x ",
    "                         WHERE x.package_id = p.id)) ",
    "      ORDER BY pr.problem) AS problems ",
    "FROM package p JOIN collection c ON c.id = p.collection_id ",
    "LEFT JOIN build lb ON lb.id = p.last_build_id ",
    "LEFT JOIN build lcb ON lcb.id = p.last_complete_build_id ",
    "LEFT JOIN LATERAL (",
    "    SELECT array_agg(x.collection_id ORDER BY xc.\"order\" DESC, xc.name DESC) AS cids, ",
    "           array_agg(x.blocked ORDER BY xc.\"order\" DESC, xc.name DESC) AS blocked, ",
    "           array_agg(x.tracked ORDER BY xc.\"order\" DESC, xc.name DESC) AS tracked, ",
    "           array_agg(x.resolved ORDER BY xc.\"order\" DESC, xc.name DESC) AS resolved, ",
    "           array_agg(x.last_complete_build_state ",
    "                     ORDER BY xc.\"order\" DESC, xc.name DESC) AS lcbs, ",
    "           array_agg(x.running ORDER BY xc.\"order\" DESC, xc.name DESC) AS running ",
    "    FROM package x JOIN collection xc ON xc.id = x.collection_id ",
    "    WHERE x.base_id = p.base_id AND x.id <> p.id) o ON true ",
    "WHERE p.name = $1 AND p.collection_id = $2"
);

/// A dependency change: an applied change of a build or an unapplied change of a package.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedChange {
    /// Dependency (binary package) name.
    pub dep_name: String,
    /// Previous EVR (`None` = added).
    pub prev: Option<Evr>,
    /// Current EVR (`None` = removed).
    pub curr: Option<Evr>,
    /// Distance in the dependency graph (1 = direct BuildRequires).
    pub distance: Option<i32>,
}

fn change(row: &postgres::Row, name: &'static str) -> Result<AppliedChange> {
    let evr = |e: &'static str, v: &'static str, r: &'static str| -> Result<Option<Evr>> {
        let v: Option<String> = column(row, name, v)?;
        let r: Option<String> = column(row, name, r)?;
        Ok(match (v, r) {
            (Some(v), Some(r)) => Some(Evr::new(column(row, name, e)?, v, r)),
            _ => None,
        })
    };
    Ok(AppliedChange {
        dep_name: column(row, name, "dep_name")?,
        prev: evr("e1", "v1", "r1")?,
        curr: evr("e2", "v2", "r2")?,
        distance: column(row, name, "distance")?,
    })
}

/// The package's unapplied dependency changes (against the latest repo), ordered by
/// distance (nulls last) then name.
pub fn unapplied_changes(client: &mut Reader, package: PackageId) -> Result<Vec<AppliedChange>> {
    dependency_changes_of_package(client, package)
}

/// Same as [`unapplied_changes`]; the name the JSON API uses.
pub fn dependency_changes_of_package(
    client: &mut Reader,
    package: PackageId,
) -> Result<Vec<AppliedChange>> {
    const N: &str = "unapplied changes";
    let sql: &str = concat!(
        "SELECT coalesce(d1.name, d2.name) AS dep_name, ",
        "d1.epoch AS e1, d1.version AS v1, d1.release AS r1, ",
        "d2.epoch AS e2, d2.version AS v2, d2.release AS r2, ch.distance ",
        "FROM unapplied_change ch ",
        "LEFT JOIN dependency d1 ON d1.id = ch.prev_dep_id ",
        "LEFT JOIN dependency d2 ON d2.id = ch.curr_dep_id ",
        "WHERE ch.package_id = $1 ORDER BY ch.distance NULLS LAST, dep_name, ch.id"
    );
    query(client, N, sql, &[&package.0])?
        .iter()
        .map(|r| change(r, N))
        .collect()
}

/// A buildArch subtask of a build.
#[derive(Debug, Clone, PartialEq)]
pub struct KojiTaskRow {
    /// Koji task id.
    pub task_id: KojiTaskId,
    /// Koji arch name.
    pub arch: String,
    /// Koji task state.
    pub state: TaskState,
    /// Start time.
    pub started: SystemTime,
    /// End time.
    pub finished: Option<SystemTime>,
}

/// A build with its flags, tasks and applied changes.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildHistoryEntry {
    /// The build.
    pub build: BuildSummary,
    /// A real (non-scratch) build.
    pub real: bool,
    /// Untagged from the collection's tag.
    pub untagged: bool,
    /// `None` = dependencies not processed yet, `Some(false)` = could not be processed.
    pub deps_resolved: Option<bool>,
    /// Koji repo the build ran in.
    pub repo_id: Option<i32>,
    /// Cancellation requested.
    pub cancel_requested: bool,
    /// Per-arch subtasks, ordered by arch.
    pub tasks: Vec<KojiTaskRow>,
    /// Dependency changes against the previous build, ordered by distance then name.
    pub changes: Vec<AppliedChange>,
}

/// A change of resolvability with its problems.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionHistoryEntry {
    /// Whether the package became resolvable.
    pub resolved: bool,
    /// When.
    pub timestamp: SystemTime,
    /// Problems (empty when resolved).
    pub problems: Vec<String>,
}

/// One entry of a package's history.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryEntry {
    /// A build (at its start time).
    Build(BuildHistoryEntry),
    /// A resolution change.
    Resolution(ResolutionHistoryEntry),
}

impl HistoryEntry {
    /// The time the entry is ordered by.
    pub fn time(&self) -> SystemTime {
        match self {
            HistoryEntry::Build(b) => b.build.started,
            HistoryEntry::Resolution(r) => r.timestamp,
        }
    }
}

fn build_entry(row: &postgres::Row, name: &'static str) -> Result<BuildHistoryEntry> {
    let build = build_summary(
        row,
        name,
        [
            "id", "task_id", "state", "started", "finished", "epoch", "version", "release",
        ],
    )?
    .ok_or(Error::BadValue {
        column: "build.id",
        value: 0,
    })?;
    Ok(BuildHistoryEntry {
        build,
        real: column(row, name, "real")?,
        untagged: column(row, name, "untagged")?,
        deps_resolved: column(row, name, "deps_resolved")?,
        repo_id: column(row, name, "repo_id")?,
        cancel_requested: column(row, name, "cancel_requested")?,
        tasks: Vec::new(),
        changes: Vec::new(),
    })
}

/// Fills in tasks and applied changes of the given builds.
fn attach_tasks_and_changes(
    client: &mut Reader,
    builds: &mut [&mut BuildHistoryEntry],
) -> Result<()> {
    if builds.is_empty() {
        return Ok(());
    }
    let ids: Vec<i32> = builds.iter().map(|b| b.build.id.0).collect();
    const T: &str = "koji tasks";
    for r in query(
        client,
        T,
        "SELECT build_id, task_id, arch, state, started, finished FROM koji_task
         WHERE build_id = ANY($1) ORDER BY arch, task_id",
        &[&ids],
    )? {
        let bid = BuildId(column(&r, T, "build_id")?);
        let state_v: i32 = column(&r, T, "state")?;
        let state = TaskState::from_koji(i64::from(state_v)).ok_or(Error::BadValue {
            column: "koji_task.state",
            value: i64::from(state_v),
        })?;
        if let Some(b) = builds.iter_mut().find(|b| b.build.id == bid) {
            b.tasks.push(KojiTaskRow {
                task_id: KojiTaskId(column(&r, T, "task_id")?),
                arch: column(&r, T, "arch")?,
                state,
                started: column(&r, T, "started")?,
                finished: column(&r, T, "finished")?,
            });
        }
    }
    const C: &str = "applied changes";
    let sql: &str = concat!(
        "SELECT ch.build_id, coalesce(d1.name, d2.name) AS dep_name, ",
        "d1.epoch AS e1, d1.version AS v1, d1.release AS r1, ",
        "d2.epoch AS e2, d2.version AS v2, d2.release AS r2, ch.distance ",
        "FROM applied_change ch ",
        "LEFT JOIN dependency d1 ON d1.id = ch.prev_dep_id ",
        "LEFT JOIN dependency d2 ON d2.id = ch.curr_dep_id ",
        "WHERE ch.build_id = ANY($1) ORDER BY ch.distance NULLS LAST, dep_name, ch.id"
    );
    for r in query(client, C, sql, &[&ids])? {
        let bid = BuildId(column(&r, C, "build_id")?);
        let c = change(&r, C)?;
        if let Some(b) = builds.iter_mut().find(|b| b.build.id == bid) {
            b.changes.push(c);
        }
    }
    Ok(())
}

/// The Koji tasks and applied changes of the build `b`, as arrays in the order
/// [`attach_tasks_and_changes`] gives them (tasks by arch then task id, changes by distance,
/// name and id); [`build_arrays`] reads them. A macro, so that queries can `concat!` it.
macro_rules! build_array_columns {
    () => {
        concat!(
            "coalesce(t.ids, '{}') AS t_ids, coalesce(t.arches, '{}') AS t_arches, ",
            "coalesce(t.states, '{}') AS t_states, coalesce(t.starteds, '{}') AS t_starteds, ",
            "coalesce(t.finisheds, '{}') AS t_finisheds, ",
            "coalesce(ch.names, '{}') AS ch_names, coalesce(ch.e1, '{}') AS ch_e1, ",
            "coalesce(ch.v1, '{}') AS ch_v1, coalesce(ch.r1, '{}') AS ch_r1, ",
            "coalesce(ch.e2, '{}') AS ch_e2, coalesce(ch.v2, '{}') AS ch_v2, ",
            "coalesce(ch.r2, '{}') AS ch_r2, coalesce(ch.distances, '{}') AS ch_distances "
        )
    };
}

/// The joins that [`build_array_columns!`] reads.
macro_rules! build_array_joins {
    () => {
        concat!(
            "LEFT JOIN LATERAL (SELECT array_agg(kt.task_id ORDER BY kt.arch, kt.task_id) AS ids, ",
            "    array_agg(kt.arch ORDER BY kt.arch, kt.task_id) AS arches, ",
            "    array_agg(kt.state ORDER BY kt.arch, kt.task_id) AS states, ",
            "    array_agg(kt.started ORDER BY kt.arch, kt.task_id) AS starteds, ",
            "    array_agg(kt.finished ORDER BY kt.arch, kt.task_id) AS finisheds ",
            "  FROM koji_task kt WHERE kt.build_id = b.id) t ON true ",
            "LEFT JOIN LATERAL (SELECT array_agg(c.dep_name ORDER BY c.k) AS names, ",
            "    array_agg(c.e1 ORDER BY c.k) AS e1, array_agg(c.v1 ORDER BY c.k) AS v1, ",
            "    array_agg(c.r1 ORDER BY c.k) AS r1, array_agg(c.e2 ORDER BY c.k) AS e2, ",
            "    array_agg(c.v2 ORDER BY c.k) AS v2, array_agg(c.r2 ORDER BY c.k) AS r2, ",
            "    array_agg(c.distance ORDER BY c.k) AS distances ",
            "  FROM (SELECT coalesce(d1.name, d2.name) AS dep_name, ",
            "          d1.epoch AS e1, d1.version AS v1, d1.release AS r1, ",
            "          d2.epoch AS e2, d2.version AS v2, d2.release AS r2, ac.distance, ",
            "          row_number() OVER (ORDER BY ac.distance NULLS LAST, ",
            "                             coalesce(d1.name, d2.name), ac.id) AS k ",
            "        FROM applied_change ac ",
            "        LEFT JOIN dependency d1 ON d1.id = ac.prev_dep_id ",
            "        LEFT JOIN dependency d2 ON d2.id = ac.curr_dep_id ",
            "        WHERE ac.build_id = b.id) c) ch ON true "
        )
    };
}

/// Fills in the tasks and applied changes of a build from [`build_array_columns!`].
fn build_arrays(row: &postgres::Row, name: &'static str, b: &mut BuildHistoryEntry) -> Result<()> {
    let ids: Vec<i32> = column(row, name, "t_ids")?;
    let arches: Vec<String> = column(row, name, "t_arches")?;
    let states: Vec<i32> = column(row, name, "t_states")?;
    let starteds: Vec<SystemTime> = column(row, name, "t_starteds")?;
    let finisheds: Vec<Option<SystemTime>> = column(row, name, "t_finisheds")?;
    for (i, ((id, arch), state_v)) in ids.into_iter().zip(arches).zip(states).enumerate() {
        let state = TaskState::from_koji(i64::from(state_v)).ok_or(Error::BadValue {
            column: "koji_task.state",
            value: i64::from(state_v),
        })?;
        let started = starteds.get(i).copied().ok_or(Error::BadValue {
            column: "koji_task.started",
            value: i64::from(id),
        })?;
        b.tasks.push(KojiTaskRow {
            task_id: KojiTaskId(id),
            arch,
            state,
            started,
            finished: finisheds.get(i).copied().flatten(),
        });
    }
    let names: Vec<String> = column(row, name, "ch_names")?;
    let e1: Vec<Option<i32>> = column(row, name, "ch_e1")?;
    let v1: Vec<Option<String>> = column(row, name, "ch_v1")?;
    let r1: Vec<Option<String>> = column(row, name, "ch_r1")?;
    let e2: Vec<Option<i32>> = column(row, name, "ch_e2")?;
    let v2: Vec<Option<String>> = column(row, name, "ch_v2")?;
    let r2: Vec<Option<String>> = column(row, name, "ch_r2")?;
    let distances: Vec<Option<i32>> = column(row, name, "ch_distances")?;
    let evr = |e: Option<i32>, v: Option<String>, r: Option<String>| match (v, r) {
        (Some(v), Some(r)) => Some(Evr::new(e, v, r)),
        _ => None,
    };
    for (i, dep_name) in names.into_iter().enumerate() {
        b.changes.push(AppliedChange {
            dep_name,
            prev: evr(
                e1.get(i).copied().flatten(),
                v1.get(i).cloned().flatten(),
                r1.get(i).cloned().flatten(),
            ),
            curr: evr(
                e2.get(i).copied().flatten(),
                v2.get(i).cloned().flatten(),
                r2.get(i).cloned().flatten(),
            ),
            distance: distances.get(i).copied().flatten(),
        });
    }
    Ok(())
}

/// The newest `limit` history entries of a package (builds by start time and resolution
/// changes by timestamp, merged), strictly older than `before` when given.
pub fn package_history(
    client: &mut Reader,
    package: PackageId,
    before: Option<SystemTime>,
    limit: i64,
) -> Result<Vec<HistoryEntry>> {
    const B: &str = "build history";
    // Separate statements with and without `before`, so that each has its own plan.
    let builds_sql: &str = if before.is_some() {
        concat!(
            "SELECT b.id, b.task_id, b.state, b.started, b.finished, b.epoch, ",
            "b.version, b.release, b.real, b.untagged, b.deps_resolved, b.repo_id, ",
            "b.cancel_requested, b.package_id, ",
            build_array_columns!(),
            "FROM (SELECT * FROM build b WHERE b.package_id = $1 AND b.started < $2 ",
            "      ORDER BY b.started DESC, b.id DESC LIMIT $3) b ",
            build_array_joins!(),
            "ORDER BY b.started DESC, b.id DESC"
        )
    } else {
        concat!(
            "SELECT b.id, b.task_id, b.state, b.started, b.finished, b.epoch, ",
            "b.version, b.release, b.real, b.untagged, b.deps_resolved, b.repo_id, ",
            "b.cancel_requested, b.package_id, ",
            build_array_columns!(),
            "FROM (SELECT * FROM build b WHERE b.package_id = $1 AND $2::timestamptz IS NULL ",
            "      ORDER BY b.started DESC, b.id DESC LIMIT $3) b ",
            build_array_joins!(),
            "ORDER BY b.started DESC, b.id DESC"
        )
    };
    let mut entries: Vec<HistoryEntry> = Vec::new();
    for r in query(client, B, builds_sql, &[&package.0, &before, &limit])? {
        let mut b = build_entry(&r, B)?;
        build_arrays(&r, B, &mut b)?;
        entries.push(HistoryEntry::Build(b));
    }
    const R: &str = "resolution history";
    let res_sql: &str = if before.is_some() {
        "SELECT rc.id, rc.resolved, rc.\"timestamp\",
                coalesce((SELECT array_agg(pr.problem ORDER BY pr.problem)
                          FROM resolution_problem pr WHERE pr.resolution_id = rc.id),
                         '{}') AS problems
         FROM resolution_change rc
         WHERE rc.package_id = $1 AND rc.\"timestamp\" < $2
         ORDER BY rc.\"timestamp\" DESC, rc.id DESC LIMIT $3"
    } else {
        "SELECT rc.id, rc.resolved, rc.\"timestamp\",
                coalesce((SELECT array_agg(pr.problem ORDER BY pr.problem)
                          FROM resolution_problem pr WHERE pr.resolution_id = rc.id),
                         '{}') AS problems
         FROM resolution_change rc
         WHERE rc.package_id = $1 AND $2::timestamptz IS NULL
         ORDER BY rc.\"timestamp\" DESC, rc.id DESC LIMIT $3"
    };
    let res_rows = query(client, R, res_sql, &[&package.0, &before, &limit])?;
    for r in &res_rows {
        entries.push(HistoryEntry::Resolution(ResolutionHistoryEntry {
            resolved: column(r, R, "resolved")?,
            timestamp: column(r, R, "timestamp")?,
            problems: column(r, R, "problems")?,
        }));
    }
    // Stable sort keeps builds before resolution changes of the same instant.
    entries.sort_by_key(|e| std::cmp::Reverse(e.time()));
    entries.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(entries)
}

/// A build with its package, for the build page.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildDetail {
    /// The build, its tasks and applied changes.
    pub entry: BuildHistoryEntry,
    /// The package's name.
    pub package_name: String,
    /// The package's collection.
    pub collection_id: CollectionId,
    /// Whether this is the package's last build (shown as current).
    pub is_last_build: bool,
}

/// Loads build `id`; `None` when it does not exist.
pub fn build_detail(client: &mut Reader, id: BuildId) -> Result<Option<BuildDetail>> {
    const N: &str = "build detail";
    let rows = query(
        client,
        N,
        "SELECT b.id, b.task_id, b.state, b.started, b.finished, b.epoch,
                b.version, b.release, b.real, b.untagged, b.deps_resolved, b.repo_id,
                b.cancel_requested, p.name AS package_name, p.collection_id,
                (p.last_build_id = b.id) AS is_last
         FROM build b JOIN package p ON p.id = b.package_id WHERE b.id = $1",
        &[&id.0],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let mut entry = build_entry(r, N)?;
    attach_tasks_and_changes(client, &mut [&mut entry])?;
    Ok(Some(BuildDetail {
        entry,
        package_name: column(r, N, "package_name")?,
        collection_id: CollectionId(column(r, N, "collection_id")?),
        is_last_build: column::<Option<bool>>(r, N, "is_last")?.unwrap_or(false),
    }))
}
