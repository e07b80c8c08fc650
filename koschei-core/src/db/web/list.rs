//! Package lists: one collection, or the unified multi-collection view.

use std::time::SystemTime;

use postgres::GenericClient;

use super::{FLAG_COLUMNS, PackageFlags, Result, Sql, build_state, column, flags, groups_of};
use crate::model::{
    BasePackageId, BuildId, CollectionId, KojiTaskId, PackageGroupId, PackageId, PackageState,
};

/// Sort direction of one order key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The key's natural order.
    Asc,
    /// Reversed (`-key` in `order_by`).
    Desc,
}

/// Order keys of the single-collection package list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderKey {
    /// Package name.
    Name,
    /// Unresolved first, then by last build state (no build, failed, complete, running),
    /// packages not resolved yet last.
    State,
    /// Running builds first.
    Running,
    /// Task id of the last build (packages without builds last).
    TaskId,
    /// Start of the last build (packages without builds last).
    Started,
    /// Current priority; not schedulable packages always last.
    CurrentPriority,
}

/// Which packages a list shows, besides the collection and the tracked filter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListFilter {
    /// All packages.
    All,
    /// Names matching a case-insensitive SQL `LIKE` pattern (`\` escapes).
    NameLike(String),
    /// Members of a package group.
    Group(PackageGroupId),
}

/// Constants of the time priority `max(a·log10(hours) + b, -30)` and the time it is
/// evaluated at, used when ordering by current priority.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimePriority {
    /// Slope `a`.
    pub a: f64,
    /// Offset `b`.
    pub b: f64,
    /// The current time.
    pub now: SystemTime,
}

/// A page of the single-collection list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The collection.
    pub collection: CollectionId,
    /// Extra filter.
    pub filter: ListFilter,
    /// Include untracked packages (blocked ones are always hidden).
    pub untracked: bool,
    /// Order keys, first is most significant; the name is always the last tie-breaker.
    pub order: Vec<(OrderKey, Direction)>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
    /// For [`OrderKey::CurrentPriority`].
    pub time_priority: TimePriority,
    /// The total when the caller already knows it (then it is not counted again).
    pub known_total: Option<i64>,
}

/// One row of the single-collection list.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageListRow {
    /// Package id.
    pub id: PackageId,
    /// Base package id.
    pub base_id: BasePackageId,
    /// Name.
    pub name: String,
    /// State and priority inputs.
    pub flags: PackageFlags,
    /// The last build: id, Koji task and start time.
    pub last_build: Option<(BuildId, KojiTaskId, SystemTime)>,
    /// Full names of the package's groups.
    pub groups: Vec<String>,
}

/// A page of the single-collection list, with the total number of matching packages.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageListPage {
    /// Number of packages matching the filters (all pages).
    pub total: i64,
    /// The rows of this page.
    pub rows: Vec<PackageListRow>,
}

/// Rank of the `state` order key; must stay textually equal to the expression of
/// `ix_package_web_list` in migration 0002 so the default order is an index scan.
const STATE_RANK: &str = "(CASE WHEN p.resolved = false THEN 0 WHEN p.resolved THEN 10 ELSE 20 END
     + CASE WHEN p.last_build_id IS DISTINCT FROM p.last_complete_build_id THEN 3
            WHEN p.last_complete_build_state = 5 THEN 1
            WHEN p.last_complete_build_state = 3 THEN 2
            ELSE 0 END)";
const RUNNING: &str = "(p.last_build_id IS DISTINCT FROM p.last_complete_build_id)";

fn push_filter(sql: &mut Sql, filter: &ListFilter) {
    match filter {
        ListFilter::All => {}
        ListFilter::NameLike(pattern) => {
            sql.push(" AND p.name ILIKE ").param(pattern.clone());
        }
        ListFilter::Group(gid) => {
            sql.push(
                " AND p.base_id IN (SELECT r.base_id FROM package_group_relation r WHERE r.group_id = ",
            )
            .param(gid.0)
            .push(")");
        }
    }
}

fn push_current_priority(sql: &mut Sql, tp: &TimePriority) {
    sql.push(
        "(CASE WHEN p.blocked OR NOT p.tracked
                   OR p.last_build_id IS DISTINCT FROM p.last_complete_build_id
                   OR p.resolved = false OR (p.resolved IS NULL AND NOT p.skip_resolution)
                   OR c.latest_repo_resolved IS NOT TRUE OR lb.id IS NULL
                   OR p.scheduler_skip_reason = 1
                   OR p.suspended_until > ",
    )
    .param(tp.now)
    .push(
        "::timestamptz
                   OR p.last_submitted + p.min_rebuild_interval_hours * interval '1 hour' > ",
    )
    .param(tp.now)
    .push(
        "::timestamptz
              THEN NULL
              ELSE p.manual_priority + p.static_priority
                   + (p.dependency_priority + p.build_priority
                      + greatest(",
    )
    .param(tp.a)
    .push("::float8 * log(greatest(1e-6::float8, extract(epoch FROM (")
    .param(tp.now)
    .push("::timestamptz - lb.started))::float8 / 3600.0)) + ")
    .param(tp.b)
    .push("::float8, -30::float8)) * c.priority_coefficient END)");
}

/// Loads one page of the single-collection package list.
pub fn package_list(client: &mut impl GenericClient, q: &ListQuery) -> Result<PackageListPage> {
    const N: &str = "package list";
    let mut sql = Sql::new("SELECT p.id, p.base_id, p.name, ");
    sql.push(FLAG_COLUMNS).push(
        ", lb.id AS lb_id, lb.task_id AS lb_task_id
         FROM package p JOIN collection c ON c.id = p.collection_id
         LEFT JOIN build lb ON lb.id = p.last_build_id
         WHERE p.collection_id = ",
    );
    sql.param(q.collection.0)
        .push(" AND NOT p.blocked AND (p.tracked OR ")
        .param(q.untracked)
        .push(")");
    push_filter(&mut sql, &q.filter);
    sql.push(" ORDER BY ");
    let mut has_name = false;
    for (i, (key, dir)) in q.order.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        let desc = *dir == Direction::Desc;
        match key {
            OrderKey::Name => {
                has_name = true;
                sql.push("p.name").push(if desc { " DESC" } else { " ASC" });
            }
            OrderKey::State => {
                sql.push(STATE_RANK)
                    .push(if desc { " DESC" } else { " ASC" });
            }
            OrderKey::Running => {
                sql.push(RUNNING).push(if desc { " ASC" } else { " DESC" });
            }
            OrderKey::TaskId => {
                sql.push("lb.task_id").push(if desc {
                    " DESC NULLS LAST"
                } else {
                    " ASC NULLS LAST"
                });
            }
            OrderKey::Started => {
                sql.push("lb.started").push(if desc {
                    " DESC NULLS LAST"
                } else {
                    " ASC NULLS LAST"
                });
            }
            OrderKey::CurrentPriority => {
                push_current_priority(&mut sql, &q.time_priority);
                sql.push(if desc {
                    " DESC NULLS LAST"
                } else {
                    " ASC NULLS LAST"
                });
            }
        }
    }
    if !has_name {
        sql.push(if q.order.is_empty() {
            "p.name"
        } else {
            ", p.name"
        });
    }
    sql.push(" LIMIT ")
        .param(q.limit)
        .push(" OFFSET ")
        .param(q.offset);
    let rows = sql.query(client, N)?;

    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let lb_id: Option<i32> = column(r, N, "lb_id")?;
        let lb_task: Option<i32> = column(r, N, "lb_task_id")?;
        let lb_started: Option<SystemTime> = column(r, N, "lb_started")?;
        let last_build = match (lb_id, lb_task, lb_started) {
            (Some(id), Some(task), Some(started)) => Some((BuildId(id), KojiTaskId(task), started)),
            _ => None,
        };
        out.push(PackageListRow {
            id: PackageId(column(r, N, "id")?),
            base_id: BasePackageId(column(r, N, "base_id")?),
            name: column(r, N, "name")?,
            flags: flags(r, N)?,
            last_build,
            groups: Vec::new(),
        });
    }
    attach_groups(client, &mut out, |r| r.base_id, |r| &mut r.groups)?;

    if let Some(total) = q.known_total {
        return Ok(PackageListPage { total, rows: out });
    }
    const C: &str = "package list count";
    let mut count = Sql::new("SELECT count(*) AS n FROM package p WHERE p.collection_id = ");
    count
        .param(q.collection.0)
        .push(" AND NOT p.blocked AND (p.tracked OR ")
        .param(q.untracked)
        .push(")");
    push_filter(&mut count, &q.filter);
    let total = match count.query(client, C)?.first() {
        Some(r) => column(r, C, "n")?,
        None => 0,
    };
    Ok(PackageListPage { total, rows: out })
}

fn attach_groups<T>(
    client: &mut impl GenericClient,
    rows: &mut [T],
    base: impl Fn(&T) -> BasePackageId,
    groups: impl Fn(&mut T) -> &mut Vec<String>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<BasePackageId> = rows.iter().map(&base).collect();
    let all = groups_of(client, &ids)?;
    for row in rows.iter_mut() {
        let b = base(row);
        let start = all.partition_point(|(id, _)| *id < b);
        let found = all[start..]
            .iter()
            .take_while(|(id, _)| *id == b)
            .map(|(_, g)| g.clone());
        groups(row).extend(found);
    }
    Ok(())
}

/// Order keys of the unified (multi-collection) list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnifiedOrderKey {
    /// Package name.
    Name,
    /// State in one collection (same order as [`OrderKey::State`]; absent last).
    State(CollectionId),
    /// Running in any collection first.
    Running,
    /// Failing (last complete build failed or unresolved) in any collection first.
    Failing,
}

/// A page of the unified list.
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedQuery {
    /// The collections (at least one).
    pub collections: Vec<CollectionId>,
    /// Extra filter.
    pub filter: ListFilter,
    /// Include untracked packages (blocked ones are always hidden).
    pub untracked: bool,
    /// Order keys, first is most significant; the name is always the last tie-breaker.
    pub order: Vec<(UnifiedOrderKey, Direction)>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

/// The state of a package in one collection of the unified list.
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedCell {
    /// The collection.
    pub collection_id: CollectionId,
    /// State.
    pub state: PackageState,
    /// Whether a build is running.
    pub running: bool,
}

/// One package (by name) of the unified list.
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedRow {
    /// Base package id.
    pub base_id: BasePackageId,
    /// Name.
    pub name: String,
    /// One cell per collection the package is listed in.
    pub cells: Vec<UnifiedCell>,
    /// Full names of the package's groups.
    pub groups: Vec<String>,
}

/// A page of the unified list.
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedPage {
    /// Number of package names matching (all pages).
    pub total: i64,
    /// This page.
    pub rows: Vec<UnifiedRow>,
}

fn push_unified_where(sql: &mut Sql, q: &UnifiedQuery) {
    let ids: Vec<i32> = q.collections.iter().map(|c| c.0).collect();
    sql.push(" FROM package p WHERE p.collection_id = ANY(")
        .param(ids)
        .push(") AND NOT p.blocked AND (p.tracked OR ")
        .param(q.untracked)
        .push(")");
    push_filter(sql, &q.filter);
}

/// Loads one page of the unified list.
pub fn unified_list(client: &mut impl GenericClient, q: &UnifiedQuery) -> Result<UnifiedPage> {
    const N: &str = "unified package list";
    let mut sql = Sql::new(
        "SELECT p.base_id, p.name, array_agg(p.collection_id) AS cids,
                array_agg(p.blocked) AS blocked, array_agg(p.tracked) AS tracked,
                array_agg(p.resolved) AS resolved, array_agg(p.last_complete_build_state) AS lcbs,
                array_agg(p.last_build_id IS DISTINCT FROM p.last_complete_build_id) AS running",
    );
    push_unified_where(&mut sql, q);
    sql.push(" GROUP BY p.base_id, p.name ORDER BY ");
    let mut has_name = false;
    for (i, (key, dir)) in q.order.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        let desc = *dir == Direction::Desc;
        match key {
            UnifiedOrderKey::Name => {
                has_name = true;
                sql.push("p.name").push(if desc { " DESC" } else { " ASC" });
            }
            UnifiedOrderKey::Running => {
                sql.push("bool_or(p.last_build_id IS DISTINCT FROM p.last_complete_build_id)")
                    .push(if desc { " ASC" } else { " DESC" });
            }
            UnifiedOrderKey::Failing => {
                sql.push(
                    "bool_or(coalesce(p.last_complete_build_state = 5 OR p.resolved = false, false))",
                )
                .push(if desc { " ASC" } else { " DESC" });
            }
            UnifiedOrderKey::State(cid) => {
                sql.push("min(CASE WHEN p.collection_id = ")
                    .param(cid.0)
                    .push(" THEN ")
                    .push(STATE_RANK)
                    .push(" END)")
                    .push(if desc {
                        " DESC NULLS LAST"
                    } else {
                        " ASC NULLS LAST"
                    });
            }
        }
    }
    if !has_name {
        sql.push(if q.order.is_empty() {
            "p.name"
        } else {
            ", p.name"
        });
    }
    sql.push(" LIMIT ")
        .param(q.limit)
        .push(" OFFSET ")
        .param(q.offset);
    let rows = sql.query(client, N)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let cids: Vec<i32> = column(r, N, "cids")?;
        let blocked: Vec<bool> = column(r, N, "blocked")?;
        let tracked: Vec<bool> = column(r, N, "tracked")?;
        let resolved: Vec<Option<bool>> = column(r, N, "resolved")?;
        let lcbs: Vec<Option<i32>> = column(r, N, "lcbs")?;
        let running: Vec<bool> = column(r, N, "running")?;
        let mut cells = Vec::with_capacity(cids.len());
        for (i, cid) in cids.iter().enumerate() {
            let lcb = build_state(
                "package.last_complete_build_state",
                lcbs.get(i).copied().flatten(),
            )?;
            cells.push(UnifiedCell {
                collection_id: CollectionId(*cid),
                state: PackageState::from_flags(
                    blocked.get(i).copied().unwrap_or(false),
                    tracked.get(i).copied().unwrap_or(false),
                    resolved.get(i).copied().flatten(),
                    lcb,
                ),
                running: running.get(i).copied().unwrap_or(false),
            });
        }
        out.push(UnifiedRow {
            base_id: BasePackageId(column(r, N, "base_id")?),
            name: column(r, N, "name")?,
            cells,
            groups: Vec::new(),
        });
    }
    attach_groups(client, &mut out, |r| r.base_id, |r| &mut r.groups)?;

    const C: &str = "unified package list count";
    let mut count = Sql::new("SELECT count(DISTINCT p.name) AS n");
    push_unified_where(&mut count, q);
    let total = match count.query(client, C)?.first() {
        Some(r) => column(r, C, "n")?,
        None => 0,
    };
    Ok(UnifiedPage { total, rows: out })
}
