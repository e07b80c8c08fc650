//! `config show`, `db migrate`, `db status`, `status` and exit codes.

use koschei_core::db::testing::TestDb;

use crate::support::{fails, koschei, ok, run};

#[test]
fn status_on_an_empty_migrated_database() {
    let db = TestDb::new().unwrap();
    let latest = koschei_core::db::migrate::latest_version();
    let out = ok(&db, &["status"]);
    assert!(
        out.contains(&format!("schema version: {latest} (current)")),
        "{out}"
    );
    assert!(out.contains("collections:    none"), "{out}");
    assert!(out.contains("running builds: 0"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&ok(&db, &["status", "--json"])).unwrap();
    assert_eq!(json["schema"]["current"], latest);
    assert_eq!(json["collections"], serde_json::json!([]));
    assert_eq!(json["running_builds"], serde_json::json!([]));
}

#[test]
fn migrate_is_idempotent_from_the_command_line() {
    let db = TestDb::empty().unwrap();
    let out = ok(&db, &["status"]);
    assert!(out.contains("none (empty database)"), "{out}");
    let first = ok(&db, &["db", "migrate"]);
    assert!(first.contains("applied migration 1 `initial`"), "{first}");
    assert!(
        first.contains("applied migration 2 `web_indexes`"),
        "{first}"
    );
    let second = ok(&db, &["db", "migrate"]);
    assert!(!second.contains("applied migration"), "{second}");
    let status: serde_json::Value =
        serde_json::from_str(&ok(&db, &["db", "status", "--json"])).unwrap();
    assert_eq!(
        status["current"],
        koschei_core::db::migrate::latest_version()
    );
    assert_eq!(status["pending"], serde_json::json!([]));
}

#[test]
fn newer_schema_exits_with_code_4() {
    let db = TestDb::new().unwrap();
    db.connect()
        .unwrap()
        .execute(
            "INSERT INTO schema_migration (version, name, checksum) VALUES (42, 'x', 'y')",
            &[],
        )
        .unwrap();
    let err = fails(&db, &["db", "migrate"], 4);
    assert!(
        err.contains("schema is at version 42, newer than this koschei knows"),
        "{err}"
    );
}

#[test]
fn unreachable_database_exits_with_code_4_and_masks_the_password() {
    let mut c = koschei(None);
    c.env(
        "KOSCHEI_DATABASE_URL",
        "postgresql://u:hunter2@127.0.0.1:1/x",
    )
    .arg("status");
    let (code, _, err) = run(c);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("postgresql://u:********@127.0.0.1:1/x"),
        "{err}"
    );
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn config_errors_exit_with_code_5_naming_file_line_and_key() {
    let path = std::env::temp_dir().join(format!("koschei-cli-bad-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "[frontend]\npackages_per_page = 10\nmystery = true\n",
    )
    .unwrap();
    let mut c = koschei(None);
    c.arg("--config").arg(&path).args(["config", "show"]);
    let (code, _, err) = run(c);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("line 3, key `frontend.mystery`: unknown key"),
        "{err}"
    );
}

#[test]
fn config_show_masks_the_database_password() {
    let mut c = koschei(None);
    c.env("KOSCHEI_DATABASE_URL", "postgresql://u:hunter2@db/x")
        .args(["config", "show", "--json"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["database"]["url"], "postgresql://u:********@db/x");
    assert_eq!(json["koji"]["max_builds"], 30);
}

#[test]
fn usage_errors_exit_with_code_2() {
    let mut c = koschei(None);
    c.arg("no-such-command");
    assert_eq!(run(c).0, 2);
}

#[test]
fn status_lists_collections_and_running_builds() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    c.batch_execute(
        "INSERT INTO collection (name, display_name, target, dest_tag, build_tag, latest_repo_id, latest_repo_resolved)
             VALUES ('f40', 'Fedora 40', 'f40', 'f40', 'f40-build', 5, false);
         INSERT INTO base_package (name) VALUES ('bash'), ('rpm');
         INSERT INTO package (base_id, name, collection_id, tracked, resolved)
             SELECT b.id, b.name, c.id, true, b.name = 'bash' FROM base_package b, collection c;
         INSERT INTO build (package_id, state, task_id, started)
             SELECT id, 2, 4242, now() FROM package WHERE name = 'bash';",
    )
    .unwrap();
    let out = ok(&db, &["status"]);
    assert!(
        out.contains("f40              unresolved        2        2        0          1"),
        "{out}"
    );
    assert!(
        out.contains("running builds: 1\n  bash (f40) task 4242 since "),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&db, &["status", "--json"])).unwrap();
    assert_eq!(json["collections"][0]["state"], "unresolved");
    assert_eq!(json["collections"][0]["unresolved"], 1);
    assert_eq!(json["running_builds"][0]["task_id"], 4242);
    assert_eq!(json["running_builds"][0]["package"], "bash");
}

#[test]
fn psql_runs_on_the_database_without_a_password_on_the_command_line() {
    let db = TestDb::new().unwrap();
    let out = ok(&db, &["psql", "-Atc", "SELECT count(*) FROM collection"]);
    assert_eq!(out.trim(), "0");
    let err = fails(&db, &["psql", "-Atc", "SELECT * FROM nonexistent"], 1);
    assert!(err.contains("`psql` exited with"), "{err}");
}

#[test]
fn private_cluster_is_shared_by_concurrent_commands_and_stopped_by_the_last() {
    let state = std::env::temp_dir().join(format!("koschei-cli-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state).unwrap();
    let cluster = state.join("koschei/postgresql");

    let mut slow = koschei(None);
    slow.env("XDG_STATE_HOME", &state)
        .args(["psql", "-Atc", "SELECT 'slept', pg_sleep(3)"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let slow = slow.spawn().unwrap();
    let socket = cluster.join("run/.s.PGSQL.5432");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !socket.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        socket.exists(),
        "the first command did not start the cluster"
    );

    // A second command reuses the running cluster and must not stop it under the first.
    let mut quick = koschei(None);
    quick.env("XDG_STATE_HOME", &state).args(["db", "migrate"]);
    let (code, out, err) = run(quick);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("private cluster in `{}`", cluster.display())),
        "{out}"
    );

    let slow = slow.wait_with_output().unwrap();
    assert!(
        slow.status.success(),
        "{}",
        String::from_utf8_lossy(&slow.stderr)
    );
    assert!(String::from_utf8_lossy(&slow.stdout).starts_with("slept|"));
    // Whichever finished last stopped the server.
    assert!(!cluster.join("data/postmaster.pid").exists());
    std::fs::remove_dir_all(&state).unwrap();
}

/// Runs `koschei <args>` with a standard output whose reader is already gone (as
/// `koschei status | head` once `head` exits); returns (exit code, stderr).
fn with_closed_stdout(db: Option<&TestDb>, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut c = koschei(db);
    c.args(args).stdout(writer);
    let (code, _, err) = run(c);
    (code, err)
}

#[test]
fn a_closed_stdout_ends_commands_quietly() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    c.batch_execute(
        "INSERT INTO collection (name, display_name, target, dest_tag, build_tag, latest_repo_id, latest_repo_resolved)
             VALUES ('f44', 'Fedora 44', 'f44', 'f44', 'f44-build', 5, true);
         INSERT INTO base_package (name) VALUES ('rnv');
         INSERT INTO package (base_id, name, collection_id, tracked, resolved)
             SELECT b.id, b.name, c.id, true, true FROM base_package b, collection c;",
    )
    .unwrap();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["config", "show"],
        &["collection", "list", "--json"],
        &["package", "show", "rnv"],
    ] {
        let (code, err) = with_closed_stdout(Some(&db), args);
        assert_eq!(code, 0, "koschei {args:?}: {err}");
        assert!(!err.contains("panicked"), "koschei {args:?}: {err}");
        assert!(!err.contains("error"), "koschei {args:?}: {err}");
    }
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../koschei-solver/tests/data/impact"
    );
    let (code, err) = with_closed_stdout(
        None,
        &[
            "resolve",
            "--repo",
            &format!("{fixture}/old"),
            "--sources",
            &format!("{fixture}/source"),
            "--cache-dir",
            &format!("{}/closed-stdout-cache", std::env::temp_dir().display()),
        ],
    );
    assert_eq!((code, err.contains("error")), (0, false), "resolve: {err}");
}
