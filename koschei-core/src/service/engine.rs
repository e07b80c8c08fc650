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
        self.summary()
            .services
            .into_iter()
            .map(|s| format!("{}: {}", s.service, s.summary))
            .collect()
    }

    /// A serializable view of the pass (`koschei run --once --json`): per service that ran,
    /// its status, duration, the line of [`PassReport::lines`], its figures and its error.
    pub fn summary(&self) -> PassSummary {
        let mut services = Vec::new();
        for &name in &ServiceName::ALL {
            let resolver = self
                .resolver
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| ResolverSummary {
                    requests: s.requests,
                    solved: s.solved,
                    carried: s.carried,
                });
            let failure = self
                .failures
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, e)| crate::error::chain(e));
            let details = match name {
                ServiceName::Polling => self.polling.as_ref().map(|r| {
                    ServiceDetails::Polling(PollingSummary {
                        locked: r.locked,
                        finished: r.finished,
                        deleted: r.deleted,
                        adopted: r.adopted,
                        new_packages: r.new_packages,
                        real_builds: r.real_builds,
                        state_changes: r.events.iter().map(StateChangeSummary::from).collect(),
                    })
                }),
                ServiceName::RepoResolver => self.repo_resolver.as_ref().map(|r| {
                    ServiceDetails::RepoResolver(RepoResolverSummary {
                        locked: r.locked,
                        new_repos: r.new_repos,
                        resolved_packages: r.resolved_packages,
                        state_changes: r.events.iter().map(StateChangeSummary::from).collect(),
                        collection_changes: r
                            .collection_events
                            .iter()
                            .map(|(collection, prev, new)| CollectionChangeSummary {
                                collection: collection.clone(),
                                prev,
                                new,
                            })
                            .collect(),
                    })
                }),
                ServiceName::BuildResolver => self.build_resolver.as_ref().map(|r| {
                    ServiceDetails::BuildResolver(BuildResolverSummary {
                        locked: r.locked,
                        resolved: r.resolved,
                        unresolved: r.unresolved,
                        fallback: r.fallback,
                    })
                }),
                ServiceName::Scheduler => self
                    .scheduler
                    .as_ref()
                    .map(|o| ServiceDetails::Scheduler(SchedulerSummary::from(o))),
            };
            let skipped = name == ServiceName::Scheduler && self.scheduler_skipped;
            let line = if skipped {
                Some("skipped (passive)".to_owned())
            } else {
                details.as_ref().map(|d| d.line(self))
            };
            let Some(mut line) = line.or_else(|| failure.as_ref().map(|e| format!("failed: {e}")))
            else {
                continue;
            };
            if let Some(stats) = self
                .resolver
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s)
                .filter(|s| s.requests > 0)
            {
                line.push_str(&format!("; resolver: {stats}"));
            }
            let status = if skipped {
                "skipped"
            } else if failure.is_some() {
                "failed"
            } else {
                "ok"
            };
            services.push(ServiceSummary {
                service: name.as_str(),
                status,
                duration_seconds: self.duration(name).map(|d| d.as_secs_f64()),
                summary: line,
                details,
                resolver,
                error: failure,
            });
        }
        PassSummary {
            success: self.is_success(),
            services,
        }
    }
}

/// A serializable view of a [`PassReport`] ([`PassReport::summary`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PassSummary {
    /// Whether every selected service completed.
    pub success: bool,
    /// The services that ran (or were skipped), in order.
    pub services: Vec<ServiceSummary>,
}

/// One service of a [`PassSummary`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ServiceSummary {
    /// `polling`, `repo_resolver`, `build_resolver` or `scheduler`.
    pub service: &'static str,
    /// `ok`, `failed`, or `skipped` (the scheduler in passive mode).
    pub status: &'static str,
    /// How long it took (none when skipped).
    pub duration_seconds: Option<f64>,
    /// The readable line ([`PassReport::lines`] without the service name).
    pub summary: String,
    /// What it did, when it completed.
    #[serde(rename = "report")]
    pub details: Option<ServiceDetails>,
    /// What the resolver did (the resolver services).
    pub resolver: Option<ResolverSummary>,
    /// Its error with the causes, when it failed.
    pub error: Option<String>,
}

/// What a service did, by service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ServiceDetails {
    /// Polling.
    Polling(PollingSummary),
    /// Repo resolver.
    RepoResolver(RepoResolverSummary),
    /// Build resolver.
    BuildResolver(BuildResolverSummary),
    /// Scheduler.
    Scheduler(SchedulerSummary),
}

impl ServiceDetails {
    fn line(&self, report: &PassReport) -> String {
        match self {
            ServiceDetails::Polling(r) if r.locked => {
                "skipped (another polling pass holds the lock)".to_owned()
            }
            ServiceDetails::Polling(r) => {
                let mut line = format!(
                    "{} builds finished, {} deleted, {} new packages, {} real builds registered, {} state changes",
                    r.finished,
                    r.deleted,
                    r.new_packages,
                    r.real_builds,
                    r.state_changes.len()
                );
                if r.adopted > 0 {
                    line.push_str(&format!(
                        ", {} Koji tasks of lost submissions adopted",
                        r.adopted
                    ));
                }
                line
            }
            ServiceDetails::RepoResolver(r) => format!(
                "{} new repos, {} packages resolved, {} state changes, {} collections locked",
                r.new_repos,
                r.resolved_packages,
                r.state_changes.len() + r.collection_changes.len(),
                r.locked
            ),
            ServiceDetails::BuildResolver(r) => format!(
                "{} builds resolved, {} unresolvable, {} in the latest repo instead of theirs, {} repos locked",
                r.resolved, r.unresolved, r.fallback, r.locked
            ),
            ServiceDetails::Scheduler(_) => report
                .scheduler
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
        }
    }
}

/// What a polling pass did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "the fields of polling::Report")]
#[non_exhaustive]
pub struct PollingSummary {
    pub locked: bool,
    pub finished: usize,
    pub deleted: usize,
    pub adopted: usize,
    pub new_packages: usize,
    pub real_builds: usize,
    pub state_changes: Vec<StateChangeSummary>,
}

/// What a repo resolver pass did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "the fields of repo_resolver::Report")]
#[non_exhaustive]
pub struct RepoResolverSummary {
    pub locked: usize,
    pub new_repos: usize,
    pub resolved_packages: usize,
    pub state_changes: Vec<StateChangeSummary>,
    pub collection_changes: Vec<CollectionChangeSummary>,
}

/// What a build resolver pass did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "the fields of build_resolver::Report")]
#[non_exhaustive]
pub struct BuildResolverSummary {
    pub locked: usize,
    pub resolved: usize,
    pub unresolved: usize,
    pub fallback: usize,
}

/// What a scheduler pass did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SchedulerSummary {
    /// `locked`, `at_capacity`, `nothing_to_do`, `koji_busy` or `submitted`.
    pub outcome: &'static str,
    /// The submitted package, its collection, build and Koji task.
    pub submitted: Option<SubmissionSummary>,
}

/// A submitted scratch build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "the fields of scheduler::Outcome::Submitted")]
#[non_exhaustive]
pub struct SubmissionSummary {
    pub package: String,
    pub collection: String,
    pub package_id: i32,
    pub build_id: i32,
    pub task_id: i32,
}

impl From<&scheduler::Outcome> for SchedulerSummary {
    fn from(o: &scheduler::Outcome) -> Self {
        use scheduler::Outcome as O;
        let outcome = match o {
            O::Locked => "locked",
            O::AtCapacity => "at_capacity",
            O::NothingToDo => "nothing_to_do",
            O::KojiBusy => "koji_busy",
            O::Submitted { .. } => "submitted",
        };
        let submitted = match o {
            O::Submitted {
                package_id,
                package,
                collection,
                build_id,
                task_id,
            } => Some(SubmissionSummary {
                package: package.clone(),
                collection: collection.clone(),
                package_id: package_id.0,
                build_id: build_id.0,
                task_id: task_id.0,
            }),
            _ => None,
        };
        SchedulerSummary { outcome, submitted }
    }
}

/// A package's message state change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "the fields of service::StateChange")]
#[non_exhaustive]
pub struct StateChangeSummary {
    pub package_id: i32,
    pub prev: &'static str,
    pub new: &'static str,
}

impl From<&super::StateChange> for StateChangeSummary {
    fn from(c: &super::StateChange) -> Self {
        StateChangeSummary {
            package_id: c.package_id.0,
            prev: c.prev,
            new: c.new,
        }
    }
}

/// A collection's state change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "collection name, old and new state")]
#[non_exhaustive]
pub struct CollectionChangeSummary {
    pub collection: String,
    pub prev: &'static str,
    pub new: &'static str,
}

/// What the resolver did in a resolver service's pass.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[allow(missing_docs, reason = "the counts of resolve::PassStats")]
#[non_exhaustive]
pub struct ResolverSummary {
    pub requests: usize,
    pub solved: usize,
    pub carried: usize,
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
