//! Child processes of tests, bounded: a hang becomes a failure that says where, never a test
//! run that ends only at the CI's time limit.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` to completion like [`Command::output`], but kills it and fails the test with
/// everything it printed so far when it runs longer than `limit`: a hang becomes a failure
/// that says where, never a test run that ends only at the CI's time limit.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{cmd:?} did not finish within {limit:?} and was killed\n--- stdout:\n{}\n--- stderr:\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

/// Kills process `pid` (SIGKILL) if it is still running after `limit`, unless dropped
/// first: a test that reads a child's output line by line then sees end of file and fails
/// with what it read, instead of waiting forever for a child that hangs.
#[derive(Debug)]
pub struct KillAfter {
    cancel: Option<std::sync::mpsc::Sender<()>>,
}

impl KillAfter {
    /// Starts the watchdog of `pid`.
    pub fn new(pid: u32, limit: Duration) -> KillAfter {
        let (cancel, cancelled) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(limit) {
                #[allow(clippy::print_stderr, reason = "the test's own diagnostics")]
                {
                    eprintln!(
                        "test watchdog: process {pid} still running after {limit:?}: killing it"
                    );
                }
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        });
        KillAfter {
            cancel: Some(cancel),
        }
    }
}

impl Drop for KillAfter {
    fn drop(&mut self) {
        if let Some(c) = self.cancel.take() {
            let _ = c.send(());
        }
    }
}

/// Collects a child's stderr lines in the background (the child must have been started with
/// a piped stderr); the text grows while the child runs.
pub fn capture_stderr(child: &mut std::process::Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    use std::io::BufRead as _;
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let Some(stderr) = child.stderr.take() else {
        return log;
    };
    let sink = std::sync::Arc::clone(&log);
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let mut l = sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            l.push_str(&line);
            l.push('\n');
        }
    });
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "did not finish within")]
    fn a_hanging_command_fails_the_test_instead_of_hanging_it() {
        output_within(Command::new("sleep").arg("60"), Duration::from_millis(300));
    }

    #[test]
    fn the_watchdog_ends_a_hanging_child() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        let started = Instant::now();
        let _watchdog = KillAfter::new(child.id(), Duration::from_millis(300));
        assert!(!child.wait().unwrap().success());
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
