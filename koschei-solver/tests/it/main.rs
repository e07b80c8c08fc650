//! Integration tests of koschei-solver against real rpm-md repositories.

mod batch;
mod differential;
mod distance;
mod loading;
mod support;
