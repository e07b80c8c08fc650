//! Koschei core: the synchronous engine behind continuous rebuild testing of RPM packages.
//!
//! Koschei watches a Koji build system. When the build dependencies of a package change,
//! or enough time passes, it submits a scratch build so maintainers learn early that
//! their package fails to build from source.
//!
//! Modules:
//!
//! - [`config`]: loading, merging and validating the TOML configuration (the only module
//!   that reads environment variables);
//! - [`db`]: PostgreSQL access: pool, migrations, the private cluster, the test harness
//!   and typed repository functions;
//! - [`model`]: plain domain types (ids, EVR/NEVRA with RPM order, states).
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
//! | `gssapi` | on | Kerberos (GSSAPI/SPNEGO) login to Koji (`login_method = "gssapi_login"`) over the system's `libgssapi_krb5`, through `koschei-gss`; without it that login method is refused |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

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
