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

mod common;

use std::collections::BTreeSet;
use std::time::Instant;

use koschei_core::model::{KojiTaskId, RepoId};
use koschei_core::priority::current_priority;
use koschei_core::schedule::{Candidate, Host, SrpmArchHeaders, candidates_to_try};
use koschei_core::service::koji_port::*;
use koschei_core::service::scheduler::{Outcome, run_once};
use koschei_core::service::{Settings, now};

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
    fn rpm_requires(&self, s: &[SrpmNvr]) -> Result<Vec<Option<Vec<String>>>, KojiError> {
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

fn main() {
    let pkgs = common::primary("source");
    assert_eq!(pkgs.len(), 34_288, "debian-bookworm source packages");
    let db = common::BenchDb::new("scheduler");
    let mut c = db.connect();
    let t = Instant::now();
    let now_ts = now();
    let names: Vec<&str> = pkgs.iter().map(|p| p.0.as_str()).collect();
    common::load_collection(&mut c, &names, now_ts);
    println!(
        "loaded {} packages, {} builds in {:.1} s",
        pkgs.len(),
        common::count(&mut c, "SELECT count(*) FROM build"),
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
    common::report(
        "scheduler pass (run_once, incl. one reservation + confirmation)",
        &mut full,
    );
    common::report("load + priority computation + pick only", &mut compute);
}
