//! The Koji client: XML-RPC codec, HTTP transport with sessions and retries, typed API calls.
//!
//! * [`xmlrpc`] is the pure wire codec;
//! * [`Client`] talks to a hub over HTTP(S) (shell module);
//! * the typed calls live on [`Client`] and behind the small [`KojiApi`] trait that the engine uses.

mod api;
mod client;
mod de;
mod error;
pub mod xmlrpc;

pub use api::{
    BuildConfig, BuildId, BuildInfo, BuildTarget, Channel, EventId, GroupPackage, Host, KojiApi,
    Nvra, PackageEntry, RepoId, RepoInfo, RpmDep, RpmInfo, ScratchBuildOptions, TagGroup,
    TaggedBuild, TaskId, TaskInfo, build_group_packages, build_state, canon_arch,
    dependency_strings, load, repo_state, task_state,
};
pub use client::{Client, ClientOptions, Login, SslLogin};
pub use de::{DeError, from_value};
pub use error::{Error, FaultKind, is_koji_fault};
pub use xmlrpc::{Call, Fault, Struct, Value};
