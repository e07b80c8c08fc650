//! The `koschei-web` read-only web frontend.
#![forbid(unsafe_code)]
fn main() {}
