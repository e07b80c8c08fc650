//! `koschei package show`.

use crate::exit::outln;
use koschei_core::db::{collection, package};

use super::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Show a package in every collection (or one).
    Show {
        /// Package name.
        name: String,
        /// Only this collection.
        #[arg(short = 'c', long)]
        collection: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let Command::Show {
        name,
        collection: coll,
        json,
    } = command;
    let (_db, mut client) = ctx.connect_current()?;
    let cid = coll
        .as_deref()
        .map(|c| collection::get(&mut client, c))
        .transpose()?
        .map(|c| c.id);
    let packages = package::by_name(&mut client, &name, cid)?;
    if packages.is_empty() {
        anyhow::bail!(
            "package `{name}` does not exist{}",
            coll.map_or(String::new(), |c| format!(" in collection `{c}`"))
        );
    }
    if json {
        return super::print_json(&packages);
    }
    for p in &packages {
        outln!("{} in {}: {}", p.name, p.collection, p.state.as_str())?;
        outln!(
            "  tracked {}, blocked {}, resolved {}",
            p.tracked,
            p.blocked,
            p.resolved.map_or("not yet".to_owned(), |r| r.to_string())
        )?;
        outln!(
            "  priorities: manual {}, static {}, build {}, dependency {}",
            p.manual_priority,
            p.static_priority,
            p.build_priority,
            p.dependency_priority
        )?;
        outln!(
            "  arch override: {}",
            p.arch_override.as_deref().unwrap_or("none")
        )?;
        match &p.last_build {
            Some(b) => outln!(
                "  last build: task {} {} started {}{}",
                b.task_id,
                b.state.map_or("?", |s| s.as_str()),
                b.started,
                b.version_release
                    .as_deref()
                    .map_or(String::new(), |vr| format!(", {vr}"))
            )?,
            None => outln!("  last build: none")?,
        }
    }
    Ok(())
}
