//! `koschei service run` across a PostgreSQL restart: a private cluster this test starts,
//! stops and starts again under the running service (issue 14 item 7: before, the service
//! exited with code 4 at the first failed reconnect).

use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use koschei_core::db::cluster::{Cluster, ClusterOptions};

use crate::support::{koschei, run};
use koschei_fakehub::process::capture_stderr;

fn wait_for(log: &Mutex<String>, what: &str, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if log.lock().expect("log lock").contains(what) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "no `{what}` within {limit:?}:\n{}",
        log.lock().expect("log lock")
    );
}

#[test]
fn service_run_keeps_running_across_a_database_restart() {
    let dir = std::env::temp_dir().join(format!("koschei-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = ClusterOptions { unsafe_fast: true };
    let cluster = Cluster::ensure(&dir, &options).expect("private cluster");
    let url = cluster.url().expose().to_owned();
    let config = dir.join("koschei.toml");
    std::fs::write(&config, "[services.polling]\ninterval = 1\n").expect("config");
    let with_db = |args: &[&str]| {
        let mut c = koschei(None);
        c.env("KOSCHEI_DATABASE_URL", &url)
            .env("KOSCHEI_CONFIG", &config)
            .args(args);
        c
    };
    let (code, _, err) = run(with_db(&["db", "migrate"]));
    assert_eq!(code, 0, "{err}");

    let mut child = with_db(&["-v", "service", "run", "--passive", "--only", "polling"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("service run");
    let log = capture_stderr(&mut child);
    wait_for(&log, "services started", Duration::from_secs(10));

    cluster.stop().expect("stop the cluster");
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "service run exited while the database was down:\n{}",
        log.lock().expect("log lock")
    );
    wait_for(&log, "reconnecting", Duration::from_secs(5));

    let cluster = Cluster::ensure(&dir, &options).expect("restart the cluster");
    wait_for(
        &log,
        "database connection restored",
        Duration::from_secs(15),
    );

    let pid = child.id().to_string();
    let (code, _, err) = run({
        let mut k = std::process::Command::new("kill");
        k.args(["-TERM", &pid]);
        k
    });
    assert_eq!(code, 0, "kill: {err}");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{}", log.lock().expect("log lock"));
    cluster.stop().expect("stop the cluster");
    let _ = std::fs::remove_dir_all(&dir);
}
