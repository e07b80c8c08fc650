//! Queries of the repo resolver: the base buildroot result, the packages to resolve, and
//! their resolution state.

use std::collections::{BTreeSet, HashMap};

use postgres::GenericClient;

use super::Result;
use crate::db::{QueryContext, build_state, column};
use crate::model::{BuildId, BuildState, CollectionId, PackageId, RepoId};

/// Records the base buildroot result of a repo: latest repo, resolved flag and problems.
pub(crate) fn set_collection_repo(
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
    .ctx("delete buildroot problems")?;
    c.execute(
        "UPDATE collection SET latest_repo_id = $2, latest_repo_resolved = $3 WHERE id = $1",
        &[&id.0, &repo.0, &resolved],
    )
    .ctx("update collection repo")?;
    let problems: Vec<&str> = problems.iter().map(String::as_str).collect();
    c.execute(
        "INSERT INTO buildroot_problem (collection_id, problem) SELECT $1, unnest($2::text[])",
        &[&id.0, &problems],
    )
    .ctx("insert buildroot problems")?;
    Ok(())
}

/// A package to resolve in a repo, with what its result is compared to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolveCandidate {
    /// The package.
    pub(crate) package_id: PackageId,
    /// Its name.
    pub(crate) name: String,
    /// Its last build when loaded (results are dropped if it changes meanwhile).
    pub(crate) last_build_id: Option<BuildId>,
    /// Version of the last complete build (whose BuildRequires are resolved).
    pub(crate) version: String,
    /// Release of the last complete build.
    pub(crate) release: String,
    /// The build whose installed set the result is diffed against (spec 3.6 step 5).
    pub(crate) comparison_build: Option<BuildId>,
}

/// Eligible packages of a collection (tracked, not blocked, not skip_resolution, with a
/// complete build); with `only_unresolved`, only those with `resolved IS NULL`.
pub(crate) fn resolve_candidates(
    c: &mut impl GenericClient,
    collection: CollectionId,
    only_unresolved: bool,
) -> Result<Vec<ResolveCandidate>> {
    const Q: &str = "load resolve candidates";
    let sql = format!(
        "SELECT p.id, p.name, p.last_build_id, lcb.version, lcb.release,
                {COMPARISON_BUILD} AS comparison_build
         FROM package p
         JOIN build lcb ON lcb.id = p.last_complete_build_id
         LEFT JOIN build lb ON lb.id = p.last_build_id
         WHERE p.collection_id = $1 AND p.tracked AND NOT p.blocked AND NOT p.skip_resolution
           AND (NOT $2 OR p.resolved IS NULL)
         ORDER BY p.id"
    );
    let rows = c
        .query(sql.as_str(), &[&collection.0, &only_unresolved])
        .ctx(Q)?;
    rows.iter()
        .map(|r| ResolveCandidate::from_row(r, Q))
        .collect()
}

impl ResolveCandidate {
    /// A row of the candidate queries (`id`, `name`, `last_build_id`, `version`, `release`,
    /// `comparison_build`).
    fn from_row(r: &postgres::Row, query: &'static str) -> Result<ResolveCandidate> {
        Ok(ResolveCandidate {
            package_id: PackageId(column(r, query, "id")?),
            name: column(r, query, "name")?,
            last_build_id: column::<Option<i32>>(r, query, "last_build_id")?.map(BuildId),
            version: column::<Option<String>>(r, query, "version")?.unwrap_or_default(),
            release: column::<Option<String>>(r, query, "release")?.unwrap_or_default(),
            comparison_build: column::<Option<i32>>(r, query, "comparison_build")?.map(BuildId),
        })
    }
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
pub(crate) fn pending_resolve_candidates(
    c: &mut impl GenericClient,
    collection: CollectionId,
) -> Result<Vec<ResolveCandidate>> {
    const F: &str = "find packages with stale changes";
    let ids = c
        .query(
            "SELECT id FROM package
             WHERE collection_id = $1 AND tracked AND NOT blocked AND NOT skip_resolution
               AND last_complete_build_id IS NOT NULL
               AND (resolved IS NULL OR changes_build_id IS DISTINCT FROM last_build_id)",
            &[&collection.0],
        )
        .ctx(F)?
        .iter()
        .map(|r| column::<i32>(r, F, "id"))
        .collect::<Result<Vec<i32>>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const Q: &str = "load pending resolve candidates";
    let sql = format!(
        "SELECT id, name, last_build_id, version, release, comparison AS comparison_build FROM (
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
    let rows = c.query(sql.as_str(), &[&ids]).ctx(Q)?;
    rows.iter()
        .map(|r| ResolveCandidate::from_row(r, Q))
        .collect()
}

/// Records the build each package's unapplied changes were computed against
/// (`changes_build_id`; `None`: none, or the result was dropped).
pub(crate) fn set_changes_builds(
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
    .ctx("update package changes builds")?;
    Ok(())
}

/// A package row locked for update by the repo resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockedPackage {
    /// The package.
    pub(crate) id: PackageId,
    /// Its current last build.
    pub(crate) last_build_id: Option<BuildId>,
    /// Its current resolved flag.
    pub(crate) resolved: Option<bool>,
    /// Blocked in Koji.
    pub(crate) blocked: bool,
    /// Tracked.
    pub(crate) tracked: bool,
    /// State of its last complete build.
    pub(crate) last_complete_build_state: Option<BuildState>,
    /// `resolved` and problems of its newest resolution change.
    pub(crate) last_change: Option<(bool, BTreeSet<String>)>,
}

/// Locks packages (`FOR UPDATE`, by id) and loads their previous resolution state.
pub(crate) fn lock_packages_for_resolution(
    c: &mut impl GenericClient,
    ids: &[PackageId],
) -> Result<Vec<LockedPackage>> {
    const Q: &str = "lock packages";
    const QC: &str = "load last resolution changes";
    let ids: Vec<i32> = ids.iter().map(|p| p.0).collect();
    let rows = c
        .query(
            "SELECT id, last_build_id, resolved, blocked, tracked, last_complete_build_state
             FROM package WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&ids],
        )
        .ctx(Q)?;
    let changes = c
        .query(
            "SELECT DISTINCT ON (rc.package_id) rc.package_id, rc.resolved,
                    coalesce((SELECT array_agg(problem ORDER BY problem) FROM resolution_problem
                              WHERE resolution_id = rc.id), '{}') AS problems
             FROM resolution_change rc WHERE rc.package_id = ANY($1)
             ORDER BY rc.package_id, rc.timestamp DESC, rc.id DESC",
            &[&ids],
        )
        .ctx(QC)?;
    let mut last: HashMap<i32, (bool, BTreeSet<String>)> = changes
        .iter()
        .map(|r| {
            let problems: Vec<String> = column(r, QC, "problems")?;
            Ok((
                column(r, QC, "package_id")?,
                (column(r, QC, "resolved")?, problems.into_iter().collect()),
            ))
        })
        .collect::<Result<_>>()?;
    rows.iter()
        .map(|r| {
            let id: i32 = column(r, Q, "id")?;
            Ok(LockedPackage {
                id: PackageId(id),
                last_build_id: column::<Option<i32>>(r, Q, "last_build_id")?.map(BuildId),
                resolved: column(r, Q, "resolved")?,
                blocked: column(r, Q, "blocked")?,
                tracked: column(r, Q, "tracked")?,
                last_complete_build_state: build_state(
                    "package.last_complete_build_state",
                    column(r, Q, "last_complete_build_state")?,
                )?,
                last_change: last.remove(&id),
            })
        })
        .collect()
}

/// Sets `resolved` and `dependency_priority` of packages (one statement).
pub(crate) fn set_package_resolutions(
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
    .ctx("update package resolutions")?;
    Ok(())
}

/// Inserts resolution changes with their problems (at most one per package).
pub(crate) fn insert_resolution_changes(
    c: &mut impl GenericClient,
    changes: &[(PackageId, bool, &BTreeSet<String>)],
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<i32> = changes.iter().map(|r| r.0.0).collect();
    let resolved: Vec<bool> = changes.iter().map(|r| r.1).collect();
    const Q: &str = "insert resolution changes";
    let rows = c
        .query(
            "INSERT INTO resolution_change (package_id, resolved)
             SELECT * FROM unnest($1::int4[], $2::bool[]) RETURNING id, package_id",
            &[&ids, &resolved],
        )
        .ctx(Q)?;
    let change_of: HashMap<i32, i64> = rows
        .iter()
        .map(|r| Ok((column(r, Q, "package_id")?, column(r, Q, "id")?)))
        .collect::<Result<_>>()?;
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
    .ctx("insert resolution problems")?;
    Ok(())
}
