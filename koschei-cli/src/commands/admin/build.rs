//! `cancel-build`: the original's cancel button. It only records the request
//! (`build.cancel_requested`); the next polling pass that is not passive cancels the Koji task
//! and deletes the build, as the original's backend did.

use koschei_core::db::build::{self, BuildRow};
use koschei_core::db::collection as coll;
use koschei_core::model::{BuildId, BuildState};

use super::{Entry, Tx};

#[derive(Debug, clap::Args)]
pub(crate) struct CancelArgs {
    /// A build id (`koschei package show` and the web's build page show them), or with
    /// `--collection` a package name (its running build).
    build: String,
    /// BUILD is a package of this collection: cancel its running build.
    #[arg(short = 'c', long)]
    collection: Option<String>,
}

pub(crate) fn cancel(tx: &mut Tx<'_>, a: CancelArgs) -> anyhow::Result<Vec<Entry>> {
    let row: BuildRow = match &a.collection {
        Some(c) => {
            let c = coll::get(tx, c)?;
            if koschei_core::db::package::find_many(tx, c.id, std::slice::from_ref(&a.build))?
                .0
                .is_empty()
            {
                anyhow::bail!(
                    "package `{}` does not exist in collection `{}`",
                    a.build,
                    c.name
                );
            }
            build::lock_running(tx, c.id, &a.build)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "package `{}` has no running build in collection `{}`",
                    a.build,
                    c.name
                )
            })?
        }
        None => {
            let id: i32 = a.build.parse().map_err(|_| {
                anyhow::anyhow!(
                    "`{}` is not a build id\n\nhint: to cancel the running build of a package, give its collection: `koschei cancel-build -c COLLECTION {}`",
                    a.build,
                    a.build
                )
            })?;
            build::lock(tx, BuildId(id))?
                .ok_or_else(|| anyhow::anyhow!("build {id} does not exist"))?
        }
    };
    // The original's messages.
    if row.state != BuildState::Running {
        anyhow::bail!("Only running builds can be canceled.");
    }
    if row.cancel_requested {
        anyhow::bail!("Build already has pending cancelation request.");
    }
    build::request_cancel(tx, row.id)?;
    Ok(vec![
        Entry::package_change(
            format!(
                "Build (id={}, task_id={}) cancelation requested",
                row.id.0, row.task_id.0
            ),
            row.base_id,
        ),
        Entry::note(format!(
            "Cancelation request sent: the next polling pass cancels the build of {} in {}.",
            row.package, row.collection
        )),
    ])
}
