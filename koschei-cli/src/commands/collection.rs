//! `koschei collection list`.

use crate::exit::outln;
use koschei_core::db::overview;

use super::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List collections with their state and package counts.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let Command::List { json } = command;
    let (_db, mut client) = ctx.connect_current()?;
    let list = overview::collections(&mut client)?;
    if json {
        return super::print_json(&list);
    }
    for s in &list {
        let c = &s.collection;
        outln!(
            "{} ({}): {}, target {}, build tag {}, dest tag {}, order {}, {} packages ({} tracked)",
            c.name,
            c.display_name,
            c.state.as_str(),
            c.target,
            c.build_tag,
            c.dest_tag,
            c.order,
            s.packages,
            s.tracked
        )?;
    }
    Ok(())
}
