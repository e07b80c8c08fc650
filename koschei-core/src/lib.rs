//! Koschei core: the synchronous engine behind continuous rebuild testing of RPM packages.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod koji;
pub mod repo;
