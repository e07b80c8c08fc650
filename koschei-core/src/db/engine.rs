//! Queries of the engine services (polling, repo resolver, build resolver, scheduler).
//!
//! Every function takes `&mut impl GenericClient` and passes values as parameters only.
//! Rows are converted to plain structs here; the services never see SQL.

use std::collections::{BTreeSet, HashMap};
use std::time::SystemTime;

use postgres::GenericClient;

use crate::model::{
    BuildId, BuildState, CollectionId, DependencyId, Evr, KojiTaskId, Nevra, PackageId, RepoId,
};

/// A database error with the name of the query that failed.
#[derive(Debug, thiserror::Error)]
#[error("database query `{query}` failed")]
pub struct Error {
    /// Which query failed.
    pub query: &'static str,
    /// The driver error.
    #[source]
    pub source: postgres::Error,
}

/// Result of the engine queries.
pub type Result<T> = std::result::Result<T, Error>;

fn ctx(query: &'static str) -> impl FnOnce(postgres::Error) -> Error {
    move |source| Error { query, source }
}

/// Advisory lock namespaces (the first key of the two-key advisory lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockSpace {
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
pub fn try_lock(c: &mut impl GenericClient, space: LockSpace, key: i32) -> Result<bool> {
    let row = c
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&(space as i32), &key],
        )
        .map_err(ctx("try advisory lock"))?;
    Ok(row.get(0))
}

/// Releases a session-level advisory lock taken with [`try_lock`].
pub fn unlock(c: &mut impl GenericClient, space: LockSpace, key: i32) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_unlock($1, $2)",
        &[&(space as i32), &key],
    )
    .map_err(ctx("advisory unlock"))?;
    Ok(())
}

/// Writes a `log_entry` from the backend.
pub fn log_backend(
    c: &mut impl GenericClient,
    message: &str,
    package: Option<PackageId>,
) -> Result<()> {
    c.execute(
        "INSERT INTO log_entry (environment, message, base_id)
         VALUES ('backend', $1, (SELECT base_id FROM package WHERE id = $2))",
        &[&message, &package.map(|p| p.0)],
    )
    .map_err(ctx("insert log entry"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Collections

/// The collection fields the engine reads.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRow {
    /// Id.
    pub id: CollectionId,
    /// Machine name.
    pub name: String,
    /// Koji target of scratch builds.
    pub target: String,
    /// Tag of the package list, real builds and SRPMs.
    pub dest_tag: String,
    /// Build tag (repos).
    pub build_tag: String,
    /// Build group name.
    pub build_group: String,
    /// Latest resolved repo.
    pub latest_repo_id: Option<RepoId>,
    /// Whether the build group installs in it.
    pub latest_repo_resolved: Option<bool>,
    /// Register real builds of untracked packages too.
    pub poll_untracked: bool,
}

const COLLECTION_COLS: &str = "id, name, target, dest_tag, build_tag, build_group, latest_repo_id, \
                               latest_repo_resolved, poll_untracked";

fn collection_row(r: &postgres::Row) -> CollectionRow {
    CollectionRow {
        id: CollectionId(r.get(0)),
        name: r.get(1),
        target: r.get(2),
        dest_tag: r.get(3),
        build_tag: r.get(4),
        build_group: r.get(5),
        latest_repo_id: r.get::<_, Option<i32>>(6).map(RepoId),
        latest_repo_resolved: r.get(7),
        poll_untracked: r.get(8),
    }
}

/// All collections, by id.
pub fn collections(c: &mut impl GenericClient) -> Result<Vec<CollectionRow>> {
    let sql = format!("SELECT {COLLECTION_COLS} FROM collection ORDER BY id");
    let rows = c
        .query(sql.as_str(), &[])
        .map_err(ctx("list collections"))?;
    Ok(rows.iter().map(collection_row).collect())
}

/// One collection.
pub fn collection(c: &mut impl GenericClient, id: CollectionId) -> Result<Option<CollectionRow>> {
    let sql = format!("SELECT {COLLECTION_COLS} FROM collection WHERE id = $1");
    let row = c
        .query_opt(sql.as_str(), &[&id.0])
        .map_err(ctx("load collection"))?;
    Ok(row.as_ref().map(collection_row))
}

/// Records the base buildroot result of a repo: latest repo, resolved flag and problems.
pub fn set_collection_repo(
    c: &mut impl GenericClient,
    id: CollectionId,
    repo: RepoId,
    resolved: bool,
    problems: &BTreeSet<String>,
) -> Result<()> {
    c.execute(
        "DELETE FROM buildroot_problem WHERE collection_id = $1",
        &[&id.0],
    )
    .map_err(ctx("delete buildroot problems"))?;
    c.execute(
        "UPDATE collection SET latest_repo_id = $2, latest_repo_resolved = $3 WHERE id = $1",
        &[&id.0, &repo.0, &resolved],
    )
    .map_err(ctx("update collection repo"))?;
    let problems: Vec<&str> = problems.iter().map(String::as_str).collect();
    c.execute(
        "INSERT INTO buildroot_problem (collection_id, problem) SELECT $1, unnest($2::text[])",
        &[&id.0, &problems],
    )
    .map_err(ctx("insert buildroot problems"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Dependencies

/// Ids of the `dependency` rows of these NEVRAs, inserting missing ones (a missing epoch is
/// stored as 0). The result is in input order.
pub fn dependency_ids(c: &mut impl GenericClient, nevras: &[Nevra]) -> Result<Vec<DependencyId>> {
    if nevras.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = nevras.iter().map(|n| n.name.as_str()).collect();
    let epochs: Vec<i32> = nevras.iter().map(|n| n.evr.epoch.unwrap_or(0)).collect();
    let versions: Vec<&str> = nevras.iter().map(|n| n.evr.version.as_str()).collect();
    let releases: Vec<&str> = nevras.iter().map(|n| n.evr.release.as_str()).collect();
    let arches: Vec<&str> = nevras.iter().map(|n| n.arch.as_str()).collect();
    let keys: Vec<Vec<u8>> = nevras
        .iter()
        .map(|n| {
            Evr::new(
                Some(n.evr.epoch.unwrap_or(0)),
                n.evr.version.clone(),
                n.evr.release.clone(),
            )
            .sort_key()
        })
        .collect();
    c.execute(
        "INSERT INTO dependency (name, epoch, version, release, arch, evr_key)
         SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::bytea[])
         ORDER BY 1, 2, 3, 4, 5
         ON CONFLICT (name, epoch, version, release, arch) DO NOTHING",
        &[&names, &epochs, &versions, &releases, &arches, &keys],
    )
    .map_err(ctx("insert dependencies"))?;
    let rows = c
        .query(
            "SELECT u.ord, d.id
             FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[])
                  WITH ORDINALITY AS u(name, epoch, version, release, arch, ord)
             JOIN dependency d ON d.name = u.name AND d.epoch = u.epoch AND d.version = u.version
                               AND d.release = u.release AND d.arch = u.arch",
            &[&names, &epochs, &versions, &releases, &arches],
        )
        .map_err(ctx("select dependency ids"))?;
    let mut ids = vec![DependencyId(0); nevras.len()];
    for r in &rows {
        let ord: i64 = r.get(0);
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| ids.get_mut(i)) {
            *slot = DependencyId(r.get(1));
        }
    }
    Ok(ids)
}

/// The installed dependency sets of builds (their `dependency_ids`), by build.
/// Builds without a stored set are absent from the map.
pub fn build_dependencies(
    c: &mut impl GenericClient,
    builds: &[BuildId],
) -> Result<HashMap<BuildId, Vec<(DependencyId, Nevra)>>> {
    let ids: Vec<i32> = builds.iter().map(|b| b.0).collect();
    let rows = c
        .query(
            "SELECT b.id, d.id, d.name, d.epoch, d.version, d.release, d.arch
             FROM build b CROSS JOIN LATERAL unnest(b.dependency_ids) AS u(dep_id)
             JOIN dependency d ON d.id = u.dep_id
             WHERE b.id = ANY($1) AND b.dependency_ids IS NOT NULL",
            &[&ids],
        )
        .map_err(ctx("load build dependencies"))?;
    let mut out: HashMap<BuildId, Vec<(DependencyId, Nevra)>> = HashMap::new();
    for r in &rows {
        out.entry(BuildId(r.get(0))).or_default().push((
            DependencyId(r.get(1)),
            Nevra {
                name: r.get(2),
                evr: Evr::new(r.get(3), r.get::<_, String>(4), r.get::<_, String>(5)),
                arch: r.get(6),
            },
        ));
    }
    Ok(out)
}

/// The stored dependency id sets of builds (without loading the NEVRAs).
pub fn build_dependency_id_sets(
    c: &mut impl GenericClient,
    builds: &[BuildId],
) -> Result<HashMap<BuildId, Vec<DependencyId>>> {
    let ids: Vec<i32> = builds.iter().map(|b| b.0).collect();
    let rows = c
        .query(
            "SELECT id, dependency_ids FROM build WHERE id = ANY($1) AND dependency_ids IS NOT NULL",
            &[&ids],
        )
        .map_err(ctx("load build dependency ids"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let deps: Vec<i32> = r.get(1);
            (
                BuildId(r.get(0)),
                deps.into_iter().map(DependencyId).collect(),
            )
        })
        .collect())
}

/// The NEVRAs of `dependency` rows.
pub fn dependencies_by_id(
    c: &mut impl GenericClient,
    ids: &[DependencyId],
) -> Result<Vec<(DependencyId, Nevra)>> {
    let ids: Vec<i32> = ids.iter().map(|d| d.0).collect();
    let rows = c
        .query(
            "SELECT id, name, epoch, version, release, arch FROM dependency WHERE id = ANY($1)",
            &[&ids],
        )
        .map_err(ctx("load dependencies"))?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                DependencyId(r.get(0)),
                Nevra {
                    name: r.get(1),
                    evr: Evr::new(r.get(2), r.get::<_, String>(3), r.get::<_, String>(4)),
                    arch: r.get(5),
                },
            )
        })
        .collect())
}

/// A dependency change ready to store (ids resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRow {
    /// Old dependency.
    pub prev: Option<DependencyId>,
    /// New dependency.
    pub curr: Option<DependencyId>,
    /// Distance.
    pub distance: Option<i32>,
}

/// Column arrays (owner, prev, curr, distance) for an `unnest` insert.
type ChangeColumns = (
    Vec<i32>,
    Vec<Option<i32>>,
    Vec<Option<i32>>,
    Vec<Option<i32>>,
);

fn change_columns(changes: &[(i32, ChangeRow)]) -> ChangeColumns {
    (
        changes.iter().map(|(o, _)| *o).collect(),
        changes.iter().map(|(_, c)| c.prev.map(|d| d.0)).collect(),
        changes.iter().map(|(_, c)| c.curr.map(|d| d.0)).collect(),
        changes.iter().map(|(_, c)| c.distance).collect(),
    )
}

/// Replaces the unapplied changes of `packages` with `changes` (owner package, change).
pub fn replace_unapplied_changes(
    c: &mut impl GenericClient,
    packages: &[PackageId],
    changes: &[(PackageId, ChangeRow)],
) -> Result<()> {
    let ids: Vec<i32> = packages.iter().map(|p| p.0).collect();
    c.execute(
        "DELETE FROM unapplied_change WHERE package_id = ANY($1)",
        &[&ids],
    )
    .map_err(ctx("delete unapplied changes"))?;
    let rows: Vec<(i32, ChangeRow)> = changes.iter().map(|(p, ch)| (p.0, *ch)).collect();
    let (owner, prev, curr, dist) = change_columns(&rows);
    c.execute(
        "INSERT INTO unapplied_change (package_id, prev_dep_id, curr_dep_id, distance)
         SELECT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int4[])",
        &[&owner, &prev, &curr, &dist],
    )
    .map_err(ctx("insert unapplied changes"))?;
    Ok(())
}

/// Inserts applied changes of a build.
pub fn insert_applied_changes(
    c: &mut impl GenericClient,
    build: BuildId,
    changes: &[ChangeRow],
) -> Result<()> {
    let rows: Vec<(i32, ChangeRow)> = changes.iter().map(|ch| (build.0, *ch)).collect();
    let (owner, prev, curr, dist) = change_columns(&rows);
    c.execute(
        "INSERT INTO applied_change (build_id, prev_dep_id, curr_dep_id, distance)
         SELECT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int4[])",
        &[&owner, &prev, &curr, &dist],
    )
    .map_err(ctx("insert applied changes"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Repo resolver

/// A package to resolve in a repo, with what its result is compared to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveCandidate {
    /// The package.
    pub package_id: PackageId,
    /// Its name.
    pub name: String,
    /// Its last build when loaded (results are dropped if it changes meanwhile).
    pub last_build_id: Option<BuildId>,
    /// Version of the last complete build (whose BuildRequires are resolved).
    pub version: String,
    /// Release of the last complete build.
    pub release: String,
    /// The build whose installed set the result is diffed against (spec 3.6 step 5).
    pub comparison_build: Option<BuildId>,
}

/// Eligible packages of a collection (tracked, not blocked, not skip_resolution, with a
/// complete build); with `only_unresolved`, only those with `resolved IS NULL`.
pub fn resolve_candidates(
    c: &mut impl GenericClient,
    collection: CollectionId,
    only_unresolved: bool,
) -> Result<Vec<ResolveCandidate>> {
    let sql = format!(
        "SELECT p.id, p.name, p.last_build_id, lcb.version, lcb.release, {COMPARISON_BUILD}
         FROM package p
         JOIN build lcb ON lcb.id = p.last_complete_build_id
         LEFT JOIN build lb ON lb.id = p.last_build_id
         WHERE p.collection_id = $1 AND p.tracked AND NOT p.blocked AND NOT p.skip_resolution
           AND (NOT $2 OR p.resolved IS NULL)
         ORDER BY p.id"
    );
    let rows = c
        .query(sql.as_str(), &[&collection.0, &only_unresolved])
        .map_err(ctx("load resolve candidates"))?;
    Ok(rows
        .iter()
        .map(|r| ResolveCandidate {
            package_id: PackageId(r.get(0)),
            name: r.get(1),
            last_build_id: r.get::<_, Option<i32>>(2).map(BuildId),
            version: r.get::<_, Option<String>>(3).unwrap_or_default(),
            release: r.get::<_, Option<String>>(4).unwrap_or_default(),
            comparison_build: r.get::<_, Option<i32>>(5).map(BuildId),
        })
        .collect())
}

/// A package row locked for update by the repo resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// The package.
    pub id: PackageId,
    /// Its current last build.
    pub last_build_id: Option<BuildId>,
    /// Its current resolved flag.
    pub resolved: Option<bool>,
    /// Blocked in Koji.
    pub blocked: bool,
    /// Tracked.
    pub tracked: bool,
    /// State of its last complete build.
    pub last_complete_build_state: Option<BuildState>,
    /// `resolved` and problems of its newest resolution change.
    pub last_change: Option<(bool, BTreeSet<String>)>,
}

/// Locks packages (`FOR UPDATE`, by id) and loads their previous resolution state.
pub fn lock_packages_for_resolution(
    c: &mut impl GenericClient,
    ids: &[PackageId],
) -> Result<Vec<LockedPackage>> {
    let ids: Vec<i32> = ids.iter().map(|p| p.0).collect();
    let rows = c
        .query(
            "SELECT id, last_build_id, resolved, blocked, tracked, last_complete_build_state
             FROM package WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&ids],
        )
        .map_err(ctx("lock packages"))?;
    let changes = c
        .query(
            "SELECT DISTINCT ON (rc.package_id) rc.package_id, rc.resolved,
                    coalesce((SELECT array_agg(problem ORDER BY problem) FROM resolution_problem
                              WHERE resolution_id = rc.id), '{}')
             FROM resolution_change rc WHERE rc.package_id = ANY($1)
             ORDER BY rc.package_id, rc.timestamp DESC, rc.id DESC",
            &[&ids],
        )
        .map_err(ctx("load last resolution changes"))?;
    let mut last: HashMap<i32, (bool, BTreeSet<String>)> = changes
        .iter()
        .map(|r| {
            (
                r.get(0),
                (r.get(1), r.get::<_, Vec<String>>(2).into_iter().collect()),
            )
        })
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            let id: i32 = r.get(0);
            LockedPackage {
                id: PackageId(id),
                last_build_id: r.get::<_, Option<i32>>(1).map(BuildId),
                resolved: r.get(2),
                blocked: r.get(3),
                tracked: r.get(4),
                last_complete_build_state: r.get::<_, Option<i32>>(5).and_then(BuildState::from_db),
                last_change: last.remove(&id),
            }
        })
        .collect())
}

/// Sets `resolved` and `dependency_priority` of packages (one statement).
pub fn set_package_resolutions(
    c: &mut impl GenericClient,
    rows: &[(PackageId, Option<bool>, i32)],
) -> Result<()> {
    let ids: Vec<i32> = rows.iter().map(|r| r.0.0).collect();
    let resolved: Vec<Option<bool>> = rows.iter().map(|r| r.1).collect();
    let prio: Vec<i32> = rows.iter().map(|r| r.2).collect();
    c.execute(
        "UPDATE package p SET resolved = u.resolved, dependency_priority = u.prio
         FROM unnest($1::int4[], $2::bool[], $3::int4[]) AS u(id, resolved, prio)
         WHERE p.id = u.id",
        &[&ids, &resolved, &prio],
    )
    .map_err(ctx("update package resolutions"))?;
    Ok(())
}

/// Inserts resolution changes with their problems (at most one per package).
pub fn insert_resolution_changes(
    c: &mut impl GenericClient,
    changes: &[(PackageId, bool, &BTreeSet<String>)],
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<i32> = changes.iter().map(|r| r.0.0).collect();
    let resolved: Vec<bool> = changes.iter().map(|r| r.1).collect();
    let rows = c
        .query(
            "INSERT INTO resolution_change (package_id, resolved)
             SELECT * FROM unnest($1::int4[], $2::bool[]) RETURNING id, package_id",
            &[&ids, &resolved],
        )
        .map_err(ctx("insert resolution changes"))?;
    let change_of: HashMap<i32, i64> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
    let (mut owners, mut texts): (Vec<i64>, Vec<&str>) = (Vec::new(), Vec::new());
    for (p, _, problems) in changes {
        if let Some(id) = change_of.get(&p.0) {
            for t in problems.iter() {
                owners.push(*id);
                texts.push(t);
            }
        }
    }
    c.execute(
        "INSERT INTO resolution_problem (resolution_id, problem)
         SELECT * FROM unnest($1::int8[], $2::text[])",
        &[&owners, &texts],
    )
    .map_err(ctx("insert resolution problems"))?;
    Ok(())
}

/// The comparison build of package `p` (spec 3.6 step 5) as an SQL expression over `p` and
/// its last build `lb`: the last build when finished with resolved dependencies; when its
/// dependencies are unresolvable, the newest earlier build with resolved dependencies; none
/// while it runs or is not processed yet.
const COMPARISON_BUILD: &str = "CASE WHEN lb.state = 2 OR lb.deps_resolved IS NULL THEN NULL
         WHEN lb.deps_resolved THEN lb.id
         ELSE (SELECT b.id FROM build b
               WHERE b.package_id = p.id AND b.deps_resolved AND b.started < lb.started
               ORDER BY b.started DESC, b.id DESC LIMIT 1)
    END";

/// Eligible packages of a collection (as [`resolve_candidates`]) whose result in the
/// collection's latest repo is due without a new repo: never resolved there (`resolved IS
/// NULL`: newly tracked, reset, result dropped), or whose comparison build is not the build
/// their unapplied changes were computed against (`changes_build_id`), as when a completed
/// build's dependencies were stored after the repo was resolved.
///
/// This runs at every repo resolver pass, so it is two cheap queries: the packages whose
/// `changes_build_id` is not their last build (a necessary condition: a comparison build
/// other than the last build means the last build runs or its dependencies are not
/// resolved), then their comparison builds. In a steady state the first finds only the
/// packages with a running build or an unresolvable last build.
pub fn pending_resolve_candidates(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<Vec<ResolveCandidate>> {
    let ids: Vec<i32> = c
        .query(
            "SELECT id FROM package
             WHERE collection_id = $1 AND tracked AND NOT blocked AND NOT skip_resolution
               AND last_complete_build_id IS NOT NULL
               AND (resolved IS NULL OR changes_build_id IS DISTINCT FROM last_build_id)",
            &[&collection.0],
        )
        .map_err(ctx("find packages with stale changes"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, name, last_build_id, version, release, comparison FROM (
             SELECT p.id, p.name, p.last_build_id, lcb.version, lcb.release, p.resolved,
                    p.changes_build_id, {COMPARISON_BUILD} AS comparison
             FROM package p
             JOIN build lcb ON lcb.id = p.last_complete_build_id
             LEFT JOIN build lb ON lb.id = p.last_build_id
             WHERE p.id = ANY($1)
         ) e
         WHERE e.resolved IS NULL
            OR (e.comparison IS NOT NULL AND e.comparison IS DISTINCT FROM e.changes_build_id)
         ORDER BY id"
    );
    let rows = c
        .query(sql.as_str(), &[&ids])
        .map_err(ctx("load pending resolve candidates"))?;
    Ok(rows
        .iter()
        .map(|r| ResolveCandidate {
            package_id: PackageId(r.get(0)),
            name: r.get(1),
            last_build_id: r.get::<_, Option<i32>>(2).map(BuildId),
            version: r.get::<_, Option<String>>(3).unwrap_or_default(),
            release: r.get::<_, Option<String>>(4).unwrap_or_default(),
            comparison_build: r.get::<_, Option<i32>>(5).map(BuildId),
        })
        .collect())
}

/// Records the build each package's unapplied changes were computed against
/// (`changes_build_id`; `None`: none, or the result was dropped).
pub fn set_changes_builds(
    c: &mut impl GenericClient,
    rows: &[(PackageId, Option<BuildId>)],
) -> Result<()> {
    let ids: Vec<i32> = rows.iter().map(|r| r.0.0).collect();
    let builds: Vec<Option<i32>> = rows.iter().map(|r| r.1.map(|b| b.0)).collect();
    c.execute(
        "UPDATE package p SET changes_build_id = u.build
         FROM unnest($1::int4[], $2::int4[]) AS u(id, build)
         WHERE p.id = u.id",
        &[&ids, &builds],
    )
    .map_err(ctx("update package changes builds"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Build resolver

/// A completed (or running, with a known repo) build whose dependencies are not processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnprocessedBuild {
    /// The build.
    pub id: BuildId,
    /// Its package.
    pub package_id: PackageId,
    /// The package's collection.
    pub collection_id: CollectionId,
    /// Package name.
    pub name: String,
    /// SRPM version.
    pub version: String,
    /// SRPM release.
    pub release: String,
    /// The repo the build ran in.
    pub repo_id: RepoId,
    /// When it started.
    pub started: SystemTime,
}

/// Builds with `deps_resolved IS NULL AND repo_id IS NOT NULL`, by collection, repo, start.
pub fn unprocessed_builds(c: &mut impl GenericClient) -> Result<Vec<UnprocessedBuild>> {
    let rows = c
        .query(
            "SELECT b.id, b.package_id, p.collection_id, p.name, b.version, b.release, b.repo_id, b.started
             FROM build b JOIN package p ON p.id = b.package_id
             WHERE b.deps_resolved IS NULL AND b.repo_id IS NOT NULL AND b.version IS NOT NULL
             ORDER BY p.collection_id, b.repo_id, b.started, b.id",
            &[],
        )
        .map_err(ctx("load unprocessed builds"))?;
    Ok(rows
        .iter()
        .map(|r| UnprocessedBuild {
            id: BuildId(r.get(0)),
            package_id: PackageId(r.get(1)),
            collection_id: CollectionId(r.get(2)),
            name: r.get(3),
            version: r.get(4),
            release: r.get(5),
            repo_id: RepoId(r.get(6)),
            started: r.get(7),
        })
        .collect())
}

/// Marks a build's dependencies unresolvable; when it is its package's last build, sets the
/// package's build priority to `bump` so it gets rebuilt. Returns whether it bumped.
pub fn set_build_deps_unresolved(
    c: &mut impl GenericClient,
    build: BuildId,
    bump: i32,
) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE build SET deps_resolved = false WHERE id = $1 AND deps_resolved IS NULL",
            &[&build.0],
        )
        .map_err(ctx("mark build unresolved"))?;
    if n == 0 {
        return Ok(false);
    }
    let n = c
        .execute(
            "UPDATE package SET build_priority = $2 WHERE last_build_id = $1",
            &[&build.0, &bump],
        )
        .map_err(ctx("bump build priority"))?;
    Ok(n > 0)
}

/// The newest build of the package started before `started` with resolved dependencies.
pub fn previous_resolved_build(
    c: &mut impl GenericClient,
    package: PackageId,
    build: BuildId,
    started: SystemTime,
) -> Result<Option<BuildId>> {
    let row = c
        .query_opt(
            "SELECT id FROM build
             WHERE package_id = $1 AND id <> $2 AND deps_resolved AND (started, id) < ($3, $2)
             ORDER BY started DESC, id DESC LIMIT 1",
            &[&package.0, &build.0, &started],
        )
        .map_err(ctx("find previous resolved build"))?;
    Ok(row.map(|r| BuildId(r.get(0))))
}

/// Stores a build's resolved dependency set; returns false when the build was processed
/// meanwhile (nothing written).
pub fn set_build_deps_resolved(
    c: &mut impl GenericClient,
    build: BuildId,
    deps: &[DependencyId],
) -> Result<bool> {
    let mut ids: Vec<i32> = deps.iter().map(|d| d.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let n = c
        .execute(
            "UPDATE build SET deps_resolved = true, dependency_ids = $2 WHERE id = $1 AND deps_resolved IS NULL",
            &[&build.0, &ids],
        )
        .map_err(ctx("store build dependencies"))?;
    Ok(n > 0)
}

/// Drops the dependency set of an older build (only the newest resolved build keeps one).
pub fn clear_build_deps(c: &mut impl GenericClient, build: BuildId) -> Result<()> {
    c.execute(
        "UPDATE build SET dependency_ids = NULL WHERE id = $1",
        &[&build.0],
    )
    .map_err(ctx("clear build dependencies"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Polling

/// A running build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningBuild {
    /// The build.
    pub id: BuildId,
    /// Its package.
    pub package_id: PackageId,
    /// Koji task (0 = submission reserved, task not known).
    pub task_id: KojiTaskId,
    /// When it started.
    pub started: SystemTime,
    /// Whether a user asked to cancel it.
    pub cancel_requested: bool,
}

/// All running builds.
pub fn running_builds(c: &mut impl GenericClient) -> Result<Vec<RunningBuild>> {
    let rows = c
        .query(
            "SELECT id, package_id, task_id, started, cancel_requested FROM build WHERE state = 2 ORDER BY id",
            &[],
        )
        .map_err(ctx("load running builds"))?;
    Ok(rows
        .iter()
        .map(|r| RunningBuild {
            id: BuildId(r.get(0)),
            package_id: PackageId(r.get(1)),
            task_id: KojiTaskId(r.get(2)),
            started: r.get(3),
            cancel_requested: r.get(4),
        })
        .collect())
}

/// A reserved submission whose Koji task is not known (task id 0), with what identifies
/// the `build` call made for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReservation {
    /// The running build row standing for the submission.
    pub id: BuildId,
    /// Its package.
    pub package_id: PackageId,
    /// Package name (the SRPM's name).
    pub name: String,
    /// SRPM version.
    pub version: String,
    /// SRPM release.
    pub release: String,
    /// When the submission was reserved.
    pub started: SystemTime,
    /// The collection's Koji target (the `build` call's target without `build_from_repo_id`).
    pub target: String,
    /// The repo built from (`build_from_repo_id`: no target, this `repo_id` option).
    pub repo_id: Option<RepoId>,
}

/// The reserved submissions without a Koji task, oldest first.
pub fn pending_reservations(c: &mut impl GenericClient) -> Result<Vec<PendingReservation>> {
    let rows = c
        .query(
            "SELECT b.id, b.package_id, p.name, b.version, b.release, b.started, co.target, b.repo_id
             FROM build b JOIN package p ON p.id = b.package_id
             JOIN collection co ON co.id = p.collection_id
             WHERE b.state = 2 AND b.task_id = $1
             ORDER BY b.started, b.id",
            &[&RESERVED_TASK.0],
        )
        .map_err(ctx("load reservations"))?;
    Ok(rows
        .iter()
        .map(|r| PendingReservation {
            id: BuildId(r.get(0)),
            package_id: PackageId(r.get(1)),
            name: r.get(2),
            version: r.get::<_, Option<String>>(3).unwrap_or_default(),
            release: r.get::<_, Option<String>>(4).unwrap_or_default(),
            started: r.get(5),
            target: r.get(6),
            repo_id: r.get::<_, Option<i32>>(7).map(RepoId),
        })
        .collect())
}

/// Which of these Koji tasks some build already records.
pub fn known_task_ids(
    c: &mut impl GenericClient,
    tasks: &[KojiTaskId],
) -> Result<BTreeSet<KojiTaskId>> {
    let ids: Vec<i32> = tasks.iter().map(|t| t.0).collect();
    let rows = c
        .query(
            "SELECT DISTINCT task_id FROM build WHERE task_id = ANY($1)",
            &[&ids],
        )
        .map_err(ctx("find known tasks"))?;
    Ok(rows.iter().map(|r| KojiTaskId(r.get(0))).collect())
}

/// Records a Koji task found on the hub as the task of a reserved submission (as
/// [`confirm_submission`] would have: the task id, the package's manual priority and skip
/// reason reset). Returns false when the reservation is gone or has its task meanwhile.
pub fn adopt_task(c: &mut impl GenericClient, build: BuildId, task: KojiTaskId) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE build SET task_id = $2 WHERE id = $1 AND state = 2 AND task_id = $3",
            &[&build.0, &task.0, &RESERVED_TASK.0],
        )
        .map_err(ctx("adopt task"))?;
    if n == 0 {
        return Ok(false);
    }
    c.execute(
        "UPDATE package SET manual_priority = 0, scheduler_skip_reason = NULL
         WHERE id = (SELECT package_id FROM build WHERE id = $1)",
        &[&build.0],
    )
    .map_err(ctx("reset priority after adoption"))?;
    Ok(true)
}

/// Deletes a reserved submission that still has no Koji task; false when it is gone or got
/// its task meanwhile.
pub fn delete_reservation(c: &mut impl GenericClient, build: BuildId) -> Result<bool> {
    let n = c
        .execute(
            "DELETE FROM build WHERE id = $1 AND state = 2 AND task_id = $2",
            &[&build.0, &RESERVED_TASK.0],
        )
        .map_err(ctx("delete reservation"))?;
    Ok(n > 0)
}

/// Number of running builds (all collections).
pub fn running_build_count(c: &mut impl GenericClient) -> Result<i64> {
    let row = c
        .query_one("SELECT count(*) FROM build WHERE state = 2", &[])
        .map_err(ctx("count running builds"))?;
    Ok(row.get(0))
}

/// A Koji subtask row to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// Koji task id.
    pub task_id: KojiTaskId,
    /// Arch.
    pub arch: String,
    /// Koji state number.
    pub state: i32,
    /// Start.
    pub started: SystemTime,
    /// End.
    pub finished: Option<SystemTime>,
}

/// Inserts or updates the Koji subtasks of a build.
pub fn upsert_tasks(c: &mut impl GenericClient, build: BuildId, tasks: &[TaskRow]) -> Result<()> {
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
        .map_err(ctx("upsert koji task"))?;
    }
    Ok(())
}

/// Sets the repo a running build uses, once known.
pub fn set_build_repo(c: &mut impl GenericClient, build: BuildId, repo: RepoId) -> Result<()> {
    c.execute(
        "UPDATE build SET repo_id = $2 WHERE id = $1 AND repo_id IS NULL",
        &[&build.0, &repo.0],
    )
    .map_err(ctx("set build repo"))?;
    Ok(())
}

/// Locks a build row; returns its state and `deps_resolved`, or `None` when it is gone.
pub fn lock_build(
    c: &mut impl GenericClient,
    build: BuildId,
) -> Result<Option<(BuildState, Option<bool>)>> {
    let row = c
        .query_opt(
            "SELECT state, deps_resolved FROM build WHERE id = $1 FOR UPDATE",
            &[&build.0],
        )
        .map_err(ctx("lock build"))?;
    Ok(row.and_then(|r| BuildState::from_db(r.get(0)).map(|s| (s, r.get(1)))))
}

/// Deletes a build.
pub fn delete_build(c: &mut impl GenericClient, build: BuildId) -> Result<()> {
    c.execute("DELETE FROM build WHERE id = $1", &[&build.0])
        .map_err(ctx("delete build"))?;
    Ok(())
}

/// `clear_priority_data`: manual, dependency and build priority to 0, unapplied changes
/// deleted (computed against no build now, so the repo resolver computes them again once
/// the package has a comparison build). The package row is locked first.
pub fn clear_priority_data(c: &mut impl GenericClient, package: PackageId) -> Result<()> {
    c.execute(
        "UPDATE package SET manual_priority = 0, dependency_priority = 0, build_priority = 0,
                changes_build_id = NULL WHERE id = $1",
        &[&package.0],
    )
    .map_err(ctx("clear priority data"))?;
    c.execute(
        "DELETE FROM unapplied_change WHERE package_id = $1",
        &[&package.0],
    )
    .map_err(ctx("delete unapplied changes"))?;
    Ok(())
}

/// State of the package's newest finished build started before `build` (same package).
pub fn previous_complete_state(
    c: &mut impl GenericClient,
    package: PackageId,
    build: BuildId,
) -> Result<Option<BuildState>> {
    let row = c
        .query_opt(
            "SELECT p.state FROM build p, build b
             WHERE b.id = $2 AND p.package_id = $1 AND p.id <> b.id AND p.state IN (3, 5)
               AND NOT p.untagged AND (p.started, p.id) < (b.started, b.id)
             ORDER BY p.started DESC, p.id DESC LIMIT 1",
            &[&package.0, &build.0],
        )
        .map_err(ctx("find previous complete build"))?;
    Ok(row.and_then(|r| BuildState::from_db(r.get(0))))
}

/// Marks a build finished.
pub fn finish_build(
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
    .map_err(ctx("finish build"))?;
    Ok(())
}

/// Sets a package's build priority.
pub fn set_build_priority(
    c: &mut impl GenericClient,
    package: PackageId,
    value: i32,
) -> Result<()> {
    c.execute(
        "UPDATE package SET build_priority = $2 WHERE id = $1",
        &[&package.0, &value],
    )
    .map_err(ctx("set build priority"))?;
    Ok(())
}

/// Package state inputs (for state-change events).
pub fn package_state(
    c: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<crate::model::PackageState>> {
    let row = c
        .query_opt(
            "SELECT blocked, tracked, resolved, last_complete_build_state FROM package WHERE id = $1",
            &[&package.0],
        )
        .map_err(ctx("load package state"))?;
    Ok(row.map(|r| {
        crate::model::PackageState::from_flags(
            r.get(0),
            r.get(1),
            r.get(2),
            r.get::<_, Option<i32>>(3).and_then(BuildState::from_db),
        )
    }))
}

/// Name, id and blocked flag of each package of a collection.
pub fn collection_packages(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<HashMap<String, (PackageId, bool)>> {
    let rows = c
        .query(
            "SELECT name, id, blocked FROM package WHERE collection_id = $1",
            &[&collection.0],
        )
        .map_err(ctx("load collection packages"))?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), (PackageId(r.get(1)), r.get(2))))
        .collect())
}

/// Sets the blocked flag of packages.
pub fn set_blocked(
    c: &mut impl GenericClient,
    packages: &[PackageId],
    blocked: bool,
) -> Result<()> {
    let ids: Vec<i32> = packages.iter().map(|p| p.0).collect();
    c.execute(
        "UPDATE package SET blocked = $2 WHERE id = ANY($1)",
        &[&ids, &blocked],
    )
    .map_err(ctx("update blocked flags"))?;
    Ok(())
}

/// Inserts new (untracked) packages with their blocked flag, creating base packages.
pub fn insert_packages(
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
    .map_err(ctx("insert base packages"))?;
    c.execute(
        "INSERT INTO package (base_id, name, collection_id, blocked)
         SELECT bp.id, u.name, $3, u.blocked
         FROM unnest($1::text[], $2::bool[]) AS u(name, blocked) JOIN base_package bp ON bp.name = u.name
         ON CONFLICT DO NOTHING",
        &[&names, &blocked, &collection.0],
    )
    .map_err(ctx("insert packages"))?;
    Ok(())
}

/// Ends the "no SRPM" backoff: clears skip reason 1 everywhere (the scheduler retries).
pub fn clear_no_srpm_skips(c: &mut impl GenericClient) -> Result<u64> {
    c.execute(
        "UPDATE package SET scheduler_skip_reason = NULL WHERE scheduler_skip_reason = 1",
        &[],
    )
    .map_err(ctx("clear no-srpm skip reasons"))
}

/// A package of a collection as real-build registration needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealBuildTarget {
    /// Package id.
    pub id: PackageId,
    /// Whether tracked.
    pub tracked: bool,
    /// EVR of its last build.
    pub last_build: Option<Evr>,
}

/// Packages of a collection by name, with the EVR of their last build.
pub fn real_build_targets(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<HashMap<String, RealBuildTarget>> {
    let rows = c
        .query(
            "SELECT p.name, p.id, p.tracked, lb.epoch, lb.version, lb.release
             FROM package p LEFT JOIN build lb ON lb.id = p.last_build_id
             WHERE p.collection_id = $1",
            &[&collection.0],
        )
        .map_err(ctx("load packages for real builds"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let version: Option<String> = r.get(4);
            let last_build = version.map(|v| {
                Evr::new(
                    r.get(3),
                    v,
                    r.get::<_, Option<String>>(5).unwrap_or_default(),
                )
            });
            (
                r.get::<_, String>(0),
                RealBuildTarget {
                    id: PackageId(r.get(1)),
                    tracked: r.get(2),
                    last_build,
                },
            )
        })
        .collect())
}

/// Packages of a collection that have untagged builds.
pub fn packages_with_untagged_builds(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<BTreeSet<PackageId>> {
    let rows = c
        .query(
            "SELECT DISTINCT b.package_id FROM build b JOIN package p ON p.id = b.package_id
             WHERE p.collection_id = $1 AND b.untagged",
            &[&collection.0],
        )
        .map_err(ctx("load packages with untagged builds"))?;
    Ok(rows.iter().map(|r| PackageId(r.get(0))).collect())
}

/// A finished build's EVR and untagged flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildEvr {
    /// Build.
    pub id: BuildId,
    /// Package.
    pub package_id: PackageId,
    /// SRPM EVR.
    pub evr: Evr,
    /// Untagged flag.
    pub untagged: bool,
}

/// EVRs of the builds (with an EVR) of these packages.
pub fn build_evrs(c: &mut impl GenericClient, packages: &[PackageId]) -> Result<Vec<BuildEvr>> {
    let ids: Vec<i32> = packages.iter().map(|p| p.0).collect();
    let rows = c
        .query(
            "SELECT id, package_id, epoch, version, release, untagged FROM build
             WHERE package_id = ANY($1) AND version IS NOT NULL AND release IS NOT NULL",
            &[&ids],
        )
        .map_err(ctx("load build EVRs"))?;
    Ok(rows
        .iter()
        .map(|r| BuildEvr {
            id: BuildId(r.get(0)),
            package_id: PackageId(r.get(1)),
            evr: Evr::new(r.get(2), r.get::<_, String>(3), r.get::<_, String>(4)),
            untagged: r.get(5),
        })
        .collect())
}

/// Sets the untagged flag of builds (triggers move the last build pointers).
pub fn set_untagged(c: &mut impl GenericClient, builds: &[BuildId], untagged: bool) -> Result<()> {
    let ids: Vec<i32> = builds.iter().map(|b| b.0).collect();
    c.execute(
        "UPDATE build SET untagged = $2 WHERE id = ANY($1) AND untagged <> $2",
        &[&ids, &untagged],
    )
    .map_err(ctx("set untagged"))?;
    Ok(())
}

/// Task ids of the real builds of a collection.
pub fn real_build_task_ids(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<BTreeSet<KojiTaskId>> {
    let rows = c
        .query(
            "SELECT b.task_id FROM build b JOIN package p ON p.id = b.package_id
             WHERE p.collection_id = $1 AND b.real",
            &[&collection.0],
        )
        .map_err(ctx("load real build task ids"))?;
    Ok(rows.iter().map(|r| KojiTaskId(r.get(0))).collect())
}

/// A build to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBuild {
    /// Package.
    pub package_id: PackageId,
    /// State.
    pub state: BuildState,
    /// Koji task.
    pub task_id: KojiTaskId,
    /// Start.
    pub started: SystemTime,
    /// End.
    pub finished: Option<SystemTime>,
    /// SRPM EVR.
    pub evr: Option<Evr>,
    /// Repo.
    pub repo_id: Option<RepoId>,
    /// A real (non-scratch) build.
    pub real: bool,
}

/// Inserts a build unless the package already has one with that task; returns its id.
pub fn insert_build(c: &mut impl GenericClient, b: &NewBuild) -> Result<Option<BuildId>> {
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
        .map_err(ctx("insert build"))?;
    Ok(row.map(|r| BuildId(r.get(0))))
}

/// Refreshes the statistics materialized views.
pub fn refresh_stats(c: &mut impl GenericClient) -> Result<()> {
    c.batch_execute("REFRESH MATERIALIZED VIEW scalar_stats; REFRESH MATERIALIZED VIEW resource_consumption_stats")
        .map_err(ctx("refresh statistics"))
}

// ---------------------------------------------------------------------------------------
// Scheduler

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
    let rows = c
        .query(
            "SELECT p.id, p.collection_id, p.resolved, p.skip_resolution, lb.started,
                    c.latest_repo_resolved, c.priority_coefficient, p.manual_priority,
                    p.static_priority, p.dependency_priority, p.build_priority, p.last_build_id
             FROM package p JOIN collection c ON c.id = p.collection_id
             JOIN build lb ON lb.id = p.last_build_id
             WHERE p.tracked AND NOT p.blocked AND c.latest_repo_resolved
               AND p.last_build_id = p.last_complete_build_id
               AND (p.resolved OR (p.resolved IS NULL AND p.skip_resolution))
               AND p.scheduler_skip_reason IS DISTINCT FROM 1",
            &[],
        )
        .map_err(ctx("load schedule rows"))?;
    Ok(rows
        .iter()
        .map(|r| ScheduleRow {
            package_id: PackageId(r.get(0)),
            collection_id: CollectionId(r.get(1)),
            input: crate::priority::PriorityInput {
                blocked: false,
                tracked: true,
                resolved: r.get(2),
                skip_resolution: r.get(3),
                running_build: false,
                last_build_started: Some(r.get(4)),
                collection_resolved: r.get(5),
                coefficient: r.get(6),
                manual: r.get(7),
                static_: r.get(8),
                dependency: r.get(9),
                build: r.get(10),
            },
            last_build_id: r.get::<_, Option<i32>>(11).map(BuildId),
        })
        .collect())
}

/// Collection and last build of a package.
pub fn package_collection(
    c: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<(CollectionId, Option<BuildId>)>> {
    let row = c
        .query_opt(
            "SELECT collection_id, last_build_id FROM package WHERE id = $1",
            &[&package.0],
        )
        .map_err(ctx("load package collection"))?;
    Ok(row.map(|r| {
        (
            CollectionId(r.get(0)),
            r.get::<_, Option<i32>>(1).map(BuildId),
        )
    }))
}

/// Name and arch override of a package.
pub fn package_name_and_override(
    c: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<(String, Option<String>)>> {
    let row = c
        .query_opt(
            "SELECT name, arch_override FROM package WHERE id = $1",
            &[&package.0],
        )
        .map_err(ctx("load package name"))?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Sets a scheduler skip reason (1 no SRPM, 2 no arch); for 2 also lowers the manual
/// priority by 1000.
pub fn set_skip_reason(c: &mut impl GenericClient, package: PackageId, reason: i32) -> Result<()> {
    c.execute(
        "UPDATE package SET scheduler_skip_reason = $2,
                manual_priority = manual_priority - CASE WHEN $2 = 2 THEN 1000 ELSE 0 END
         WHERE id = $1",
        &[&package.0, &reason],
    )
    .map_err(ctx("set scheduler skip reason"))?;
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
pub const RESERVED_TASK: KojiTaskId = KojiTaskId(0);

/// Reserves a submission: inside the caller's transaction, locks the package, checks that
/// it is still tracked, unblocked, without a running build, with the same last build, and
/// that fewer than `max_builds` builds run; then inserts a running build with task id 0
/// (the package now has a running build, so nobody else submits it; the `(package_id,
/// task_id)` unique key allows one reservation per package). Returns the reservation.
pub fn reserve_submission(c: &mut impl GenericClient, r: &Reservation<'_>) -> Result<Reserve> {
    // Serialises reservations across processes (also the admin `submit-build`).
    c.execute(
        "SELECT pg_advisory_xact_lock($1, 0)",
        &[&(LockSpace::Submission as i32)],
    )
    .map_err(ctx("lock submissions"))?;
    let row = c
        .query_opt(
            "SELECT last_build_id, tracked, blocked,
                    EXISTS (SELECT 1 FROM build WHERE package_id = package.id AND state = 2)
             FROM package WHERE id = $1 FOR UPDATE",
            &[&r.package.0],
        )
        .map_err(ctx("lock package for submission"))?;
    let Some(row) = row else {
        return Ok(Reserve::NotEligible);
    };
    let last: Option<BuildId> = row.get::<_, Option<i32>>(0).map(BuildId);
    let (tracked, blocked, running): (bool, bool, bool) = (row.get(1), row.get(2), row.get(3));
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
    Ok(id.map_or(Reserve::RunningBuild, Reserve::Reserved))
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
pub fn confirm_submission(
    c: &mut impl GenericClient,
    build: BuildId,
    task: KojiTaskId,
) -> Result<()> {
    c.execute(
        "UPDATE build SET task_id = $2 WHERE id = $1",
        &[&build.0, &task.0],
    )
    .map_err(ctx("confirm submission"))?;
    c.execute(
        "UPDATE package SET manual_priority = 0, scheduler_skip_reason = NULL
         WHERE id = (SELECT package_id FROM build WHERE id = $1)",
        &[&build.0],
    )
    .map_err(ctx("reset priority after submission"))?;
    Ok(())
}

/// Ids of the collections that have a package called `name`.
pub fn collections_with_package(
    c: &mut impl GenericClient,
    name: &str,
) -> Result<Vec<CollectionId>> {
    let rows = c
        .query(
            "SELECT collection_id FROM package WHERE name = $1 ORDER BY collection_id",
            &[&name],
        )
        .map_err(ctx("find the collections of a package"))?;
    Ok(rows.iter().map(|r| CollectionId(r.get(0))).collect())
}
