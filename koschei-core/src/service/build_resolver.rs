//! The build resolver pass (spec section 3.7): resolve each build in the repo it ran in,
//! store its installed dependency set and the changes applied since the previous resolved
//! build of the package.
//!
//! Difference from the original (#168, #338): when a build's repo is already gone from Koji,
//! the build is resolved in the collection's latest resolved repo instead of being marked
//! unresolvable, so its package keeps a dependency set and later dependency changes are not
//! lost. Only when no repo is usable is the build marked unresolvable (and its package forced
//! to rebuild with `newly_added` priority).

use std::collections::BTreeMap;
use std::time::SystemTime;

use postgres::Client;

use super::{Error, Settings, tx_err};
use crate::db::engine::{self as db, ChangeRow, LockSpace};
use crate::koji::{KojiApi, SrpmNvr};
use crate::model::{CollectionId, Nevra, RepoId};
use crate::resolve::{
    RepoDescriptor, Resolution, ResolveError, Resolver, dependency_changes, install_nevras,
};

/// What one build resolver pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Repos skipped because another pass holds their lock.
    pub locked: usize,
    /// Builds whose dependencies were stored.
    pub resolved: usize,
    /// Builds marked unresolvable.
    pub unresolved: usize,
    /// Builds resolved in the collection's latest repo because theirs was gone.
    pub fallback: usize,
}

/// Runs one build resolver pass.
pub fn run_once(
    client: &mut Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    _now: SystemTime,
) -> Result<Report, Error> {
    let mut report = Report::default();
    let builds = db::unprocessed_builds(client)?;
    let mut groups: BTreeMap<(CollectionId, RepoId), Vec<db::UnprocessedBuild>> = BTreeMap::new();
    for b in builds {
        groups
            .entry((b.collection_id, b.repo_id))
            .or_default()
            .push(b);
    }
    for ((coll, repo), builds) in groups {
        if !db::try_lock(client, LockSpace::BuildResolver, repo.0)? {
            report.locked += 1;
            continue;
        }
        let result = process_group(
            client,
            koji,
            resolver,
            settings,
            coll,
            repo,
            &builds,
            &mut report,
        );
        let unlocked = db::unlock(client, LockSpace::BuildResolver, repo.0);
        result?;
        unlocked?;
    }
    Ok(report)
}

/// The repo to resolve in and its build group, `None` when nothing is usable.
fn pick_repo(
    koji: &dyn KojiApi,
    coll: &db::CollectionRow,
    repo: RepoId,
) -> Result<Option<(RepoDescriptor, Vec<String>, bool)>, Error> {
    let mut tries = vec![(repo, false)];
    if let (Some(latest), Some(true)) = (coll.latest_repo_id, coll.latest_repo_resolved)
        && latest != repo
    {
        tries.push((latest, true));
    }
    for (repo_id, fallback) in tries {
        let Some(info) = koji.repo_info(repo_id)?.filter(|i| i.is_usable()) else {
            tracing::info!(repo = repo_id.0, "repo is dead");
            continue;
        };
        let Some(group) =
            koji.build_group(&coll.build_tag, &coll.build_group, info.create_event)?
        else {
            tracing::info!(repo = repo_id.0, group = %coll.build_group, "build group not found");
            continue;
        };
        let desc = RepoDescriptor {
            build_tag: coll.build_tag.clone(),
            repo_id,
        };
        return Ok(Some((desc, group, fallback)));
    }
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
fn process_group(
    client: &mut Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    coll: CollectionId,
    repo: RepoId,
    builds: &[db::UnprocessedBuild],
    report: &mut Report,
) -> Result<(), Error> {
    let Some(coll) = db::collection(client, coll)? else {
        return Ok(());
    };
    let bump = settings.priorities.newly_added;
    let Some((desc, group, fallback)) = pick_repo(koji, &coll, repo)? else {
        let mut tx = client.transaction().map_err(tx_err)?;
        for b in builds {
            db::set_build_deps_unresolved(&mut tx, b.id, bump)?;
            report.unresolved += 1;
        }
        tx.commit().map_err(tx_err)?;
        return Ok(());
    };
    let nvrs: Vec<SrpmNvr> = builds
        .iter()
        .map(|b| SrpmNvr {
            name: b.name.clone(),
            version: b.version.clone(),
            release: b.release.clone(),
        })
        .collect();
    // One multicall: the client splits it into `multicall_chunk_size` chunks.
    let deps = koji.rpm_requires(&nvrs)?;
    let mut todo = Vec::new();
    let mut brs = Vec::new();
    for (b, d) in builds.iter().zip(deps) {
        match d {
            Some(d) => {
                todo.push(b);
                brs.push(d);
            }
            None => {
                // Koji has no SRPM for this NVR: it can never be resolved.
                let mut tx = client.transaction().map_err(tx_err)?;
                db::set_build_deps_unresolved(&mut tx, b.id, bump)?;
                tx.commit().map_err(tx_err)?;
                report.unresolved += 1;
            }
        }
    }
    let results = match resolver.resolve_many(&desc, &group, &brs) {
        Ok(r) => r,
        Err(ResolveError::RepoUnavailable { .. }) => {
            tracing::warn!(repo = desc.repo_id.0, "repo not available, retrying later");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    for (b, res) in todo.into_iter().zip(results) {
        persist_build(client, settings, b, &res, report)?;
        if fallback && res.resolved {
            report.fallback += 1;
        }
    }
    Ok(())
}

fn persist_build(
    client: &mut Client,
    settings: &Settings,
    b: &db::UnprocessedBuild,
    res: &Resolution,
    report: &mut Report,
) -> Result<(), Error> {
    let mut tx = client.transaction().map_err(tx_err)?;
    if !res.resolved {
        db::set_build_deps_unresolved(&mut tx, b.id, settings.priorities.newly_added)?;
        tx.commit().map_err(tx_err)?;
        report.unresolved += 1;
        return Ok(());
    }
    let installs: Vec<Nevra> = install_nevras(res);
    let ids = db::dependency_ids(&mut tx, &installs)?;
    if !db::set_build_deps_resolved(&mut tx, b.id, &ids)? {
        return Ok(());
    }
    if let Some(prev) = db::previous_resolved_build(&mut tx, b.package_id, b.id, b.started)? {
        let prev_deps = db::build_dependencies(&mut tx, &[prev])?;
        if let Some(old) = prev_deps.get(&prev) {
            let old_nevras: Vec<Nevra> = old.iter().map(|(_, n)| n.clone()).collect();
            let changes = dependency_changes(&old_nevras, &res.installs);
            let id_of = |n: &Option<Nevra>| -> Option<crate::model::DependencyId> {
                let n = n.as_ref()?;
                installs
                    .iter()
                    .position(|i| same(i, n))
                    .and_then(|p| ids.get(p).copied())
                    .or_else(|| old.iter().find(|(_, o)| same(o, n)).map(|(id, _)| *id))
            };
            let rows: Vec<ChangeRow> = changes
                .iter()
                .map(|c| ChangeRow {
                    prev: id_of(&c.prev),
                    curr: id_of(&c.curr),
                    distance: c.distance,
                })
                .collect();
            db::insert_applied_changes(&mut tx, b.id, &rows)?;
            db::clear_build_deps(&mut tx, prev)?;
        }
    }
    tx.commit().map_err(tx_err)?;
    report.resolved += 1;
    Ok(())
}

/// NEVRA equality with a missing epoch equal to 0.
fn same(a: &Nevra, b: &Nevra) -> bool {
    a.name == b.name
        && a.arch == b.arch
        && a.evr.epoch.unwrap_or(0) == b.evr.epoch.unwrap_or(0)
        && a.evr.version == b.evr.version
        && a.evr.release == b.evr.release
}
