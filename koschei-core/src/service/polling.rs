//! The polling pass (spec sections 4.4, 5.1, 5.2): sync running builds with Koji, refresh
//! package lists and blocked flags, register new real builds, refresh statistics.

use std::collections::{BTreeSet, HashMap};
use std::time::SystemTime;

use postgres::Client;

use super::{Error, Settings, StateChange, state_event, tx_err};
use crate::db::engine::{self as db, LockSpace, NewBuild, TaskRow};
use crate::db::outbox;
use crate::koji::{KojiApi, KojiBuildState, KojiError, TaggedBuild, TaskInfo};
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
    let builds = db::running_builds(client)?;
    let mut submitted = Vec::new();
    for b in builds {
        if only.is_some_and(|tasks| !tasks.contains(&b.task_id)) {
            continue;
        }
        if b.task_id == db::RESERVED_TASK {
            let age = now.duration_since(b.started).unwrap_or_default();
            if age > settings.orphan_timeout {
                let msg = format!(
                    "Removing build reservation {} without a Koji task (submission outcome unknown)",
                    b.id
                );
                tracing::warn!(build = b.id.0, "{msg}");
                let mut tx = client.transaction().map_err(tx_err)?;
                db::delete_build(&mut tx, b.id)?;
                db::log_backend(&mut tx, &msg, Some(b.package_id))?;
                tx.commit().map_err(tx_err)?;
                report.deleted += 1;
            }
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
