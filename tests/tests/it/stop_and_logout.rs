//! How commands end towards the hub (issue 14 items 15, 17 and 18): SIGTERM ends `service
//! run` while the hub is offline (before, the client slept out its 120 s `ServerOffline` waits
//! without looking at the stop request), every command that logged in logs out (before, each
//! `run --once` left a session open), and retry warnings name their cause (before, they said
//! only "transport error").

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{KillOnDrop, World};
use koschei_fakehub::process::capture_stderr;

fn text(log: &Mutex<String>) -> String {
    log.lock().expect("log lock").clone()
}

fn wait_for(log: &Mutex<String>, what: &str, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if text(log).contains(what) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no `{what}` within {limit:?}:\n{}", text(log));
}

/// `koschei -v service run` with stderr captured.
fn service_run(w: &World) -> (KillOnDrop, Arc<Mutex<String>>) {
    let mut child = w
        .command(&["-v", "service", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn service run");
    let log = capture_stderr(&mut child);
    (KillOnDrop(child), log)
}

/// Sends SIGTERM and returns the exit code, which must come within `limit`.
fn terminate(child: &mut KillOnDrop, log: &Mutex<String>, limit: Duration) -> Option<i32> {
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            return status.code();
        }
        assert!(
            start.elapsed() < limit,
            "still running {limit:?} after SIGTERM:\n{}",
            text(log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_ends_service_run_while_the_hub_is_offline() {
    let w = World::new("stop-offline");
    let (mut child, log) = service_run(&w);
    wait_for(&log, "services started", Duration::from_secs(20));
    w.hub.set_offline(u32::MAX);
    wait_for(&log, "koji hub offline, waiting", Duration::from_secs(10));
    // The client is now in a 120 s wait.
    std::thread::sleep(Duration::from_millis(500));
    let code = terminate(&mut child, &log, Duration::from_secs(5));
    let log = text(&log);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("services stopped"), "{log}");
    assert!(log.contains("stopped while waiting for the hub"), "{log}");
    assert!(!log.contains("service pass failed"), "{log}");
}

#[test]
fn sigterm_while_logging_in_to_an_offline_hub_is_a_clean_stop() {
    let w = World::new("stop-login");
    w.hub.set_offline(u32::MAX);
    let (mut child, log) = service_run(&w);
    wait_for(&log, "koji hub offline, waiting", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    let code = terminate(&mut child, &log, Duration::from_secs(5));
    let log = text(&log);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("stopped before the services started"), "{log}");
    assert!(!log.contains("services started services="), "{log}");
}

#[test]
fn commands_that_logged_in_leave_no_session_open() {
    let w = World::new("logout");
    let logins = || {
        w.hub
            .calls()
            .iter()
            .filter(|c| c.method == "sslLogin")
            .count()
    };
    for n in 1..=3 {
        w.pass(&[]);
        assert_eq!(logins(), n, "each run logs in once");
        assert_eq!(w.hub.open_sessions(), 0, "after {n} runs");
    }
    // A passive run never logs in.
    w.pass(&["--passive"]);
    assert_eq!(logins(), 3);

    let (mut child, log) = service_run(&w);
    wait_for(&log, "services started", Duration::from_secs(20));
    assert_eq!(w.hub.open_sessions(), 1);
    let code = terminate(&mut child, &log, Duration::from_secs(10));
    assert_eq!(code, Some(0), "{}", text(&log));
    assert_eq!(w.hub.open_sessions(), 0, "{}", text(&log));
    let logouts = w
        .hub
        .calls()
        .iter()
        .filter(|c| c.method == "logout" && c.session_id.is_some())
        .count();
    assert_eq!(logouts, 4);
}

#[test]
fn retry_warnings_name_their_cause() {
    let w = World::new("retry-cause");
    // A port nothing listens on: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    w.replace_in_config(
        &format!("server = \"{}\"", w.hub.url()),
        &format!("server = \"http://127.0.0.1:{port}/kojihub\""),
    );
    let (code, _, err) = w.run(&["run", "--once", "--passive", "--only", "polling"]);
    assert_eq!(code, 1, "{err}");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("koji call failed, retrying"))
        .collect();
    assert!(!warnings.is_empty(), "{err}");
    for line in warnings {
        assert!(line.contains("127.0.0.1:"), "{line}");
        assert!(line.contains("Connection refused"), "{line}");
    }
}
