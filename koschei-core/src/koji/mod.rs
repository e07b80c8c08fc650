//! The Koji client: XML-RPC codec, HTTP transport with sessions and retries, typed API calls.
//!
//! * [`xmlrpc`] is the pure wire codec;
//! * [`Client`] talks to a hub over HTTP(S) (shell module);
//! * the typed calls live on [`Client`] and behind the small [`KojiApi`] trait that the engine uses.
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
mod error;
mod gssapi;
mod policy;
pub mod xmlrpc;

pub use api::{
    BuildConfig, BuildId, BuildInfo, BuildTarget, Channel, EventId, GroupPackage, Host, KojiApi,
    Nvra, PackageEntry, RepoId, RepoInfo, RpmDep, RpmInfo, ScratchBuildOptions, TagGroup,
    TaggedBuild, TaskId, TaskInfo, build_state, repo_state, task_state,
};
pub use client::{Client, ClientOptions, GssapiLogin, Login, SslLogin};
pub use de::{DeError, from_value};
pub use error::{Error, FaultKind, is_koji_fault};
pub use policy::{build_group_packages, canon_arch, dependency_strings, load, srpm_arches};
pub use xmlrpc::{Call, Fault, Struct, Value};
