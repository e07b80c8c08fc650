//! Benchmark: incremental re-resolution and impact against full runs.
//!
//! ```text
//! cargo bench -p koschei-solver --bench incremental -- \
//!     [--repo DIR] [--sources DIR] [--jobs 2] [--limit N] [--no-impact]
//! ```
//!
//! On ../shared/data/debian-bookworm by default. Makes two deltas of the
//! binary repository with tests/delta.py: (1) seed 1, 0.1 % of the source
//! packages rebuilt (release bump of all their binaries), none that builds a
//! build-group member; (2) seed 1, the source of libc6 rebuilt. For each it
//! runs a full resolve of the new repository and an incremental one from the
//! full answers for the base, checks that they are identical, and reports
//! how many packages were solved again against how many have a changed
//! package in their old install set. Then a full impact run (base -> delta 1)
//! side by side with the full resolve.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use koschei_solver::{
    LoadOptions, Repository, Resolution, ResolveOptions, Resolver, SourcePackage, States,
    read_source_packages, resolve_all, resolve_impact, resolve_incremental, run_batch,
};

struct Args {
    repo: PathBuf,
    sources: PathBuf,
    jobs: usize,
    limit: usize,
    impact: bool,
}

fn parse_args() -> Args {
    let data = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/debian-bookworm"
    ));
    let mut a = Args {
        repo: data.join("binary"),
        sources: data.join("source"),
        jobs: 2,
        limit: 0,
        impact: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--repo" => a.repo = it.next().expect("--repo DIR").into(),
            "--sources" => a.sources = it.next().expect("--sources DIR").into(),
            "--jobs" => a.jobs = it.next().expect("--jobs N").parse().expect("number"),
            "--limit" => a.limit = it.next().expect("--limit N").parse().expect("number"),
            "--no-impact" => a.impact = false,
            "--bench" => {}
            other => panic!("unknown argument `{other}`"),
        }
    }
    a
}

fn load(dir: &Path, cache: &Path) -> (Repository, Duration) {
    let t = Instant::now();
    let repo = Repository::load(
        dir,
        &LoadOptions {
            name: "binary".to_owned(),
            cache_dir: cache.to_owned(),
            ..LoadOptions::default()
        },
    )
    .expect("load repository");
    (repo, t.elapsed())
}

/// A full run: answers and per-request solve times, and the wall time.
fn full(
    repo: &Repository,
    requests: &[Vec<String>],
    jobs: usize,
) -> (Vec<(Resolution, Duration)>, Duration) {
    let group = repo.build_group().unwrap_or_default().to_vec();
    let mut out = Vec::with_capacity(requests.len());
    let t = Instant::now();
    resolve_all(
        &[repo],
        &group,
        requests,
        ResolveOptions::default(),
        jobs,
        |r| {
            out.push((r.resolution, r.solve_time));
        },
    )
    .expect("full run");
    (out, t.elapsed())
}

fn delta(base: &Path, out: &Path, args: &[&str]) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/delta.py");
    let o = Command::new("python3")
        .arg(script)
        .arg("--repo")
        .arg(base)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run tests/delta.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    format!(
        "{} sources rebuilt, {} binaries bumped",
        v["sources_rebuilt"], v["binaries_bumped"]
    )
}

fn s(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let args = parse_args();
    let tmp =
        std::env::temp_dir().join(format!("koschei-bench-incremental-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let cache = tmp.join("cache");
    let (base, base_xml) = load(&args.repo, &cache);
    let mut sources: Vec<SourcePackage> = read_source_packages(&args.sources).expect("sources");
    if args.limit > 0 {
        sources.truncate(args.limit);
    }
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    println!(
        "base: {} packages, {} sources; load from XML {:.2} s",
        base.package_count(),
        sources.len(),
        s(base_xml)
    );
    let (before, t_before) = full(&base, &requests, args.jobs);
    println!("full resolve of the base: {:.1} s", s(t_before));
    let previous: Vec<Option<&Resolution>> = before.iter().map(|(r, _)| Some(r)).collect();
    let base_nevras: HashSet<String> = base
        .package_nevras()
        .expect("packages")
        .into_iter()
        .collect();

    let deltas: [(&str, &[&str]); 2] = [
        (
            "0.1 % rebuild outside the build group (seed 1)",
            &[
                "--seed",
                "1",
                "--rebuild-fraction",
                "0.001",
                "--avoid-build-group",
            ],
        ),
        (
            "libc6 rebuild (seed 1)",
            &["--seed", "1", "--bump", "libc6"],
        ),
    ];
    let mut first_delta = None;
    for (n, (label, dargs)) in deltas.iter().enumerate() {
        let dir = tmp.join(format!("delta-{n}"));
        let what = delta(&args.repo, &dir, dargs);
        let (new, new_xml) = load(&dir, &cache);
        println!("\ndelta {}: {label}: {what}", n + 1);
        let new_nevras: HashSet<String> = new
            .package_nevras()
            .expect("packages")
            .into_iter()
            .collect();
        let gone: HashSet<&String> = base_nevras.difference(&new_nevras).collect();
        let hit = before
            .iter()
            .filter(|(r, _)| r.installs.iter().any(|i| gone.contains(i)))
            .count();
        let (after, t_full) = full(&new, &requests, args.jobs);

        // Incremental from the base's answers; the repos are loaded from
        // their caches, as a later run would find them.
        let t = Instant::now();
        let (base_c, base_load) = load(&args.repo, &cache);
        let (new_c, new_load) = load(&dir, &cache);
        let old_group = base_c.build_group().unwrap_or_default().to_vec();
        let new_group = new_c.build_group().unwrap_or_default().to_vec();
        let states = States {
            old: &[&base_c],
            new: &[&new_c],
            old_options: ResolveOptions::default(),
            new_options: ResolveOptions::default(),
            old_group: &old_group,
            new_group: &new_group,
        };
        let mut answers = Vec::with_capacity(requests.len());
        let mut reused = Vec::with_capacity(requests.len());
        let (plan, stats) = resolve_incremental(&states, &requests, &previous, args.jobs, |r| {
            reused.push(r.reused);
            answers.push(r.resolution);
        })
        .expect("incremental run");
        let t_inc = t.elapsed();
        let differ = answers
            .iter()
            .zip(&after)
            .filter(|(a, (f, _))| *a != f)
            .count();
        // Which ones were solved again: the run marks carried answers.
        let resolved_again: Vec<usize> = reused
            .iter()
            .enumerate()
            .filter(|(_, r)| !**r)
            .map(|(i, _)| i)
            .collect();
        let their_cpu: Duration = resolved_again.iter().map(|&i| after[i].1).sum();
        let their_wall = their_cpu / args.jobs.max(1) as u32;
        let loads = base_load + new_load + stats.pool_load;
        println!("  new repo load from XML        {:8.2} s", s(new_xml));
        println!("  full resolve of the new repo  {:8.1} s", s(t_full));
        println!(
            "  incremental                   {:8.2} s  ({:.1}x faster; plan {:.2} s incl. two pool loads, {} solves on {} threads)",
            s(t_inc),
            s(t_full) / s(t_inc),
            s(plan.time),
            stats.solves,
            stats.threads
        );
        println!(
            "  solved again                  {:8}    of {} ({:?}); carried {}",
            resolved_again.len(),
            requests.len(),
            plan.reasons,
            stats.reused
        );
        println!("  with a changed package in their old install set: {hit}");
        println!(
            "  goal: repo loads + 1.5 x their solve time = {:.2} + 1.5 x {:.2} = {:.2} s",
            s(loads),
            s(their_wall),
            s(loads) + 1.5 * s(their_wall)
        );
        println!("  delta analysis: {:?}", plan.delta);
        println!(
            "  answers differing from the full run: {differ} of {}",
            requests.len()
        );
        if n == 0 {
            first_delta = Some((dir, t_full));
        }
    }

    if args.impact
        && let Some((dir, t_full)) = first_delta
    {
        let (new, _) = load(&dir, &cache);
        let old_group = base.build_group().unwrap_or_default().to_vec();
        let new_group = new.build_group().unwrap_or_default().to_vec();
        let t = Instant::now();
        let mut changed = 0usize;
        run_batch(
            &requests,
            args.jobs,
            || {
                Ok((
                    Resolver::new(&[&base], ResolveOptions::default())?,
                    Resolver::new(&[&new], ResolveOptions::default())?,
                ))
            },
            |(o, n): &mut (Resolver, Resolver), brs: &[String]| {
                resolve_impact(
                    o,
                    n,
                    &old_group,
                    &new_group,
                    brs,
                    &koschei_core::priority::Priorities::default(),
                )
            },
            |r| changed += usize::from(!r.resolution.changes.is_empty()),
        )
        .expect("impact run");
        let t_impact = t.elapsed();
        println!(
            "\nfull impact (base -> delta 1, both repos, all sources): {:.1} s = {:.2}x the full resolve ({:.1} s); {changed} packages with changes",
            s(t_impact),
            s(t_impact) / s(t_full),
            s(t_full)
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
