//! Packages (`base_package`, `package`) and their admin settings.

use std::time::SystemTime;

use postgres::GenericClient;
use postgres::Row;
use postgres::types::ToSql;
use serde::Serialize;

use super::{Error, QueryContext, build_state, column};
use crate::model::{
    BasePackageId, BuildId, BuildState, CollectionId, PackageGroupId, PackageId, PackageState,
};

/// A package in one collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct Package {
    pub id: PackageId,
    pub base_id: BasePackageId,
    pub name: String,
    pub collection_id: CollectionId,
    pub collection: String,
    pub arch_override: Option<String>,
    pub skip_resolution: bool,
    pub resolved: Option<bool>,
    pub static_priority: i32,
    pub manual_priority: i32,
    pub build_priority: i32,
    pub dependency_priority: i32,
    pub tracked: bool,
    pub blocked: bool,
    pub scheduler_skip_reason: Option<i32>,
    /// Scheduling suspended until then (UTC, ISO 8601), if ever suspended.
    pub suspended_until: Option<String>,
    /// The least hours between two submissions, if limited.
    pub min_rebuild_interval_hours: Option<i32>,
    /// The last scratch build submission (UTC, ISO 8601).
    pub last_submitted: Option<String>,
    pub last_complete_build_state: Option<BuildState>,
    /// Derived with the original's precedence.
    pub state: PackageState,
    /// The newest build, if any.
    pub last_build: Option<BuildSummary>,
}

/// A short view of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildSummary {
    /// The build (`koschei cancel-build` takes it).
    pub id: BuildId,
    /// Koji task.
    pub task_id: i32,
    /// State.
    pub state: Option<BuildState>,
    /// Start (UTC, ISO 8601).
    pub started: String,
    /// `version-release`, when known.
    pub version_release: Option<String>,
}

const SELECT: &str = "SELECT p.id, p.base_id, p.name, p.collection_id, c.name AS collection,
        p.arch_override, p.skip_resolution, p.resolved, p.static_priority, p.manual_priority,
        p.build_priority, p.dependency_priority, p.tracked, p.blocked, p.scheduler_skip_reason,
        p.last_complete_build_state, p.min_rebuild_interval_hours,
        to_char(p.suspended_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS suspended_until,
        to_char(p.last_submitted AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_submitted,
        b.id AS lb_id, b.task_id AS lb_task_id, b.state AS lb_state,
        to_char(b.started AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS lb_started,
        b.version || '-' || b.release AS lb_version_release
    FROM package p JOIN collection c ON c.id = p.collection_id
    LEFT JOIN build b ON b.id = p.last_build_id";

impl Package {
    fn from_row(r: &Row, q: &'static str) -> Result<Package, Error> {
        let blocked: bool = column(r, q, "blocked")?;
        let tracked: bool = column(r, q, "tracked")?;
        let resolved: Option<bool> = column(r, q, "resolved")?;
        let lcbs = build_state(
            "package.last_complete_build_state",
            column(r, q, "last_complete_build_state")?,
        )?;
        let last_build = match column::<Option<i32>>(r, q, "lb_task_id")? {
            Some(task_id) => Some(BuildSummary {
                id: BuildId(column(r, q, "lb_id")?),
                task_id,
                state: build_state("build.state", column(r, q, "lb_state")?)?,
                started: column(r, q, "lb_started")?,
                version_release: column(r, q, "lb_version_release")?,
            }),
            None => None,
        };
        Ok(Package {
            id: PackageId(column(r, q, "id")?),
            base_id: BasePackageId(column(r, q, "base_id")?),
            name: column(r, q, "name")?,
            collection_id: CollectionId(column(r, q, "collection_id")?),
            collection: column(r, q, "collection")?,
            arch_override: column(r, q, "arch_override")?,
            skip_resolution: column(r, q, "skip_resolution")?,
            resolved,
            static_priority: column(r, q, "static_priority")?,
            manual_priority: column(r, q, "manual_priority")?,
            build_priority: column(r, q, "build_priority")?,
            dependency_priority: column(r, q, "dependency_priority")?,
            tracked,
            blocked,
            scheduler_skip_reason: column(r, q, "scheduler_skip_reason")?,
            suspended_until: column(r, q, "suspended_until")?,
            min_rebuild_interval_hours: column(r, q, "min_rebuild_interval_hours")?,
            last_submitted: column(r, q, "last_submitted")?,
            last_complete_build_state: lcbs,
            state: PackageState::from_flags(blocked, tracked, resolved, lcbs),
            last_build,
        })
    }
}

/// Packages called `name`, in `collection` or in every collection (default collection first).
pub fn by_name(
    client: &mut impl GenericClient,
    name: &str,
    collection: Option<CollectionId>,
) -> Result<Vec<Package>, Error> {
    let sql = format!(
        "{SELECT} WHERE p.name = $1 AND ($2::integer IS NULL OR p.collection_id = $2)
         ORDER BY c.\"order\" DESC, c.name"
    );
    let rows = client
        .query(&sql, &[&name, &collection.map(|c| c.0)])
        .ctx("look up packages")?;
    rows.iter()
        .map(|r| Package::from_row(r, "look up packages"))
        .collect()
}

/// The packages of `collection` whose names are in `names`, and the names not found.
pub fn find_many(
    client: &mut impl GenericClient,
    collection: CollectionId,
    names: &[String],
) -> Result<(Vec<Package>, Vec<String>), Error> {
    let sql = format!("{SELECT} WHERE p.collection_id = $1 AND p.name = ANY($2) ORDER BY p.name");
    let rows = client
        .query(&sql, &[&collection.0, &names])
        .ctx("look up packages")?;
    let found: Vec<Package> = rows
        .iter()
        .map(|r| Package::from_row(r, "look up packages"))
        .collect::<Result<_, Error>>()?;
    let mut missing: Vec<String> = names
        .iter()
        .filter(|n| !found.iter().any(|p| &p.name == *n))
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    Ok((found, missing))
}

/// Adds package `name` to `collection` (creating its base package if needed); returns
/// the existing package if it is there already. New packages are untracked.
pub fn insert(
    client: &mut impl GenericClient,
    collection: CollectionId,
    name: &str,
) -> Result<PackageId, Error> {
    let base = client
        .query_one(
            "INSERT INTO base_package (name) VALUES ($1)
             ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            &[&name],
        )
        .ctx("create a base package")?;
    let base_id: i32 = column(&base, "create a base package", "id")?;
    let row = client
        .query_one(
            "INSERT INTO package (base_id, name, collection_id) VALUES ($1, $2, $3)
             ON CONFLICT (base_id, collection_id) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            &[&base_id, &name, &collection.0],
        )
        .ctx("create a package")?;
    Ok(PackageId(column(&row, "create a package", "id")?))
}

fn ids(packages: &[PackageId]) -> Vec<i32> {
    packages.iter().map(|p| p.0).collect()
}

/// Marks packages tracked; returns how many changed.
pub fn set_tracked(
    client: &mut impl GenericClient,
    packages: &[PackageId],
    tracked: bool,
) -> Result<u64, Error> {
    client
        .execute(
            "UPDATE package SET tracked = $2 WHERE id = ANY($1) AND tracked <> $2",
            &[&ids(packages), &tracked],
        )
        .ctx("set tracked")
}

/// What an admin changes on a package (the original's web form and admin commands, plus
/// suspension and the rebuild interval); `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageEdit {
    /// `tracked`.
    pub tracked: Option<bool>,
    /// `skip_resolution`; turning it on also sets `resolved` to NULL, deletes the unapplied
    /// changes and zeroes the dependency priority computed from them.
    pub skip_resolution: Option<bool>,
    /// `manual_priority`.
    pub manual_priority: Option<i32>,
    /// `static_priority`.
    pub static_priority: Option<i32>,
    /// `arch_override` (`Some(None)` removes it); checked with [`parse_arch_override`].
    pub arch_override: Option<Option<String>>,
    /// `min_rebuild_interval_hours` (`Some(None)` removes the limit; values must be positive).
    pub min_rebuild_interval_hours: Option<Option<i32>>,
    /// `suspended_until` (`Some(None)` resumes).
    pub suspended_until: Option<Option<SystemTime>>,
    /// Set `resolved` to NULL, so that the repo resolver resolves the package again at its
    /// next pass (`koschei resolve-now`); nothing for a package that skips resolution.
    pub reset_resolution: bool,
}

impl PackageEdit {
    /// Whether the edit changes nothing whatever the package.
    pub fn is_empty(&self) -> bool {
        *self == PackageEdit::default()
    }
}

/// One attribute changed by [`edit`]: its column name and its old and new values as the
/// original logged them (`True`, `None`, `2000`, `x86_64 i686`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeChange {
    /// The column (`manual_priority`).
    pub attribute: &'static str,
    /// The value before.
    pub old: String,
    /// The value after.
    pub new: String,
}

impl AttributeChange {
    /// The admin log's words, as the original's `set_package_attribute`:
    /// `Package rnv (collection f29): manual_priority set from 0 to 2000`.
    pub fn message(&self, package: &str, collection: &str) -> String {
        format!(
            "Package {package} (collection {collection}): {} set from {} to {}",
            self.attribute, self.old, self.new
        )
    }
}

/// A value as Python's `format` printed it in the original's log messages.
trait LogValue {
    fn log_value(&self) -> String;
}

impl LogValue for bool {
    fn log_value(&self) -> String {
        if *self { "True" } else { "False" }.to_owned()
    }
}

impl LogValue for i32 {
    fn log_value(&self) -> String {
        self.to_string()
    }
}

impl LogValue for String {
    fn log_value(&self) -> String {
        self.clone()
    }
}

impl LogValue for SystemTime {
    fn log_value(&self) -> String {
        crate::calendar::format_utc(*self)
    }
}

impl<T: LogValue> LogValue for Option<T> {
    fn log_value(&self) -> String {
        self.as_ref()
            .map_or_else(|| "None".to_owned(), LogValue::log_value)
    }
}

fn change<T: LogValue + PartialEq>(
    out: &mut Vec<AttributeChange>,
    attribute: &'static str,
    old: &T,
    new: Option<&T>,
) -> bool {
    match new {
        Some(new) if new != old => {
            out.push(AttributeChange {
                attribute,
                old: old.log_value(),
                new: new.log_value(),
            });
            true
        }
        _ => false,
    }
}

/// Applies `e` to package `package` (locking its row) and returns the attributes that
/// changed, in the order of [`PackageEdit`]'s fields; an attribute set to its current value
/// is no change. `None` when there is no such package.
pub fn edit(
    client: &mut impl GenericClient,
    package: PackageId,
    e: &PackageEdit,
) -> Result<Option<Vec<AttributeChange>>, Error> {
    const Q: &str = "lock a package for an edit";
    let Some(row) = client
        .query_opt(
            "SELECT tracked, skip_resolution, manual_priority, static_priority, arch_override,
                    min_rebuild_interval_hours, suspended_until, resolved
             FROM package WHERE id = $1 FOR UPDATE",
            &[&package.0],
        )
        .ctx(Q)?
    else {
        return Ok(None);
    };
    let tracked: bool = column(&row, Q, "tracked")?;
    let skip_resolution: bool = column(&row, Q, "skip_resolution")?;
    let manual: i32 = column(&row, Q, "manual_priority")?;
    let static_: i32 = column(&row, Q, "static_priority")?;
    let arch_override: Option<String> = column(&row, Q, "arch_override")?;
    let interval: Option<i32> = column(&row, Q, "min_rebuild_interval_hours")?;
    let suspended: Option<SystemTime> = column(&row, Q, "suspended_until")?;
    let resolved: Option<bool> = column(&row, Q, "resolved")?;
    if let Some(Some(h)) = e.min_rebuild_interval_hours
        && h <= 0
    {
        return Err(Error::Invalid {
            what: "minimum rebuild interval",
            message: format!("{h} hours: it must be at least 1"),
        });
    }
    let mut out = Vec::new();
    let id = &package.0;
    let set = |client: &mut _, sql: &str, what: &'static str, value: &(dyn ToSql + Sync)| {
        GenericClient::execute(client, sql, &[id, value]).ctx(what)
    };
    if change(&mut out, "tracked", &tracked, e.tracked.as_ref()) {
        set(
            client,
            "UPDATE package SET tracked = $2 WHERE id = $1",
            "set tracked",
            &e.tracked,
        )?;
    }
    if change(
        &mut out,
        "skip_resolution",
        &skip_resolution,
        e.skip_resolution.as_ref(),
    ) {
        if e.skip_resolution == Some(true) {
            // The original's side effects (the check constraint wants resolved NULL in the
            // same statement), plus the dependency priority those changes gave.
            client
                .execute(
                    "UPDATE package SET skip_resolution = true, resolved = NULL,
                            dependency_priority = 0, changes_build_id = NULL
                     WHERE id = $1",
                    &[id],
                )
                .ctx("skip resolution")?;
            client
                .execute("DELETE FROM unapplied_change WHERE package_id = $1", &[id])
                .ctx("delete unapplied changes")?;
        } else {
            set(
                client,
                "UPDATE package SET skip_resolution = $2 WHERE id = $1",
                "resume resolution",
                &false,
            )?;
        }
    }
    if change(
        &mut out,
        "manual_priority",
        &manual,
        e.manual_priority.as_ref(),
    ) {
        set(
            client,
            "UPDATE package SET manual_priority = $2 WHERE id = $1",
            "set manual priority",
            &e.manual_priority,
        )?;
    }
    if change(
        &mut out,
        "static_priority",
        &static_,
        e.static_priority.as_ref(),
    ) {
        set(
            client,
            "UPDATE package SET static_priority = $2 WHERE id = $1",
            "set static priority",
            &e.static_priority,
        )?;
    }
    let arch = match &e.arch_override {
        Some(Some(a)) => Some(parse_arch_override(a)?),
        Some(None) => Some(None),
        None => None,
    };
    if change(&mut out, "arch_override", &arch_override, arch.as_ref()) {
        set(
            client,
            "UPDATE package SET arch_override = $2 WHERE id = $1",
            "set arch override",
            &arch.flatten(),
        )?;
    }
    if change(
        &mut out,
        "min_rebuild_interval_hours",
        &interval,
        e.min_rebuild_interval_hours.as_ref(),
    ) {
        set(
            client,
            "UPDATE package SET min_rebuild_interval_hours = $2 WHERE id = $1",
            "set minimum rebuild interval",
            &e.min_rebuild_interval_hours.flatten(),
        )?;
    }
    if change(
        &mut out,
        "suspended_until",
        &suspended,
        e.suspended_until.as_ref(),
    ) {
        set(
            client,
            "UPDATE package SET suspended_until = $2 WHERE id = $1",
            "set suspension",
            &e.suspended_until.flatten(),
        )?;
    }
    let skips = e.skip_resolution.unwrap_or(skip_resolution);
    if e.reset_resolution && !skips && change(&mut out, "resolved", &resolved, Some(&None)) {
        client
            .execute("UPDATE package SET resolved = NULL WHERE id = $1", &[id])
            .ctx("reset resolution")?;
    }
    Ok(Some(out))
}

/// Arches Koji knows (the values `arch_override` may name, each optionally prefixed by `^`).
pub const KNOWN_ARCHES: &[&str] = &[
    "noarch", "src", "i386", "i586", "i686", "x86_64", "armhfp", "armv7hl", "aarch64", "ppc64",
    "ppc64le", "s390x", "riscv64",
];

/// Validates an arch override (`"x86_64 ^i686"`); an empty string means none.
pub fn parse_arch_override(s: &str) -> Result<Option<String>, Error> {
    let entries: Vec<&str> = s.split_whitespace().collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let unknown: Vec<&str> = entries
        .iter()
        .map(|e| e.strip_prefix('^').unwrap_or(e))
        .filter(|a| !KNOWN_ARCHES.contains(a))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Invalid {
            what: "arch override",
            message: format!(
                "unknown arch {} (known: {})",
                unknown
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                KNOWN_ARCHES.join(" ")
            ),
        });
    }
    Ok(Some(entries.join(" ")))
}

/// Packages of the global package group `group` (optionally only in `collection`).
pub fn in_global_group(
    client: &mut impl GenericClient,
    group: &str,
    collection: Option<CollectionId>,
) -> Result<Vec<Package>, Error> {
    let sql = format!(
        "{SELECT} JOIN package_group_relation r ON r.base_id = p.base_id
         JOIN package_group g ON g.id = r.group_id
         WHERE g.namespace IS NULL AND g.name = $1 AND ($2::integer IS NULL OR p.collection_id = $2)
         ORDER BY p.name, c.name"
    );
    let rows = client
        .query(&sql, &[&group, &collection.map(|c| c.0)])
        .ctx("list packages of a group")?;
    rows.iter()
        .map(|r| Package::from_row(r, "list packages of a group"))
        .collect()
}

/// Packages of the package group `group` in `collection`, by name.
pub fn in_group(
    client: &mut impl GenericClient,
    group: PackageGroupId,
    collection: CollectionId,
) -> Result<Vec<Package>, Error> {
    const Q: &str = "list packages of a group in a collection";
    let sql = format!(
        "{SELECT} JOIN package_group_relation r ON r.base_id = p.base_id
         WHERE r.group_id = $1 AND p.collection_id = $2
         ORDER BY p.name"
    );
    let rows = client.query(&sql, &[&group.0, &collection.0]).ctx(Q)?;
    rows.iter().map(|r| Package::from_row(r, Q)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_override_accepts_known_arches_and_exclusions() {
        assert_eq!(parse_arch_override("").unwrap(), None);
        assert_eq!(parse_arch_override("  ").unwrap(), None);
        assert_eq!(
            parse_arch_override("x86_64  ^i686").unwrap().as_deref(),
            Some("x86_64 ^i686")
        );
        let e = parse_arch_override("x86_64 amd64 ^foo")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`amd64`, `foo`"), "{e}");
    }
}
