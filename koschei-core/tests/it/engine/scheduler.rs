//! Scheduler pass: the original's scheduler_test cases, plus the concurrency and
//! failure cases of issue 6.

use std::time::Duration;

use koschei_core::service::scheduler::{Outcome, run_once};
use koschei_core::service::{Settings, polling};

use koschei_fakehub::scripted::build_task;

use super::fakes::{FakeKoji, fault, transport};
use super::harness::*;

fn settings() -> Settings {
    Settings {
        max_builds: 2,
        load_threshold: 0.6,
        ..Settings::default()
    }
}

/// A tracked, resolved package with a complete build at 10:0x (time priority -30) and
/// dependency priority `p + 30`, so that its current priority is `p`.
fn prio_package(
    c: &mut postgres::Client,
    coll: koschei_core::model::CollectionId,
    name: &str,
    p: i32,
    task: i32,
) -> koschei_core::model::PackageId {
    let pkg = package(c, coll, name);
    build(c, pkg, 3, task, ago(45));
    c.execute(
        "UPDATE package SET dependency_priority = $2 WHERE id = $1",
        &[&pkg.0, &(p + 30)],
    )
    .expect("set priority");
    pkg
}

fn submitted_names(k: &FakeKoji) -> Vec<String> {
    k.with(|s| {
        s.submitted
            .iter()
            .map(|b| b.srpm_url.rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    })
}

#[test]
fn low_priority_submits_nothing_and_skips_koji_load() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    prio_package(&mut c, coll, "rnv", 10, 1);
    let koji = FakeKoji::new();
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    assert!(
        koji.with(|s| s.calls.is_empty()),
        "no Koji call when nothing is schedulable"
    );
}

#[test]
fn threshold_priority_submits_with_arch_override() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", 256, 1);
    c.execute("UPDATE package SET manual_priority = 5, dependency_priority = dependency_priority - 5 WHERE id = $1", &[&rnv.0]).expect("manual");
    let koji = FakeKoji::new();
    let out = run_once(&mut c, &koji, &settings(), now()).expect("pass");
    let Outcome::Submitted {
        package_id,
        task_id,
        build_id,
        ..
    } = out
    else {
        panic!("expected a submission, got {out:?}")
    };
    assert_eq!(package_id, rnv);
    let sub = koji.with(|s| s.submitted.clone());
    assert_eq!(sub.len(), 1);
    assert_eq!(sub[0].arch_override, Some(vec!["x86_64".to_owned()]));
    assert_eq!(sub[0].target.as_deref(), Some("f25"));
    assert_eq!(sub[0].repo_id, None);
    assert_eq!(sub[0].priority, 30);
    assert_eq!(
        sub[0].srpm_url,
        "../packages/rnv/1/2.fc25/src/rnv-1-2.fc25.src.rpm"
    );
    let row = c
        .query_one(
            "SELECT state, task_id, version, release, repo_id FROM build WHERE id = $1",
            &[&build_id.0],
        )
        .expect("build");
    assert_eq!(row.get::<_, i32>(0), 2);
    assert_eq!(row.get::<_, i32>(1), task_id.0);
    assert_eq!(row.get::<_, String>(2), "1");
    assert_eq!(row.get::<_, String>(3), "2.fc25");
    assert_eq!(row.get::<_, Option<i32>>(4), None);
    let row = c
        .query_one(
            "SELECT manual_priority, last_build_id FROM package WHERE id = $1",
            &[&rnv.0],
        )
        .expect("pkg");
    assert_eq!(
        row.get::<_, i32>(0),
        0,
        "manual priority reset on submission"
    );
    assert_eq!(row.get::<_, Option<i32>>(1), Some(build_id.0));
    // The package now has a running build: the next pass does not submit it again.
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    assert_eq!(koji.with(|s| s.submitted.len()), 1);
}

#[test]
fn unschedulable_packages_are_not_submitted() {
    let cases: [(&str, &str); 6] = [
        (
            "resolved null",
            "UPDATE package SET resolved = NULL WHERE id = $1",
        ),
        (
            "unresolved",
            "UPDATE package SET resolved = false WHERE id = $1",
        ),
        (
            "untracked",
            "UPDATE package SET tracked = false WHERE id = $1",
        ),
        ("blocked", "UPDATE package SET blocked = true WHERE id = $1"),
        (
            "buildroot unresolved",
            "UPDATE collection SET latest_repo_resolved = false WHERE id = (SELECT collection_id FROM package WHERE id = $1)",
        ),
        (
            "buildroot unknown",
            "UPDATE collection SET latest_repo_resolved = NULL, latest_repo_id = NULL WHERE id = (SELECT collection_id FROM package WHERE id = $1)",
        ),
    ];
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", 30000, 1);
    for (what, sql) in cases {
        c.batch_execute("BEGIN").expect("begin");
        set(&mut c, sql, rnv.0);
        let koji = FakeKoji::new();
        let out = run_once(&mut c, &koji, &settings(), now()).expect("pass");
        c.batch_execute("ROLLBACK").expect("rollback");
        assert_eq!(out, Outcome::NothingToDo, "{what}");
        assert!(koji.with(|s| s.submitted.is_empty()), "{what}");
    }
    // skip_resolution with resolved NULL is schedulable.
    c.execute(
        "UPDATE package SET resolved = NULL, skip_resolution = true WHERE id = $1",
        &[&rnv.0],
    )
    .expect("skip");
    let koji = FakeKoji::new();
    assert!(matches!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::Submitted { .. }
    ));
}

#[test]
fn koji_over_load_threshold_submits_nothing() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    prio_package(&mut c, coll, "rnv", 30000, 1);
    let koji = FakeKoji::new();
    koji.with(|s| s.hosts[0].task_load = 7.0);
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::KojiBusy
    );
    assert!(koji.with(|s| s.submitted.is_empty()));
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 2"),
        0
    );
}

#[test]
fn running_builds_at_max_or_on_candidate_block_submission() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let eclipse = prio_package(&mut c, coll, "eclipse", 100, 1);
    let rnv = prio_package(&mut c, coll, "rnv", 300, 2);
    build(&mut c, rnv, 2, 3, ago(5));
    let koji = FakeKoji::new();
    // eclipse 100 + running rnv 300 → nothing.
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    // eclipse 280 + running rnv → eclipse.
    c.execute(
        "UPDATE package SET dependency_priority = 310 WHERE id = $1",
        &[&eclipse.0],
    )
    .expect("prio");
    let out = run_once(&mut c, &koji, &settings(), now()).expect("pass");
    assert!(
        matches!(out, Outcome::Submitted { package_id, .. } if package_id == eclipse),
        "{out:?}"
    );
    // Two running builds = max_builds 2 → nothing, even at 30000.
    let other = prio_package(&mut c, coll, "maven", 30000, 9);
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::AtCapacity
    );
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM build WHERE package_id = {}", other.0)
        ),
        1
    );
}

#[test]
fn highest_priority_wins() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    prio_package(&mut c, coll, "eclipse", 280, 1);
    let rnv = prio_package(&mut c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    let out = run_once(&mut c, &koji, &settings(), now()).expect("pass");
    assert!(
        matches!(out, Outcome::Submitted { package_id, .. } if package_id == rnv),
        "{out:?}"
    );
    assert_eq!(submitted_names(&koji), vec!["rnv-1-2.fc25.src.rpm"]);
}

#[test]
fn build_from_repo_id_submits_without_target() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    prio_package(&mut c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    let s = Settings {
        build_from_repo_id: true,
        ..settings()
    };
    let Outcome::Submitted { build_id, .. } = run_once(&mut c, &koji, &s, now()).expect("pass")
    else {
        panic!("no submission")
    };
    let sub = koji.with(|s| s.submitted[0].clone());
    assert_eq!(sub.target, None);
    assert_eq!(sub.repo_id.map(|r| r.0), Some(123));
    let repo: Option<i32> = c
        .query_one("SELECT repo_id FROM build WHERE id = $1", &[&build_id.0])
        .expect("b")
        .get(0);
    assert_eq!(repo, Some(123));
}

#[test]
fn no_srpm_keeps_last_build_and_retries_after_polling() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", 300, 2);
    let before: (Option<i32>, Option<i32>) = {
        let r = c
            .query_one(
                "SELECT last_build_id, last_complete_build_id FROM package WHERE id = $1",
                &[&rnv.0],
            )
            .expect("p");
        (r.get(0), r.get(1))
    };
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.srpm_missing.insert("rnv".into());
    });
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    let r = c.query_one("SELECT last_build_id, last_complete_build_id, resolved, scheduler_skip_reason FROM package WHERE id = $1", &[&rnv.0]).expect("p");
    assert_eq!(
        (r.get::<_, Option<i32>>(0), r.get::<_, Option<i32>>(1)),
        before,
        "pointers kept (#320)"
    );
    assert_eq!(r.get::<_, Option<bool>>(2), Some(true), "still resolved");
    assert_eq!(r.get::<_, Option<i32>>(3), Some(1));
    // Backoff: the next scheduler pass does not ask Koji about it again.
    koji.with(|s| s.calls.clear());
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    assert!(!koji.with(|s| s.calls.contains(&"listRPMs")));
    // Polling ends the backoff; the SRPM is back, so the package is built.
    koji.with(|s| s.srpm_missing.clear());
    polling::run_once(
        &mut c,
        &koji,
        &settings(),
        polling::Options::default(),
        now(),
    )
    .expect("polling");
    assert!(matches!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::Submitted { .. }
    ));
}

#[test]
fn no_allowed_arch_lowers_manual_priority_and_persists() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.headers
            .as_mut()
            .map(|h| h.exclusivearch = vec!["s390x".into()])
    });
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    let r = c
        .query_one(
            "SELECT manual_priority, scheduler_skip_reason FROM package WHERE id = $1",
            &[&rnv.0],
        )
        .expect("p");
    assert_eq!(r.get::<_, i32>(0), -1000);
    assert_eq!(r.get::<_, Option<i32>>(1), Some(2));
}

#[test]
fn koji_fault_on_submit_drops_reservation_and_next_pass_submits() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    prio_package(&mut c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    koji.with(|s| s.submit_errors.push_back(fault("build")));
    assert!(run_once(&mut c, &koji, &settings(), now()).is_err());
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 2"),
        0
    );
    assert!(matches!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::Submitted { .. }
    ));
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 2"),
        1
    );
}

#[test]
fn dropped_connection_on_submit_keeps_reservation_until_orphan_timeout() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    koji.with(|s| s.submit_errors.push_back(transport("build")));
    assert!(run_once(&mut c, &koji, &settings(), now()).is_err());
    // Outcome unknown: the reservation blocks a second submission.
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM build WHERE state = 2 AND task_id = 0"
        ),
        1
    );
    assert_eq!(
        run_once(&mut c, &koji, &settings(), now()).expect("pass"),
        Outcome::NothingToDo
    );
    assert_eq!(koji.with(|s| s.submitted.len()), 1);
    // Polling within the timeout keeps it; after it, removes it with a log entry.
    let s = settings();
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), now()).expect("polling");
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE task_id = 0"),
        1
    );
    let later = now() + s.orphan_timeout + Duration::from_secs(60);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE task_id = 0"),
        0
    );
    assert_eq!(
        count(
            &mut c,
            &format!(
                "SELECT count(*) FROM log_entry WHERE base_id = (SELECT base_id FROM package WHERE id = {}) AND message LIKE 'Removing build reservation%'",
                rnv.0
            )
        ),
        1
    );
    assert!(matches!(
        run_once(&mut c, &koji, &s, later).expect("pass"),
        Outcome::Submitted { .. }
    ));
}

/// A reservation of `rnv` whose `build` reply was lost (outcome unknown).
fn lost_reply(c: &mut postgres::Client) -> (koschei_core::model::PackageId, FakeKoji) {
    let coll = collection(c, "f25");
    let rnv = prio_package(c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.submit_errors.push_back(transport("build"));
        s.hub_time = Some(now());
    });
    assert!(run_once(c, &koji, &settings(), now()).is_err());
    (rnv, koji)
}

fn reserved_task(c: &mut postgres::Client, p: koschei_core::model::PackageId) -> Option<i32> {
    c.query_opt(
        "SELECT task_id FROM build WHERE package_id = $1 AND state = 2",
        &[&p.0],
    )
    .expect("build")
    .map(|r| r.get(0))
}

#[test]
fn lost_reply_adopts_the_newest_matching_task_nobody_records() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (rnv, koji) = lost_reply(&mut c);
    // Another package's build already records task 450.
    let other = package(&mut c, koschei_core::model::CollectionId(1), "other");
    build(&mut c, other, 3, 450, ago(60));
    let srpm = "../packages/rnv/1/2.fc25/src/rnv-1-2.fc25.src.rpm";
    let at = |secs: i64| {
        if secs < 0 {
            now() - Duration::from_secs(secs.unsigned_abs())
        } else {
            now() + Duration::from_secs(secs.unsigned_abs())
        }
    };
    koji.with(|s| {
        s.own_tasks = Some(vec![
            // Before the reservation (beyond the clock slack): an earlier submission.
            build_task(400, srpm, Some("f25"), at(-1800)),
            build_task(450, srpm, Some("f25"), at(1)),
            build_task(
                460,
                "../packages/foo/1/2.fc25/src/foo-1-2.fc25.src.rpm",
                Some("f25"),
                at(2),
            ),
            build_task(470, srpm, Some("f26"), at(3)),
            build_task(480, srpm, Some("f25"), at(4)),
            build_task(490, srpm, None, at(5)),
        ]);
    });
    let s = settings();
    let r =
        polling::run_once(&mut c, &koji, &s, polling::Options::default(), now()).expect("polling");
    assert_eq!(r.adopted, 1);
    assert_eq!(reserved_task(&mut c, rnv), Some(480));
    let later = now() + s.orphan_timeout + Duration::from_secs(60);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(
        reserved_task(&mut c, rnv),
        Some(480),
        "kept: it has its task"
    );
    assert_eq!(
        run_once(&mut c, &koji, &s, later).expect("pass"),
        Outcome::NothingToDo
    );
    assert_eq!(koji.with(|s| s.submitted.len()), 1);
}

#[test]
fn lost_reply_is_kept_while_the_hubs_tasks_cannot_be_listed() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (rnv, koji) = lost_reply(&mut c);
    koji.with(|s| s.list_tasks_down = true);
    let s = settings();
    let later = now() + s.orphan_timeout + Duration::from_secs(60);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(reserved_task(&mut c, rnv), Some(0), "nothing decided");
    // Listed again and nothing of it there: released.
    koji.with(|s| s.list_tasks_down = false);
    let r =
        polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(r.deleted, 1);
    assert_eq!(reserved_task(&mut c, rnv), None);
}

#[test]
fn lost_reply_without_a_logged_in_user_is_released_after_the_timeout() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (rnv, koji) = lost_reply(&mut c);
    koji.with(|s| s.own_tasks = None);
    let s = settings();
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), now()).expect("polling");
    assert_eq!(reserved_task(&mut c, rnv), Some(0));
    let later = now() + s.orphan_timeout + Duration::from_secs(60);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(reserved_task(&mut c, rnv), None);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM log_entry WHERE message LIKE '%submission outcome unknown%'"
        ),
        1
    );
}

#[test]
fn two_concurrent_schedulers_submit_exactly_one_build() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    prio_package(&mut c, coll, "rnv", 300, 2);
    let koji = FakeKoji::new();
    koji.with(|s| s.submit_delay = Duration::from_millis(200));
    let s = settings();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (db, koji, s) = (&db, &koji, &s);
                scope.spawn(move || {
                    let mut c = db.connect();
                    run_once(&mut c, koji, s, now()).expect("pass")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Submitted { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(koji.with(|s| s.submitted.len()), 1);
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 2"),
        1
    );
}

#[test]
fn reservation_excludes_a_concurrent_second_submission() {
    use koschei_core::db::engine::{Reservation, Reserve, reserve_submission};
    use koschei_core::model::Evr;
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", 300, 2);
    let last: Option<i32> = c
        .query_one("SELECT last_build_id FROM package WHERE id = $1", &[&rnv.0])
        .expect("p")
        .get(0);
    let evr = Evr::new(None, "1", "2.fc25");
    let r = Reservation {
        package: rnv,
        expected_last_build: last.map(koschei_core::model::BuildId),
        require_tracked: true,
        max_builds: 30,
        evr: &evr,
        repo: None,
        now: now(),
    };
    let results: Vec<Reserve> = std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            let mut c = db.connect();
            let mut tx = c.transaction().expect("tx");
            let got = reserve_submission(&mut tx, &r).expect("reserve");
            std::thread::sleep(Duration::from_millis(300));
            tx.commit().expect("commit");
            got
        });
        std::thread::sleep(Duration::from_millis(100));
        let second = scope.spawn(|| {
            let mut c = db.connect();
            let mut tx = c.transaction().expect("tx");
            let got = reserve_submission(&mut tx, &r).expect("reserve");
            tx.commit().expect("commit");
            got
        });
        vec![first.join().expect("first"), second.join().expect("second")]
    });
    assert!(matches!(results[0], Reserve::Reserved(_)), "{results:?}");
    assert_eq!(results[1], Reserve::RunningBuild);
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM build WHERE state = 2"),
        1
    );
}

#[test]
fn admin_submit_ignores_priority_and_tracking_but_not_running_builds() {
    use koschei_core::service::scheduler::{Attempt, submit_package};
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let rnv = prio_package(&mut c, coll, "rnv", -500, 2);
    set(
        &mut c,
        "UPDATE package SET tracked = false WHERE id = $1",
        rnv.0,
    );
    let koji = FakeKoji::new();
    koji.with(|s| s.hosts[0].task_load = 10.0);
    let got = submit_package(&mut c, &koji, &settings(), rnv, now()).expect("submit");
    assert!(matches!(got, Attempt::Submitted { .. }), "{got:?}");
    let got = submit_package(&mut c, &koji, &settings(), rnv, now()).expect("submit");
    assert_eq!(got, Attempt::Skipped("has a running build"));
    assert_eq!(koji.with(|s| s.submitted.len()), 1);
}
