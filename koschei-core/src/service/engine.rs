//! One engine pass: the services in order, as `koschei run --once`, `koschei service run`,
//! the demo and embedders run them, and the [`Engine`] they run with.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use super::{Error, Settings, build_resolver, polling, repo_resolver, scheduler};
use crate::config::Config;
use crate::koji::KojiApi;
use crate::resolve::{PassStats, Resolver};

/// One of the four engine services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceName {
    /// Build states, package lists, real builds.
    Polling,
    /// Dependency resolution of new repos.
    RepoResolver,
    /// Dependency resolution of finished builds.
    BuildResolver,
    /// Scratch build submission (never run in passive mode).
    Scheduler,
}

/// A service name that is not one of [`ServiceName::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service `{0}` (known: polling, repo_resolver, build_resolver, scheduler)")]
pub struct UnknownService(pub String);

impl ServiceName {
    /// All services, in the order a combined pass runs them.
    pub const ALL: [ServiceName; 4] = [
        ServiceName::Polling,
        ServiceName::RepoResolver,
        ServiceName::BuildResolver,
        ServiceName::Scheduler,
    ];

    /// The name used on the command line, in the configuration (`[services.NAME]`) and in
    /// logs (`polling`, `repo_resolver`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Polling => "polling",
            ServiceName::RepoResolver => "repo_resolver",
            ServiceName::BuildResolver => "build_resolver",
            ServiceName::Scheduler => "scheduler",
        }
    }

    /// Parses a service name (`repo_resolver` and `repo-resolver` are both accepted).
    pub fn parse(s: &str) -> Option<ServiceName> {
        let s = s.replace('-', "_");
        ServiceName::ALL.into_iter().find(|n| n.as_str() == s)
    }

    /// Parses a list of names (`--only a,b`), in [`ServiceName::ALL`]'s order without
    /// repeats; an empty list selects every service.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<ServiceName>, UnknownService> {
        let mut out = Vec::new();
        for n in names {
            let n = n.as_ref().trim();
            let name = ServiceName::parse(n).ok_or_else(|| UnknownService(n.to_owned()))?;
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if out.is_empty() {
            return Ok(ServiceName::ALL.to_vec());
        }
        out.sort();
        Ok(out)
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options of a combined pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassOptions {
    /// Passive mode: the scheduler is not run and polling never writes to Koji.
    pub passive: bool,
    /// Run only these services (all when empty).
    pub only: Vec<ServiceName>,
}

/// What a combined pass did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct PassReport {
    /// Polling report, when run and successful.
    pub polling: Option<polling::Report>,
    /// Repo resolver report, when run and successful.
    pub repo_resolver: Option<repo_resolver::Report>,
    /// Build resolver report, when run and successful.
    pub build_resolver: Option<build_resolver::Report>,
    /// Scheduler outcome, when run and successful.
    pub scheduler: Option<scheduler::Outcome>,
    /// What the resolver did in each resolver service that ran ([`Resolver::finish_pass`]).
    pub resolver: Vec<(ServiceName, PassStats)>,
    /// How long each service that ran took, in order.
    pub durations: Vec<(ServiceName, Duration)>,
    /// Services that failed, with their error (the others still ran).
    pub failures: Vec<(ServiceName, Error)>,
    /// The scheduler was selected but not run (passive mode).
    pub scheduler_skipped: bool,
}

impl PassReport {
    /// Whether every selected service completed.
    pub fn is_success(&self) -> bool {
        self.failures.is_empty()
    }

    /// The time service `name` took, when it ran.
    pub fn duration(&self, name: ServiceName) -> Option<Duration> {
        self.durations
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| *d)
    }

    /// One readable line per service that ran (`polling: 2 builds finished, ...`), in order;
    /// a failed service's line is its error with its causes.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &name in &ServiceName::ALL {
            let resolver = self
                .resolver
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s);
            let summary = match name {
                ServiceName::Polling => self.polling.as_ref().map(|r| {
                    if r.locked {
                        "skipped (another polling pass holds the lock)".to_owned()
                    } else {
                        let mut line = format!(
                            "{} builds finished, {} deleted, {} new packages, {} real builds registered, {} state changes",
                            r.finished,
                            r.deleted,
                            r.new_packages,
                            r.real_builds,
                            r.events.len()
                        );
                        if r.adopted > 0 {
                            line.push_str(&format!(
                                ", {} Koji tasks of lost submissions adopted",
                                r.adopted
                            ));
                        }
                        line
                    }
                }),
                ServiceName::RepoResolver => self.repo_resolver.as_ref().map(|r| {
                    format!(
                        "{} new repos, {} packages resolved, {} state changes, {} collections locked",
                        r.new_repos,
                        r.resolved_packages,
                        r.events.len() + r.collection_events.len(),
                        r.locked
                    )
                }),
                ServiceName::BuildResolver => self.build_resolver.as_ref().map(|r| {
                    format!(
                        "{} builds resolved, {} unresolvable, {} in the latest repo instead of theirs, {} repos locked",
                        r.resolved, r.unresolved, r.fallback, r.locked
                    )
                }),
                ServiceName::Scheduler if self.scheduler_skipped => {
                    Some("skipped (passive)".to_owned())
                }
                ServiceName::Scheduler => self.scheduler.as_ref().map(|o| o.to_string()),
            };
            let failure = self
                .failures
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, e)| format!("failed: {}", crate::error::chain(e)));
            if let Some(mut line) = summary.or(failure) {
                if let Some(stats) = resolver.filter(|s| s.requests > 0) {
                    line.push_str(&format!("; resolver: {stats}"));
                }
                out.push(format!("{name}: {line}"));
            }
        }
        out
    }
}

/// Runs one pass of each selected service in order (polling, repo resolver, build resolver,
/// scheduler), as `koschei run --once` does from cron. A failing service is logged and
/// recorded in [`PassReport::failures`]; the following services still run, and what each
/// service committed stays. The next pass completes the failed work. After each resolver
/// service, [`Resolver::finish_pass`] is called with whether the service succeeded.
pub fn run_pass(
    client: &mut postgres::Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    options: &PassOptions,
    now: SystemTime,
) -> PassReport {
    let selected = |s: ServiceName| options.only.is_empty() || options.only.contains(&s);
    let mut report = PassReport::default();
    for name in ServiceName::ALL {
        if !selected(name) {
            continue;
        }
        if name == ServiceName::Scheduler && options.passive {
            report.scheduler_skipped = true;
            continue;
        }
        let started = Instant::now();
        let result = match name {
            ServiceName::Polling => {
                let opts = polling::Options {
                    passive: options.passive,
                };
                polling::run_once(client, koji, settings, opts, now).map(|r| {
                    report.polling = Some(r);
                })
            }
            ServiceName::RepoResolver => {
                let r = repo_resolver::run_once(client, koji, resolver, settings, now);
                report
                    .resolver
                    .push((name, resolver.finish_pass(r.is_ok())));
                r.map(|r| report.repo_resolver = Some(r))
            }
            ServiceName::BuildResolver => {
                let r = build_resolver::run_once(client, koji, resolver, settings, now);
                report
                    .resolver
                    .push((name, resolver.finish_pass(r.is_ok())));
                r.map(|r| report.build_resolver = Some(r))
            }
            ServiceName::Scheduler => {
                scheduler::run_once(client, koji, settings, now).map(|o| report.scheduler = Some(o))
            }
        };
        report.durations.push((name, started.elapsed()));
        if let Err(e) = result {
            if e.is_interrupted() {
                tracing::info!(service = name.as_str(), error = %crate::error::chain(&e), "service pass stopped");
            } else {
                tracing::error!(service = name.as_str(), error = %crate::error::chain(&e), "service pass failed");
            }
            report.failures.push((name, e));
        }
    }
    report
}

/// How to build an [`Engine`] from a configuration.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct EngineOptions {
    /// Never write to Koji: the client does not log in (and [`PassOptions::passive`] should
    /// be set for its passes).
    pub passive: bool,
    /// A stop request (set by a signal handler): the Koji client gives up its waits and calls
    /// once it is set ([`crate::koji::ClientOptions::stop`]), so a pass ends soon after.
    pub stop: Option<Arc<AtomicBool>>,
}

impl EngineOptions {
    /// Options for an engine that logs in and submits builds unless `passive`.
    pub fn new(passive: bool) -> Self {
        EngineOptions {
            passive,
            stop: None,
        }
    }

    /// The same options with a stop request the engine's Koji client obeys.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }
}

/// The engine's collaborators: the Koji port, the resolver and the settings.
pub struct Engine {
    /// Koji.
    pub koji: Box<dyn KojiApi>,
    /// The dependency resolver.
    pub resolver: Box<dyn Resolver>,
    /// Settings of the services.
    pub settings: Settings,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over given parts (tests, the demo, embedders with their own Koji).
    pub fn new(koji: Box<dyn KojiApi>, resolver: Box<dyn Resolver>, settings: Settings) -> Self {
        Engine {
            koji,
            resolver,
            settings,
        }
    }

    /// The engine the configuration describes: a Koji client for `[koji_config]` (logged in
    /// with its `login_method` unless `options.passive`, and logged out when the engine is
    /// dropped), the services' settings, and
    /// `resolver` (koschei-solver's `SolverResolver::new(SolverResolverOptions::from_config(..))`
    /// in the `koschei` command).
    pub fn from_config(
        config: &Config,
        options: &EngineOptions,
        resolver: Box<dyn Resolver>,
    ) -> Result<Engine, crate::Error> {
        let mut client_options = config.koji.client_options();
        if options.passive {
            client_options.login = crate::koji::Login::None;
        }
        client_options.stop.clone_from(&options.stop);
        let client = crate::koji::Client::new(client_options)?;
        if !options.passive {
            client.login()?;
        }
        Ok(Engine::new(
            Box::new(client),
            resolver,
            config.service_settings(),
        ))
    }

    /// One pass of the selected services at the current time (see [`run_pass`]).
    pub fn run_pass(&mut self, client: &mut postgres::Client, options: &PassOptions) -> PassReport {
        run_pass(
            client,
            self.koji.as_ref(),
            self.resolver.as_mut(),
            &self.settings,
            options,
            super::now(),
        )
    }
}
