//! A combined pass (`run --once`): the whole cycle, passive mode.

use koschei_core::model::TaskState;
use koschei_core::service::scheduler::Outcome;
use koschei_core::service::{PassOptions, ServiceName, run_pass};

use super::fakes::{FakeKoji, FakeResolver};
use super::harness::*;
use super::repo_resolver::{FOO_DEPS, settings, store_deps};

#[test]
fn full_cycle_new_repo_to_applied_changes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    c.execute(
        "UPDATE collection SET latest_repo_id = 122 WHERE id = $1",
        &[&coll.0],
    )
    .expect("repo");
    let p = package(&mut c, coll, "foo");
    let b = build(&mut c, p, 3, 1, ago(600));
    store_deps(&mut c, b, &FOO_DEPS);
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.requires
            .insert("foo".into(), vec!["A".into(), "F".into()]);
    });
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    // A new repo bumps C and adds E at distance 2: package_update 256 gives 256.
    let mut s = settings();
    s.priorities.package_update = 256;
    let r = run_pass(
        &mut c,
        &koji,
        &mut resolver,
        &s,
        &PassOptions::default(),
        now(),
    );
    assert!(r.is_success(), "{r:?}");
    assert_eq!(r.repo_resolver.as_ref().map(|r| r.new_repos), Some(1));
    let prio: i32 = c
        .query_one(
            "SELECT dependency_priority FROM package WHERE id = $1",
            &[&p.0],
        )
        .expect("p")
        .get(0);
    assert_eq!(prio, 256);
    assert_eq!(count(&mut c, "SELECT count(*) FROM unapplied_change"), 2);
    // 256 + time priority (10 h: 39.24) >= 256: submitted in the same pass.
    let Some(Outcome::Submitted {
        task_id, build_id, ..
    }) = r.scheduler
    else {
        panic!("no submission: {r:?}")
    };
    assert_eq!(
        koji.with(|s| s.submitted[0].arch_override.clone()),
        Some(vec!["x86_64".to_owned()])
    );
    // The hub finishes it; the next pass records it and resolves it in repo 123.
    koji.task(task_id.0, TaskState::Closed, Some(123), ago(5));
    let r = run_pass(
        &mut c,
        &koji,
        &mut resolver,
        &s,
        &PassOptions::default(),
        now(),
    );
    assert!(r.is_success(), "{r:?}");
    assert_eq!(r.polling.as_ref().map(|p| p.finished), Some(1));
    assert_eq!(r.build_resolver.as_ref().map(|b| b.resolved), Some(1));
    assert_eq!(
        count(
            &mut c,
            &format!(
                "SELECT count(*) FROM applied_change WHERE build_id = {}",
                build_id.0
            )
        ),
        2
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM unapplied_change"),
        0,
        "cleared on completion"
    );
    let prio: i32 = c
        .query_one(
            "SELECT dependency_priority FROM package WHERE id = $1",
            &[&p.0],
        )
        .expect("p")
        .get(0);
    assert_eq!(prio, 0);
}

#[test]
fn passive_mode_submits_nothing_and_only_selects_services() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "foo");
    build(&mut c, p, 3, 1, ago(600));
    set(
        &mut c,
        "UPDATE package SET manual_priority = 5000 WHERE id = $1",
        p.0,
    );
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.requires.insert("foo".into(), vec!["A".into()]);
    });
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let passive = PassOptions {
        passive: true,
        only: vec![],
    };
    let r = run_pass(&mut c, &koji, &mut resolver, &settings(), &passive, now());
    assert!(r.scheduler.is_none());
    assert!(r.polling.is_some() && r.repo_resolver.is_some() && r.build_resolver.is_some());
    assert!(koji.with(|s| s.submitted.is_empty()));
    let only = PassOptions {
        passive: false,
        only: vec![ServiceName::Polling],
    };
    let r = run_pass(&mut c, &koji, &mut resolver, &settings(), &only, now());
    assert!(r.polling.is_some() && r.scheduler.is_none() && r.repo_resolver.is_none());
    assert_eq!(
        ServiceName::parse("repo-resolver"),
        Some(ServiceName::RepoResolver)
    );
    assert_eq!(ServiceName::parse("watcher"), None);
    let all = PassOptions::default();
    let r = run_pass(&mut c, &koji, &mut resolver, &settings(), &all, now());
    assert!(
        matches!(r.scheduler, Some(Outcome::Submitted { .. })),
        "{r:?}"
    );
}

#[test]
fn a_failing_service_does_not_stop_the_others() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "foo");
    build(&mut c, p, 3, 1, ago(600));
    set(
        &mut c,
        "UPDATE package SET manual_priority = 5000 WHERE id = $1",
        p.0,
    );
    let b = build(&mut c, p, 2, 10, ago(30));
    set(&mut c, "UPDATE build SET repo_id = 5 WHERE id = $1", b.0);
    let koji = FakeKoji::new();
    koji.task(10, TaskState::Open, Some(5), ago(30));
    koji.with(|s| s.children_down = true);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_pass(
        &mut c,
        &koji,
        &mut resolver,
        &settings(),
        &PassOptions::default(),
        now(),
    );
    assert_eq!(r.failures.len(), 1, "{r:?}");
    assert_eq!(r.failures[0].0, ServiceName::Polling);
    assert!(r.repo_resolver.is_some() && r.build_resolver.is_some());
    // The running build keeps the package from being submitted.
    assert_eq!(r.scheduler, Some(Outcome::NothingToDo));
}
