//! `koschei impact`: what a repository change does to every source package.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use koschei_solver::{
    ImpactStatus, LoadOptions, PackageImpact, Repository, ResolveOptions, Resolver,
    read_source_packages, resolve_impact, run_batch,
};

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
    /// Source repository (rpm-md of `src` packages; requires = BuildRequires).
    #[arg(long, value_name = "DIR")]
    sources: PathBuf,
    /// Only these source packages (repeatable).
    #[arg(long = "package", value_name = "NAME")]
    packages: Vec<String>,
    /// Comps group used as the build group.
    #[arg(long, default_value = "build")]
    group: String,
    /// Architecture to resolve for.
    #[arg(long, default_value = "x86_64")]
    arch: String,
    /// Ignore weak dependencies (Recommends, Supplements).
    #[arg(long)]
    ignore_weak_deps: bool,
    /// Worker threads (default: available cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// One JSON object per source package, then a summary object.
    #[arg(long)]
    json: bool,
    /// Exit with code 3 when any package is broken by the change.
    #[arg(long)]
    fail_on_breakage: bool,
    /// Priority weight of one changed dependency (Koschei's `priorities.package_update`).
    #[arg(long, default_value_t = 256.0)]
    package_update: f64,
    /// Directory for the `.solv` cache.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

fn load(dir: &str, args: &Args) -> anyhow::Result<Repository> {
    let path = PathBuf::from(dir);
    let mut options = LoadOptions {
        name: path
            .file_name()
            .map_or_else(|| "build".to_owned(), |n| n.to_string_lossy().into_owned()),
        arch: args.arch.clone(),
        group: args.group.clone(),
        ..LoadOptions::default()
    };
    if let Some(c) = &args.cache_dir {
        options.cache_dir = c.clone();
    }
    Repository::load(&path, &options).with_context(|| format!("cannot load repository `{dir}`"))
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
pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let started = Instant::now();
    let old = load(&args.old_repo, args)?;
    let new_repos: Vec<Repository> = match &args.new_repo {
        Some(dir) => vec![load(dir, args)?],
        None => args
            .add_repos
            .iter()
            .map(|d| load(d, args))
            .collect::<anyhow::Result<_>>()?,
    };
    let new_state: Vec<&Repository> = if args.new_repo.is_some() {
        new_repos.iter().collect()
    } else {
        std::iter::once(&old).chain(new_repos.iter()).collect()
    };
    let load_time = started.elapsed();
    let mut sources = read_source_packages(&args.sources).with_context(|| {
        format!(
            "cannot read source packages from `{}`",
            args.sources.display()
        )
    })?;
    if !args.packages.is_empty() {
        for wanted in &args.packages {
            anyhow::ensure!(
                sources.iter().any(|s| &s.name == wanted),
                "no source package `{wanted}` in `{}`",
                args.sources.display()
            );
        }
        sources.retain(|s| args.packages.contains(&s.name));
    }
    let old_group = old
        .build_group()
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let new_group = new_state[0]
        .build_group()
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    let options = ResolveOptions {
        ignore_weak_deps: args.ignore_weak_deps,
        override_by_exclusion: false,
    };
    let new_options = ResolveOptions {
        override_by_exclusion: args.override_by_exclusion,
        ..options
    };
    let show_bar = std::io::stderr().is_terminal();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut counts: BTreeMap<ImpactStatus, usize> = BTreeMap::new();
    let mut broken: Vec<(usize, Vec<String>)> = Vec::new();
    let mut changed: Vec<(i64, usize, usize)> = Vec::new();
    let mut write_err = None;
    let mut last_bar = Instant::now();
    let solve_start = Instant::now();
    let stats = run_batch(
        &requests,
        jobs,
        || {
            Ok((
                Resolver::new(&[&old], options)?,
                Resolver::new(&new_state, new_options)?,
            ))
        },
        |(o, n): &mut (Resolver, Resolver), brs: &[String]| {
            resolve_impact(o, n, &old_group, &new_group, brs, args.package_update)
        },
        |r| {
            let src = &sources[r.index];
            let i = &r.resolution;
            *counts.entry(i.status).or_default() += 1;
            match i.status {
                ImpactStatus::Broken => broken.push((r.index, i.new.problems.clone())),
                ImpactStatus::Changed => {
                    changed.push((i.dependency_priority, r.index, i.changes.len()))
                }
                _ => {}
            }
            if args.json
                && write_err.is_none()
                && let Err(e) = writeln!(out, "{}", json_line(&src.name, &src.evr(), i))
            {
                write_err = Some(e);
            }
            if show_bar
                && (last_bar.elapsed() > Duration::from_millis(100)
                    || r.index + 1 == requests.len())
            {
                last_bar = Instant::now();
                let done = r.index + 1;
                let width = 40 * done / requests.len().max(1);
                eprint!(
                    "\r[{}{}] {done}/{}",
                    "#".repeat(width),
                    " ".repeat(40 - width),
                    requests.len()
                );
                if done == requests.len() {
                    eprintln!();
                }
            }
        },
    )?;
    if let Some(e) = write_err {
        return Err(e).context("cannot write output");
    }
    let count = |s: ImpactStatus| counts.get(&s).copied().unwrap_or(0);
    if args.json {
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
