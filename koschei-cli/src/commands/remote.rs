//! Where the offline commands' repositories are: a local directory, an http(s) URL of an
//! rpm-md repository, or `koji:TAG` (the latest repo of a Koji tag, side tags included).
//! URLs and Koji repos go through koschei-core's repo cache (the engine's: verified,
//! process-safe, pruned), under `<cache-dir>/repodata`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use koschei_core::Config;
use koschei_core::koji::{Client, KojiApi, Login, RepoId};
use koschei_core::repo::{CacheOptions, CachedRepo, DownloadProgress, RepoCache, RepoDescriptor};
use koschei_solver::{LoadOptions, Repository, SourcePackage, read_source_packages};

/// What a repository argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A local directory holding `repodata/`.
    Dir(PathBuf),
    /// An `http://` or `https://` URL of the directory holding `repodata/`.
    Url(String),
    /// `koji:TAG`: the latest ready repo of the tag.
    Koji(String),
}

impl Location {
    /// Reads an argument: `koji:TAG`, an http(s) URL, else a directory.
    pub(crate) fn parse(arg: &str) -> anyhow::Result<Location> {
        if let Some(tag) = arg.strip_prefix("koji:") {
            anyhow::ensure!(
                !tag.is_empty() && !tag.contains(['/', ' ']),
                "`{arg}` names no Koji tag\n\nhint: write `koji:TAG`, e.g. `koji:f44-build`"
            );
            return Ok(Location::Koji(tag.to_owned()));
        }
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Location::Url(arg.to_owned()));
        }
        anyhow::ensure!(
            !lower.contains("://"),
            "`{arg}`: only http:// and https:// URLs are supported"
        );
        Ok(Location::Dir(PathBuf::from(arg)))
    }
}

/// Where a loaded repository came from, for summaries and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A directory.
    Dir {
        /// As given.
        given: PathBuf,
        /// Canonical when it could be made so.
        canonical: PathBuf,
    },
    /// A URL.
    Url(String),
    /// A Koji repo.
    Koji {
        /// The tag.
        tag: String,
        /// The repo id.
        repo_id: RepoId,
        /// Its URL under the top URL.
        url: String,
    },
}

impl Origin {
    /// `dir`, the URL, or `koji:TAG`: what `--previous` can load again.
    pub(crate) fn argument(&self) -> String {
        match self {
            Origin::Dir { canonical, .. } => canonical.display().to_string(),
            Origin::Url(u) => u.clone(),
            Origin::Koji { tag, .. } => format!("koji:{tag}"),
        }
    }

    /// For people: the directory as given, the URL, or `koji:TAG (repo ID)`.
    pub(crate) fn label(&self) -> String {
        match self {
            Origin::Dir { given, .. } => given.display().to_string(),
            Origin::Koji { tag, repo_id, .. } => format!("koji:{tag} (repo {repo_id})"),
            Origin::Url(u) => u.clone(),
        }
    }

    /// The Koji repo id, if this is a Koji repo.
    pub(crate) fn koji_repo_id(&self) -> Option<RepoId> {
        match self {
            Origin::Koji { repo_id, .. } => Some(*repo_id),
            _ => None,
        }
    }
}

/// A loaded binary repository with its build group.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    /// The repository (its `.solv` cache).
    pub(crate) repo: Repository,
    /// The build group: Koji's `getTagGroups` at the repo's event for a Koji repo (as the
    /// engine's), the comps group otherwise; empty when there is none.
    pub(crate) group: Vec<String>,
    /// Where it came from.
    pub(crate) origin: Origin,
}

/// Settings of a [`Fetcher`].
#[derive(Debug, Clone)]
pub(crate) struct FetchSettings {
    /// The `.solv` cache directory; repodata goes under its `repodata/`.
    pub(crate) cache_dir: PathBuf,
    /// PEM CA bundle for https URLs (`--ca`); Koji repos use the hub's CA unless given.
    pub(crate) ca: Option<PathBuf>,
    /// Repository arch (the Koji repo directory too).
    pub(crate) arch: String,
    /// Comps group id of the build group.
    pub(crate) group: String,
}

/// Loads repositories and sources from wherever they are; the repo caches and the Koji client
/// are made on first use.
pub(crate) struct Fetcher<'a> {
    config: &'a Config,
    settings: FetchSettings,
    urls: Option<RepoCache>,
    koji_repos: Option<RepoCache>,
    koji: Option<Client>,
}

impl<'a> Fetcher<'a> {
    pub(crate) fn new(config: &'a Config, settings: FetchSettings) -> Fetcher<'a> {
        Fetcher {
            config,
            settings,
            urls: None,
            koji_repos: None,
            koji: None,
        }
    }

    fn cache(&self, ca: Option<PathBuf>) -> anyhow::Result<RepoCache> {
        let dir = self.settings.cache_dir.join("repodata");
        let progress: Option<Arc<dyn DownloadProgress>> = std::io::stderr()
            .is_terminal()
            .then(|| Arc::new(TermProgress::default()) as Arc<dyn DownloadProgress>);
        RepoCache::open(
            &dir,
            CacheOptions {
                capacity: self.config.dependency.cache_l2_capacity,
                ca,
                proxies: self.config.proxies.clone(),
                progress,
                ..CacheOptions::default()
            },
        )
        .with_context(|| format!("cannot open the repo cache `{}`", dir.display()))
    }

    fn url_cache(&mut self) -> anyhow::Result<&RepoCache> {
        if self.urls.is_none() {
            self.urls = Some(self.cache(self.settings.ca.clone())?);
        }
        Ok(self.urls.as_ref().expect("just set"))
    }

    fn koji_cache(&mut self) -> anyhow::Result<&RepoCache> {
        if self.koji_repos.is_none() {
            let ca = self
                .settings
                .ca
                .clone()
                .or_else(|| self.config.koji.hub_ca());
            self.koji_repos = Some(self.cache(ca)?);
        }
        Ok(self.koji_repos.as_ref().expect("just set"))
    }

    fn koji(&mut self) -> anyhow::Result<&Client> {
        if self.koji.is_none() {
            let mut options = self.config.koji.client_options();
            options.login = Login::None;
            // An interactive command fails fast instead of retrying like the services.
            options.anon_retry = false;
            self.koji = Some(Client::new(options)?);
        }
        Ok(self.koji.as_ref().expect("just set"))
    }

    /// Loads a binary repository from `arg` (see [`Location`]).
    pub(crate) fn load(&mut self, arg: &str) -> anyhow::Result<Loaded> {
        self.load_location(&Location::parse(arg)?)
            .with_context(|| format!("cannot load repository `{arg}`"))
    }

    fn load_location(&mut self, location: &Location) -> anyhow::Result<Loaded> {
        match location {
            Location::Dir(dir) => {
                let repo = self.load_dir(dir, &dir_name(dir))?;
                Ok(Loaded {
                    group: comps_group(&repo),
                    origin: Origin::Dir {
                        given: dir.clone(),
                        canonical: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()),
                    },
                    repo,
                })
            }
            Location::Url(url) => {
                let cached = self.url_cache()?.fetch_url(url)?;
                let repo = self.load_dir(cached.path(), &url_name(url))?;
                Ok(Loaded {
                    group: comps_group(&repo),
                    origin: Origin::Url(url.clone()),
                    repo,
                })
            }
            Location::Koji(tag) => self.load_koji(tag),
        }
    }

    fn load_koji(&mut self, tag: &str) -> anyhow::Result<Loaded> {
        let arch = self.settings.arch.clone();
        let group_name = self.settings.group.clone();
        let topurl = self.config.koji.topurl.clone();
        let server = self.config.koji.server.clone();
        let koji = self.koji()?;
        let info = koji
            .latest_repo(tag)
            .with_context(|| format!("cannot ask Koji at `{server}` for the repo of `{tag}`"))?
            .ok_or_else(|| {
                anyhow::anyhow!("Koji tag `{tag}` has no ready repo (getRepo at `{server}`)")
            })?;
        let group = KojiApi::build_group(koji, tag, &group_name, info.create_event)
            .with_context(|| format!("cannot read the build group of `{tag}` from Koji"))?;
        if group.is_none() {
            tracing::warn!(tag, group = %group_name, "the Koji tag has no such group: empty build group");
        }
        let desc = RepoDescriptor::from_repo_info("primary", &info, &arch)
            .ok_or_else(|| anyhow::anyhow!("Koji did not name the tag of repo {}", info.id))?;
        let url = desc.url(&topurl);
        let cached: CachedRepo = self.koji_cache()?.fetch(&topurl, &desc)?;
        let repo = self.load_dir(cached.path(), tag)?;
        Ok(Loaded {
            repo,
            group: group.unwrap_or_default(),
            origin: Origin::Koji {
                tag: tag.to_owned(),
                repo_id: info.id,
                url,
            },
        })
    }

    fn load_dir(&self, dir: &Path, name: &str) -> anyhow::Result<Repository> {
        let options = LoadOptions {
            name: name.to_owned(),
            arch: self.settings.arch.clone(),
            group: self.settings.group.clone(),
            cache_dir: self.settings.cache_dir.clone(),
        };
        Ok(Repository::load(dir, &options)?)
    }

    /// The source packages `arg` names: a `src` repository (directory or URL; requires are the
    /// BuildRequires), or `koji:TAG` (the tag's latest builds and their BuildRequires from Koji,
    /// as the engine gets them).
    pub(crate) fn sources(&mut self, arg: &str) -> anyhow::Result<Vec<SourcePackage>> {
        let location = Location::parse(arg)?;
        let read = match &location {
            Location::Dir(dir) => read_source_packages(dir).map_err(anyhow::Error::from),
            Location::Url(url) => self
                .url_cache()
                .and_then(|c| Ok(c.fetch_url(url)?))
                .and_then(|cached| Ok(read_source_packages(cached.path())?)),
            Location::Koji(tag) => self.koji_sources(tag),
        };
        read.with_context(|| format!("cannot read source packages from `{arg}`"))
    }

    fn koji_sources(&mut self, tag: &str) -> anyhow::Result<Vec<SourcePackage>> {
        let server = self.config.koji.server.clone();
        let tagged = self
            .koji()?
            .tag_sources(tag)
            .with_context(|| format!("cannot ask Koji at `{server}` for the builds of `{tag}`"))?;
        tagged
            .into_iter()
            .map(|t| {
                let b = t.build;
                let nvr = format!("{}-{}-{}", b.name, b.version, b.release);
                let build_requires = t.build_requires.ok_or_else(|| {
                    anyhow::anyhow!("Koji answered getRPMDeps of `{nvr}.src` with a fault")
                })?;
                let epoch = u64::try_from(b.epoch.unwrap_or(0))
                    .map_err(|_| anyhow::anyhow!("build `{nvr}` has a negative epoch"))?;
                Ok(SourcePackage {
                    name: b.name,
                    epoch,
                    version: b.version,
                    release: b.release,
                    build_requires,
                })
            })
            .collect()
    }
}

/// The comps build group of a repository (empty when it has none).
fn comps_group(repo: &Repository) -> Vec<String> {
    repo.build_group()
        .map(<[String]>::to_vec)
        .unwrap_or_default()
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| "build".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The last path segment of a URL (`…/fedora-rawhide-x86_64/` → `fedora-rawhide-x86_64`).
fn url_name(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("build")
        .to_owned()
}

/// Download progress on stderr (only made when stderr is a terminal): one line, redrawn at
/// most every 100 ms.
#[derive(Debug, Default)]
struct TermProgress {
    state: Mutex<ProgressState>,
}

#[derive(Debug, Default)]
struct ProgressState {
    size: Option<u64>,
    last: Option<Instant>,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// The file name at the end of a URL.
fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

impl DownloadProgress for TermProgress {
    fn started(&self, _url: &str, size: Option<u64>) {
        if let Ok(mut s) = self.state.lock() {
            *s = ProgressState { size, last: None };
        }
    }

    fn advanced(&self, url: &str, done: u64) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if s.last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        s.last = Some(Instant::now());
        let of = s
            .size
            .map_or_else(String::new, |n| format!(" of {:.1}", mib(n)));
        eprint!(
            "\r\x1b[2Kdownloading {} {:.1}{of} MiB",
            file_name(url),
            mib(done)
        );
    }

    fn finished(&self, _url: &str) {
        let shown = self.state.lock().is_ok_and(|s| s.last.is_some());
        if shown {
            eprint!("\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_name_directories_urls_and_koji_tags() {
        assert_eq!(
            Location::parse("koji:f44-build-side-12345").unwrap(),
            Location::Koji("f44-build-side-12345".into())
        );
        assert_eq!(
            Location::parse("HTTPS://example.org/repo/").unwrap(),
            Location::Url("HTTPS://example.org/repo/".into())
        );
        assert_eq!(
            Location::parse("impact/old").unwrap(),
            Location::Dir("impact/old".into())
        );
        for bad in ["koji:", "ftp://example.org/repo", "koji:a/b"] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            url_name("https://copr.example/results/o/p/fedora-rawhide-x86_64/"),
            "fedora-rawhide-x86_64"
        );
        assert_eq!(url_name("http://host"), "host");
    }
}
