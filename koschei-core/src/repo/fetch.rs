//! Downloading Koji repodata into an on-disk cache of the last N repos (shell module).
//!
//! A repo is fetched from `{topurl}/repos/{build_tag}/{repo_id}/{arch}/repodata/` into a temporary directory,
//! every file is checked against repomd.xml (checksum and size), and only then is the directory renamed into
//! place, so an interrupted download never looks complete. Each cache entry has a lock file: a download holds
//! it exclusively, a user of a cached repo holds it shared (see [`CachedRepo`]), and pruning only removes
//! entries whose lock it can take exclusively. This makes the cache safe to share between processes.
//!
//! With a stop request ([`CacheOptions::stop`]), waiting for another process's download and a
//! download of our own end within [`STOP_POLL`](crate::koji::STOP_POLL) (or one read of the body)
//! with [`Error::Interrupted`]; the temporary directory is removed, nothing enters the cache.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

use super::repomd::{self, Checksum, Hasher, RepoMd};
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
        Ok(())
    }
}

/// Repodata types downloaded besides repomd.xml (what Koschei's repo cache asked librepo for).
pub const DEFAULT_TYPES: &[&str] = &["primary", "filelists", "group", "group_gz"];

/// Options of a [`RepoCache`].
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// How many repos to keep (Koschei's `repo_cache.cache_l2_capacity`-style limit; default 100).
    pub capacity: usize,
    /// HTTP timeout per download.
    pub timeout: Duration,
    /// Repodata types to download (`primary` is required).
    pub types: Vec<String>,
    /// Optional PEM CA bundle for HTTPS instead of the system roots.
    pub ca: Option<PathBuf>,
    /// A stop request (set by a signal handler): once set, a wait for another process's
    /// download or a download in progress is given up with [`Error::Interrupted`].
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            capacity: 100,
            timeout: Duration::from_secs(600),
            types: DEFAULT_TYPES.iter().map(|s| (*s).to_owned()).collect(),
            ca: None,
            stop: None,
        }
    }
}

/// An error while fetching or caching repodata.
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
    /// A file did not have the size repomd.xml promised.
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
    _lock: File,
}

impl CachedRepo {
    /// The repo directory (the one containing `repodata/`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// An on-disk cache of Koji repodata, shared safely between processes.
#[derive(Debug)]
pub struct RepoCache {
    dir: PathBuf,
    opts: CacheOptions,
    agent: ureq::Agent,
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
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(opts.timeout))
            .tls_config(tls.build())
            .user_agent(concat!("koschei-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(RepoCache { dir, opts, agent })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of the complete entries, newest repo id first.
    pub fn entries(&self) -> Result<Vec<String>, Error> {
        let mut out: Vec<(i64, String)> = Vec::new();
        for e in std::fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let e = e.map_err(io_err(&self.dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with(".lock") || !e.path().is_dir() {
                continue;
            }
            out.push((repo_id_of(&name).unwrap_or(i64::MIN), name));
        }
        out.sort_by(|a, b| b.cmp(a));
        Ok(out.into_iter().map(|(_, n)| n).collect())
    }

    /// Returns the repo from the cache, downloading and verifying it first if needed; prunes the cache to
    /// its capacity afterwards.
    pub fn fetch(&self, topurl: &str, repo: &RepoDescriptor) -> Result<CachedRepo, Error> {
        repo.validate()?;
        let name = repo.cache_name();
        let final_dir = self.dir.join(&name);
        let lock_path = self.dir.join(format!("{name}.lock"));
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
                        _lock: lock,
                    });
                }
                // Pruned between the check and the lock: start over.
                continue;
            }
            self.lock(&lock, &lock_path, false)?;
            if !final_dir.is_dir() {
                self.clean_stale_tmp(&name);
                let tmp = self.dir.join(".tmp").join(format!(
                    "{name}.{}.{}",
                    std::process::id(),
                    TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
                ));
                let result = self
                    .download(topurl, repo, &tmp)
                    .and_then(|()| std::fs::rename(&tmp, &final_dir).map_err(io_err(&final_dir)));
                if let Err(e) = result {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
                tracing::info!(repo = %name, "repo downloaded into cache");
            }
            lock.unlock().map_err(io_err(&lock_path))?;
            drop(lock);
            self.prune(&name)?;
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

    /// Removes the oldest complete entries beyond the capacity, skipping `keep` and entries in use.
    fn prune(&self, keep: &str) -> Result<(), Error> {
        let entries = self.entries()?;
        for name in entries.iter().skip(self.opts.capacity) {
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

    fn download(&self, topurl: &str, repo: &RepoDescriptor, tmp: &Path) -> Result<(), Error> {
        let base = repo.url(topurl);
        let repodata = tmp.join("repodata");
        std::fs::create_dir_all(&repodata).map_err(io_err(&repodata))?;
        let md_url = format!("{base}/repodata/repomd.xml");
        let md_path = repodata.join("repomd.xml");
        self.get_to_file(&md_url, &md_path, None)?;
        let md_bytes = std::fs::read(&md_path).map_err(io_err(&md_path))?;
        let md: RepoMd = repomd::parse(&md_bytes).map_err(|source| Error::Repomd {
            url: md_url.clone(),
            source,
        })?;
        if md.record("primary").is_none() {
            return Err(Error::MissingRecord {
                url: md_url,
                kind: "primary".into(),
            });
        }
        for rec in md
            .records
            .iter()
            .filter(|r| self.opts.types.contains(&r.kind))
        {
            let dest = tmp.join(&rec.href);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            self.get_to_file(
                &format!("{base}/{}", rec.href),
                &dest,
                Some((&rec.checksum, rec.size)),
            )?;
        }
        // Make the directory durable before it is renamed into place.
        if let Ok(f) = File::open(&repodata) {
            let _ = f.sync_all();
        }
        Ok(())
    }

    fn get_to_file(
        &self,
        url: &str,
        dest: &Path,
        expect: Option<(&Checksum, Option<u64>)>,
    ) -> Result<(), Error> {
        let transport = |e: ureq::Error| Error::Transport {
            url: url.to_owned(),
            source: Box::new(e),
        };
        let mut resp = self.agent.get(url).call().map_err(transport)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                url: url.to_owned(),
                status,
            });
        }
        let mut file = File::create(dest).map_err(io_err(dest))?;
        let mut hasher = expect.map(|(c, _)| Hasher::new(c.kind));
        let mut reader = resp.body_mut().as_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut total: u64 = 0;
        loop {
            if self.stop_requested() {
                return Err(Error::Interrupted {
                    what: format!("GET {url}"),
                });
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(transport(ureq::Error::Io(e))),
            };
            if let Some(h) = hasher.as_mut() {
                h.update(&buf[..n]);
            }
            file.write_all(&buf[..n]).map_err(io_err(dest))?;
            total += n as u64;
        }
        file.sync_all().map_err(io_err(dest))?;
        if let Some((checksum, size)) = expect {
            if let Some(expected) = size
                && expected != total
            {
                return Err(Error::Size {
                    url: url.to_owned(),
                    expected,
                    actual: total,
                });
            }
            let actual = hasher.map(Hasher::finish).unwrap_or_default();
            if actual != checksum.hex {
                return Err(Error::Checksum {
                    url: url.to_owned(),
                    expected: checksum.hex.clone(),
                    actual,
                });
            }
        }
        Ok(())
    }
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
        let bad = RepoDescriptor {
            build_tag: "../etc".into(),
            ..d
        };
        assert!(matches!(bad.validate(), Err(Error::InvalidName { .. })));
    }
}
