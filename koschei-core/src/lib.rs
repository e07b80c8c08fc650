//! Koschei core: the synchronous engine behind continuous rebuild testing of RPM packages.
//!
//! Koschei watches a Koji build system. When the build dependencies of a package change,
//! or enough time passes, it submits a scratch build so maintainers learn early that
//! their package fails to build from source.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod db;
pub mod model;

pub use model::{BuildState, CollectionState, Evr, Nevra, PackageState, TaskState};
