//! Scheduler pass benchmark: one collection with the 34,288 source packages of
//! `../shared/data/debian-bookworm`, realistic priorities and build history in PostgreSQL;
//! measures `service::scheduler::run_once` (load, priority computation, pick, reservation
//! and confirmation of one submission) and the load-and-compute part alone.
//!
//! Run: `cargo bench -p koschei-core --bench scheduler` (PostgreSQL on
//! `KOSCHEI_TEST_DATABASE_URL`, default `postgresql://postgres@127.0.0.1:5432/postgres`).
//! Koji is an in-process stub answering instantly, so the figure is Koschei's own cost.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use koschei_core::model::{KojiTaskId, RepoId};
use koschei_core::priority::current_priority;
use koschei_core::resolve::RpmDep;
use koschei_core::schedule::{Candidate, Host, SrpmArchHeaders, candidates_to_try};
use koschei_core::service::koji_port::*;
use koschei_core::service::scheduler::{Outcome, run_once};
use koschei_core::service::{Settings, now};
use postgres::{Client, NoTls};

struct StubKoji;

impl KojiPort for StubKoji {
    fn latest_repo(&self, _: &str) -> Result<Option<RepoId>, KojiError> {
        Ok(Some(RepoId(1)))
    }
    fn repo_info(&self, _: RepoId) -> Result<Option<RepoInfo>, KojiError> {
        Ok(None)
    }
    fn build_group(&self, _: &str, _: &str, _: i64) -> Result<Option<Vec<String>>, KojiError> {
        Ok(None)
    }
    fn rpm_requires(&self, s: &[SrpmNvr]) -> Result<Vec<Option<Vec<RpmDep>>>, KojiError> {
        Ok(vec![None; s.len()])
    }
    fn build_arches(&self, _: &str) -> Result<Vec<String>, KojiError> {
        Ok(vec!["x86_64".into(), "i686".into()])
    }
    fn srpm_arch_headers(&self, _: &SrpmNvr) -> Result<Option<SrpmArchHeaders>, KojiError> {
        Ok(Some(SrpmArchHeaders::default()))
    }
    fn hosts(&self, _: &BTreeSet<String>) -> Result<Vec<Host>, KojiError> {
        Ok(vec![Host {
            arches: "x86_64 i386".into(),
            capacity: 100.0,
            task_load: 1.0,
            ready: true,
        }])
    }
    fn latest_tagged_builds(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Vec<TaggedBuild>, KojiError> {
        Ok(vec![])
    }
    fn latest_srpm(&self, _: &str, p: &str) -> Result<Option<Srpm>, KojiError> {
        Ok(Some(Srpm {
            nvr: SrpmNvr {
                name: p.into(),
                version: "1".into(),
                release: "1".into(),
            },
            epoch: None,
            url: format!("../packages/{p}/1/1/src/{p}-1-1.src.rpm"),
        }))
    }
    fn list_packages(&self, _: &str) -> Result<Vec<TagPackage>, KojiError> {
        Ok(vec![])
    }
    fn submit_scratch_build(&self, _: &ScratchBuild) -> Result<KojiTaskId, KojiError> {
        Ok(KojiTaskId(999_999))
    }
    fn task_info(&self, t: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, KojiError> {
        Ok(vec![None; t.len()])
    }
    fn task_children(&self, t: &[KojiTaskId]) -> Result<Vec<Vec<ChildTask>>, KojiError> {
        Ok(vec![vec![]; t.len()])
    }
    fn task_faulted(&self, _: KojiTaskId) -> Result<bool, KojiError> {
        Ok(false)
    }
    fn cancel_task(&self, _: KojiTaskId) -> Result<(), KojiError> {
        Ok(())
    }
}

fn sources() -> Vec<(String, String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/debian-bookworm/source/repodata/primary.xml.gz");
    let path = if path.exists() {
        path
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/debian-bookworm/source/repodata/primary.xml.gz")
    };
    let file =
        std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    let mut name = None;
    for line in reader.lines() {
        let line = line.expect("read primary");
        let t = line.trim();
        if let Some(n) = t
            .strip_prefix("<name>")
            .and_then(|r| r.strip_suffix("</name>"))
        {
            name = Some(n.to_owned());
        } else if let (Some(rest), Some(n)) = (t.strip_prefix("<version "), name.as_ref()) {
            let attr = |k: &str| {
                let key = format!("{k}=\"");
                rest.split_once(key.as_str())
                    .and_then(|(_, r)| r.split_once('"'))
                    .map(|(v, _)| v.to_owned())
                    .unwrap_or_default()
            };
            out.push((n.clone(), attr("ver"), attr("rel")));
            name = None;
        }
    }
    out
}

#[allow(
    clippy::disallowed_methods,
    reason = "benchmark reads its database URL"
)]
fn admin_url() -> String {
    std::env::var("KOSCHEI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn main() {
    let pkgs = sources();
    assert_eq!(pkgs.len(), 34_288, "debian-bookworm source packages");
    let admin = admin_url();
    let name = format!("koschei_bench_{}", std::process::id());
    let mut a = Client::connect(&admin, NoTls).expect("connect");
    a.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create db");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("db url").0);
    let mut c = Client::connect(&url, NoTls).expect("connect bench db");
    c.batch_execute(include_str!("../src/db/migrations/0001_initial.sql"))
        .expect("migrate");

    let t = Instant::now();
    let now_ts = now();
    c.batch_execute(
        "INSERT INTO collection (name, display_name, target, dest_tag, build_tag, latest_repo_id, latest_repo_resolved)
         VALUES ('f40', 'Fedora 40', 'f40', 'f40', 'f40-build', 1, true)",
    )
    .expect("collection");
    let names: Vec<&str> = pkgs.iter().map(|p| p.0.as_str()).collect();
    c.execute(
        "INSERT INTO base_package (name) SELECT unnest($1::text[])",
        &[&names],
    )
    .expect("base");
    // Deterministic mix: 3 % blocked, 10 % untracked, 4 % unresolved, 2 % not resolved yet,
    // dependency priority 0..400 on a third, manual priority on 1 %, failed build bumps on 5 %.
    c.execute(
        "INSERT INTO package (base_id, name, collection_id, tracked, blocked, resolved,
                              dependency_priority, manual_priority, build_priority, static_priority)
         SELECT b.id, b.name, 1, b.id % 10 <> 0, b.id % 33 = 0,
                CASE WHEN b.id % 25 = 0 THEN false WHEN b.id % 50 = 1 THEN NULL ELSE true END,
                CASE WHEN b.id % 3 = 0 THEN (b.id * 7919) % 400 ELSE 0 END,
                CASE WHEN b.id % 100 = 7 THEN 500 ELSE 0 END,
                CASE WHEN b.id % 20 = 3 THEN 200 ELSE 0 END,
                0
         FROM base_package b",
        &[],
    )
    .expect("packages");
    // History: three complete/failed builds per package, the last one 1 h .. 10 days ago;
    // triggers maintain the last build pointers.
    c.execute(
        "INSERT INTO build (package_id, state, task_id, started, finished, version, release, repo_id, deps_resolved, real)
         SELECT p.id, CASE WHEN (p.id + k) % 6 = 0 THEN 5 ELSE 3 END, p.id * 10 + k,
                $1::timestamptz - make_interval(hours => (p.id * 37) % 240 + 1 + (3 - k) * 240),
                $1::timestamptz - make_interval(hours => (p.id * 37) % 240 + (3 - k) * 240),
                '1', '1', 1, true, k = 1
         FROM package p, generate_series(1, 3) k",
        &[&now_ts],
    )
    .expect("builds");
    // 20 running builds.
    c.execute(
        "INSERT INTO build (package_id, state, task_id, started) SELECT id, 2, id * 10 + 9, $1 FROM package WHERE id % 1700 = 5",
        &[&now_ts],
    )
    .expect("running");
    c.batch_execute("ANALYZE").expect("analyze");
    println!(
        "loaded {} packages, {} builds in {:.1} s",
        pkgs.len(),
        count(&mut c, "SELECT count(*) FROM build"),
        t.elapsed().as_secs_f64()
    );

    let settings = Settings {
        max_builds: 30,
        load_threshold: 0.9,
        ..Settings::default()
    };
    let koji = StubKoji;
    // Warm up.
    let _ = run_once(&mut c, &koji, &settings, now_ts).expect("warm-up pass");
    c.batch_execute("DELETE FROM build WHERE task_id = 999999")
        .expect("reset");

    let mut full = Vec::new();
    let mut compute = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let out = run_once(&mut c, &koji, &settings, now_ts).expect("pass");
        full.push(t.elapsed());
        assert!(matches!(out, Outcome::Submitted { .. }), "{out:?}");
        c.batch_execute("DELETE FROM build WHERE task_id = 999999")
            .expect("reset");

        let t = Instant::now();
        let rows = koschei_core::db::engine::schedule_rows(&mut c).expect("rows");
        let cands: Vec<Candidate> = rows
            .iter()
            .filter_map(|r| {
                current_priority(&r.input, &settings.priorities, now_ts)
                    .ok()
                    .map(|priority| Candidate {
                        package_id: r.package_id,
                        priority,
                    })
            })
            .collect();
        let picked = candidates_to_try(20, 30, &cands, 256.0);
        compute.push(t.elapsed());
        assert!(!picked.is_empty());
        if full.len() == 1 {
            println!(
                "{} rows, {} with a priority, {} over the threshold",
                rows.len(),
                cands.len(),
                picked.len()
            );
        }
    }
    report(
        "scheduler pass (run_once, incl. one reservation + confirmation)",
        &mut full,
    );
    report("load + priority computation + pick only", &mut compute);
    drop(c);
    let _ = a.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

fn count(c: &mut Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).expect(sql).get(0)
}

fn report(what: &str, v: &mut [Duration]) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = v.iter().map(|d| ms(*d)).sum::<f64>() / v.len() as f64;
    println!(
        "{what}: n={} min {:.1} ms, median {:.1} ms, mean {:.1} ms, max {:.1} ms",
        v.len(),
        ms(v[0]),
        ms(v[v.len() / 2]),
        mean,
        ms(v[v.len() - 1])
    );
    let _ = SystemTime::UNIX_EPOCH;
}
