//! Running the binary.

use std::process::{Command, Output};
use std::time::Duration;

use koschei_fakehub::process::output_within;

use koschei_core::db::testing::TestDb;

/// The `koschei` binary with a clean environment pointing at `db` (if any).
pub(crate) fn koschei(db: Option<&TestDb>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_koschei"));
    c.env_remove("KOSCHEI_CONFIG")
        .env_remove("KOSCHEI_DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("SUDO_USER", "tester");
    // Tests talk to loopback servers only: no proxy of the machine running them.
    for v in koschei_core::config::PROXY_VARIABLES {
        c.env_remove(v);
    }
    if let Some(db) = db {
        c.env("KOSCHEI_DATABASE_URL", db.url().expose());
    }
    c
}

/// Runs and returns (exit code, stdout, stderr).
pub(crate) fn run(mut c: Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = output_within(&mut c, Duration::from_secs(120));
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs `koschei <args>` on `db` and expects success; returns stdout.
pub(crate) fn ok(db: &TestDb, args: &[&str]) -> String {
    let mut c = koschei(Some(db));
    c.args(args);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "koschei {args:?} failed:\n{out}\n{err}");
    out
}

/// Runs `koschei <args>` on `db` and expects failure with `code`; returns stderr.
pub(crate) fn fails(db: &TestDb, args: &[&str], code: i32) -> String {
    let mut c = koschei(Some(db));
    c.args(args);
    let (got, out, err) = run(c);
    assert_eq!(got, code, "koschei {args:?}:\n{out}\n{err}");
    err
}
