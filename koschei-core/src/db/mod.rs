//! Database access: connections and the pool, migrations, the private cluster, the test
//! harness and typed repository functions.
//!
//! Repository functions take `&mut impl GenericClient`, so the same function runs on a
//! plain [`postgres::Client`], a pooled connection or inside a [`postgres::Transaction`].
//! They only use bound parameters; conversion between rows and [`crate::model`] types
//! happens here and nowhere else, by column name (a private `column` helper: a missing
//! column or a value of another type is [`Error::Column`], never a panic). Every failure is
//! one [`Error`] whose variants name the query that failed.
//!
//! ```no_run
//! use koschei_core::config::DatabaseUrl;
//! use koschei_core::db;
//! let url = DatabaseUrl::parse("postgresql://postgres@127.0.0.1/koschei")
//!     .map_err(|message| db::Error::Invalid { what: "database URL", message })?;
//! let mut client = db::connect(&url)?;
//! db::migrate::migrate(&mut client)?;
//! for c in db::collection::list(&mut client)? {
//!     println!("{} {}", c.name, c.state.as_str());
//! }
//! # Ok::<(), db::Error>(())
//! ```

pub mod build;
pub mod cluster;
pub mod collection;
pub mod engine;
mod error;
pub mod log;
pub mod maintenance;
pub mod migrate;
pub mod notice;
pub mod outbox;
pub mod overview;
pub mod package;
pub mod package_group;
pub mod priority;
/// Test support (a throwaway database per test); behind the `testing` feature, not part of
/// the production surface.
#[cfg(feature = "testing")]
pub mod testing;
pub mod web;

use std::path::PathBuf;
use std::time::Duration;

use postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;

pub use cluster::{Cluster, ClusterError, ClusterOptions};
pub use error::{Error, report};
pub(crate) use error::{QueryContext, build_state, column};

use crate::config::{DatabaseConfig, DatabaseUrl};

/// A pool of connections.
pub type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
/// A connection taken from a [`Pool`].
pub type PooledClient = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// Opens one connection.
pub fn connect(url: &DatabaseUrl) -> Result<Client, Error> {
    url.to_pg_config()
        .connect(NoTls)
        .map_err(|source| Error::Connect {
            url: url.masked(),
            source,
        })
}

/// Creates a pool of up to `size` connections and checks that one connection works.
pub fn pool(url: &DatabaseUrl, size: u32) -> Result<Pool, Error> {
    let manager = PostgresConnectionManager::new(url.to_pg_config(), NoTls);
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(15))
        .build(manager)
        .map_err(|source| Error::Pool {
            url: url.masked(),
            source,
        })?;
    // Surface a bad URL now, with the driver's error, rather than as a pool timeout.
    connect(url)?;
    Ok(pool)
}

/// The libpq environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
/// `PGDATABASE`) that point a client such as `psql` at `url`, so no password appears on a
/// command line.
pub fn libpq_env(url: &DatabaseUrl) -> Vec<(&'static str, std::ffi::OsString)> {
    use postgres::config::Host;
    let config = url.to_pg_config();
    let mut env = Vec::new();
    if let Some(host) = config.get_hosts().first() {
        let value = match host {
            Host::Tcp(h) => std::ffi::OsString::from(h),
            Host::Unix(p) => p.clone().into_os_string(),
        };
        env.push(("PGHOST", value));
    }
    if let Some(port) = config.get_ports().first() {
        env.push(("PGPORT", port.to_string().into()));
    }
    if let Some(user) = config.get_user() {
        env.push(("PGUSER", user.into()));
    }
    if let Some(db) = config.get_dbname() {
        env.push(("PGDATABASE", db.into()));
    }
    if let Some(pw) = config.get_password() {
        env.push((
            "PGPASSWORD",
            String::from_utf8_lossy(pw).into_owned().into(),
        ));
    }
    env
}

/// The database a command works on: the configured server, or the private cluster
/// (started on demand and stopped when this value drops, unless kept running).
#[derive(Debug)]
pub struct Database {
    url: DatabaseUrl,
    cluster: Option<Cluster>,
}

impl Database {
    /// Uses `config.url`, or else starts (or reuses) the private cluster under
    /// `state_dir` (see [`crate::config::state_dir`] and [`cluster::default_dir`]).
    pub fn open(config: &DatabaseConfig, state_dir: Option<PathBuf>) -> Result<Database, Error> {
        if let Some(url) = &config.url {
            return Ok(Database {
                url: url.clone(),
                cluster: None,
            });
        }
        let state_dir = state_dir.ok_or_else(|| Error::Invalid {
            what: "database location",
            message: "no `database.url` is configured and neither XDG_STATE_HOME nor HOME is set for the private cluster".to_owned(),
        })?;
        let cluster = Cluster::ensure(
            &cluster::default_dir(&state_dir),
            &ClusterOptions::default(),
        )?;
        Ok(Database {
            url: cluster.url().clone(),
            cluster: Some(cluster),
        })
    }

    /// The connection string.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The private cluster, if that is where the database is.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    /// A human description: the masked URL or the private cluster directory.
    pub fn location(&self) -> String {
        match &self.cluster {
            Some(c) => format!("private cluster in `{}`", c.dir().display()),
            None => format!("`{}`", self.url.masked()),
        }
    }

    /// Keeps a private cluster running after this value drops (long-running services).
    pub fn keep_running(&mut self) {
        if let Some(c) = &mut self.cluster {
            c.keep_running();
        }
    }

    /// Opens one connection.
    pub fn connect(&self) -> Result<Client, Error> {
        connect(&self.url)
    }

    /// Creates a pool of up to `size` connections.
    pub fn pool(&self, size: u32) -> Result<Pool, Error> {
        pool(&self.url, size)
    }
}

/// `url` with its database name replaced by `dbname` (URL or `key=value` form).
pub fn with_dbname(url: &str, dbname: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (rest, None),
        };
        let authority = before_query.split('/').next().unwrap_or(before_query);
        let mut out = format!("{}{authority}/{dbname}", &url[..scheme_end + 3]);
        if let Some(q) = query {
            let q: Vec<&str> = q
                .split('&')
                .filter(|kv| !kv.starts_with("dbname="))
                .collect();
            if !q.is_empty() {
                out.push('?');
                out.push_str(&q.join("&"));
            }
        }
        out
    } else {
        // In the key=value form a later key overrides an earlier one.
        format!("{url} dbname={dbname}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_env_covers_url_and_socket_forms() {
        let url = DatabaseUrl::parse("postgresql://u:pw@db.example:6543/kdb").unwrap();
        let env: Vec<(&str, String)> = libpq_env(&url)
            .into_iter()
            .map(|(k, v)| (k, v.to_string_lossy().into_owned()))
            .collect();
        let want = [
            ("PGHOST", "db.example"),
            ("PGPORT", "6543"),
            ("PGUSER", "u"),
            ("PGDATABASE", "kdb"),
            ("PGPASSWORD", "pw"),
        ];
        assert_eq!(env, want.map(|(k, v)| (k, v.to_owned())));
        let sock = DatabaseUrl::parse("host='/tmp/a b/run' port=5432 user=koschei dbname=koschei")
            .unwrap();
        let env = libpq_env(&sock);
        assert_eq!(env[0].1, std::ffi::OsString::from("/tmp/a b/run"));
    }
}
