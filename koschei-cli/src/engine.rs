//! Wiring of the engine for the CLI: the [`Resolver`] over `koschei-solver` and the repo
//! cache, the Koji ports, and one pass of every service.

use std::collections::BTreeSet;
use std::path::PathBuf;

use koschei_core::config::Config;
use koschei_core::model::Nevra;
use koschei_core::repo::{self, CacheOptions, RepoCache};
use koschei_core::resolve::{InstalledDep, RepoDescriptor, Resolution, ResolveError, Resolver};
use koschei_core::service::koji_client::ClientPort;
use koschei_core::service::{self, Settings};
use koschei_solver::{LoadOptions, Repository, ResolveOptions, resolve_all};

/// Resolves in Koji repos downloaded into the on-disk repo cache.
#[derive(Debug)]
pub(crate) struct SolverResolver {
    cache: RepoCache,
    topurl: String,
    koji_id: String,
    arch: String,
    solv_cache: PathBuf,
    options: ResolveOptions,
    jobs: usize,
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
        Ok(SolverResolver {
            cache,
            topurl: topurl.to_owned(),
            koji_id: koji_id.to_owned(),
            arch: config.dependency.repo_arch.clone(),
            solv_cache: cachedir.join("solv"),
            options: ResolveOptions {
                ignore_weak_deps: config.dependency.ignore_weak_deps,
                ..ResolveOptions::default()
            },
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
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

impl Resolver for SolverResolver {
    fn resolve_many(
        &mut self,
        repo: &RepoDescriptor,
        build_group: &[String],
        build_requires: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError> {
        let descriptor = repo::RepoDescriptor {
            koji_id: self.koji_id.clone(),
            build_tag: repo.build_tag.clone(),
            repo_id: koschei_core::koji::RepoId(i64::from(repo.repo_id.0)),
            arch: self.arch.clone(),
        };
        let cached = match self.cache.fetch(&self.topurl, &descriptor) {
            Ok(c) => c,
            Err(repo::Error::Http { status, .. }) if status == 404 || status == 410 => {
                return Err(ResolveError::RepoUnavailable {
                    build_tag: repo.build_tag.clone(),
                    repo_id: repo.repo_id,
                });
            }
            Err(e) => return Err(failed(repo, e)),
        };
        let loaded = Repository::load(
            cached.path(),
            &LoadOptions {
                name: descriptor.cache_name(),
                arch: self.arch.clone(),
                cache_dir: self.solv_cache.clone(),
                ..LoadOptions::default()
            },
        )
        .map_err(|e| failed(repo, e))?;
        let mut answers = vec![None; build_requires.len()];
        resolve_all(
            &[&loaded],
            build_group,
            build_requires,
            self.options,
            self.jobs,
            |r| answers[r.index] = Some(r.resolution),
        )
        .map_err(|e| failed(repo, e))?;
        let mut solver =
            koschei_solver::Resolver::new(&[&loaded], self.options).map_err(|e| failed(repo, e))?;
        let mut out = Vec::with_capacity(answers.len());
        for (answer, brs) in answers.into_iter().zip(build_requires) {
            let answer = answer.unwrap_or(koschei_solver::Resolution {
                resolved: false,
                installs: Vec::new(),
                problems: vec!["resolution did not run".to_owned()],
            });
            let distances = if answer.resolved {
                solver.dependency_distances(brs, &answer.installs)
            } else {
                Default::default()
            };
            let mut installs = Vec::with_capacity(answer.installs.len());
            for s in &answer.installs {
                let nevra = Nevra::parse(s).map_err(|e| failed(repo, e))?;
                let distance = distances
                    .get(&nevra.name)
                    .and_then(|d| i32::try_from(*d).ok());
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
        "repo_resolver" => {
            let r = service::repo_resolver::run_once(
                client,
                &engine.koji,
                &mut engine.resolver,
                s,
                now,
            )?;
            format!("{r:?}")
        }
        "build_resolver" => {
            let r = service::build_resolver::run_once(
                client,
                &engine.koji,
                &mut engine.resolver,
                s,
                now,
            )?;
            format!("{r:?}")
        }
        "scheduler" if passive => "skipped (passive)".to_owned(),
        "scheduler" => {
            let r = service::scheduler::run_once(client, &engine.koji, s, now)?;
            format!("{r:?}")
        }
        other => anyhow::bail!("unknown service `{other}` (known: {})", SERVICES.join(", ")),
    })
}
