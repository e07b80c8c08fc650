//! Builds as admins see them: looking one up and asking for its cancelation (the original's
//! cancel button; polling carries the request out).

use postgres::GenericClient;
use serde::Serialize;

use super::{Error, QueryContext, column};
use crate::model::{BasePackageId, BuildId, BuildState, CollectionId, KojiTaskId};

/// A build with the package and collection it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildRow {
    /// The build.
    pub id: BuildId,
    /// Its Koji task (0 while a submission is being confirmed).
    pub task_id: KojiTaskId,
    /// Its state.
    pub state: BuildState,
    /// Whether a cancelation was requested.
    pub cancel_requested: bool,
    /// The package's name.
    pub package: String,
    /// The package's base package (for the admin log).
    pub base_id: BasePackageId,
    /// The collection's machine name.
    pub collection: String,
}

const SELECT: &str = "SELECT b.id, b.task_id, b.state, b.cancel_requested, p.name, p.base_id,
        c.name AS collection
    FROM build b JOIN package p ON p.id = b.package_id JOIN collection c ON c.id = p.collection_id";

fn from_row(r: &postgres::Row, q: &'static str) -> Result<BuildRow, Error> {
    Ok(BuildRow {
        id: BuildId(column(r, q, "id")?),
        task_id: KojiTaskId(column(r, q, "task_id")?),
        state: {
            let v: i32 = column(r, q, "state")?;
            BuildState::from_db(v).ok_or(Error::BadValue {
                column: "build.state",
                value: i64::from(v),
            })?
        },
        cancel_requested: column(r, q, "cancel_requested")?,
        package: column(r, q, "name")?,
        base_id: BasePackageId(column(r, q, "base_id")?),
        collection: column(r, q, "collection")?,
    })
}

/// Build `id`, its row locked; `None` when there is no such build.
pub fn lock(client: &mut impl GenericClient, id: BuildId) -> Result<Option<BuildRow>, Error> {
    const Q: &str = "lock a build";
    let sql = format!("{SELECT} WHERE b.id = $1 FOR UPDATE OF b");
    let row = client.query_opt(&sql, &[&id.0]).ctx(Q)?;
    row.map(|r| from_row(&r, Q)).transpose()
}

/// The running build of package `name` of `collection` (the newest, should there be
/// several), its row locked.
pub fn lock_running(
    client: &mut impl GenericClient,
    collection: CollectionId,
    name: &str,
) -> Result<Option<BuildRow>, Error> {
    const Q: &str = "lock the running build of a package";
    let sql = format!(
        "{SELECT} WHERE p.collection_id = $1 AND p.name = $2 AND b.state = 2
         ORDER BY b.started DESC, b.id DESC LIMIT 1 FOR UPDATE OF b"
    );
    let row = client.query_opt(&sql, &[&collection.0, &name]).ctx(Q)?;
    row.map(|r| from_row(&r, Q)).transpose()
}

/// Asks for the cancelation of a build: the next polling pass (not in passive mode) cancels
/// its Koji task and deletes the build.
pub fn request_cancel(client: &mut impl GenericClient, id: BuildId) -> Result<(), Error> {
    client
        .execute(
            "UPDATE build SET cancel_requested = true WHERE id = $1",
            &[&id.0],
        )
        .ctx("request a build cancelation")?;
    Ok(())
}
