//! The scheduler pass (spec section 4.2): submit at most one scratch build.

use std::collections::HashMap;
use std::time::SystemTime;

use postgres::Client;

use super::{Error, Settings, tx_err};
use crate::db::engine::{self as db, LockSpace};
use crate::koji::{KojiApi, KojiError, ScratchBuild};
use crate::model::{BuildId, CollectionId, Evr, KojiTaskId, PackageId};
use crate::priority::{Priorities, breakdown};
use crate::schedule::{ArchDecision, Candidate, candidates_to_try, decide_arches, koji_load};

/// What one scheduler pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Another scheduler pass holds the lock.
    Locked,
    /// `max_builds` builds are running.
    AtCapacity,
    /// No package reaches the threshold (or every candidate was skipped).
    NothingToDo,
    /// Koji is over the load threshold.
    KojiBusy,
    /// A build was submitted.
    Submitted {
        /// The package.
        package_id: PackageId,
        /// Its name.
        package: String,
        /// Its collection's name.
        collection: String,
        /// The new build row.
        build_id: BuildId,
        /// Its Koji task.
        task_id: KojiTaskId,
    },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Locked => f.write_str("skipped (another scheduler pass holds the lock)"),
            Outcome::AtCapacity => f.write_str("nothing submitted: max_builds builds are running"),
            Outcome::NothingToDo => {
                f.write_str("nothing submitted: no package reaches the priority threshold")
            }
            Outcome::KojiBusy => f.write_str("nothing submitted: Koji is over the load threshold"),
            Outcome::Submitted {
                package,
                collection,
                build_id,
                task_id,
                ..
            } => write!(
                f,
                "submitted a scratch build of {package} in {collection} (build {}, Koji task {})",
                build_id.0, task_id.0
            ),
        }
    }
}

/// Runs one scheduler pass at time `now`.
pub fn run_once(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    now: SystemTime,
) -> Result<Outcome, Error> {
    if !db::try_lock(client, LockSpace::Scheduler, 0)? {
        return Ok(Outcome::Locked);
    }
    let result = pass(client, koji, settings, now);
    let unlocked = db::unlock(client, LockSpace::Scheduler, 0);
    let outcome = result?;
    unlocked?;
    Ok(outcome)
}

fn pass(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    now: SystemTime,
) -> Result<Outcome, Error> {
    // Load.
    let running = db::running_build_count(client)?;
    if running >= settings.max_builds {
        return Ok(Outcome::AtCapacity);
    }
    let rows = db::schedule_rows(client)?;
    // Compute.
    let threshold = f64::from(settings.priorities.build_threshold);
    let candidates = candidates(&rows, &settings.priorities, now);
    let picked = candidates_to_try(
        usize::try_from(running).unwrap_or(usize::MAX),
        usize::try_from(settings.max_builds).unwrap_or(0),
        &candidates,
        threshold,
    );
    if picked.is_empty() {
        return Ok(Outcome::NothingToDo);
    }
    let by_id: HashMap<PackageId, &db::ScheduleRow> =
        rows.iter().map(|r| (r.package_id, r)).collect();
    let collections: HashMap<CollectionId, db::CollectionRow> = db::collections(client)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut tag_arches: HashMap<String, Vec<String>> = HashMap::new();
    for cand in picked {
        let (Some(row), Some(coll)) = (
            by_id.get(&cand.package_id),
            by_id
                .get(&cand.package_id)
                .and_then(|r| collections.get(&r.collection_id)),
        ) else {
            continue;
        };
        let target = Target {
            package_id: row.package_id,
            last_build_id: row.last_build_id,
            require_tracked: true,
            check_load: true,
        };
        match try_package(client, koji, settings, coll, &target, &mut tag_arches, now)? {
            Attempt::Submitted {
                package,
                build_id,
                task_id,
            } => {
                return Ok(Outcome::Submitted {
                    package_id: row.package_id,
                    package,
                    collection: coll.name.clone(),
                    build_id,
                    task_id,
                });
            }
            Attempt::KojiBusy => return Ok(Outcome::KojiBusy),
            Attempt::Skipped(_) => continue,
        }
    }
    Ok(Outcome::NothingToDo)
}

/// The packages of `rows` that have a current priority at `now`, with it: each priority is
/// [`breakdown`]'s, the computation that explains a package's priority.
pub fn candidates(
    rows: &[db::ScheduleRow],
    priorities: &Priorities,
    now: SystemTime,
) -> Vec<Candidate> {
    rows.iter()
        .filter_map(|r| {
            breakdown(&r.input, priorities, now)
                .priority
                .ok()
                .map(|priority| Candidate {
                    package_id: r.package_id,
                    priority,
                })
        })
        .collect()
}

/// A package to try to submit.
struct Target {
    package_id: PackageId,
    last_build_id: Option<BuildId>,
    require_tracked: bool,
    check_load: bool,
}

/// What happened to one package.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attempt {
    /// Submitted.
    Submitted {
        /// The package's name.
        package: String,
        /// The new build row.
        build_id: BuildId,
        /// Its Koji task.
        task_id: KojiTaskId,
    },
    /// Not submitted, for this reason.
    Skipped(&'static str),
    /// Koji is over the load threshold.
    KojiBusy,
}

fn try_package(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    coll: &db::CollectionRow,
    target: &Target,
    tag_arches: &mut HashMap<String, Vec<String>>,
    now: SystemTime,
) -> Result<Attempt, Error> {
    let Some((name, arch_override)) = db::package_name_and_override(client, target.package_id)?
    else {
        return Ok(Attempt::Skipped("package not found"));
    };
    let (Some(repo), Some(true)) = (coll.latest_repo_id, coll.latest_repo_resolved) else {
        return Ok(Attempt::Skipped("base buildroot not resolved"));
    };
    let all_arches = match tag_arches.get(&coll.build_tag) {
        Some(a) => a.clone(),
        None => {
            let a = koji.build_arches(&coll.build_tag)?;
            tag_arches.insert(coll.build_tag.clone(), a.clone());
            a
        }
    };
    let srpm = koji.latest_srpm(&coll.dest_tag, &name)?;
    let headers = match &srpm {
        Some(s) => koji.srpm_arch_headers(&s.nvr)?,
        None => None,
    };
    let (decision, arches) = decide_arches(
        &all_arches,
        headers.as_ref(),
        arch_override.as_deref(),
        &settings.build_arches,
    );
    let arch_override = match decision {
        ArchDecision::NoSrpm => {
            tracing::info!(package = %name, collection = %coll.name, "no suitable SRPM, retrying after the next polling pass");
            db::set_skip_reason(client, target.package_id, 1)?;
            return Ok(Attempt::Skipped("no suitable SRPM"));
        }
        ArchDecision::NoArch => {
            tracing::info!(package = %name, collection = %coll.name, "no allowed build arch");
            db::set_skip_reason(client, target.package_id, 2)?;
            return Ok(Attempt::Skipped("no build architecture allowed"));
        }
        ArchDecision::Build { arch_override } => arch_override,
    };
    let Some(srpm) = srpm else {
        return Ok(Attempt::Skipped("no suitable SRPM"));
    };
    if target.check_load && settings.load_threshold < 1.0 {
        let hosts = koji.hosts(&arches)?;
        let load = koji_load(&all_arches, &arches, &hosts);
        if load > settings.load_threshold {
            tracing::info!(load, "koji is busy, not submitting");
            return Ok(Attempt::KojiBusy);
        }
    }
    let evr = Evr::new(
        srpm.epoch,
        srpm.nvr.version.clone(),
        srpm.nvr.release.clone(),
    );
    let request = ScratchBuild {
        srpm_url: srpm.url.clone(),
        target: (!settings.build_from_repo_id).then(|| coll.target.clone()),
        arch_override,
        repo_id: settings.build_from_repo_id.then_some(repo),
        priority: settings.task_priority,
    };
    let build_repo = settings.build_from_repo_id.then_some(repo);
    match submit(
        client, koji, settings, target, &name, &evr, build_repo, &request, now,
    )? {
        Ok((build_id, task_id)) => {
            tracing::info!(package = %name, collection = %coll.name, task = task_id.0, "submitted scratch build");
            Ok(Attempt::Submitted {
                package: name,
                build_id,
                task_id,
            })
        }
        Err(why) => Ok(Attempt::Skipped(why)),
    }
}

/// Submits a scratch build of one package now, without priority or load checks (the admin
/// `submit-build` command): arches as the scheduler computes them, the same reservation, so
/// it never races with a scheduler pass.
pub fn submit_package(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    package: PackageId,
    now: SystemTime,
) -> Result<Attempt, Error> {
    let Some((coll, last_build_id)) = db::package_collection(client, package)? else {
        return Ok(Attempt::Skipped("package not found"));
    };
    let Some(coll) = db::collection(client, coll)? else {
        return Ok(Attempt::Skipped("package not found"));
    };
    let target = Target {
        package_id: package,
        last_build_id,
        require_tracked: false,
        check_load: false,
    };
    try_package(
        client,
        koji,
        settings,
        &coll,
        &target,
        &mut HashMap::new(),
        now,
    )
}

/// Reserve in a transaction, call Koji outside it, confirm in a second transaction.
#[allow(clippy::too_many_arguments)]
fn submit(
    client: &mut Client,
    koji: &dyn KojiApi,
    settings: &Settings,
    target: &Target,
    name: &str,
    evr: &Evr,
    repo: Option<crate::model::RepoId>,
    request: &ScratchBuild,
    now: SystemTime,
) -> Result<Result<(BuildId, KojiTaskId), &'static str>, Error> {
    let mut tx = client.transaction().map_err(tx_err)?;
    let reserved = db::reserve_submission(
        &mut tx,
        &db::Reservation {
            package: target.package_id,
            expected_last_build: target.last_build_id,
            require_tracked: target.require_tracked,
            max_builds: settings.max_builds,
            evr,
            repo,
            now,
        },
    )?;
    tx.commit().map_err(tx_err)?;
    let build_id = match reserved {
        db::Reserve::Reserved(id) => id,
        other => {
            tracing::info!(package = %name, outcome = ?other, "not submitting");
            return Ok(Err(match other {
                db::Reserve::RunningBuild => "has a running build",
                db::Reserve::Changed => "its last build changed meanwhile",
                db::Reserve::AtCapacity => "too many running builds",
                _ => "blocked or not tracked",
            }));
        }
    };
    match koji.submit_scratch_build(request) {
        Ok(task) => {
            let mut tx = client.transaction().map_err(tx_err)?;
            db::confirm_submission(&mut tx, build_id, task)?;
            tx.commit().map_err(tx_err)?;
            Ok(Ok((build_id, task)))
        }
        Err(
            e @ (KojiError::Fault { .. }
            | KojiError::Interrupted {
                maybe_done: false, ..
            }),
        ) => {
            // Koji refused, or the call was given up on a stop request before it could reach
            // the hub: nothing was submitted, drop the reservation.
            db::delete_build(client, build_id)?;
            Err(e.into())
        }
        Err(e) => {
            tracing::warn!(package = %name, build = build_id.0, "submission outcome unknown, keeping the reservation");
            Err(e.into())
        }
    }
}
