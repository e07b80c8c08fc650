//! Integration tests of koschei-web: routes over real HTTP against PostgreSQL, and pages in
//! headless Chromium.

mod browser;
mod harness;
mod routes;
