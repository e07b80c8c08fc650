//! Integration tests of the `koschei` binary against real PostgreSQL databases.
#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

mod admin;
mod basic;
mod edits;
mod koji_lookup;
mod offline;
mod remote;
mod restart;
mod support;
