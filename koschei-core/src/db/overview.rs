//! Read-only summaries for `koschei status`.

use postgres::GenericClient;
use serde::Serialize;

use super::collection::{self, Collection};
use super::{Error, QueryContext};
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
    let rows = client
        .query(
            "SELECT collection_id,
                    count(*),
                    count(*) FILTER (WHERE tracked AND NOT blocked),
                    count(*) FILTER (WHERE blocked),
                    count(*) FILTER (WHERE tracked AND NOT blocked AND resolved = false),
                    count(*) FILTER (WHERE tracked AND NOT blocked AND resolved IS DISTINCT FROM false
                                     AND last_complete_build_state = 5)
             FROM package GROUP BY collection_id",
            &[],
        )
        .ctx("count packages per collection")?;
    let counts = |id: i32| rows.iter().find(|r| r.get::<_, i32>(0) == id);
    Ok(collection::list(client)?
        .into_iter()
        .map(|c| {
            let n = |i: usize| counts(c.id.0).map_or(0, |r| r.get::<_, i64>(i));
            CollectionSummary {
                packages: n(1),
                tracked: n(2),
                blocked: n(3),
                unresolved: n(4),
                failing: n(5),
                collection: c,
            }
        })
        .collect())
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
    let rows = client
        .query(
            "SELECT b.id, b.task_id, p.name, c.name,
                    to_char(b.started AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM build b JOIN package p ON p.id = b.package_id JOIN collection c ON c.id = p.collection_id
             WHERE b.state = 2 ORDER BY b.started, b.id",
            &[],
        )
        .ctx("list running builds")?;
    Ok(rows
        .iter()
        .map(|r| RunningBuild {
            id: BuildId(r.get(0)),
            task_id: KojiTaskId(r.get(1)),
            package: r.get(2),
            collection: r.get(3),
            started: r.get(4),
        })
        .collect())
}
