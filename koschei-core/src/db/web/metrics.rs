//! What koschei-web's `/metrics` reports from the database: package states, running builds
//! and the latest repo of every collection.

use std::collections::BTreeMap;

use super::{Reader, Result, build_state, column, query};
use crate::model::{CollectionId, PackageState};

/// One collection's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionMetrics {
    /// Id.
    pub id: CollectionId,
    /// Machine name (the `collection` label).
    pub name: String,
    /// Packages per state (every state present, zero when none).
    pub packages: BTreeMap<&'static str, i64>,
    /// Scratch builds submitted and not finished.
    pub running_builds: i64,
    /// Latest Koji repo seen.
    pub latest_repo_id: Option<i32>,
    /// Seconds since the latest repo was recorded (unknown for repos recorded before
    /// migration 4).
    pub latest_repo_age_seconds: Option<f64>,
    /// Whether the build group of the latest repo installs.
    pub latest_repo_resolved: Option<bool>,
}

/// Every state a package can be in, as the `state` label.
pub const PACKAGE_STATES: [PackageState; 6] = [
    PackageState::Ok,
    PackageState::Failing,
    PackageState::Unresolved,
    PackageState::Unknown,
    PackageState::Untracked,
    PackageState::Blocked,
];

/// The figures of every collection, by collection name.
pub fn collection_metrics(client: &mut Reader) -> Result<Vec<CollectionMetrics>> {
    const C: &str = "collection metrics";
    let rows = query(
        client,
        C,
        "SELECT c.id, c.name, c.latest_repo_id, c.latest_repo_resolved,
                extract(epoch FROM now() - c.latest_repo_time)::float8 AS repo_age,
                (SELECT count(*) FROM build b JOIN package p ON p.id = b.package_id
                 WHERE p.collection_id = c.id AND b.state = 2) AS running
         FROM collection c ORDER BY c.name",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(CollectionMetrics {
            id: CollectionId(column(r, C, "id")?),
            name: column(r, C, "name")?,
            packages: PACKAGE_STATES.iter().map(|s| (s.as_str(), 0)).collect(),
            running_builds: column(r, C, "running")?,
            latest_repo_id: column(r, C, "latest_repo_id")?,
            latest_repo_age_seconds: column(r, C, "repo_age")?,
            latest_repo_resolved: column(r, C, "latest_repo_resolved")?,
        });
    }
    // The state is decided by PackageState::from_flags, as everywhere else.
    const P: &str = "package state counts";
    let rows = query(
        client,
        P,
        "SELECT collection_id, blocked, tracked, resolved, last_complete_build_state,
                count(*) AS n
         FROM package
         GROUP BY collection_id, blocked, tracked, resolved, last_complete_build_state",
        &[],
    )?;
    for r in &rows {
        let id = CollectionId(column(r, P, "collection_id")?);
        let state = PackageState::from_flags(
            column(r, P, "blocked")?,
            column(r, P, "tracked")?,
            column(r, P, "resolved")?,
            build_state(
                "package.last_complete_build_state",
                column(r, P, "last_complete_build_state")?,
            )?,
        );
        if let Some(c) = out.iter_mut().find(|c| c.id == id) {
            *c.packages.entry(state.as_str()).or_insert(0) += column::<i64>(r, P, "n")?;
        }
    }
    Ok(out)
}
