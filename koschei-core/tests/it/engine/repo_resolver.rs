//! Polling pass: build state updates, package list refresh, real builds.
