//! Housekeeping: deleting old builds and resolution history.

use postgres::GenericClient;

use super::{Error, QueryContext};

/// What [`cleanup`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cleanup {
    /// Builds deleted.
    pub builds: u64,
    /// Resolution changes deleted.
    pub resolution_changes: u64,
}

/// Deletes builds started more than `months` months ago, except any package's last and
/// last complete build, and resolution changes older than that (server clock).
pub fn cleanup(client: &mut impl GenericClient, months: i32) -> Result<Cleanup, Error> {
    let builds = client
        .execute(
            "DELETE FROM build b
             WHERE b.started < now() - make_interval(months => $1)
               AND NOT EXISTS (SELECT 1 FROM package p
                               WHERE p.last_build_id = b.id OR p.last_complete_build_id = b.id)",
            &[&months],
        )
        .ctx("delete old builds")?;
    let resolution_changes = client
        .execute(
            "DELETE FROM resolution_change WHERE \"timestamp\" < now() - make_interval(months => $1)",
            &[&months],
        )
        .ctx("delete old resolution changes")?;
    Ok(Cleanup {
        builds,
        resolution_changes,
    })
}
