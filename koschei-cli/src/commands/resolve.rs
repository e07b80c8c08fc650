//! `koschei resolve`: resolve source packages' BuildRequires against a repo.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use koschei_solver::{Resolved, States, resolve_all, resolve_incremental};

use super::offline::{PreviousRun, Progress, SolveArgs};

/// Arguments of `koschei resolve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Binary build repository: an rpm-md directory or http(s) URL (with comps for the build
    /// group), or `koji:TAG` (the tag's latest repo; build group from Koji).
    #[arg(long, value_name = "DIR|URL|koji:TAG")]
    repo: String,
    /// With `--previous`: the repository the previous output was made for
    /// (default: the one its summary names).
    #[arg(long, value_name = "DIR|URL|koji:TAG", requires = "previous")]
    old_repo: Option<String>,
    #[command(flatten)]
    solve: SolveArgs,
}

fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 1e4
}

/// Runs the command; returns the exit code.
pub(crate) fn run(config: &koschei_core::Config, args: &Args) -> anyhow::Result<u8> {
    let started = Instant::now();
    let a = &args.solve;
    let mut fetcher = a.fetcher(config);
    let loaded = fetcher.load(&args.repo)?;
    let sources = a.sources(&mut fetcher)?;
    let (repo, group) = (&loaded.repo, &loaded.group);
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();

    // An incremental run needs the previous answers and the old repository.
    let previous = a.previous.as_deref().map(PreviousRun::read).transpose()?;
    let mut incremental = serde_json::Map::new();
    let mut old_state = None;
    if let Some(prev) = &previous {
        incremental.insert("previous".into(), prev.path().display().to_string().into());
        let old_dir = args.old_repo.as_deref().or(prev.repo_dir());
        let fallback = match old_dir {
            None => Some("it names no repository (give --old-repo)".to_owned()),
            Some(dir) => match fetcher.load(dir) {
                Ok(old) => prev.mismatch(&old.repo, a).or_else(|| {
                    old_state = Some(old);
                    None
                }),
                Err(e) => Some(format!("{e:#}")),
            },
        };
        if let Some(why) = fallback {
            tracing::warn!(
                "cannot use previous output `{}`: {why}; resolving everything",
                prev.path().display()
            );
            incremental.insert("fallback".into(), why.into());
        }
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut times = Vec::with_capacity(sources.len());
    let mut n_resolved = 0usize;
    let mut write_err: Option<std::io::Error> = None;
    let mut progress = Progress::new(requests.len());
    let solve_start = Instant::now();
    let on_result = |r: Resolved| {
        let src = &sources[r.index];
        let res = &r.resolution;
        if !r.reused {
            times.push(r.solve_time);
        }
        n_resolved += usize::from(res.resolved);
        let line = if a.json {
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
        progress.update(r.index + 1);
    };
    let stats = match (&previous, &old_state) {
        (Some(prev), Some(old)) => {
            let states = States {
                old: &[&old.repo],
                new: &[repo],
                old_options: a.options(),
                new_options: a.options(),
                old_group: &old.group,
                new_group: group,
            };
            let answers = prev.answers_for(&sources);
            let (plan, stats) =
                resolve_incremental(&states, &requests, &answers, a.jobs(), on_result)?;
            incremental.insert("old_repo_checksum".into(), old.repo.checksum().into());
            incremental.insert("solved_again".into(), plan.solved_again.into());
            incremental.insert("reused".into(), stats.reused.into());
            incremental.insert("reasons".into(), serde_json::json!(plan.reasons));
            incremental.insert("plan_s".into(), seconds(plan.time).into());
            incremental.insert("delta".into(), serde_json::json!(plan.delta));
            stats
        }
        _ => resolve_all(&[repo], group, &requests, a.options(), a.jobs(), on_result)?,
    };
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
    let mut summary = serde_json::json!({
        "packages": sources.len(),
        "resolved": n_resolved,
        "unresolved": sources.len() - n_resolved,
        "solves": stats.solves,
        "threads": stats.threads,
        "repo": loaded.origin.argument(),
        "repo_checksum": repo.checksum(),
        "repo_packages": repo.package_count(),
        "repo_from_cache": repo.loaded_from_cache(),
        "repo_load_s": seconds(repo.load_time()),
        "pool_load_s": seconds(stats.pool_load),
        "solve_s": seconds(solve_time),
        "total_s": seconds(started.elapsed()),
        "mean_ms": (mean.as_secs_f64() * 1e6).round() / 1e3,
        "p95_ms": (p95.as_secs_f64() * 1e6).round() / 1e3,
        "ignore_weak_deps": a.ignore_weak_deps,
        "group": a.group,
        "arch": a.arch,
        "answers_version": koschei_solver::ANSWERS_VERSION,
    });
    if let Some(id) = loaded.origin.koji_repo_id() {
        summary["koji_repo_id"] = id.0.into();
    }
    if previous.is_some() {
        summary["incremental"] = incremental.clone().into();
    }
    if a.json {
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
        if previous.is_some() {
            match incremental.get("fallback") {
                Some(why) => writeln!(
                    out,
                    "previous output not used: {}",
                    why.as_str().unwrap_or("")
                )?,
                None => writeln!(
                    out,
                    "incremental: {} solved again, {} carried over from the previous output",
                    incremental["solved_again"], stats.reused
                )?,
            }
        }
    }
    out.flush()?;
    Ok(0)
}
