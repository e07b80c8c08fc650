//! `koschei run --once` (one pass of every service, for cron) and `koschei service run`
//! (the services in a loop until SIGTERM or SIGINT).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use koschei_core::config::Config;
use koschei_core::service::metrics::EngineMetrics;
use koschei_core::service::{Engine, EngineOptions, PassOptions, ServiceName};
use koschei_solver::engine::{SolverResolver, SolverResolverOptions};

use super::Context;
use super::messaging::{self, OutboxSender};

/// Arguments shared by `run` and `service run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// One pass of each service, then exit (required: cron mode).
    #[arg(long)]
    once: bool,
    /// Print the pass as JSON (every service's status, duration, figures and error).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: CommonArgs,
}

/// Options of a run.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CommonArgs {
    /// Never write to Koji: no scratch builds, no cancelations, no login.
    #[arg(long)]
    passive: bool,
    /// Run only these services (comma-separated: polling, repo_resolver, build_resolver, scheduler).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    only: Vec<String>,
}

/// `koschei service ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ServiceCommand {
    /// Run the services in a loop with their configured intervals until SIGTERM or SIGINT.
    Run(ServiceArgs),
}

/// Options of `service run`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServiceArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Serve the engine's figures for Prometheus at http://ADDR/metrics (e.g.
    /// 127.0.0.1:9101): passes, durations, solved and carried requests, submissions, errors.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
}

/// The engine the configuration describes, with the libsolv resolver; its Koji client and repo
/// downloads give up their waits once `stop` is set (and the client logs out when the engine
/// is dropped).
pub(crate) fn engine(
    config: &Config,
    passive: bool,
    stop: Option<&Arc<AtomicBool>>,
) -> anyhow::Result<Engine> {
    let mut resolver_options = SolverResolverOptions::from_config(config);
    resolver_options.stop = stop.cloned();
    let resolver = SolverResolver::new(resolver_options)?;
    let mut options = EngineOptions::new(passive);
    if let Some(stop) = stop {
        options = options.with_stop(Arc::clone(stop));
    }
    Ok(Engine::from_config(config, &options, Box::new(resolver))?)
}

/// Registers SIGTERM and SIGINT to set the returned stop flag.
pub(crate) fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// Whether an error is the Koji client giving up on a stop request.
pub(crate) fn is_interrupted(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<koschei_core::Error>()
            .is_some_and(koschei_core::Error::is_interrupted)
            || c.downcast_ref::<koschei_core::koji::Error>()
                .is_some_and(koschei_core::koji::Error::is_interrupted)
            || c.downcast_ref::<koschei_core::koji::KojiError>()
                .is_some_and(koschei_core::koji::KojiError::is_interrupted)
    })
}

fn selected(common: &CommonArgs) -> anyhow::Result<Vec<ServiceName>> {
    ServiceName::parse_list(&common.only).map_err(|e| {
        anyhow::anyhow!("{e}\n\nhint: `--only` takes a comma-separated list of these names")
    })
}

/// One pass of each selected service. Every service runs even when an earlier one failed
/// (their work is independent and committed per step); any failure makes the exit code 1.
pub(crate) fn run_once(ctx: &Context, args: Args) -> anyhow::Result<u8> {
    if !args.once {
        anyhow::bail!(
            "`koschei run` needs `--once`\n\nhint: use `koschei service run` for the long-running loop"
        );
    }
    let only = selected(&args.common)?;
    let (_db, mut client) = ctx.connect_current()?;
    let mut engine = engine(&ctx.config, args.common.passive, None)?;
    let report = engine.run_pass(
        &mut client,
        &PassOptions {
            passive: args.common.passive,
            only,
        },
    );
    if !args.json {
        for line in report.lines() {
            crate::exit::outln!("{line}")?;
        }
    }
    let mut outbox = OutboxSender::new(&ctx.config);
    let published = outbox.flush(&mut client);
    outbox.close();
    if args.json {
        super::print_json(&RunJson {
            pass: report.summary(),
            messages: published.as_ref().map(|r| MessagesJson {
                published: r.as_ref().ok().map(|r| r.published),
                pending: r.as_ref().ok().map(|r| r.pending),
                error: r.as_ref().err().cloned(),
                summary: messaging::summary(r),
            }),
        })?;
    } else if let Some(result) = &published {
        crate::exit::outln!("messages: {}", messaging::summary(result))?;
    }
    Ok(u8::from(!report.is_success()))
}

/// `run --once --json`: the pass, then what the outbox publication did.
#[derive(Debug, serde::Serialize)]
struct RunJson {
    #[serde(flatten)]
    pass: koschei_core::service::PassSummary,
    /// `null` when publishing is disabled.
    messages: Option<MessagesJson>,
}

#[derive(Debug, serde::Serialize)]
struct MessagesJson {
    published: Option<usize>,
    pending: Option<i64>,
    error: Option<String>,
    summary: String,
}

/// The service loop.
pub(crate) fn service(ctx: &Context, command: ServiceCommand) -> anyhow::Result<u8> {
    let ServiceCommand::Run(ServiceArgs {
        common,
        metrics_listen,
    }) = command;
    let services = selected(&common)?;
    let metrics = Arc::new(Mutex::new(EngineMetrics::default()));
    let _exporter = match &metrics_listen {
        Some(addr) => Some(MetricsExporter::start(addr, Arc::clone(&metrics))?),
        None => None,
    };
    let stop = stop_on_signals()?;
    let Some(mut client) = connect_until_stopped(ctx, &stop)? else {
        return Ok(0);
    };
    // The login waits out an offline hub; a stop request meanwhile is a normal stop.
    let mut engine = match engine(&ctx.config, common.passive, Some(&stop)) {
        Ok(engine) => engine,
        Err(e) if stop.load(Ordering::Relaxed) && is_interrupted(&e) => {
            tracing::info!("stopped before the services started: {e:#}");
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    let interval = |name: ServiceName| {
        ctx.config
            .services
            .get(name.as_str())
            .map_or(Duration::from_secs(3), |s| s.interval)
    };
    let mut next: BTreeMap<ServiceName, Instant> =
        services.iter().map(|s| (*s, Instant::now())).collect();
    let mut outbox = OutboxSender::new(&ctx.config);
    tracing::info!(services = ?services, passive = common.passive, "services started");
    while !stop.load(Ordering::Relaxed) {
        for name in &services {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if next[name] > Instant::now() {
                continue;
            }
            // A failed service committed what it finished (logged by the pass); the next
            // pass continues.
            let report = engine.run_pass(
                &mut client,
                &PassOptions {
                    passive: common.passive,
                    only: vec![*name],
                },
            );
            for line in report.lines() {
                tracing::debug!(service = name.as_str(), "{line}");
            }
            // A pass cut short by the stop request is not a failure of the service.
            if !stop.load(Ordering::Relaxed) {
                #[allow(clippy::disallowed_methods, reason = "a binary reads the clock")]
                let now = std::time::SystemTime::now();
                metrics
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .record(&report, now);
            }
            if client.is_closed() {
                // The server went away (restart, failover): wait for it, then go on.
                tracing::warn!("lost the database connection; reconnecting");
                match connect_until_stopped(ctx, &stop)? {
                    Some(fresh) => client = fresh,
                    None => break,
                }
            }
            next.insert(*name, Instant::now() + interval(*name));
            // Messages of this pass's state changes go out now; unsent ones stay queued.
            outbox.flush_paced(&mut client);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    outbox.close();
    // Dropping the engine logs its Koji session out.
    drop(engine);
    tracing::info!("services stopped");
    Ok(0)
}

/// Connects to the configured database, retrying while it is unreachable (a server that is
/// down at start or restarting) with a backoff from 1 s to 30 s, logging the failure once per
/// minute; `None` when a stop was requested meanwhile. A database that answers with a schema
/// problem is an error at once (retrying would not help).
fn connect_until_stopped(
    ctx: &Context,
    stop: &AtomicBool,
) -> anyhow::Result<Option<postgres::Client>> {
    let mut delay = Duration::from_secs(1);
    let mut failures = 0u32;
    let mut last_log: Option<Instant> = None;
    loop {
        match ctx.connect_current() {
            Ok((_db, client)) => {
                if failures > 0 {
                    tracing::info!(failures, "database connection restored");
                }
                return Ok(Some(client));
            }
            Err(e) if !unreachable(&e) => return Err(e),
            Err(e) => {
                failures += 1;
                if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(failures, "database unreachable, retrying: {e:#}");
                    last_log = Some(Instant::now());
                }
            }
        }
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// Whether a connection failure is the server being unreachable (worth waiting for).
fn unreachable(e: &anyhow::Error) -> bool {
    use koschei_core::db::Error;
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<Error>(),
            Some(Error::Connect { .. } | Error::Pool { .. } | Error::Cluster(_))
        )
    })
}

/// The `--metrics-listen` endpoint: a thread answering `GET /metrics` with the engine's
/// figures; stopped when the value drops.
struct MetricsExporter {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsExporter {
    fn start(addr: &str, metrics: Arc<Mutex<EngineMetrics>>) -> anyhow::Result<MetricsExporter> {
        let server = tiny_http::Server::http(addr)
            .map(Arc::new)
            .map_err(|e| anyhow::anyhow!("cannot listen on `{addr}` for --metrics-listen: {e}"))?;
        tracing::info!(addr, "engine metrics at /metrics");
        let serving = Arc::clone(&server);
        let thread = std::thread::spawn(move || {
            for request in serving.incoming_requests() {
                let path = request.url().split('?').next().unwrap_or("");
                let (status, body) = if path == "/metrics" {
                    let text = metrics
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .render();
                    (200, text)
                } else {
                    (404, "only /metrics is here\n".to_owned())
                };
                let mut response = tiny_http::Response::from_string(body).with_status_code(status);
                if let Ok(h) = tiny_http::Header::from_bytes(
                    "Content-Type",
                    "text/plain; version=0.0.4; charset=utf-8",
                ) {
                    response.add_header(h);
                }
                // A client that went away is its own business.
                let _ = request.respond(response);
            }
        });
        Ok(MetricsExporter {
            server,
            thread: Some(thread),
        })
    }
}

impl Drop for MetricsExporter {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
