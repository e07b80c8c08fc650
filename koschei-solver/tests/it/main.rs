//! Integration tests of koschei-solver against real rpm-md repositories.

mod batch;
mod differential;
mod distance;
mod impact;
mod incremental;
mod loading;
mod primary_props;
mod support;
