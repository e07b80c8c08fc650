//! Collections and collection groups.

use postgres::GenericClient;
use postgres::Row;
use serde::Serialize;

use super::{Error, QueryContext, column};
use crate::model::{CollectionGroupId, CollectionId, CollectionState, RepoId};

/// A `collection` row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct Collection {
    pub id: CollectionId,
    pub name: String,
    pub display_name: String,
    pub order: i32,
    pub secondary_mode: bool,
    pub target: String,
    pub dest_tag: String,
    pub build_tag: String,
    pub bugzilla_product: Option<String>,
    pub bugzilla_version: Option<String>,
    pub priority_coefficient: f64,
    pub build_group: String,
    pub latest_repo_id: Option<RepoId>,
    pub latest_repo_resolved: Option<bool>,
    pub poll_untracked: bool,
    /// Derived from `latest_repo_resolved`.
    pub state: CollectionState,
}

const COLUMNS: &str = "id, name, display_name, \"order\", secondary_mode, target, dest_tag, build_tag, \
     bugzilla_product, bugzilla_version, priority_coefficient, build_group, latest_repo_id, \
     latest_repo_resolved, poll_untracked";

impl Collection {
    fn from_row(r: &Row, q: &'static str) -> Result<Collection, Error> {
        let resolved: Option<bool> = column(r, q, "latest_repo_resolved")?;
        Ok(Collection {
            id: CollectionId(column(r, q, "id")?),
            name: column(r, q, "name")?,
            display_name: column(r, q, "display_name")?,
            order: column(r, q, "order")?,
            secondary_mode: column(r, q, "secondary_mode")?,
            target: column(r, q, "target")?,
            dest_tag: column(r, q, "dest_tag")?,
            build_tag: column(r, q, "build_tag")?,
            bugzilla_product: column(r, q, "bugzilla_product")?,
            bugzilla_version: column(r, q, "bugzilla_version")?,
            priority_coefficient: column(r, q, "priority_coefficient")?,
            build_group: column(r, q, "build_group")?,
            latest_repo_id: column::<Option<i32>>(r, q, "latest_repo_id")?.map(RepoId),
            latest_repo_resolved: resolved,
            poll_untracked: column(r, q, "poll_untracked")?,
            state: CollectionState::from_resolved(resolved),
        })
    }
}

/// All collections, default (highest `order`) first.
pub fn list(client: &mut impl GenericClient) -> Result<Vec<Collection>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM collection ORDER BY \"order\" DESC, name");
    const Q: &str = "list collections";
    let rows = client.query(&sql, &[]).ctx(Q)?;
    rows.iter().map(|r| Collection::from_row(r, Q)).collect()
}

/// The collection called `name`, if any.
pub fn find(client: &mut impl GenericClient, name: &str) -> Result<Option<Collection>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM collection WHERE name = $1");
    let row = client
        .query_opt(&sql, &[&name])
        .ctx("look up a collection")?;
    row.as_ref()
        .map(|r| Collection::from_row(r, "look up a collection"))
        .transpose()
}

/// The collection called `name`, or [`Error::NotFound`].
pub fn get(client: &mut impl GenericClient, name: &str) -> Result<Collection, Error> {
    find(client, name)?.ok_or_else(|| Error::NotFound {
        what: "collection",
        name: name.to_owned(),
    })
}

/// Values of a new collection.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub struct NewCollection {
    pub name: String,
    pub display_name: String,
    pub target: String,
    pub build_tag: String,
    pub dest_tag: String,
    pub secondary_mode: bool,
    pub priority_coefficient: f64,
    pub order: i32,
    pub build_group: String,
    pub poll_untracked: bool,
    pub bugzilla_product: Option<String>,
    pub bugzilla_version: Option<String>,
}

impl NewCollection {
    /// A collection with the original's defaults; `dest_tag` = `build_tag`.
    pub fn new(name: &str, display_name: &str, target: &str, build_tag: &str) -> NewCollection {
        NewCollection {
            name: name.to_owned(),
            display_name: display_name.to_owned(),
            target: target.to_owned(),
            build_tag: build_tag.to_owned(),
            dest_tag: build_tag.to_owned(),
            secondary_mode: false,
            priority_coefficient: 1.0,
            order: 100,
            build_group: "build".to_owned(),
            poll_untracked: true,
            bugzilla_product: None,
            bugzilla_version: None,
        }
    }
}

fn map_write_err(e: postgres::Error, what: &'static str, name: &str, doing: &'static str) -> Error {
    use postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => Error::AlreadyExists {
            what,
            name: name.to_owned(),
        },
        Some(c) if *c == SqlState::CHECK_VIOLATION => Error::Invalid {
            what,
            message: format!(
                "`{name}` is refused by `{}`",
                e.as_db_error()
                    .and_then(|d| d.constraint())
                    .unwrap_or("a check")
            ),
        },
        _ => Error::Query {
            what: doing,
            source: e,
        },
    }
}

/// Inserts a collection.
pub fn create(client: &mut impl GenericClient, c: &NewCollection) -> Result<Collection, Error> {
    let sql = format!(
        "INSERT INTO collection (name, display_name, target, build_tag, dest_tag, secondary_mode,
             priority_coefficient, \"order\", build_group, poll_untracked, bugzilla_product, bugzilla_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {COLUMNS}"
    );
    let row = client
        .query_one(
            &sql,
            &[
                &c.name,
                &c.display_name,
                &c.target,
                &c.build_tag,
                &c.dest_tag,
                &c.secondary_mode,
                &c.priority_coefficient,
                &c.order,
                &c.build_group,
                &c.poll_untracked,
                &c.bugzilla_product,
                &c.bugzilla_version,
            ],
        )
        .map_err(|e| map_write_err(e, "collection", &c.name, "create a collection"))?;
    Collection::from_row(&row, "create a collection")
}

/// Changes to a collection; `None` leaves a field as it is. For the nullable Bugzilla
/// fields, `Some(None)` clears them.
#[derive(Debug, Clone, Default, PartialEq)]
#[allow(missing_docs)]
pub struct CollectionUpdate {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub target: Option<String>,
    pub build_tag: Option<String>,
    pub dest_tag: Option<String>,
    pub secondary_mode: Option<bool>,
    pub priority_coefficient: Option<f64>,
    pub order: Option<i32>,
    pub build_group: Option<String>,
    pub poll_untracked: Option<bool>,
    pub bugzilla_product: Option<Option<String>>,
    pub bugzilla_version: Option<Option<String>>,
}

/// Applies `u` to collection `id`.
pub fn update(
    client: &mut impl GenericClient,
    id: CollectionId,
    u: &CollectionUpdate,
) -> Result<Collection, Error> {
    let sql = format!(
        "UPDATE collection SET
             name = coalesce($2, name), display_name = coalesce($3, display_name),
             target = coalesce($4, target), build_tag = coalesce($5, build_tag),
             dest_tag = coalesce($6, dest_tag), secondary_mode = coalesce($7, secondary_mode),
             priority_coefficient = coalesce($8, priority_coefficient), \"order\" = coalesce($9, \"order\"),
             build_group = coalesce($10, build_group), poll_untracked = coalesce($11, poll_untracked),
             bugzilla_product = CASE WHEN $12 THEN $13 ELSE bugzilla_product END,
             bugzilla_version = CASE WHEN $14 THEN $15 ELSE bugzilla_version END
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let product = u.bugzilla_product.clone().flatten();
    let version = u.bugzilla_version.clone().flatten();
    let name = u.name.clone().unwrap_or_default();
    let row = client
        .query_opt(
            &sql,
            &[
                &id.0,
                &u.name,
                &u.display_name,
                &u.target,
                &u.build_tag,
                &u.dest_tag,
                &u.secondary_mode,
                &u.priority_coefficient,
                &u.order,
                &u.build_group,
                &u.poll_untracked,
                &u.bugzilla_product.is_some(),
                &product,
                &u.bugzilla_version.is_some(),
                &version,
            ],
        )
        .map_err(|e| map_write_err(e, "collection", &name, "update a collection"))?
        .ok_or_else(|| Error::NotFound {
            what: "collection",
            name: id.to_string(),
        })?;
    Collection::from_row(&row, "update a collection")
}

/// Deletes a collection with everything in it.
pub fn delete(client: &mut impl GenericClient, id: CollectionId) -> Result<(), Error> {
    client
        .execute("DELETE FROM collection WHERE id = $1", &[&id.0])
        .ctx("delete a collection")?;
    Ok(())
}

/// Number of packages in a collection.
pub fn package_count(client: &mut impl GenericClient, id: CollectionId) -> Result<i64, Error> {
    let row = client
        .query_one(
            "SELECT count(*) AS n FROM package WHERE collection_id = $1",
            &[&id.0],
        )
        .ctx("count packages")?;
    column(&row, "count packages", "n")
}

/// Copies the contents of `source` into the (empty) collection `target`, as the
/// original's `copy_collection`: every package row, each package's builds started
/// within the last month (unless `minimal`) plus its last complete build, their Koji
/// tasks and applied changes, and the packages' resolution history. Unapplied changes
/// are not copied (they are regenerated). Returns the numbers of packages and builds copied.
pub fn copy_contents(
    client: &mut impl GenericClient,
    source: CollectionId,
    target: CollectionId,
    minimal: bool,
) -> Result<(u64, u64), Error> {
    let packages = client
        .execute(
            "INSERT INTO package (base_id, name, collection_id, arch_override, skip_resolution, resolved,
                 static_priority, manual_priority, build_priority, dependency_priority, tracked, blocked,
                 scheduler_skip_reason, suspended_until, min_rebuild_interval_hours, last_submitted)
             SELECT base_id, name, $2, arch_override, skip_resolution, resolved,
                 static_priority, manual_priority, build_priority, dependency_priority, tracked, blocked,
                 scheduler_skip_reason, suspended_until, min_rebuild_interval_hours, last_submitted
             FROM package WHERE collection_id = $1",
            &[&source.0, &target.0],
        )
        .ctx("copy packages")?;
    client
        .batch_execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS copy_build_map (old_id integer, new_id integer);
             TRUNCATE copy_build_map",
        )
        .ctx("prepare the build copy")?;
    let builds = client
        .execute(
            "WITH src AS (
                 SELECT b.*, np.id AS new_package_id
                 FROM build b
                 JOIN package op ON op.id = b.package_id AND op.collection_id = $1
                 JOIN package np ON np.base_id = op.base_id AND np.collection_id = $2
                 WHERE b.id = op.last_complete_build_id
                    OR (NOT $3 AND b.started > now() - interval '1 month')
             ), ins AS (
                 INSERT INTO build (package_id, state, task_id, started, finished, epoch, version, release,
                     repo_id, cancel_requested, deps_resolved, real, untagged, dependency_ids)
                 SELECT new_package_id, state, task_id, started, finished, epoch, version, release,
                     repo_id, cancel_requested, deps_resolved, real, untagged, dependency_ids
                 FROM src ORDER BY started, id
                 RETURNING id, package_id, task_id
             )
             INSERT INTO copy_build_map (old_id, new_id)
             SELECT src.id, ins.id FROM ins JOIN src ON src.new_package_id = ins.package_id AND src.task_id = ins.task_id",
            &[&source.0, &target.0, &minimal],
        )
        .ctx("copy builds")?;
    client
        .batch_execute(
            "INSERT INTO koji_task (build_id, task_id, arch, state, started, finished)
                 SELECT m.new_id, t.task_id, t.arch, t.state, t.started, t.finished
                 FROM koji_task t JOIN copy_build_map m ON m.old_id = t.build_id;
             INSERT INTO applied_change (build_id, prev_dep_id, curr_dep_id, distance)
                 SELECT m.new_id, c.prev_dep_id, c.curr_dep_id, c.distance
                 FROM applied_change c JOIN copy_build_map m ON m.old_id = c.build_id;
             DROP TABLE copy_build_map",
        )
        .ctx("copy Koji tasks and applied changes")?;
    client
        .execute(
            "WITH src AS (
                 SELECT rc.id, rc.resolved, rc.timestamp, np.id AS new_package_id
                 FROM resolution_change rc
                 JOIN package op ON op.id = rc.package_id AND op.collection_id = $1
                 JOIN package np ON np.base_id = op.base_id AND np.collection_id = $2
             ), ins AS (
                 INSERT INTO resolution_change (package_id, resolved, \"timestamp\")
                 SELECT new_package_id, resolved, \"timestamp\" FROM src
                 RETURNING id, package_id, \"timestamp\"
             ), map AS (
                 SELECT src.id AS old_id, ins.id AS new_id FROM ins
                 JOIN src ON src.new_package_id = ins.package_id AND src.timestamp = ins.timestamp
             )
             INSERT INTO resolution_problem (resolution_id, problem)
             SELECT map.new_id, p.problem FROM resolution_problem p JOIN map ON map.old_id = p.resolution_id",
            &[&source.0, &target.0],
        )
        .ctx("copy resolution history")?;
    Ok((packages, builds))
}

/// A `collection_group` with its member collections' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct CollectionGroup {
    pub id: CollectionGroupId,
    pub name: String,
    pub display_name: String,
    pub collections: Vec<String>,
}

/// All collection groups with their members.
pub fn list_groups(client: &mut impl GenericClient) -> Result<Vec<CollectionGroup>, Error> {
    const Q: &str = "list collection groups";
    let rows = client
        .query(
            "SELECT g.id, g.name, g.display_name,
                    coalesce(array_agg(c.name ORDER BY c.\"order\" DESC, c.name) FILTER (WHERE c.id IS NOT NULL), '{}')
                      AS collections
             FROM collection_group g
             LEFT JOIN collection_group_relation r ON r.group_id = g.id
             LEFT JOIN collection c ON c.id = r.collection_id
             GROUP BY g.id ORDER BY g.name",
            &[],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(CollectionGroup {
                id: CollectionGroupId(column(r, Q, "id")?),
                name: column(r, Q, "name")?,
                display_name: column(r, Q, "display_name")?,
                collections: column(r, Q, "collections")?,
            })
        })
        .collect()
}

/// The collection group called `name`, or [`Error::NotFound`].
pub fn get_group(client: &mut impl GenericClient, name: &str) -> Result<CollectionGroup, Error> {
    list_groups(client)?
        .into_iter()
        .find(|g| g.name == name)
        .ok_or_else(|| Error::NotFound {
            what: "collection group",
            name: name.to_owned(),
        })
}

/// Creates a collection group.
pub fn create_group(
    client: &mut impl GenericClient,
    name: &str,
    display_name: &str,
) -> Result<CollectionGroupId, Error> {
    let row = client
        .query_one(
            "INSERT INTO collection_group (name, display_name) VALUES ($1, $2) RETURNING id",
            &[&name, &display_name],
        )
        .map_err(|e| map_write_err(e, "collection group", name, "create a collection group"))?;
    Ok(CollectionGroupId(column(
        &row,
        "create a collection group",
        "id",
    )?))
}

/// Sets the display name of a collection group.
pub fn set_group_display_name(
    client: &mut impl GenericClient,
    id: CollectionGroupId,
    display_name: &str,
) -> Result<(), Error> {
    client
        .execute(
            "UPDATE collection_group SET display_name = $2 WHERE id = $1",
            &[&id.0, &display_name],
        )
        .ctx("rename a collection group")?;
    Ok(())
}

/// Replaces the members of a collection group; unknown names are an error and change nothing.
pub fn set_group_contents(
    client: &mut impl GenericClient,
    id: CollectionGroupId,
    collections: &[String],
) -> Result<(), Error> {
    let known: Vec<String> = client
        .query(
            "SELECT name FROM collection WHERE name = ANY($1)",
            &[&collections],
        )
        .ctx("look up collections")?
        .iter()
        .map(|r| column(r, "look up collections", "name"))
        .collect::<Result<_, Error>>()?;
    let missing: Vec<&str> = collections
        .iter()
        .filter(|c| !known.contains(c))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotFound {
            what: "collection",
            name: missing.join(", "),
        });
    }
    client
        .execute(
            "DELETE FROM collection_group_relation WHERE group_id = $1",
            &[&id.0],
        )
        .ctx("clear collection group members")?;
    client
        .execute(
            "INSERT INTO collection_group_relation (group_id, collection_id)
             SELECT $1, id FROM collection WHERE name = ANY($2)",
            &[&id.0, &collections],
        )
        .ctx("add collection group members")?;
    Ok(())
}

/// Deletes a collection group (not its collections).
pub fn delete_group(client: &mut impl GenericClient, id: CollectionGroupId) -> Result<(), Error> {
    client
        .execute("DELETE FROM collection_group WHERE id = $1", &[&id.0])
        .ctx("delete a collection group")?;
    Ok(())
}

/// Copies the group memberships of collection `from` to collection `to`.
pub fn copy_group_memberships(
    client: &mut impl GenericClient,
    from: CollectionId,
    to: CollectionId,
) -> Result<(), Error> {
    client
        .execute(
            "INSERT INTO collection_group_relation (group_id, collection_id)
             SELECT group_id, $2 FROM collection_group_relation WHERE collection_id = $1
             ON CONFLICT DO NOTHING",
            &[&from.0, &to.0],
        )
        .ctx("copy collection group memberships")?;
    Ok(())
}
