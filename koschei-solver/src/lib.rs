//! koschei-solver: a libsolv-backed build-dependency resolver.
#![deny(missing_docs)]
