//! The Koschei web frontend: read-only HTML pages and a JSON API over the Koschei database.
//!
//! The server is a library so that other binaries (the `koschei demo`) can start it:
//!
//! ```no_run
//! use r2d2_postgres::{PostgresConnectionManager, postgres::NoTls};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = PostgresConnectionManager::new("host=127.0.0.1 user=postgres".parse()?, NoTls);
//! let pool = r2d2::Pool::builder().build(manager)?;
//! let server = koschei_web::serve("127.0.0.1:0", pool, koschei_web::Options::default())?;
//! println!("listening on {}", server.url());
//! server.shutdown();
//! # Ok(())
//! # }
//! ```
//!
//! Architecture: `server` (accept loop, workers, panic isolation, access log), `routes`
//! (request target to view model through `koschei_core::db::web`, one read-only transaction
//! per request), `pages` (pure maud page functions), `api` (pure JSON bodies), `params`,
//! `format` and `priority` (pure helpers). The crate contains no SQL and never writes.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod format;
mod links;
mod metrics;
mod pages;
mod params;
mod priority;
mod routes;
mod server;

pub use server::{
    Error, MAX_HEAD, MAX_HEADER_FIELD, MAX_HEADERS, MAX_REQUEST_LINE, Options, Pool, Server,
    lazy_pool, serve,
};
