//! A package's priority inputs as stored: what [`crate::priority::breakdown`] computes the
//! current priority from, read by the same columns the scheduler reads
//! (`db::engine::schedule_rows`), so "what is the priority of package X and why" takes one
//! query and one function:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mut client = postgres::Client::connect("host=127.0.0.1 user=postgres", postgres::NoTls)?;
//! use koschei_core::{db, priority};
//! let now = koschei_core::service::now();
//! let p = db::priority::inputs_by_name(&mut client, "f29", "rnv")?.ok_or("no such package")?;
//! let why = priority::breakdown(&p.input, &priority::Priorities::default(), now);
//! println!("{why}");
//! # Ok(()) }
//! ```

use postgres::GenericClient;

use super::{Error, QueryContext, column};
use crate::model::{CollectionId, PackageId, SchedulerSkip};
use crate::priority::PriorityInput;

/// The columns of a [`PriorityInput`]; the query names the package `p`, its collection `c`
/// and its last build `lb` (a macro, so that queries can `concat!` it into constant SQL).
macro_rules! input_columns {
    () => {
        "p.tracked, p.blocked, p.resolved, p.skip_resolution,
         (p.last_build_id IS DISTINCT FROM p.last_complete_build_id) AS running_build,
         lb.started AS last_build_started, c.latest_repo_resolved, c.priority_coefficient,
         p.manual_priority, p.static_priority, p.dependency_priority, p.build_priority,
         p.scheduler_skip_reason, p.suspended_until, p.last_submitted,
         p.min_rebuild_interval_hours"
    };
}
pub(crate) use input_columns;

/// Reads the [`input_columns!`] of a row of the query `what`.
pub(crate) fn input(row: &postgres::Row, what: &'static str) -> Result<PriorityInput, Error> {
    let skip: Option<i32> = column(row, what, "scheduler_skip_reason")?;
    let scheduler_skip = match skip {
        None => None,
        Some(v) => Some(SchedulerSkip::from_db(v).ok_or(Error::BadValue {
            column: "package.scheduler_skip_reason",
            value: i64::from(v),
        })?),
    };
    Ok(PriorityInput {
        blocked: column(row, what, "blocked")?,
        tracked: column(row, what, "tracked")?,
        resolved: column(row, what, "resolved")?,
        skip_resolution: column(row, what, "skip_resolution")?,
        running_build: column(row, what, "running_build")?,
        last_build_started: column(row, what, "last_build_started")?,
        collection_resolved: column(row, what, "latest_repo_resolved")?,
        coefficient: column(row, what, "priority_coefficient")?,
        manual: column(row, what, "manual_priority")?,
        static_: column(row, what, "static_priority")?,
        dependency: column(row, what, "dependency_priority")?,
        build: column(row, what, "build_priority")?,
        scheduler_skip,
        suspended_until: column(row, what, "suspended_until")?,
        last_submitted: column(row, what, "last_submitted")?,
        min_rebuild_interval: rebuild_interval(column(row, what, "min_rebuild_interval_hours")?),
    })
}

/// `package.min_rebuild_interval_hours` as a duration (the column is positive by its check).
pub(crate) fn rebuild_interval(hours: Option<i32>) -> Option<std::time::Duration> {
    hours
        .and_then(|h| u64::try_from(h).ok())
        .map(|h| std::time::Duration::from_secs(h * 3600))
}

/// One package's stored priority inputs, with what names it.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageInputs {
    /// The package.
    pub package_id: PackageId,
    /// Its name.
    pub name: String,
    /// Its collection.
    pub collection_id: CollectionId,
    /// The collection's machine name.
    pub collection: String,
    /// The collection's display name (the buildroot skip reasons name it).
    pub collection_display_name: String,
    /// The inputs of [`crate::priority::breakdown`].
    pub input: PriorityInput,
}

/// `SELECT` of [`PackageInputs`] up to the `WHERE` clause.
macro_rules! select_package_inputs {
    () => {
        concat!(
            "SELECT p.id, p.name, p.collection_id, c.name AS collection, c.display_name, ",
            input_columns!(),
            " FROM package p JOIN collection c ON c.id = p.collection_id
              LEFT JOIN build lb ON lb.id = p.last_build_id"
        )
    };
}

fn package_inputs(row: &postgres::Row, what: &'static str) -> Result<PackageInputs, Error> {
    Ok(PackageInputs {
        package_id: PackageId(column(row, what, "id")?),
        name: column(row, what, "name")?,
        collection_id: CollectionId(column(row, what, "collection_id")?),
        collection: column(row, what, "collection")?,
        collection_display_name: column(row, what, "display_name")?,
        input: input(row, what)?,
    })
}

/// The priority inputs of a package; `None` when there is no such package.
pub fn inputs(
    client: &mut impl GenericClient,
    package: PackageId,
) -> Result<Option<PackageInputs>, Error> {
    const Q: &str = "load the priority inputs of a package";
    const SQL: &str = concat!(select_package_inputs!(), " WHERE p.id = $1");
    let row = client.query_opt(SQL, &[&package.0]).ctx(Q)?;
    row.map(|r| package_inputs(&r, Q)).transpose()
}

/// The priority inputs of the package `name` of the collection `collection` (its machine
/// name); `None` when there is no such package.
pub fn inputs_by_name(
    client: &mut impl GenericClient,
    collection: &str,
    name: &str,
) -> Result<Option<PackageInputs>, Error> {
    const Q: &str = "load the priority inputs of a package by name";
    const SQL: &str = concat!(
        select_package_inputs!(),
        " WHERE c.name = $1 AND p.name = $2"
    );
    let row = client.query_opt(SQL, &[&collection, &name]).ctx(Q)?;
    row.map(|r| package_inputs(&r, Q)).transpose()
}
