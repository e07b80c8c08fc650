//! `koschei service run --metrics-listen`: the engine's figures over HTTP while it runs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use koschei_fakehub::TaskState;

use crate::support::{COMMAND_LIMIT, KillAfter, KillOnDrop, libfoo, tracked_app};

fn scrape(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn service_run_exports_pass_figures_and_submissions() {
    let mut w = tracked_app("metrics");
    w.add_repo(&libfoo("1.1-1"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = KillOnDrop(
        w.command(&["service", "run", "--metrics-listen", &addr])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let _watchdog = KillAfter::new(child.0.id(), COMMAND_LIMIT);
    eventually("a submitted build", || !w.hub.submitted_builds().is_empty());
    let task = w.hub.submitted_builds()[0].task_id;
    w.hub.finish_task(task, TaskState::Closed);
    eventually("applied changes", || w.applied("app").len() == 2);
    let mut page = String::new();
    eventually(
        "polling to record the finished build in the metrics",
        || {
            page = scrape(&addr).unwrap_or_default();
            sample(&page, "koschei_engine_builds_finished_total") == Some(1.0)
        },
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("text/plain; version=0.0.4"), "{page}");
    for service in ["polling", "repo_resolver", "build_resolver", "scheduler"] {
        let passes = sample(
            &page,
            &format!("koschei_engine_passes_total{{service=\"{service}\"}}"),
        );
        assert!(passes.is_some_and(|n| n >= 1.0), "{service}: {page}");
        let last =
            format!("koschei_engine_last_success_timestamp_seconds{{service=\"{service}\"}}");
        assert!(sample(&page, &last).is_some(), "{page}");
    }
    assert_eq!(
        sample(
            &page,
            "koschei_engine_scheduler_outcomes_total{outcome=\"submitted\"}"
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, "koschei_engine_errors_total{kind=\"koji\"}"),
        Some(0.0)
    );
    // The new repo's requests were solved or carried over from the previous repo.
    let answered: f64 = ["solved", "carried"]
        .iter()
        .filter_map(|k| {
            let series = format!("koschei_engine_{k}_total{{service=\"repo_resolver\"}}");
            sample(&page, &series)
        })
        .sum();
    assert!(answered >= 1.0, "{page}");
    assert_eq!(
        sample(&page, "koschei_engine_new_repos_total"),
        Some(1.0),
        "{page}"
    );
    // Anything but /metrics is a 404; the exporter goes away with the service.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut other = String::new();
    s.read_to_string(&mut other).unwrap();
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.0.wait().unwrap().success());
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let w = tracked_app("metrics-busy");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = w.run(&["service", "run", "--metrics-listen", &addr]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--metrics-listen") && err.contains(&addr),
        "{err}"
    );
}
