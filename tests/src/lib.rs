//! End-to-end test support for the `koschei` binaries.
#![forbid(unsafe_code)]
