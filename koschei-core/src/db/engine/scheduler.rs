//! Queries of the scheduler: the schedule rows, skip reasons and submission reservations.

use std::time::SystemTime;

use postgres::GenericClient;

use super::polling::{NewBuild, insert_build, running_build_count};
use super::{LockSpace, Result};
use crate::db::{QueryContext, column};
use crate::model::{BuildId, BuildState, CollectionId, Evr, KojiTaskId, PackageId, RepoId};

/// Everything the scheduler needs about a package that might be scheduled.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    /// Package.
    pub package_id: PackageId,
    /// Collection.
    pub collection_id: CollectionId,
    /// Priority inputs.
    pub input: crate::priority::PriorityInput,
    /// Last build.
    pub last_build_id: Option<BuildId>,
}

/// Tracked, unblocked packages that can have a current priority, with their priority inputs.
///
/// The query leaves out rows whose priority is certainly NULL (running build, unresolved,
/// not resolved yet, no build, collection buildroot not resolved) and packages waiting for
/// the end of the no-SRPM backoff (skip reason 1); the priority itself is computed by
/// [`crate::priority::current_priority`].
pub fn schedule_rows(c: &mut impl GenericClient) -> Result<Vec<ScheduleRow>> {
    const Q: &str = "load schedule rows";
    const SQL: &str = concat!(
        "SELECT p.id, p.collection_id, p.last_build_id, ",
        crate::db::priority::input_columns!(),
        " FROM package p JOIN collection c ON c.id = p.collection_id
          JOIN build lb ON lb.id = p.last_build_id
          WHERE p.tracked AND NOT p.blocked AND c.latest_repo_resolved
            AND p.last_build_id = p.last_complete_build_id
            AND (p.resolved OR (p.resolved IS NULL AND p.skip_resolution))
            AND p.scheduler_skip_reason IS DISTINCT FROM 1"
    );
    let rows = c.query(SQL, &[]).ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(ScheduleRow {
                package_id: PackageId(column(r, Q, "id")?),
                collection_id: CollectionId(column(r, Q, "collection_id")?),
                input: crate::db::priority::input(r, Q)?,
                last_build_id: column::<Option<i32>>(r, Q, "last_build_id")?.map(BuildId),
            })
        })
        .collect()
}

/// Collection and last build of a package.
pub(crate) fn package_collection(
    c: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<(CollectionId, Option<BuildId>)>> {
    const Q: &str = "load package collection";
    let row = c
        .query_opt(
            "SELECT collection_id, last_build_id FROM package WHERE id = $1",
            &[&package.0],
        )
        .ctx(Q)?;
    row.map(|r| {
        Ok((
            CollectionId(column(&r, Q, "collection_id")?),
            column::<Option<i32>>(&r, Q, "last_build_id")?.map(BuildId),
        ))
    })
    .transpose()
}

/// Name and arch override of a package.
pub(crate) fn package_name_and_override(
    c: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<(String, Option<String>)>> {
    const Q: &str = "load package name";
    let row = c
        .query_opt(
            "SELECT name, arch_override FROM package WHERE id = $1",
            &[&package.0],
        )
        .ctx(Q)?;
    row.map(|r| Ok((column(&r, Q, "name")?, column(&r, Q, "arch_override")?)))
        .transpose()
}

/// Sets a scheduler skip reason (1 no SRPM, 2 no arch); for 2 also lowers the manual
/// priority by 1000.
pub(crate) fn set_skip_reason(
    c: &mut impl GenericClient,
    package: PackageId,
    reason: i32,
) -> Result<()> {
    c.execute(
        "UPDATE package SET scheduler_skip_reason = $2,
                manual_priority = manual_priority - CASE WHEN $2 = 2 THEN 1000 ELSE 0 END
         WHERE id = $1",
        &[&package.0, &reason],
    )
    .ctx("set scheduler skip reason")?;
    Ok(())
}

/// What [`reserve_submission`] checks and records.
#[derive(Debug, Clone, Copy)]
pub struct Reservation<'a> {
    /// The package.
    pub package: PackageId,
    /// Its last build when the decision was taken.
    pub expected_last_build: Option<BuildId>,
    /// Refuse untracked packages (the scheduler; the admin command builds any package).
    pub require_tracked: bool,
    /// Maximum running builds.
    pub max_builds: i64,
    /// SRPM EVR.
    pub evr: &'a Evr,
    /// Repo to build in (`build_from_repo_id`).
    pub repo: Option<RepoId>,
    /// Start time recorded.
    pub now: SystemTime,
}

/// The placeholder task id of a reserved submission (no Koji task known yet).
pub(crate) const RESERVED_TASK: KojiTaskId = KojiTaskId(0);

/// Reserves a submission: inside the caller's transaction, locks the package, checks that
/// it is still tracked, unblocked, without a running build, with the same last build, and
/// that fewer than `max_builds` builds run; then inserts a running build with task id 0
/// (the package now has a running build, so nobody else submits it; the `(package_id,
/// task_id)` unique key allows one reservation per package) and records `now` as the
/// package's `last_submitted`. Returns the reservation.
pub fn reserve_submission(c: &mut impl GenericClient, r: &Reservation<'_>) -> Result<Reserve> {
    // Serialises reservations across processes (also the admin `submit-build`).
    c.execute(
        "SELECT pg_advisory_xact_lock($1, 0)",
        &[&(LockSpace::Submission as i32)],
    )
    .ctx("lock submissions")?;
    const Q: &str = "lock package for submission";
    let row = c
        .query_opt(
            "SELECT last_build_id, tracked, blocked,
                    EXISTS (SELECT 1 FROM build WHERE package_id = package.id AND state = 2)
                      AS running
             FROM package WHERE id = $1 FOR UPDATE",
            &[&r.package.0],
        )
        .ctx(Q)?;
    let Some(row) = row else {
        return Ok(Reserve::NotEligible);
    };
    let last: Option<BuildId> = column::<Option<i32>>(&row, Q, "last_build_id")?.map(BuildId);
    let tracked: bool = column(&row, Q, "tracked")?;
    let blocked: bool = column(&row, Q, "blocked")?;
    let running: bool = column(&row, Q, "running")?;
    if blocked || (r.require_tracked && !tracked) {
        return Ok(Reserve::NotEligible);
    }
    if running {
        return Ok(Reserve::RunningBuild);
    }
    if last != r.expected_last_build {
        return Ok(Reserve::Changed);
    }
    if running_build_count(c)? >= r.max_builds {
        return Ok(Reserve::AtCapacity);
    }
    let id = insert_build(
        c,
        &NewBuild {
            package_id: r.package,
            state: BuildState::Running,
            task_id: RESERVED_TASK,
            started: r.now,
            finished: None,
            evr: Some(r.evr.clone()),
            repo_id: r.repo,
            real: false,
        },
    )?;
    let Some(id) = id else {
        return Ok(Reserve::RunningBuild);
    };
    // Kept when the build row goes (canceled, Koji fault, orphaned): the rebuild interval
    // counts from the submission, not from the build that is left.
    c.execute(
        "UPDATE package SET last_submitted = $2 WHERE id = $1",
        &[&r.package.0, &r.now],
    )
    .ctx("record the submission time")?;
    Ok(Reserve::Reserved(id))
}

/// The outcome of [`reserve_submission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reserve {
    /// Reserved: this running build (task id 0) now stands for the submission.
    Reserved(BuildId),
    /// The package has a running build (or a reservation).
    RunningBuild,
    /// Its last build changed since the decision.
    Changed,
    /// `max_builds` builds are running.
    AtCapacity,
    /// Gone, blocked, or untracked where tracking is required.
    NotEligible,
}

/// Records the Koji task of a reserved submission and resets the package's manual priority
/// and skip reason.
pub(crate) fn confirm_submission(
    c: &mut impl GenericClient,
    build: BuildId,
    task: KojiTaskId,
) -> Result<()> {
    c.execute(
        "UPDATE build SET task_id = $2 WHERE id = $1",
        &[&build.0, &task.0],
    )
    .ctx("confirm submission")?;
    c.execute(
        "UPDATE package SET manual_priority = 0, scheduler_skip_reason = NULL
         WHERE id = (SELECT package_id FROM build WHERE id = $1)",
        &[&build.0],
    )
    .ctx("reset priority after submission")?;
    Ok(())
}
