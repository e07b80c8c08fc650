//! Owning wrappers around libsolv's C objects.
//!
//! # Ownership model
//!
//! * [`Pool`] owns a `Pool*` and frees it (and with it every repository,
//!   string and solvable it holds) in `Drop`.
//! * [`pool::Repo`] owns a `Repo*` while it is being loaded: dropping it frees the
//!   repository, so a failed load never leaves half a repository in the pool.
//!   [`pool::Repo::commit`] hands the repository over to its pool for good.
//! * [`Queue`] owns the heap buffer of a libsolv `Queue` (an `Id` vector).
//! * [`Solver`] owns a `Solver*`; [`solver::Transaction`] owns a `Transaction*`.
//!
//! Every wrapper other than `Pool` and `Queue` borrows the `Pool` (or the
//! `Solver`) it came from through a lifetime, so the borrow checker forbids
//! freeing a pool while anything created from it is alive.
//!
//! libsolv is single-threaded and fills caches inside the pool even while
//! solving, so no wrapper is `Send` or `Sync` (each holds a raw pointer).
//! Parallel solving gives each thread a pool of its own.
//!
//! All raw calls are `unsafe`; each block states the invariant it relies on.
//! No Rust panic may unwind through libsolv: no callbacks are registered.

#![allow(unsafe_code)]

mod pool;
mod queue;
mod solver;

pub(crate) use pool::{DepKind, Pool, read_decompressed};
pub(crate) use queue::Queue;
pub(crate) use solver::Solver;
