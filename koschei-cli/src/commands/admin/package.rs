//! Package admin commands.

use koschei_core::db::collection as coll;
use koschei_core::db::package::{self as pkg, PriorityKind};

use super::Tx;

#[derive(Debug, clap::Args)]
pub(crate) struct AddPkgArgs {
    /// Package names.
    #[arg(required = true)]
    names: Vec<String>,
    /// The collection.
    #[arg(short = 'c', long)]
    collection: String,
}

pub(crate) fn add_pkg(tx: &mut Tx<'_>, a: AddPkgArgs) -> anyhow::Result<Vec<String>> {
    let c = coll::get(tx, &a.collection)?;
    let (found, missing) = pkg::find_many(tx, c.id, &a.names)?;
    if !missing.is_empty() {
        anyhow::bail!("Packages don't exist: {}", missing.join(","));
    }
    let ids: Vec<_> = found.iter().filter(|p| !p.tracked).map(|p| p.id).collect();
    pkg::set_tracked(tx, &ids, true)?;
    Ok(found
        .iter()
        .map(|p| {
            if p.tracked {
                format!("Package {} in {} was already tracked", p.name, c.name)
            } else {
                format!("Package {} in {} is now tracked", p.name, c.name)
            }
        })
        .collect())
}

#[derive(Debug, clap::Args)]
pub(crate) struct SetPriorityArgs {
    /// Package names.
    #[arg(required = true, num_args = 1.., allow_negative_numbers = true)]
    names: Vec<String>,
    /// The priority (may be negative).
    #[arg(allow_negative_numbers = true)]
    value: i32,
    /// Set the static priority (kept) instead of the manual one (reset after a build).
    #[arg(long = "static")]
    static_: bool,
    /// The collection.
    #[arg(short = 'c', long)]
    collection: String,
}

pub(crate) fn set_priority(tx: &mut Tx<'_>, a: SetPriorityArgs) -> anyhow::Result<Vec<String>> {
    let (names, value) = (&a.names, a.value);
    let c = coll::get(tx, &a.collection)?;
    let (found, missing) = pkg::find_many(tx, c.id, names)?;
    if !missing.is_empty() {
        anyhow::bail!("Packages not found: {}", missing.join(","));
    }
    let (kind, label) = if a.static_ {
        (PriorityKind::Static, "static")
    } else {
        (PriorityKind::Manual, "manual")
    };
    let ids: Vec<_> = found.iter().map(|p| p.id).collect();
    pkg::set_priority(tx, &ids, kind, value)?;
    Ok(found
        .iter()
        .map(|p| {
            format!(
                "Set {label} priority of {} in {} to {value}",
                p.name, c.name
            )
        })
        .collect())
}

#[derive(Debug, clap::Args)]
pub(crate) struct ArchOverrideArgs {
    /// Package name, or with `--group` a global package group.
    name: String,
    /// Space separated arches, `^arch` excludes one; empty removes the override.
    arch_override: String,
    /// NAME is a global package group: set it for all its packages.
    #[arg(long)]
    group: bool,
    /// Only in this collection (default: every collection that has the package).
    #[arg(short = 'c', long)]
    collection: Option<String>,
}

pub(crate) fn set_arch_override(
    tx: &mut Tx<'_>,
    a: ArchOverrideArgs,
) -> anyhow::Result<Vec<String>> {
    let value = pkg::parse_arch_override(&a.arch_override)?;
    let collection = a
        .collection
        .as_deref()
        .map(|c| coll::get(tx, c))
        .transpose()?;
    let cid = collection.as_ref().map(|c| c.id);
    let packages = if a.group {
        pkg::in_global_group(tx, &a.name, cid)?
    } else {
        pkg::by_name(tx, &a.name, cid)?
    };
    if packages.is_empty() {
        let what = if a.group { "global group" } else { "package" };
        let place = collection.map_or(String::new(), |c| format!(" in collection `{}`", c.name));
        anyhow::bail!("no packages found for {what} `{}`{place}", a.name);
    }
    let ids: Vec<_> = packages.iter().map(|p| p.id).collect();
    pkg::set_arch_override(tx, &ids, value.as_deref())?;
    let shown = value.as_deref().unwrap_or("none");
    Ok(packages
        .iter()
        .map(|p| {
            format!(
                "Set arch override of {} in {} to {shown}",
                p.name, p.collection
            )
        })
        .collect())
}
