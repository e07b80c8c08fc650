//! Koji client tests: recorded hub bytes, the client over HTTP against the fake hub, and the fake hub's
//! honesty against the recordings.

use std::path::PathBuf;

mod client;
mod fakehub_replay;
mod gssapi;
mod private_ca;
mod tls;
mod wire;

/// `../shared/koji-wire` next to the repository root.
pub(crate) fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/koji-wire")
}

pub(crate) fn read_fixture(rel: &str) -> Vec<u8> {
    let p = fixture_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}
