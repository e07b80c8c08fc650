//! Engine test helpers: a throwaway migrated database per test (the shared
//! [`koschei_core::db::testing::TestDb`]) and small row builders.

use std::time::{Duration, SystemTime};

use koschei_core::model::{BuildId, CollectionId, PackageId};
use postgres::Client;

/// A fresh migrated database, dropped with the value.
pub(crate) struct TestDb(koschei_core::db::testing::TestDb);

impl TestDb {
    pub(crate) fn new() -> TestDb {
        TestDb(
            koschei_core::db::testing::TestDb::new()
                .unwrap_or_else(|e| panic!("{}", koschei_core::db::report(&e))),
        )
    }

    pub(crate) fn connect(&self) -> Client {
        self.0.connect().expect("connect to the test database")
    }
}

/// 2017-10-10 10:50 UTC, the original scheduler test's clock.
pub(crate) fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_632_600)
}

pub(crate) fn ago(minutes: u64) -> SystemTime {
    now() - Duration::from_secs(minutes * 60)
}

/// Collection f25 like the original's tests: resolved, latest repo 123.
pub(crate) fn collection(c: &mut Client, name: &str) -> CollectionId {
    let tag = if name == "f25" {
        "f25-build".to_owned()
    } else {
        format!("{name}-build")
    };
    let row = c
        .query_one(
            "INSERT INTO collection (name, display_name, target, dest_tag, build_tag, latest_repo_id, latest_repo_resolved)
             VALUES ($1, 'Fedora Rawhide', $1, $1, $2, 123, true) RETURNING id",
            &[&name, &tag],
        )
        .expect("insert collection");
    CollectionId(row.get(0))
}

pub(crate) fn package(c: &mut Client, coll: CollectionId, name: &str) -> PackageId {
    c.execute(
        "INSERT INTO base_package (name) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&name],
    )
    .expect("insert base package");
    let row = c
        .query_one(
            "INSERT INTO package (base_id, name, collection_id, tracked, resolved)
             SELECT id, $1, $2, true, true FROM base_package WHERE name = $1 RETURNING id",
            &[&name, &coll.0],
        )
        .expect("insert package");
    PackageId(row.get(0))
}

/// A build: state 2/3/5, version 1, release 1.fc25, repo 1 unless running.
pub(crate) fn build(
    c: &mut Client,
    pkg: PackageId,
    state: i32,
    task: i32,
    started: SystemTime,
) -> BuildId {
    let repo: Option<i32> = (state != 2).then_some(1);
    let resolved: Option<bool> = (state != 2).then_some(true);
    let row = c
        .query_one(
            "INSERT INTO build (package_id, state, task_id, started, version, release, repo_id, deps_resolved)
             VALUES ($1, $2, $3, $4, '1', '1.fc25', $5, $6) RETURNING id",
            &[&pkg.0, &state, &task, &started, &repo, &resolved],
        )
        .expect("insert build");
    BuildId(row.get(0))
}

pub(crate) fn set(c: &mut Client, sql: &str, id: i32) {
    c.execute(sql, &[&id]).expect(sql);
}

pub(crate) fn count(c: &mut Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).expect(sql).get(0)
}

/// A dependency change as the tests read it back: name, old EVR, new EVR, distance.
pub(crate) type ChangeView = (String, Option<String>, Option<String>, Option<i32>);
