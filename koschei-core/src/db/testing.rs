//! Test harness: a fresh, migrated database per test.
//!
//! [`TestDb::new`] creates a database named `koschei_test_<pid>_<n>` on the server at
//! `KOSCHEI_TEST_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/postgres`),
//! applies the migrations and drops the database when the value drops, so tests run in
//! parallel without seeing each other's rows. When nothing answers at that URL, the
//! harness starts a private cluster (once per process, shared by all its tests) in
//! `$TMPDIR/koschei-test-pg-<uid>` and leaves it running for later test runs; no server
//! and no server binaries is a test failure saying what to install.
//!
//! ```no_run
//! use koschei_core::db::testing::TestDb;
//! let db = TestDb::new()?;
//! let mut client = db.connect()?;
//! let n: i64 = client.query_one("SELECT count(*) AS n FROM collection", &[])?.try_get("n")?;
//! assert_eq!(n, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use postgres::{Client, NoTls};

use super::{Cluster, ClusterOptions, Error, Pool, migrate};
use crate::config::{self, DatabaseUrl};

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: DatabaseUrl,
    admin: postgres::Config,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
struct Server {
    /// Connection string of the maintenance database.
    base: String,
    /// Kept so a private cluster is not stopped while tests run.
    _cluster: Option<Cluster>,
}

fn server() -> Result<&'static Server, Error> {
    SERVER
        .get_or_init(|| find_server().map_err(|e| super::report(&e)))
        .as_ref()
        .map_err(|message| Error::Invalid {
            what: "test database server",
            message: format!("{message}\n\nhint: start PostgreSQL on 127.0.0.1:5432 (user postgres, trust) or install the Debian package `postgresql`"),
        })
}

fn find_server() -> Result<Server, Error> {
    let base = config::test_database_url();
    let url = DatabaseUrl::parse(&base).map_err(|message| Error::Invalid {
        what: "KOSCHEI_TEST_DATABASE_URL",
        message,
    })?;
    let mut pg = url.to_pg_config();
    pg.connect_timeout(Duration::from_secs(3));
    match pg.connect(NoTls) {
        Ok(_) => Ok(Server {
            base,
            _cluster: None,
        }),
        Err(e) => {
            tracing::info!(url = %url, error = %super::report(&e), "no test server answers; starting a private cluster");
            let uid = std::fs::metadata("/proc/self")
                .map(|m| m.uid())
                .unwrap_or(0);
            let dir = std::env::temp_dir().join(format!("koschei-test-pg-{uid}"));
            let mut cluster = Cluster::ensure(&dir, &ClusterOptions { unsafe_fast: true })?;
            cluster.keep_running();
            let mut base_cfg = cluster.url().expose().to_owned();
            base_cfg.push_str(" dbname=postgres");
            Ok(Server {
                base: base_cfg,
                _cluster: Some(cluster),
            })
        }
    }
}

impl TestDb {
    /// A new database with all migrations applied.
    pub fn new() -> Result<TestDb, Error> {
        let db = TestDb::empty()?;
        migrate::migrate(&mut db.connect()?)?;
        Ok(db)
    }

    /// A new database with no tables at all (for migration tests).
    pub fn empty() -> Result<TestDb, Error> {
        let server = server()?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("koschei_test_{}_{n}", std::process::id());
        let base = DatabaseUrl::parse(&server.base).map_err(|message| Error::Invalid {
            what: "test database URL",
            message,
        })?;
        let admin = base.to_pg_config();
        let mut client = admin.connect(NoTls).map_err(|source| Error::Connect {
            url: base.masked(),
            source,
        })?;
        // The name is made of digits and a fixed prefix, never of input.
        let drop_sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let create_sql = format!("CREATE DATABASE {name}");
        client
            .batch_execute(&drop_sql)
            .map_err(|source| Error::Query {
                what: "drop a leftover test database",
                source,
            })?;
        client
            .batch_execute(&create_sql)
            .map_err(|source| Error::Query {
                what: "create the test database",
                source,
            })?;
        let url =
            DatabaseUrl::parse(&super::with_dbname(&server.base, &name)).map_err(|message| {
                Error::Invalid {
                    what: "test database URL",
                    message,
                }
            })?;
        Ok(TestDb { name, url, admin })
    }

    /// The connection string of this database (for `KOSCHEI_DATABASE_URL` of a spawned CLI).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<Client, Error> {
        super::connect(&self.url)
    }

    /// A pool of up to `size` connections.
    pub fn pool(&self, size: u32) -> Result<Pool, Error> {
        super::pool(&self.url, size)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        match self.admin.connect(NoTls) {
            Ok(mut c) => {
                if let Err(e) = c.batch_execute(&sql) {
                    tracing::warn!(db = %self.name, error = %super::report(&e), "cannot drop test database");
                }
            }
            Err(e) => {
                tracing::warn!(db = %self.name, error = %super::report(&e), "cannot drop test database")
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn with_dbname_replaces_the_database() {
        let cases = [
            (
                "postgresql://postgres@127.0.0.1:5432/postgres",
                "postgresql://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgresql://u:p@h/postgres?sslmode=disable",
                "postgresql://u:p@h/x?sslmode=disable",
            ),
            ("postgresql://h", "postgresql://h/x"),
            (
                "postgresql://h/db?dbname=y&user=u",
                "postgresql://h/x?user=u",
            ),
            (
                "host=/tmp port=5 dbname=postgres",
                "host=/tmp port=5 dbname=postgres dbname=x",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(crate::db::with_dbname(input, "x"), want, "{input}");
        }
    }
}
