//! The scheduler pass (spec section 4.2): submit at most one scratch build.

use std::collections::HashMap;
use std::time::SystemTime;

use postgres::Client;

use super::koji_port::{KojiError, KojiPort, ScratchBuild};
use super::{Error, Settings, tx_err};
use crate::db::engine::{self as db, LockSpace};
use crate::model::{BuildId, CollectionId, Evr, KojiTaskId, PackageId};
use crate::priority::current_priority;
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
        /// The new build row.
        build_id: BuildId,
        /// Its Koji task.
        task_id: KojiTaskId,
    },
}

/// Runs one scheduler pass at time `now`.
pub fn run_once(
    client: &mut Client,
    koji: &dyn KojiPort,
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
    koji: &dyn KojiPort,
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
    let candidates: Vec<Candidate> = rows
        .iter()
        .filter_map(|r| {
            current_priority(&r.input, &settings.priorities, now)
                .ok()
                .map(|priority| Candidate {
                    package_id: r.package_id,
                    priority,
                })
        })
        .collect();
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
        let Some((name, arch_override)) = db::package_name_and_override(client, row.package_id)?
        else {
            continue;
        };
        let Some(repo) = coll.latest_repo_id else {
            continue;
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
        match decision {
            ArchDecision::NoSrpm => {
                tracing::info!(package = %name, collection = %coll.name, "no suitable SRPM, retrying after the next polling pass");
                db::set_skip_reason(client, row.package_id, 1)?;
                continue;
            }
            ArchDecision::NoArch => {
                tracing::info!(package = %name, collection = %coll.name, "no allowed build arch");
                db::set_skip_reason(client, row.package_id, 2)?;
                continue;
            }
            ArchDecision::Build { arch_override } => {
                let Some(srpm) = srpm else { continue };
                if settings.load_threshold < 1.0 {
                    let hosts = koji.hosts(&arches)?;
                    let load = koji_load(&all_arches, &arches, &hosts);
                    if load > settings.load_threshold {
                        tracing::info!(load, "koji is busy, not submitting");
                        return Ok(Outcome::KojiBusy);
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
                    client, koji, settings, row, &name, &evr, build_repo, &request, now,
                )? {
                    Some((build_id, task_id)) => {
                        tracing::info!(package = %name, collection = %coll.name, task = task_id.0, "submitted scratch build");
                        return Ok(Outcome::Submitted {
                            package_id: row.package_id,
                            build_id,
                            task_id,
                        });
                    }
                    None => continue,
                }
            }
        }
    }
    Ok(Outcome::NothingToDo)
}

/// Reserve in a transaction, call Koji outside it, confirm in a second transaction.
#[allow(clippy::too_many_arguments)]
fn submit(
    client: &mut Client,
    koji: &dyn KojiPort,
    settings: &Settings,
    row: &db::ScheduleRow,
    name: &str,
    evr: &Evr,
    repo: Option<crate::model::RepoId>,
    request: &ScratchBuild,
    now: SystemTime,
) -> Result<Option<(BuildId, KojiTaskId)>, Error> {
    let mut tx = client.transaction().map_err(tx_err)?;
    let reserved = db::reserve_submission(
        &mut tx,
        row.package_id,
        row.last_build_id,
        settings.max_builds,
        evr,
        repo,
        now,
    )?;
    tx.commit().map_err(tx_err)?;
    let Some(build_id) = reserved else {
        tracing::info!(package = %name, "package changed meanwhile, not submitting");
        return Ok(None);
    };
    match koji.submit_scratch_build(request) {
        Ok(task) => {
            let mut tx = client.transaction().map_err(tx_err)?;
            db::confirm_submission(&mut tx, build_id, task)?;
            tx.commit().map_err(tx_err)?;
            Ok(Some((build_id, task)))
        }
        Err(e @ KojiError::Fault { .. }) => {
            // Koji refused: nothing was submitted, drop the reservation.
            db::delete_build(client, build_id)?;
            Err(e.into())
        }
        Err(e) => {
            tracing::warn!(package = %name, build = build_id.0, "submission outcome unknown, keeping the reservation");
            Err(e.into())
        }
    }
}
