//! Integration tests of koschei-core (one test binary, submodules per area).

mod engine;
