//! `koschei db migrate` and `koschei db status`.

use crate::exit::outln;
use koschei_core::db::migrate::{self, MIGRATIONS};

use super::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Apply pending schema migrations (safe to repeat and to run concurrently).
    Migrate,
    /// Show applied and pending migrations.
    Status {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let db = ctx.open_database()?;
    let mut client = db.connect()?;
    match command {
        Command::Migrate => {
            let applied = migrate::migrate(&mut client)?;
            for v in &applied {
                let name = MIGRATIONS
                    .iter()
                    .find(|m| m.version == *v)
                    .map_or("", |m| m.name);
                outln!("applied migration {v} `{name}`")?;
            }
            if let Some(role) = &ctx.config.database.unpriv_username {
                migrate::grant_access(&mut client, role)?;
                outln!("granted access to `{role}`")?;
            }
            outln!(
                "database {} is at schema version {}",
                db.location(),
                migrate::latest_version()
            )?;
        }
        Command::Status { json } => {
            let status = migrate::status(&mut client, MIGRATIONS)?;
            if json {
                let value = serde_json::json!({
                    "database": db.location(),
                    "current": status.current(),
                    "latest": status.latest_known,
                    "applied": status.applied,
                    "pending": status.pending,
                });
                return super::print_json(&value);
            }
            outln!("database: {}", db.location())?;
            for m in &status.applied {
                outln!("applied  {:>4}  {:<24} {}", m.version, m.name, m.applied_at)?;
            }
            for v in &status.pending {
                let name = MIGRATIONS
                    .iter()
                    .find(|m| m.version == *v)
                    .map_or("", |m| m.name);
                outln!("pending  {v:>4}  {name}")?;
            }
            if status.is_current() {
                outln!("schema is current (version {})", status.latest_known)?;
            } else {
                outln!("schema needs migrating: run `koschei db migrate`")?;
            }
        }
    }
    Ok(())
}
