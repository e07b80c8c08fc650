//! Package lists: one collection, or the unified multi-collection view.

use std::time::SystemTime;

use super::{FLAG_COLUMNS, PackageFlags, Reader, Result, Sql, build_state, column, flags};
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

/// The stored keys of the default order (`package.running`, `package.state_rank`, generated
/// columns of migration 0007, indexed by `ix_package_web_order` with `name`).
const STATE_RANK: &str = "p.state_rank";
const RUNNING: &str = "p.running";

/// The groups of the row's package (`p`), as [`super::groups_of`] names and orders them.
const GROUPS: &str = "coalesce((SELECT array_agg(coalesce(g.namespace || '/', '') || g.name
                                ORDER BY g.namespace NULLS FIRST, g.name)
                     FROM package_group_relation r JOIN package_group g ON g.id = r.group_id
                     WHERE r.base_id = p.base_id), '{}') AS groups";

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

/// `AND p.tracked` unless untracked packages are listed too (blocked ones never are).
fn push_tracked(sql: &mut Sql, untracked: bool) {
    sql.push(" AND NOT p.blocked");
    if !untracked {
        sql.push(" AND p.tracked");
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

/// The ids of one page in order: `SELECT p.id ... ORDER BY ... LIMIT ... OFFSET ...`, joining
/// the last build and the collection only when the order needs them. In the default order
/// with no filter or a name filter this is an index-only scan of `ix_package_web_order`.
fn push_page_ids(sql: &mut Sql, q: &ListQuery) {
    let needs_build = q.order.iter().any(|(k, _)| {
        matches!(
            k,
            OrderKey::TaskId | OrderKey::Started | OrderKey::CurrentPriority
        )
    });
    let needs_collection = q
        .order
        .iter()
        .any(|(k, _)| matches!(k, OrderKey::CurrentPriority));
    sql.push("SELECT p.id FROM package p");
    if needs_collection {
        sql.push(" JOIN collection c ON c.id = p.collection_id");
    }
    if needs_build {
        sql.push(" LEFT JOIN build lb ON lb.id = p.last_build_id");
    }
    sql.push(" WHERE p.collection_id = ").param(q.collection.0);
    push_tracked(sql, q.untracked);
    push_filter(sql, &q.filter);
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
                push_current_priority(sql, &q.time_priority);
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
}

/// The number of packages a list shows: the stored count (`package_count`, kept by
/// triggers) without a filter, a count otherwise.
fn push_total(sql: &mut Sql, q: &ListQuery) {
    if q.filter == ListFilter::All {
        sql.push("coalesce((SELECT pc.tracked");
        if q.untracked {
            sql.push(" + pc.untracked");
        }
        sql.push(" FROM package_count pc WHERE pc.collection_id = ")
            .param(q.collection.0)
            .push("), 0)");
    } else {
        sql.push("(SELECT count(*) FROM package p WHERE p.collection_id = ")
            .param(q.collection.0);
        push_tracked(sql, q.untracked);
        push_filter(sql, &q.filter);
        sql.push(")");
    }
}

/// Loads one page of the single-collection package list.
///
/// One statement: the page's ids in order (in the default order an index-only scan of
/// `ix_package_web_order`), then only those rows are joined with their collection, last
/// build and groups, with the total in every row. An empty page (past the end) reads the
/// total on its own.
pub fn package_list(client: &mut Reader, q: &ListQuery) -> Result<PackageListPage> {
    const N: &str = "package list";
    let mut sql = Sql::new("SELECT p.id, p.base_id, p.name, ");
    sql.push(FLAG_COLUMNS)
        .push(", lb.id AS lb_id, lb.task_id AS lb_task_id, ")
        .push(GROUPS)
        .push(", ");
    push_total(&mut sql, q);
    sql.push(" AS total FROM unnest(ARRAY(");
    push_page_ids(&mut sql, q);
    sql.push(
        ")) WITH ORDINALITY AS page(id, ord)
         JOIN package p ON p.id = page.id JOIN collection c ON c.id = p.collection_id
         LEFT JOIN build lb ON lb.id = p.last_build_id
         ORDER BY page.ord",
    );
    let rows = sql.query(client, N)?;

    let mut out = Vec::with_capacity(rows.len());
    let mut total = None;
    for r in &rows {
        let lb_id: Option<i32> = column(r, N, "lb_id")?;
        let lb_task: Option<i32> = column(r, N, "lb_task_id")?;
        let lb_started: Option<SystemTime> = column(r, N, "lb_started")?;
        let last_build = match (lb_id, lb_task, lb_started) {
            (Some(id), Some(task), Some(started)) => Some((BuildId(id), KojiTaskId(task), started)),
            _ => None,
        };
        total = Some(column::<i64>(r, N, "total")?);
        out.push(PackageListRow {
            id: PackageId(column(r, N, "id")?),
            base_id: BasePackageId(column(r, N, "base_id")?),
            name: column(r, N, "name")?,
            flags: flags(r, N)?,
            last_build,
            groups: column(r, N, "groups")?,
        });
    }
    let total = match total {
        Some(t) => t,
        None => {
            const C: &str = "package list count";
            let mut count = Sql::new("SELECT ");
            push_total(&mut count, q);
            count.push(" AS n");
            match count.query(client, C)?.first() {
                Some(r) => column(r, C, "n")?,
                None => 0,
            }
        }
    };
    Ok(PackageListPage { total, rows: out })
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
        .push(")");
    push_tracked(sql, q.untracked);
    push_filter(sql, &q.filter);
}

/// Loads one page of the unified list.
pub fn unified_list(client: &mut Reader, q: &UnifiedQuery) -> Result<UnifiedPage> {
    const N: &str = "unified package list";
    let mut sql = Sql::new(
        "SELECT p.base_id, p.name, array_agg(p.collection_id) AS cids,
                array_agg(p.blocked) AS blocked, array_agg(p.tracked) AS tracked,
                array_agg(p.resolved) AS resolved, array_agg(p.last_complete_build_state) AS lcbs,
                array_agg(p.running) AS running, ",
    );
    sql.push(GROUPS);
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
                sql.push("bool_or(p.running)")
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
            groups: column(r, N, "groups")?,
        });
    }

    const C: &str = "unified package list count";
    let mut count = Sql::new("SELECT count(DISTINCT p.name) AS n");
    push_unified_where(&mut count, q);
    let total = match count.query(client, C)?.first() {
        Some(r) => column(r, C, "n")?,
        None => 0,
    };
    Ok(UnifiedPage { total, rows: out })
}
