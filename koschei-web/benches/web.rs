//! Load benchmark of koschei-web: seeds one collection with the 34,288 Debian bookworm
//! source packages (names and EVRs from `../shared/data/debian-bookworm/source/repodata`)
//! and a realistic history (builds, Koji tasks, dependency changes, resolution changes,
//! groups) into a fresh database with every migration applied, starts the server on
//! loopback and runs `wrk` against the package list (page 1, random pages 1-300, page 200,
//! by priority), package pages (one, random names), `/api/v1/packages?name=` (one, random
//! names) and the whole `/api/v1/packages`, with the response cache on (1 s) and off.
//!
//! Run: `cargo bench -p koschei-web --bench web` (needs PostgreSQL at
//! `KOSCHEI_TEST_DATABASE_URL`, default `postgresql://postgres@127.0.0.1:5432/postgres`, and
//! Debian's `wrk`). Environment: `BENCH_DURATION` (seconds per target, default 10),
//! `BENCH_CONNECTIONS` (default 16), `BENCH_WORKERS` (server threads, default 8),
//! `BENCH_CACHE_MS` (the cache lifetimes to run, default `1000,0`), `BENCH_ONLY` (run only
//! the targets whose names contain one of these comma-separated words), `BENCH_DB` (use
//! and keep this database, seeding it only when it does not exist yet; the migrations are
//! applied either way), `BENCH_KEEP=1` (keep the fresh database), `BENCH_VERBOSE=1` (print
//! wrk's whole output).
//!
//! Besides wrk's figures, each row gives the CPU milliseconds per request used by the server
//! (this process) and by the PostgreSQL backends serving it (`/proc/<pid>/stat`): on a
//! machine shared with other work, throughput depends on what else runs, CPU per request
//! much less (two idle cores serve about `2000 / (web ms + db ms)` requests a second, less
//! what `wrk` itself takes).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::disallowed_methods,
    reason = "benchmark binary: prints results, reads its settings from the environment, fails fast"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use koschei_core::model::Evr;
use postgres::{Client, NoTls};
use quick_xml::Reader;
use quick_xml::events::Event;
use r2d2_postgres::PostgresConnectionManager;

const PRIMARY: &str = "../shared/data/debian-bookworm/source/repodata/primary.xml.gz";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `(name, epoch, version, release)` of every source package.
fn read_packages(path: &Path) -> Vec<(String, i32, String, String)> {
    let file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut xml = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut xml)
        .unwrap();
    let mut reader = Reader::from_str(&xml);
    let mut out = Vec::new();
    let mut in_name = false;
    let mut name = String::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == b"name" => in_name = true,
            Event::Text(t) if in_name => {
                name = String::from_utf8_lossy(t.as_ref()).into_owned();
            }
            Event::End(e) if e.name().as_ref() == b"name" => in_name = false,
            Event::Empty(e) if e.name().as_ref() == b"version" => {
                let mut epoch = 0;
                let (mut ver, mut rel) = (String::new(), String::new());
                for a in e.attributes().flatten() {
                    let v = String::from_utf8_lossy(&a.value).into_owned();
                    match a.key.as_ref() {
                        b"epoch" => epoch = v.parse().unwrap_or(0),
                        b"ver" => ver = v,
                        b"rel" => rel = v,
                        _ => {}
                    }
                }
                if rel.is_empty() {
                    rel = "0".into();
                }
                out.push((std::mem::take(&mut name), epoch, ver, rel));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn seed(c: &mut Client, pkgs: &[(String, i32, String, String)]) {
    let names: Vec<&str> = pkgs.iter().map(|p| p.0.as_str()).collect();
    let epochs: Vec<i32> = pkgs.iter().map(|p| p.1).collect();
    let versions: Vec<&str> = pkgs.iter().map(|p| p.2.as_str()).collect();
    let releases: Vec<&str> = pkgs.iter().map(|p| p.3.as_str()).collect();
    c.batch_execute(
        "INSERT INTO collection (id, name, display_name, target, dest_tag, build_tag,
                                 latest_repo_id, latest_repo_resolved)
         VALUES (1, 'bookworm', 'Debian bookworm', 'bookworm', 'bookworm', 'bookworm-build', 1000, true);
         CREATE TEMP TABLE src (name text, epoch int, version text, release text, h int);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO src SELECT n, e, v, r, abs(hashtext(n))
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS s(n, e, v, r)",
        &[&names, &epochs, &versions, &releases],
    )
    .unwrap();
    // Dependencies: two EVRs of a binary package named after every 8th source package.
    let mut dnames = Vec::new();
    let mut depochs: Vec<Option<i32>> = Vec::new();
    let mut dvers = Vec::new();
    let mut drels = Vec::new();
    let mut dkeys = Vec::new();
    for (name, epoch, ver, rel) in pkgs.iter().step_by(8) {
        for r in [format!("{rel}~old"), rel.clone()] {
            let e = Evr::new(Some(*epoch), ver.clone(), r);
            dnames.push(format!("lib{name}"));
            depochs.push(e.epoch);
            dvers.push(e.version.clone());
            dkeys.push(e.sort_key());
            drels.push(e.release);
        }
    }
    c.execute(
        "INSERT INTO dependency (name, epoch, version, release, arch, evr_key)
         SELECT n, e, v, r, 'x86_64', k
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bytea[]) AS s(n, e, v, r, k)",
        &[&dnames, &depochs, &dvers, &drels, &dkeys],
    )
    .unwrap();
    c.batch_execute(
        "SET session_replication_role = replica;
         INSERT INTO base_package (name) SELECT name FROM src ORDER BY name;
         INSERT INTO package (base_id, name, collection_id, tracked, blocked, resolved,
                              dependency_priority, manual_priority, static_priority)
         SELECT b.id, b.name, 1, s.h % 50 <> 0, s.h % 97 = 0,
                CASE WHEN s.h % 23 = 0 THEN false WHEN s.h % 41 = 0 THEN NULL ELSE true END,
                (s.h % 7) * 32, CASE WHEN s.h % 101 = 0 THEN 1000 ELSE 0 END, 0
         FROM base_package b JOIN src s ON s.name = b.name;
         -- 1 to 5 builds per package, a few days apart; the newest may still run.
         INSERT INTO build (package_id, state, task_id, started, finished, epoch, version, release,
                            repo_id, deps_resolved, real)
         SELECT p.id,
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN 2
                     WHEN (s.h + g.i) % 9 = 0 THEN 5 ELSE 3 END,
                40000000 + p.id * 8 + g.i,
                now() - ((g.n - g.i) * 3 + (s.h % 72) / 24.0) * interval '1 day' - interval '1 hour',
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN NULL
                     ELSE now() - ((g.n - g.i) * 3 + (s.h % 72) / 24.0) * interval '1 day'
                          - interval '20 min' END,
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN NULL ELSE nullif(s.epoch, 0) END,
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN NULL ELSE s.version END,
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN NULL ELSE s.release || '.' || g.i END,
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN NULL ELSE 900 + g.i END,
                CASE WHEN g.i = g.n AND s.h % 31 = 0 THEN NULL ELSE true END,
                g.i = 1 AND g.n > 1 AND s.h % 5 = 0
         FROM package p JOIN src s ON s.name = p.name
         CROSS JOIN LATERAL (SELECT i, 1 + s.h % 5 AS n FROM generate_series(1, 1 + s.h % 5) i) g;
         INSERT INTO koji_task (build_id, task_id, arch, state, started, finished)
         SELECT b.id, b.task_id * 4 + a.k, a.arch, CASE WHEN b.state = 2 THEN 1 WHEN b.state = 5 AND a.k = 1 THEN 5 ELSE 2 END,
                b.started + interval '1 min', b.finished - interval '1 min'
         FROM build b CROSS JOIN (VALUES (1, 'x86_64'), (2, 'i386')) AS a(k, arch);
         INSERT INTO applied_change (build_id, prev_dep_id, curr_dep_id, distance)
         SELECT b.id, d.id, d.id + 1, 1 + (b.id % 3)
         FROM build b JOIN dependency d ON d.id = 1 + 2 * (b.id % 2000)
         WHERE b.state <> 2;
         INSERT INTO unapplied_change (package_id, prev_dep_id, curr_dep_id, distance)
         SELECT p.id, d.id, d.id + 1, CASE WHEN p.id % 3 = 0 THEN NULL ELSE 1 + p.id % 4 END
         FROM package p JOIN dependency d ON d.id = 1 + 2 * (p.id % 2000) WHERE p.id % 4 = 0;
         INSERT INTO resolution_change (package_id, resolved, \"timestamp\")
         SELECT p.id, p.resolved, now() - interval '2 days' FROM package p WHERE p.resolved IS NOT NULL AND p.id % 3 = 0;
         INSERT INTO resolution_problem (resolution_id, problem)
         SELECT rc.id, 'nothing provides libfoo' || rc.package_id || ' needed by ' || p.name
         FROM resolution_change rc JOIN package p ON p.id = rc.package_id WHERE NOT rc.resolved;
         INSERT INTO package_group (namespace, name) SELECT NULL, 'group' || i FROM generate_series(1, 20) i;
         INSERT INTO package_group_relation (group_id, base_id)
         SELECT 1 + b.id % 20, b.id FROM base_package b WHERE b.id % 17 = 0;
         UPDATE package p SET last_build_id = lb.id
         FROM (SELECT DISTINCT ON (package_id) package_id, id FROM build
               ORDER BY package_id, started DESC, id DESC) lb
         WHERE lb.package_id = p.id;
         UPDATE package p SET last_complete_build_id = x.id, last_complete_build_state = x.state
         FROM (SELECT DISTINCT ON (package_id) package_id, id, state FROM build WHERE state IN (3, 5)
               ORDER BY package_id, started DESC, id DESC) x
         WHERE x.package_id = p.id;
         UPDATE build SET last_complete = true
         WHERE id IN (SELECT last_complete_build_id FROM package WHERE last_complete_build_id IS NOT NULL);
         -- The triggers were off: count the listed packages as they would have (schemas
         -- before migration 7 have no counts).
         DO $$ BEGIN
             IF to_regclass('package_count') IS NOT NULL THEN
                 INSERT INTO package_count (collection_id, tracked, untracked)
                 SELECT collection_id, count(*) FILTER (WHERE tracked),
                        count(*) FILTER (WHERE NOT tracked)
                 FROM package WHERE NOT blocked GROUP BY collection_id
                 ON CONFLICT (collection_id) DO UPDATE
                     SET tracked = EXCLUDED.tracked, untracked = EXCLUDED.untracked;
             END IF;
         END $$;
         SET session_replication_role = DEFAULT;
         REFRESH MATERIALIZED VIEW scalar_stats;
         REFRESH MATERIALIZED VIEW resource_consumption_stats;",
    )
    .unwrap();
    c.batch_execute("VACUUM ANALYZE").unwrap();
}

struct WrkResult {
    p50: String,
    p99: String,
    rps: String,
    non2xx: String,
    errors: String,
    requests: u64,
}

/// CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`; `None` when it
/// is gone.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // Linux's USER_HZ, in which `/proc` counts, is 100 on every architecture.
    let hz = 100.0;
    Some(ticks / hz)
}

/// The CPU seconds used so far by this process (the server's threads) and by the database
/// backends serving `db`.
fn cpu_now(admin: &mut Client, db: &str) -> (f64, Vec<(String, f64)>) {
    let own = cpu_seconds("self").unwrap_or(0.0);
    let pids: Vec<String> = admin
        .query(
            "SELECT pid::text AS pid FROM pg_stat_activity WHERE datname = $1",
            &[&db],
        )
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>("pid"))
        .collect();
    let backends = pids
        .into_iter()
        .filter_map(|p| cpu_seconds(&p).map(|c| (p, c)))
        .collect();
    (own, backends)
}

/// CPU milliseconds per request of the server and of the database between two readings.
fn cpu_per_request(
    before: &(f64, Vec<(String, f64)>),
    after: &(f64, Vec<(String, f64)>),
    requests: u64,
) -> (f64, f64) {
    let n = requests.max(1) as f64;
    let web = (after.0 - before.0) * 1000.0 / n;
    let db: f64 = after
        .1
        .iter()
        .map(|(pid, c)| {
            let start = before
                .1
                .iter()
                .find(|(p, _)| p == pid)
                .map_or(0.0, |(_, s)| *s);
            c - start
        })
        .sum();
    (web, db * 1000.0 / n)
}

/// A wrk script that requests `/packages?page=N` for random N in 1..=300.
const RANDOM_PAGES: &str = r#"
math.randomseed(42)
request = function()
  return wrk.format("GET", "/packages?page=" .. math.random(1, 300))
end
"#;

/// A wrk script requesting `PREFIX .. name` for names read from `FILE` (one a line,
/// already percent-encoded), chosen at random.
const RANDOM_NAMES: &str = r#"
local names = {}
for line in io.lines("FILE") do names[#names + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "PREFIX" .. names[math.random(#names)])
end
"#;

/// `s` with every byte but ASCII letters, digits and `-_.~` percent-encoded.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn wrk(url: &str, secs: &str, conns: &str, script: Option<&Path>) -> WrkResult {
    let mut args = vec![
        "-t2".to_owned(),
        format!("-c{conns}"),
        format!("-d{secs}s"),
        "--latency".to_owned(),
    ];
    if let Some(script) = script {
        args.push("-s".to_owned());
        args.push(script.display().to_string());
    }
    args.push(url.to_owned());
    let out = Command::new("wrk")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run wrk ({e}); apt-get install -y wrk"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if env_or("BENCH_VERBOSE", "") == "1" {
        eprintln!("{text}");
    }
    let field = |prefix: &str| -> String {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let non2xx = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Non-2xx"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or("0")
        .to_owned();
    // `Socket errors: connect 0, read 0, write 0, timeout 3`: the sum.
    let errors = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Socket errors:"))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>()
                .to_string()
        })
        .unwrap_or_else(|| "0".to_owned());
    // `12345 requests in 10.00s, 1.23GB read`
    let requests = text
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    WrkResult {
        p50: field("50%"),
        p99: field("99%"),
        rps: field("Requests/sec:"),
        non2xx,
        errors,
        requests,
    }
}

/// What the load generator requests: a fixed target, or one drawn per request.
enum Load {
    Fixed(String),
    /// Drawn by this wrk script; the first request checked is the given target.
    Script(String, PathBuf),
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let secs = env_or("BENCH_DURATION", "10");
    let conns = env_or("BENCH_CONNECTIONS", "16");
    let workers: usize = env_or("BENCH_WORKERS", "8").parse().unwrap();
    let only = env_or("BENCH_ONLY", "");
    let caches: Vec<u64> = env_or("BENCH_CACHE_MS", "1000,0")
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    let admin_url = env_or(
        "KOSCHEI_TEST_DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/postgres",
    );

    let primary = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(PRIMARY);
    let t = Instant::now();
    let pkgs = read_packages(&primary);
    eprintln!("read {} source packages in {:.1?}", pkgs.len(), t.elapsed());

    let admin: postgres::Config = admin_url.parse().unwrap();
    // `BENCH_DB=name`: use (and keep) that database, seeding it only when it is new; the
    // migrations are applied either way, so a database seeded by an older build is brought
    // to the current schema as `koschei db migrate` would.
    let reuse = env_or("BENCH_DB", "");
    let dbname = if reuse.is_empty() {
        format!("koschei_web_bench_{}", std::process::id())
    } else {
        reuse.clone()
    };
    let mut ac = admin.connect(NoTls).unwrap();
    let exists = ac
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&dbname])
        .unwrap()
        .is_some();
    if !exists {
        ac.batch_execute(&format!("CREATE DATABASE {dbname}"))
            .unwrap();
    }
    let _drop = DropDb {
        admin: admin.clone(),
        name: dbname.clone(),
        keep: env_or("BENCH_KEEP", "") == "1" || !reuse.is_empty(),
    };
    let mut config = admin.clone();
    config.dbname(&dbname);
    let t = Instant::now();
    {
        let mut c = config.connect(NoTls).unwrap();
        let applied = koschei_core::db::migrate::migrate(&mut c).unwrap();
        if exists {
            eprintln!("reusing database {dbname}; applied migrations {applied:?}");
            if !applied.is_empty() {
                // As after `koschei db migrate` on a large database (docs/schema.md).
                c.batch_execute("VACUUM ANALYZE").unwrap();
            }
        } else {
            seed(&mut c, &pkgs);
        }
        let row = c
            .query_one(
                "SELECT (SELECT count(*) FROM package), (SELECT count(*) FROM build),
                        (SELECT count(*) FROM koji_task), (SELECT count(*) FROM applied_change)",
                &[],
            )
            .unwrap();
        eprintln!(
            "{} {} packages, {} builds, {} tasks, {} applied changes in {:.1?}",
            if exists { "found" } else { "seeded" },
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2),
            row.get::<_, i64>(3),
            t.elapsed()
        );
    }

    // Request log lines are formatted as in production, then discarded.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::sink)
        .try_init();
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    let script = |name: &str, text: &str| -> PathBuf {
        let path = tmp.join(format!("koschei-web-bench-{pid}-{name}.lua"));
        std::fs::write(&path, text).unwrap();
        path
    };
    let names_path = tmp.join(format!("koschei-web-bench-{pid}-names.txt"));
    let encoded: Vec<String> = pkgs.iter().map(|p| percent_encode(&p.0)).collect();
    std::fs::write(&names_path, encoded.join("\n") + "\n").unwrap();
    let names_script = |prefix: &str| -> String {
        RANDOM_NAMES
            .replace("FILE", &names_path.display().to_string())
            .replace("PREFIX", prefix)
    };
    let pages_script = script("pages", RANDOM_PAGES);
    let detail_script = script("detail", &names_script("/package/"));
    let api_name_script = script("api-name", &names_script("/api/v1/packages?name="));
    let detail_pkg = "python3.11";
    let targets = [
        ("package list (page 1)", Load::Fixed("/packages".to_owned())),
        (
            "package list (pages 1-300)",
            Load::Script("/packages?page=300".to_owned(), pages_script.clone()),
        ),
        (
            "package list (page 200)",
            Load::Fixed("/packages?page=200".to_owned()),
        ),
        (
            "package list by priority",
            Load::Fixed("/packages?order_by=-current_priority".to_owned()),
        ),
        (
            "package detail (one)",
            Load::Fixed(format!("/package/{detail_pkg}")),
        ),
        (
            "package detail (random)",
            Load::Script(format!("/package/{detail_pkg}"), detail_script.clone()),
        ),
        (
            "api packages?name= (one)",
            Load::Fixed(format!("/api/v1/packages?name={detail_pkg}")),
        ),
        (
            "api packages?name= (rand)",
            Load::Script(
                format!("/api/v1/packages?name={detail_pkg}"),
                api_name_script.clone(),
            ),
        ),
        (
            "api packages (all 34k)",
            Load::Fixed("/api/v1/packages".to_owned()),
        ),
    ];
    let secs = if env_or("BENCH_SEED_ONLY", "") == "1" {
        "1".to_owned()
    } else {
        secs
    };
    println!(
        "wrk -t2 -c{conns} -d{secs}s --latency; server workers {workers}; {} packages",
        pkgs.len()
    );
    println!(
        "{:<28} {:>9} {:>10} {:>10} {:>10} {:>8} {:>7} {:>12} {:>8} {:>8}",
        "target",
        "cache",
        "p50",
        "p99",
        "req/s",
        "non-2xx",
        "errors",
        "one request",
        "web ms",
        "db ms"
    );
    for cache_ms in caches {
        let pool = r2d2::Pool::builder()
            .max_size(u32::try_from(workers).unwrap())
            .test_on_check_out(false)
            .build(PostgresConnectionManager::new(config.clone(), NoTls))
            .unwrap();
        let server = koschei_web::serve(
            "127.0.0.1:0",
            pool,
            koschei_web::Options {
                workers,
                cache_ttl: Duration::from_millis(cache_ms),
                ..koschei_web::Options::default()
            },
        )
        .unwrap();
        let base = server.url();
        for (name, load) in &targets {
            if !only.is_empty() && !only.split(',').any(|o| name.contains(o)) {
                continue;
            }
            let (path, script) = match load {
                Load::Fixed(p) => (p, None),
                Load::Script(p, s) => (p, Some(s.as_path())),
            };
            let url = format!("{base}{path}");
            // One request on an idle server (it also fills the cache).
            let t = Instant::now();
            let status = crate_get(&url);
            let single = t.elapsed();
            assert_eq!(status, 200, "{url} answered {status}");
            let before = cpu_now(&mut ac, &dbname);
            let r = wrk(&url, &secs, &conns, script);
            let after = cpu_now(&mut ac, &dbname);
            let (web_ms, db_ms) = cpu_per_request(&before, &after, r.requests);
            println!(
                "{name:<28} {:>9} {:>10} {:>10} {:>10} {:>8} {:>7} {:>12} {:>8.3} {:>8.3}",
                format!("{cache_ms} ms"),
                r.p50,
                r.p99,
                r.rps,
                r.non2xx,
                r.errors,
                format!("{:.1?}", single),
                web_ms,
                db_ms
            );
        }
        server.shutdown();
    }
    for path in [&pages_script, &detail_script, &api_name_script, &names_path] {
        let _ = std::fs::remove_file(path);
    }
}

/// Drops the benchmark database at the end, also when the benchmark fails.
struct DropDb {
    admin: postgres::Config,
    name: String,
    keep: bool,
}

impl Drop for DropDb {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept database {}", self.name);
            return;
        }
        if let Ok(mut c) = self.admin.connect(NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Status of a GET, to check the targets before loading them.
fn crate_get(url: &str) -> u16 {
    use std::io::Write;
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
