//! `koschei resolve`: resolve source packages' BuildRequires against a repo.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use koschei_solver::{LoadOptions, Repository, ResolveOptions, read_source_packages, resolve_all};

/// Arguments of `koschei resolve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Binary build repository (rpm-md directory with comps).
    #[arg(long, value_name = "DIR_OR_URL")]
    repo: String,
    /// Source repository (rpm-md of `src` packages; requires = BuildRequires).
    #[arg(long, value_name = "DIR")]
    sources: PathBuf,
    /// Resolve only these source packages (repeatable).
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
    /// Directory for the `.solv` cache (default: a `koschei-solv-cache` directory in the temp dir).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 1e4
}

/// Runs the command; returns the exit code.
pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let started = Instant::now();
    let repo_dir = PathBuf::from(&args.repo);
    let mut options = LoadOptions {
        name: repo_dir
            .file_name()
            .map_or_else(|| "build".to_owned(), |n| n.to_string_lossy().into_owned()),
        arch: args.arch.clone(),
        group: args.group.clone(),
        ..LoadOptions::default()
    };
    if let Some(dir) = &args.cache_dir {
        options.cache_dir = dir.clone();
    }
    let repo = Repository::load(&repo_dir, &options)
        .with_context(|| format!("cannot load repository `{}`", args.repo))?;
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
    let group = repo
        .build_group()
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    let show_bar = std::io::stderr().is_terminal();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut times = Vec::with_capacity(sources.len());
    let mut n_resolved = 0usize;
    let mut write_err: Option<std::io::Error> = None;
    let mut last_bar = Instant::now();
    let solve_start = Instant::now();
    let opts = ResolveOptions {
        ignore_weak_deps: args.ignore_weak_deps,
        ..ResolveOptions::default()
    };
    let stats = resolve_all(&[&repo], &group, &requests, opts, jobs, |r| {
        let src = &sources[r.index];
        let res = &r.resolution;
        times.push(r.solve_time);
        n_resolved += usize::from(res.resolved);
        let line = if args.json {
            serde_json::json!({
                "name": src.name, "evr": src.evr(), "resolved": res.resolved,
                "installs": res.installs, "problems": res.problems,
            })
            .to_string()
        } else if res.resolved {
            format!(
                "{}-{}: resolved ({} packages)",
                src.name,
                src.evr(),
                res.installs.len()
            )
        } else {
            let mut s = format!("{}-{}: UNRESOLVED", src.name, src.evr());
            for p in &res.problems {
                s.push_str("\n    ");
                s.push_str(&p.replace('\n', "\n    "));
            }
            s
        };
        if write_err.is_none()
            && let Err(e) = writeln!(out, "{line}")
        {
            write_err = Some(e);
        }
        if show_bar
            && (last_bar.elapsed() > Duration::from_millis(100) || r.index + 1 == requests.len())
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
    })?;
    if let Some(e) = write_err {
        return Err(e).context("cannot write output");
    }
    let solve_time = solve_start.elapsed();
    times.sort_unstable();
    let mean = if times.is_empty() {
        Duration::ZERO
    } else {
        times.iter().sum::<Duration>() / times.len() as u32
    };
    let p95 = times
        .get((times.len() * 95 / 100).min(times.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default();
    let summary = serde_json::json!({
        "packages": sources.len(),
        "resolved": n_resolved,
        "unresolved": sources.len() - n_resolved,
        "solves": stats.solves,
        "threads": stats.threads,
        "repo_checksum": repo.checksum(),
        "repo_packages": repo.package_count(),
        "repo_from_cache": repo.loaded_from_cache(),
        "repo_load_s": seconds(repo.load_time()),
        "pool_load_s": seconds(stats.pool_load),
        "solve_s": seconds(solve_time),
        "total_s": seconds(started.elapsed()),
        "mean_ms": (mean.as_secs_f64() * 1e6).round() / 1e3,
        "p95_ms": (p95.as_secs_f64() * 1e6).round() / 1e3,
        "ignore_weak_deps": args.ignore_weak_deps,
    });
    if args.json {
        writeln!(out, "{}", serde_json::json!({ "summary": summary }))?;
    } else {
        writeln!(
            out,
            "{} packages: {} resolved, {} unresolved ({} distinct solves on {} threads, {:.2} s; repo loaded in {:.2} s{})",
            sources.len(),
            n_resolved,
            sources.len() - n_resolved,
            stats.solves,
            stats.threads,
            solve_time.as_secs_f64(),
            repo.load_time().as_secs_f64(),
            if repo.loaded_from_cache() {
                " from cache"
            } else {
                ""
            }
        )?;
    }
    out.flush()?;
    Ok(0)
}
