//! Prints Koschei's time priority (the part of a package's priority that grows with the time
//! since its last build) for a few ages, with the original's default weights: -30 before about
//! four hours, 0 at six hours, the build threshold (256) after one week.
//!
//! Run: `cargo run -p koschei-examples --example time_priority`
#![allow(clippy::print_stdout, reason = "an example prints its result")]

use koschei_core::priority::{Priorities, time_priority};

fn main() {
    let settings = Priorities::default();
    println!("build threshold: {}", settings.build_threshold);
    for hours in [1.0, 2.0, 6.0, 10.0, 24.0, 34.0, 168.0, 730.0] {
        println!("{hours:>6} h  {:>9.4}", time_priority(&settings, hours));
    }
}
