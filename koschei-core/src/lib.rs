//! Koschei core: the synchronous engine behind continuous rebuild testing of RPM packages.
//!
//! Koschei watches a Koji build system. When the build dependencies of a package change,
//! or enough time passes, it submits a scratch build so maintainers learn early that
//! their package fails to build from source.
//!
//! Modules:
//!
//! | module | what |
//! |---|---|
//! | [`config`] | loading, merging and validating the TOML configuration (the only module that reads environment variables) |
//! | [`calendar`] | UTC dates and times as users type and read them (`2025-06-01 12:30`) |
//! | [`model`] | plain domain types: ids (Koschei's rows and Koji's, 32 bits), EVR/NEVRA with RPM order, states |
//! | [`koji`] | the Koji XML-RPC client and the engine's Koji vocabulary: the [`koji::KojiApi`] trait, state enums, answer structs |
//! | [`repo`] | `repomd.xml` parsing and checksums, and the verified, process-safe repodata cache |
//! | [`resolve`] | the [`resolve::Resolver`] trait (implemented over libsolv by `koschei_solver::engine::SolverResolver`) and dependency changes |
//! | [`priority`] | priority arithmetic: time, dependency, failed-build and current priority, term by term ([`priority::breakdown`], what the scheduler computes), and why a package is not schedulable ([`priority::SkipReason`], the texts users see) |
//! | [`schedule`] | the scheduler's pure decisions: SRPM arches, Koji load, the candidate walk |
//! | [`messaging`] | fedora-messaging bodies and headers, Koji message parsing; the broker, outbox and listener with the `messaging` feature |
//! | [`db`] | PostgreSQL: pool, migrations, the private cluster, typed query functions reading rows by name, one [`db::Error`] (feature `postgres`); `db::priority::inputs` for one package's priority inputs; `db::testing` with the `testing` feature |
//! | [`service`] | the engine services and one pass of them: [`service::run_pass`], [`service::Engine`] (feature `postgres`) |
//! | [`error`] | [`Error`], into which every module's error converts, and [`error::chain`] |
//!
//! ```
//! use koschei_core::config::{Config, ConfigSources};
//!
//! // The built-in defaults alone (no files): the original Koschei's values.
//! let config = Config::load(&ConfigSources::default())?;
//! assert_eq!(config.koji.server, "https://koji.fedoraproject.org/kojihub");
//! assert!(config.database.url.is_none()); // use the private cluster
//! # Ok::<(), koschei_core::Error>(())
//! ```
//!
//! Cargo features:
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `postgres` | on | the database layer ([`db`]) and the engine services ([`service`]) |
//! | `messaging` | off | the AMQP broker connection (lapin on a private tokio runtime): publishing the outbox, the Koji message listener |
//! | `testing` | off | `db::testing::TestDb`, a throwaway migrated database per test (for this workspace's tests and embedders' tests) |
//! | `gssapi` | on | Kerberos (GSSAPI/SPNEGO) login to Koji (`login_method = "gssapi_login"`) over the system's `libgssapi_krb5`, through `koschei-gss`; without it that login method is refused |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod calendar;
pub mod config;
#[cfg(feature = "postgres")]
pub mod db;
pub mod error;
pub mod koji;
pub mod messaging;
pub mod model;
pub mod priority;
pub mod repo;
pub mod resolve;
pub mod schedule;
#[cfg(feature = "postgres")]
pub mod service;

pub use config::Config;
pub use error::Error;
pub use model::{BuildState, CollectionState, Evr, Nevra, PackageState, TaskState};
