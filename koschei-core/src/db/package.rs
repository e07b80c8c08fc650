//! Packages (`base_package`, `package`) and their admin settings.

use postgres::GenericClient;
use postgres::Row;
use serde::Serialize;

use super::{Error, QueryContext, build_state, column};
use crate::model::{BasePackageId, BuildState, CollectionId, PackageId, PackageState};

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
    pub last_complete_build_state: Option<BuildState>,
    /// Derived with the original's precedence.
    pub state: PackageState,
    /// The newest build, if any.
    pub last_build: Option<BuildSummary>,
}

/// A short view of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildSummary {
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
        p.last_complete_build_state, b.task_id AS lb_task_id, b.state AS lb_state,
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

/// Which priority an admin sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorityKind {
    /// `manual_priority`: reset when a build is submitted or completes.
    Manual,
    /// `static_priority`: kept until changed.
    Static,
}

/// Sets the manual or static priority of packages.
pub fn set_priority(
    client: &mut impl GenericClient,
    packages: &[PackageId],
    kind: PriorityKind,
    value: i32,
) -> Result<u64, Error> {
    let sql = match kind {
        PriorityKind::Manual => "UPDATE package SET manual_priority = $2 WHERE id = ANY($1)",
        PriorityKind::Static => "UPDATE package SET static_priority = $2 WHERE id = ANY($1)",
    };
    client
        .execute(sql, &[&ids(packages), &value])
        .ctx("set priorities")
}

/// Sets (or with `None` clears) the arch override of packages.
pub fn set_arch_override(
    client: &mut impl GenericClient,
    packages: &[PackageId],
    arch_override: Option<&str>,
) -> Result<u64, Error> {
    client
        .execute(
            "UPDATE package SET arch_override = $2 WHERE id = ANY($1)",
            &[&ids(packages), &arch_override],
        )
        .ctx("set arch overrides")
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
