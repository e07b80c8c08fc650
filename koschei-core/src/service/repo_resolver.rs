//! The repo resolver pass (spec section 3.6): on a new repo of a collection's build tag,
//! resolve the base buildroot, then every eligible package; store unapplied dependency
//! changes, dependency priority and resolution history. Without a new repo, resolve in the
//! latest repo the packages never resolved there (newly tracked ones) and those whose
//! comparison build is not the build their unapplied changes were computed against
//! (`package.changes_build_id`), e.g. a build that completed around the new repo and whose
//! dependencies the build resolver stored afterwards (docs/engine.md, "Unapplied changes
//! after any order of events").
//!
//! Differences from the original (spec section 12):
//! * the collection's `latest_repo_id` moves to a resolved repo only after all its packages
//!   are persisted, so a crash or a Koji error in the middle makes the next pass redo the
//!   repo instead of silently skipping its dependency changes;
//! * a result dropped because the package's last build changed during resolution sets
//!   `resolved` to NULL, so the next pass resolves the package again instead of leaving it
//!   without changes until the next repo;
//! * a dead repo is logged and retried, not a crash;
//! * a resolution history row is written only when the resolved flag or the problem set
//!   differs from the package's last recorded row: the original compared the flag with the
//!   package's current `resolved`, so a result dropped mid-pass (NULL) and resolved again
//!   recorded a second, identical `resolved = true` row.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime};

use postgres::Client;

use super::{Error, Settings, StateChange, state_event, tx_err};
use crate::db::engine::{self as db, ChangeRow, LockSpace};
use crate::db::outbox;
use crate::koji::{KojiApi, SrpmNvr};
use crate::model::{BuildId, CollectionState, DependencyId, Nevra, PackageId, PackageState};
use crate::priority::dependency_priority;
use crate::resolve::{
    DependencyChange, RepoDescriptor, Resolution, ResolveError, Resolver, dependency_changes,
};

/// What one repo resolver pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Collections skipped because another pass holds their lock.
    pub locked: usize,
    /// Collections whose new repo was processed.
    pub new_repos: usize,
    /// Package results persisted.
    pub resolved_packages: usize,
    /// Package state changes.
    pub events: Vec<StateChange>,
    /// Collection state changes (collection name, old, new).
    pub collection_events: Vec<(String, &'static str, &'static str)>,
    /// Where the time went.
    pub timings: Timings,
}

/// Time spent per phase of package resolution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Loading BuildRequires from Koji.
    pub koji: Duration,
    /// In the resolver.
    pub resolve: Duration,
    /// Loading comparison sets and computing changes.
    pub compare: Duration,
    /// Persisting results.
    pub persist: Duration,
}

/// Runs one repo resolver pass.
pub fn run_once(
    client: &mut Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    _now: SystemTime,
) -> Result<Report, Error> {
    let mut report = Report::default();
    for coll in db::collections(client)? {
        if !db::try_lock(client, LockSpace::RepoResolver, coll.id.0)? {
            report.locked += 1;
            continue;
        }
        let result = process_collection(client, koji, resolver, settings, &coll, &mut report);
        let unlocked = db::unlock(client, LockSpace::RepoResolver, coll.id.0);
        result?;
        unlocked?;
    }
    Ok(report)
}

fn process_collection(
    client: &mut Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    coll: &db::CollectionRow,
    report: &mut Report,
) -> Result<(), Error> {
    // Re-read under the lock: another pass may have moved the repo.
    let Some(coll) = db::collection(client, coll.id)? else {
        return Ok(());
    };
    let latest = koji.latest_repo(&coll.build_tag)?;
    let is_new = latest.is_some_and(|r| coll.latest_repo_id.is_none_or(|l| r.0 > l.0));
    if !is_new {
        if let (Some(repo), Some(true)) = (coll.latest_repo_id, coll.latest_repo_resolved) {
            let desc = RepoDescriptor {
                build_tag: coll.build_tag.clone(),
                repo_id: repo,
            };
            if let Some(info) = usable_repo(koji, &desc)? {
                let group = koji
                    .build_group(&coll.build_tag, &coll.build_group, info)?
                    .unwrap_or_default();
                resolve_packages(
                    client, koji, resolver, settings, &coll, &desc, &group, true, report,
                )?;
            }
        }
        return Ok(());
    }
    let Some(repo) = latest else { return Ok(()) };
    let desc = RepoDescriptor {
        build_tag: coll.build_tag.clone(),
        repo_id: repo,
    };
    let Some(event) = usable_repo(koji, &desc)? else {
        return Ok(());
    };
    let group = koji.build_group(&coll.build_tag, &coll.build_group, event)?;
    let buildroot = match &group {
        Some(group) => match resolver.resolve_buildroot(&desc, group) {
            Ok(r) => r,
            Err(ResolveError::RepoUnavailable { .. }) => {
                tracing::warn!(collection = %coll.name, repo = repo.0, "repo not available, retrying later");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        },
        None => Resolution {
            resolved: false,
            installs: Vec::new(),
            problems: BTreeSet::from([format!("build group `{}` not found", coll.build_group)]),
        },
    };
    report.new_repos += 1;
    let old_state = CollectionState::from_resolved(coll.latest_repo_resolved).as_str();
    if buildroot.resolved {
        let group = group.unwrap_or_default();
        let done = resolve_packages(
            client, koji, resolver, settings, &coll, &desc, &group, false, report,
        )?;
        if !done {
            return Ok(());
        }
    }
    let new_state = CollectionState::from_resolved(Some(buildroot.resolved)).as_str();
    let mut tx = client.transaction().map_err(tx_err)?;
    db::set_collection_repo(
        &mut tx,
        coll.id,
        repo,
        buildroot.resolved,
        &buildroot.problems,
    )?;
    outbox::queue_collection_change(
        &mut tx,
        settings.publication.as_ref(),
        coll.id,
        old_state,
        new_state,
    )?;
    tx.commit().map_err(tx_err)?;
    tracing::info!(collection = %coll.name, repo = repo.0, state = new_state, "new repo processed");
    if old_state != new_state {
        report
            .collection_events
            .push((coll.name.clone(), old_state, new_state));
    }
    Ok(())
}

/// The create event of a usable repo, `None` (logged) when the repo is dead.
fn usable_repo(
    koji: &dyn KojiApi,
    desc: &RepoDescriptor,
) -> Result<Option<crate::model::KojiEventId>, Error> {
    match koji.repo_info(desc.repo_id)? {
        Some(info) if info.is_usable() => Ok(Some(info.create_event)),
        _ => {
            tracing::warn!(repo = desc.repo_id.0, tag = %desc.build_tag, "repo is dead");
            Ok(None)
        }
    }
}

/// One package's computed result, ready to persist.
struct Computed {
    package_id: PackageId,
    last_build_id: Option<BuildId>,
    /// The build the changes were computed against.
    comparison_build: Option<BuildId>,
    resolved: bool,
    problems: BTreeSet<String>,
    changes: Vec<DependencyChange>,
    dependency_priority: i32,
}

/// Pure step: changes and dependency priority of one resolution against its comparison set.
fn compute(
    settings: &Settings,
    cand: &db::ResolveCandidate,
    resolution: Resolution,
    comparison: Option<&[&Nevra]>,
) -> Computed {
    let changes = match (resolution.resolved, comparison) {
        (true, Some(old)) => dependency_changes(old.iter().copied(), &resolution.installs),
        _ => Vec::new(),
    };
    let priority = dependency_priority(&settings.priorities, changes.iter().map(|c| c.distance));
    Computed {
        package_id: cand.package_id,
        last_build_id: cand.last_build_id,
        comparison_build: cand.comparison_build,
        resolved: resolution.resolved,
        problems: resolution.problems,
        changes,
        dependency_priority: priority,
    }
}

/// NEVRAs of `dependency` rows met during one pass (the original's dependency cache):
/// most packages share most of their dependencies, so each row is read once.
/// NEVRAs are kept with their epoch written, as the diff returns them.
#[derive(Debug, Default)]
struct DependencyCache {
    nevras: HashMap<DependencyId, Nevra>,
    ids: HashMap<Nevra, DependencyId>,
}

impl DependencyCache {
    fn load(&mut self, client: &mut Client, ids: &[DependencyId]) -> Result<(), Error> {
        let missing: BTreeSet<DependencyId> = ids
            .iter()
            .filter(|id| !self.nevras.contains_key(id))
            .copied()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let missing: Vec<DependencyId> = missing.into_iter().collect();
        let rows = db::dependencies_by_id(client, &missing)?;
        self.insert(rows.into_iter().map(|(id, n)| (n, id)));
        Ok(())
    }

    fn insert(&mut self, rows: impl IntoIterator<Item = (Nevra, DependencyId)>) {
        for (mut n, id) in rows {
            n.evr.epoch = Some(n.evr.epoch.unwrap_or(0));
            self.ids.insert(n.clone(), id);
            self.nevras.insert(id, n);
        }
    }

    fn id(&self, n: &Nevra) -> Option<DependencyId> {
        self.ids.get(n).copied()
    }

    fn get(&self, id: DependencyId) -> Option<&Nevra> {
        self.nevras.get(&id)
    }
}

/// Whether a new result goes into the resolution history: only when the resolved flag or
/// the problem set differs from the package's last recorded row (or it has none). The
/// package's current `resolved` does not matter: it is NULL after a dropped result or a
/// reset, and NULL -> true is not a change of resolvability.
fn record_resolution_change(
    last_change: Option<&(bool, BTreeSet<String>)>,
    resolved: bool,
    problems: &BTreeSet<String>,
) -> bool {
    match last_change {
        None => true,
        Some((was, old)) => *was != resolved || old != problems,
    }
}

/// Resolves and persists the eligible packages (with `only_pending`, those whose result in
/// this repo is due: never resolved, or their comparison build changed); returns false when
/// the repo vanished.
#[allow(clippy::too_many_arguments)]
fn resolve_packages(
    client: &mut Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    coll: &db::CollectionRow,
    desc: &RepoDescriptor,
    group: &[String],
    only_pending: bool,
    report: &mut Report,
) -> Result<bool, Error> {
    let candidates = if only_pending {
        db::pending_resolve_candidates(client, coll.id)?
    } else {
        db::resolve_candidates(client, coll.id, false)?
    };
    let mut cache = DependencyCache::default();
    for chunk in candidates.chunks(settings.persist_chunk_size.max(1)) {
        let started = Instant::now();
        // Load: BuildRequires from Koji, comparison sets from the database.
        let nvrs: Vec<SrpmNvr> = chunk
            .iter()
            .map(|c| SrpmNvr {
                name: c.name.clone(),
                version: c.version.clone(),
                release: c.release.clone(),
            })
            .collect();
        // One multicall: the client splits it into `multicall_chunk_size` chunks.
        let deps = koji.rpm_requires(&nvrs)?;
        let mut todo = Vec::new();
        let mut brs = Vec::new();
        for (cand, d) in chunk.iter().zip(deps) {
            match d {
                Some(d) => {
                    todo.push(cand);
                    brs.push(d);
                }
                None => tracing::warn!(package = %cand.name, "no BuildRequires from koji, skipped"),
            }
        }
        report.timings.koji += started.elapsed();
        let started = Instant::now();
        let resolved = resolver.resolve_many(desc, group, &brs);
        report.timings.resolve += started.elapsed();
        let results = match resolved {
            Ok(r) => r,
            Err(ResolveError::RepoUnavailable { .. }) => {
                tracing::warn!(
                    repo = desc.repo_id.0,
                    "repo vanished during resolution, retrying later"
                );
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        let started = Instant::now();
        let comparison_ids: Vec<BuildId> = todo.iter().filter_map(|c| c.comparison_build).collect();
        let id_sets = db::build_dependency_id_sets(client, &comparison_ids)?;
        let wanted: Vec<DependencyId> = id_sets.values().flatten().copied().collect();
        cache.load(client, &wanted)?;
        // Compute.
        let computed: Vec<Computed> = todo
            .iter()
            .zip(results)
            .map(|(cand, res)| {
                let old: Option<Vec<&Nevra>> = cand
                    .comparison_build
                    .and_then(|b| id_sets.get(&b))
                    .map(|ids| ids.iter().filter_map(|id| cache.get(*id)).collect());
                compute(settings, cand, res, old.as_deref())
            })
            .collect();
        report.timings.compare += started.elapsed();
        // Persist.
        let started = Instant::now();
        persist(client, settings, &computed, &mut cache, report)?;
        report.timings.persist += started.elapsed();
    }
    Ok(true)
}

fn persist(
    client: &mut Client,
    settings: &Settings,
    computed: &[Computed],
    cache: &mut DependencyCache,
    report: &mut Report,
) -> Result<(), Error> {
    let mut tx = client.transaction().map_err(tx_err)?;
    let ids: Vec<PackageId> = computed.iter().map(|c| c.package_id).collect();
    let locked: HashMap<PackageId, db::LockedPackage> =
        db::lock_packages_for_resolution(&mut tx, &ids)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    // Dependency ids of the chunk's NEVRAs not met before, in one round trip.
    let unknown: BTreeSet<&Nevra> = computed
        .iter()
        .flat_map(|c| c.changes.iter())
        .flat_map(|ch| ch.prev.iter().chain(ch.curr.iter()))
        .filter(|n| cache.id(n).is_none())
        .collect();
    let unknown: Vec<Nevra> = unknown.into_iter().cloned().collect();
    let ids = db::dependency_ids(&mut tx, &unknown)?;
    cache.insert(unknown.into_iter().zip(ids));
    let mut persisted = Vec::new();
    let mut updates = Vec::new();
    let mut bases = Vec::new();
    let mut history = Vec::new();
    let mut changes = Vec::new();
    let mut events = Vec::new();
    for c in computed {
        let Some(p) = locked.get(&c.package_id) else {
            continue;
        };
        persisted.push(c.package_id);
        if p.last_build_id != c.last_build_id {
            // A build was submitted or registered meanwhile: resolve again next pass.
            updates.push((c.package_id, None, 0));
            bases.push((c.package_id, None));
            continue;
        }
        let state = |resolved| {
            PackageState::from_flags(p.blocked, p.tracked, resolved, p.last_complete_build_state)
        };
        let (prev, new) = (state(p.resolved), state(Some(c.resolved)));
        updates.push((c.package_id, Some(c.resolved), c.dependency_priority));
        bases.push((c.package_id, c.comparison_build));
        if record_resolution_change(p.last_change.as_ref(), c.resolved, &c.problems) {
            history.push((c.package_id, c.resolved, &c.problems));
        }
        for ch in &c.changes {
            let lookup = |n: &Option<Nevra>| n.as_ref().and_then(|n| cache.id(n));
            changes.push((
                c.package_id,
                ChangeRow {
                    prev: lookup(&ch.prev),
                    curr: lookup(&ch.curr),
                    distance: ch.distance,
                },
            ));
        }
        events.extend(state_event(c.package_id, Some(prev), Some(new)));
    }
    db::set_package_resolutions(&mut tx, &updates)?;
    db::set_changes_builds(&mut tx, &bases)?;
    db::insert_resolution_changes(&mut tx, &history)?;
    db::replace_unapplied_changes(&mut tx, &persisted, &changes)?;
    for e in &events {
        outbox::queue_package_change(
            &mut tx,
            settings.publication.as_ref(),
            e.package_id,
            e.prev,
            e.new,
        )?;
    }
    tx.commit().map_err(tx_err)?;
    report.resolved_packages += persisted.len();
    report.events.extend(events);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::InstalledDep;

    #[test]
    fn resolution_history_rule() {
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let none = set(&[]);
        let a = set(&["No package found for: a"]);
        let b = set(&["No package found for: b"]);
        let cases = [
            (None, true, &none, true),
            (None, false, &a, true),
            (Some((true, none.clone())), true, &none, false),
            (Some((true, none.clone())), false, &a, true),
            (Some((false, a.clone())), false, &a, false),
            (Some((false, a.clone())), false, &b, true),
            (Some((false, a.clone())), true, &none, true),
        ];
        for (last, resolved, problems, want) in cases {
            assert_eq!(
                record_resolution_change(last.as_ref(), resolved, problems),
                want,
                "{last:?} {resolved} {problems:?}"
            );
        }
    }

    #[test]
    fn compute_diffs_against_comparison_and_sums_priority() {
        let settings = Settings {
            priorities: crate::priority::Priorities {
                package_update: 20,
                ..Default::default()
            },
            ..Default::default()
        };
        let cand = db::ResolveCandidate {
            package_id: PackageId(1),
            name: "foo".into(),
            last_build_id: Some(BuildId(7)),
            version: "1".into(),
            release: "1".into(),
            comparison_build: Some(BuildId(7)),
        };
        let n = |s: &str| Nevra::parse(s).expect("nevra");
        let (a, c) = (n("A-0:1-1.x86_64"), n("C-1:2-1.x86_64"));
        let old = vec![&a, &c];
        let res = Resolution {
            resolved: true,
            installs: vec![
                InstalledDep {
                    nevra: n("A-0:1-1.x86_64"),
                    distance: Some(1),
                },
                InstalledDep {
                    nevra: n("C-1:3-1.x86_64"),
                    distance: Some(2),
                },
                InstalledDep {
                    nevra: n("E-0:0.1-1.noarch"),
                    distance: Some(2),
                },
            ],
            problems: BTreeSet::new(),
        };
        let c = compute(&settings, &cand, res.clone(), Some(&old));
        assert_eq!(c.changes.len(), 2);
        assert_eq!(c.dependency_priority, 20);
        let none = compute(&settings, &cand, res, None);
        assert!(none.changes.is_empty());
        assert_eq!(none.dependency_priority, 0);
    }
}
