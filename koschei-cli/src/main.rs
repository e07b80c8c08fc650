//! The `koschei` command.
#![forbid(unsafe_code)]
fn main() {}
