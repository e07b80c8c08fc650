//! `koschei submit-build`: submit scratch builds of packages now, without priority or load
//! checks, with the arches the scheduler would choose (the original's admin `submit-build`).

use crate::exit::outln;
use koschei_core::db::log::{self, Environment};
use koschei_core::db::{collection as coll, package};
use koschei_core::service::{self, scheduler::Attempt};

use super::Context;

/// Arguments of `koschei submit-build`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Package names.
    #[arg(required = true)]
    names: Vec<String>,
    /// The collection.
    #[arg(short, long)]
    collection: String,
}

/// Runs the command: every name must exist in the collection, else nothing is submitted.
pub(crate) fn run(ctx: &Context, args: Args) -> anyhow::Result<u8> {
    let (_db, mut client) = ctx.connect_current()?;
    let collection = coll::get(&mut client, &args.collection)?;
    if collection.latest_repo_resolved != Some(true) {
        anyhow::bail!(
            "the base buildroot of collection `{}` is not resolved\n\nhint: run `koschei run --once` after Koji has a repo",
            collection.name
        );
    }
    let (packages, missing) = package::find_many(&mut client, collection.id, &args.names)?;
    if !missing.is_empty() {
        anyhow::bail!("Packages don't exist: {}", missing.join(","));
    }
    let engine = super::run::engine(&ctx.config, false, None)?;
    let user = log::user_id(&mut client, &super::admin::admin_user())?;
    let mut failed = false;
    for p in packages {
        let attempt = service::scheduler::submit_package(
            &mut client,
            engine.koji.as_ref(),
            &engine.settings,
            p.id,
            service::now(),
        )?;
        let message = match attempt {
            Attempt::Submitted { task_id, .. } => format!(
                "Submitted scratch build of {} in {} (Koji task {task_id})",
                p.name, collection.name
            ),
            Attempt::Skipped(why) => {
                failed = true;
                format!("Not submitted {} in {}: {why}", p.name, collection.name)
            }
            Attempt::KojiBusy => {
                failed = true;
                format!(
                    "Not submitted {} in {}: Koji is over the load threshold",
                    p.name, collection.name
                )
            }
            _ => {
                failed = true;
                format!("Not submitted {} in {}", p.name, collection.name)
            }
        };
        log::record(&mut client, Environment::Admin, Some(user), &message, None)?;
        outln!("{message}")?;
    }
    Ok(u8::from(failed))
}
