//! Builds nothing itself: runs the example binaries cargo built (`target/<profile>/examples`)
//! against the fake hub speaking real XML-RPC and a test database, and checks what they print.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::{Path, PathBuf};
use std::process::Command;

use koschei_core::db::collection::{self as coll, NewCollection};
use koschei_core::db::package as pkg;
use koschei_core::db::testing::TestDb;
use koschei_fakehub::FakeHub;
use koschei_fakehub::scenario;

/// The example binary `name`, built by cargo for this test run (`cargo test` builds examples).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/run-<hash> -> target/<profile>/examples/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    dir.join("examples").join(name)
}

fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(example(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run example {name}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(label: &str) -> Tmp {
        let p =
            std::env::temp_dir().join(format!("koschei-examples-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
    fn path(&self, sub: &str) -> String {
        self.0.join(sub).display().to_string()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hub(tmp: &Tmp) -> FakeHub {
    let hub = FakeHub::start().expect("fake hub");
    scenario::setup(&hub, &tmp.0.join("repo1"), "1.0-1").expect("scenario");
    hub
}

#[test]
fn resolve_in_koji_tag_resolves_against_the_latest_repo() {
    let tmp = Tmp::new("resolve");
    let hub = hub(&tmp);
    let out = run(
        "resolve_in_koji_tag",
        &[
            &hub.url(),
            &hub.topurl(),
            scenario::TAG,
            scenario::BUILD_TAG,
            &tmp.path("cache"),
            "foo-cli",
            "legacy-app",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("foo-cli: resolved ("), "{out}");
    assert!(lines[1].starts_with("legacy-app: UNRESOLVED"), "{out}");
    assert!(lines[1].contains("libbar-devel"), "{out}");
}

#[test]
fn repo_resolver_pass_runs_embedded_and_stores_the_resolution() {
    let tmp = Tmp::new("pass");
    let hub = hub(&tmp);
    let db = TestDb::new().expect("test database");
    let mut c = db.connect().expect("connect");
    let mut new = NewCollection::new("demo", "Demo", scenario::TAG, scenario::BUILD_TAG);
    new.dest_tag = scenario::TAG.to_owned();
    let collection = coll::create(&mut c, &new).expect("collection");
    let ids: Vec<_> = ["foo-cli", "legacy-app"]
        .iter()
        .map(|n| pkg::insert(&mut c, collection.id, n).expect("package"))
        .collect();
    pkg::set_tracked(&mut c, &ids, true).expect("track");
    let out = run(
        "repo_resolver_pass",
        &[
            &hub.url(),
            &hub.topurl(),
            db.url().expose(),
            &tmp.path("cache"),
        ],
    );
    assert!(
        out.contains("repo_resolver: 1 new repos, 2 packages resolved"),
        "{out}"
    );
    let resolved: Vec<(String, Option<bool>)> = c
        .query(
            "SELECT name, resolved FROM package WHERE tracked ORDER BY name",
            &[],
        )
        .expect("query")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        resolved,
        [
            ("foo-cli".to_owned(), Some(true)),
            ("legacy-app".to_owned(), Some(false))
        ]
    );
}

#[test]
fn package_priority_explains_each_term_and_the_skip_reasons() {
    let db = TestDb::new().expect("test database");
    let mut c = db.connect().expect("connect");
    let mut new = NewCollection::new("demo", "Demo", scenario::TAG, scenario::BUILD_TAG);
    new.dest_tag = scenario::TAG.to_owned();
    let collection = coll::create(&mut c, &new).expect("collection");
    let ids: Vec<_> = ["foo-cli", "legacy-app"]
        .iter()
        .map(|n| pkg::insert(&mut c, collection.id, n).expect("package"))
        .collect();
    pkg::set_tracked(&mut c, &ids, true).expect("track");
    // What the engine would have stored: a resolved base buildroot, a complete build 34 hours
    // ago for each package, one package resolved with a dependency update, one unresolved.
    c.batch_execute(
        "UPDATE collection SET latest_repo_id = 1, latest_repo_resolved = true;
         INSERT INTO build (package_id, state, task_id, started, version, release, repo_id)
         SELECT id, 3, 100 + id, now() - interval '34 hours', '1.0', '1', 1 FROM package;
         UPDATE package SET resolved = true, dependency_priority = 256 WHERE name = 'foo-cli';
         UPDATE package SET resolved = false WHERE name = 'legacy-app';",
    )
    .expect("engine state");
    let url = db.url().expose().to_owned();
    let out = run("package_priority", &[&url, "demo", "foo-cli"]);
    assert_eq!(
        out,
        "foo-cli in Demo: priority 389.26 (threshold 256)\n\
         = manual 0 + static 0 + coefficient 1 * (dependency 256 + build 0 + time 133.26 after 34.0 h)\n"
    );
    let out = run("package_priority", &[&url, "demo", "legacy-app"]);
    assert_eq!(
        out,
        "legacy-app in Demo: not schedulable (threshold 256)\n\
         = manual 0 + static 0 + coefficient 1 * (dependency 0 + build 0 + time 133.26 after 34.0 h)\n\
         - Package dependencies are not resolvable\n"
    );
}
