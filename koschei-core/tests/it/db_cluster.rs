//! The private PostgreSQL cluster: start, reuse, stale pid file.

use koschei_core::db::cluster::find_server_bin_dir_in;
use koschei_core::db::{Cluster, ClusterError, ClusterOptions};

use crate::support::TempDir;

fn koschei_db_count(cluster: &Cluster) -> i64 {
    let mut c = koschei_core::db::connect(cluster.url()).unwrap();
    c.query_one(
        "SELECT count(*) FROM pg_database WHERE datname = 'koschei'",
        &[],
    )
    .unwrap()
    .get(0)
}

#[test]
fn private_cluster_starts_is_reused_stops_with_its_last_user_and_survives_a_stale_pid_file() {
    let dir = TempDir::new("cluster");
    let opts = ClusterOptions { unsafe_fast: true };

    let first = Cluster::ensure(dir.path(), &opts).unwrap();
    assert!(first.started_here());
    assert_eq!(koschei_db_count(&first), 1);
    assert!(first.url().expose().contains("/run"));
    assert!(dir.path().join("run/.s.PGSQL.5432").exists());

    // A second handle reuses the running server and leaves it running when dropped.
    let second = Cluster::ensure(dir.path(), &opts).unwrap();
    assert!(!second.started_here());
    drop(second);
    assert_eq!(koschei_db_count(&first), 1);

    // The last handle to drop stops the server, even if it did not start it.
    let third = Cluster::ensure(dir.path(), &opts).unwrap();
    assert!(!third.started_here());
    drop(first);
    assert_eq!(koschei_db_count(&third), 1);
    drop(third);
    assert!(!dir.path().join("data/postmaster.pid").exists());

    // keep_running leaves it up; an explicit stop takes it down.
    let mut first = Cluster::ensure(dir.path(), &opts).unwrap();
    assert!(first.started_here());
    first.keep_running();
    drop(first);
    assert!(dir.path().join("data/postmaster.pid").exists());
    let first = Cluster::ensure(dir.path(), &opts).unwrap();
    assert!(!first.started_here());
    first.stop().unwrap();
    assert!(!dir.path().join("data/postmaster.pid").exists());

    // A crash leaves postmaster.pid behind; it names a process that does not exist.
    std::fs::write(dir.path().join("data/postmaster.pid"), "999999999\n/x\n").unwrap();
    let fourth = Cluster::ensure(dir.path(), &opts).unwrap();
    assert!(fourth.started_here());
    assert_eq!(koschei_db_count(&fourth), 1);
    drop(fourth);
    // Dropping the handle that started it stops the server.
    assert!(!dir.path().join("data/postmaster.pid").exists());
}

#[test]
fn test_harness_starts_a_private_cluster_when_no_server_answers() {
    // Run one database test in a child process whose test server URL points at a port
    // where nothing listens; the harness must fall back to its private cluster.
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "db_migrate::migrating_twice_changes_nothing",
            "--nocapture",
        ])
        .env(
            "KOSCHEI_TEST_DATABASE_URL",
            "postgresql://postgres@127.0.0.1:1/postgres",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    let uid = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap();
    let socket = std::env::temp_dir().join(format!("koschei-test-pg-{uid}/run/.s.PGSQL.5432"));
    assert!(socket.exists(), "{} missing", socket.display());
}

#[test]
fn server_binaries_are_found_newest_first_or_named_as_missing() {
    let dir = TempDir::new("pgbin");
    let e = find_server_bin_dir_in(&dir.path().join("lib"), &[dir.path().join("bin")]).unwrap_err();
    assert!(matches!(e, ClusterError::NoServerBinaries));
    assert!(
        e.to_string()
            .contains("install the Debian package `postgresql`"),
        "{e}"
    );

    for v in ["13", "15", "9"] {
        dir.write(&format!("lib/{v}/bin/initdb"), "");
        dir.write(&format!("lib/{v}/bin/pg_ctl"), "");
    }
    dir.write("lib/16/bin/initdb", ""); // incomplete: no pg_ctl
    let found = find_server_bin_dir_in(&dir.path().join("lib"), &[]).unwrap();
    assert_eq!(found, dir.path().join("lib/15/bin"));

    dir.write("bin/initdb", "");
    dir.write("bin/pg_ctl", "");
    let found = find_server_bin_dir_in(
        &dir.path().join("nothing"),
        &[dir.path().join("lib"), dir.path().join("bin")],
    )
    .unwrap();
    assert_eq!(found, dir.path().join("bin"));
}
