//! Runs a fake Koji hub with the recorded fixtures' data until killed, printing its hub URL and topurl.
//!
//! Run with `cargo run -p koschei-fakehub --example serve [seconds]` (default: one hour).
#![allow(clippy::print_stdout)]

use std::time::Duration;

fn main() -> std::io::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3600);
    let hub = koschei_fakehub::FakeHub::start_with_fixture_data()?;
    println!("hub {}", hub.url());
    println!("topurl {}", hub.topurl());
    std::thread::sleep(Duration::from_secs(secs));
    Ok(())
}
