//! The engine services (shell): one `run_once` function each for polling, repo resolution,
//! build resolution and scheduling. Each pass loads from PostgreSQL and Koji, computes with
//! the pure modules (`priority`, `schedule`, `resolve::diff`) and persists in short
//! transactions. No transaction is open during a Koji call or a solver run.
//!
//! # Concurrency
//!
//! Two overlapping passes (two `run --once` from cron, or a loop and an admin command) are
//! safe:
//! * repo resolution takes the session advisory lock (1, collection id) and build resolution
//!   (2, repo id), as the original; a locked collection or repo is skipped;
//! * the scheduler takes the session advisory lock (3, 0) for the whole pass, and reserves
//!   every submission in a transaction that locks the package row, re-checks it (no running
//!   build, same last build, under `max_builds`) and inserts a *running build with task id 0*
//!   before Koji is called. The Koji task id is filled in afterwards. A second scheduler
//!   therefore sees a running build and never submits the package again;
//! * if the process dies between the Koji call and the confirmation, or the reply to
//!   `build` is lost, the reservation stays (task id 0): the package keeps a running build,
//!   so it is not submitted twice. Polling looks for the reservation's task on the hub (the
//!   session's `build` tasks of the reserved SRPM since the reservation, `listTasks`) and
//!   adopts it; only when there is none does it remove the reservation, after
//!   `orphan_timeout`, with a warning in the log and a `log_entry`. A Koji *fault* on
//!   submission (the call certainly failed) deletes the reservation at once; a transport
//!   error (the call may have succeeded) keeps it.

pub mod build_resolver;
pub mod metrics;
pub mod polling;
pub mod repo_resolver;
pub mod scheduler;

use std::time::Duration;

use crate::db;
use crate::koji::KojiError;
use crate::priority::Priorities;
use crate::resolve::ResolveError;

/// Settings of the engine services (defaults are the original's).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Priority weights.
    pub priorities: Priorities,
    /// Maximum number of running builds (all collections).
    pub max_builds: i64,
    /// Arches Koschei builds for (`koji_config.build_arches`).
    pub build_arches: Vec<String>,
    /// No build is submitted when the Koji load is above this (checked only when < 1).
    pub load_threshold: f64,
    /// Koji task priority of scratch builds.
    pub task_priority: i32,
    /// Running builds older than this are canceled.
    pub task_timeout: Duration,
    /// Build in the collection's resolved repo (`repo_id` option, no target) (#271).
    pub build_from_repo_id: bool,
    /// A reserved submission without a Koji task is removed after this.
    pub orphan_timeout: Duration,
    /// Packages persisted per transaction by the repo resolver.
    pub persist_chunk_size: usize,
    /// Queue fedora-messaging messages of state changes in the outbox (`None`: publishing
    /// disabled, `fedmsg-publisher.enabled = false`).
    pub publication: Option<crate::db::outbox::Publication>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            priorities: Priorities::default(),
            max_builds: 30,
            build_arches: vec!["i386".into(), "x86_64".into(), "armhfp".into()],
            load_threshold: 0.5,
            task_priority: 30,
            task_timeout: Duration::from_secs(172_800),
            build_from_repo_id: false,
            orphan_timeout: Duration::from_secs(3600),
            persist_chunk_size: 150,
            publication: None,
        }
    }
}

/// A failed service pass. Work already committed stays; the next pass continues.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A query failed.
    #[error(transparent)]
    Db(#[from] db::Error),
    /// Starting or committing a transaction failed.
    #[error("database transaction failed")]
    Transaction(#[source] postgres::Error),
    /// A Koji call failed.
    #[error(transparent)]
    Koji(#[from] KojiError),
    /// The resolver failed.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
}

impl Error {
    /// Whether the pass was cut short because a stop was requested (a Koji call or a repo
    /// download given up, see [`crate::koji::ClientOptions::stop`] and
    /// [`crate::repo::CacheOptions::stop`]).
    pub fn is_interrupted(&self) -> bool {
        match self {
            Error::Koji(k) => k.is_interrupted(),
            // A repo download given up (`repo::CacheOptions::stop`), inside the resolver's error.
            Error::Resolve(r) => {
                let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(r);
                while let Some(c) = cause {
                    if c.downcast_ref::<crate::repo::Error>()
                        .is_some_and(crate::repo::Error::is_interrupted)
                    {
                        return true;
                    }
                    cause = c.source();
                }
                false
            }
            _ => false,
        }
    }
}

fn tx_err(e: postgres::Error) -> Error {
    Error::Transaction(e)
}

/// A change of a package's user-visible state (what the original published as
/// `package_state_change`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The package.
    pub package_id: crate::model::PackageId,
    /// Message state before (`ok`, `failing`, `unresolved` or `ignored`).
    pub prev: &'static str,
    /// Message state after.
    pub new: &'static str,
}

fn state_event(
    package: crate::model::PackageId,
    prev: Option<crate::model::PackageState>,
    new: Option<crate::model::PackageState>,
) -> Option<StateChange> {
    let prev = prev.map_or("ignored", |s| s.msg_state());
    let new = new.map_or("ignored", |s| s.msg_state());
    (prev != new).then(|| {
        tracing::info!(target: "koschei::event", package = package.0, prev, new, "package state change");
        StateChange {
            package_id: package,
            prev,
            new,
        }
    })
}

/// Reads the clock (services are the shell; pure code takes `now` as an argument).
#[allow(
    clippy::disallowed_methods,
    reason = "services are where the clock is read"
)]
pub fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

mod engine;
pub use engine::{
    BuildResolverSummary, CollectionChangeSummary, Engine, EngineOptions, PassOptions, PassReport,
    PassSummary, PollingSummary, RepoResolverSummary, ResolverSummary, SchedulerSummary,
    ServiceDetails, ServiceName, ServiceSummary, StateChangeSummary, SubmissionSummary,
    UnknownService, run_pass,
};
