//! Admin commands (the original's `koschei-admin`): each runs in one transaction, writes
//! its messages to the admin log as the invoking user and prints them.

mod build;
mod collection;
mod group;
mod misc;
mod package;

use crate::exit::outln;
use koschei_core::db::log::{self, Environment};
use koschei_core::model::BasePackageId;

use super::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Create a collection.
    CreateCollection(collection::CreateArgs),
    /// Change a collection's settings.
    EditCollection(collection::EditArgs),
    /// Delete a collection (refused when it has packages, unless forced).
    DeleteCollection(collection::DeleteArgs),
    /// Branch a release: freeze a copy of the collection under its current name and move
    /// the collection itself to a new name and target.
    BranchCollection(collection::BranchArgs),
    /// Create a collection with another one's settings and packages.
    ForkCollection(collection::ForkArgs),
    /// Create a collection group.
    CreateCollectionGroup(collection::GroupArgs),
    /// Change a collection group.
    EditCollectionGroup(collection::GroupEditArgs),
    /// Delete a collection group.
    DeleteCollectionGroup(collection::GroupDeleteArgs),
    /// Create a package group.
    CreateGroup(group::CreateArgs),
    /// Change a package group: rename it, set, add or remove packages and maintainers.
    EditGroup(group::EditArgs),
    /// Create (or extend) a package group with packages and maintainers.
    AddGroup(group::AddArgs),
    /// Delete a package group.
    DeleteGroup(group::DeleteArgs),
    /// Track packages in a collection.
    AddPkg(package::AddPkgArgs),
    /// Change packages' scheduling attributes (the original's package form): tracked,
    /// skip resolution, manual and static priority, arch override, minimum rebuild interval.
    EditPackage(package::EditArgs),
    /// Set the manual (or static) priority of packages.
    SetPriority(package::SetPriorityArgs),
    /// Set the arch override of a package or of a global group's packages.
    SetArchOverride(package::ArchOverrideArgs),
    /// Suspend the scheduling of packages until a date (no scratch builds until then).
    Suspend(package::SuspendArgs),
    /// End the suspension of packages.
    Resume(package::ResumeArgs),
    /// Have the repo resolver resolve packages again at its next pass, without a new repo.
    ResolveNow(package::ResolveNowArgs),
    /// Ask for the cancelation of a running build (the next polling pass cancels it).
    CancelBuild(build::CancelArgs),
    /// Set the notice shown on every web page.
    SetNotice(misc::SetNoticeArgs),
    /// Remove the notice.
    ClearNotice,
    /// Delete old builds and resolution history.
    Cleanup(misc::CleanupArgs),
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    use Command as C;
    // Koji is asked before the transaction starts: none is held open during a Koji call.
    let command = match command {
        C::CreateCollection(mut a) => {
            collection::fill_tags_from_koji(&ctx.config, &mut a.settings)?;
            C::CreateCollection(a)
        }
        other => other,
    };
    in_admin_tx(ctx, |tx| match command {
        C::CreateCollection(a) => collection::create(tx, a).map(logged),
        C::EditCollection(a) => collection::edit(tx, a).map(logged),
        C::DeleteCollection(a) => collection::delete(tx, a).map(logged),
        C::BranchCollection(a) => collection::branch(tx, a).map(logged),
        C::ForkCollection(a) => collection::fork(tx, a).map(logged),
        C::CreateCollectionGroup(a) => collection::create_group(tx, a).map(logged),
        C::EditCollectionGroup(a) => collection::edit_group(tx, a).map(logged),
        C::DeleteCollectionGroup(a) => collection::delete_group(tx, a).map(logged),
        C::CreateGroup(a) => group::create(tx, a),
        C::EditGroup(a) => group::edit(tx, a),
        C::AddGroup(a) => group::add(tx, a),
        C::DeleteGroup(a) => group::delete(tx, a),
        C::AddPkg(a) => package::add_pkg(tx, a),
        C::EditPackage(a) => package::edit(tx, a),
        C::SetPriority(a) => package::set_priority(tx, a),
        C::SetArchOverride(a) => package::set_arch_override(tx, a),
        C::Suspend(a) => package::suspend(tx, a),
        C::Resume(a) => package::resume(tx, a),
        C::ResolveNow(a) => package::resolve_now(tx, a),
        C::CancelBuild(a) => build::cancel(tx, a),
        C::SetNotice(a) => misc::set_notice(tx, a).map(logged),
        C::ClearNotice => misc::clear_notice(tx).map(logged),
        C::Cleanup(a) => misc::cleanup(tx, a).map(logged),
    })
}

/// The transaction admin commands work in.
pub(crate) type Tx<'a> = postgres::Transaction<'a>;

/// A line an admin command prints: a change, written to the admin log (with the base
/// package it concerns), or a note that changes nothing and is only printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    text: String,
    log: Option<Option<BasePackageId>>,
}

impl Entry {
    /// A change: printed and logged.
    pub(crate) fn change(text: String) -> Entry {
        Entry {
            text,
            log: Some(None),
        }
    }

    /// A change of one package: printed and logged with its base package.
    pub(crate) fn package_change(text: String, base: BasePackageId) -> Entry {
        Entry {
            text,
            log: Some(Some(base)),
        }
    }

    /// Printed only (nothing changed).
    pub(crate) fn note(text: String) -> Entry {
        Entry { text, log: None }
    }
}

/// Messages that are all logged changes.
fn logged(messages: Vec<String>) -> Vec<Entry> {
    messages.into_iter().map(Entry::change).collect()
}

/// Runs `f` in a transaction, logs the changes it returns, commits, then prints every line.
fn in_admin_tx(
    ctx: &Context,
    f: impl FnOnce(&mut Tx<'_>) -> anyhow::Result<Vec<Entry>>,
) -> anyhow::Result<()> {
    let (_db, mut client) = ctx.connect_current()?;
    let mut tx = client.transaction()?;
    let entries = f(&mut tx)?;
    if entries.iter().any(|e| e.log.is_some()) {
        let user = log::user_id(&mut tx, &admin_user())?;
        for e in &entries {
            if let Some(base) = e.log {
                log::record(&mut tx, Environment::Admin, Some(user), &e.text, base)?;
            }
        }
    }
    tx.commit()?;
    for e in entries {
        outln!("{}", e.text)?;
    }
    Ok(())
}

/// `$SUDO_USER`, `$USER` or `$LOGNAME`, else the name of our uid in `/etc/passwd`.
pub(crate) fn admin_user() -> String {
    if let Some(u) = koschei_core::config::invoking_user() {
        return u;
    }
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid-{uid}"))
}
