//! Collection and collection group admin commands.

use koschei_core::db::collection::{self as coll, CollectionUpdate, NewCollection};

use super::Tx;

/// `primary` or `secondary` Koji.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    Primary,
    Secondary,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Settings {
    /// Display name.
    #[arg(short = 'd', long)]
    display_name: Option<String>,
    /// Koji target for scratch builds.
    #[arg(short = 't', long)]
    target: Option<String>,
    /// The target's build tag (default: asked from Koji's `getBuildTarget`).
    #[arg(long)]
    build_tag: Option<String>,
    /// Tag for the package list and real builds (default: the target's destination tag from
    /// Koji when the build tag is looked up there, else the build tag).
    #[arg(long)]
    dest_tag: Option<String>,
    /// Which Koji the collection lives in.
    #[arg(short = 'm', long, value_enum)]
    mode: Option<Mode>,
    /// Multiplies the package priorities.
    #[arg(short = 'p', long)]
    priority_coefficient: Option<f64>,
    /// Display order; the highest is the default collection.
    #[arg(short = 'o', long, allow_negative_numbers = true)]
    order: Option<i32>,
    /// Koji build group.
    #[arg(long)]
    build_group: Option<String>,
    /// Also poll untracked packages (`true` or `false`).
    #[arg(long, action = clap::ArgAction::Set)]
    poll_untracked: Option<bool>,
    /// Bugzilla product (empty: none).
    #[arg(long)]
    bugzilla_product: Option<String>,
    /// Bugzilla version (empty: none).
    #[arg(long)]
    bugzilla_version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// Machine name (used in URLs).
    name: String,
    #[command(flatten)]
    pub(crate) settings: Settings,
}

/// Fills the build tag (and the destination tag, when not given) from Koji's
/// `getBuildTarget(target)` when `--build-tag` is absent; the secondary Koji answers for
/// collections in secondary mode.
pub(crate) fn fill_tags_from_koji(
    config: &koschei_core::Config,
    s: &mut Settings,
) -> anyhow::Result<()> {
    if s.build_tag.is_some() {
        return Ok(());
    }
    let Some(target) = &s.target else {
        return Ok(());
    };
    let koji = match (s.mode, &config.secondary_koji) {
        (Some(Mode::Secondary), Some(secondary)) => secondary,
        (Some(Mode::Secondary), None) => {
            anyhow::bail!("`--mode secondary` needs a `[secondary_koji]` configuration")
        }
        _ => &config.koji,
    };
    let mut options = koji.client_options();
    options.login = koschei_core::koji::Login::None;
    // An interactive command fails fast instead of retrying for hours like the services.
    options.anon_retry = false;
    let client = koschei_core::koji::Client::new(options)?;
    let found = client.build_target(target)?.ok_or_else(|| {
        anyhow::anyhow!(
            "Koji at `{}` has no build target `{target}`\n\nhint: give the tags with `--build-tag` and `--dest-tag`",
            koji.server
        )
    })?;
    s.build_tag = Some(found.build_tag_name);
    if s.dest_tag.is_none() {
        s.dest_tag = Some(found.dest_tag_name);
    }
    Ok(())
}

fn required(value: Option<String>, flag: &str) -> anyhow::Result<String> {
    value.ok_or_else(|| anyhow::anyhow!("`{flag}` is required"))
}

fn non_empty(s: Option<String>) -> Option<Option<String>> {
    s.map(|v| (!v.is_empty()).then_some(v))
}

pub(crate) fn create(tx: &mut Tx<'_>, a: CreateArgs) -> anyhow::Result<Vec<String>> {
    let s = a.settings;
    let display_name = required(s.display_name, "--display-name")?;
    let target = required(s.target, "--target")?;
    let build_tag = required(s.build_tag, "--build-tag")?;
    let mut c = NewCollection::new(&a.name, &display_name, &target, &build_tag);
    c.dest_tag = s.dest_tag.unwrap_or(build_tag);
    c.secondary_mode = s.mode == Some(Mode::Secondary);
    c.priority_coefficient = s.priority_coefficient.unwrap_or(c.priority_coefficient);
    c.order = s.order.unwrap_or(c.order);
    c.build_group = s.build_group.unwrap_or(c.build_group);
    c.poll_untracked = s.poll_untracked.unwrap_or(c.poll_untracked);
    c.bugzilla_product = non_empty(s.bugzilla_product).flatten();
    c.bugzilla_version = non_empty(s.bugzilla_version).flatten();
    let created = coll::create(tx, &c)?;
    Ok(vec![format!(
        "Created collection {} ({}), target {}, build tag {}, dest tag {}",
        created.name, created.display_name, created.target, created.build_tag, created.dest_tag
    )])
}

#[derive(Debug, clap::Args)]
pub(crate) struct EditArgs {
    /// The collection.
    name: String,
    /// Rename it.
    #[arg(long)]
    new_name: Option<String>,
    #[command(flatten)]
    settings: Settings,
}

pub(crate) fn edit(tx: &mut Tx<'_>, a: EditArgs) -> anyhow::Result<Vec<String>> {
    let current = coll::get(tx, &a.name)?;
    let s = a.settings;
    let update = CollectionUpdate {
        name: a.new_name,
        display_name: s.display_name,
        target: s.target,
        build_tag: s.build_tag,
        dest_tag: s.dest_tag,
        secondary_mode: s.mode.map(|m| m == Mode::Secondary),
        priority_coefficient: s.priority_coefficient,
        order: s.order,
        build_group: s.build_group,
        poll_untracked: s.poll_untracked,
        bugzilla_product: non_empty(s.bugzilla_product),
        bugzilla_version: non_empty(s.bugzilla_version),
    };
    if update == CollectionUpdate::default() {
        anyhow::bail!("nothing to change: give at least one option");
    }
    let after = coll::update(tx, current.id, &update)?;
    Ok(vec![format!(
        "Edited collection {}: {}",
        current.name,
        describe_changes(&current, &after)
    )])
}

fn describe_changes(before: &coll::Collection, after: &coll::Collection) -> String {
    let mut changes = Vec::new();
    let mut diff = |field: &str, a: String, b: String| {
        if a != b {
            changes.push(format!("{field} {a} -> {b}"));
        }
    };
    diff("name", before.name.clone(), after.name.clone());
    diff(
        "display name",
        before.display_name.clone(),
        after.display_name.clone(),
    );
    diff("target", before.target.clone(), after.target.clone());
    diff(
        "build tag",
        before.build_tag.clone(),
        after.build_tag.clone(),
    );
    diff("dest tag", before.dest_tag.clone(), after.dest_tag.clone());
    diff(
        "secondary mode",
        before.secondary_mode.to_string(),
        after.secondary_mode.to_string(),
    );
    diff(
        "priority coefficient",
        before.priority_coefficient.to_string(),
        after.priority_coefficient.to_string(),
    );
    diff("order", before.order.to_string(), after.order.to_string());
    diff(
        "build group",
        before.build_group.clone(),
        after.build_group.clone(),
    );
    diff(
        "poll untracked",
        before.poll_untracked.to_string(),
        after.poll_untracked.to_string(),
    );
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
    diff(
        "bugzilla product",
        shown(&before.bugzilla_product),
        shown(&after.bugzilla_product),
    );
    diff(
        "bugzilla version",
        shown(&before.bugzilla_version),
        shown(&after.bugzilla_version),
    );
    if changes.is_empty() {
        "no change".to_owned()
    } else {
        changes.join(", ")
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    /// The collection.
    name: String,
    /// Delete even when it has packages (their builds and history go too).
    #[arg(short = 'f', long)]
    force: bool,
}

pub(crate) fn delete(tx: &mut Tx<'_>, a: DeleteArgs) -> anyhow::Result<Vec<String>> {
    let c = coll::get(tx, &a.name)?;
    let n = coll::package_count(tx, c.id)?;
    if n > 0 && !a.force {
        anyhow::bail!(
            "collection `{}` has {n} packages; use `--force` to delete it anyway",
            c.name
        );
    }
    coll::delete(tx, c.id)?;
    Ok(vec![format!(
        "Deleted collection {} ({n} packages)",
        c.name
    )])
}

#[derive(Debug, clap::Args)]
pub(crate) struct BranchArgs {
    /// The collection that keeps following development (e.g. rawhide).
    master: String,
    /// Its new name after branching.
    new_name: String,
    /// Display name of the frozen branch.
    #[arg(short = 'd', long)]
    display_name: String,
    /// The master's new Koji target.
    #[arg(short = 't', long)]
    target: String,
    /// The new target's build tag.
    #[arg(long)]
    build_tag: String,
    /// The master's new dest tag (default: the build tag).
    #[arg(long)]
    dest_tag: Option<String>,
    /// Bugzilla version of the frozen branch.
    #[arg(long)]
    bugzilla_version: Option<String>,
}

pub(crate) fn branch(tx: &mut Tx<'_>, a: BranchArgs) -> anyhow::Result<Vec<String>> {
    let master = coll::get(tx, &a.master)?;
    let moved = coll::update(
        tx,
        master.id,
        &CollectionUpdate {
            name: Some(a.new_name.clone()),
            target: Some(a.target.clone()),
            build_tag: Some(a.build_tag.clone()),
            dest_tag: Some(a.dest_tag.unwrap_or_else(|| a.build_tag.clone())),
            order: Some(master.order + 1),
            ..CollectionUpdate::default()
        },
    )?;
    let frozen = coll::create(
        tx,
        &NewCollection {
            name: master.name.clone(),
            display_name: a.display_name,
            target: master.target.clone(),
            build_tag: master.build_tag.clone(),
            dest_tag: master.dest_tag.clone(),
            secondary_mode: master.secondary_mode,
            priority_coefficient: master.priority_coefficient,
            order: master.order,
            build_group: master.build_group.clone(),
            poll_untracked: master.poll_untracked,
            bugzilla_product: master.bugzilla_product.clone(),
            bugzilla_version: a.bugzilla_version.or(master.bugzilla_version.clone()),
        },
    )?;
    coll::copy_group_memberships(tx, master.id, frozen.id)?;
    let (packages, builds) = coll::copy_contents(tx, master.id, frozen.id, false)?;
    Ok(vec![format!(
        "Branched collection {} into {} ({packages} packages, {builds} builds copied); {} now targets {}",
        master.name, frozen.name, moved.name, moved.target
    )])
}

#[derive(Debug, clap::Args)]
pub(crate) struct ForkArgs {
    /// The collection to copy.
    master: String,
    /// Name of the new collection.
    new_name: String,
    /// Its display name.
    #[arg(short = 'd', long)]
    display_name: String,
    /// Its Koji target.
    #[arg(short = 't', long)]
    target: String,
    /// The target's build tag.
    #[arg(long)]
    build_tag: String,
    /// Its dest tag (default: the build tag).
    #[arg(long)]
    dest_tag: Option<String>,
}

pub(crate) fn fork(tx: &mut Tx<'_>, a: ForkArgs) -> anyhow::Result<Vec<String>> {
    let master = coll::get(tx, &a.master)?;
    let fork = coll::create(
        tx,
        &NewCollection {
            name: a.new_name,
            display_name: a.display_name,
            target: a.target,
            dest_tag: a.dest_tag.unwrap_or_else(|| a.build_tag.clone()),
            build_tag: a.build_tag,
            secondary_mode: master.secondary_mode,
            priority_coefficient: master.priority_coefficient,
            order: master.order,
            build_group: master.build_group.clone(),
            poll_untracked: master.poll_untracked,
            bugzilla_product: master.bugzilla_product.clone(),
            bugzilla_version: master.bugzilla_version.clone(),
        },
    )?;
    let (packages, builds) = coll::copy_contents(tx, master.id, fork.id, true)?;
    Ok(vec![format!(
        "Forked collection {} from {} ({packages} packages, {builds} builds copied)",
        fork.name, master.name
    )])
}

#[derive(Debug, clap::Args)]
pub(crate) struct GroupArgs {
    /// Group name.
    name: String,
    /// Display name.
    #[arg(short = 'd', long)]
    display_name: String,
    /// Member collections.
    #[arg(short = 'c', long, num_args = 1..)]
    contents: Vec<String>,
}

pub(crate) fn create_group(tx: &mut Tx<'_>, a: GroupArgs) -> anyhow::Result<Vec<String>> {
    let id = coll::create_group(tx, &a.name, &a.display_name)?;
    coll::set_group_contents(tx, id, &a.contents)?;
    Ok(vec![format!(
        "Created collection group {} with collections: {}",
        a.name,
        a.contents.join(", ")
    )])
}

#[derive(Debug, clap::Args)]
pub(crate) struct GroupEditArgs {
    /// Group name.
    name: String,
    /// New display name.
    #[arg(short = 'd', long)]
    display_name: Option<String>,
    /// New member collections (replace the current ones).
    #[arg(short = 'c', long, num_args = 1..)]
    contents: Option<Vec<String>>,
}

pub(crate) fn edit_group(tx: &mut Tx<'_>, a: GroupEditArgs) -> anyhow::Result<Vec<String>> {
    let group = coll::get_group(tx, &a.name)?;
    let mut changes = Vec::new();
    if let Some(d) = &a.display_name {
        coll::set_group_display_name(tx, group.id, d)?;
        changes.push(format!("display name {d}"));
    }
    if let Some(c) = &a.contents {
        coll::set_group_contents(tx, group.id, c)?;
        changes.push(format!("collections {}", c.join(", ")));
    }
    if changes.is_empty() {
        anyhow::bail!("nothing to change: give `--display-name` or `--contents`");
    }
    Ok(vec![format!(
        "Edited collection group {}: {}",
        a.name,
        changes.join("; ")
    )])
}

#[derive(Debug, clap::Args)]
pub(crate) struct GroupDeleteArgs {
    /// Group name.
    name: String,
}

pub(crate) fn delete_group(tx: &mut Tx<'_>, a: GroupDeleteArgs) -> anyhow::Result<Vec<String>> {
    let group = coll::get_group(tx, &a.name)?;
    coll::delete_group(tx, group.id)?;
    Ok(vec![format!("Deleted collection group {}", a.name)])
}
