//! Koji repodata: `repomd.xml` parsing and checksums ([`repomd`], pure) and a verified, process-safe
//! download cache ([`RepoCache`], shell).
//!
//! ```no_run
//! use koschei_core::repo::{CacheOptions, RepoCache, RepoDescriptor};
//!
//! let cache = RepoCache::open("/var/cache/koschei/repodata", CacheOptions::default())?;
//! let repo = RepoDescriptor {
//!     koji_id: "primary".into(),
//!     build_tag: "f42-build".into(),
//!     repo_id: koschei_core::koji::RepoId(7_000_000),
//!     arch: "x86_64".into(),
//! };
//! let cached = cache.fetch("https://kojipkgs.fedoraproject.org", &repo)?;
//! // `cached.path()` holds repodata/repomd.xml and the verified files; it stays locked while `cached` lives.
//! println!("{}", cached.path().display());
//! # Ok::<(), koschei_core::repo::Error>(())
//! ```

mod fetch;
pub mod repomd;

pub use fetch::{CacheOptions, CachedRepo, DEFAULT_TYPES, Error, RepoCache, RepoDescriptor};
