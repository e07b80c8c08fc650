//! `koschei impact`: what a repository change does to every source package.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use koschei_solver::{
    ImpactStatus, PackageImpact, Repository, Resolution, ResolveOptions, Resolver, States, Verdict,
    package_impact, plan_incremental, resolve_impact, run_batch_carrying,
};

use super::offline::{PreviousRun, Progress, SolveArgs, group_of};

/// Exit code of `--fail-on-breakage` when some package breaks.
pub(crate) const EXIT_BREAKAGE: u8 = 3;

/// Arguments of `koschei impact`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The current build repository (rpm-md directory with comps).
    #[arg(long, value_name = "DIR_OR_URL")]
    old_repo: String,
    /// The changed build repository.
    #[arg(
        long,
        value_name = "DIR_OR_URL",
        required_unless_present = "add_repos",
        conflicts_with = "add_repos"
    )]
    new_repo: Option<String>,
    /// An extra repository (side tag, Copr) added to the old one to make the new state (repeatable).
    #[arg(long = "add-repo", value_name = "DIR_OR_URL")]
    add_repos: Vec<String>,
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

/// Runs the command; returns the exit code.
pub(crate) fn run(config: &koschei_core::Config, args: &Args) -> anyhow::Result<u8> {
    let mut priorities = config.priorities();
    if let Some(p) = args.package_update {
        priorities.package_update = p;
    }
    let started = Instant::now();
    let a = &args.solve;
    let old = a.load(&args.old_repo)?;
    let new_repos: Vec<Repository> = match &args.new_repo {
        Some(dir) => vec![a.load(dir)?],
        None => args
            .add_repos
            .iter()
            .map(|d| a.load(d))
            .collect::<anyhow::Result<_>>()?,
    };
    let new_state: Vec<&Repository> = if args.new_repo.is_some() {
        new_repos.iter().collect()
    } else {
        std::iter::once(&old).chain(new_repos.iter()).collect()
    };
    let load_time = started.elapsed();
    let sources = a.sources()?;
    let old_group = group_of(&old);
    let new_group = group_of(new_state[0]);
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
        if let Some(why) = prev.mismatch(&old, a) {
            tracing::warn!(
                "cannot use previous output `{}`: {why}; solving everything",
                prev.path().display()
            );
            incremental.insert("fallback".into(), why.into());
        } else {
            let answers = prev.answers_for(&sources);
            let states = States {
                old: &[&old],
                new: &new_state,
                old_options: options,
                new_options,
                old_group: &old_group,
                new_group: &new_group,
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
    let mut counts: BTreeMap<ImpactStatus, usize> = BTreeMap::new();
    let mut broken: Vec<(usize, Vec<String>)> = Vec::new();
    let mut changed: Vec<(i64, usize, usize)> = Vec::new();
    let mut write_err = None;
    let mut progress = Progress::new(requests.len());
    let solve_start = Instant::now();
    let stats = run_batch_carrying(
        &requests,
        carried,
        a.jobs(),
        || {
            Ok((
                Resolver::new(&[&old], options)?,
                Resolver::new(&new_state, new_options)?,
            ))
        },
        |(o, n): &mut (Resolver, Resolver), brs: &[String]| match known.get(brs) {
            Some((prev, carried_new)) => {
                let new_res = match carried_new {
                    Some(r) => r.clone(),
                    None => n.resolve(&new_group, brs),
                };
                package_impact((*prev).clone(), new_res, &priorities, |installs| {
                    n.dependency_distances(brs, installs)
                })
            }
            None => resolve_impact(o, n, &old_group, &new_group, brs, &priorities),
        },
        |r| {
            let src = &sources[r.index];
            let i = &r.resolution;
            *counts.entry(i.status).or_default() += 1;
            match i.status {
                ImpactStatus::Broken => broken.push((r.index, i.new.problems.clone())),
                ImpactStatus::Changed => {
                    changed.push((i64::from(i.dependency_priority), r.index, i.changes.len()))
                }
                _ => {}
            }
            if a.json
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
    let count = |s: ImpactStatus| counts.get(&s).copied().unwrap_or(0);
    if a.json {
        let mut summary = serde_json::Map::new();
        summary.insert("packages".into(), sources.len().into());
        for s in ImpactStatus::ALL {
            summary.insert(s.as_str().into(), count(s).into());
        }
        summary.insert("solves".into(), stats.solves.into());
        summary.insert("threads".into(), stats.threads.into());
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
    } else {
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
        if !broken.is_empty() {
            writeln!(out, "\nBroken by the change:")?;
            for (idx, problems) in &broken {
                writeln!(out, "  {}-{}", sources[*idx].name, sources[*idx].evr())?;
                for p in problems {
                    writeln!(out, "      {}", p.replace('\n', "\n      "))?;
                }
            }
        }
        if !changed.is_empty() {
            changed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            writeln!(out, "\nChanged build dependencies, by priority:")?;
            writeln!(out, "  {:>8}  {:>7}  package", "priority", "changes")?;
            for (prio, idx, n) in &changed {
                writeln!(
                    out,
                    "  {prio:>8}  {n:>7}  {}-{}",
                    sources[*idx].name,
                    sources[*idx].evr()
                )?;
            }
        }
    }
    out.flush()?;
    if args.fail_on_breakage && count(ImpactStatus::Broken) > 0 {
        return Ok(EXIT_BREAKAGE);
    }
    Ok(0)
}
