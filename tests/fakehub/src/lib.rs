//! A fake Koji hub for tests and the demo.
#![forbid(unsafe_code)]
pub mod rpmmd;
