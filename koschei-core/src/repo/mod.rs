//! Koji repodata: `repomd.xml` parsing and checksums ([`repomd`], pure) and a verified, process-safe
//! download cache ([`RepoCache`], shell).

mod fetch;
pub mod repomd;

pub use fetch::{CacheOptions, CachedRepo, DEFAULT_TYPES, Error, RepoCache, RepoDescriptor};
