//! `koschei status`.

use crate::exit::outln;
use koschei_core::db::migrate::{self, MIGRATIONS};
use koschei_core::db::overview;

use super::Context;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// JSON output.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let db = ctx.open_database()?;
    let mut client = db.connect()?;
    let schema = migrate::status(&mut client, MIGRATIONS)?;
    let (collections, running) = if schema.is_current() {
        (
            overview::collections(&mut client)?,
            overview::running_builds(&mut client)?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    if args.json {
        let value = serde_json::json!({
            "database": db.location(),
            "schema": {
                "current": schema.current(),
                "latest": schema.latest_known,
                "pending": schema.pending,
            },
            "collections": collections,
            "running_builds": running,
        });
        return super::print_json(&value);
    }
    outln!("database:       {}", db.location())?;
    match schema.current() {
        Some(v) if schema.is_current() => outln!("schema version: {v} (current)")?,
        Some(v) => outln!(
            "schema version: {v}, this koschei needs {}: run `koschei db migrate`",
            schema.latest_known
        )?,
        None => outln!("schema version: none (empty database): run `koschei db migrate`")?,
    }
    if !schema.is_current() {
        return Ok(());
    }
    if collections.is_empty() {
        outln!("collections:    none (add one with `koschei create-collection`)")?;
    } else {
        outln!("collections:")?;
        outln!(
            "  {:<16} {:<10} {:>8} {:>8} {:>8} {:>10}",
            "NAME",
            "STATE",
            "PACKAGES",
            "TRACKED",
            "FAILING",
            "UNRESOLVED"
        )?;
        for c in &collections {
            outln!(
                "  {:<16} {:<10} {:>8} {:>8} {:>8} {:>10}",
                c.collection.name,
                c.collection.state.as_str(),
                c.packages,
                c.tracked,
                c.failing,
                c.unresolved
            )?;
        }
    }
    outln!("running builds: {}", running.len())?;
    for b in &running {
        outln!(
            "  {} ({}) task {} since {}",
            b.package,
            b.collection,
            b.task_id,
            b.started
        )?;
    }
    Ok(())
}
