//! Engine services against a real PostgreSQL, with a fake Koji port and a fake resolver.

mod fakes;
mod harness;

mod build_resolver;
mod pass;
mod polling;
mod priority;
mod repo_resolver;
mod scheduler;
