//! Package groups (`package_group`, `package_group_relation`, `group_acl`).

use postgres::GenericClient;
use serde::Serialize;

use super::{Error, QueryContext, column, log};
use crate::model::{BasePackageId, PackageGroupId};

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

/// How [`set_content`] changes a group's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentMode {
    /// The group holds exactly the given packages.
    Replace,
    /// The given packages are added.
    Append,
    /// The given packages are removed; each must be in the group.
    Remove,
}

/// What [`set_content`] changed: base packages added and removed (name, id), by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentChange {
    /// Packages added.
    pub added: Vec<(String, BasePackageId)>,
    /// Packages removed.
    pub removed: Vec<(String, BasePackageId)>,
    /// Packages in the group afterwards.
    pub total: usize,
}

/// Changes the packages of a group (base package names) as `mode` says. Names without a
/// base package are an error listing them all ([`Error::NotFound`] with `what: "packages"`),
/// as are, when removing, packages that are not in the group; either way nothing changes.
pub fn set_content(
    client: &mut impl GenericClient,
    id: PackageGroupId,
    names: &[String],
    mode: ContentMode,
) -> Result<ContentChange, Error> {
    const L: &str = "look up packages";
    let found: Vec<(String, BasePackageId)> = client
        .query(
            "SELECT name, id FROM base_package WHERE name = ANY($1) ORDER BY name",
            &[&names],
        )
        .ctx(L)?
        .iter()
        .map(|r| Ok((column(r, L, "name")?, BasePackageId(column(r, L, "id")?))))
        .collect::<Result<_, Error>>()?;
    let mut missing: Vec<&str> = names
        .iter()
        .filter(|n| !found.iter().any(|(f, _)| f == *n))
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
    const M: &str = "list a package group";
    let current: Vec<(String, BasePackageId)> = client
        .query(
            "SELECT b.name, b.id FROM package_group_relation r JOIN base_package b ON b.id = r.base_id
             WHERE r.group_id = $1 ORDER BY b.name",
            &[&id.0],
        )
        .ctx(M)?
        .iter()
        .map(|r| Ok((column(r, M, "name")?, BasePackageId(column(r, M, "id")?))))
        .collect::<Result<_, Error>>()?;
    let member = |b: &BasePackageId| current.iter().any(|(_, c)| c == b);
    let given = |b: &BasePackageId| found.iter().any(|(_, f)| f == b);
    let (added, removed): (Vec<_>, Vec<_>) = match mode {
        ContentMode::Replace => (
            found.iter().filter(|(_, b)| !member(b)).cloned().collect(),
            current.iter().filter(|(_, b)| !given(b)).cloned().collect(),
        ),
        ContentMode::Append => (
            found.iter().filter(|(_, b)| !member(b)).cloned().collect(),
            Vec::new(),
        ),
        ContentMode::Remove => {
            let outside: Vec<&str> = found
                .iter()
                .filter(|(_, b)| !member(b))
                .map(|(n, _)| n.as_str())
                .collect();
            if !outside.is_empty() {
                return Err(Error::Invalid {
                    what: "group content",
                    message: format!("not in the group: {}", outside.join(", ")),
                });
            }
            (Vec::new(), found.clone())
        }
    };
    let ids = |v: &[(String, BasePackageId)]| v.iter().map(|(_, b)| b.0).collect::<Vec<i32>>();
    if !removed.is_empty() {
        client
            .execute(
                "DELETE FROM package_group_relation WHERE group_id = $1 AND base_id = ANY($2)",
                &[&id.0, &ids(&removed)],
            )
            .ctx("remove packages from a group")?;
    }
    if !added.is_empty() {
        client
            .execute(
                "INSERT INTO package_group_relation (group_id, base_id)
                 SELECT $1, unnest($2::integer[]) ON CONFLICT DO NOTHING",
                &[&id.0, &ids(&added)],
            )
            .ctx("fill a package group")?;
    }
    Ok(ContentChange {
        total: current.len() + added.len() - removed.len(),
        added,
        removed,
    })
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

/// Names of the maintainers of a group, sorted.
pub fn maintainers(
    client: &mut impl GenericClient,
    id: PackageGroupId,
) -> Result<Vec<String>, Error> {
    const Q: &str = "list group maintainers";
    client
        .query(
            "SELECT u.name FROM group_acl a JOIN users u ON u.id = a.user_id
             WHERE a.group_id = $1 ORDER BY u.name",
            &[&id.0],
        )
        .ctx(Q)?
        .iter()
        .map(|r| column(r, Q, "name"))
        .collect()
}

/// Makes users (created on demand) maintainers of a group; returns those who were not, by
/// name.
pub fn add_maintainers(
    client: &mut impl GenericClient,
    id: PackageGroupId,
    users: &[String],
) -> Result<Vec<String>, Error> {
    let mut added = Vec::new();
    let mut users: Vec<&String> = users.iter().collect();
    users.sort();
    users.dedup();
    for user in users {
        let uid = log::user_id(client, user)?;
        let n = client
            .execute(
                "INSERT INTO group_acl (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&id.0, &uid.0],
            )
            .ctx("add a group maintainer")?;
        if n > 0 {
            added.push(user.clone());
        }
    }
    Ok(added)
}

/// Removes maintainers of a group; users who are not maintainers are an error naming them
/// all, and nothing changes.
pub fn remove_maintainers(
    client: &mut impl GenericClient,
    id: PackageGroupId,
    users: &[String],
) -> Result<Vec<String>, Error> {
    let current = maintainers(client, id)?;
    let mut users: Vec<String> = users.to_vec();
    users.sort();
    users.dedup();
    let strangers: Vec<&str> = users
        .iter()
        .filter(|u| !current.contains(u))
        .map(String::as_str)
        .collect();
    if !strangers.is_empty() {
        return Err(Error::Invalid {
            what: "group maintainers",
            message: format!("not maintainers of the group: {}", strangers.join(", ")),
        });
    }
    client
        .execute(
            "DELETE FROM group_acl WHERE group_id = $1
               AND user_id IN (SELECT id FROM users WHERE name = ANY($2))",
            &[&id.0, &users],
        )
        .ctx("remove group maintainers")?;
    Ok(users)
}

/// Deletes a group (its memberships and maintainers go with it).
pub fn delete(client: &mut impl GenericClient, id: PackageGroupId) -> Result<(), Error> {
    client
        .execute("DELETE FROM package_group WHERE id = $1", &[&id.0])
        .ctx("delete a package group")?;
    Ok(())
}
