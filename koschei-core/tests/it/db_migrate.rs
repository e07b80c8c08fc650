//! Migrations on real databases.

use koschei_core::db::Error;
use koschei_core::db::migrate::{self, MIGRATIONS, Migration};
use koschei_core::db::testing::TestDb;

fn tables(client: &mut postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn migrating_an_empty_database_creates_the_schema() {
    let db = TestDb::empty().unwrap();
    let mut c = db.connect().unwrap();
    assert!(tables(&mut c).is_empty());
    let before = migrate::status(&mut c, MIGRATIONS).unwrap();
    assert_eq!(before.current(), None);
    assert_eq!(before.pending.len(), MIGRATIONS.len());

    let applied = migrate::migrate(&mut c).unwrap();
    assert_eq!(
        applied,
        MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    let t = tables(&mut c);
    for want in [
        "collection",
        "package",
        "build",
        "koji_task",
        "dependency",
        "schema_migration",
        "log_entry",
    ] {
        assert!(t.iter().any(|x| x == want), "{want} missing from {t:?}");
    }
    let after = migrate::status(&mut c, MIGRATIONS).unwrap();
    assert!(after.is_current());
    assert_eq!(after.applied[0].checksum, MIGRATIONS[0].checksum());
    assert_eq!(
        migrate::check_current(&mut c).unwrap(),
        migrate::latest_version()
    );
}

#[test]
fn migrating_twice_changes_nothing() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    let before = migrate::status(&mut c, MIGRATIONS).unwrap();
    assert!(migrate::migrate(&mut c).unwrap().is_empty());
    let after = migrate::status(&mut c, MIGRATIONS).unwrap();
    assert_eq!(before.applied, after.applied);
}

#[test]
fn unmigrated_database_is_reported_outdated() {
    let db = TestDb::empty().unwrap();
    let mut c = db.connect().unwrap();
    let e = migrate::check_current(&mut c).unwrap_err();
    assert!(
        matches!(e, Error::SchemaOutdated { found: None, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("koschei db migrate"), "{e}");
}

#[test]
fn database_newer_than_the_binary_is_refused() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    c.execute(
        "INSERT INTO schema_migration (version, name, checksum) VALUES (999, 'future', 'x')",
        &[],
    )
    .unwrap();
    let e = migrate::migrate(&mut c).unwrap_err();
    assert!(matches!(e, Error::SchemaTooNew { found: 999, .. }), "{e}");
    assert!(
        e.to_string().contains("newer than this koschei knows"),
        "{e}"
    );
    assert!(matches!(
        migrate::check_current(&mut c).unwrap_err(),
        Error::SchemaTooNew { .. }
    ));
}

#[test]
fn changed_migration_sql_is_detected() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    c.execute(
        "UPDATE schema_migration SET checksum = 'abc' WHERE version = 1",
        &[],
    )
    .unwrap();
    let e = migrate::status(&mut c, MIGRATIONS).unwrap_err();
    assert!(
        matches!(e, Error::ChecksumMismatch { version: 1, .. }),
        "{e}"
    );
}

#[test]
fn failed_migration_leaves_nothing_behind() {
    let db = TestDb::empty().unwrap();
    let mut c = db.connect().unwrap();
    let list = [
        Migration {
            version: 1,
            name: "good",
            sql: "CREATE TABLE good (id int)",
        },
        Migration {
            version: 2,
            name: "broken",
            sql: "CREATE TABLE half (id int); INSERT INTO half VALUES (1); SELECT no_such_function()",
        },
    ];
    let e = migrate::migrate_with(&mut c, &list).unwrap_err();
    assert!(matches!(e, Error::Migration { version: 2, .. }), "{e}");
    let chain = koschei_core::db::report(&e);
    assert!(chain.contains("no_such_function"), "{chain}");
    let t = tables(&mut c);
    assert_eq!(t, ["good", "schema_migration"]);
    let status = migrate::status(&mut c, &list).unwrap();
    assert_eq!(status.current(), Some(1));
    assert_eq!(status.pending, [2]);
    // The lock was released: a fixed list applies on the same connection.
    let fixed = [
        list[0],
        Migration {
            version: 2,
            name: "fixed",
            sql: "CREATE TABLE half (id int)",
        },
    ];
    assert_eq!(migrate::migrate_with(&mut c, &fixed).unwrap(), [2]);
}

#[test]
fn concurrent_migrations_apply_once() {
    let db = TestDb::empty().unwrap();
    let url = db.url().clone();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = koschei_core::db::connect(&url).unwrap();
                migrate::migrate(&mut c).unwrap()
            })
        })
        .collect();
    let applied: Vec<Vec<i32>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        applied.iter().filter(|a| !a.is_empty()).count(),
        1,
        "{applied:?}"
    );
    let mut c = db.connect().unwrap();
    assert!(migrate::status(&mut c, MIGRATIONS).unwrap().is_current());
}

#[test]
fn test_databases_are_separate_and_dropped() {
    let a = TestDb::new().unwrap();
    let name = a.name().to_owned();
    {
        let b = TestDb::new().unwrap();
        assert_ne!(a.name(), b.name());
        let mut cb = b.connect().unwrap();
        cb.execute(
            "INSERT INTO collection (name, display_name, target, dest_tag, build_tag) VALUES ('f1', 'F1', 't', 'd', 'b')",
            &[],
        )
        .unwrap();
        let mut ca = a.connect().unwrap();
        let n: i64 = ca
            .query_one("SELECT count(*) FROM collection", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0);
    }
    drop(a);
    let admin_url = koschei_core::config::test_database_url();
    if let Ok(mut admin) = postgres::Client::connect(&admin_url, postgres::NoTls) {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "test database {name} was not dropped");
    }
}

#[test]
fn grant_access_lets_the_unprivileged_role_use_the_tables() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    // Roles are global to the server: use a name unique to this database, odd characters included.
    let role = format!("{}-Reader", db.name());
    let create: String = c
        .query_one(
            "SELECT format('CREATE ROLE %I NOLOGIN', $1::text)",
            &[&role],
        )
        .unwrap()
        .get(0);
    c.batch_execute(&create).unwrap();
    let result = (|| -> Result<(bool, bool), Error> {
        migrate::grant_access(&mut c, &role)?;
        let row = c
            .query_one(
                "SELECT has_table_privilege($1, 'package', 'INSERT'), has_sequence_privilege($1, 'package_id_seq', 'USAGE')",
                &[&role],
            )
            .map_err(|source| Error::Query { what: "check privileges", source })?;
        Ok((row.get(0), row.get(1)))
    })();
    drop(c);
    // Drop the database first so the role holds no privileges any more. (On a private
    // test cluster the role stays; it is harmless there.)
    drop(db);
    let mut admin =
        postgres::Client::connect(&koschei_core::config::test_database_url(), postgres::NoTls);
    if let Ok(admin) = admin.as_mut() {
        let drop_role: String = admin
            .query_one(
                "SELECT format('DROP ROLE IF EXISTS %I', $1::text)",
                &[&role],
            )
            .unwrap()
            .get(0);
        admin.batch_execute(&drop_role).unwrap();
    }
    assert_eq!(result.unwrap(), (true, true));
}

/// `(version, name, sql)` of every `NNNN_name.sql` file in `src/db/migrations/`.
fn migration_files() -> Vec<(i32, String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db/migrations");
    let mut files: Vec<(i32, String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_owned();
            let (number, name) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{} is not named NNNN_name.sql", p.display()));
            let version = number
                .parse()
                .unwrap_or_else(|_| panic!("{} is not named NNNN_name.sql", p.display()));
            (
                version,
                name.to_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_migration_file_is_registered_and_applied() {
    let files = migration_files();
    assert!(files.len() >= 2, "{files:?}");
    let registered: Vec<(i32, String, String)> = MIGRATIONS
        .iter()
        .map(|m| (m.version, m.name.to_owned(), m.sql.to_owned()))
        .collect();
    let names = |v: &[(i32, String, String)]| -> Vec<(i32, String)> {
        v.iter().map(|(n, name, _)| (*n, name.clone())).collect()
    };
    assert_eq!(
        names(&registered),
        names(&files),
        "migrate::MIGRATIONS and the files in src/db/migrations/ differ"
    );
    assert_eq!(
        registered, files,
        "a registered migration's SQL is not its file's"
    );

    let db = TestDb::empty().unwrap();
    let mut c = db.connect().unwrap();
    migrate::migrate(&mut c).unwrap();
    let applied: Vec<(i32, String)> = migrate::status(&mut c, MIGRATIONS)
        .unwrap()
        .applied
        .into_iter()
        .map(|a| (a.version, a.name))
        .collect();
    assert_eq!(applied, names(&files));
    // The package list's index exists (migration 2's, replaced by migration 7's).
    let index: bool = c
        .query_one(
            "SELECT to_regclass('ix_package_web_order') IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(index, "ix_package_web_order missing after migrate");
}
