//! Engine services against a real PostgreSQL, with a fake Koji port and a fake resolver.

mod fakes;
mod harness;

mod build_resolver;
mod event_orders;
mod lost_reply;
mod pass;
mod polling;
mod priority;
mod repo_resolver;
mod scheduler;
