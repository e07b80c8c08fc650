//! A lost reply to `build` (issue 14 item 16), over real HTTP against the fake hub: the hub
//! created the task but the answer never came back. Polling looks for the session's `build`
//! task of the reserved SRPM (`listTasks`) and adopts it, so the package is never submitted
//! twice; only when the hub has no such task is the reservation released after
//! `orphan_timeout`.

use std::time::Duration;

use koschei_core::koji::{Client, ClientOptions, Login};
use koschei_core::service::scheduler::{self, Outcome};
use koschei_core::service::{Settings, polling};
use koschei_fakehub::{Failure, FakeHub, TaskState};

use super::harness::*;

fn client(hub: &FakeHub) -> Client {
    Client::new(ClientOptions {
        server: hub.url(),
        topurl: hub.topurl(),
        weburl: hub.weburl(),
        max_retries: 2,
        retry_interval: Duration::from_millis(5),
        offline_retry_interval: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
        auth_timeout: Duration::from_secs(10),
        login: Login::Password {
            user: "koschei".into(),
            password: "koschei".into(),
        },
        ..ClientOptions::default()
    })
    .expect("client")
}

/// Collection f40 (the fixtures' tags, target and ready repo 2) with foo tracked, resolved,
/// built long ago and at a high manual priority: the scheduler submits it.
fn setup(c: &mut postgres::Client) -> koschei_core::model::PackageId {
    let coll = collection(c, "f40");
    set(
        c,
        "UPDATE collection SET latest_repo_id = 2 WHERE id = $1",
        coll.0,
    );
    let p = package(c, coll, "foo");
    // A task id the hub does not have.
    build(c, p, 3, 9001, ago(6000));
    set(
        c,
        "UPDATE package SET manual_priority = 5000 WHERE id = $1",
        p.0,
    );
    p
}

fn settings() -> Settings {
    Settings {
        build_arches: vec!["x86_64".into()],
        load_threshold: 1.0,
        ..Settings::default()
    }
}

/// (state, task id) of the package's running builds.
fn running(c: &mut postgres::Client) -> Vec<(i32, i32)> {
    c.query(
        "SELECT state, task_id FROM build WHERE state = 2 ORDER BY id",
        &[],
    )
    .expect("builds")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

fn log_count(c: &mut postgres::Client, like: &str) -> i64 {
    c.query_one(
        "SELECT count(*) FROM log_entry WHERE message LIKE $1",
        &[&like],
    )
    .expect("log")
    .get(0)
}

#[test]
fn the_task_of_a_lost_build_reply_is_adopted_and_never_submitted_twice() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let koji = client(&hub);
    let db = TestDb::new();
    let mut c = db.connect();
    setup(&mut c);
    let s = settings();
    // The hub creates the task, then the connection drops; the client's retry is refused
    // (same call number): the outcome is unknown and the reservation stays.
    hub.fail_calls("build", 1, Failure::DropAfterCommit);
    let r = scheduler::run_once(&mut c, &koji, &s, now());
    assert!(r.is_err(), "{r:?}");
    let submitted = hub.submitted_builds();
    assert_eq!(submitted.len(), 1, "the hub created one task");
    let task = i32::try_from(submitted[0].task_id).expect("small id");
    assert_eq!(running(&mut c), vec![(2, 0)]);
    // Polling finds the task on the hub and records it.
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), now()).expect("polling");
    assert_eq!(
        running(&mut c),
        vec![(2, task)],
        "the hub's task is adopted"
    );
    assert_eq!(log_count(&mut c, "Adopting Koji task%"), 1);
    // Long after the orphan timeout the build is still the hub's task, and nothing is
    // submitted again while it runs.
    let later = now() + s.orphan_timeout + Duration::from_secs(600);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(running(&mut c), vec![(2, task)]);
    assert_eq!(
        scheduler::run_once(&mut c, &koji, &s, later).expect("scheduler"),
        Outcome::NothingToDo
    );
    assert_eq!(hub.submitted_builds().len(), 1, "never submitted twice");
    // The task completes: the build is recorded like any other.
    hub.finish_task(submitted[0].task_id, TaskState::Closed);
    let r =
        polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert_eq!(r.finished, 1);
    assert!(running(&mut c).is_empty());
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM build WHERE state = 3 AND task_id = {task}")
        ),
        1
    );
}

#[test]
fn a_reservation_without_a_task_on_the_hub_is_released_after_the_timeout() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let koji = client(&hub);
    let db = TestDb::new();
    let mut c = db.connect();
    setup(&mut c);
    let s = settings();
    // Every attempt is dropped before the hub sees it: no task exists.
    hub.fail_calls("build", 3, Failure::Drop);
    assert!(scheduler::run_once(&mut c, &koji, &s, now()).is_err());
    assert!(hub.submitted_builds().is_empty());
    assert_eq!(running(&mut c), vec![(2, 0)]);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), now()).expect("polling");
    assert_eq!(running(&mut c), vec![(2, 0)], "kept within the timeout");
    let later = now() + s.orphan_timeout + Duration::from_secs(60);
    polling::run_once(&mut c, &koji, &s, polling::Options::default(), later).expect("polling");
    assert!(running(&mut c).is_empty(), "released");
    assert_eq!(log_count(&mut c, "Removing build reservation%"), 1);
    assert!(matches!(
        scheduler::run_once(&mut c, &koji, &s, later).expect("scheduler"),
        Outcome::Submitted { .. }
    ));
    assert_eq!(hub.submitted_builds().len(), 1);
}
