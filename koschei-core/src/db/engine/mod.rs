//! Queries of the engine services (polling, repo resolver, build resolver, scheduler).
//!
//! Every function takes `&mut impl GenericClient` and passes values as parameters only.
//! Rows are converted to plain structs here; the services never see SQL.
//!
//! One file per service: `polling`, `repo_resolver`, `build_resolver`, `scheduler`;
//! `dependency` holds the dependency sets and changes both resolvers store, and this file the
//! advisory locks, the backend log and the collection rows every service reads. Only what
//! other crates use is public (the reservation, the schedule rows and `dependency_ids`, for
//! tests and benches); the rest is `pub(crate)`.

mod build_resolver;
mod dependency;
mod polling;
mod repo_resolver;
mod scheduler;

use postgres::GenericClient;

use crate::db::{QueryContext, column};

pub(crate) use build_resolver::{
    UnprocessedBuild, clear_build_deps, previous_resolved_build, set_build_deps_resolved,
    set_build_deps_unresolved, unprocessed_builds,
};
pub use dependency::dependency_ids;
pub(crate) use dependency::{
    ChangeRow, build_dependencies, build_dependency_id_sets, dependencies_by_id,
    insert_applied_changes, replace_unapplied_changes,
};
pub(crate) use polling::{
    NewBuild, PendingReservation, RunningBuild, TaskRow, adopt_task, build_evrs,
    clear_no_srpm_skips, clear_priority_data, collection_packages, collections_with_package,
    delete_build, delete_reservation, finish_build, insert_build, insert_packages, known_task_ids,
    lock_build, package_state, packages_with_untagged_builds, pending_reservations,
    previous_complete_state, real_build_targets, real_build_task_ids, refresh_stats,
    running_build_count, running_builds, set_blocked, set_build_priority, set_build_repo,
    set_untagged, upsert_tasks,
};
pub(crate) use repo_resolver::{
    LockedPackage, ResolveCandidate, insert_resolution_changes, lock_packages_for_resolution,
    pending_resolve_candidates, resolve_candidates, set_changes_builds, set_collection_repo,
    set_package_resolutions,
};
pub(crate) use scheduler::{
    RESERVED_TASK, confirm_submission, package_collection, package_name_and_override,
    set_skip_reason,
};
pub use scheduler::{Reservation, Reserve, ScheduleRow, reserve_submission, schedule_rows};

use crate::model::{CollectionId, PackageId, RepoId};

/// Result of the engine queries.
type Result<T> = std::result::Result<T, crate::db::Error>;

/// Advisory lock namespaces (the first key of the two-key advisory lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockSpace {
    /// Repo resolution of one collection (key: collection id), as in the original.
    RepoResolver = 1,
    /// Build resolution of one Koji repo (key: repo id), as in the original.
    BuildResolver = 2,
    /// The scheduler (key 0): one scheduler pass at a time across all processes.
    Scheduler = 3,
    /// Polling (key 0): one polling pass at a time across all processes.
    Polling = 4,
    /// Submission reservations (key 0, transaction-level): serialises the checks and the
    /// insert of [`reserve_submission`] across the scheduler and admin commands.
    Submission = 13,
}

/// Tries to take a session-level advisory lock; `false` when another session holds it.
pub(crate) fn try_lock(c: &mut impl GenericClient, space: LockSpace, key: i32) -> Result<bool> {
    const Q: &str = "try advisory lock";
    let row = c
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2) AS locked",
            &[&(space as i32), &key],
        )
        .ctx(Q)?;
    column(&row, Q, "locked")
}

/// Releases a session-level advisory lock taken with [`try_lock`].
pub(crate) fn unlock(c: &mut impl GenericClient, space: LockSpace, key: i32) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_unlock($1, $2)",
        &[&(space as i32), &key],
    )
    .ctx("advisory unlock")?;
    Ok(())
}

/// Writes a `log_entry` from the backend.
pub(crate) fn log_backend(
    c: &mut impl GenericClient,
    message: &str,
    package: Option<PackageId>,
) -> Result<()> {
    c.execute(
        "INSERT INTO log_entry (environment, message, base_id)
         VALUES ('backend', $1, (SELECT base_id FROM package WHERE id = $2))",
        &[&message, &package.map(|p| p.0)],
    )
    .ctx("insert log entry")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Collections

/// The collection fields the engine reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CollectionRow {
    /// Id.
    pub(crate) id: CollectionId,
    /// Machine name.
    pub(crate) name: String,
    /// Koji target of scratch builds.
    pub(crate) target: String,
    /// Tag of the package list, real builds and SRPMs.
    pub(crate) dest_tag: String,
    /// Build tag (repos).
    pub(crate) build_tag: String,
    /// Build group name.
    pub(crate) build_group: String,
    /// Latest resolved repo.
    pub(crate) latest_repo_id: Option<RepoId>,
    /// Whether the build group installs in it.
    pub(crate) latest_repo_resolved: Option<bool>,
    /// Register real builds of untracked packages too.
    pub(crate) poll_untracked: bool,
}

const COLLECTION_COLS: &str = "id, name, target, dest_tag, build_tag, build_group, latest_repo_id, \
                               latest_repo_resolved, poll_untracked";

fn collection_row(r: &postgres::Row, q: &'static str) -> Result<CollectionRow> {
    Ok(CollectionRow {
        id: CollectionId(column(r, q, "id")?),
        name: column(r, q, "name")?,
        target: column(r, q, "target")?,
        dest_tag: column(r, q, "dest_tag")?,
        build_tag: column(r, q, "build_tag")?,
        build_group: column(r, q, "build_group")?,
        latest_repo_id: column::<Option<i32>>(r, q, "latest_repo_id")?.map(RepoId),
        latest_repo_resolved: column(r, q, "latest_repo_resolved")?,
        poll_untracked: column(r, q, "poll_untracked")?,
    })
}

/// All collections, by id.
pub(crate) fn collections(c: &mut impl GenericClient) -> Result<Vec<CollectionRow>> {
    let sql = format!("SELECT {COLLECTION_COLS} FROM collection ORDER BY id");
    const Q: &str = "list collections";
    let rows = c.query(sql.as_str(), &[]).ctx(Q)?;
    rows.iter().map(|r| collection_row(r, Q)).collect()
}

/// One collection.
pub(crate) fn collection(
    c: &mut impl GenericClient,
    id: CollectionId,
) -> Result<Option<CollectionRow>> {
    let sql = format!("SELECT {COLLECTION_COLS} FROM collection WHERE id = $1");
    const Q: &str = "load collection";
    let row = c.query_opt(sql.as_str(), &[&id.0]).ctx(Q)?;
    row.as_ref().map(|r| collection_row(r, Q)).transpose()
}
