//! Repo resolver pass: the original's resolver_test repo cases.

use koschei_core::db::engine as db;
use koschei_core::model::{BuildId, KojiTaskId, Nevra, PackageId, RepoId};
use koschei_core::priority::Priorities;
use koschei_core::service::Settings;
use koschei_core::service::repo_resolver::run_once;

use super::fakes::{FakeKoji, FakeResolver};
use super::harness::*;

/// The original's FOO_DEPS: the test repo with C 1:2-1 and without E.
pub(crate) const FOO_DEPS: [&str; 6] = [
    "A-0:1-1.fc22.x86_64",
    "B-0:4.1-2.fc22.noarch",
    "C-1:2-1.fc22.x86_64",
    "D-2:8.b-1.rc1.fc22.x86_64",
    "F-0:1-1.fc22.noarch",
    "R-0:3.3-2.fc22.x86_64",
];

pub(crate) fn settings() -> Settings {
    Settings {
        priorities: Priorities {
            package_update: 20,
            ..Priorities::default()
        },
        ..Settings::default()
    }
}

pub(crate) fn store_deps(c: &mut postgres::Client, build: BuildId, deps: &[&str]) {
    let nevras: Vec<Nevra> = deps
        .iter()
        .map(|d| Nevra::parse(d).expect("nevra"))
        .collect();
    let ids: Vec<i32> = db::dependency_ids(c, &nevras)
        .expect("deps")
        .into_iter()
        .map(|d| d.0)
        .collect();
    c.execute(
        "UPDATE build SET dependency_ids = $2 WHERE id = $1",
        &[&build.0, &ids],
    )
    .expect("store deps");
}

pub(crate) fn unapplied(c: &mut postgres::Client, p: PackageId) -> Vec<ChangeView> {
    c.query(
        "SELECT coalesce(pd.name, cd.name), pd.epoch || ':' || pd.version || '-' || pd.release,
                cd.epoch || ':' || cd.version || '-' || cd.release, u.distance
         FROM unapplied_change u LEFT JOIN dependency pd ON pd.id = u.prev_dep_id
         LEFT JOIN dependency cd ON cd.id = u.curr_dep_id
         WHERE u.package_id = $1 ORDER BY 1",
        &[&p.0],
    )
    .expect("unapplied")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect()
}

fn foo(c: &mut postgres::Client) -> (PackageId, BuildId) {
    let coll = collection(c, "f25");
    c.execute(
        "UPDATE collection SET latest_repo_id = NULL, latest_repo_resolved = NULL WHERE id = $1",
        &[&coll.0],
    )
    .expect("unknown");
    let p = package(c, coll, "foo");
    c.execute("UPDATE package SET resolved = NULL WHERE id = $1", &[&p.0])
        .expect("unresolved");
    let b = build(c, p, 3, 1, ago(600));
    store_deps(c, b, &FOO_DEPS);
    (p, b)
}

fn koji_with_requires(reqs: &[&str]) -> FakeKoji {
    let k = FakeKoji::new();
    k.with(|s| {
        s.requires
            .insert("foo".into(), reqs.iter().map(|r| (*r).to_owned()).collect());
    });
    k
}

fn resolution_rows(c: &mut postgres::Client, p: PackageId) -> Vec<(bool, Vec<String>)> {
    c.query(
        "SELECT rc.resolved, coalesce(array_agg(rp.problem) FILTER (WHERE rp.id IS NOT NULL), '{}')
         FROM resolution_change rc LEFT JOIN resolution_problem rp ON rp.resolution_id = rc.id
         WHERE rc.package_id = $1 GROUP BY rc.id ORDER BY rc.id",
        &[&p.0],
    )
    .expect("changes")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[test]
fn new_repo_from_unknown_state_gives_changes_and_dependency_priority() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _) = foo(&mut c);
    let koji = koji_with_requires(&["A", "F"]);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.new_repos, 1);
    assert_eq!(
        r.collection_events,
        vec![("f25".to_owned(), "unknown", "ok")]
    );
    let row = c
        .query_one(
            "SELECT latest_repo_id, latest_repo_resolved FROM collection",
            &[],
        )
        .expect("coll");
    assert_eq!(
        (row.get::<_, Option<i32>>(0), row.get::<_, Option<bool>>(1)),
        (Some(123), Some(true))
    );
    let row = c
        .query_one(
            "SELECT resolved, dependency_priority FROM package WHERE id = $1",
            &[&p.0],
        )
        .expect("p");
    assert_eq!(
        (row.get::<_, Option<bool>>(0), row.get::<_, i32>(1)),
        (Some(true), 20)
    );
    assert_eq!(
        unapplied(&mut c, p),
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
    assert_eq!(resolution_rows(&mut c, p), vec![(true, vec![])]);
    // No new repo: nothing is resolved again.
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!((r.new_repos, r.resolved_packages), (0, 0));
}

#[test]
fn unresolvable_buildroot_leaves_packages_unresolved_then_recovers() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _) = foo(&mut c);
    c.execute("UPDATE package SET resolved = NULL WHERE id = $1", &[&p.0])
        .expect("null");
    let koji = koji_with_requires(&["A"]);
    koji.with(|s| s.group = Some(vec!["bar".into()]));
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    {
        let mut repos = resolver.repos.lock().expect("lock");
        let bar = Nevra::parse("bar-0:1-1.fc22.x86_64").expect("nevra");
        repos
            .get_mut(&RepoId(123))
            .expect("repo")
            .insert("bar".into(), (bar, vec!["nonexistent".into()]));
    }
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(
        r.collection_events,
        vec![("f25".to_owned(), "unknown", "unresolved")]
    );
    let row = c
        .query_one(
            "SELECT latest_repo_id, latest_repo_resolved FROM collection",
            &[],
        )
        .expect("coll");
    assert_eq!(
        (row.get::<_, Option<i32>>(0), row.get::<_, Option<bool>>(1)),
        (Some(123), Some(false))
    );
    let problems: Vec<String> = c
        .query("SELECT problem FROM buildroot_problem", &[])
        .expect("bp")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("nonexistent"), "{problems:?}");
    let resolved: Option<bool> = c
        .query_one("SELECT resolved FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(resolved, None);
    // Next repo is fine: collection ok, problems cleared, the package resolved.
    koji.with(|s| {
        s.group = Some(vec!["R".into()]);
        s.latest_repo.insert("f25-build".into(), RepoId(124));
    });
    resolver.add_repo(
        124,
        &[("A-0:1-1.fc22.x86_64", &[]), ("R-0:3.3-2.fc22.x86_64", &[])],
    );
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(
        r.collection_events,
        vec![("f25".to_owned(), "unresolved", "ok")]
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM buildroot_problem"), 0);
    let resolved: Option<bool> = c
        .query_one("SELECT resolved FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(resolved, Some(true));
}

#[test]
fn resolution_history_over_repos() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _) = foo(&mut c);
    let koji = koji_with_requires(&["A", "F"]);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    type Step<'a> = (&'a [&'a str], usize, Option<(&'a str, &'a str)>);
    let steps: [Step<'_>; 6] = [
        (&["A", "F"], 1, None),
        (&["A", "nonexistent"], 2, Some(("ok", "unresolved"))),
        (&["A", "nonexistent"], 2, None),
        (&["A", "getrekt"], 3, None),
        (&["A", "F"], 4, Some(("unresolved", "ok"))),
        (&["A", "F"], 4, None),
    ];
    for (i, (reqs, rows, event)) in steps.into_iter().enumerate() {
        let repo = 123 + i32::try_from(i).expect("small");
        if repo != 123 {
            let copy = resolver
                .repos
                .lock()
                .expect("lock")
                .get(&RepoId(123))
                .cloned()
                .expect("repo");
            resolver
                .repos
                .lock()
                .expect("lock")
                .insert(RepoId(repo), copy);
        }
        koji.with(|s| {
            s.latest_repo.insert("f25-build".into(), RepoId(repo));
            s.requires
                .insert("foo".into(), reqs.iter().map(|r| (*r).to_owned()).collect());
        });
        let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
        let history = resolution_rows(&mut c, p);
        assert_eq!(history.len(), rows, "step {i}: {history:?}");
        let got = r.events.iter().map(|e| (e.prev, e.new)).next();
        assert_eq!(got, event, "step {i}");
        if i == 1 {
            assert!(
                history[1].1.iter().any(|t| t.contains("nonexistent")),
                "{history:?}"
            );
            assert!(
                unapplied(&mut c, p).is_empty(),
                "unresolved packages have no changes"
            );
        }
    }
}

#[test]
fn newly_tracked_package_resolves_without_new_repo() {
    let db = TestDb::new();
    let mut c = db.connect();
    let coll = collection(&mut c, "f25");
    let p = package(&mut c, coll, "foo");
    build(&mut c, p, 3, 1, ago(600));
    c.execute("UPDATE package SET resolved = NULL WHERE id = $1", &[&p.0])
        .expect("null");
    let koji = koji_with_requires(&["A"]);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!((r.new_repos, r.resolved_packages), (0, 1));
    let resolved: Option<bool> = c
        .query_one("SELECT resolved FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(resolved, Some(true));
}

#[test]
fn koji_failure_mid_pass_keeps_repo_new_and_next_pass_completes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _) = foo(&mut c);
    let koji = koji_with_requires(&["A", "F"]);
    koji.with(|s| s.requires_down = true);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    assert!(run_once(&mut c, &koji, &mut resolver, &settings(), now()).is_err());
    let repo: Option<i32> = c
        .query_one("SELECT latest_repo_id FROM collection", &[])
        .expect("c")
        .get(0);
    assert_eq!(repo, None, "the repo is not marked done");
    koji.with(|s| s.requires_down = false);
    run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(unapplied(&mut c, p).len(), 2);
    let repo: Option<i32> = c
        .query_one("SELECT latest_repo_id FROM collection", &[])
        .expect("c")
        .get(0);
    assert_eq!(repo, Some(123));
}

#[test]
fn result_dropped_when_last_build_changes_is_resolved_again() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _) = foo(&mut c);
    let koji = koji_with_requires(&["A", "F"]);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    let url_db = &db;
    let mut other = url_db.connect();
    // A real build is registered while the resolver runs.
    let pid = p;
    *resolver.during.lock().expect("lock") = Some(Box::new(move || {
        other
            .execute(
                "INSERT INTO build (package_id, state, task_id, started, version, release, repo_id, real)
                 VALUES ($1, 3, 77, now(), '2', '1.fc25', 123, true)",
                &[&pid.0],
            )
            .expect("insert real build");
    }));
    run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    let resolved: Option<bool> = c
        .query_one("SELECT resolved FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(resolved, None, "queued for the next pass");
    assert!(unapplied(&mut c, p).is_empty());
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.resolved_packages, 1);
    let resolved: Option<bool> = c
        .query_one("SELECT resolved FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(resolved, Some(true));
    let _ = KojiTaskId(0);
}

#[test]
fn overlapping_passes_record_no_repeated_resolution_history() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (p, _) = foo(&mut c);
    let koji = koji_with_requires(&["A", "F"]);
    let mut resolver = FakeResolver::with_test_repo(123, "1:3-1", true);
    run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(resolution_rows(&mut c, p), vec![(true, vec![])]);
    // Repo 124 arrives; a real build is registered while the package is being resolved,
    // so its result is dropped (resolved NULL) and the next pass resolves it again.
    let copy = resolver
        .repos
        .lock()
        .expect("lock")
        .get(&RepoId(123))
        .cloned()
        .expect("repo");
    resolver
        .repos
        .lock()
        .expect("lock")
        .insert(RepoId(124), copy);
    koji.with(|s| s.latest_repo.insert("f25-build".into(), RepoId(124)));
    let mut other = db.connect();
    let pid = p;
    *resolver.during.lock().expect("lock") = Some(Box::new(move || {
        other
            .execute(
                "INSERT INTO build (package_id, state, task_id, started, version, release, repo_id, real)
                 VALUES ($1, 3, 77, now(), '2', '1.fc25', 124, true)",
                &[&pid.0],
            )
            .expect("insert real build");
    }));
    run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    let resolved: Option<bool> = c
        .query_one("SELECT resolved FROM package WHERE id = $1", &[&p.0])
        .expect("p")
        .get(0);
    assert_eq!(resolved, None, "dropped, queued for the next pass");
    let r = run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    assert_eq!(r.resolved_packages, 1);
    assert_eq!(
        resolution_rows(&mut c, p),
        vec![(true, vec![])],
        "resolvability never changed: one history row"
    );
    // An unresolvable result is still recorded once, and recovering once more.
    koji.with(|s| {
        s.requires
            .insert("foo".into(), vec!["A".into(), "nonexistent".into()])
    });
    c.execute("UPDATE package SET resolved = NULL WHERE id = $1", &[&p.0])
        .expect("null");
    run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    c.execute("UPDATE package SET resolved = NULL WHERE id = $1", &[&p.0])
        .expect("null");
    run_once(&mut c, &koji, &mut resolver, &settings(), now()).expect("pass");
    let rows = resolution_rows(&mut c, p);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(!rows[1].0);
}
