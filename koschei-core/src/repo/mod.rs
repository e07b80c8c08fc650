//! Repodata: `repomd.xml` parsing and checksums ([`repomd`], pure) and a verified, process-safe
//! download cache ([`RepoCache`], shell) of Koji repos ([`RepoCache::fetch`]) and of rpm-md
//! repositories at any http(s) URL, such as Copr chroots ([`RepoCache::fetch_url`]).
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
//! // Any rpm-md URL: repomd.xml is asked for every time, the other files only when it changed.
//! let copr = cache.fetch_url("https://download.copr.fedorainfracloud.org/results/OWNER/PROJECT/fedora-rawhide-x86_64/")?;
//! println!("{} (downloaded now: {})", copr.path().display(), copr.downloaded());
//! # Ok::<(), koschei_core::repo::Error>(())
//! ```

mod fetch;
pub mod repomd;

pub use fetch::{
    CacheOptions, CachedRepo, DEFAULT_TYPES, DownloadProgress, Error, RepoCache, RepoDescriptor,
};
