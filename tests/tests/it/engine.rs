//! The engine loop through `koschei run --once`: repo bump, unapplied changes, scheduling,
//! completion, applied changes, and the failure cases.

use koschei_core::koji::Fault;
use koschei_fakehub::rpmmd::Package;
use koschei_fakehub::{Failure, TaskState};

use crate::support::{COMMAND_LIMIT, KillAfter, KillOnDrop, libfoo, tracked_app};

const RUNNING: i32 = 2;
const COMPLETE: i32 = 3;
const FAILED: i32 = 5;

fn change(
    name: &str,
    prev: &str,
    curr: &str,
    distance: Option<i32>,
) -> (String, String, String, Option<i32>) {
    (name.to_owned(), prev.to_owned(), curr.to_owned(), distance)
}

#[test]
fn dependency_update_becomes_a_scratch_build_with_applied_changes() {
    let mut w = tracked_app("flow");
    // The real build is registered and resolved; nothing to build yet.
    assert_eq!(
        w.builds("app"),
        vec![(COMPLETE, true, w.builds("app")[0].2)]
    );
    assert_eq!(w.package_col::<Option<bool>>("app", "resolved"), Some(true));
    assert!(w.unapplied("app").is_empty());
    assert!(w.hub.submitted_builds().is_empty());

    // The library moves to 1.1: unapplied changes with distances, dependency priority
    // 256/1 + 256/2, and one scratch build in the same pass.
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    assert_eq!(
        w.unapplied("app"),
        vec![
            change("libfoo", "1.0-1", "1.1-1", Some(2)),
            change("libfoo-devel", "1.0-1", "1.1-1", Some(1)),
        ]
    );
    assert_eq!(w.package_col::<i32>("app", "dependency_priority"), 384);
    let submitted = w.hub.submitted_builds();
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    let sub = &submitted[0];
    assert_eq!(sub.target.as_deref(), Some("e2e"));
    assert_eq!(
        sub.opts.get("arch_override").and_then(|v| v.as_str()),
        Some("aarch64 x86_64"),
        "the tag's arches that the configuration allows"
    );
    assert_eq!(
        sub.opts.get("scratch"),
        Some(&koschei_core::koji::Value::Bool(true))
    );
    assert!(sub.src.ends_with("app-1.0-1.src.rpm"), "{}", sub.src);
    assert_eq!(sub.priority, Some(30), "koji.task_priority");
    let builds = w.builds("app");
    assert_eq!(builds.len(), 2);
    assert_eq!(
        builds[1],
        (RUNNING, false, i32::try_from(sub.task_id).unwrap())
    );

    // Another pass while it runs submits nothing more.
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1);

    // Koji finishes the build; polling records it and the build resolver writes the
    // applied changes (against the real build's dependencies).
    w.hub.finish_task(sub.task_id, TaskState::Closed);
    w.pass(&[]);
    let builds = w.builds("app");
    assert_eq!(builds[1].0, COMPLETE);
    let arches: Vec<String> = w
        .sql()
        .query(
            "SELECT t.arch FROM koji_task t JOIN build b ON b.id = t.build_id \
             WHERE NOT b.real ORDER BY t.arch",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(arches, vec!["aarch64", "x86_64"]);
    assert_eq!(
        w.applied("app"),
        vec![
            change("libfoo", "1.0-1", "1.1-1", Some(2)),
            change("libfoo-devel", "1.0-1", "1.1-1", Some(1)),
        ]
    );
    assert!(w.unapplied("app").is_empty());
    assert_eq!(w.package_col::<i32>("app", "dependency_priority"), 0);
    let deps_resolved: bool = w.scalar("SELECT deps_resolved FROM build WHERE NOT real");
    assert!(deps_resolved);
    // Only the newest build keeps its dependency list.
    let kept: i64 = w.scalar("SELECT count(*) FROM build WHERE dependency_ids IS NOT NULL");
    assert_eq!(kept, 1);
    assert_eq!(w.hub.submitted_builds().len(), 1);
}

#[test]
fn package_becomes_unresolvable_then_resolvable_again() {
    let mut w = tracked_app("unresolvable");
    w.add_repo(&[Package::new("libfoo", "1.0-1", "x86_64")]);
    w.pass(&[]);
    assert_eq!(
        w.package_col::<Option<bool>>("app", "resolved"),
        Some(false)
    );
    let problems: Vec<String> = w
        .sql()
        .query(
            "SELECT p.problem FROM resolution_problem p JOIN resolution_change r ON r.id = p.resolution_id \
             WHERE r.id = (SELECT max(id) FROM resolution_change)",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        problems,
        vec!["No package found for: libfoo-devel".to_owned()]
    );
    assert!(
        w.hub.submitted_builds().is_empty(),
        "unresolved packages are not built"
    );

    w.add_repo(&libfoo("1.0-1"));
    w.pass(&[]);
    assert_eq!(w.package_col::<Option<bool>>("app", "resolved"), Some(true));
    let history: Vec<bool> = w
        .sql()
        .query("SELECT resolved FROM resolution_change ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(history, vec![true, false, true]);
}

#[test]
fn failed_build_bumps_build_priority() {
    let mut w = tracked_app("failed");
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    let task = w.hub.submitted_builds()[0].task_id;
    w.hub.finish_task(task, TaskState::Failed);
    w.pass(&[]);
    assert_eq!(w.builds("app")[1].0, FAILED);
    assert_eq!(w.package_col::<i32>("app", "build_priority"), 200);
    assert_eq!(
        w.package_col::<i32>("app", "last_complete_build_state"),
        FAILED
    );
    // 200 - 30 (time priority floor) is under the threshold: no new build.
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1);
}

#[test]
fn busy_koji_gets_no_build_until_load_drops() {
    let mut w = tracked_app("load");
    w.add_repo(&libfoo("1.1-1"));
    w.hub.set_host_load(2.0, 2.0, true);
    let out = w.pass(&[]);
    assert!(
        out.contains("scheduler: nothing submitted: Koji is over the load threshold"),
        "{out}"
    );
    assert!(w.hub.submitted_builds().is_empty());
    assert_eq!(w.builds("app").len(), 1);
    w.hub.set_host_load(0.0, 2.0, true);
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1);
}

#[test]
fn passive_mode_never_writes_to_koji() {
    let mut w = tracked_app("passive");
    w.add_repo(&libfoo("1.1-1"));
    let logins_before = w
        .hub
        .calls()
        .iter()
        .filter(|c| c.method == "sslLogin")
        .count();
    w.pass(&["--passive"]);
    assert_eq!(w.unapplied("app").len(), 2, "passive mode still resolves");
    assert!(w.hub.submitted_builds().is_empty());
    let logins = w
        .hub
        .calls()
        .iter()
        .filter(|c| c.method == "sslLogin")
        .count();
    assert_eq!(logins, logins_before, "passive mode does not log in");
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1);
}

#[test]
fn concurrent_runs_submit_exactly_one_build() {
    let mut w = tracked_app("concurrent");
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&["--only", "polling,repo_resolver,build_resolver"]);
    assert_eq!(w.unapplied("app").len(), 2);
    let children: Vec<_> = (0..4)
        .map(|_| {
            w.command(&["run", "--once"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        let _watchdog = KillAfter::new(c.id(), COMMAND_LIMIT);
        assert!(c.wait().expect("wait").success());
    }
    assert_eq!(w.hub.submitted_builds().len(), 1);
    let running: i64 = w.scalar("SELECT count(*) FROM build WHERE state = 2");
    assert_eq!(running, 1);
}

#[test]
fn koji_fault_in_the_middle_of_resolution_loses_nothing() {
    let mut w = tracked_app("fault");
    w.add_repo(&libfoo("1.1-1"));
    let old_repo: Option<i32> = w.scalar("SELECT latest_repo_id FROM collection");
    // getRPMDeps (a multicall) fails after the buildroot was resolved.
    w.hub.fail_calls(
        "multiCall",
        1,
        Failure::Fault(Fault::new(1000, "GenericError: database is on fire")),
    );
    let (code, _, err) = w.run(&["run", "--once", "--only", "repo_resolver"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("database is on fire"), "{err}");
    // Nothing half-done: the collection still points at the old repo, so the next pass
    // resolves every package in the new one.
    let repo: Option<i32> = w.scalar("SELECT latest_repo_id FROM collection");
    assert_eq!(repo, old_repo);
    assert!(w.unapplied("app").is_empty());
    w.pass(&[]);
    assert_eq!(w.unapplied("app").len(), 2);
    assert_eq!(w.hub.submitted_builds().len(), 1);
}

#[test]
fn dropped_connections_mid_pass_lose_nothing() {
    let mut w = tracked_app("drop");
    w.add_repo(&libfoo("1.1-1"));
    // Two drops in a row exhaust the one retry of the resolver's multicall.
    w.hub.fail_calls("multiCall", 2, Failure::Drop);
    let (code, _, err) = w.run(&["run", "--once", "--only", "repo_resolver"]);
    assert_eq!(code, 1, "{err}");
    assert!(w.unapplied("app").is_empty());
    // The reply to `build` is lost after Koji accepted it: the retry is refused by the hub
    // (same call number), the reservation stays, and no pass submits the package again.
    w.hub.fail_calls("build", 1, Failure::DropAfterCommit);
    let (code, _, err) = w.run(&["run", "--once"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(w.unapplied("app").len(), 2);
    let submitted = w.hub.submitted_builds();
    assert_eq!(submitted.len(), 1);
    let task = i32::try_from(submitted[0].task_id).unwrap();
    assert_eq!(
        w.builds("app")[1],
        (RUNNING, false, 0),
        "reserved, task unknown"
    );
    // The next polling pass finds the task on the hub (listTasks) and adopts it.
    let out = w.pass(&[]);
    assert!(
        out.contains("1 Koji tasks of lost submissions adopted"),
        "{out}"
    );
    assert_eq!(w.builds("app")[1], (RUNNING, false, task), "the hub's task");
    let adopted: i64 =
        w.scalar("SELECT count(*) FROM log_entry WHERE message LIKE 'Adopting Koji task%'");
    assert_eq!(adopted, 1);
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1, "never submitted twice");
    let running: i64 = w.scalar("SELECT count(*) FROM build WHERE state = 2");
    assert_eq!(running, 1);
    // The adopted task completes like any build.
    w.hub.finish_task(submitted[0].task_id, TaskState::Closed);
    w.pass(&[]);
    assert_eq!(w.builds("app")[1], (COMPLETE, false, task));
}

#[test]
fn build_killed_by_a_koji_fault_is_dropped_and_submitted_again() {
    let mut w = tracked_app("taskfault");
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    let first = w.hub.submitted_builds()[0].task_id;
    // Koji's own failure (LockError), not the package's: the build is forgotten, the
    // dependency changes and their priority stay, and the package is built again.
    w.hub
        .fail_task_with(first, Fault::new(1001, "LockError: row is locked"));
    w.pass(&[]);
    let submitted = w.hub.submitted_builds();
    assert_eq!(submitted.len(), 2, "{submitted:?}");
    let builds = w.builds("app");
    assert_eq!(builds.len(), 2, "{builds:?}");
    assert_eq!(
        builds[1],
        (RUNNING, false, i32::try_from(submitted[1].task_id).unwrap())
    );
    assert_eq!(w.unapplied("app").len(), 2);
    assert_eq!(w.package_col::<i32>("app", "build_priority"), 0);
}

#[test]
fn newly_tracked_package_resolves_without_a_new_repo() {
    let w = tracked_app("newlytracked");
    w.hub.add_build_with_task(
        crate::support::TAG,
        crate::support::TAG,
        "tool-3.0-1",
        &["gcc", "libfoo"],
    );
    w.pass(&["--only", "polling"]);
    assert_eq!(w.package_col::<Option<bool>>("tool", "resolved"), None);
    w.ok(&["add-pkg", "--collection", "e2e", "tool"]);
    let out = w.pass(&[]);
    assert!(out.contains("repo_resolver: 0 new repos"), "{out}");
    assert_eq!(
        w.package_col::<Option<bool>>("tool", "resolved"),
        Some(true)
    );
    assert!(w.hub.submitted_builds().is_empty());
}

/// Waits up to 60 s for `cond`.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn service_loop_builds_records_and_stops_on_sigterm() {
    let mut w = tracked_app("service");
    w.add_repo(&libfoo("1.1-1"));
    let mut child = KillOnDrop(
        w.command(&["service", "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    eventually("a submitted build", || !w.hub.submitted_builds().is_empty());
    let task = w.hub.submitted_builds()[0].task_id;
    w.hub.finish_task(task, TaskState::Closed);
    eventually("applied changes", || w.applied("app").len() == 2);
    assert_eq!(w.builds("app")[1].0, COMPLETE);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut status = None;
    eventually("the service to stop", || {
        status = child.0.try_wait().expect("try_wait");
        status.is_some()
    });
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert_eq!(w.hub.submitted_builds().len(), 1);
}

#[test]
fn concurrent_runs_never_submit_a_package_twice() {
    let mut w = crate::support::World::new("concurrent2");
    w.add_repo(&libfoo("1.0-1"));
    for nvr in ["app-1.0-1", "lib-user-2.0-1", "other-3.0-1"] {
        w.hub.add_build_with_task(
            crate::support::TAG,
            crate::support::TAG,
            nvr,
            &["libfoo-devel"],
        );
    }
    w.pass(&["--only", "polling"]);
    w.ok(&["add-pkg", "--collection", "e2e", "app", "lib-user", "other"]);
    w.pass(&[]);
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&["--only", "polling,repo_resolver,build_resolver"]);
    // Three schedulable packages, eight overlapping passes (max_builds is 3).
    let children: Vec<_> = (0..8)
        .map(|_| {
            KillOnDrop(
                w.command(&["run", "--once", "--only", "scheduler"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn"),
            )
        })
        .collect();
    for mut c in children {
        let _watchdog = KillAfter::new(c.0.id(), COMMAND_LIMIT);
        assert!(c.0.wait().expect("wait").success());
    }
    let mut srcs: Vec<String> = w
        .hub
        .submitted_builds()
        .into_iter()
        .map(|b| b.src)
        .collect();
    assert!(!srcs.is_empty());
    let n = srcs.len();
    srcs.sort();
    srcs.dedup();
    assert_eq!(srcs.len(), n, "a package was submitted twice: {srcs:?}");
    let per_package: i64 = w.scalar(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM build WHERE state = 2 GROUP BY package_id) x",
    );
    assert_eq!(per_package, 1);
    let running: i64 = w.scalar("SELECT count(*) FROM build WHERE state = 2");
    assert_eq!(usize::try_from(running).unwrap(), n);
}

#[test]
fn submit_build_submits_now_and_refuses_unknown_names() {
    let w = tracked_app("submit-build");
    assert!(w.hub.submitted_builds().is_empty());

    let (code, _, err) = w.run(&["submit-build", "-c", "e2e", "app", "nosuchpkg"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Packages don't exist: nosuchpkg"), "{err}");
    assert!(w.hub.submitted_builds().is_empty());

    let out = w.ok(&["submit-build", "-c", "e2e", "app"]);
    assert!(
        out.contains("Submitted scratch build of app in e2e"),
        "{out}"
    );
    let submitted = w.hub.submitted_builds();
    assert_eq!(submitted.len(), 1);
    assert!(
        submitted[0].src.ends_with("app-1.0-1.src.rpm"),
        "{:?}",
        submitted[0]
    );
    let logged: i64 = w.scalar(
        "SELECT count(*) FROM log_entry WHERE message LIKE 'Submitted scratch build of app%'",
    );
    assert_eq!(logged, 1);

    // A running build is never doubled, even by an admin.
    let (code, out, _) = w.run(&["submit-build", "-c", "e2e", "app"]);
    assert_eq!(code, 1);
    assert!(out.contains("Not submitted app in e2e"), "{out}");
    assert_eq!(w.hub.submitted_builds().len(), 1);
    // Every command logged out of the sessions it opened.
    assert_eq!(w.hub.open_sessions(), 0);
}
