//! Admin commands (the original's `koschei-admin`): each runs in one transaction, writes
//! its messages to the admin log as the invoking user and prints them.

mod collection;
mod group;
mod misc;
mod package;

use crate::exit::outln;
use koschei_core::db::log::{self, Environment};

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
    /// Rename a package group or change its content.
    EditGroup(group::EditArgs),
    /// Create (or extend) a package group with packages and maintainers.
    AddGroup(group::AddArgs),
    /// Track packages in a collection.
    AddPkg(package::AddPkgArgs),
    /// Set the manual (or static) priority of packages.
    SetPriority(package::SetPriorityArgs),
    /// Set the arch override of a package or of a global group's packages.
    SetArchOverride(package::ArchOverrideArgs),
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
        C::CreateCollection(a) => collection::create(tx, a),
        C::EditCollection(a) => collection::edit(tx, a),
        C::DeleteCollection(a) => collection::delete(tx, a),
        C::BranchCollection(a) => collection::branch(tx, a),
        C::ForkCollection(a) => collection::fork(tx, a),
        C::CreateCollectionGroup(a) => collection::create_group(tx, a),
        C::EditCollectionGroup(a) => collection::edit_group(tx, a),
        C::DeleteCollectionGroup(a) => collection::delete_group(tx, a),
        C::CreateGroup(a) => group::create(tx, a),
        C::EditGroup(a) => group::edit(tx, a),
        C::AddGroup(a) => group::add(tx, a),
        C::AddPkg(a) => package::add_pkg(tx, a),
        C::SetPriority(a) => package::set_priority(tx, a),
        C::SetArchOverride(a) => package::set_arch_override(tx, a),
        C::SetNotice(a) => misc::set_notice(tx, a),
        C::ClearNotice => misc::clear_notice(tx),
        C::Cleanup(a) => misc::cleanup(tx, a),
    })
}

/// The transaction admin commands work in.
pub(crate) type Tx<'a> = postgres::Transaction<'a>;

/// Runs `f` in a transaction, logs the messages it returns, commits, then prints them.
fn in_admin_tx(
    ctx: &Context,
    f: impl FnOnce(&mut Tx<'_>) -> anyhow::Result<Vec<String>>,
) -> anyhow::Result<()> {
    let (_db, mut client) = ctx.connect_current()?;
    let mut tx = client.transaction()?;
    let messages = f(&mut tx)?;
    let user = log::user_id(&mut tx, &admin_user())?;
    for m in &messages {
        log::record(&mut tx, Environment::Admin, Some(user), m, None)?;
    }
    tx.commit()?;
    for m in messages {
        outln!("{m}")?;
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
