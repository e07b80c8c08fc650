//! The `koschei-web` binary as a child process, for tests that look at the process itself
//! (threads, memory, descriptor limits, its log).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running `koschei-web` process, killed when dropped.
pub(crate) struct WebProcess {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl WebProcess {
    /// Starts the binary on a free port of 127.0.0.1 over `db_url` with `args`; with
    /// `nofile`, under that descriptor limit (`ulimit -n`).
    pub(crate) fn start(db_url: &str, args: &[&str], nofile: Option<u32>) -> WebProcess {
        let mut all = vec!["--database-url", db_url];
        all.extend_from_slice(args);
        Self::start_args(&all, nofile)
    }

    /// Starts the binary on a free port of 127.0.0.1 with exactly `args` (and no
    /// `KOSCHEI_CONFIG` or `KOSCHEI_DATABASE_URL` from the environment).
    pub(crate) fn start_args(args: &[&str], nofile: Option<u32>) -> WebProcess {
        let bin = env!("CARGO_BIN_EXE_koschei-web");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("KOSCHEI_CONFIG")
            .env_remove("KOSCHEI_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start koschei-web");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("koschei-web listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("koschei-web did not start:\n{}", log.lock().unwrap());
            }
        };
        WebProcess { child, url, log }
    }

    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    /// `host:port`.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }

    /// Threads of the process now.
    pub(crate) fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`).
    pub(crate) fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Everything the process wrote to stderr so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for WebProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `args`, expecting it to exit within 10 s; its exit code and stderr.
pub(crate) fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_koschei-web"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("KOSCHEI_CONFIG")
        .env_remove("KOSCHEI_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start koschei-web");
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if std::time::Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("koschei-web {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    (status.code(), err)
}
