//! Package groups (`package_group`, `package_group_relation`, `group_acl`).

use postgres::GenericClient;
use serde::Serialize;

use super::{Error, QueryContext, column, log};
use crate::model::PackageGroupId;

/// A group name split into namespace and name: `ns/name` or a global `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupName {
    /// `None` for a global group.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl GroupName {
    /// Parses `ns/name` or `name`.
    pub fn parse(full: &str) -> Result<GroupName, Error> {
        let invalid = |message: &str| Error::Invalid {
            what: "group name",
            message: format!("`{full}`: {message}"),
        };
        let (namespace, name) = match full.split_once('/') {
            Some((ns, name)) => {
                if ns.is_empty() || name.contains('/') {
                    return Err(invalid("expected `namespace/name` or `name`"));
                }
                (Some(ns.to_owned()), name)
            }
            None => (None, full),
        };
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '_' | '-'));
        if !ok {
            return Err(invalid(
                "a name may contain only letters, digits and `.+_-`",
            ));
        }
        Ok(GroupName {
            namespace,
            name: name.to_owned(),
        })
    }

    /// `ns/name` or `name`.
    pub fn full(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl std::fmt::Display for GroupName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full())
    }
}

/// The id of group `name`, if it exists.
pub fn find(
    client: &mut impl GenericClient,
    name: &GroupName,
) -> Result<Option<PackageGroupId>, Error> {
    let row = client
        .query_opt(
            "SELECT id FROM package_group WHERE namespace IS NOT DISTINCT FROM $1 AND name = $2",
            &[&name.namespace, &name.name],
        )
        .ctx("look up a package group")?;
    row.map(|r| column(&r, "look up a package group", "id").map(PackageGroupId))
        .transpose()
}

/// The id of group `name`, or [`Error::NotFound`].
pub fn get(client: &mut impl GenericClient, name: &GroupName) -> Result<PackageGroupId, Error> {
    find(client, name)?.ok_or_else(|| Error::NotFound {
        what: "package group",
        name: name.full(),
    })
}

/// Creates an empty group.
pub fn create(client: &mut impl GenericClient, name: &GroupName) -> Result<PackageGroupId, Error> {
    if find(client, name)?.is_some() {
        return Err(Error::AlreadyExists {
            what: "package group",
            name: name.full(),
        });
    }
    let row = client
        .query_one(
            "INSERT INTO package_group (namespace, name) VALUES ($1, $2) RETURNING id",
            &[&name.namespace, &name.name],
        )
        .ctx("create a package group")?;
    Ok(PackageGroupId(column(
        &row,
        "create a package group",
        "id",
    )?))
}

/// Renames a group (namespace and name).
pub fn rename(
    client: &mut impl GenericClient,
    id: PackageGroupId,
    new: &GroupName,
) -> Result<(), Error> {
    if find(client, new)?.is_some_and(|other| other != id) {
        return Err(Error::AlreadyExists {
            what: "package group",
            name: new.full(),
        });
    }
    client
        .execute(
            "UPDATE package_group SET namespace = $2, name = $3 WHERE id = $1",
            &[&id.0, &new.namespace, &new.name],
        )
        .ctx("rename a package group")?;
    Ok(())
}

/// Sets the packages of a group (base package names): replaces the content, or adds to it
/// when `append`. Names without a base package are an error listing them all, and
/// nothing changes.
pub fn set_content(
    client: &mut impl GenericClient,
    id: PackageGroupId,
    names: &[String],
    append: bool,
) -> Result<usize, Error> {
    let found: Vec<String> = client
        .query(
            "SELECT name FROM base_package WHERE name = ANY($1)",
            &[&names],
        )
        .ctx("look up packages")?
        .iter()
        .map(|r| column(r, "look up packages", "name"))
        .collect::<Result<_, Error>>()?;
    let mut missing: Vec<&str> = names
        .iter()
        .filter(|n| !found.contains(n))
        .map(String::as_str)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        return Err(Error::NotFound {
            what: "packages",
            name: missing.join(", "),
        });
    }
    if !append {
        client
            .execute(
                "DELETE FROM package_group_relation WHERE group_id = $1",
                &[&id.0],
            )
            .ctx("clear a package group")?;
    }
    client
        .execute(
            "INSERT INTO package_group_relation (group_id, base_id)
             SELECT $1, id FROM base_package WHERE name = ANY($2) ON CONFLICT DO NOTHING",
            &[&id.0, &names],
        )
        .ctx("fill a package group")?;
    members(client, id).map(|m| m.len())
}

/// Names of the packages of a group, sorted.
pub fn members(client: &mut impl GenericClient, id: PackageGroupId) -> Result<Vec<String>, Error> {
    client
        .query(
            "SELECT b.name FROM package_group_relation r JOIN base_package b ON b.id = r.base_id
             WHERE r.group_id = $1 ORDER BY b.name",
            &[&id.0],
        )
        .ctx("list a package group")?
        .iter()
        .map(|r| column(r, "list a package group", "name"))
        .collect()
}

/// Makes users (created on demand) maintainers of a group.
pub fn add_maintainers(
    client: &mut impl GenericClient,
    id: PackageGroupId,
    users: &[String],
) -> Result<(), Error> {
    for user in users {
        let uid = log::user_id(client, user)?;
        client
            .execute(
                "INSERT INTO group_acl (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&id.0, &uid.0],
            )
            .ctx("add a group maintainer")?;
    }
    Ok(())
}
