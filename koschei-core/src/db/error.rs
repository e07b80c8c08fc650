//! `db::Error`: every database failure with what was being done and where.

use std::fmt::Write as _;

use super::cluster::ClusterError;

/// A database operation that failed.
///
/// Messages never contain a password: URLs are stored masked. The driver's error is the
/// `source`, so print with `{:#}` (anyhow) or [`report`] to see the whole chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server cannot be reached or refused the login.
    #[error("cannot connect to the database at `{url}`")]
    Connect {
        /// The connection string, password masked.
        url: String,
        /// The driver's error.
        #[source]
        source: postgres::Error,
    },
    /// The connection pool could not hand out a connection.
    #[error("cannot get a pooled connection to `{url}`")]
    Pool {
        /// The connection string, password masked.
        url: String,
        /// The pool's error.
        #[source]
        source: r2d2::Error,
    },
    /// A statement failed (or the connection is gone).
    #[error("database query `{what}` failed")]
    Query {
        /// Which query, e.g. `list collections`.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: postgres::Error,
    },
    /// A column of a query's row is missing or does not hold the type this code reads.
    #[error("cannot read column `{column}` of query `{what}`")]
    Column {
        /// Which query.
        what: &'static str,
        /// The column's name.
        column: &'static str,
        /// The driver's error (the type mismatch or the unknown column).
        #[source]
        source: postgres::Error,
    },
    /// A row held a value this code does not know (for example a build state outside 2, 3, 5).
    #[error("unexpected value {value} in column `{column}`")]
    BadValue {
        /// The column, `table.column`.
        column: &'static str,
        /// The value found.
        value: i64,
    },
    /// A migration's SQL failed; its transaction was rolled back.
    #[error("migration {version} `{name}` failed and was rolled back")]
    Migration {
        /// Migration number.
        version: i32,
        /// Migration name.
        name: String,
        /// The driver's error.
        #[source]
        source: postgres::Error,
    },
    /// The database has migrations this binary does not know.
    #[error(
        "the database schema is at version {found}, newer than this koschei knows (latest {known})\n\nhint: upgrade koschei, or point it at another database"
    )]
    SchemaTooNew {
        /// Highest version in the database.
        found: i32,
        /// Highest version this binary has.
        known: i32,
    },
    /// A migration in the database differs from the built-in one of the same number.
    #[error(
        "migration {version} `{name}` in the database differs from the built-in one (checksum {found}, expected {expected})"
    )]
    ChecksumMismatch {
        /// Migration number.
        version: i32,
        /// Migration name.
        name: String,
        /// Checksum stored in the database.
        found: String,
        /// Checksum of the built-in SQL.
        expected: String,
    },
    /// The schema is older than this binary needs.
    #[error(
        "the database schema is not up to date (at {}, this koschei needs {known})\n\nhint: run `koschei db migrate`",
        found.map_or("no version".to_owned(), |v| format!("version {v}"))
    )]
    SchemaOutdated {
        /// Highest version in the database, `None` when empty.
        found: Option<i32>,
        /// Version this binary needs.
        known: i32,
    },
    /// The private cluster could not be started.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A named object does not exist.
    #[error("{what} `{name}` does not exist")]
    NotFound {
        /// `collection`, `package`, ...
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A named object exists already.
    #[error("{what} `{name}` already exists")]
    AlreadyExists {
        /// `collection`, `package group`, ...
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A value the database refuses (failed check constraint, bad input).
    #[error("invalid {what}: {message}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        message: String,
    },
}

impl Error {
    /// Whether the error is a unique-key violation reported by the server.
    pub fn is_unique_violation(&self) -> bool {
        self.sql_state() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
    }

    /// The SQLSTATE of the server error inside, if any.
    pub fn sql_state(&self) -> Option<&postgres::error::SqlState> {
        match self {
            Error::Connect { source, .. }
            | Error::Query { source, .. }
            | Error::Migration { source, .. } => source.code(),
            _ => None,
        }
    }

    /// Whether a query failed because the database is unreachable (connection refused,
    /// closed, shutting down) rather than because of the query itself.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Pool { .. } => true,
            Error::Query { source, .. } => {
                if source.is_closed() {
                    return true;
                }
                match source.code() {
                    // No SQLSTATE: an I/O or protocol error on the connection.
                    None => true,
                    Some(code) => {
                        let c = code.code();
                        c.starts_with("08") || c.starts_with("57P")
                    }
                }
            }
            _ => false,
        }
    }
}

/// Adds the "what was being done" context to driver results.
pub(crate) trait QueryContext<T> {
    /// Wraps the driver error in [`Error::Query`].
    fn ctx(self, what: &'static str) -> Result<T, Error>;
}

impl<T> QueryContext<T> for Result<T, postgres::Error> {
    fn ctx(self, what: &'static str) -> Result<T, Error> {
        self.map_err(|source| Error::Query { what, source })
    }
}

/// Reads the column called `column` of a row of the query `what`: a missing column or a
/// value of another type is [`Error::Column`] (never a panic, unlike `Row::get`).
pub(crate) fn column<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    what: &'static str,
    column: &'static str,
) -> Result<T, Error> {
    row.try_get(column).map_err(|source| Error::Column {
        what,
        column,
        source,
    })
}

/// A stored build state (`column` names it in the error): `None` stays `None`, a number
/// outside the known states is [`Error::BadValue`].
pub(crate) fn build_state(
    column: &'static str,
    v: Option<i32>,
) -> Result<Option<crate::model::BuildState>, Error> {
    match v {
        None => Ok(None),
        Some(v) => crate::model::BuildState::from_db(v)
            .map(Some)
            .ok_or(Error::BadValue {
                column,
                value: i64::from(v),
            }),
    }
}

/// An error and its whole source chain on one line, `a: b: c` (for logs).
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let _ = write!(out, ": {s}");
        source = s.source();
    }
    out
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;

    #[test]
    fn a_column_of_another_type_or_name_is_an_error_naming_query_and_column() {
        let db = crate::db::testing::TestDb::empty().expect("test database");
        let mut c = db.connect().expect("connect");
        let row = c.query_one("SELECT 'x'::text AS id", &[]).expect("select");
        // `Row::get::<_, i32>` panics here; `column` reports it.
        let e = column::<i32>(&row, "read a test row", "id").unwrap_err();
        assert!(
            matches!(
                e,
                Error::Column {
                    what: "read a test row",
                    column: "id",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "cannot read column `id` of query `read a test row`"
        );
        let e = column::<String>(&row, "read a test row", "name").unwrap_err();
        assert!(matches!(e, Error::Column { column: "name", .. }), "{e:?}");
        assert_eq!(
            column::<String>(&row, "read a test row", "id").expect("text"),
            "x"
        );
        assert!(matches!(
            build_state("build.state", Some(4)),
            Err(Error::BadValue {
                column: "build.state",
                value: 4
            })
        ));
    }
}
