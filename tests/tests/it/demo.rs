//! `koschei demo`: the scripted loop, the web frontend, and a clean stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{COMMAND_LIMIT, KillAfter, KillOnDrop, koschei_bin, output_within};

/// A state directory of its own, so the demo starts (and must stop) its own cluster.
fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("koschei-e2e-demo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn demo(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(koschei_bin());
    c.env_remove("KOSCHEI_CONFIG")
        .env_remove("KOSCHEI_DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("XDG_STATE_HOME", state)
        .arg("demo")
        .args(["--listen", "127.0.0.1:0"])
        .args(args);
    c
}

fn cluster_stopped(state: &Path) -> bool {
    !state
        .join("koschei/postgresql/data/postmaster.pid")
        .exists()
}

fn http_get(base: &str, path: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn demo_no_wait_shows_a_submitted_and_completed_scratch_build() {
    let state = state_dir("nowait");
    let out = output_within(&mut demo(&state, &["--no-wait"]), COMMAND_LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let task = stdout
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix(
                "scheduler: submitted a scratch build of foo-cli for x86_64 (Koji task ",
            )
        })
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no submission of foo-cli in:\n{stdout}"))
        .to_owned();
    assert!(
        stdout.contains("libfoo-devel 1.0-1 -> 1.1-1 (distance 1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Koji: task {task} (foo-cli) completed")),
        "{stdout}"
    );
    assert!(stdout.contains("2 scratch builds finished"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "foo-cli: build of task {task} is complete, applied changes: libfoo-devel 1.0-1 -> 1.1-1"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("legacy-app   unresolved"), "{stdout}");
    assert!(stdout.contains("pyfoo        failing"), "{stdout}");
    assert!(
        stdout.contains("koschei-web listening on http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        cluster_stopped(&state),
        "the private cluster is still running"
    );
    std::fs::remove_dir_all(&state).unwrap();
}

#[test]
fn demo_serves_the_web_frontend_until_interrupted() {
    let state = state_dir("web");
    let mut child = KillOnDrop(
        demo(&state, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Reads below block on the child: the watchdog turns a hang into end of file.
    let _watchdog = KillAfter::new(child.0.id(), COMMAND_LIMIT);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    let url = loop {
        let Some(line) = lines.next() else {
            panic!("demo ended before serving:\n{seen}");
        };
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if let Some(u) = line.trim().strip_prefix("koschei-web listening on ") {
            break u.to_owned();
        }
    };
    let page = http_get(&url, "/package/foo-cli");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("libfoo-devel"), "{page}");
    let api = http_get(&url, "/api/v1/packages?name=pyfoo");
    assert!(api.contains("\"state\":\"failing\""), "{api}");
    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.0.wait().unwrap().success());
    assert!(
        rest.iter().any(|l| l.starts_with("Stopped: web frontend")),
        "{rest:?}"
    );
    assert!(TcpStream::connect(url.trim_start_matches("http://")).is_err());
    assert!(
        cluster_stopped(&state),
        "the private cluster is still running"
    );
    std::fs::remove_dir_all(&state).unwrap();
}
