//! The engine's figures in Prometheus' text format (version 0.0.4): what `koschei service
//! run --metrics-listen` exports. Fed with every [`PassReport`]; counters start at zero when
//! the process starts, as Prometheus expects.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use super::Error;
use super::engine::{PassReport, ServiceName};
use super::scheduler::Outcome;

/// Totals of one service since the process started.
#[derive(Debug, Default, Clone, PartialEq)]
struct ServiceTotals {
    passes: u64,
    failures: u64,
    seconds: f64,
    last_seconds: f64,
    last_success_unix: Option<f64>,
    solved: u64,
    carried: u64,
}

/// The engine's counters and gauges.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EngineMetrics {
    services: BTreeMap<ServiceName, ServiceTotals>,
    /// Scheduler outcomes by kind (`submitted`, `at_capacity`, ...).
    scheduler: BTreeMap<&'static str, u64>,
    /// Failed services by error kind (`koji`, `database`, `resolver`).
    errors: BTreeMap<&'static str, u64>,
    builds_finished: u64,
    real_builds: u64,
    new_repos: u64,
    resolved_packages: u64,
}

fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::Koji(_) => "koji",
        Error::Db(_) | Error::Transaction(_) => "database",
        Error::Resolve(_) => "resolver",
    }
}

fn outcome_kind(o: &Outcome) -> &'static str {
    match o {
        Outcome::Locked => "locked",
        Outcome::AtCapacity => "at_capacity",
        Outcome::NothingToDo => "nothing_to_do",
        Outcome::KojiBusy => "koji_busy",
        Outcome::Submitted { .. } => "submitted",
    }
}

impl EngineMetrics {
    /// Adds one pass, finished at `now`.
    pub fn record(&mut self, report: &PassReport, now: SystemTime) {
        let unix = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        for (name, took) in &report.durations {
            let t = self.services.entry(*name).or_default();
            t.passes += 1;
            t.seconds += took.as_secs_f64();
            t.last_seconds = took.as_secs_f64();
            if !report.failures.iter().any(|(n, _)| n == name) {
                t.last_success_unix = Some(unix);
            }
        }
        for (name, e) in &report.failures {
            self.services.entry(*name).or_default().failures += 1;
            *self.errors.entry(error_kind(e)).or_insert(0) += 1;
        }
        for (name, stats) in &report.resolver {
            let t = self.services.entry(*name).or_default();
            t.solved += stats.solved as u64;
            t.carried += stats.carried as u64;
        }
        if let Some(o) = &report.scheduler {
            *self.scheduler.entry(outcome_kind(o)).or_insert(0) += 1;
        }
        if let Some(p) = &report.polling {
            self.builds_finished += p.finished as u64;
            self.real_builds += p.real_builds as u64;
        }
        if let Some(r) = &report.repo_resolver {
            self.new_repos += r.new_repos as u64;
            self.resolved_packages += r.resolved_packages as u64;
        }
    }

    /// Scratch builds submitted since the process started.
    pub fn submissions(&self) -> u64 {
        self.scheduler.get("submitted").copied().unwrap_or(0)
    }

    /// The text format page.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let head = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        type Field = fn(&ServiceTotals) -> Option<f64>;
        let per_service: [(&str, &str, &str, Field); 7] = [
            (
                "koschei_engine_passes_total",
                "counter",
                "Passes run, by service.",
                |t| Some(t.passes as f64),
            ),
            (
                "koschei_engine_pass_failures_total",
                "counter",
                "Passes that failed, by service.",
                |t| Some(t.failures as f64),
            ),
            (
                "koschei_engine_pass_seconds_total",
                "counter",
                "Time spent in passes, by service.",
                |t| Some(t.seconds),
            ),
            (
                "koschei_engine_last_pass_seconds",
                "gauge",
                "Duration of the latest pass, by service.",
                |t| Some(t.last_seconds),
            ),
            (
                "koschei_engine_last_success_timestamp_seconds",
                "gauge",
                "When the latest successful pass ended (Unix time), by service.",
                |t| t.last_success_unix,
            ),
            (
                "koschei_engine_solved_total",
                "counter",
                "Resolution requests solved by libsolv, by service.",
                |t| Some(t.solved as f64),
            ),
            (
                "koschei_engine_carried_total",
                "counter",
                "Resolution requests answered by carrying the previous repo's answer over, by service.",
                |t| Some(t.carried as f64),
            ),
        ];
        for (name, kind, help, field) in per_service {
            head(&mut o, name, kind, help);
            for (service, t) in &self.services {
                if let Some(v) = field(t) {
                    let _ = writeln!(o, "{name}{{service=\"{service}\"}} {v}");
                }
            }
        }
        head(
            &mut o,
            "koschei_engine_scheduler_outcomes_total",
            "counter",
            "Scheduler passes by outcome (submitted is one scratch build each).",
        );
        for kind in [
            "submitted",
            "nothing_to_do",
            "at_capacity",
            "koji_busy",
            "locked",
        ] {
            let n = self.scheduler.get(kind).copied().unwrap_or(0);
            let _ = writeln!(
                o,
                "koschei_engine_scheduler_outcomes_total{{outcome=\"{kind}\"}} {n}"
            );
        }
        head(
            &mut o,
            "koschei_engine_errors_total",
            "counter",
            "Failed passes by kind of error (koji, database, resolver).",
        );
        for kind in ["koji", "database", "resolver"] {
            let n = self.errors.get(kind).copied().unwrap_or(0);
            let _ = writeln!(o, "koschei_engine_errors_total{{kind=\"{kind}\"}} {n}");
        }
        for (name, help, v) in [
            (
                "koschei_engine_builds_finished_total",
                "Builds polling saw finish.",
                self.builds_finished,
            ),
            (
                "koschei_engine_real_builds_total",
                "Real builds polling registered.",
                self.real_builds,
            ),
            (
                "koschei_engine_new_repos_total",
                "New repos the repo resolver processed.",
                self.new_repos,
            ),
            (
                "koschei_engine_resolved_packages_total",
                "Package resolutions the repo resolver stored.",
                self.resolved_packages,
            ),
        ] {
            head(&mut o, name, "counter", help);
            let _ = writeln!(o, "{name} {v}");
        }
        o
    }
}
