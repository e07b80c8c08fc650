//! Dependencies (the `dependency` table, build dependency sets) and dependency changes:
//! shared by the repo resolver and the build resolver.

use std::collections::HashMap;

use postgres::GenericClient;

use super::Result;
use crate::db::{QueryContext, column};
use crate::model::{BuildId, DependencyId, Evr, Nevra, PackageId};

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
    .ctx("insert dependencies")?;
    const Q: &str = "select dependency ids";
    let rows = c
        .query(
            "SELECT u.ord, d.id
             FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[])
                  WITH ORDINALITY AS u(name, epoch, version, release, arch, ord)
             JOIN dependency d ON d.name = u.name AND d.epoch = u.epoch AND d.version = u.version
                               AND d.release = u.release AND d.arch = u.arch",
            &[&names, &epochs, &versions, &releases, &arches],
        )
        .ctx(Q)?;
    let mut ids = vec![DependencyId(0); nevras.len()];
    for r in &rows {
        let ord: i64 = column(r, Q, "ord")?;
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| ids.get_mut(i)) {
            *slot = DependencyId(column(r, Q, "id")?);
        }
    }
    Ok(ids)
}

/// The installed dependency sets of builds (their `dependency_ids`), by build.
/// Builds without a stored set are absent from the map.
pub(crate) fn build_dependencies(
    c: &mut impl GenericClient,
    builds: &[BuildId],
) -> Result<HashMap<BuildId, Vec<(DependencyId, Nevra)>>> {
    let ids: Vec<i32> = builds.iter().map(|b| b.0).collect();
    const Q: &str = "load build dependencies";
    let rows = c
        .query(
            "SELECT b.id AS build_id, d.id, d.name, d.epoch, d.version, d.release, d.arch
             FROM build b CROSS JOIN LATERAL unnest(b.dependency_ids) AS u(dep_id)
             JOIN dependency d ON d.id = u.dep_id
             WHERE b.id = ANY($1) AND b.dependency_ids IS NOT NULL",
            &[&ids],
        )
        .ctx(Q)?;
    let mut out: HashMap<BuildId, Vec<(DependencyId, Nevra)>> = HashMap::new();
    for r in &rows {
        out.entry(BuildId(column(r, Q, "build_id")?))
            .or_default()
            .push(dependency(r, Q)?);
    }
    Ok(out)
}

/// The stored dependency id sets of builds (without loading the NEVRAs).
pub(crate) fn build_dependency_id_sets(
    c: &mut impl GenericClient,
    builds: &[BuildId],
) -> Result<HashMap<BuildId, Vec<DependencyId>>> {
    let ids: Vec<i32> = builds.iter().map(|b| b.0).collect();
    const Q: &str = "load build dependency ids";
    let rows = c
        .query(
            "SELECT id, dependency_ids FROM build WHERE id = ANY($1) AND dependency_ids IS NOT NULL",
            &[&ids],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            let deps: Vec<i32> = column(r, Q, "dependency_ids")?;
            Ok((
                BuildId(column(r, Q, "id")?),
                deps.into_iter().map(DependencyId).collect(),
            ))
        })
        .collect()
}

/// The NEVRAs of `dependency` rows.
pub(crate) fn dependencies_by_id(
    c: &mut impl GenericClient,
    ids: &[DependencyId],
) -> Result<Vec<(DependencyId, Nevra)>> {
    let ids: Vec<i32> = ids.iter().map(|d| d.0).collect();
    const Q: &str = "load dependencies";
    let rows = c
        .query(
            "SELECT id, name, epoch, version, release, arch FROM dependency WHERE id = ANY($1)",
            &[&ids],
        )
        .ctx(Q)?;
    rows.iter().map(|r| dependency(r, Q)).collect()
}

/// A `dependency` row: its id and NEVRA (columns `id`, `name`, `epoch`, `version`,
/// `release`, `arch`).
fn dependency(r: &postgres::Row, q: &'static str) -> Result<(DependencyId, Nevra)> {
    Ok((
        DependencyId(column(r, q, "id")?),
        Nevra {
            name: column(r, q, "name")?,
            evr: Evr::new(
                column(r, q, "epoch")?,
                column::<String>(r, q, "version")?,
                column::<String>(r, q, "release")?,
            ),
            arch: column(r, q, "arch")?,
        },
    ))
}

/// A dependency change ready to store (ids resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChangeRow {
    /// Old dependency.
    pub(crate) prev: Option<DependencyId>,
    /// New dependency.
    pub(crate) curr: Option<DependencyId>,
    /// Distance.
    pub(crate) distance: Option<i32>,
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
pub(crate) fn replace_unapplied_changes(
    c: &mut impl GenericClient,
    packages: &[PackageId],
    changes: &[(PackageId, ChangeRow)],
) -> Result<()> {
    let ids: Vec<i32> = packages.iter().map(|p| p.0).collect();
    c.execute(
        "DELETE FROM unapplied_change WHERE package_id = ANY($1)",
        &[&ids],
    )
    .ctx("delete unapplied changes")?;
    let rows: Vec<(i32, ChangeRow)> = changes.iter().map(|(p, ch)| (p.0, *ch)).collect();
    let (owner, prev, curr, dist) = change_columns(&rows);
    c.execute(
        "INSERT INTO unapplied_change (package_id, prev_dep_id, curr_dep_id, distance)
         SELECT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int4[])",
        &[&owner, &prev, &curr, &dist],
    )
    .ctx("insert unapplied changes")?;
    Ok(())
}

/// Inserts applied changes of a build.
pub(crate) fn insert_applied_changes(
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
    .ctx("insert applied changes")?;
    Ok(())
}
