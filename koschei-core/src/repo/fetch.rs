//! Downloading repodata into an on-disk cache of the last N repos (shell module).
//!
//! A Koji repo is fetched from `{topurl}/repos/{build_tag}/{repo_id}/{arch}/repodata/`
//! ([`RepoCache::fetch`]), any other rpm-md repository from its URL ([`RepoCache::fetch_url`]).
//! The files go into a temporary directory, every file is checked against repomd.xml (checksum
//! and size), and only then is the directory renamed into place, so an interrupted download never
//! looks complete. Each cache entry has a lock file: a download holds it exclusively, a user of a
//! cached repo holds it shared (see [`CachedRepo`]), and pruning only removes entries whose lock
//! it can take exclusively. This makes the cache safe to share between processes.
//!
//! A Koji repo never changes, so its entry (named after the Koji instance, tag, repo id and arch)
//! is used without asking the server again. A URL's content does change: its `repomd.xml` is
//! downloaded on every fetch, and the entry is named after a hash of the URL and of that
//! `repomd.xml`, so an unchanged repository costs one small request and a changed one becomes a
//! new entry. Requests go through the proxies of [`CacheOptions::proxies`] (the environment's, as
//! `koschei_core::config` read them); nothing here reads the environment.
//!
//! With a stop request ([`CacheOptions::stop`]), waiting for another process's download and a
//! download of our own end within [`STOP_POLL`](crate::koji::STOP_POLL) (or one read of the body)
//! with [`Error::Interrupted`]; the temporary directory is removed, nothing enters the cache.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::Digest as _;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

use super::repomd::{self, Checksum, Hasher, RepoMd};
use crate::config::{Proxies, mask_url_password};
use crate::koji::{RepoId, RepoInfo};

/// Which Koji repo to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoDescriptor {
    /// Name of the Koji instance (`primary`, or a secondary's name), part of the cache key.
    pub koji_id: String,
    /// Build tag name (`repoInfo(...).tag_name`).
    pub build_tag: String,
    /// Koji repo id.
    pub repo_id: RepoId,
    /// Repo arch (Koschei's `dependency.repo_arch`, normally `x86_64`).
    pub arch: String,
}

impl RepoDescriptor {
    /// The descriptor of a repo as `repoInfo` describes it; `None` when the hub did not name its tag.
    pub fn from_repo_info(koji_id: &str, info: &RepoInfo, arch: &str) -> Option<RepoDescriptor> {
        Some(RepoDescriptor {
            koji_id: koji_id.to_owned(),
            build_tag: info.tag_name.clone()?,
            repo_id: info.id,
            arch: arch.to_owned(),
        })
    }

    /// The repo URL: `{topurl}/repos/{build_tag}/{repo_id}/{arch}`.
    pub fn url(&self, topurl: &str) -> String {
        format!(
            "{}/repos/{}/{}/{}",
            topurl.trim_end_matches('/'),
            self.build_tag,
            self.repo_id,
            self.arch
        )
    }

    /// The cache entry name: `{koji_id}-{build_tag}-{repo_id}-{arch}`.
    pub fn cache_name(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.koji_id, self.build_tag, self.repo_id, self.arch
        )
    }

    fn validate(&self) -> Result<(), Error> {
        for (what, value) in [
            ("koji id", &self.koji_id),
            ("build tag", &self.build_tag),
            ("arch", &self.arch),
        ] {
            let bad = value.is_empty()
                || value.starts_with('.')
                || value
                    .chars()
                    .any(|c| c == '/' || c == '\\' || c.is_control() || c.is_whitespace());
            if bad {
                return Err(Error::InvalidName {
                    what,
                    value: value.clone(),
                });
            }
        }
        // `url-...` entries are the ones of [`RepoCache::fetch_url`].
        if self.koji_id == URL_PREFIX {
            return Err(Error::InvalidName {
                what: "koji id",
                value: self.koji_id.clone(),
            });
        }
        Ok(())
    }
}

/// First part of the names of URL entries (`url-<url hash>-<repomd hash>`).
const URL_PREFIX: &str = "url";

/// Largest `repomd.xml` accepted (it lists a few files; Fedora's is about 5 KiB).
const MAX_REPOMD_BYTES: u64 = 16 << 20;

/// Repodata types downloaded besides repomd.xml (what Koschei's repo cache asked librepo for).
pub const DEFAULT_TYPES: &[&str] = &["primary", "filelists", "group", "group_gz"];

/// Told about each file a [`RepoCache`] downloads, e.g. to draw a progress bar. The methods are
/// called on the downloading thread, [`DownloadProgress::advanced`] after every read.
pub trait DownloadProgress: Send + Sync {
    /// A download of `url` starts; `size` is what repomd.xml promises, when known.
    fn started(&self, url: &str, size: Option<u64>);
    /// `done` bytes of `url` have arrived so far.
    fn advanced(&self, url: &str, done: u64);
    /// The download of `url` ended, successfully or not.
    fn finished(&self, url: &str);
}

/// Options of a [`RepoCache`].
#[derive(Clone)]
pub struct CacheOptions {
    /// How many repos to keep (Koschei's `repo_cache.cache_l2_capacity`-style limit; default 100);
    /// Koji repos and URL entries are each kept to this number.
    pub capacity: usize,
    /// HTTP timeout per download.
    pub timeout: Duration,
    /// Repodata types to download (`primary` is required).
    pub types: Vec<String>,
    /// Optional PEM CA bundle for HTTPS instead of the system roots.
    pub ca: Option<PathBuf>,
    /// The proxies requests go through (default: none, every request goes directly).
    pub proxies: Proxies,
    /// Told about every download (default: nothing is).
    pub progress: Option<Arc<dyn DownloadProgress>>,
    /// A stop request (set by a signal handler): once set, a wait for another process's
    /// download or a download in progress is given up with [`Error::Interrupted`].
    pub stop: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for CacheOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheOptions")
            .field("capacity", &self.capacity)
            .field("timeout", &self.timeout)
            .field("types", &self.types)
            .field("ca", &self.ca)
            .field("proxies", &self.proxies)
            .field("progress", &self.progress.is_some())
            .field("stop", &self.stop)
            .finish()
    }
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            capacity: 100,
            timeout: Duration::from_secs(600),
            types: DEFAULT_TYPES.iter().map(|s| (*s).to_owned()).collect(),
            ca: None,
            proxies: Proxies::none(),
            progress: None,
            stop: None,
        }
    }
}

/// An error while fetching or caching repodata. URLs in messages have their password masked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("cannot access `{path}`")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server answered with an error status.
    #[error("GET {url}: HTTP {status}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The download failed.
    #[error("GET {url} failed")]
    Transport {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<ureq::Error>,
    },
    /// repomd.xml could not be used.
    #[error("invalid {url}")]
    Repomd {
        /// The URL of repomd.xml.
        url: String,
        /// The problem.
        #[source]
        source: repomd::Error,
    },
    /// A file did not have the checksum repomd.xml promised.
    #[error("checksum mismatch for {url}: expected {expected}, got {actual}")]
    Checksum {
        /// The URL.
        url: String,
        /// Expected hex digest.
        expected: String,
        /// Actual hex digest.
        actual: String,
    },
    /// A file did not have the size repomd.xml promised (or a repomd.xml was too large).
    #[error("size mismatch for {url}: expected {expected} bytes, got {actual}")]
    Size {
        /// The URL.
        url: String,
        /// Expected size.
        expected: u64,
        /// Actual size.
        actual: u64,
    },
    /// repomd.xml lacks a required record.
    #[error("{url} has no `{kind}` record")]
    MissingRecord {
        /// The URL of repomd.xml.
        url: String,
        /// The record type.
        kind: String,
    },
    /// A descriptor field cannot be used in a path.
    #[error("invalid {what} `{value}` for a cache entry name")]
    InvalidName {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// A repository URL that is not `http://` or `https://`, or has a query or fragment.
    #[error("`{url}` is not an http(s) URL of a repository")]
    InvalidUrl {
        /// The URL.
        url: String,
    },
    /// A stop was requested ([`CacheOptions::stop`]) while waiting for a download or during one.
    #[error("{what} given up: a stop was requested")]
    Interrupted {
        /// What was given up (`GET <url>`, `waiting for <lock file>`).
        what: String,
    },
    /// The CA bundle could not be used.
    #[error("cannot use CA bundle `{path}`: {message}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A proxy could not be set up.
    #[error("cannot use proxy `{proxy}` (from `{variable}`)")]
    Proxy {
        /// The proxy URL (password masked).
        proxy: String,
        /// The environment variable that named it.
        variable: String,
        /// The cause.
        #[source]
        source: Box<ureq::Error>,
    },
}

impl Error {
    /// Whether this is a wait or download given up on a stop request.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::Interrupted { .. })
    }
}

/// A cached repo in use: its directory holds `repodata/repomd.xml` and the downloaded files. While this
/// value lives, the entry is locked shared and no process prunes it.
#[derive(Debug)]
pub struct CachedRepo {
    path: PathBuf,
    downloaded: bool,
    _lock: File,
}

impl CachedRepo {
    /// The repo directory (the one containing `repodata/`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this fetch downloaded the repo's files (false when they came from the cache).
    pub fn downloaded(&self) -> bool {
        self.downloaded
    }
}

/// An on-disk cache of repodata, shared safely between processes.
#[derive(Debug)]
pub struct RepoCache {
    dir: PathBuf,
    opts: CacheOptions,
    direct: ureq::Agent,
    /// One agent per proxy URL in use.
    proxied: Vec<(String, ureq::Agent)>,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How often a wait for another process's download looks at the stop request.
const LOCK_POLL: Duration = Duration::from_millis(100);

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Hex SHA-256 of `bytes`, cut to 16 digits (enough to tell entries apart).
fn short_hash(bytes: &[u8]) -> String {
    let mut h = hex::encode(sha2::Sha256::digest(bytes));
    h.truncate(16);
    h
}

/// What an entry's name says about its age: Koji repos by repo id, URL entries by download time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    Koji(i64),
    Url(SystemTime),
}

impl RepoCache {
    /// Opens (creating if needed) a cache in `dir`.
    pub fn open(dir: impl Into<PathBuf>, opts: CacheOptions) -> Result<RepoCache, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(dir.join(".tmp")).map_err(io_err(&dir))?;
        let mut tls = TlsConfig::builder()
            .provider(TlsProvider::NativeTls)
            .root_certs(RootCerts::PlatformVerifier);
        if let Some(ca) = &opts.ca {
            let bytes = std::fs::read(ca).map_err(io_err(ca))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&bytes)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::Ca {
                    path: ca.clone(),
                    message: "no certificate found".into(),
                });
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let tls = tls.build();
        let agent = |proxy: Option<ureq::Proxy>| {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(opts.timeout))
                .tls_config(tls.clone())
                // Explicitly: ureq would read the environment itself otherwise.
                .proxy(proxy)
                .user_agent(concat!("koschei-rs/", env!("CARGO_PKG_VERSION")))
                .build()
                .new_agent()
        };
        let mut proxied: Vec<(String, ureq::Agent)> = Vec::new();
        for p in [opts.proxies.http(), opts.proxies.https()]
            .into_iter()
            .flatten()
        {
            if proxied.iter().any(|(u, _)| u == p.expose()) {
                continue;
            }
            let proxy = ureq::Proxy::new(p.expose()).map_err(|e| Error::Proxy {
                proxy: p.to_string(),
                variable: p.variable().to_owned(),
                source: Box::new(e),
            })?;
            proxied.push((p.expose().to_owned(), agent(Some(proxy))));
        }
        let direct = agent(None);
        Ok(RepoCache {
            dir,
            opts,
            direct,
            proxied,
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn agent(&self, url: &str) -> &ureq::Agent {
        self.opts
            .proxies
            .for_url(url)
            .and_then(|p| self.proxied.iter().find(|(u, _)| u == p.expose()))
            .map_or(&self.direct, |(_, a)| a)
    }

    /// The complete entries with their ages, newest first.
    fn aged_entries(&self) -> Result<Vec<(Age, String)>, Error> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let e = e.map_err(io_err(&self.dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with(".lock") || !e.path().is_dir() {
                continue;
            }
            let age = if is_url_entry(&name) {
                // A pruned entry may vanish meanwhile: it sorts as the oldest.
                Age::Url(
                    e.metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(SystemTime::UNIX_EPOCH),
                )
            } else {
                Age::Koji(repo_id_of(&name).unwrap_or(i64::MIN))
            };
            out.push((age, name));
        }
        out.sort_by(|a, b| b.cmp(a));
        Ok(out)
    }

    /// Names of the complete entries, newest first: Koji repos by repo id, then URL entries by
    /// the time they were downloaded.
    pub fn entries(&self) -> Result<Vec<String>, Error> {
        // Newest first within each kind; Koji repos before URL entries.
        let (koji, urls): (Vec<_>, Vec<_>) = self
            .aged_entries()?
            .into_iter()
            .partition(|(a, _)| matches!(a, Age::Koji(_)));
        let entries = koji.into_iter().chain(urls);
        Ok(entries.into_iter().map(|(_, n)| n).collect())
    }

    /// Returns the repo from the cache, downloading and verifying it first if needed; prunes the cache to
    /// its capacity afterwards.
    pub fn fetch(&self, topurl: &str, repo: &RepoDescriptor) -> Result<CachedRepo, Error> {
        repo.validate()?;
        self.fetch_entry(&repo.cache_name(), |tmp| {
            let base = repo.url(topurl);
            let md_url = format!("{base}/repodata/repomd.xml");
            let mut md_bytes = Vec::new();
            self.get(&md_url, &mut md_bytes, None, MAX_REPOMD_BYTES)?;
            self.download(&base, &md_bytes, tmp)
        })
    }

    /// Returns the rpm-md repository at `url` (`http://` or `https://`, the directory holding
    /// `repodata/`), downloading `repomd.xml` every time and the files it lists only when no
    /// complete entry has that `repomd.xml` yet (see the module docs). An unreachable,
    /// vanished or corrupt repository is an error naming the URL, even when an older copy is
    /// cached; nothing incomplete ever enters the cache.
    pub fn fetch_url(&self, url: &str) -> Result<CachedRepo, Error> {
        let base = url.trim_end_matches('/');
        let scheme_ok = ["http://", "https://"].iter().any(|s| {
            base.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
                && base.len() > s.len()
        });
        if !scheme_ok || base.contains(['?', '#']) || base.chars().any(char::is_whitespace) {
            return Err(Error::InvalidUrl {
                url: mask_url_password(url),
            });
        }
        let md_url = format!("{base}/repodata/repomd.xml");
        let mut md_bytes = Vec::new();
        self.get(&md_url, &mut md_bytes, None, MAX_REPOMD_BYTES)?;
        parse_repomd(&md_url, &md_bytes)?;
        let name = format!(
            "{URL_PREFIX}-{}-{}",
            short_hash(base.as_bytes()),
            short_hash(&md_bytes)
        );
        tracing::debug!(url = %mask_url_password(base), entry = %name, "repository URL");
        self.fetch_entry(&name, |tmp| self.download(base, &md_bytes, tmp))
    }

    /// The entry `name`, made by `download` (into the temporary directory it is given) when it is
    /// not complete yet; prunes the cache after a download.
    fn fetch_entry(
        &self,
        name: &str,
        download: impl Fn(&Path) -> Result<(), Error>,
    ) -> Result<CachedRepo, Error> {
        let final_dir = self.dir.join(name);
        let lock_path = self.dir.join(format!("{name}.lock"));
        let mut downloaded = false;
        loop {
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(io_err(&lock_path))?;
            if final_dir.is_dir() {
                self.lock(&lock, &lock_path, true)?;
                if final_dir.is_dir() {
                    return Ok(CachedRepo {
                        path: final_dir,
                        downloaded,
                        _lock: lock,
                    });
                }
                // Pruned between the check and the lock: start over.
                continue;
            }
            self.lock(&lock, &lock_path, false)?;
            if !final_dir.is_dir() {
                self.clean_stale_tmp(name);
                let tmp = self.dir.join(".tmp").join(format!(
                    "{name}.{}.{}",
                    std::process::id(),
                    TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
                ));
                let result = download(&tmp)
                    .and_then(|()| std::fs::rename(&tmp, &final_dir).map_err(io_err(&final_dir)));
                if let Err(e) = result {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
                downloaded = true;
                tracing::info!(repo = %name, "repo downloaded into cache");
            }
            lock.unlock().map_err(io_err(&lock_path))?;
            drop(lock);
            self.prune(name)?;
            // Loop to take the shared lock on the now complete entry.
        }
    }

    /// Takes `file`'s lock (shared or exclusive), waiting as long as another process holds it,
    /// unless a stop is requested meanwhile.
    fn lock(&self, file: &File, path: &Path, shared: bool) -> Result<(), Error> {
        let Some(stop) = &self.opts.stop else {
            let locked = if shared {
                file.lock_shared()
            } else {
                file.lock()
            };
            return locked.map_err(io_err(path));
        };
        loop {
            let attempt = if shared {
                file.try_lock_shared()
            } else {
                file.try_lock()
            };
            match attempt {
                Ok(()) => return Ok(()),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err(path)(e)),
            }
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Interrupted {
                    what: format!("waiting for `{}`", path.display()),
                });
            }
            std::thread::sleep(LOCK_POLL);
        }
    }

    fn stop_requested(&self) -> bool {
        self.opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    fn clean_stale_tmp(&self, name: &str) {
        let tmp = self.dir.join(".tmp");
        let Ok(entries) = std::fs::read_dir(&tmp) else {
            return;
        };
        let prefix = format!("{name}.");
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            // We hold the entry's exclusive lock, so any temporary directory of it is a dead download.
            if n.starts_with(&prefix)
                && n[prefix.len()..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.')
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// Removes the oldest complete entries beyond the capacity (Koji repos and URL entries
    /// counted apart), skipping `keep` and entries in use.
    fn prune(&self, keep: &str) -> Result<(), Error> {
        let entries = self.aged_entries()?;
        let (koji, mut urls): (Vec<_>, Vec<_>) =
            entries.iter().partition(|(a, _)| matches!(a, Age::Koji(_)));
        // The URL entry just downloaded is the newest, whatever the clock's resolution says.
        urls.sort_by_key(|(_, n)| n != keep);
        for (_, name) in koji
            .iter()
            .skip(self.opts.capacity)
            .chain(urls.iter().skip(self.opts.capacity))
        {
            if name == keep {
                continue;
            }
            let lock_path = self.dir.join(format!("{name}.lock"));
            let Ok(lock) = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
            else {
                continue;
            };
            if lock.try_lock().is_ok() {
                let path = self.dir.join(name);
                tracing::debug!(repo = %name, "pruning cached repo");
                std::fs::remove_dir_all(&path).map_err(io_err(&path))?;
                let _ = lock.unlock();
            }
        }
        Ok(())
    }

    /// Writes `md_bytes` as `repodata/repomd.xml` into `tmp` and downloads the configured types
    /// it lists from `base`.
    fn download(&self, base: &str, md_bytes: &[u8], tmp: &Path) -> Result<(), Error> {
        let md_url = format!("{base}/repodata/repomd.xml");
        let md = parse_repomd(&md_url, md_bytes)?;
        let repodata = tmp.join("repodata");
        std::fs::create_dir_all(&repodata).map_err(io_err(&repodata))?;
        let md_path = repodata.join("repomd.xml");
        std::fs::write(&md_path, md_bytes).map_err(io_err(&md_path))?;
        for rec in md
            .records
            .iter()
            .filter(|r| self.opts.types.contains(&r.kind))
        {
            let dest = tmp.join(&rec.href);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let url = format!("{base}/{}", rec.href);
            let mut file = File::create(&dest).map_err(io_err(&dest))?;
            self.get(&url, &mut file, Some((&rec.checksum, rec.size)), u64::MAX)
                .map_err(|e| match e {
                    Error::Io { source, .. } => io_err(&dest)(source),
                    other => other,
                })?;
            file.sync_all().map_err(io_err(&dest))?;
        }
        // Make the directory durable before it is renamed into place.
        if let Ok(f) = File::open(&repodata) {
            let _ = f.sync_all();
        }
        Ok(())
    }

    /// Streams `url` into `out`, checking the checksum and size repomd.xml promised (`expect`)
    /// and refusing bodies over `limit` bytes. An `Io` error means `out` failed.
    fn get(
        &self,
        url: &str,
        out: &mut dyn Write,
        expect: Option<(&Checksum, Option<u64>)>,
        limit: u64,
    ) -> Result<(), Error> {
        let shown = || mask_url_password(url);
        let progress = self.opts.progress.as_deref();
        if let Some(p) = progress {
            p.started(url, expect.and_then(|(_, s)| s));
        }
        let result = self.get_inner(url, out, expect, limit, &shown, progress);
        if let Some(p) = progress {
            p.finished(url);
        }
        result
    }

    fn get_inner(
        &self,
        url: &str,
        out: &mut dyn Write,
        expect: Option<(&Checksum, Option<u64>)>,
        limit: u64,
        shown: &dyn Fn() -> String,
        progress: Option<&dyn DownloadProgress>,
    ) -> Result<(), Error> {
        let transport = |e: ureq::Error| Error::Transport {
            url: shown(),
            source: Box::new(e),
        };
        let mut resp = self.agent(url).get(url).call().map_err(transport)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                url: shown(),
                status,
            });
        }
        let mut hasher = expect.map(|(c, _)| Hasher::new(c.kind));
        let mut reader = resp.body_mut().as_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut total: u64 = 0;
        loop {
            if self.stop_requested() {
                return Err(Error::Interrupted {
                    what: format!("GET {}", shown()),
                });
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(transport(ureq::Error::Io(e))),
            };
            total += n as u64;
            if total > limit {
                return Err(Error::Size {
                    url: shown(),
                    expected: limit,
                    actual: total,
                });
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&buf[..n]);
            }
            out.write_all(&buf[..n]).map_err(|source| Error::Io {
                path: PathBuf::new(),
                source,
            })?;
            if let Some(p) = progress {
                p.advanced(url, total);
            }
        }
        if let Some((checksum, size)) = expect {
            if let Some(expected) = size
                && expected != total
            {
                return Err(Error::Size {
                    url: shown(),
                    expected,
                    actual: total,
                });
            }
            let actual = hasher.map(Hasher::finish).unwrap_or_default();
            if actual != checksum.hex {
                return Err(Error::Checksum {
                    url: shown(),
                    expected: checksum.hex.clone(),
                    actual,
                });
            }
        }
        Ok(())
    }
}

/// Parses a downloaded repomd.xml, which must list `primary`.
fn parse_repomd(md_url: &str, bytes: &[u8]) -> Result<RepoMd, Error> {
    let md: RepoMd = repomd::parse(bytes).map_err(|source| Error::Repomd {
        url: mask_url_password(md_url),
        source,
    })?;
    if md.record("primary").is_none() {
        return Err(Error::MissingRecord {
            url: mask_url_password(md_url),
            kind: "primary".into(),
        });
    }
    Ok(md)
}

/// Whether `name` is an entry of [`RepoCache::fetch_url`].
fn is_url_entry(name: &str) -> bool {
    name.strip_prefix(URL_PREFIX)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|r| {
            r.len() == 33
                && r.as_bytes()[16] == b'-'
                && r.bytes()
                    .enumerate()
                    .all(|(i, c)| i == 16 || c.is_ascii_hexdigit())
        })
}

/// The repo id inside a cache entry name `{koji_id}-{build_tag}-{repo_id}-{arch}`.
fn repo_id_of(name: &str) -> Option<i64> {
    let mut parts = name.rsplitn(3, '-');
    let _arch = parts.next()?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        let d = RepoDescriptor {
            koji_id: "primary".into(),
            build_tag: "f40-build".into(),
            repo_id: RepoId(42),
            arch: "x86_64".into(),
        };
        assert_eq!(
            d.url("https://kojipkgs.example/"),
            "https://kojipkgs.example/repos/f40-build/42/x86_64"
        );
        assert_eq!(d.cache_name(), "primary-f40-build-42-x86_64");
        assert_eq!(repo_id_of(&d.cache_name()), Some(42));
        assert!(!is_url_entry(&d.cache_name()));
        let bad = RepoDescriptor {
            build_tag: "../etc".into(),
            ..d.clone()
        };
        assert!(matches!(bad.validate(), Err(Error::InvalidName { .. })));
        let url_like = RepoDescriptor {
            koji_id: "url".into(),
            ..d
        };
        assert!(matches!(
            url_like.validate(),
            Err(Error::InvalidName { .. })
        ));
    }

    #[test]
    fn url_entry_names_are_recognised() {
        let name = format!("url-{}-{}", short_hash(b"a"), short_hash(b"b"));
        assert!(is_url_entry(&name), "{name}");
        for other in [
            "url-0123",
            "url-0123456789abcdef-0123456789abcdeg",
            "primary-url-1-x86_64",
        ] {
            assert!(!is_url_entry(other), "{other}");
        }
    }
}
