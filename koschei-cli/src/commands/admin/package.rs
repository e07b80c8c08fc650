//! Package admin commands: the original's package edits (`add-pkg`, `set-priority`,
//! `set-arch-override`, the web form's `edit-package`) and scheduling control (`suspend`,
//! `resume`, `resolve-now`). Every change is logged in the original's words, `Package rnv
//! (collection f29): manual_priority set from 0 to 2000`, with the package's base id.

use koschei_core::db::collection::{self as coll, Collection};
use koschei_core::db::package::{self as pkg, AttributeChange, Package, PackageEdit};
use koschei_core::db::package_group::{self as pg, GroupName};

use super::{Entry, Tx};

/// Applies `edit` to every package; one log line per changed attribute, a note for a package
/// that `unchanged` describes when nothing changed.
fn apply(
    tx: &mut Tx<'_>,
    packages: &[Package],
    edit: &PackageEdit,
    unchanged: Option<&str>,
) -> anyhow::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for p in packages {
        let Some(changes) = pkg::edit(tx, p.id, edit)? else {
            anyhow::bail!("package `{}` disappeared meanwhile", p.name);
        };
        if changes.is_empty()
            && let Some(why) = unchanged
        {
            out.push(Entry::note(format!(
                "Package {} (collection {}): {why}",
                p.name, p.collection
            )));
        }
        out.extend(changes.iter().map(|c| entry(p, c)));
    }
    Ok(out)
}

fn entry(p: &Package, c: &AttributeChange) -> Entry {
    Entry::package_change(c.message(&p.name, &p.collection), p.base_id)
}

/// Packages of `collection` named `names`; any unknown name refuses the command.
fn named(tx: &mut Tx<'_>, c: &Collection, names: &[String]) -> anyhow::Result<Vec<Package>> {
    let (found, missing) = pkg::find_many(tx, c.id, names)?;
    if !missing.is_empty() {
        anyhow::bail!("Packages not found: {}", missing.join(","));
    }
    Ok(found)
}

/// Which packages of a collection a command changes: names, or a package group.
#[derive(Debug, clap::Args)]
pub(crate) struct Selection {
    /// The collection.
    #[arg(short = 'c', long)]
    collection: String,
    #[command(flatten)]
    which: Which,
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Which {
    /// Package names.
    names: Vec<String>,
    /// Every package of this package group (`namespace/name`, or `name` for a global group)
    /// in the collection.
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
}

impl Selection {
    fn packages(&self, tx: &mut Tx<'_>) -> anyhow::Result<Vec<Package>> {
        let c = coll::get(tx, &self.collection)?;
        match &self.which.group {
            Some(group) => {
                let name = GroupName::parse(group)?;
                let id = pg::get(tx, &name)?;
                let packages = pkg::in_group(tx, id, c.id)?;
                if packages.is_empty() {
                    anyhow::bail!(
                        "package group `{name}` has no packages in collection `{}`",
                        c.name
                    );
                }
                Ok(packages)
            }
            None => named(tx, &c, &self.which.names),
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct AddPkgArgs {
    /// Package names.
    #[arg(required = true)]
    names: Vec<String>,
    /// The collection.
    #[arg(short = 'c', long)]
    collection: String,
}

pub(crate) fn add_pkg(tx: &mut Tx<'_>, a: AddPkgArgs) -> anyhow::Result<Vec<Entry>> {
    let c = coll::get(tx, &a.collection)?;
    let (found, missing) = pkg::find_many(tx, c.id, &a.names)?;
    if !missing.is_empty() {
        anyhow::bail!("Packages don't exist: {}", missing.join(","));
    }
    let edit = PackageEdit {
        tracked: Some(true),
        ..PackageEdit::default()
    };
    apply(tx, &found, &edit, Some("already tracked"))
}

/// `true` or `false`.
fn boolean(s: &str) -> Result<bool, String> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{s}` is not `true` or `false`")),
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct EditArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    changes: EditChanges,
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = true)]
struct EditChanges {
    /// Track (`true`) or stop tracking (`false`) the packages.
    #[arg(long, value_name = "BOOL", value_parser = boolean)]
    tracked: Option<bool>,
    /// Skip dependency resolution (`true`: also sets `resolved` to none and deletes the
    /// unapplied dependency changes) or resolve again (`false`).
    #[arg(long, value_name = "BOOL", value_parser = boolean)]
    skip_resolution: Option<bool>,
    /// The manual priority (reset after the next build; may be negative).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    manual_priority: Option<i32>,
    /// The static priority (kept; may be negative).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    static_priority: Option<i32>,
    /// Space separated arches, `^arch` excludes one; empty removes the override.
    #[arg(long, value_name = "ARCHES")]
    arch_override: Option<String>,
    /// The least hours between two scratch builds of a package; 0 removes the limit.
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(i32).range(0..))]
    min_rebuild_interval: Option<i32>,
}

pub(crate) fn edit(tx: &mut Tx<'_>, a: EditArgs) -> anyhow::Result<Vec<Entry>> {
    let c = a.changes;
    let arch_override = c
        .arch_override
        .as_deref()
        .map(pkg::parse_arch_override)
        .transpose()?;
    let edit = PackageEdit {
        tracked: c.tracked,
        skip_resolution: c.skip_resolution,
        manual_priority: c.manual_priority,
        static_priority: c.static_priority,
        arch_override,
        min_rebuild_interval_hours: c.min_rebuild_interval.map(|h| (h > 0).then_some(h)),
        ..PackageEdit::default()
    };
    let packages = a.selection.packages(tx)?;
    apply(tx, &packages, &edit, Some("no change"))
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

pub(crate) fn set_priority(tx: &mut Tx<'_>, a: SetPriorityArgs) -> anyhow::Result<Vec<Entry>> {
    let c = coll::get(tx, &a.collection)?;
    let found = named(tx, &c, &a.names)?;
    let edit = if a.static_ {
        PackageEdit {
            static_priority: Some(a.value),
            ..PackageEdit::default()
        }
    } else {
        PackageEdit {
            manual_priority: Some(a.value),
            ..PackageEdit::default()
        }
    };
    apply(tx, &found, &edit, Some("no change"))
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
) -> anyhow::Result<Vec<Entry>> {
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
    let edit = PackageEdit {
        arch_override: Some(value),
        ..PackageEdit::default()
    };
    apply(tx, &packages, &edit, Some("no change"))
}

#[derive(Debug, clap::Args)]
pub(crate) struct SuspendArgs {
    #[command(flatten)]
    selection: Selection,
    /// The end of the suspension, in UTC: `YYYY-MM-DD` (midnight) or `YYYY-MM-DD HH:MM`.
    #[arg(long, value_name = "DATE")]
    until: String,
}

pub(crate) fn suspend(tx: &mut Tx<'_>, a: SuspendArgs) -> anyhow::Result<Vec<Entry>> {
    // Parsed here rather than by clap: a bad date is bad input (exit code 1), like an
    // unknown package.
    let until = koschei_core::calendar::parse_utc(&a.until)?;
    let now = koschei_core::service::now();
    if until <= now {
        anyhow::bail!(
            "{} is not in the future",
            koschei_core::calendar::format_utc(until)
        );
    }
    let packages = a.selection.packages(tx)?;
    let edit = PackageEdit {
        suspended_until: Some(Some(until)),
        ..PackageEdit::default()
    };
    apply(tx, &packages, &edit, Some("already suspended until then"))
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResumeArgs {
    #[command(flatten)]
    selection: Selection,
}

pub(crate) fn resume(tx: &mut Tx<'_>, a: ResumeArgs) -> anyhow::Result<Vec<Entry>> {
    let packages = a.selection.packages(tx)?;
    let edit = PackageEdit {
        suspended_until: Some(None),
        ..PackageEdit::default()
    };
    apply(tx, &packages, &edit, Some("not suspended"))
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResolveNowArgs {
    #[command(flatten)]
    selection: Selection,
}

pub(crate) fn resolve_now(tx: &mut Tx<'_>, a: ResolveNowArgs) -> anyhow::Result<Vec<Entry>> {
    let packages = a.selection.packages(tx)?;
    let edit = PackageEdit {
        reset_resolution: true,
        ..PackageEdit::default()
    };
    let mut out = Vec::new();
    for p in &packages {
        let why = if p.skip_resolution {
            "skip_resolution is set, nothing to resolve"
        } else {
            "not resolved yet, the next repo resolver pass resolves it"
        };
        out.extend(apply(tx, std::slice::from_ref(p), &edit, Some(why))?);
    }
    Ok(out)
}
