//! Queries of polling: running builds and their Koji tasks, finished builds, the package
//! list, real builds and untagging.

use std::collections::{BTreeSet, HashMap};
use std::time::SystemTime;

use postgres::GenericClient;

use super::Result;
use crate::db::{QueryContext, build_state, column};
use crate::model::{BuildId, BuildState, CollectionId, Evr, KojiTaskId, PackageId, RepoId};

/// A running build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunningBuild {
    /// The build.
    pub(crate) id: BuildId,
    /// Its package.
    pub(crate) package_id: PackageId,
    /// Koji task (0 = submission reserved, task not known).
    pub(crate) task_id: KojiTaskId,
    /// When it started.
    pub(crate) started: SystemTime,
    /// Whether a user asked to cancel it.
    pub(crate) cancel_requested: bool,
}

/// All running builds.
pub(crate) fn running_builds(c: &mut impl GenericClient) -> Result<Vec<RunningBuild>> {
    const Q: &str = "load running builds";
    let rows = c
        .query(
            "SELECT id, package_id, task_id, started, cancel_requested FROM build WHERE state = 2 ORDER BY id",
            &[],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(RunningBuild {
                id: BuildId(column(r, Q, "id")?),
                package_id: PackageId(column(r, Q, "package_id")?),
                task_id: KojiTaskId(column(r, Q, "task_id")?),
                started: column(r, Q, "started")?,
                cancel_requested: column(r, Q, "cancel_requested")?,
            })
        })
        .collect()
}

/// Number of running builds (all collections).
pub(crate) fn running_build_count(c: &mut impl GenericClient) -> Result<i64> {
    const Q: &str = "count running builds";
    let row = c
        .query_one("SELECT count(*) AS n FROM build WHERE state = 2", &[])
        .ctx(Q)?;
    column(&row, Q, "n")
}

/// A Koji subtask row to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskRow {
    /// Koji task id.
    pub(crate) task_id: KojiTaskId,
    /// Arch.
    pub(crate) arch: String,
    /// Koji state number.
    pub(crate) state: i32,
    /// Start.
    pub(crate) started: SystemTime,
    /// End.
    pub(crate) finished: Option<SystemTime>,
}

/// Inserts or updates the Koji subtasks of a build.
pub(crate) fn upsert_tasks(
    c: &mut impl GenericClient,
    build: BuildId,
    tasks: &[TaskRow],
) -> Result<()> {
    for t in tasks {
        c.execute(
            "INSERT INTO koji_task (build_id, task_id, arch, state, started, finished)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (build_id, task_id) DO UPDATE
             SET arch = EXCLUDED.arch, state = EXCLUDED.state, started = EXCLUDED.started,
                 finished = EXCLUDED.finished",
            &[
                &build.0,
                &t.task_id.0,
                &t.arch,
                &t.state,
                &t.started,
                &t.finished,
            ],
        )
        .ctx("upsert koji task")?;
    }
    Ok(())
}

/// Sets the repo a running build uses, once known.
pub(crate) fn set_build_repo(
    c: &mut impl GenericClient,
    build: BuildId,
    repo: RepoId,
) -> Result<()> {
    c.execute(
        "UPDATE build SET repo_id = $2 WHERE id = $1 AND repo_id IS NULL",
        &[&build.0, &repo.0],
    )
    .ctx("set build repo")?;
    Ok(())
}

/// Locks a build row; returns its state and `deps_resolved`, or `None` when it is gone.
pub(crate) fn lock_build(
    c: &mut impl GenericClient,
    build: BuildId,
) -> Result<Option<(BuildState, Option<bool>)>> {
    const Q: &str = "lock build";
    let row = c
        .query_opt(
            "SELECT state, deps_resolved FROM build WHERE id = $1 FOR UPDATE",
            &[&build.0],
        )
        .ctx(Q)?;
    let Some(r) = row else {
        return Ok(None);
    };
    let state = build_state("build.state", column(&r, Q, "state")?)?;
    let deps_resolved: Option<bool> = column(&r, Q, "deps_resolved")?;
    Ok(state.map(|s| (s, deps_resolved)))
}

/// Deletes a build.
pub(crate) fn delete_build(c: &mut impl GenericClient, build: BuildId) -> Result<()> {
    c.execute("DELETE FROM build WHERE id = $1", &[&build.0])
        .ctx("delete build")?;
    Ok(())
}

/// `clear_priority_data`: manual, dependency and build priority to 0, unapplied changes
/// deleted (computed against no build now, so the repo resolver computes them again once
/// the package has a comparison build). The package row is locked first.
pub(crate) fn clear_priority_data(c: &mut impl GenericClient, package: PackageId) -> Result<()> {
    c.execute(
        "UPDATE package SET manual_priority = 0, dependency_priority = 0, build_priority = 0,
                changes_build_id = NULL WHERE id = $1",
        &[&package.0],
    )
    .ctx("clear priority data")?;
    c.execute(
        "DELETE FROM unapplied_change WHERE package_id = $1",
        &[&package.0],
    )
    .ctx("delete unapplied changes")?;
    Ok(())
}

/// State of the package's newest finished build started before `build` (same package).
pub(crate) fn previous_complete_state(
    c: &mut impl GenericClient,
    package: PackageId,
    build: BuildId,
) -> Result<Option<BuildState>> {
    const Q: &str = "find previous complete build";
    let row = c
        .query_opt(
            "SELECT p.state FROM build p, build b
             WHERE b.id = $2 AND p.package_id = $1 AND p.id <> b.id AND p.state IN (3, 5)
               AND NOT p.untagged AND (p.started, p.id) < (b.started, b.id)
             ORDER BY p.started DESC, p.id DESC LIMIT 1",
            &[&package.0, &build.0],
        )
        .ctx(Q)?;
    match row {
        Some(r) => build_state("build.state", column(&r, Q, "state")?),
        None => Ok(None),
    }
}

/// Marks a build finished.
pub(crate) fn finish_build(
    c: &mut impl GenericClient,
    build: BuildId,
    state: BuildState,
    repo: RepoId,
    started: SystemTime,
    finished: SystemTime,
) -> Result<()> {
    c.execute(
        "UPDATE build SET state = $2, repo_id = coalesce(repo_id, $3), started = $4, finished = $5 WHERE id = $1",
        &[&build.0, &state.to_db(), &repo.0, &started, &finished],
    )
    .ctx("finish build")?;
    Ok(())
}

/// Sets a package's build priority.
pub(crate) fn set_build_priority(
    c: &mut impl GenericClient,
    package: PackageId,
    value: i32,
) -> Result<()> {
    c.execute(
        "UPDATE package SET build_priority = $2 WHERE id = $1",
        &[&package.0, &value],
    )
    .ctx("set build priority")?;
    Ok(())
}

/// Package state inputs (for state-change events).
pub(crate) fn package_state(
    c: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<crate::model::PackageState>> {
    const Q: &str = "load package state";
    let row = c
        .query_opt(
            "SELECT blocked, tracked, resolved, last_complete_build_state FROM package WHERE id = $1",
            &[&package.0],
        )
        .ctx(Q)?;
    row.map(|r| {
        Ok(crate::model::PackageState::from_flags(
            column(&r, Q, "blocked")?,
            column(&r, Q, "tracked")?,
            column(&r, Q, "resolved")?,
            build_state(
                "package.last_complete_build_state",
                column(&r, Q, "last_complete_build_state")?,
            )?,
        ))
    })
    .transpose()
}

/// Name, id and blocked flag of each package of a collection.
pub(crate) fn collection_packages(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<HashMap<String, (PackageId, bool)>> {
    const Q: &str = "load collection packages";
    let rows = c
        .query(
            "SELECT name, id, blocked FROM package WHERE collection_id = $1",
            &[&collection.0],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok((
                column(r, Q, "name")?,
                (PackageId(column(r, Q, "id")?), column(r, Q, "blocked")?),
            ))
        })
        .collect()
}

/// Sets the blocked flag of packages.
pub(crate) fn set_blocked(
    c: &mut impl GenericClient,
    packages: &[PackageId],
    blocked: bool,
) -> Result<()> {
    let ids: Vec<i32> = packages.iter().map(|p| p.0).collect();
    c.execute(
        "UPDATE package SET blocked = $2 WHERE id = ANY($1)",
        &[&ids, &blocked],
    )
    .ctx("update blocked flags")?;
    Ok(())
}

/// Inserts new (untracked) packages with their blocked flag, creating base packages.
pub(crate) fn insert_packages(
    c: &mut impl GenericClient,
    collection: CollectionId,
    packages: &[(String, bool)],
) -> Result<()> {
    let names: Vec<&str> = packages.iter().map(|(n, _)| n.as_str()).collect();
    let blocked: Vec<bool> = packages.iter().map(|(_, b)| *b).collect();
    c.execute(
        "INSERT INTO base_package (name) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (name) DO NOTHING",
        &[&names],
    )
    .ctx("insert base packages")?;
    c.execute(
        "INSERT INTO package (base_id, name, collection_id, blocked)
         SELECT bp.id, u.name, $3, u.blocked
         FROM unnest($1::text[], $2::bool[]) AS u(name, blocked) JOIN base_package bp ON bp.name = u.name
         ON CONFLICT DO NOTHING",
        &[&names, &blocked, &collection.0],
    )
    .ctx("insert packages")?;
    Ok(())
}

/// Ends the "no SRPM" backoff: clears skip reason 1 everywhere (the scheduler retries).
pub(crate) fn clear_no_srpm_skips(c: &mut impl GenericClient) -> Result<u64> {
    c.execute(
        "UPDATE package SET scheduler_skip_reason = NULL WHERE scheduler_skip_reason = 1",
        &[],
    )
    .ctx("clear no-srpm skip reasons")
}

/// A package of a collection as real-build registration needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RealBuildTarget {
    /// Package id.
    pub(crate) id: PackageId,
    /// Whether tracked.
    pub(crate) tracked: bool,
    /// EVR of its last build.
    pub(crate) last_build: Option<Evr>,
}

/// Packages of a collection by name, with the EVR of their last build.
pub(crate) fn real_build_targets(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<HashMap<String, RealBuildTarget>> {
    const Q: &str = "load packages for real builds";
    let rows = c
        .query(
            "SELECT p.name, p.id, p.tracked, lb.epoch, lb.version, lb.release
             FROM package p LEFT JOIN build lb ON lb.id = p.last_build_id
             WHERE p.collection_id = $1",
            &[&collection.0],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            let version: Option<String> = column(r, Q, "version")?;
            let last_build = match version {
                Some(v) => Some(Evr::new(
                    column(r, Q, "epoch")?,
                    v,
                    column::<Option<String>>(r, Q, "release")?.unwrap_or_default(),
                )),
                None => None,
            };
            Ok((
                column(r, Q, "name")?,
                RealBuildTarget {
                    id: PackageId(column(r, Q, "id")?),
                    tracked: column(r, Q, "tracked")?,
                    last_build,
                },
            ))
        })
        .collect()
}

/// Packages of a collection that have untagged builds.
pub(crate) fn packages_with_untagged_builds(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<BTreeSet<PackageId>> {
    const Q: &str = "load packages with untagged builds";
    let rows = c
        .query(
            "SELECT DISTINCT b.package_id FROM build b JOIN package p ON p.id = b.package_id
             WHERE p.collection_id = $1 AND b.untagged",
            &[&collection.0],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| column(r, Q, "package_id").map(PackageId))
        .collect()
}

/// A finished build's EVR and untagged flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildEvr {
    /// Build.
    pub(crate) id: BuildId,
    /// Package.
    pub(crate) package_id: PackageId,
    /// SRPM EVR.
    pub(crate) evr: Evr,
    /// Untagged flag.
    pub(crate) untagged: bool,
}

/// EVRs of the builds (with an EVR) of these packages.
pub(crate) fn build_evrs(
    c: &mut impl GenericClient,
    packages: &[PackageId],
) -> Result<Vec<BuildEvr>> {
    let ids: Vec<i32> = packages.iter().map(|p| p.0).collect();
    const Q: &str = "load build EVRs";
    let rows = c
        .query(
            "SELECT id, package_id, epoch, version, release, untagged FROM build
             WHERE package_id = ANY($1) AND version IS NOT NULL AND release IS NOT NULL",
            &[&ids],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(BuildEvr {
                id: BuildId(column(r, Q, "id")?),
                package_id: PackageId(column(r, Q, "package_id")?),
                evr: Evr::new(
                    column(r, Q, "epoch")?,
                    column::<String>(r, Q, "version")?,
                    column::<String>(r, Q, "release")?,
                ),
                untagged: column(r, Q, "untagged")?,
            })
        })
        .collect()
}

/// Sets the untagged flag of builds (triggers move the last build pointers).
pub(crate) fn set_untagged(
    c: &mut impl GenericClient,
    builds: &[BuildId],
    untagged: bool,
) -> Result<()> {
    let ids: Vec<i32> = builds.iter().map(|b| b.0).collect();
    c.execute(
        "UPDATE build SET untagged = $2 WHERE id = ANY($1) AND untagged <> $2",
        &[&ids, &untagged],
    )
    .ctx("set untagged")?;
    Ok(())
}

/// Task ids of the real builds of a collection.
pub(crate) fn real_build_task_ids(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<BTreeSet<KojiTaskId>> {
    const Q: &str = "load real build task ids";
    let rows = c
        .query(
            "SELECT b.task_id FROM build b JOIN package p ON p.id = b.package_id
             WHERE p.collection_id = $1 AND b.real",
            &[&collection.0],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| column(r, Q, "task_id").map(KojiTaskId))
        .collect()
}

/// A build to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewBuild {
    /// Package.
    pub(crate) package_id: PackageId,
    /// State.
    pub(crate) state: BuildState,
    /// Koji task.
    pub(crate) task_id: KojiTaskId,
    /// Start.
    pub(crate) started: SystemTime,
    /// End.
    pub(crate) finished: Option<SystemTime>,
    /// SRPM EVR.
    pub(crate) evr: Option<Evr>,
    /// Repo.
    pub(crate) repo_id: Option<RepoId>,
    /// A real (non-scratch) build.
    pub(crate) real: bool,
}

/// Inserts a build unless the package already has one with that task; returns its id.
pub(crate) fn insert_build(c: &mut impl GenericClient, b: &NewBuild) -> Result<Option<BuildId>> {
    const Q: &str = "insert build";
    let row = c
        .query_opt(
            "INSERT INTO build (package_id, state, task_id, started, finished, epoch, version, release, repo_id, real)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (package_id, task_id) DO NOTHING RETURNING id",
            &[
                &b.package_id.0,
                &b.state.to_db(),
                &b.task_id.0,
                &b.started,
                &b.finished,
                &b.evr.as_ref().and_then(|e| e.epoch),
                &b.evr.as_ref().map(|e| e.version.as_str()),
                &b.evr.as_ref().map(|e| e.release.as_str()),
                &b.repo_id.map(|r| r.0),
                &b.real,
            ],
        )
        .ctx(Q)?;
    row.map(|r| column(&r, Q, "id").map(BuildId)).transpose()
}

/// Refreshes the statistics materialized views.
pub(crate) fn refresh_stats(c: &mut impl GenericClient) -> Result<()> {
    c.batch_execute("REFRESH MATERIALIZED VIEW scalar_stats; REFRESH MATERIALIZED VIEW resource_consumption_stats")
        .ctx("refresh statistics")
}

/// Ids of the collections that have a package called `name`.
pub(crate) fn collections_with_package(
    c: &mut impl GenericClient,
    name: &str,
) -> Result<Vec<CollectionId>> {
    const Q: &str = "find the collections of a package";
    let rows = c
        .query(
            "SELECT collection_id FROM package WHERE name = $1 ORDER BY collection_id",
            &[&name],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| column(r, Q, "collection_id").map(CollectionId))
        .collect()
}

/// A reserved submission whose Koji task is not known (task id 0), with what identifies
/// the `build` call made for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingReservation {
    /// The running build row standing for the submission.
    pub(crate) id: BuildId,
    /// Its package.
    pub(crate) package_id: PackageId,
    /// Package name (the SRPM's name).
    pub(crate) name: String,
    /// SRPM version.
    pub(crate) version: String,
    /// SRPM release.
    pub(crate) release: String,
    /// When the submission was reserved.
    pub(crate) started: SystemTime,
    /// The collection's Koji target (the `build` call's target without `build_from_repo_id`).
    pub(crate) target: String,
    /// The repo built from (`build_from_repo_id`: no target, this `repo_id` option).
    pub(crate) repo_id: Option<RepoId>,
}

/// The reserved submissions without a Koji task, oldest first.
pub(crate) fn pending_reservations(c: &mut impl GenericClient) -> Result<Vec<PendingReservation>> {
    const Q: &str = "load reservations";
    let rows = c
        .query(
            "SELECT b.id, b.package_id, p.name, b.version, b.release, b.started, co.target, b.repo_id
             FROM build b JOIN package p ON p.id = b.package_id
             JOIN collection co ON co.id = p.collection_id
             WHERE b.state = 2 AND b.task_id = $1
             ORDER BY b.started, b.id",
            &[&super::RESERVED_TASK.0],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(PendingReservation {
                id: BuildId(column(r, Q, "id")?),
                package_id: PackageId(column(r, Q, "package_id")?),
                name: column(r, Q, "name")?,
                version: column::<Option<String>>(r, Q, "version")?.unwrap_or_default(),
                release: column::<Option<String>>(r, Q, "release")?.unwrap_or_default(),
                started: column(r, Q, "started")?,
                target: column(r, Q, "target")?,
                repo_id: column::<Option<i32>>(r, Q, "repo_id")?.map(RepoId),
            })
        })
        .collect()
}

/// Which of these Koji tasks some build already records.
pub(crate) fn known_task_ids(
    c: &mut impl GenericClient,
    tasks: &[KojiTaskId],
) -> Result<BTreeSet<KojiTaskId>> {
    const Q: &str = "find known tasks";
    let ids: Vec<i32> = tasks.iter().map(|t| t.0).collect();
    let rows = c
        .query(
            "SELECT DISTINCT task_id FROM build WHERE task_id = ANY($1)",
            &[&ids],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| Ok(KojiTaskId(column(r, Q, "task_id")?)))
        .collect()
}

/// Records a Koji task found on the hub as the task of a reserved submission (as
/// `confirm_submission` would have: the task id, the package's manual priority and skip
/// reason reset). Returns false when the reservation is gone or has its task meanwhile.
pub(crate) fn adopt_task(
    c: &mut impl GenericClient,
    build: BuildId,
    task: KojiTaskId,
) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE build SET task_id = $2 WHERE id = $1 AND state = 2 AND task_id = $3",
            &[&build.0, &task.0, &super::RESERVED_TASK.0],
        )
        .ctx("adopt task")?;
    if n == 0 {
        return Ok(false);
    }
    c.execute(
        "UPDATE package SET manual_priority = 0, scheduler_skip_reason = NULL
         WHERE id = (SELECT package_id FROM build WHERE id = $1)",
        &[&build.0],
    )
    .ctx("reset priority after adoption")?;
    Ok(true)
}

/// Deletes a reserved submission that still has no Koji task; false when it is gone or got
/// its task meanwhile.
pub(crate) fn delete_reservation(c: &mut impl GenericClient, build: BuildId) -> Result<bool> {
    let n = c
        .execute(
            "DELETE FROM build WHERE id = $1 AND state = 2 AND task_id = $2",
            &[&build.0, &super::RESERVED_TASK.0],
        )
        .ctx("delete reservation")?;
    Ok(n > 0)
}
