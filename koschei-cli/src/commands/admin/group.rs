//! Package group admin commands.

use std::io::Read;
use std::path::PathBuf;

use koschei_core::db::package_group::{self as pg, GroupName};

use super::Tx;

#[derive(Debug, clap::Args)]
pub(crate) struct ContentArgs {
    /// Read package names (separated by white space) from this file, `-` for stdin.
    #[arg(long, value_name = "FILE")]
    content_from_file: Option<PathBuf>,
    /// Add to the current content instead of replacing it.
    #[arg(long)]
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

fn set_content(
    tx: &mut Tx<'_>,
    id: koschei_core::model::PackageGroupId,
    names: &[String],
    append: bool,
) -> anyhow::Result<usize> {
    match pg::set_content(tx, id, names, append) {
        Err(koschei_core::db::Error::NotFound {
            what: "packages",
            name,
        }) => {
            anyhow::bail!("Packages don't exist: {}", name.replace(", ", ","))
        }
        other => Ok(other?),
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// `namespace/name`, or `name` for a global group.
    name: String,
    #[command(flatten)]
    content: ContentArgs,
}

pub(crate) fn create(tx: &mut Tx<'_>, a: CreateArgs) -> anyhow::Result<Vec<String>> {
    let name = GroupName::parse(&a.name)?;
    let id = pg::create(tx, &name)?;
    let n = match a.content.read()? {
        Some(names) => set_content(tx, id, &names, a.content.append)?,
        None => 0,
    };
    Ok(vec![format!("Created group {name} with {n} packages")])
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
}

pub(crate) fn edit(tx: &mut Tx<'_>, a: EditArgs) -> anyhow::Result<Vec<String>> {
    let current = GroupName::parse(&a.current)?;
    let id = pg::get(tx, &current)?;
    let mut messages = Vec::new();
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
        messages.push(format!("Renamed group {current} to {new}"));
    }
    if let Some(names) = a.content.read()? {
        let n = set_content(tx, id, &names, a.content.append)?;
        let how = if a.content.append {
            "Appended to"
        } else {
            "Set content of"
        };
        messages.push(format!("{how} group {}: now {n} packages", a.current));
    }
    if messages.is_empty() {
        anyhow::bail!("nothing to change: give a new name, namespace or content");
    }
    Ok(messages)
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

pub(crate) fn add(tx: &mut Tx<'_>, a: AddArgs) -> anyhow::Result<Vec<String>> {
    let name = GroupName::parse(&a.group)?;
    let (id, created) = match pg::find(tx, &name)? {
        Some(id) => (id, false),
        None => (pg::create(tx, &name)?, true),
    };
    let n = set_content(tx, id, &a.packages, true)?;
    pg::add_maintainers(tx, id, &a.maintainers)?;
    let verb = if created { "Created" } else { "Extended" };
    let mut msg = format!("{verb} group {name}: now {n} packages");
    if !a.maintainers.is_empty() {
        msg.push_str(&format!(", maintainers {}", a.maintainers.join(", ")));
    }
    Ok(vec![msg])
}
