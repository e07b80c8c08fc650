//! Read-only summaries for `koschei status`.

use std::collections::HashMap;

use postgres::GenericClient;
use serde::Serialize;

use super::collection::{self, Collection};
use super::{Error, QueryContext, column};
use crate::model::{BuildId, KojiTaskId};

/// A collection with its package counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectionSummary {
    /// The collection.
    #[serde(flatten)]
    pub collection: Collection,
    /// All packages.
    pub packages: i64,
    /// Tracked and not blocked packages.
    pub tracked: i64,
    /// Blocked packages.
    pub blocked: i64,
    /// Tracked packages whose dependencies do not resolve.
    pub unresolved: i64,
    /// Tracked packages whose last complete build failed.
    pub failing: i64,
}

/// Every collection with its package counts, default first.
pub fn collections(client: &mut impl GenericClient) -> Result<Vec<CollectionSummary>, Error> {
    const Q: &str = "count packages per collection";
    let rows = client
        .query(
            "SELECT collection_id,
                    count(*) AS packages,
                    count(*) FILTER (WHERE tracked AND NOT blocked) AS tracked,
                    count(*) FILTER (WHERE blocked) AS blocked,
                    count(*) FILTER (WHERE tracked AND NOT blocked AND resolved = false)
                      AS unresolved,
                    count(*) FILTER (WHERE tracked AND NOT blocked AND resolved IS DISTINCT FROM false
                                     AND last_complete_build_state = 5) AS failing
             FROM package GROUP BY collection_id",
            &[],
        )
        .ctx(Q)?;
    let mut counts: HashMap<i32, &postgres::Row> = HashMap::new();
    for r in &rows {
        counts.insert(column(r, Q, "collection_id")?, r);
    }
    collection::list(client)?
        .into_iter()
        .map(|c| {
            let n = |name: &'static str| -> Result<i64, Error> {
                counts.get(&c.id.0).map_or(Ok(0), |r| column(r, Q, name))
            };
            Ok(CollectionSummary {
                packages: n("packages")?,
                tracked: n("tracked")?,
                blocked: n("blocked")?,
                unresolved: n("unresolved")?,
                failing: n("failing")?,
                collection: c,
            })
        })
        .collect()
}

/// A scratch build still running in Koji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunningBuild {
    /// Build id.
    pub id: BuildId,
    /// Koji task.
    pub task_id: KojiTaskId,
    /// Package name.
    pub package: String,
    /// Collection name.
    pub collection: String,
    /// Start time (UTC, ISO 8601).
    pub started: String,
}

/// Running builds, oldest first.
pub fn running_builds(client: &mut impl GenericClient) -> Result<Vec<RunningBuild>, Error> {
    const Q: &str = "list running builds";
    let rows = client
        .query(
            "SELECT b.id, b.task_id, p.name AS package, c.name AS collection,
                    to_char(b.started AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                      AS started
             FROM build b JOIN package p ON p.id = b.package_id JOIN collection c ON c.id = p.collection_id
             WHERE b.state = 2 ORDER BY b.started, b.id",
            &[],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(RunningBuild {
                id: BuildId(column(r, Q, "id")?),
                task_id: KojiTaskId(column(r, Q, "task_id")?),
                package: column(r, Q, "package")?,
                collection: column(r, Q, "collection")?,
                started: column(r, Q, "started")?,
            })
        })
        .collect()
}
