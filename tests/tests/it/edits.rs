//! The admin edits through the engine (issue 15 part 3): a suspended package and one within its
//! minimum rebuild interval get no build (#128, #326, #310), a cancelation request is carried
//! out by the next polling pass, `resolve-now` resolves again without a new repo, and
//! `run --once --json` reports the pass.

use koschei_core::koji::Fault;
use koschei_fakehub::Failure;

use crate::support::{libfoo, tracked_app};

const RUNNING: i32 = 2;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn service<'a>(pass: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    pass["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == name)
        .unwrap_or_else(|| panic!("no {name} in {pass}"))
}

#[test]
fn suspended_package_gets_no_build_until_resumed() {
    let mut w = tracked_app("suspend");
    w.ok(&["suspend", "-c", "e2e", "app", "--until", "2099-01-01"]);
    // A dependency update that would build it at once (see engine.rs).
    w.add_repo(&libfoo("1.1-1"));
    let pass = json(&w.ok(&["run", "--once", "--json"]));
    assert_eq!(w.unapplied("app").len(), 2, "changes are still computed");
    assert_eq!(w.package_col::<i32>("app", "dependency_priority"), 384);
    assert!(w.hub.submitted_builds().is_empty());
    assert_eq!(
        service(&pass, "scheduler")["report"]["outcome"],
        "nothing_to_do"
    );
    let shown = w.ok(&["package", "show", "app"]);
    assert!(
        shown.contains("not scheduled: Scheduling is suspended until 2099-01-01 00:00 UTC"),
        "{shown}"
    );

    w.ok(&["resume", "-c", "e2e", "app"]);
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1);
    assert_eq!(w.builds("app")[1].0, RUNNING);
}

#[test]
fn rebuild_interval_stops_the_resubmission_after_a_koji_fault() {
    // #310: a build killed by Koji's own failure is deleted, so the package was built again
    // at once, over and over (engine.rs `build_killed_by_a_koji_fault_...` without a limit).
    let mut w = tracked_app("interval");
    w.ok(&[
        "edit-package",
        "-c",
        "e2e",
        "app",
        "--min-rebuild-interval",
        "24",
    ]);
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    let first = w.hub.submitted_builds()[0].task_id;
    let submitted_at: Option<std::time::SystemTime> = w.package_col("app", "last_submitted");
    assert!(submitted_at.is_some());
    w.hub
        .fail_task_with(first, Fault::new(1001, "LockError: row is locked"));
    w.pass(&[]);
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 1, "not submitted again");
    assert_eq!(w.builds("app").len(), 1, "the faulted build is gone");
    assert_eq!(
        w.package_col::<Option<std::time::SystemTime>>("app", "last_submitted"),
        submitted_at,
        "the submission time survives the deleted build"
    );
    let shown = w.ok(&["package", "show", "app"]);
    assert!(
        shown.contains("not scheduled: Minimum rebuild interval not elapsed: no build before "),
        "{shown}"
    );

    w.ok(&[
        "edit-package",
        "-c",
        "e2e",
        "app",
        "--min-rebuild-interval",
        "0",
    ]);
    w.pass(&[]);
    assert_eq!(w.hub.submitted_builds().len(), 2);
}

#[test]
fn cancel_request_is_carried_out_by_the_next_polling_pass() {
    let mut w = tracked_app("cancel");
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    let task = w.hub.submitted_builds()[0].task_id;
    let out = w.ok(&["cancel-build", "-c", "e2e", "app"]);
    assert!(
        out.contains(&format!("task_id={task}) cancelation requested")),
        "{out}"
    );
    // A passive pass never writes to Koji: the build keeps running.
    w.pass(&["--passive", "--only", "polling"]);
    assert_ne!(w.hub.task_state(task), Some(3), "not CANCELED");
    assert!(!w.hub.calls().iter().any(|c| c.method == "cancelTask"));
    assert_eq!(w.builds("app").len(), 2);

    let pass = json(&w.ok(&["run", "--once", "--only", "polling", "--json"]));
    assert!(w.hub.calls().iter().any(|c| c.method == "cancelTask"));
    assert_eq!(w.hub.task_state(task), Some(3), "CANCELED");
    assert_eq!(w.builds("app").len(), 1, "the canceled build is deleted");
    assert_eq!(service(&pass, "polling")["report"]["deleted"], 1);
    let (code, _, err) = w.run(&["cancel-build", "-c", "e2e", "app"]);
    assert_eq!(code, 1);
    assert!(err.contains("has no running build"), "{err}");
}

#[test]
fn resolve_now_resolves_again_without_a_new_repo() {
    let w = tracked_app("resolvenow");
    assert_eq!(w.package_col::<Option<bool>>("app", "resolved"), Some(true));
    let history: i64 = w.scalar("SELECT count(*) FROM resolution_change");
    w.ok(&["resolve-now", "-c", "e2e", "app"]);
    assert_eq!(w.package_col::<Option<bool>>("app", "resolved"), None);
    let out = w.pass(&["--only", "repo_resolver"]);
    assert!(
        out.contains("repo_resolver: 0 new repos, 1 packages resolved"),
        "{out}"
    );
    assert_eq!(w.package_col::<Option<bool>>("app", "resolved"), Some(true));
    let after: i64 = w.scalar("SELECT count(*) FROM resolution_change");
    assert_eq!(after, history, "same answer: no new history row");
}

#[test]
fn run_once_json_reports_each_service_and_failures() {
    let mut w = tracked_app("json");
    w.add_repo(&libfoo("1.1-1"));
    let pass = json(&w.ok(&["run", "--once", "--json"]));
    assert_eq!(pass["success"], true);
    let names: Vec<&str> = pass["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["polling", "repo_resolver", "build_resolver", "scheduler"]
    );
    for s in pass["services"].as_array().unwrap() {
        assert_eq!(s["status"], "ok", "{s}");
        assert!(s["duration_seconds"].as_f64().unwrap() >= 0.0, "{s}");
        assert_eq!(s["error"], serde_json::Value::Null);
    }
    let repo = service(&pass, "repo_resolver");
    assert_eq!(repo["report"]["new_repos"], 1);
    assert_eq!(repo["report"]["resolved_packages"], 1);
    assert!(
        repo["resolver"]["requests"].as_u64().unwrap() >= 1,
        "{repo}"
    );
    let sched = service(&pass, "scheduler");
    let task = w.hub.submitted_builds()[0].task_id;
    assert_eq!(sched["report"]["outcome"], "submitted");
    assert_eq!(sched["report"]["submitted"]["package"], "app");
    assert_eq!(sched["report"]["submitted"]["collection"], "e2e");
    assert_eq!(sched["report"]["submitted"]["task_id"], task);
    assert!(
        sched["summary"]
            .as_str()
            .unwrap()
            .starts_with("submitted a scratch build of app in e2e (build "),
        "{sched}"
    );
    assert_eq!(
        pass["messages"],
        serde_json::Value::Null,
        "publishing is off"
    );

    // A failing service: its status, error and line; the others still ran.
    w.hub.fail_calls(
        "getRepo",
        1,
        Failure::Fault(Fault::new(1000, "GenericError: database is on fire")),
    );
    w.add_repo(&libfoo("1.2-1"));
    let (code, out, err) = w.run(&["run", "--once", "--json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let pass = json(&out);
    assert_eq!(pass["success"], false);
    let repo = service(&pass, "repo_resolver");
    assert_eq!(repo["status"], "failed");
    assert_eq!(repo["report"], serde_json::Value::Null);
    let error = repo["error"].as_str().unwrap();
    assert!(error.contains("database is on fire"), "{error}");
    assert_eq!(repo["summary"], format!("failed: {error}"));
    for other in ["polling", "build_resolver", "scheduler"] {
        assert_eq!(service(&pass, other)["status"], "ok", "{pass}");
    }
    assert_eq!(
        service(&pass, "scheduler")["report"]["outcome"],
        "nothing_to_do",
        "app's build runs"
    );
}
