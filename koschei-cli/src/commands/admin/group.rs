//! Package group admin commands. Membership changes are logged in the original's words:
//! `Group kde modified: package okular added`, `... maintainer alice removed`,
//! `Group kde deleted`.

use std::io::Read;
use std::path::PathBuf;

use koschei_core::db::package_group::{self as pg, ContentChange, ContentMode, GroupName};
use koschei_core::model::PackageGroupId;

use super::{Entry, Tx};

#[derive(Debug, clap::Args)]
pub(crate) struct ContentArgs {
    /// Read package names (separated by white space) from this file, `-` for stdin.
    #[arg(long, value_name = "FILE")]
    content_from_file: Option<PathBuf>,
    /// Add to the current content instead of replacing it.
    #[arg(long, requires = "content_from_file")]
    append: bool,
}

impl ContentArgs {
    fn read(&self) -> anyhow::Result<Option<Vec<String>>> {
        let Some(path) = &self.content_from_file else {
            return Ok(None);
        };
        let text = if path.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?
        };
        Ok(Some(text.split_whitespace().map(str::to_owned).collect()))
    }
}

/// Changes the content and returns the log lines, one per package added or removed.
fn set_content(
    tx: &mut Tx<'_>,
    group: &GroupName,
    id: PackageGroupId,
    names: &[String],
    mode: ContentMode,
) -> anyhow::Result<(Vec<Entry>, usize)> {
    let ContentChange {
        added,
        removed,
        total,
    } = match pg::set_content(tx, id, names, mode) {
        Err(koschei_core::db::Error::NotFound {
            what: "packages",
            name,
        }) => {
            anyhow::bail!("Packages don't exist: {}", name.replace(", ", ","))
        }
        other => other?,
    };
    let mut out = Vec::new();
    for (name, base) in added {
        out.push(Entry::package_change(
            format!("Group {group} modified: package {name} added"),
            base,
        ));
    }
    for (name, base) in removed {
        out.push(Entry::package_change(
            format!("Group {group} modified: package {name} removed"),
            base,
        ));
    }
    Ok((out, total))
}

fn maintainer_lines(group: &GroupName, users: &[String], verb: &str) -> Vec<Entry> {
    users
        .iter()
        .map(|u| Entry::change(format!("Group {group} modified: maintainer {u} {verb}")))
        .collect()
}

#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// `namespace/name`, or `name` for a global group.
    name: String,
    #[command(flatten)]
    content: ContentArgs,
}

pub(crate) fn create(tx: &mut Tx<'_>, a: CreateArgs) -> anyhow::Result<Vec<Entry>> {
    let name = GroupName::parse(&a.name)?;
    let id = pg::create(tx, &name)?;
    let (lines, n) = match a.content.read()? {
        Some(names) => set_content(tx, &name, id, &names, ContentMode::Append)?,
        None => (Vec::new(), 0),
    };
    let mut out = vec![Entry::change(format!(
        "Created group {name} with {n} packages"
    ))];
    out.extend(lines);
    Ok(out)
}

#[derive(Debug, clap::Args)]
pub(crate) struct EditArgs {
    /// Current full name (`namespace/name` or `name`).
    current: String,
    /// New name.
    #[arg(long)]
    new_name: Option<String>,
    /// New namespace.
    #[arg(long, conflicts_with = "make_global")]
    new_namespace: Option<String>,
    /// Make it a global group (no namespace).
    #[arg(long)]
    make_global: bool,
    #[command(flatten)]
    content: ContentArgs,
    /// Add these packages.
    #[arg(long = "add-package", value_name = "PACKAGE", num_args = 1..)]
    add_packages: Vec<String>,
    /// Remove these packages (each must be in the group).
    #[arg(long = "remove-package", value_name = "PACKAGE", num_args = 1..)]
    remove_packages: Vec<String>,
    /// Make these users maintainers (created if unknown).
    #[arg(long = "add-maintainer", value_name = "USER", num_args = 1..)]
    add_maintainers: Vec<String>,
    /// Remove these maintainers (each must be one).
    #[arg(long = "remove-maintainer", value_name = "USER", num_args = 1..)]
    remove_maintainers: Vec<String>,
    /// Make exactly these users the maintainers.
    #[arg(
        long = "set-maintainers",
        value_name = "USER",
        num_args = 1..,
        conflicts_with_all = ["add_maintainers", "remove_maintainers"]
    )]
    set_maintainers: Vec<String>,
}

pub(crate) fn edit(tx: &mut Tx<'_>, a: EditArgs) -> anyhow::Result<Vec<Entry>> {
    let current = GroupName::parse(&a.current)?;
    let id = pg::get(tx, &current)?;
    let mut out = Vec::new();
    let mut name = current.clone();
    if a.new_name.is_some() || a.new_namespace.is_some() || a.make_global {
        let new = GroupName {
            namespace: if a.make_global {
                None
            } else {
                a.new_namespace.or(current.namespace.clone())
            },
            name: a.new_name.unwrap_or(current.name.clone()),
        };
        let new = GroupName::parse(&new.full())?;
        pg::rename(tx, id, &new)?;
        out.push(Entry::change(format!("Renamed group {current} to {new}")));
        name = new;
    }
    let mut content_changed = false;
    if let Some(names) = a.content.read()? {
        let mode = if a.content.append {
            ContentMode::Append
        } else {
            ContentMode::Replace
        };
        out.extend(set_content(tx, &name, id, &names, mode)?.0);
        content_changed = true;
    }
    if !a.add_packages.is_empty() {
        out.extend(set_content(tx, &name, id, &a.add_packages, ContentMode::Append)?.0);
        content_changed = true;
    }
    if !a.remove_packages.is_empty() {
        out.extend(set_content(tx, &name, id, &a.remove_packages, ContentMode::Remove)?.0);
        content_changed = true;
    }
    let mut maintainers_changed = false;
    if !a.set_maintainers.is_empty() {
        let current_users = pg::maintainers(tx, id)?;
        let gone: Vec<String> = current_users
            .iter()
            .filter(|u| !a.set_maintainers.contains(u))
            .cloned()
            .collect();
        out.extend(maintainer_lines(
            &name,
            &pg::add_maintainers(tx, id, &a.set_maintainers)?,
            "added",
        ));
        out.extend(maintainer_lines(
            &name,
            &pg::remove_maintainers(tx, id, &gone)?,
            "removed",
        ));
        maintainers_changed = true;
    }
    if !a.add_maintainers.is_empty() {
        out.extend(maintainer_lines(
            &name,
            &pg::add_maintainers(tx, id, &a.add_maintainers)?,
            "added",
        ));
        maintainers_changed = true;
    }
    if !a.remove_maintainers.is_empty() {
        let removed = match pg::remove_maintainers(tx, id, &a.remove_maintainers) {
            Err(koschei_core::db::Error::Invalid { message, .. }) => {
                anyhow::bail!("group `{name}`: {message}")
            }
            other => other?,
        };
        out.extend(maintainer_lines(&name, &removed, "removed"));
        maintainers_changed = true;
    }
    if out.is_empty() && !content_changed && !maintainers_changed {
        anyhow::bail!(
            "nothing to change: give a new name, namespace, content, packages or maintainers"
        );
    }
    if out.is_empty() {
        out.push(Entry::note(format!("Group {name}: no change")));
    } else if content_changed {
        let n = pg::members(tx, id)?.len();
        out.push(Entry::note(format!("Group {name} now has {n} packages")));
    }
    Ok(out)
}

#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// `namespace/name`, or `name` for a global group; created if missing.
    group: String,
    /// Packages to add.
    packages: Vec<String>,
    /// Users who maintain the group.
    #[arg(short = 'm', long = "maintainer", num_args = 1..)]
    maintainers: Vec<String>,
}

pub(crate) fn add(tx: &mut Tx<'_>, a: AddArgs) -> anyhow::Result<Vec<Entry>> {
    let name = GroupName::parse(&a.group)?;
    let mut out = Vec::new();
    let id = match pg::find(tx, &name)? {
        Some(id) => id,
        None => {
            out.push(Entry::change(format!("Created group {name}")));
            pg::create(tx, &name)?
        }
    };
    let (lines, n) = set_content(tx, &name, id, &a.packages, ContentMode::Append)?;
    out.extend(lines);
    out.extend(maintainer_lines(
        &name,
        &pg::add_maintainers(tx, id, &a.maintainers)?,
        "added",
    ));
    out.push(Entry::note(format!("Group {name} now has {n} packages")));
    Ok(out)
}

#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    /// `namespace/name`, or `name` for a global group.
    name: String,
}

pub(crate) fn delete(tx: &mut Tx<'_>, a: DeleteArgs) -> anyhow::Result<Vec<Entry>> {
    let name = GroupName::parse(&a.name)?;
    let id = pg::get(tx, &name)?;
    pg::delete(tx, id)?;
    Ok(vec![Entry::change(format!("Group {name} deleted"))])
}
