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

use std::time::Instant;

use koschei_core::koji::Host;
use koschei_core::priority::current_priority;
use koschei_core::schedule::{Candidate, candidates_to_try};
use koschei_core::service::scheduler::{Outcome, run_once};
use koschei_core::service::{Settings, now};
use koschei_fakehub::scripted::ScriptedKoji;

/// Koji answering instantly: x86_64 and i686, one idle host, an SRPM for every package; every
/// submission gets task 999999 (so the bench can delete its reservation and repeat).
fn koji() -> ScriptedKoji {
    let koji = ScriptedKoji::new();
    koji.with(|s| {
        s.arches = vec!["x86_64".into(), "i686".into()];
        s.hosts = vec![Host::new("x86_64 i386", 100.0, 1.0, true)];
    });
    koji
}

fn reset_task_counter(koji: &ScriptedKoji) {
    koji.with(|s| {
        s.next_task = 999_989;
        s.calls.clear();
        s.submitted.clear();
    });
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
    let koji = koji();
    reset_task_counter(&koji);
    // Warm up.
    let _ = run_once(&mut c, &koji, &settings, now_ts).expect("warm-up pass");
    reset_task_counter(&koji);
    c.batch_execute("DELETE FROM build WHERE task_id = 999999")
        .expect("reset");

    let mut full = Vec::new();
    let mut compute = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let out = run_once(&mut c, &koji, &settings, now_ts).expect("pass");
        full.push(t.elapsed());
        assert!(matches!(out, Outcome::Submitted { .. }), "{out:?}");
        reset_task_counter(&koji);
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
