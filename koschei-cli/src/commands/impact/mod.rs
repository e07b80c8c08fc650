//! `koschei impact`: what a repository change does to every source package, as text, JSON
//! lines or a Markdown report for a CI to post (`markdown.rs`).

mod markdown;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use koschei_solver::{
    DependencyChange, ImpactStatus, PackageImpact, Repository, Resolution, ResolveOptions,
    Resolver, States, Verdict, package_impact, plan_incremental, resolve_impact,
    run_batch_carrying,
};

use super::offline::{PreviousRun, Progress, SolveArgs};
use super::remote::Loaded;

/// Exit code of `--fail-on-breakage` when some package breaks.
pub(crate) const EXIT_BREAKAGE: u8 = 3;

/// How `koschei impact` writes its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Counts, broken packages with their problems, the changed-dependency priority list.
    Text,
    /// One JSON object per source package, then a summary object (as `--json`).
    Json,
    /// A short Markdown report for a CI to post on a pull request.
    Markdown,
}

/// Arguments of `koschei impact`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The current build repository: an rpm-md directory or http(s) URL (with comps), or
    /// `koji:TAG` (the tag's latest repo, side tags included; build group from Koji).
    #[arg(long, value_name = "DIR|URL|koji:TAG")]
    old_repo: String,
    /// The changed build repository (same forms as `--old-repo`).
    #[arg(
        long,
        value_name = "DIR|URL|koji:TAG",
        required_unless_present = "add_repos",
        conflicts_with = "add_repos"
    )]
    new_repo: Option<String>,
    /// An extra repository (side tag, Copr chroot URL) added to the old one to make the new
    /// state (repeatable).
    #[arg(long = "add-repo", value_name = "DIR|URL|koji:TAG")]
    add_repos: Vec<String>,
    /// Output format (`--json` is `--format json`).
    #[arg(long, value_enum, conflicts_with = "json")]
    format: Option<Format>,
    /// Keep only the highest EVR of each name across the new state's repositories.
    #[arg(long, requires = "add_repos")]
    override_by_exclusion: bool,
    /// Exit with code 3 when any package is broken by the change.
    #[arg(long)]
    fail_on_breakage: bool,
    /// Priority weight of one changed dependency; overrides `[priorities] package_update` of
    /// the configuration (256 by default, as the original).
    #[arg(long, value_name = "N")]
    package_update: Option<i32>,
    #[command(flatten)]
    solve: SolveArgs,
}

fn json_line(name: &str, evr: &str, i: &PackageImpact) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "evr": evr,
        "status": i.status.as_str(),
        "old": {"resolved": i.old.resolved, "problems": i.old.problems},
        "new": {"resolved": i.new.resolved, "problems": i.new.problems},
        "changes": i.changes,
        "dependency_priority": i.dependency_priority,
    })
}

/// What a run found, for the text and Markdown reports.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// Packages per status.
    pub(crate) counts: BTreeMap<ImpactStatus, usize>,
    /// Broken packages (source index) with their problems in the new state.
    pub(crate) broken: Vec<(usize, Vec<String>)>,
    /// Packages the change fixes (source index).
    pub(crate) fixed: Vec<usize>,
    /// Changed packages: priority, source index, dependency changes; highest priority first
    /// once sorted.
    pub(crate) changed: Vec<(i64, usize, Vec<DependencyChange>)>,
}

impl Findings {
    pub(crate) fn count(&self, s: ImpactStatus) -> usize {
        self.counts.get(&s).copied().unwrap_or(0)
    }

    fn record(&mut self, index: usize, i: &PackageImpact) {
        *self.counts.entry(i.status).or_default() += 1;
        match i.status {
            ImpactStatus::Broken => self.broken.push((index, i.new.problems.clone())),
            ImpactStatus::Fixed => self.fixed.push(index),
            ImpactStatus::Changed => {
                self.changed
                    .push((i64::from(i.dependency_priority), index, i.changes.clone()));
            }
            _ => {}
        }
    }

    fn sort(&mut self) {
        self.broken.sort_by_key(|(i, _)| *i);
        self.fixed.sort_unstable();
        self.changed
            .sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    }
}

/// Runs the command; returns the exit code.
pub(crate) fn run(config: &koschei_core::Config, args: &Args) -> anyhow::Result<u8> {
    let mut priorities = config.priorities();
    if let Some(p) = args.package_update {
        priorities.package_update = p;
    }
    let format = if args.solve.json {
        Format::Json
    } else {
        args.format.unwrap_or(Format::Text)
    };
    let started = Instant::now();
    let a = &args.solve;
    // Every repository and the sources are fetched and verified before anything is written:
    // an unreachable or corrupt one is an error, never a partial report.
    let mut fetcher = a.fetcher(config);
    let old_loaded = fetcher.load(&args.old_repo)?;
    let new_loaded: Vec<Loaded> = match &args.new_repo {
        Some(arg) => vec![fetcher.load(arg)?],
        None => args
            .add_repos
            .iter()
            .map(|arg| fetcher.load(arg))
            .collect::<anyhow::Result<_>>()?,
    };
    let old = &old_loaded.repo;
    let new_state: Vec<&Repository> = if args.new_repo.is_some() {
        new_loaded.iter().map(|l| &l.repo).collect()
    } else {
        std::iter::once(old)
            .chain(new_loaded.iter().map(|l| &l.repo))
            .collect()
    };
    let load_time = started.elapsed();
    let sources = a.sources(&mut fetcher)?;
    let old_group = &old_loaded.group;
    let new_group = match &args.new_repo {
        Some(_) => &new_loaded[0].group,
        None => old_group,
    };
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    let options = a.options();
    let new_options = ResolveOptions {
        override_by_exclusion: args.override_by_exclusion,
        ..options
    };

    // With a usable previous output, only affected packages are solved;
    // the others are unchanged by construction.
    let previous = a.previous.as_deref().map(PreviousRun::read).transpose()?;
    let mut incremental = serde_json::Map::new();
    let mut carried: Vec<Option<PackageImpact>> = requests.iter().map(|_| None).collect();
    let mut known: HashMap<&[String], (&Resolution, Option<Resolution>)> = HashMap::new();
    if let Some(prev) = &previous {
        incremental.insert("previous".into(), prev.path().display().to_string().into());
        if let Some(why) = prev.mismatch(old, a) {
            tracing::warn!(
                "cannot use previous output `{}`: {why}; solving everything",
                prev.path().display()
            );
            incremental.insert("fallback".into(), why.into());
        } else {
            let answers = prev.answers_for(&sources);
            let states = States {
                old: &[old],
                new: &new_state,
                old_options: options,
                new_options,
                old_group,
                new_group,
            };
            let plan = plan_incremental(&states, &requests, &answers)?;
            for (i, (answer, verdict)) in answers.iter().zip(&plan.verdicts).enumerate() {
                let (Some(prev), Verdict::Carried(new_answer)) = (answer, verdict) else {
                    if let Some(prev) = answer {
                        known.insert(requests[i].as_slice(), (prev, None));
                    }
                    continue;
                };
                if *prev == new_answer {
                    let same = (*prev).clone();
                    carried[i] = Some(package_impact(same.clone(), same, &priorities, |_| {
                        HashMap::new()
                    }));
                } else {
                    // Carried through successor builds: the changes need
                    // distances, which a worker computes.
                    known.insert(requests[i].as_slice(), (prev, Some(new_answer.clone())));
                }
            }
            incremental.insert("solved_again".into(), plan.to_solve().into());
            incremental.insert("reasons".into(), serde_json::json!(plan.reasons()));
            incremental.insert("plan_s".into(), plan.time.as_secs_f64().into());
            incremental.insert("delta".into(), serde_json::json!(plan.delta));
        }
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut findings = Findings::default();
    let mut write_err = None;
    let mut progress = Progress::new(requests.len());
    let solve_start = Instant::now();
    let stats = run_batch_carrying(
        &requests,
        carried,
        a.jobs(),
        || {
            Ok((
                Resolver::new(&[old], options)?,
                Resolver::new(&new_state, new_options)?,
            ))
        },
        |(o, n): &mut (Resolver, Resolver), brs: &[String]| match known.get(brs) {
            Some((prev, carried_new)) => {
                let new_res = match carried_new {
                    Some(r) => r.clone(),
                    None => n.resolve(new_group, brs),
                };
                package_impact((*prev).clone(), new_res, &priorities, |installs| {
                    n.dependency_distances(brs, installs)
                })
            }
            None => resolve_impact(o, n, old_group, new_group, brs, &priorities),
        },
        |r| {
            let src = &sources[r.index];
            let i = &r.resolution;
            findings.record(r.index, i);
            if format == Format::Json
                && write_err.is_none()
                && let Err(e) = writeln!(out, "{}", json_line(&src.name, &src.evr(), i))
            {
                write_err = Some(e);
            }
            progress.update(r.index + 1);
        },
    )?;
    if let Some(e) = write_err {
        return Err(e).context("cannot write output");
    }
    findings.sort();
    let count = |s: ImpactStatus| findings.count(s);
    match format {
        Format::Json => {
            let mut summary = serde_json::Map::new();
            summary.insert("packages".into(), sources.len().into());
            for s in ImpactStatus::ALL {
                summary.insert(s.as_str().into(), count(s).into());
            }
            summary.insert("solves".into(), stats.solves.into());
            summary.insert("threads".into(), stats.threads.into());
            summary.insert("old_repo".into(), old_loaded.origin.label().into());
            summary.insert(
                "new_repos".into(),
                new_loaded
                    .iter()
                    .map(|l| l.origin.label())
                    .collect::<Vec<_>>()
                    .into(),
            );
            summary.insert("sources".into(), a.sources.clone().into());
            summary.insert("old_repo_checksum".into(), old.checksum().into());
            summary.insert(
                "new_repo_checksums".into(),
                new_state
                    .iter()
                    .map(|r| r.checksum())
                    .collect::<Vec<_>>()
                    .into(),
            );
            summary.insert("repo_load_s".into(), load_time.as_secs_f64().into());
            summary.insert("solve_s".into(), solve_start.elapsed().as_secs_f64().into());
            summary.insert("total_s".into(), started.elapsed().as_secs_f64().into());
            if previous.is_some() {
                summary.insert("incremental".into(), incremental.into());
            }
            writeln!(out, "{}", serde_json::json!({ "summary": summary }))?;
        }
        Format::Markdown => {
            let report = markdown::Report {
                old: old_loaded.origin.label(),
                new: new_loaded.iter().map(|l| l.origin.label()).collect(),
                added: args.new_repo.is_none(),
                sources_arg: &a.sources,
                sources: &sources,
                findings: &findings,
            };
            write!(out, "{}", markdown::render(&report))?;
        }
        Format::Text => {
            writeln!(
                out,
                "{} packages: {} broken, {} fixed, {} changed, {} unchanged, {} still broken ({:.1} s)",
                sources.len(),
                count(ImpactStatus::Broken),
                count(ImpactStatus::Fixed),
                count(ImpactStatus::Changed),
                count(ImpactStatus::Unchanged),
                count(ImpactStatus::StillBroken),
                started.elapsed().as_secs_f64()
            )?;
            if !findings.broken.is_empty() {
                writeln!(out, "\nBroken by the change:")?;
                for (idx, problems) in &findings.broken {
                    writeln!(out, "  {}-{}", sources[*idx].name, sources[*idx].evr())?;
                    for p in problems {
                        writeln!(out, "      {}", p.replace('\n', "\n      "))?;
                    }
                }
            }
            if !findings.changed.is_empty() {
                writeln!(out, "\nChanged build dependencies, by priority:")?;
                writeln!(out, "  {:>8}  {:>7}  package", "priority", "changes")?;
                for (prio, idx, changes) in &findings.changed {
                    writeln!(
                        out,
                        "  {prio:>8}  {:>7}  {}-{}",
                        changes.len(),
                        sources[*idx].name,
                        sources[*idx].evr()
                    )?;
                }
            }
        }
    }
    out.flush()?;
    if args.fail_on_breakage && count(ImpactStatus::Broken) > 0 {
        return Ok(EXIT_BREAKAGE);
    }
    Ok(0)
}
