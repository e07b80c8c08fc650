//! Wiring of the engine for the CLI: the [`Resolver`] over `koschei-solver` and the repo
//! cache, the Koji ports, and one pass of every service.

mod memory;
mod memory_file;

use std::collections::BTreeSet;
use std::path::PathBuf;

use koschei_core::config::Config;
use koschei_core::model::{Nevra, RepoId};
use koschei_core::repo::{self, CacheOptions, RepoCache};
use koschei_core::resolve::{InstalledDep, RepoDescriptor, Resolution, ResolveError, Resolver};
use koschei_core::service::koji_client::ClientPort;
use koschei_core::service::{self, Settings};
use koschei_solver::{LoadOptions, Repository, ResolveOptions};

use memory::{Memory, MemorySettings, PassStats};

/// Resolves in Koji repos downloaded into the on-disk repo cache, incrementally for a new repo
/// of a build tag (see [`memory`]).
#[derive(Debug)]
pub(crate) struct SolverResolver {
    cache: RepoCache,
    topurl: String,
    koji_id: String,
    arch: String,
    solv_cache: PathBuf,
    memory: Memory,
}

impl SolverResolver {
    /// A resolver for the hub at `topurl`, caching under `cachedir`.
    pub(crate) fn new(config: &Config, koji_id: &str, topurl: &str) -> anyhow::Result<Self> {
        let cachedir = &config.directories.cachedir;
        let cache = RepoCache::open(
            cachedir.join("repodata"),
            CacheOptions {
                capacity: config.dependency.cache_l2_capacity,
                ..CacheOptions::default()
            },
        )?;
        let solv_cache = cachedir.join("solv");
        let memory = Memory::new(MemorySettings {
            koji_id: koji_id.to_owned(),
            arch: config.dependency.repo_arch.clone(),
            options: ResolveOptions {
                ignore_weak_deps: config.dependency.ignore_weak_deps,
                ..ResolveOptions::default()
            },
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            dir: Some(solv_cache.join("memory")),
        });
        Ok(SolverResolver {
            cache,
            topurl: topurl.to_owned(),
            koji_id: koji_id.to_owned(),
            arch: config.dependency.repo_arch.clone(),
            solv_cache,
            memory,
        })
    }

    /// Ends a service pass: persists the remembered answers when the pass succeeded, and
    /// returns (and logs) how many requests were solved and carried over.
    pub(crate) fn finish_pass(&mut self, persist: bool) -> PassStats {
        self.memory.finish_pass(persist)
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
        repo_id: koschei_core::koji::RepoId(i64::from(repo_id.0)),
        arch: arch.to_owned(),
    }
}

/// Loads a cached repo into a solver `Repository` (its `.solv` files in `solv_cache`).
fn load(
    cached: &repo::CachedRepo,
    descriptor: &repo::RepoDescriptor,
    solv_cache: &std::path::Path,
) -> Result<Repository, koschei_solver::SolverError> {
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
                .map_err(anyhow::Error::from)
                .and_then(|c| load(&c, &d, solv_cache).map_err(anyhow::Error::from));
            match loaded {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::info!(tag = %repo.build_tag, repo = id.0, "cannot load the previous repo: {e:#}");
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
}

/// The engine's collaborators built from the configuration.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) koji: ClientPort,
    pub(crate) resolver: SolverResolver,
    pub(crate) settings: Settings,
}

impl Engine {
    /// Builds the Koji client (logging in unless `passive`) and the resolver.
    pub(crate) fn new(config: &Config, passive: bool) -> anyhow::Result<Engine> {
        let mut options = config.koji.client_options();
        if passive {
            options.login = koschei_core::koji::Login::None;
        }
        let client = koschei_core::koji::Client::new(options)?;
        if !passive {
            client.login()?;
        }
        Ok(Engine {
            koji: ClientPort::new(client, config.koji.srpm_relative_path_root.clone())
                .with_build_opts(config.koji.build_opts_struct()),
            resolver: SolverResolver::new(config, "primary", &config.koji.topurl)?,
            settings: config.service_settings(),
        })
    }
}

/// The services, in the order one pass runs them.
pub(crate) const SERVICES: [&str; 4] = ["polling", "repo_resolver", "build_resolver", "scheduler"];

/// Runs one pass of service `name`; returns a one-line summary.
pub(crate) fn run_service(
    engine: &mut Engine,
    client: &mut postgres::Client,
    name: &str,
    passive: bool,
) -> anyhow::Result<String> {
    let now = service::now();
    let s = &engine.settings;
    Ok(match name {
        "polling" => {
            let r = service::polling::run_once(
                client,
                &engine.koji,
                s,
                service::polling::Options { passive },
                now,
            )?;
            format!("{r:?}")
        }
        "repo_resolver" | "build_resolver" => {
            let (koji, resolver) = (&engine.koji, &mut engine.resolver);
            let r = if name == "repo_resolver" {
                service::repo_resolver::run_once(client, koji, resolver, s, now)
                    .map(|r| format!("{r:?}"))
            } else {
                service::build_resolver::run_once(client, koji, resolver, s, now)
                    .map(|r| format!("{r:?}"))
            };
            // A failed pass is redone; remembering its partial answers would make the
            // next process plan the redo against them instead of the previous repo's.
            let stats = engine.resolver.finish_pass(r.is_ok());
            format!("{}; resolver: {stats}", r?)
        }
        "scheduler" if passive => "skipped (passive)".to_owned(),
        "scheduler" => {
            let r = service::scheduler::run_once(client, &engine.koji, s, now)?;
            format!("{r:?}")
        }
        other => anyhow::bail!("unknown service `{other}` (known: {})", SERVICES.join(", ")),
    })
}
