//! Polling pass: build state updates, package list refresh, real builds.

use std::time::Duration;

use koschei_core::koji::KojiBuildState;
use koschei_core::model::{KojiTaskId, TaskState};
use koschei_core::service::polling::{Options, run_once};
use koschei_core::service::{Settings, StateChange};
use koschei_fakehub::scripted::{tag_package, tagged_build};

use super::fakes::FakeKoji;
use super::harness::*;

fn poll(c: &mut postgres::Client, koji: &FakeKoji) -> koschei_core::service::polling::Report {
    run_once(c, koji, &Settings::default(), Options::default(), now()).expect("polling")
}

#[test]
fn no_running_builds_means_no_task_queries() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "rnv");
    build(&mut c, p, 3, 1, ago(60));
    let koji = FakeKoji::new();
    let r = poll(&mut c, &koji);
    assert_eq!(r.finished, 0);
    assert!(!koji.with(|s| s.calls.contains(&"getTaskInfo")));
}

#[test]
fn closed_task_completes_build_with_tasks_and_clears_priorities() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "rnv");
    build(&mut c, p, 5, 1, ago(600));
    let b = build(&mut c, p, 2, 9107738, ago(30));
    c.execute("UPDATE package SET manual_priority = 10, dependency_priority = 20, build_priority = 30 WHERE id = $1", &[&p.0]).expect("prio");
    let koji = FakeKoji::new();
    koji.task(9107738, TaskState::Closed, Some(859626), ago(30));
    let r = poll(&mut c, &koji);
    assert_eq!(r.finished, 1);
    assert_eq!(
        r.events,
        vec![StateChange {
            package_id: p,
            prev: "failing",
            new: "ok"
        }]
    );
    let row = c
        .query_one(
            "SELECT state, repo_id, finished IS NOT NULL FROM build WHERE id = $1",
            &[&b.0],
        )
        .expect("b");
    assert_eq!(
        (
            row.get::<_, i32>(0),
            row.get::<_, Option<i32>>(1),
            row.get::<_, bool>(2)
        ),
        (3, Some(859626), true)
    );
    let row = c
        .query_one(
            "SELECT task_id, arch, state FROM koji_task WHERE build_id = $1",
            &[&b.0],
        )
        .expect("task");
    assert_eq!(
        (
            row.get::<_, i32>(0),
            row.get::<_, String>(1),
            row.get::<_, i32>(2)
        ),
        (9107739, "x86_64".to_owned(), 2)
    );
    let row = c.query_one("SELECT manual_priority, dependency_priority, build_priority, last_complete_build_id FROM package WHERE id = $1", &[&p.0]).expect("p");
    assert_eq!(
        (
            row.get::<_, i32>(0),
            row.get::<_, i32>(1),
            row.get::<_, i32>(2)
        ),
        (0, 0, 0)
    );
    assert_eq!(row.get::<_, Option<i32>>(3), Some(b.0));
    // Polling again changes nothing and does not duplicate tasks.
    poll(&mut c, &koji);
    assert_eq!(count(&mut c, "SELECT count(*) FROM koji_task"), 1);
}

#[test]
fn failed_build_priority_only_after_success() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let ok = package(&mut c, coll, "ok-before");
    let bad = package(&mut c, coll, "failed-before");
    // Another package's failed build must not count (the original's missing filter).
    build(&mut c, bad, 5, 1, ago(700));
    build(&mut c, ok, 3, 2, ago(600));
    build(&mut c, ok, 2, 100, ago(30));
    build(&mut c, bad, 2, 200, ago(20));
    let koji = FakeKoji::new();
    koji.task(100, TaskState::Failed, Some(5), ago(30));
    koji.task(200, TaskState::Failed, Some(5), ago(20));
    let r = poll(&mut c, &koji);
    assert_eq!(r.finished, 2);
    let prio = |c: &mut postgres::Client, id: i32| -> i32 {
        c.query_one("SELECT build_priority FROM package WHERE id = $1", &[&id])
            .expect("p")
            .get(0)
    };
    assert_eq!(prio(&mut c, ok.0), 200);
    assert_eq!(prio(&mut c, bad.0), 0);
    assert!(r.events.contains(&StateChange {
        package_id: ok,
        prev: "ok",
        new: "failing"
    }));
    assert!(!r.events.iter().any(|e| e.package_id == bad));
}

#[test]
fn canceled_faulted_and_repo_less_builds_are_deleted() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "a");
    let q = package(&mut c, coll, "b");
    let r2 = package(&mut c, coll, "c");
    build(&mut c, p, 2, 10, ago(30));
    build(&mut c, q, 2, 20, ago(30));
    build(&mut c, r2, 2, 30, ago(30));
    let koji = FakeKoji::new();
    koji.task(10, TaskState::Canceled, Some(5), ago(30));
    koji.task(20, TaskState::Failed, Some(5), ago(30));
    koji.task(30, TaskState::Closed, None, ago(30));
    koji.with(|s| s.faulted.insert(KojiTaskId(20)));
    let r = poll(&mut c, &koji);
    assert_eq!(r.deleted, 3);
    assert_eq!(count(&mut c, "SELECT count(*) FROM build"), 0);
}

#[test]
fn timed_out_or_cancel_requested_builds_are_canceled_except_in_passive_mode() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "old");
    let q = package(&mut c, coll, "asked");
    let r3 = package(&mut c, coll, "fresh");
    build(&mut c, p, 2, 10, ago(49 * 60));
    let asked = build(&mut c, q, 2, 20, ago(30));
    set(
        &mut c,
        "UPDATE build SET cancel_requested = true WHERE id = $1",
        asked.0,
    );
    build(&mut c, r3, 2, 30, ago(30));
    let koji = FakeKoji::new();
    koji.task(10, TaskState::Open, Some(5), ago(49 * 60));
    koji.task(20, TaskState::Assigned, Some(5), ago(30));
    koji.task(30, TaskState::Open, Some(5), ago(30));
    let passive = run_once(
        &mut c,
        &koji,
        &Settings::default(),
        Options { passive: true },
        now(),
    )
    .expect("passive");
    assert_eq!(passive.deleted, 0);
    assert!(
        koji.with(|s| s.canceled.is_empty()),
        "passive mode never writes to Koji"
    );
    // The running build learned its repo and tasks early.
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM build WHERE repo_id = 5 AND state = 2"
        ),
        3
    );
    let r = poll(&mut c, &koji);
    assert_eq!(r.deleted, 2);
    assert_eq!(
        koji.with(|s| s.canceled.clone()),
        vec![KojiTaskId(10), KojiTaskId(20)]
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM build"), 1);
}

#[test]
fn package_list_refresh_adds_untracked_and_flips_blocked() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = package(&mut c, coll, "rnv");
    let eclipse = package(&mut c, coll, "eclipse");
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.packages = vec![
            tag_package("rnv", true),
            tag_package("eclipse", false),
            tag_package("maven-doxia-tools", true),
            tag_package("xpp3", false),
        ]
    });
    let r = poll(&mut c, &koji);
    assert_eq!(r.new_packages, 2);
    let blocked = |c: &mut postgres::Client, id: i32| -> bool {
        c.query_one("SELECT blocked FROM package WHERE id = $1", &[&id])
            .expect("p")
            .get(0)
    };
    assert!(blocked(&mut c, rnv.0));
    assert!(!blocked(&mut c, eclipse.0));
    let row = c
        .query_one(
            "SELECT tracked, blocked FROM package WHERE name = 'maven-doxia-tools'",
            &[],
        )
        .expect("new");
    assert_eq!(
        (row.get::<_, bool>(0), row.get::<_, bool>(1)),
        (false, true)
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM package"), 4);
    // Idempotent.
    assert_eq!(poll(&mut c, &koji).new_packages, 0);
}

#[test]
fn newer_real_builds_are_registered_and_reset_priorities() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = package(&mut c, coll, "rnv");
    let maven = package(&mut c, coll, "maven");
    let slf4j = package(&mut c, coll, "slf4j");
    build(&mut c, rnv, 5, 1, ago(600));
    build(&mut c, maven, 3, 2, ago(600));
    c.execute(
        "UPDATE package SET manual_priority = 100, dependency_priority = 50 WHERE id = $1",
        &[&rnv.0],
    )
    .expect("prio");
    let tagged = |name: &str, task: i32, release: &str| {
        tagged_build(
            name,
            Some(task),
            KojiBuildState::Complete,
            None,
            "1",
            release,
        )
    };
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.tagged = vec![
            tagged("rnv", 25162638, "15.fc28"),
            tagged("maven", 3, "1.fc25"),
            tagged("slf4j", 40, "2.fc28"),
            tagged("unknown", 50, "1"),
        ]
    });
    koji.task(25162638, TaskState::Closed, Some(859626), ago(120));
    // slf4j's build has no subtasks (no repo): ignored.
    koji.with(|s| s.tasks.insert(KojiTaskId(40), koji_core_task_info()));
    let r = poll(&mut c, &koji);
    assert_eq!(r.real_builds, 1);
    let row = c
        .query_one(
            "SELECT b.real, b.state, b.repo_id, b.release, p.manual_priority, p.dependency_priority
             FROM package p JOIN build b ON b.id = p.last_build_id WHERE p.id = $1",
            &[&rnv.0],
        )
        .expect("rnv");
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i32>(1), 3);
    assert_eq!(row.get::<_, Option<i32>>(2), Some(859626));
    assert_eq!(row.get::<_, String>(3), "15.fc28");
    assert_eq!((row.get::<_, i32>(4), row.get::<_, i32>(5)), (0, 0));
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM build WHERE package_id = {}", slf4j.0)
        ),
        0
    );
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM build WHERE package_id = {}", maven.0)
        ),
        1
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM koji_task"), 1);
    // Registered once only.
    assert_eq!(poll(&mut c, &koji).real_builds, 0);
}

fn koji_core_task_info() -> koschei_core::koji::TaskInfo {
    koschei_fakehub::scripted::task_info(
        40,
        "build",
        TaskState::Closed,
        ago(100),
        Some(ago(100) + Duration::from_secs(60)),
        None,
    )
}

#[test]
fn builds_newer_than_koji_are_untagged_and_retagged_builds_restored() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let lbzip2 = package(&mut c, coll, "lbzip2");
    let log4j = package(&mut c, coll, "log4j");
    let gone = package(&mut c, coll, "gone");
    let old = build(&mut c, lbzip2, 3, 10, ago(600));
    set(
        &mut c,
        "UPDATE build SET version = '2.5', release = '10.fc28', real = true WHERE id = $1",
        old.0,
    );
    let local = build(&mut c, lbzip2, 3, 11, ago(300));
    set(
        &mut c,
        "UPDATE build SET version = '2.5', release = '11.fc28', real = true WHERE id = $1",
        local.0,
    );
    let l = build(&mut c, log4j, 3, 20, ago(600));
    set(
        &mut c,
        "UPDATE build SET untagged = true WHERE id = $1",
        l.0,
    );
    let g = build(&mut c, gone, 3, 30, ago(600));
    set(&mut c, "UPDATE build SET version = '2' WHERE id = $1", g.0);
    let tagged = |name: &str, task: i32, version: &str, release: &str| {
        tagged_build(
            name,
            Some(task),
            KojiBuildState::Complete,
            None,
            version,
            release,
        )
    };
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.tagged = vec![
            tagged("lbzip2", 10, "2.5", "10.fc28"),
            tagged("log4j", 20, "1", "1.fc25"),
            // Koji's latest of `gone` has no repo (#263): not registered.
            tagged("gone", 31, "1", "1.fc25"),
        ]
    });
    poll(&mut c, &koji);
    let last = |c: &mut postgres::Client, p: koschei_core::model::PackageId| -> Option<i32> {
        c.query_one("SELECT last_build_id FROM package WHERE id = $1", &[&p.0])
            .expect("p")
            .get(0)
    };
    assert_eq!(last(&mut c, lbzip2), Some(old.0));
    let untagged: bool = c
        .query_one("SELECT untagged FROM build WHERE id = $1", &[&local.0])
        .expect("b")
        .get(0);
    assert!(untagged);
    assert_eq!(last(&mut c, log4j), Some(l.0));
    let untagged: bool = c
        .query_one("SELECT untagged FROM build WHERE id = $1", &[&l.0])
        .expect("b")
        .get(0);
    assert!(!untagged);
    assert_eq!(last(&mut c, gone), None);
    let lcb: Option<i32> = c
        .query_one(
            "SELECT last_complete_build_id FROM package WHERE id = $1",
            &[&gone.0],
        )
        .expect("p")
        .get(0);
    assert_eq!(lcb, None);
}

#[test]
fn dropped_koji_connection_loses_nothing_and_next_pass_completes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "a");
    let q = package(&mut c, coll, "b");
    build(&mut c, p, 2, 10, ago(30));
    build(&mut c, q, 2, 20, ago(30));
    let koji = FakeKoji::new();
    koji.task(10, TaskState::Closed, Some(5), ago(30));
    koji.task(20, TaskState::Failed, Some(5), ago(30));
    koji.with(|s| s.children_down = true);
    assert!(
        run_once(
            &mut c,
            &koji,
            &Settings::default(),
            Options::default(),
            now()
        )
        .is_err()
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 2"),
        2
    );
    koji.with(|s| s.children_down = false);
    let r = poll(&mut c, &koji);
    assert_eq!(r.finished, 2);
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 3"),
        1
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 5"),
        1
    );
}

#[test]
fn forced_rebuild_of_unresolvable_running_build_survives_completion() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "a");
    build(&mut c, p, 3, 1, ago(600));
    let b = build(&mut c, p, 2, 10, ago(30));
    // The build resolver marked it unresolvable while it ran.
    set(
        &mut c,
        "UPDATE build SET repo_id = 5, deps_resolved = false WHERE id = $1",
        b.0,
    );
    set(
        &mut c,
        "UPDATE package SET build_priority = 3000 WHERE id = $1",
        p.0,
    );
    let koji = FakeKoji::new();
    koji.task(10, TaskState::Closed, Some(5), ago(30));
    assert_eq!(poll(&mut c, &koji).finished, 1);
    let prio: i32 = c
        .query_one("SELECT build_priority FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(prio, 3000);
}
