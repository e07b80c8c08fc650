//! Benchmark: resolve every source package of a repository, side by side
//! with python3-hawkey resolving the same packages as Koschei does.
//!
//! ```text
//! cargo bench -p koschei-solver --bench resolve_all -- \
//!     [--repo DIR] [--sources DIR] \
//!     [--limit N] [--jobs 2] [--ignore-weak-deps] [--hawkey] [--out FILE]
//! ```
//!
//! The repositories default to ../shared/data/debian-bookworm (relative to the
//! workspace root). Reports: repository load from XML and from the `.solv` cache, pool load
//! per thread, per-package mean and p95, the total for all sources, peak
//! memory (max RSS); with `--hawkey` the reference script's figures for the
//! same sources and the number of packages whose answers differ.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    unsafe_code
)]

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use koschei_solver::{
    LoadOptions, Repository, ResolveOptions, Resolver, read_source_packages, resolve_all,
};

struct Args {
    repo: PathBuf,
    sources: PathBuf,
    limit: usize,
    jobs: usize,
    ignore_weak_deps: bool,
    hawkey: bool,
    out: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        repo: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/debian-bookworm/binary"
        )),
        sources: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/debian-bookworm/source"
        )),
        limit: 0,
        jobs: 2,
        ignore_weak_deps: false,
        hawkey: false,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--repo" => a.repo = it.next().expect("--repo DIR").into(),
            "--sources" => a.sources = it.next().expect("--sources DIR").into(),
            "--limit" => a.limit = it.next().expect("--limit N").parse().expect("number"),
            "--jobs" => a.jobs = it.next().expect("--jobs N").parse().expect("number"),
            "--ignore-weak-deps" => a.ignore_weak_deps = true,
            "--hawkey" => a.hawkey = true,
            "--out" => a.out = Some(it.next().expect("--out FILE").into()),
            "--bench" => {}
            other => panic!("unknown argument `{other}`"),
        }
    }
    a
}

fn max_rss_mib() -> f64 {
    // SAFETY: rusage is plain data (all-zero is valid); getrusage only
    // writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss as f64 / 1024.0
}

fn digest(resolved: bool, installs: &[String], problems: &[String]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (resolved, installs, problems).hash(&mut h);
    h.finish()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args = parse_args();
    let cache = std::env::temp_dir().join(format!("koschei-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let name = args
        .repo
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let opts = LoadOptions {
        name,
        cache_dir: cache.clone(),
        ..LoadOptions::default()
    };

    let t = Instant::now();
    let repo = Repository::load(&args.repo, &opts).expect("load from XML");
    let load_xml = t.elapsed();
    assert!(!repo.loaded_from_cache());
    let t = Instant::now();
    let repo = Repository::load(&args.repo, &opts).expect("load from cache");
    let load_cache = t.elapsed();
    assert!(repo.loaded_from_cache());
    let mut pool_loads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = Resolver::new(&[&repo], ResolveOptions::default()).expect("pool");
        pool_loads.push(t.elapsed());
        drop(r);
    }
    pool_loads.sort();

    let mut sources = read_source_packages(&args.sources).expect("sources");
    if args.limit > 0 {
        sources.truncate(args.limit);
    }
    let group = repo.build_group().unwrap_or_default().to_vec();
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    let mut times = Vec::new();
    // Only a digest of each answer is kept, so peak memory is the resolver's.
    let mut ours: HashMap<String, u64> = HashMap::new();
    let mut out = args
        .out
        .as_ref()
        .map(|p| std::io::BufWriter::new(std::fs::File::create(p).expect("create --out")));
    let mut resolved = 0usize;
    let options = ResolveOptions {
        ignore_weak_deps: args.ignore_weak_deps,
        ..ResolveOptions::default()
    };
    let t = Instant::now();
    let stats = resolve_all(&[&repo], &group, &requests, options, args.jobs, |r| {
        times.push(r.solve_time);
        resolved += usize::from(r.resolution.resolved);
        let res = r.resolution;
        let src = &sources[r.index];
        ours.insert(
            src.name.clone(),
            digest(res.resolved, &res.installs, &res.problems),
        );
        if let Some(out) = out.as_mut() {
            let line = serde_json::json!({"name": src.name, "evr": src.evr(),
                "resolved": res.resolved, "installs": res.installs, "problems": res.problems});
            writeln!(out, "{line}").expect("write --out");
        }
    })
    .expect("resolve_all");
    let total = t.elapsed();
    let rss = max_rss_mib();
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
    let p95 = times
        .get(times.len() * 95 / 100)
        .copied()
        .unwrap_or_default();
    if let Some(mut out) = out {
        out.flush().expect("write --out");
    }
    println!(
        "koschei-solver: {} sources, {} distinct solves, {} threads",
        sources.len(),
        stats.solves,
        stats.threads
    );
    println!(
        "  repo load from XML      {:9.1} ms (parse, write .solv, reload)",
        ms(load_xml)
    );
    println!(
        "  repo load from cache    {:9.1} ms (repomd + checksums + comps + pool)",
        ms(load_cache)
    );
    println!(
        "  pool load per thread    {:9.1} ms (median of 5)",
        ms(pool_loads[2])
    );
    println!(
        "  per-package solve mean  {:9.2} ms, p95 {:.2} ms",
        ms(mean),
        ms(p95)
    );
    println!(
        "  all sources             {:9.1} s  ({} resolved, {} unresolved)",
        total.as_secs_f64(),
        resolved,
        sources.len() - resolved
    );
    println!("  peak memory (max RSS)   {:9.1} MiB", rss);

    if args.hawkey {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hawkey_reference.py");
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f")
            .arg("%e %M")
            .arg("/usr/bin/python3")
            .arg(script);
        cmd.arg("--repo")
            .arg(&args.repo)
            .arg("--sources")
            .arg(&args.sources);
        if args.limit > 0 {
            cmd.arg("--limit").arg(args.limit.to_string());
        }
        if args.ignore_weak_deps {
            cmd.arg("--ignore-weak-deps");
        }
        let t = Instant::now();
        let out = cmd.output().expect("run hawkey reference");
        let wall = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut differ = 0usize;
        let mut summary = serde_json::Value::Null;
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(s) = v.get("summary") {
                summary = s.clone();
                continue;
            }
            let name = v["name"].as_str().unwrap();
            let strings = |key: &str| -> Vec<String> {
                v[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect()
            };
            let theirs = digest(
                v["resolved"].as_bool().unwrap(),
                &strings("installs"),
                &strings("problems"),
            );
            let same = ours.get(name) == Some(&theirs);
            differ += usize::from(!same);
        }
        let hawkey_solve = summary["solve_s"].as_f64().unwrap_or(f64::NAN);
        println!("python3-hawkey (one process, as Koschei):");
        println!(
            "  repo load from XML      {:9.1} ms",
            summary["load_xml_s"].as_f64().unwrap_or(f64::NAN) * 1000.0
        );
        println!(
            "  repo load from cache    {:9.1} ms",
            summary["load_cache_s"].as_f64().unwrap_or(f64::NAN) * 1000.0
        );
        println!(
            "  per-package solve mean  {:9.2} ms, p95 {:.2} ms",
            summary["mean_ms"], summary["p95_ms"]
        );
        println!(
            "  all sources             {:9.1} s  (process wall {:.1} s)",
            hawkey_solve,
            wall.as_secs_f64()
        );
        println!(
            "  peak memory (max RSS)   {:9.1} MiB",
            summary["max_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0
        );
        println!(
            "comparison: {differ} of {} packages differ; all sources {:.2}x faster",
            sources.len(),
            hawkey_solve / total.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
}
