//! The engine's [`koschei_core::resolve::Resolver`]: resolution in Koji repos
//! downloaded into the on-disk repo cache, with this crate's solver, incrementally for a new
//! repo of a build tag (the memory: docs/incremental.md).
//!
//! ```no_run
//! use koschei_core::resolve::{RepoDescriptor, Resolver};
//! use koschei_solver::engine::{SolverResolver, SolverResolverOptions};
//!
//! let options = SolverResolverOptions::new("/var/cache/koschei", "https://kojipkgs.fedoraproject.org");
//! let mut resolver = SolverResolver::new(options)?;
//! let repo = RepoDescriptor { build_tag: "f44-build".into(), repo_id: koschei_core::model::RepoId(7) };
//! let answers = resolver.resolve_many(&repo, &["bash".into()], &[vec!["gcc".into()]])?;
//! println!("resolved: {}", answers[0].resolved);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod memory;
mod memory_file;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use koschei_core::config::{Config, Proxies};
use koschei_core::model::{Nevra, RepoId};
use koschei_core::repo::{self, CacheOptions, RepoCache};
use koschei_core::resolve::{
    InstalledDep, PassStats, RepoDescriptor, Resolution, ResolveError, Resolver,
};

use crate::{LoadOptions, Repository, ResolveOptions};
use memory::{Memory, MemorySettings};
pub use memory_file::FileError;

/// Options of a [`SolverResolver`]: where repos come from and where they are cached.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SolverResolverOptions {
    /// Cache directory: repodata under `repodata/`, `.solv` files and the incremental
    /// memory under `solv/`.
    pub cachedir: PathBuf,
    /// Koji's top URL (`{topurl}/repos/{tag}/{repo id}/{arch}`).
    pub topurl: String,
    /// Name of the Koji instance, keying the caches (`primary` for the configured hub).
    pub koji_id: String,
    /// Repo arch to download and resolve for (`x86_64`).
    pub arch: String,
    /// Ignore weak dependencies (`dependency.ignore_weak_deps`).
    pub ignore_weak_deps: bool,
    /// Repos kept in the repodata cache.
    pub cache_capacity: usize,
    /// PEM CA bundle for an https top URL (the hub's private CA), system roots when `None`.
    pub ca: Option<PathBuf>,
    /// Proxies of repo downloads (the environment's: [`Config::proxies`]); none by default.
    pub proxies: Proxies,
    /// Solver threads (default: the available parallelism).
    pub jobs: usize,
    /// Remember answers across processes in `solv/memory/` (default on).
    pub memory_file: bool,
    /// Log the progress of a resolution at this interval (`dependency.perf_report_interval`,
    /// where 0 turns it off; default 60 s); `None` logs none.
    pub progress_interval: Option<Duration>,
    /// A stop request: repo downloads (and waits for another process's download) are given up
    /// once it is set ([`koschei_core::repo::CacheOptions::stop`]).
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl SolverResolverOptions {
    /// Options for the hub at `topurl`, caching under `cachedir`, with the original's
    /// defaults for everything else.
    pub fn new(cachedir: impl Into<PathBuf>, topurl: impl Into<String>) -> Self {
        SolverResolverOptions {
            cachedir: cachedir.into(),
            topurl: topurl.into(),
            koji_id: "primary".to_owned(),
            arch: "x86_64".to_owned(),
            ignore_weak_deps: false,
            cache_capacity: CacheOptions::default().capacity,
            ca: None,
            proxies: Proxies::none(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_file: true,
            progress_interval: Some(Duration::from_secs(60)),
            stop: None,
        }
    }

    /// The options the configuration gives for its Koji hub (`directories.cachedir`,
    /// `koji_config.topurl`, `dependency.repo_arch`, `dependency.ignore_weak_deps`,
    /// `dependency.cache_l2_capacity`, the hub's CA, the environment's proxies).
    pub fn from_config(config: &Config) -> Self {
        SolverResolverOptions {
            koji_id: "primary".to_owned(),
            arch: config.dependency.repo_arch.clone(),
            ignore_weak_deps: config.dependency.ignore_weak_deps,
            cache_capacity: config.dependency.cache_l2_capacity,
            ca: config.koji.hub_ca(),
            proxies: config.proxies.clone(),
            progress_interval: Some(config.dependency.perf_report_interval)
                .filter(|d| !d.is_zero()),
            ..SolverResolverOptions::new(&config.directories.cachedir, &config.koji.topurl)
        }
    }
}

/// Resolves in Koji repos downloaded into the on-disk repo cache, incrementally for a new repo
/// of a build tag (see the module docs).
#[derive(Debug)]
pub struct SolverResolver {
    cache: RepoCache,
    topurl: String,
    koji_id: String,
    arch: String,
    solv_cache: PathBuf,
    memory: Memory,
}

impl SolverResolver {
    /// Opens the repo cache (creating its directories) and an empty memory.
    pub fn new(options: SolverResolverOptions) -> Result<Self, repo::Error> {
        let cache = RepoCache::open(
            options.cachedir.join("repodata"),
            CacheOptions {
                capacity: options.cache_capacity,
                ca: options.ca.clone(),
                proxies: options.proxies.clone(),
                stop: options.stop.clone(),
                ..CacheOptions::default()
            },
        )?;
        let solv_cache = options.cachedir.join("solv");
        let memory = Memory::new(MemorySettings {
            koji_id: options.koji_id.clone(),
            arch: options.arch.clone(),
            options: ResolveOptions {
                ignore_weak_deps: options.ignore_weak_deps,
                ..ResolveOptions::default()
            },
            jobs: options.jobs.max(1),
            dir: options.memory_file.then(|| solv_cache.join("memory")),
            progress_interval: options.progress_interval,
        });
        Ok(SolverResolver {
            cache,
            topurl: options.topurl,
            koji_id: options.koji_id,
            arch: options.arch,
            solv_cache,
            memory,
        })
    }
}

fn failed(
    repo: &RepoDescriptor,
    e: impl std::error::Error + Send + Sync + 'static,
) -> ResolveError {
    ResolveError::Failed {
        build_tag: repo.build_tag.clone(),
        repo_id: repo.repo_id,
        source: Box::new(e),
    }
}

/// The cache descriptor of repo `repo_id` of `build_tag`.
fn descriptor(koji_id: &str, build_tag: &str, repo_id: RepoId, arch: &str) -> repo::RepoDescriptor {
    repo::RepoDescriptor {
        koji_id: koji_id.to_owned(),
        build_tag: build_tag.to_owned(),
        repo_id,
        arch: arch.to_owned(),
    }
}

/// Loads a cached repo into a solver `Repository` (its `.solv` files in `solv_cache`).
fn load(
    cached: &repo::CachedRepo,
    descriptor: &repo::RepoDescriptor,
    solv_cache: &Path,
) -> Result<Repository, crate::SolverError> {
    Repository::load(
        cached.path(),
        &LoadOptions {
            name: descriptor.cache_name(),
            arch: descriptor.arch.clone(),
            cache_dir: solv_cache.to_owned(),
            ..LoadOptions::default()
        },
    )
}

impl Resolver for SolverResolver {
    fn resolve_many(
        &mut self,
        repo: &RepoDescriptor,
        build_group: &[String],
        build_requires: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError> {
        let desc = descriptor(&self.koji_id, &repo.build_tag, repo.repo_id, &self.arch);
        let cached = match self.cache.fetch(&self.topurl, &desc) {
            Ok(c) => c,
            Err(repo::Error::Http { status, .. }) if status == 404 || status == 410 => {
                return Err(ResolveError::RepoUnavailable {
                    build_tag: repo.build_tag.clone(),
                    repo_id: repo.repo_id,
                });
            }
            Err(e) => return Err(failed(repo, e)),
        };
        let loaded = load(&cached, &desc, &self.solv_cache).map_err(|e| failed(repo, e))?;
        let SolverResolver {
            cache,
            topurl,
            koji_id,
            arch,
            solv_cache,
            memory,
        } = self;
        // An older repo of the tag, for answers remembered in a file by an earlier process.
        let mut load_old = |id: RepoId| -> Option<Repository> {
            let d = descriptor(koji_id, &repo.build_tag, id, arch);
            let loaded = cache
                .fetch(topurl, &d)
                .map_err(|e| e.to_string())
                .and_then(|c| load(&c, &d, solv_cache).map_err(|e| e.to_string()));
            match loaded {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::info!(tag = %repo.build_tag, repo = id.0, "cannot load the previous repo: {e}");
                    None
                }
            }
        };
        let answers = memory
            .resolve(
                &repo.build_tag,
                repo.repo_id,
                &loaded,
                build_group,
                build_requires,
                &mut load_old,
            )
            .map_err(|e| failed(repo, e))?;
        let mut out = Vec::with_capacity(answers.len());
        for answer in answers {
            let mut installs = Vec::with_capacity(answer.installs.len());
            for (s, distance) in &answer.installs {
                let nevra = Nevra::parse(s).map_err(|e| failed(repo, e))?;
                let distance = distance.and_then(|d| i32::try_from(d).ok());
                installs.push(InstalledDep { nevra, distance });
            }
            out.push(Resolution {
                resolved: answer.resolved,
                installs,
                problems: answer.problems.into_iter().collect::<BTreeSet<_>>(),
            });
        }
        Ok(out)
    }

    /// Persists the remembered answers when the pass succeeded (a failed pass is redone;
    /// remembering its partial answers would make the next process plan the redo against
    /// them instead of the previous repo's), and returns (and logs) what was solved and
    /// carried over.
    fn finish_pass(&mut self, succeeded: bool) -> PassStats {
        self.memory.finish_pass(succeeded)
    }
}
