//! koschei-solver: a libsolv-backed build-dependency resolver giving the
//! same answers as Koschei's hawkey-based resolver, faster.
//!
//! * [`Repository::load`] reads an rpm-md repository (`repomd.xml`, primary,
//!   filelists, comps), verifies every file's checksum and keeps the packages
//!   in a `.solv` cache keyed by the repomd checksum. Answers always come
//!   from a pool loaded from that cache, as deployed Koschei's do.
//! * [`Resolver`] owns one libsolv pool and a reused solver (one per thread;
//!   a fresh one per solve where reuse could change an answer) and turns a
//!   build group plus BuildRequires into a [`Resolution`]:
//!   resolved flag, install set as NEVRA strings, problem texts in libdnf's
//!   words.
//! * [`resolve_all`] resolves many packages on several threads and streams
//!   the results in input order.
//! * [`bfs_distances`] computes dependency distances (spec section 3.4);
//!   [`resolve_impact`] compares one package across two repository states,
//!   with koschei-core's dependency changes and priority (the engine's).
//! * [`engine::SolverResolver`] is the engine's `koschei_core::resolve::Resolver`.
//! * [`plan_incremental`] and [`resolve_incremental`] solve again only the
//!   packages a repository delta can affect (docs/incremental.md has the
//!   rule and why it is sound) and carry the other answers over.
//!
//! The raw libsolv calls live in the private `wrapper` module: each C object
//! has an owning Rust type, nothing is `Send`, and every `unsafe` block
//! states its invariant.
//!
//! ```no_run
//! use koschei_solver::{LoadOptions, Repository, ResolveOptions, Resolver};
//! # fn main() -> Result<(), koschei_solver::SolverError> {
//! let repo = Repository::load("repo/binary".as_ref(), &LoadOptions::default())?;
//! let group = repo.build_group().unwrap_or_default().to_vec();
//! let mut resolver = Resolver::new(&[&repo], ResolveOptions::default())?;
//! let answer = resolver.resolve(&group, &["gcc".to_owned(), "make >= 4".to_owned()]);
//! println!("resolved: {} ({} packages)", answer.resolved, answer.installs.len());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![allow(unsafe_code)]

mod batch;
mod diff;
pub mod engine;
mod error;
mod ffi;
mod impact;
mod incremental;
mod metadata;
mod repository;
mod resolver;
mod wrapper;

/// The version of the resolver's answers: raised whenever the answer to the
/// same repository and request changes (2: multilib lock-step and one
/// trailing slash dropped from file lookups, as hawkey). Remembered or
/// previous answers of another version are never carried over.
pub const ANSWERS_VERSION: u32 = 2;

pub use batch::{BatchStats, Resolved, resolve_all, run_batch, run_batch_carrying};
pub use diff::{bfs_distances, nevra_name, split_nevra};
pub use error::SolverError;
pub use impact::{DependencyChange, ImpactStatus, PackageImpact, package_impact, resolve_impact};
pub use incremental::{
    Affected, Delta, DeltaStats, Plan, PlanSummary, States, Verdict, plan_incremental,
    resolve_incremental,
};
pub use metadata::SourcePackage;
pub use repository::{LoadOptions, Repository, read_source_packages};
pub use resolver::{Resolution, ResolveOptions, Resolver};
