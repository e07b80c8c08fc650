//! `koschei psql`: an interactive SQL shell on Koschei's database.

use std::process::Command;

use super::Context;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Arguments passed to `psql` (after `--` if they start with `-`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub(crate) fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let db = ctx.open_database()?;
    let status = Command::new("psql")
        .envs(koschei_core::db::libpq_env(db.url()))
        .args(&args.args)
        .status()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run `psql`: {e}\n\nhint: install the Debian package `postgresql-client`"
            )
        })?;
    if !status.success() {
        anyhow::bail!("`psql` exited with {status}");
    }
    Ok(())
}
