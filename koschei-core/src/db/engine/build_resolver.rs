//! Queries of the build resolver: completed builds whose dependencies are not processed.

use std::time::SystemTime;

use postgres::GenericClient;

use super::Result;
use crate::db::{QueryContext, column};
use crate::model::{BuildId, CollectionId, DependencyId, PackageId, RepoId};

/// A completed (or running, with a known repo) build whose dependencies are not processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnprocessedBuild {
    /// The build.
    pub(crate) id: BuildId,
    /// Its package.
    pub(crate) package_id: PackageId,
    /// The package's collection.
    pub(crate) collection_id: CollectionId,
    /// Package name.
    pub(crate) name: String,
    /// SRPM version.
    pub(crate) version: String,
    /// SRPM release.
    pub(crate) release: String,
    /// The repo the build ran in.
    pub(crate) repo_id: RepoId,
    /// When it started.
    pub(crate) started: SystemTime,
}

/// Builds with `deps_resolved IS NULL AND repo_id IS NOT NULL`, by collection, repo, start.
pub(crate) fn unprocessed_builds(c: &mut impl GenericClient) -> Result<Vec<UnprocessedBuild>> {
    const Q: &str = "load unprocessed builds";
    let rows = c
        .query(
            "SELECT b.id, b.package_id, p.collection_id, p.name, b.version, b.release, b.repo_id, b.started
             FROM build b JOIN package p ON p.id = b.package_id
             WHERE b.deps_resolved IS NULL AND b.repo_id IS NOT NULL AND b.version IS NOT NULL
               AND b.release IS NOT NULL
             ORDER BY p.collection_id, b.repo_id, b.started, b.id",
            &[],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(UnprocessedBuild {
                id: BuildId(column(r, Q, "id")?),
                package_id: PackageId(column(r, Q, "package_id")?),
                collection_id: CollectionId(column(r, Q, "collection_id")?),
                name: column(r, Q, "name")?,
                version: column(r, Q, "version")?,
                release: column(r, Q, "release")?,
                repo_id: RepoId(column(r, Q, "repo_id")?),
                started: column(r, Q, "started")?,
            })
        })
        .collect()
}

/// Marks a build's dependencies unresolvable; when it is its package's last build, sets the
/// package's build priority to `bump` so it gets rebuilt. Returns whether it bumped.
pub(crate) fn set_build_deps_unresolved(
    c: &mut impl GenericClient,
    build: BuildId,
    bump: i32,
) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE build SET deps_resolved = false WHERE id = $1 AND deps_resolved IS NULL",
            &[&build.0],
        )
        .ctx("mark build unresolved")?;
    if n == 0 {
        return Ok(false);
    }
    let n = c
        .execute(
            "UPDATE package SET build_priority = $2 WHERE last_build_id = $1",
            &[&build.0, &bump],
        )
        .ctx("bump build priority")?;
    Ok(n > 0)
}

/// The newest build of the package started before `started` with resolved dependencies.
pub(crate) fn previous_resolved_build(
    c: &mut impl GenericClient,
    package: PackageId,
    build: BuildId,
    started: SystemTime,
) -> Result<Option<BuildId>> {
    const Q: &str = "find previous resolved build";
    let row = c
        .query_opt(
            "SELECT id FROM build
             WHERE package_id = $1 AND id <> $2 AND deps_resolved AND (started, id) < ($3, $2)
             ORDER BY started DESC, id DESC LIMIT 1",
            &[&package.0, &build.0, &started],
        )
        .ctx(Q)?;
    row.map(|r| column(&r, Q, "id").map(BuildId)).transpose()
}

/// Stores a build's resolved dependency set; returns false when the build was processed
/// meanwhile (nothing written).
pub(crate) fn set_build_deps_resolved(
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
        .ctx("store build dependencies")?;
    Ok(n > 0)
}

/// Drops the dependency set of an older build (only the newest resolved build keeps one).
pub(crate) fn clear_build_deps(c: &mut impl GenericClient, build: BuildId) -> Result<()> {
    c.execute(
        "UPDATE build SET dependency_ids = NULL WHERE id = $1",
        &[&build.0],
    )
    .ctx("clear build dependencies")?;
    Ok(())
}
