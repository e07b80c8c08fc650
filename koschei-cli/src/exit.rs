//! Exit codes, decided here and nowhere else.

use std::process::ExitCode;

use koschei_core::{config, db};

/// Shown at the end of `koschei --help`.
pub(crate) const HELP: &str = "\
Exit codes:
  0  success
  1  the command failed (bad input, object not found, ...)
  2  invalid command line
  3  `koschei impact --fail-on-breakage` found a package the change breaks
  4  database unavailable or schema not usable (run `koschei db migrate`)
  5  invalid configuration";

/// Writes one line to standard output, returning the write's `io::Result` so a closed pipe
/// (`koschei status | head`) ends the command through `?` instead of a panic; see
/// [`closed_stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use outln;

/// Whether the error is a write to a closed standard output (the reader went away): such a
/// command ends quietly with exit code 0, as `cat | head` does.
pub(crate) fn closed_stdout(error: &anyhow::Error) -> bool {
    error.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit code for an error: the first configuration or database error in its chain
/// decides, anything else is 1.
pub(crate) fn code_for(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        if cause.downcast_ref::<config::Error>().is_some() {
            return ExitCode::from(5);
        }
        if let Some(e) = cause.downcast_ref::<db::Error>() {
            match e {
                db::Error::Connect { .. }
                | db::Error::Pool { .. }
                | db::Error::Cluster(_)
                | db::Error::SchemaTooNew { .. }
                | db::Error::SchemaOutdated { .. }
                | db::Error::ChecksumMismatch { .. }
                | db::Error::Migration { .. } => return ExitCode::from(4),
                _ => return ExitCode::from(1),
            }
        }
    }
    ExitCode::from(1)
}
