//! Smaller queries: groups, collection groups, stats, affected-by, badges, the JSON API.

use std::time::SystemTime;

use super::{Reader, Result, build_state, column, query};
use crate::model::{
    BuildId, CollectionGroupId, CollectionId, Evr, KojiTaskId, PackageGroupId, PackageState,
};

/// The schema version of the database compared with the one this build of Koschei needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The highest migration recorded in the database; `None` when none is (an empty or
    /// unmigrated database).
    pub found: Option<i32>,
    /// The highest migration this build knows ([`crate::db::migrate::latest_version`]).
    pub needed: i32,
}

impl SchemaVersion {
    /// Whether the database is at exactly the needed version.
    pub fn is_current(&self) -> bool {
        self.found == Some(self.needed)
    }
}

/// Checks that the database answers and reports its schema version.
pub fn healthcheck(client: &mut Reader) -> Result<SchemaVersion> {
    let rows = query(
        client,
        "healthcheck",
        "SELECT to_regclass('schema_migration') IS NOT NULL AS present",
        &[],
    )?;
    let has_table: bool = match rows.first() {
        Some(row) => column(row, "healthcheck", "present")?,
        None => false,
    };
    let found = if has_table {
        let rows = query(
            client,
            "healthcheck",
            "SELECT max(version) AS version FROM schema_migration",
            &[],
        )?;
        match rows.first() {
            Some(row) => column(row, "healthcheck", "version")?,
            None => None,
        }
    } else {
        None
    };
    Ok(SchemaVersion {
        found,
        needed: crate::db::migrate::latest_version(),
    })
}

/// A collection group and its member collections.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionGroupRow {
    /// Id.
    pub id: CollectionGroupId,
    /// Machine name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Members.
    pub collection_ids: Vec<CollectionId>,
}

/// All collection groups ordered by display name, with their members.
pub fn collection_groups(client: &mut Reader) -> Result<Vec<CollectionGroupRow>> {
    const N: &str = "collection groups";
    let rows = query(
        client,
        N,
        "SELECT g.id, g.name, g.display_name,
                coalesce(array_agg(r.collection_id ORDER BY r.collection_id)
                         FILTER (WHERE r.collection_id IS NOT NULL), '{}') AS members
         FROM collection_group g LEFT JOIN collection_group_relation r ON r.group_id = g.id
         GROUP BY g.id ORDER BY g.display_name, g.name",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let members: Vec<i32> = column(r, N, "members")?;
            Ok(CollectionGroupRow {
                id: CollectionGroupId(column(r, N, "id")?),
                name: column(r, N, "name")?,
                display_name: column(r, N, "display_name")?,
                collection_ids: members.into_iter().map(CollectionId).collect(),
            })
        })
        .collect()
}

/// A package group with its package count.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    /// Id.
    pub id: PackageGroupId,
    /// Namespace (`None` = global group).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Base packages in the group that are not blocked in every collection.
    pub package_count: i64,
}

impl GroupRow {
    /// `namespace/name` or `name`.
    pub fn full_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

const GROUP_SQL_HEAD: &str = "SELECT g.id, g.namespace, g.name,
        (SELECT count(*) FROM package_group_relation r
         WHERE r.group_id = g.id
           AND EXISTS (SELECT 1 FROM package p WHERE p.base_id = r.base_id AND NOT p.blocked))
        AS package_count
     FROM package_group g ";

fn group_row(r: &postgres::Row, n: &'static str) -> Result<GroupRow> {
    Ok(GroupRow {
        id: PackageGroupId(column(r, n, "id")?),
        namespace: column(r, n, "namespace")?,
        name: column(r, n, "name")?,
        package_count: column(r, n, "package_count")?,
    })
}

/// The global groups (no namespace), by name.
pub fn global_groups(client: &mut Reader) -> Result<Vec<GroupRow>> {
    const N: &str = "global groups";
    let mut sql = super::Sql::new(GROUP_SQL_HEAD);
    sql.push("WHERE g.namespace IS NULL ORDER BY g.name");
    sql.query(client, N)?
        .iter()
        .map(|r| group_row(r, N))
        .collect()
}

/// The group `namespace/name` (or global `name`); `None` when it does not exist.
pub fn group_by_name(
    client: &mut Reader,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<GroupRow>> {
    const N: &str = "group by name";
    let mut sql = super::Sql::new(GROUP_SQL_HEAD);
    sql.push("WHERE g.namespace IS NOT DISTINCT FROM ")
        .param(namespace.map(str::to_owned))
        .push("::text AND g.name = ")
        .param(name.to_owned());
    sql.query(client, N)?
        .first()
        .map(|r| group_row(r, N))
        .transpose()
}

/// The names of a group's maintainers (the users of `group_acl`), in name order.
pub fn group_maintainers(client: &mut Reader, group: PackageGroupId) -> Result<Vec<String>> {
    const N: &str = "group maintainers";
    let rows = query(
        client,
        N,
        "SELECT u.name FROM group_acl a JOIN users u ON u.id = a.user_id
         WHERE a.group_id = $1 ORDER BY u.name",
        &[&group.0],
    )?;
    rows.iter().map(|r| column(r, N, "name")).collect()
}

/// The state of package `name` in a collection (for badges); `None` when absent.
pub fn package_state(
    client: &mut Reader,
    collection: CollectionId,
    name: &str,
) -> Result<Option<PackageState>> {
    const N: &str = "package state";
    let rows = query(
        client,
        N,
        "SELECT blocked, tracked, resolved, last_complete_build_state FROM package
         WHERE collection_id = $1 AND name = $2",
        &[&collection.0, &name],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let lcb = build_state(
        "package.last_complete_build_state",
        column(r, N, "last_complete_build_state")?,
    )?;
    Ok(Some(PackageState::from_flags(
        column(r, N, "blocked")?,
        column(r, N, "tracked")?,
        column(r, N, "resolved")?,
        lcb,
    )))
}

/// The `scalar_stats` materialized view.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarStats {
    /// When the view was last refreshed.
    pub refresh_time: SystemTime,
    /// All packages.
    pub packages: i64,
    /// Tracked packages.
    pub tracked_packages: i64,
    /// Blocked packages.
    pub blocked_packages: i64,
    /// All builds.
    pub builds: i64,
    /// Real builds.
    pub real_builds: i64,
    /// Scratch builds.
    pub scratch_builds: i64,
}

/// Reads `scalar_stats`; `None` when the view is empty.
pub fn scalar_stats(client: &mut Reader) -> Result<Option<ScalarStats>> {
    const N: &str = "scalar stats";
    let rows = query(
        client,
        N,
        "SELECT refresh_time, packages, tracked_packages, blocked_packages, builds,
                real_builds, scratch_builds FROM scalar_stats LIMIT 1",
        &[],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(ScalarStats {
        refresh_time: column(r, N, "refresh_time")?,
        packages: column(r, N, "packages")?,
        tracked_packages: column(r, N, "tracked_packages")?,
        blocked_packages: column(r, N, "blocked_packages")?,
        builds: column(r, N, "builds")?,
        real_builds: column(r, N, "real_builds")?,
        scratch_builds: column(r, N, "scratch_builds")?,
    }))
}

/// Build time of one package on one arch.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRow {
    /// Package name.
    pub name: String,
    /// Koji arch.
    pub arch: String,
    /// Total seconds of finished tasks (`None` when only unfinished tasks).
    pub seconds: Option<f64>,
    /// Share of all build time, 0 to 1.
    pub percentage: Option<f64>,
}

/// A page of `resource_consumption_stats`, most time first, and the number of rows.
pub fn resource_stats(
    client: &mut Reader,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<ResourceRow>)> {
    const N: &str = "resource stats";
    let rows = query(
        client,
        N,
        "SELECT name, arch, extract(epoch FROM time)::float8 AS seconds,
                time_percentage::float8 AS percentage
         FROM resource_consumption_stats
         ORDER BY time DESC NULLS LAST, name, arch LIMIT $1 OFFSET $2",
        &[&limit, &offset],
    )?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(ResourceRow {
                name: column(r, N, "name")?,
                arch: column(r, N, "arch")?,
                seconds: column(r, N, "seconds")?,
                percentage: column(r, N, "percentage")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    const C: &str = "resource stats count";
    let total = match query(
        client,
        C,
        "SELECT count(*) AS n FROM resource_consumption_stats",
        &[],
    )?
    .first()
    {
        Some(r) => column(r, C, "n")?,
        None => 0,
    };
    Ok((total, list))
}

/// A failed build that may have been broken by a dependency update.
#[derive(Debug, Clone, PartialEq)]
pub struct AffectedByRow {
    /// Package name.
    pub package_name: String,
    /// Current state of the package.
    pub state: PackageState,
    /// The failed build.
    pub build_id: BuildId,
    /// Its Koji task.
    pub task_id: KojiTaskId,
    /// Its start.
    pub started: SystemTime,
    /// Dependency distance.
    pub distance: Option<i32>,
    /// Dependency EVR before.
    pub prev: Option<Evr>,
    /// Dependency EVR after.
    pub curr: Option<Evr>,
}

/// Failed builds in `collection` whose applied changes moved dependency `dep` across the
/// range (`evr1`, `evr2`) in RPM order: the previous or current EVR lies strictly inside,
/// or the previous is at most `evr1` and the current at least `evr2`. Only tracked,
/// unblocked packages whose previous build did not fail; by distance, then newest first.
pub fn affected_by(
    client: &mut Reader,
    collection: CollectionId,
    dep: &str,
    evr1: &Evr,
    evr2: &Evr,
) -> Result<Vec<AffectedByRow>> {
    const N: &str = "affected by";
    let (k1, k2) = (evr1.sort_key(), evr2.sort_key());
    let rows = query(
        client,
        N,
        "SELECT p.name, p.blocked, p.tracked, p.resolved, p.last_complete_build_state,
                b.id AS build_id, b.task_id, b.started, ch.distance,
                d1.epoch AS e1, d1.version AS v1, d1.release AS r1,
                d2.epoch AS e2, d2.version AS v2, d2.release AS r2
         FROM applied_change ch
         JOIN build b ON b.id = ch.build_id
         JOIN package p ON p.id = b.package_id
         LEFT JOIN dependency d1 ON d1.id = ch.prev_dep_id
         LEFT JOIN dependency d2 ON d2.id = ch.curr_dep_id
         WHERE coalesce(d1.name, d2.name) = $1
           AND p.collection_id = $2 AND p.tracked AND NOT p.blocked
           AND b.state = 5
           AND ((d1.evr_key > $3 AND d1.evr_key < $4)
                OR (d2.evr_key > $3 AND d2.evr_key < $4)
                OR (d1.evr_key <= $3 AND d2.evr_key >= $4))
           AND coalesce((SELECT pb.state FROM build pb
                         WHERE pb.package_id = b.package_id
                           AND (pb.started, pb.id) < (b.started, b.id)
                         ORDER BY pb.started DESC, pb.id DESC LIMIT 1), 0) <> 5
         ORDER BY ch.distance NULLS LAST, b.started DESC, p.name",
        &[&dep, &collection.0, &k1, &k2],
    )?;
    rows.iter()
        .map(|r| {
            let evr =
                |e: &'static str, v: &'static str, rel: &'static str| -> Result<Option<Evr>> {
                    let v: Option<String> = column(r, N, v)?;
                    let rel: Option<String> = column(r, N, rel)?;
                    Ok(match (v, rel) {
                        (Some(v), Some(rel)) => Some(Evr::new(column(r, N, e)?, v, rel)),
                        _ => None,
                    })
                };
            let lcb = build_state(
                "package.last_complete_build_state",
                column(r, N, "last_complete_build_state")?,
            )?;
            Ok(AffectedByRow {
                package_name: column(r, N, "name")?,
                state: PackageState::from_flags(
                    column(r, N, "blocked")?,
                    column(r, N, "tracked")?,
                    column(r, N, "resolved")?,
                    lcb,
                ),
                build_id: BuildId(column(r, N, "build_id")?),
                task_id: KojiTaskId(column(r, N, "task_id")?),
                started: column(r, N, "started")?,
                distance: column(r, N, "distance")?,
                prev: evr("e1", "v1", "r1")?,
                curr: evr("e2", "v2", "r2")?,
            })
        })
        .collect()
}

/// The last complete build as the JSON API shows it (borrowed from the row being read).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiBuild<'a> {
    /// Koji task.
    pub task_id: KojiTaskId,
    /// Start.
    pub time_started: SystemTime,
    /// End.
    pub time_finished: Option<SystemTime>,
    /// SRPM epoch.
    pub epoch: Option<i32>,
    /// SRPM version.
    pub version: Option<&'a str>,
    /// SRPM release.
    pub release: Option<&'a str>,
}

/// A package as `/api/v1/packages` lists it (borrowed from the row being read).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiPackage<'a> {
    /// Name.
    pub name: &'a str,
    /// Collection name.
    pub collection: &'a str,
    /// State.
    pub state: PackageState,
    /// Last complete build.
    pub last_complete_build: Option<ApiBuild<'a>>,
}

/// The columns of a row by position, looked up by name once per query (the rows of one
/// statement all have the same columns).
struct Positions<const K: usize>([usize; K]);

impl<const K: usize> Positions<K> {
    fn of(row: &postgres::Row, what: &'static str, names: [&'static str; K]) -> Result<Self> {
        let mut out = [0; K];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = row
                .columns()
                .iter()
                .position(|c| c.name() == name)
                .ok_or_else(|| super::Error::Invalid {
                    what,
                    message: format!("the query has no column `{name}`"),
                })?;
        }
        Ok(Positions(out))
    }

    fn get<'a, T: postgres::types::FromSql<'a>>(
        &self,
        row: &'a postgres::Row,
        what: &'static str,
        names: [&'static str; K],
        i: usize,
    ) -> Result<T> {
        row.try_get(self.0[i])
            .map_err(|source| super::Error::Column {
                what,
                column: names[i],
                source,
            })
    }
}

/// All packages (blocked and untracked included) ordered by name then collection order;
/// `names` and `collections` filter when non-empty. Each package is handed to `each` as its
/// row arrives, so the whole list (34,000 packages are 8 MB of JSON) is never held as rows
/// or values.
pub fn api_packages(
    client: &mut Reader,
    names: &[String],
    collections: &[CollectionId],
    mut each: impl FnMut(&ApiPackage<'_>) -> Result<()>,
) -> Result<()> {
    const N: &str = "api packages";
    const COLS: [&str; 12] = [
        "name",
        "collection",
        "blocked",
        "tracked",
        "resolved",
        "last_complete_build_state",
        "task_id",
        "started",
        "finished",
        "epoch",
        "version",
        "release",
    ];
    let cids: Vec<i32> = collections.iter().map(|c| c.0).collect();
    let mut sql = super::Sql::new(
        "SELECT p.name, c.name AS collection, p.blocked, p.tracked, p.resolved,
                p.last_complete_build_state, b.task_id, b.started, b.finished, b.epoch,
                b.version, b.release
         FROM package p JOIN collection c ON c.id = p.collection_id
         LEFT JOIN build b ON b.id = p.last_complete_build_id
         WHERE true",
    );
    // Separate statements with and without each filter, so that each has its own plan.
    if !names.is_empty() {
        sql.push(" AND p.name = ANY(")
            .param(names.to_vec())
            .push(")");
    }
    if !cids.is_empty() {
        sql.push(" AND p.collection_id = ANY(")
            .param(cids)
            .push(")");
    }
    sql.push(" ORDER BY p.name, c.\"order\" DESC, c.name DESC");
    let mut pos: Option<Positions<12>> = None;
    sql.for_each_row(client, N, |r| {
        let p = match &pos {
            Some(p) => p,
            None => pos.insert(Positions::of(r, N, COLS)?),
        };
        let task: Option<i32> = p.get(r, N, COLS, 6)?;
        let started: Option<SystemTime> = p.get(r, N, COLS, 7)?;
        let last_complete_build = match (task, started) {
            (Some(task), Some(started)) => Some(ApiBuild {
                task_id: KojiTaskId(task),
                time_started: started,
                time_finished: p.get(r, N, COLS, 8)?,
                epoch: p.get(r, N, COLS, 9)?,
                version: p.get(r, N, COLS, 10)?,
                release: p.get(r, N, COLS, 11)?,
            }),
            _ => None,
        };
        each(&ApiPackage {
            name: p.get(r, N, COLS, 0)?,
            collection: p.get(r, N, COLS, 1)?,
            state: PackageState::from_flags(
                p.get(r, N, COLS, 2)?,
                p.get(r, N, COLS, 3)?,
                p.get(r, N, COLS, 4)?,
                build_state("package.last_complete_build_state", p.get(r, N, COLS, 5)?)?,
            ),
            last_complete_build,
        })
    })
}

/// A package whose state differs between two collections.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDiffRow {
    /// Package name.
    pub name: String,
    /// State in the first collection.
    pub state1: PackageState,
    /// State in the second collection.
    pub state2: PackageState,
}

/// Packages present in both collections with different states, by name.
pub fn collection_diff(
    client: &mut Reader,
    c1: CollectionId,
    c2: CollectionId,
) -> Result<Vec<StateDiffRow>> {
    const N: &str = "collection diff";
    let rows = query(
        client,
        N,
        "SELECT p1.name, p1.blocked AS b1, p1.tracked AS t1, p1.resolved AS r1,
                p1.last_complete_build_state AS s1,
                p2.blocked AS b2, p2.tracked AS t2, p2.resolved AS r2,
                p2.last_complete_build_state AS s2
         FROM package p1 JOIN package p2 ON p2.base_id = p1.base_id
         WHERE p1.collection_id = $1 AND p2.collection_id = $2
         ORDER BY p1.name",
        &[&c1.0, &c2.0],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let s1 = PackageState::from_flags(
            column(r, N, "b1")?,
            column(r, N, "t1")?,
            column(r, N, "r1")?,
            build_state("package.last_complete_build_state", column(r, N, "s1")?)?,
        );
        let s2 = PackageState::from_flags(
            column(r, N, "b2")?,
            column(r, N, "t2")?,
            column(r, N, "r2")?,
            build_state("package.last_complete_build_state", column(r, N, "s2")?)?,
        );
        if s1 != s2 {
            out.push(StateDiffRow {
                name: column(r, N, "name")?,
                state1: s1,
                state2: s2,
            });
        }
    }
    Ok(out)
}
