//! Integration tests of koschei-web: routes over real HTTP against PostgreSQL, and pages in
//! headless Chromium.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

mod abuse;
mod browser;
mod config;
mod harness;
mod links;
mod metrics;
mod process;
mod routes;
