//! End-to-end tests: the real `koschei` binary against a fake Koji hub and PostgreSQL.
#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

mod demo;
mod edits;
mod engine;
mod incremental;
mod messaging;
mod metrics;
mod packaging;
mod private_ca;
mod stop_and_logout;
mod support;
