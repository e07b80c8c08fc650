//! The Koji client: XML-RPC codec, HTTP transport with sessions and retries, typed API calls.
//!
//! * [`xmlrpc`] is the pure wire codec;
//! * [`Client`] talks to a hub over HTTP(S) (shell module);
//! * the typed calls live on [`Client`]; the engine calls Koji only through [`KojiApi`]
//!   (implemented for [`Client`]), whose vocabulary (ids, state enums, answer structs) is
//!   this module's.
//!
//! ```no_run
//! use koschei_core::koji::{self, Client, ClientOptions};
//!
//! // Anonymous session on Fedora's hub with Koschei's retry settings.
//! let client = Client::new(ClientOptions::default())?;
//! if let Some(repo) = client.latest_repo("f42-build")? {
//!     let groups = client.tag_groups("f42-build", Some(repo.create_event))?;
//!     let build_group = koji::build_group_packages(&groups, "build");
//!     println!("repo {}: {build_group:?}", repo.id);
//! }
//! # Ok::<(), koschei_core::koji::Error>(())
//! ```

mod api;
mod client;
mod de;
mod engine_calls;
mod error;
mod gssapi;
mod policy;
mod task_list;
mod types;
pub mod xmlrpc;

/// Koji's ids, one type each, 32 bits wide as in Koschei's schema; decoding an answer checks
/// the range.
pub use crate::model::{KojiBuildId, KojiEventId, KojiTaskId, RepoId};
pub use api::{
    BuildConfig, BuildInfo, BuildTarget, Channel, GroupPackage, Host, Nvra, PackageEntry, RepoInfo,
    RpmDep, RpmInfo, TagGroup, TaggedBuild, TaggedSource, TaskInfo,
};
pub use client::{Client, ClientOptions, GssapiLogin, Login, STOP_POLL, SslLogin};
pub use de::{DeError, from_value};
pub use error::{Error, FaultKind, is_koji_fault};
pub use policy::{build_group_packages, canon_arch, dependency_strings, load, srpm_arches};
pub use task_list::{LastEvent, UserInfo};
pub use types::{KojiApi, KojiBuildState, KojiError, RepoState, ScratchBuild, Srpm, SrpmNvr};
pub use xmlrpc::{Call, Fault, Struct, Value};
