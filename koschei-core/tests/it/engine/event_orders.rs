//! Unapplied dependency changes after any order of events (issue 14 item 8): a build that
//! completes, a repo that lands, and the passes in between. Whatever the order, once the
//! passes have caught up, the stored changes are the diff between the dependencies of the
//! package's last complete build (resolved in the repo it ran in) and the collection's latest
//! repo, and the dependency priority is theirs.

use koschei_core::model::{PackageId, RepoId, TaskState};
use koschei_core::service::{PassOptions, PassReport, run_pass};

use super::fakes::{FakeKoji, FakeResolver};
use super::harness::*;
use super::repo_resolver::{FOO_DEPS, settings, store_deps, unapplied};

/// Repos 122 (C 1:2-1, no E), 123 (C 1:3-1 and E, which pulls D) and 124 (C 1:4-1 and E).
fn resolver() -> FakeResolver {
    let r = FakeResolver::with_test_repo(122, "1:2-1", false);
    for (repo, c) in [(123, "1:3-1"), (124, "1:4-1")] {
        let other = FakeResolver::with_test_repo(repo, c, true);
        let content = other.repos.into_inner().expect("lock");
        r.repos.lock().expect("lock").extend(content);
    }
    r
}

/// Collection f25 at repo 122; foo (BuildRequires A and F) with an old complete build whose
/// dependencies are known, and a new build (task 10) running, its repo not known yet.
fn setup(c: &mut postgres::Client) -> (PackageId, FakeKoji) {
    let coll = collection(c, "f25");
    set(
        c,
        "UPDATE collection SET latest_repo_id = 122 WHERE id = $1",
        coll.0,
    );
    let p = package(c, coll, "foo");
    let old = build(c, p, 3, 1, ago(6000));
    set(c, "UPDATE build SET repo_id = 122 WHERE id = $1", old.0);
    store_deps(c, old, &FOO_DEPS);
    build(c, p, 2, 10, ago(120));
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.requires
            .insert("foo".into(), vec!["A".into(), "F".into()]);
        s.latest_repo.insert("f25-build".into(), RepoId(122));
    });
    koji.task(10, TaskState::Open, None, ago(120));
    (p, koji)
}

fn pass(c: &mut postgres::Client, koji: &FakeKoji, resolver: &mut FakeResolver) -> PassReport {
    let passive = PassOptions {
        passive: true,
        only: vec![],
    };
    let r = run_pass(c, koji, resolver, &settings(), &passive, now());
    assert!(r.is_success(), "{r:?}");
    r
}

fn dependency_priority(c: &mut postgres::Client, p: PackageId) -> i32 {
    c.query_one(
        "SELECT dependency_priority FROM package WHERE id = $1",
        &[&p.0],
    )
    .expect("package")
    .get(0)
}

fn change(name: &str, prev: Option<&str>, curr: &str, distance: i32) -> ChangeView {
    (
        name.to_owned(),
        prev.map(str::to_owned),
        Some(curr.to_owned()),
        Some(distance),
    )
}

/// The new build ran in repo 122: its dependencies against repo 123.
fn changes_122_to_123() -> Vec<ChangeView> {
    vec![
        change("C", Some("1:2-1.fc22"), "1:3-1.fc22", 2),
        change("D", None, "2:8.b-1.rc1.fc22", 3),
        change("E", None, "0:0.1-1.fc22.1", 2),
    ]
}

/// `package_update` 20: 20/2 + 20/3 + 20/2, truncated.
const PRIORITY_122_TO_123: i32 = 26;

/// The state once the passes caught up, and that a further pass changes nothing.
fn assert_caught_up(
    c: &mut postgres::Client,
    koji: &FakeKoji,
    resolver: &mut FakeResolver,
    p: PackageId,
    changes: &[ChangeView],
    priority: i32,
) {
    assert_eq!(unapplied(c, p), changes);
    assert_eq!(dependency_priority(c, p), priority);
    let r = pass(c, koji, resolver);
    let again = r.repo_resolver.as_ref().map(|r| r.resolved_packages);
    assert_eq!(again, Some(0), "nothing left to resolve: {r:?}");
    assert_eq!(unapplied(c, p), changes);
    assert_eq!(dependency_priority(c, p), priority);
}

#[test]
fn build_completes_then_a_repo_lands_before_the_next_pass() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, koji) = setup(&mut c);
    let mut resolver = resolver();
    // Both between two passes: the build finishes in repo 122, then repo 123 is ready.
    koji.task(10, TaskState::Closed, Some(122), ago(120));
    koji.with(|s| s.latest_repo.insert("f25-build".into(), RepoId(123)));
    // Polling completes the build, the repo resolver resolves foo in 123 with nothing to
    // compare to yet, the build resolver resolves the build in 122; the next pass diffs.
    pass(&mut c, &koji, &mut resolver);
    pass(&mut c, &koji, &mut resolver);
    assert_caught_up(
        &mut c,
        &koji,
        &mut resolver,
        p,
        &changes_122_to_123(),
        PRIORITY_122_TO_123,
    );
}

#[test]
fn repo_lands_while_the_build_runs_then_the_build_completes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, koji) = setup(&mut c);
    let mut resolver = resolver();
    // Polling learns the build's repo (122) and the build resolver resolves it while it runs;
    // then repo 123 lands: nothing to compare to while the build runs.
    koji.task(10, TaskState::Open, Some(122), ago(120));
    pass(&mut c, &koji, &mut resolver);
    let resolved: Option<bool> = c
        .query_one("SELECT deps_resolved FROM build WHERE task_id = 10", &[])
        .expect("build")
        .get(0);
    assert_eq!(resolved, Some(true), "resolved while running");
    koji.with(|s| s.latest_repo.insert("f25-build".into(), RepoId(123)));
    pass(&mut c, &koji, &mut resolver);
    assert!(unapplied(&mut c, p).is_empty());
    // The build completes: its dependencies are already known.
    koji.task(10, TaskState::Closed, Some(122), ago(120));
    pass(&mut c, &koji, &mut resolver);
    assert_caught_up(
        &mut c,
        &koji,
        &mut resolver,
        p,
        &changes_122_to_123(),
        PRIORITY_122_TO_123,
    );
}

#[test]
fn repo_lands_while_the_build_runs_its_repo_unknown_then_it_completes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, koji) = setup(&mut c);
    let mut resolver = resolver();
    koji.with(|s| s.latest_repo.insert("f25-build".into(), RepoId(123)));
    pass(&mut c, &koji, &mut resolver);
    koji.task(10, TaskState::Closed, Some(122), ago(120));
    pass(&mut c, &koji, &mut resolver);
    pass(&mut c, &koji, &mut resolver);
    assert_caught_up(
        &mut c,
        &koji,
        &mut resolver,
        p,
        &changes_122_to_123(),
        PRIORITY_122_TO_123,
    );
}

#[test]
fn two_repos_land_after_the_build_completes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, koji) = setup(&mut c);
    let mut resolver = resolver();
    // The build completes in 122; repos 123 and 124 are both ready before the next pass
    // (Koji's latest is 124).
    koji.task(10, TaskState::Closed, Some(122), ago(120));
    koji.with(|s| s.latest_repo.insert("f25-build".into(), RepoId(124)));
    pass(&mut c, &koji, &mut resolver);
    pass(&mut c, &koji, &mut resolver);
    assert_caught_up(
        &mut c,
        &koji,
        &mut resolver,
        p,
        &[
            change("C", Some("1:2-1.fc22"), "1:4-1.fc22", 2),
            change("D", None, "2:8.b-1.rc1.fc22", 3),
            change("E", None, "0:0.1-1.fc22.1", 2),
        ],
        PRIORITY_122_TO_123,
    );
}

#[test]
fn build_in_the_latest_repo_leaves_no_changes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, koji) = setup(&mut c);
    let mut resolver = resolver();
    koji.with(|s| s.latest_repo.insert("f25-build".into(), RepoId(123)));
    pass(&mut c, &koji, &mut resolver);
    koji.task(10, TaskState::Closed, Some(123), ago(120));
    pass(&mut c, &koji, &mut resolver);
    pass(&mut c, &koji, &mut resolver);
    assert_caught_up(&mut c, &koji, &mut resolver, p, &[], 0);
}

#[test]
fn build_with_unresolvable_dependencies_compares_with_the_previous_build() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    set(
        &mut c,
        "UPDATE collection SET latest_repo_id = 122 WHERE id = $1",
        coll.0,
    );
    let p = package(&mut c, coll, "foo");
    let old = build(&mut c, p, 3, 1, ago(6000));
    set(
        &mut c,
        "UPDATE build SET repo_id = 122 WHERE id = $1",
        old.0,
    );
    store_deps(&mut c, old, &FOO_DEPS);
    let koji = FakeKoji::new();
    koji.with(|s| {
        s.requires
            .insert("foo".into(), vec!["A".into(), "F".into()]);
    });
    let mut resolver = resolver();
    // Repo 121 has no F: a build there cannot be resolved.
    resolver.add_repo(
        121,
        &[("A-0:1-1.fc22.x86_64", &[]), ("R-0:3.3-2.fc22.x86_64", &[])],
    );
    // Repo 123 lands: changes against the old build.
    pass(&mut c, &koji, &mut resolver);
    let against_old = vec![
        change("C", Some("1:2-1.fc22"), "1:3-1.fc22", 2),
        change("E", None, "0:0.1-1.fc22.1", 2),
    ];
    assert_eq!(unapplied(&mut c, p), against_old);
    // A new build runs in repo 121 and completes: polling clears the changes, the build
    // resolver finds its dependencies unresolvable, so the comparison build is the old one
    // again and the changes against it come back.
    build(&mut c, p, 2, 10, ago(120));
    koji.task(10, TaskState::Closed, Some(121), ago(120));
    pass(&mut c, &koji, &mut resolver);
    let resolved: Option<bool> = c
        .query_one("SELECT deps_resolved FROM build WHERE task_id = 10", &[])
        .expect("build")
        .get(0);
    assert_eq!(resolved, Some(false));
    pass(&mut c, &koji, &mut resolver);
    assert_caught_up(&mut c, &koji, &mut resolver, p, &against_old, 20);
}
