//! Build resolver pass: the original's process_build cases plus the dead-repo fix (#168).

use koschei_core::model::{BuildId, RepoId};
use koschei_core::service::build_resolver::run_once;

use super::fakes::{FakeKoji, FakeResolver};
use super::harness::*;
use super::repo_resolver::{FOO_DEPS, settings, store_deps};

fn applied(c: &mut postgres::Client, b: BuildId) -> Vec<ChangeView> {
    c.query(
        "SELECT coalesce(pd.name, cd.name), pd.epoch || ':' || pd.version || '-' || pd.release,
                cd.epoch || ':' || cd.version || '-' || cd.release, a.distance
         FROM applied_change a LEFT JOIN dependency pd ON pd.id = a.prev_dep_id
         LEFT JOIN dependency cd ON cd.id = a.curr_dep_id
         WHERE a.build_id = $1 ORDER BY 1",
        &[&b.0],
    )
    .expect("applied")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect()
}

fn deps_of(c: &mut postgres::Client, b: BuildId) -> (Option<bool>, Vec<String>) {
    let row = c
        .query_one("SELECT deps_resolved FROM build WHERE id = $1", &[&b.0])
        .expect("b");
    let names = c
        .query(
            "SELECT d.name || '-' || d.epoch || ':' || d.version || '-' || d.release || '.' || d.arch
             FROM build b, unnest(b.dependency_ids) u(id) JOIN dependency d ON d.id = u.id
             WHERE b.id = $1 ORDER BY 1",
            &[&b.0],
        )
        .expect("deps")
        .iter()
        .map(|r| r.get(0))
        .collect();
    (row.get(0), names)
}

/// foo with an old build (repo 122, FOO_DEPS) and a new complete build in repo 123.
fn setup(c: &mut postgres::Client) -> (koschei_core::model::PackageId, BuildId, BuildId) {
    let coll = collection(c, "f25");
    let p = package(c, coll, "foo");
    let old = build(c, p, 3, 1, ago(600));
    set(c, "UPDATE build SET repo_id = 122 WHERE id = $1", old.0);
    store_deps(c, old, &FOO_DEPS);
    let new = build(c, p, 3, 2, ago(60));
    set(
        c,
        "UPDATE build SET repo_id = 123, deps_resolved = NULL WHERE id = $1",
        new.0,
    );
    (p, old, new)
}

fn koji() -> FakeKoji {
    let k = FakeKoji::new();
    k.with(|s| {
        s.requires
            .insert("foo".into(), vec!["A".into(), "F".into()]);
    });
    k
}

#[test]
fn resolved_build_gets_dependencies_and_applied_changes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (_, old, new) = setup(&mut c);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_once(&mut c, &koji(), &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.resolved, 1);
    let (resolved, deps) = deps_of(&mut c, new);
    assert_eq!(resolved, Some(true));
    assert_eq!(
        deps,
        vec![
            "A-0:1-1.fc22.x86_64",
            "B-0:4.1-2.fc22.noarch",
            "C-1:3-1.fc22.x86_64",
            "D-2:8.b-1.rc1.fc22.x86_64",
            "E-0:0.1-1.fc22.1.noarch",
            "F-0:1-1.fc22.noarch",
            "R-0:3.3-2.fc22.x86_64",
        ]
    );
    assert_eq!(
        applied(&mut c, new),
        vec![
            (
                "C".to_owned(),
                Some("1:2-1.fc22".to_owned()),
                Some("1:3-1.fc22".to_owned()),
                Some(2)
            ),
            (
                "E".to_owned(),
                None,
                Some("0:0.1-1.fc22.1".to_owned()),
                Some(2)
            ),
        ]
    );
    assert_eq!(
        deps_of(&mut c, old).1,
        Vec::<String>::new(),
        "only the newest build keeps its set"
    );
    // Processed once.
    let r = run_once(&mut c, &koji(), &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.resolved, 0);
}

#[test]
fn unresolvable_last_build_forces_rebuild() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _, new) = setup(&mut c);
    let k = koji();
    k.with(|s| {
        s.requires.insert("foo".into(), vec!["nonexistent".into()]);
    });
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_once(&mut c, &k, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.unresolved, 1);
    assert_eq!(deps_of(&mut c, new).0, Some(false));
    let prio: i32 = c
        .query_one("SELECT build_priority FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(prio, 3000);
}

#[test]
fn running_build_without_repo_is_not_processed() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "foo");
    let b = build(&mut c, p, 2, 5, ago(10));
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let k = koji();
    let r = run_once(&mut c, &k, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!((r.resolved, r.unresolved), (0, 0));
    assert_eq!(deps_of(&mut c, b).0, None);
    assert!(k.with(|s| s.calls.is_empty()));
}

#[test]
fn dead_repo_falls_back_to_latest_repo_instead_of_losing_changes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _, new) = setup(&mut c);
    set(&mut c, "UPDATE build SET repo_id = 50 WHERE id = $1", new.0);
    let k = koji();
    k.with(|s| s.repos.remove(&RepoId(50)));
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_once(&mut c, &k, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!((r.resolved, r.fallback), (1, 1));
    assert_eq!(deps_of(&mut c, new).0, Some(true));
    assert_eq!(applied(&mut c, new).len(), 2);
    let prio: i32 = c
        .query_one("SELECT build_priority FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(prio, 0);
}

#[test]
fn dead_repo_without_usable_fallback_marks_unresolved() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _, new) = setup(&mut c);
    set(&mut c, "UPDATE build SET repo_id = 50 WHERE id = $1", new.0);
    c.batch_execute("UPDATE collection SET latest_repo_resolved = false")
        .expect("coll");
    let k = koji();
    k.with(|s| s.repos.remove(&RepoId(50)));
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_once(&mut c, &k, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.unresolved, 1);
    assert_eq!(deps_of(&mut c, new).0, Some(false));
    let prio: i32 = c
        .query_one("SELECT build_priority FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(prio, 3000);
}

#[test]
fn koji_failure_leaves_build_unprocessed_until_next_pass() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (_, _, new) = setup(&mut c);
    let k = koji();
    k.with(|s| s.requires_down = true);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    assert!(run_once(&mut c, &k, &mut resolver, &settings(), now()).is_err());
    assert_eq!(deps_of(&mut c, new).0, None);
    k.with(|s| s.requires_down = false);
    let r = run_once(&mut c, &k, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.resolved, 1);
    assert_eq!(applied(&mut c, new).len(), 2);
}
