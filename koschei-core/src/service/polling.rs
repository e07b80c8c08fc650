//! The polling pass (spec sections 4.4, 5.1, 5.2): sync running builds with Koji, refresh
//! package lists and blocked flags, register new real builds, refresh statistics.
//!
//! Difference from the original (issue 14 item 16): a reserved submission without a Koji task
//! (the reply to `build` was lost, or the process died before confirming) gets the task the
//! hub created for it when the session's `build` tasks have one; the original had no
//! reservation and lost track of such a task, submitting the package again.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use postgres::Client;

use super::{Error, Settings, StateChange, state_event, tx_err};
use crate::db::engine::{self as db, LockSpace, NewBuild, TaskRow};
use crate::db::outbox;
use crate::koji::{KojiApi, KojiBuildState, KojiError, TaggedBuild, TaskInfo, Value};
use crate::model::{BuildState, Evr, KojiTaskId, RepoId, TaskState};
use crate::priority::failed_build_priority;

/// Options of a polling pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Never write to Koji (no `cancelTask`).
    pub passive: bool,
}

/// What one polling pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Another polling pass held the lock; nothing was done.
    pub locked: bool,
    /// Builds that finished (complete or failed).
    pub finished: usize,
    /// Builds deleted (canceled, Koji fault, no repo, orphaned reservation).
    pub deleted: usize,
    /// Reservations whose Koji task was found on the hub (the reply to `build` was lost).
    pub adopted: usize,
    /// Packages inserted into collections.
    pub new_packages: usize,
    /// Real builds registered.
    pub real_builds: usize,
    /// Package state changes.
    pub events: Vec<StateChange>,
}

/// Runs one polling pass at time `now`.
pub fn run_once(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    options: Options,
    now: SystemTime,
) -> Result<Report, Error> {
    if !db::try_lock(client, LockSpace::Polling, 0)? {
        return Ok(Report {
            locked: true,
            ..Report::default()
        });
    }
    let mut report = Report::default();
    let result = pass(client, koji, settings, options, now, &mut report);
    let unlocked = db::unlock(client, LockSpace::Polling, 0);
    result?;
    unlocked?;
    Ok(report)
}

fn pass(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    options: Options,
    now: SystemTime,
    report: &mut Report,
) -> Result<(), Error> {
    poll_running_builds(client, koji, settings, options, now, None, report)?;
    for coll in db::collections(client)? {
        refresh_packages(client, koji, &coll, report)?;
        refresh_latest_builds(client, koji, &coll, None, now, report)?;
    }
    // End of the "no SRPM" backoff: the scheduler tries those packages again.
    db::clear_no_srpm_skips(client)?;
    db::refresh_stats(client)?;
    Ok(())
}

/// The repo a build task used: from the first `buildArch` or `rebuildSRPM` child.
fn repo_of(children: &[TaskInfo]) -> Option<RepoId> {
    children
        .iter()
        .filter(|c| c.method == "buildArch" || c.method == "rebuildSRPM")
        .find_map(TaskInfo::request_repo_id)
}

fn task_rows(children: &[TaskInfo]) -> Vec<TaskRow> {
    children
        .iter()
        .filter(|c| c.method == "buildArch")
        .map(|c| TaskRow {
            task_id: c.id,
            arch: c.arch_label().to_owned(),
            state: c.state.to_koji(),
            started: c.created(),
            finished: c.completed(),
        })
        .collect()
}

/// Polls at once the running builds whose Koji task is one of `tasks` (the listener's
/// reaction to a task state message), as a polling pass would; other builds are untouched.
pub fn poll_tasks(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    options: Options,
    now: SystemTime,
    tasks: &[KojiTaskId],
) -> Result<Report, Error> {
    let mut report = Report::default();
    poll_running_builds(
        client,
        koji,
        settings,
        options,
        now,
        Some(tasks),
        &mut report,
    )?;
    Ok(report)
}

/// Registers at once a newer real build of package `name` in every collection that has it
/// (the listener's reaction to a tag message), as a polling pass would.
pub fn refresh_package(
    client: &mut Client,
    koji: &dyn KojiApi,
    name: &str,
    now: SystemTime,
) -> Result<Report, Error> {
    let mut report = Report::default();
    for id in db::collections_with_package(client, name)? {
        if let Some(coll) = db::collection(client, id)? {
            refresh_latest_builds(client, koji, &coll, Some(name), now, &mut report)?;
        }
    }
    Ok(report)
}

fn poll_running_builds(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    options: Options,
    now: SystemTime,
    only: Option<&[KojiTaskId]>,
    report: &mut Report,
) -> Result<(), Error> {
    if only.is_none() {
        settle_reservations(client, koji, settings, now, report)?;
    }
    let builds = db::running_builds(client)?;
    let mut submitted = Vec::new();
    for b in builds {
        if only.is_some_and(|tasks| !tasks.contains(&b.task_id)) || b.task_id == db::RESERVED_TASK {
            continue;
        }
        submitted.push(b);
    }
    if submitted.is_empty() {
        return Ok(());
    }
    let tasks: Vec<KojiTaskId> = submitted.iter().map(|b| b.task_id).collect();
    let infos = koji.task_info(&tasks)?;
    let children = koji.task_children(&tasks)?;
    for ((b, info), children) in submitted.iter().zip(infos).zip(children) {
        let Some(info) = info else {
            tracing::warn!(
                task = b.task_id.0,
                "koji does not know the task, retrying later"
            );
            continue;
        };
        let mut state = info.state;
        if !state.is_finished() {
            let timed_out =
                now.duration_since(b.started).unwrap_or_default() > settings.task_timeout;
            if (timed_out || b.cancel_requested) && !options.passive {
                match koji.cancel_task(b.task_id) {
                    Ok(()) | Err(KojiError::Fault { .. }) => state = TaskState::Canceled,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if !state.is_finished() {
            let mut tx = client.transaction().map_err(tx_err)?;
            if let Some(repo) = repo_of(&children) {
                db::set_build_repo(&mut tx, b.id, repo)?;
            }
            db::upsert_tasks(&mut tx, b.id, &task_rows(&children))?;
            tx.commit().map_err(tx_err)?;
            continue;
        }
        let delete = state == TaskState::Canceled
            || koji.task_faulted(b.task_id)?
            || repo_of(&children).is_none();
        finish(
            client, settings, b, &info, state, &children, delete, now, report,
        )?;
    }
    Ok(())
}

/// Slack of the window of tasks looked at: tasks created up to this long (by the hub's
/// clock) before a reservation still count as its task.
const CLOCK_SLACK: Duration = Duration::from_secs(600);

/// `t` by our clock moved to the hub's clock, `hub_now` being the hub's time at our `now`.
fn on_hub_clock(t: SystemTime, hub_now: SystemTime, now: SystemTime) -> SystemTime {
    let moved = match hub_now.duration_since(now) {
        Ok(ahead) => t.checked_add(ahead),
        Err(behind) => t.checked_sub(behind.duration()),
    };
    moved
        .filter(|t| *t >= SystemTime::UNIX_EPOCH)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Reservations without a Koji task (the `build` call's outcome is unknown: its reply was
/// lost, or the process died before confirming): a `build` task of the session's user
/// created since the reservation, for the reserved SRPM and the collection's target (or
/// repo), not recorded by any build, is adopted as the reservation's task. Without one, the
/// reservation is kept until `orphan_timeout`, then removed with a log entry. When the
/// hub's task list cannot be read (transport error), nothing is decided this pass.
///
/// "Since the reservation" is on the hub's clock: the reservation's time shifted by the
/// difference between the hub's latest event (`getLastEvent`) and `now`, less
/// [`CLOCK_SLACK`]. The latest event is at most the hub's time, so the window can only start
/// too early, never after the task, however far the two clocks are apart.
fn settle_reservations(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    now: SystemTime,
    report: &mut Report,
) -> Result<(), Error> {
    let pending = db::pending_reservations(client)?;
    let Some(oldest) = pending.iter().map(|r| r.started).min() else {
        return Ok(());
    };
    let window_start = |hub_now: SystemTime, started: SystemTime| {
        let t = on_hub_clock(started, hub_now, now);
        t.checked_sub(CLOCK_SLACK)
            .filter(|t| *t >= SystemTime::UNIX_EPOCH)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let lookup = koji.hub_time().and_then(|hub_now| {
        let tasks = koji.own_build_tasks(window_start(hub_now, oldest))?;
        Ok(tasks.map(|t| (t, hub_now)))
    });
    let found_tasks = match lookup {
        Ok(Some(found)) => Some(found),
        Ok(None) => {
            tracing::warn!(
                "not logged in to koji: the tasks of reserved submissions cannot be looked up"
            );
            None
        }
        Err(e @ KojiError::Interrupted { .. }) => return Err(e.into()),
        Err(e @ KojiError::Fault { .. }) => {
            tracing::warn!(error = %crate::error::chain(&e), "koji refused to list tasks; reserved submissions cannot be looked up");
            None
        }
        Err(e) => {
            tracing::warn!(error = %crate::error::chain(&e), "cannot list koji tasks, reserved submissions are kept until the next pass");
            return Ok(());
        }
    };
    let ids: Vec<KojiTaskId> = found_tasks
        .iter()
        .flat_map(|(tasks, _)| tasks.iter().map(|t| t.id))
        .collect();
    let mut taken = db::known_task_ids(client, &ids)?;
    for r in pending {
        let found = found_tasks.as_ref().and_then(|(tasks, hub_now)| {
            let from = window_start(*hub_now, r.started);
            // The newest: tasks of earlier submissions of the same SRPM come first.
            tasks
                .iter()
                .rev()
                .find(|t| !taken.contains(&t.id) && t.created() >= from && is_task_of(t, &r))
        });
        if let Some(task) = found {
            taken.insert(task.id);
            let msg = format!(
                "Adopting Koji task {} for build reservation {} (the reply to its submission was lost)",
                task.id.0, r.id
            );
            let mut tx = client.transaction().map_err(tx_err)?;
            if db::adopt_task(&mut tx, r.id, task.id)? {
                db::log_backend(&mut tx, &msg, Some(r.package_id))?;
                tracing::warn!(build = r.id.0, task = task.id.0, "{msg}");
                report.adopted += 1;
            }
            tx.commit().map_err(tx_err)?;
            continue;
        }
        let age = now.duration_since(r.started).unwrap_or_default();
        if age <= settings.orphan_timeout {
            continue;
        }
        let msg = match found_tasks {
            Some(_) => format!(
                "Removing build reservation {} without a Koji task (no build task of its SRPM found on the hub)",
                r.id
            ),
            None => format!(
                "Removing build reservation {} without a Koji task (submission outcome unknown)",
                r.id
            ),
        };
        tracing::warn!(build = r.id.0, "{msg}");
        let mut tx = client.transaction().map_err(tx_err)?;
        if db::delete_reservation(&mut tx, r.id)? {
            db::log_backend(&mut tx, &msg, Some(r.package_id))?;
            report.deleted += 1;
        }
        tx.commit().map_err(tx_err)?;
    }
    Ok(())
}

/// Whether `task` is the `build` call of reservation `r`: its request (`[src, target,
/// opts]`) builds the reserved SRPM (the file name of `src`) for the collection's target, or,
/// with `build_from_repo_id`, without a target from the reserved repo.
fn is_task_of(task: &TaskInfo, r: &db::PendingReservation) -> bool {
    let Some(request) = task.request.as_deref() else {
        return false;
    };
    if task.method != "build" || task.parent.is_some() {
        return false;
    }
    let srpm = format!("{}-{}-{}.src.rpm", r.name, r.version, r.release);
    let same_srpm = request
        .first()
        .and_then(Value::as_str)
        .and_then(|src| src.rsplit('/').next())
        == Some(srpm.as_str());
    let target = request.get(1).and_then(Value::as_str);
    let repo = request
        .get(2)
        .and_then(|o| o.get("repo_id"))
        .and_then(Value::as_i64);
    let same_place = match r.repo_id {
        Some(id) => target.is_none() && repo == Some(i64::from(id.0)),
        None => target == Some(r.target.as_str()),
    };
    same_srpm && same_place
}

#[allow(clippy::too_many_arguments)]
fn finish(
    client: &mut Client,
    settings: &Settings,
    b: &db::RunningBuild,
    info: &TaskInfo,
    state: TaskState,
    children: &[TaskInfo],
    delete: bool,
    now: SystemTime,
    report: &mut Report,
) -> Result<(), Error> {
    let mut tx = client.transaction().map_err(tx_err)?;
    let Some((BuildState::Running, deps_resolved)) = db::lock_build(&mut tx, b.id)? else {
        return Ok(());
    };
    if delete {
        db::delete_build(&mut tx, b.id)?;
        tx.commit().map_err(tx_err)?;
        report.deleted += 1;
        return Ok(());
    }
    let (Some(repo), new_state) = (
        repo_of(children),
        if state == TaskState::Closed {
            BuildState::Complete
        } else {
            BuildState::Failed
        },
    ) else {
        return Ok(());
    };
    let prev = db::package_state(&mut tx, b.package_id)?;
    db::upsert_tasks(&mut tx, b.id, &task_rows(children))?;
    db::clear_priority_data(&mut tx, b.package_id)?;
    let finished = info.completed().unwrap_or(now);
    db::finish_build(&mut tx, b.id, new_state, repo, info.created(), finished)?;
    let previous = db::previous_complete_state(&mut tx, b.package_id, b.id)?;
    let mut bump = failed_build_priority(&settings.priorities, new_state, previous);
    if deps_resolved == Some(false) {
        // The build resolver found its dependencies unresolvable while it ran: keep the
        // forced rebuild (the original lost it when clearing priorities on completion).
        bump = bump.max(settings.priorities.newly_added);
    }
    db::set_build_priority(&mut tx, b.package_id, bump)?;
    let new = db::package_state(&mut tx, b.package_id)?;
    let event = state_event(b.package_id, prev, new);
    if let Some(e) = &event {
        outbox::queue_package_change(
            &mut tx,
            settings.publication.as_ref(),
            e.package_id,
            e.prev,
            e.new,
        )?;
    }
    tx.commit().map_err(tx_err)?;
    report.finished += 1;
    report.events.extend(event);
    Ok(())
}

fn refresh_packages(
    client: &mut Client,
    koji: &dyn KojiApi,
    coll: &db::CollectionRow,
    report: &mut Report,
) -> Result<(), Error> {
    let listed = koji.list_packages(&coll.dest_tag)?;
    let mut tx = client.transaction().map_err(tx_err)?;
    let existing = db::collection_packages(&mut tx, coll.id)?;
    let (mut block, mut unblock, mut new) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = BTreeSet::new();
    for p in &listed {
        if !seen.insert(p.package_name.as_str()) {
            continue;
        }
        match existing.get(&p.package_name) {
            Some(&(id, blocked)) if blocked != p.blocked => {
                if p.blocked {
                    block.push(id);
                } else {
                    unblock.push(id);
                }
            }
            Some(_) => {}
            None => new.push((p.package_name.clone(), p.blocked)),
        }
    }
    db::set_blocked(&mut tx, &block, true)?;
    db::set_blocked(&mut tx, &unblock, false)?;
    db::insert_packages(&mut tx, coll.id, &new)?;
    tx.commit().map_err(tx_err)?;
    report.new_packages += new.len();
    Ok(())
}

/// Untagged builds (spec 5.2): builds newer than Koji's latest tagged build of their package
/// are marked untagged (the last build pointers move back); untagged builds with Koji's
/// current EVR are marked tagged again.
fn sync_untagged(
    client: &mut Client,
    coll: &db::CollectionRow,
    tagged: &[TaggedBuild],
) -> Result<(), Error> {
    let latest: HashMap<&str, Evr> = tagged
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                Evr::new(t.epoch, t.version.clone(), t.release.clone()),
            )
        })
        .collect();
    let targets = db::real_build_targets(client, coll.id)?;
    let mut packages: BTreeSet<crate::model::PackageId> =
        db::packages_with_untagged_builds(client, coll.id)?;
    let mut names: HashMap<crate::model::PackageId, &str> = HashMap::new();
    for (name, t) in &targets {
        names.insert(t.id, name.as_str());
        if let (Some(last), Some(koji)) = (&t.last_build, latest.get(name.as_str()))
            && last > koji
        {
            packages.insert(t.id);
        }
    }
    if packages.is_empty() {
        return Ok(());
    }
    let packages: Vec<_> = packages.into_iter().collect();
    let builds = db::build_evrs(client, &packages)?;
    let (mut untag, mut retag) = (Vec::new(), Vec::new());
    for b in builds {
        let Some(koji) = names.get(&b.package_id).and_then(|n| latest.get(n)) else {
            continue;
        };
        match b.evr.cmp(koji) {
            std::cmp::Ordering::Greater if !b.untagged => untag.push(b.id),
            std::cmp::Ordering::Equal if b.untagged => retag.push(b.id),
            _ => {}
        }
    }
    if untag.is_empty() && retag.is_empty() {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(tx_err)?;
    db::set_untagged(&mut tx, &untag, true)?;
    db::set_untagged(&mut tx, &retag, false)?;
    tx.commit().map_err(tx_err)?;
    Ok(())
}

fn refresh_latest_builds(
    client: &mut Client,
    koji: &dyn KojiApi,
    coll: &db::CollectionRow,
    package: Option<&str>,
    now: SystemTime,
    report: &mut Report,
) -> Result<(), Error> {
    let tagged = koji.latest_tagged_builds(&coll.dest_tag, package)?;
    sync_untagged(client, coll, &tagged)?;
    let known = db::real_build_task_ids(client, coll.id)?;
    let targets = db::real_build_targets(client, coll.id)?;
    let mut new = Vec::new();
    for t in &tagged {
        let Some(task) = t.task_id else { continue };
        let state = match t.state {
            KojiBuildState::Complete => BuildState::Complete,
            KojiBuildState::Failed => BuildState::Failed,
            _ => continue,
        };
        if known.contains(&task) {
            continue;
        }
        let Some(target) = targets.get(&t.name) else {
            continue;
        };
        if !target.tracked && !coll.poll_untracked {
            continue;
        }
        let evr = Evr::new(t.epoch, t.version.clone(), t.release.clone());
        if target.last_build.as_ref().is_some_and(|last| evr <= *last) {
            continue;
        }
        new.push((target.id, task, state, evr));
    }
    if new.is_empty() {
        return Ok(());
    }
    let tasks: Vec<KojiTaskId> = new.iter().map(|n| n.1).collect();
    let infos = koji.task_info(&tasks)?;
    let children = koji.task_children(&tasks)?;
    let mut tx = client.transaction().map_err(tx_err)?;
    let mut touched = HashMap::new();
    for (((package, task, state, evr), info), children) in new.into_iter().zip(infos).zip(children)
    {
        let Some(repo) = repo_of(&children) else {
            tracing::info!(task = task.0, "real build without repo, ignored");
            continue;
        };
        let started = info.as_ref().map_or(now, TaskInfo::created);
        let finished = info.as_ref().and_then(TaskInfo::completed).or(Some(now));
        let build = NewBuild {
            package_id: package,
            state,
            task_id: task,
            started,
            finished,
            evr: Some(evr),
            repo_id: Some(repo),
            real: true,
        };
        if let Some(id) = db::insert_build(&mut tx, &build)? {
            db::upsert_tasks(&mut tx, id, &task_rows(&children))?;
            touched.insert(package, ());
            report.real_builds += 1;
        }
    }
    for package in touched.keys() {
        db::clear_priority_data(&mut tx, *package)?;
    }
    tx.commit().map_err(tx_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::koji::Struct;
    use crate::model::{BuildId, PackageId, RepoId};

    fn reservation(repo: Option<i32>) -> db::PendingReservation {
        db::PendingReservation {
            id: BuildId(1),
            package_id: PackageId(1),
            name: "foo".into(),
            version: "1.0".into(),
            release: "1.fc40".into(),
            started: SystemTime::UNIX_EPOCH,
            target: "f40".into(),
            repo_id: repo.map(RepoId),
        }
    }

    fn task(method: &str, parent: Option<i32>, request: Option<Vec<Value>>) -> TaskInfo {
        TaskInfo {
            id: KojiTaskId(5),
            method: method.into(),
            state: TaskState::Free,
            arch: "noarch".into(),
            label: None,
            parent: parent.map(KojiTaskId),
            priority: None,
            create_ts: None,
            start_ts: None,
            completion_ts: None,
            host_id: None,
            request,
        }
    }

    fn request(src: &str, target: Option<&str>, repo: Option<i64>) -> Option<Vec<Value>> {
        let mut opts = Struct::new();
        opts.insert("scratch".into(), Value::Bool(true));
        if let Some(r) = repo {
            opts.insert("repo_id".into(), Value::Int(r));
        }
        Some(vec![
            Value::from(src),
            Value::from(target),
            Value::Struct(opts),
        ])
    }

    #[test]
    fn a_task_is_the_reservations_when_srpm_and_target_or_repo_match() {
        let src = "../packages/foo/1.0/1.fc40/src/foo-1.0-1.fc40.src.rpm";
        let r = reservation(None);
        let cases = [
            (task("build", None, request(src, Some("f40"), None)), true),
            (
                task(
                    "build",
                    None,
                    request("foo-1.0-1.fc40.src.rpm", Some("f40"), None),
                ),
                true,
            ),
            (task("build", None, request(src, Some("f41"), None)), false),
            (
                task(
                    "build",
                    None,
                    request(
                        "../packages/foo/1.0/2.fc40/src/foo-1.0-2.fc40.src.rpm",
                        Some("f40"),
                        None,
                    ),
                ),
                false,
            ),
            (
                task(
                    "build",
                    None,
                    request("x/foo-bar-1.0-1.fc40.src.rpm", Some("f40"), None),
                ),
                false,
            ),
            (task("build", None, request(src, None, Some(7))), false),
            (
                task("build", Some(4), request(src, Some("f40"), None)),
                false,
            ),
            (
                task("buildArch", None, request(src, Some("f40"), None)),
                false,
            ),
            (task("build", None, None), false),
        ];
        for (i, (t, want)) in cases.iter().enumerate() {
            assert_eq!(is_task_of(t, &r), *want, "case {i}: {:?}", t.request);
        }
        let from_repo = reservation(Some(7));
        assert!(is_task_of(
            &task("build", None, request(src, None, Some(7))),
            &from_repo
        ));
        assert!(!is_task_of(
            &task("build", None, request(src, None, Some(8))),
            &from_repo
        ));
        assert!(!is_task_of(
            &task("build", None, request(src, Some("f40"), Some(7))),
            &from_repo
        ));
    }

    #[test]
    fn times_move_to_the_hubs_clock() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        // The hub is 100 s ahead, then 100 s behind.
        assert_eq!(on_hub_clock(at(1000), at(2100), at(2000)), at(1100));
        assert_eq!(on_hub_clock(at(1000), at(1900), at(2000)), at(900));
        assert_eq!(on_hub_clock(at(50), at(0), at(2000)), at(0));
    }
}
