//! Integration tests of koschei-core (one binary, one module per area).
#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

mod config;
mod db_cluster;
mod db_collection;
mod db_connect;
mod db_migrate;
mod db_web;
mod engine;
mod koji;
mod props;
mod repo;
mod support;
