//! [`Reader`]: the connection the web frontend reads through.

use std::collections::HashMap;

use postgres::types::{ToSql, Type};
use postgres::{Row, Statement};

use super::{Error, Param, Result};
use crate::db::PooledClient;

/// Most statements kept prepared on one connection; past it they are all closed and the
/// ones in use prepared again (the order keys of the list make many texts possible).
const MAX_STATEMENTS: usize = 256;

/// SQLSTATE of "cached plan must not change result type": the schema changed under a
/// prepared statement (a migration while the server runs).
const CACHED_PLAN_CHANGED: &str = "0A000";

/// Run once per connection: read-only, and prepared statements planned once (see [`Reader`]).
const SESSION_SETUP: &str = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
                             SET plan_cache_mode = force_generic_plan";

/// What a pooled connection remembers across requests (kept in its r2d2 extensions).
#[derive(Default)]
struct Session {
    /// `SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY` was run on it.
    read_only: bool,
    /// Prepared statements by SQL text.
    statements: HashMap<String, Statement>,
}

/// A pooled connection used by the web frontend: read-only for its whole session, with the
/// statements it ran prepared once and reused.
///
/// * Read-only: the first use runs `SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`
///   on the connection, so every statement runs in a read-only transaction of its own
///   (PostgreSQL refuses writes with SQLSTATE 25006). A request needs no `BEGIN` and
///   `COMMIT` round trips: at the default READ COMMITTED level its statements saw separate
///   snapshots inside one transaction as well.
/// * Prepared: PostgreSQL parses and plans a statement every time it is sent unprepared,
///   which costs more than running most of the web's queries. The statements prepared on a
///   connection stay with it in the pool (r2d2's per-connection extensions). A statement
///   that the schema changed under (SQLSTATE 0A000, a migration while the server runs) is
///   prepared again once.
///
/// Every query text a `Reader` runs is a constant or built by the private `Sql` builder from
/// constant fragments; values are bound parameters.
pub struct Reader {
    conn: PooledClient,
    session: Session,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("read_only", &self.session.read_only)
            .field("statements", &self.session.statements.len())
            .finish()
    }
}

impl Reader {
    /// Wraps a pooled connection (no I/O: the session is set up by the first query).
    pub fn new(mut conn: PooledClient) -> Reader {
        let session = r2d2::PooledConnection::extensions_mut(&mut conn)
            .remove::<Session>()
            .unwrap_or_default();
        Reader { conn, session }
    }

    /// Whether the connection is known to be dead.
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    fn ensure_read_only(&mut self, name: &'static str) -> Result<()> {
        if !self.session.read_only {
            self.conn
                .batch_execute(SESSION_SETUP)
                .map_err(|source| Error::Query { what: name, source })?;
            self.session.read_only = true;
        }
        Ok(())
    }

    fn statement(&mut self, name: &'static str, sql: &str, types: &[Type]) -> Result<Statement> {
        if let Some(s) = self.session.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self
            .conn
            .prepare_typed(sql, types)
            .map_err(|source| Error::Query { what: name, source })?;
        if self.session.statements.len() >= MAX_STATEMENTS {
            self.session.statements.clear();
        }
        self.session.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Runs `sql` (prepared once per connection) and returns its rows.
    pub(crate) fn query(
        &mut self,
        name: &'static str,
        sql: &str,
        params: &[&dyn Param],
    ) -> Result<Vec<Row>> {
        self.ensure_read_only(name)?;
        let types: Vec<Type> = params.iter().map(|p| p.pg_type()).collect();
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| *p as _).collect();
        let stmt = self.statement(name, sql, &types)?;
        match self.conn.query(&stmt, &values) {
            Err(e) if is_cached_plan_changed(&e) => {
                self.session.statements.remove(sql);
                let stmt = self.statement(name, sql, &types)?;
                self.conn
                    .query(&stmt, &values)
                    .map_err(|source| Error::Query { what: name, source })
            }
            other => other.map_err(|source| Error::Query { what: name, source }),
        }
    }

    /// Runs `sql` (prepared once per connection) and hands its rows to `each` as they
    /// arrive, without collecting them.
    pub(crate) fn for_each_row(
        &mut self,
        name: &'static str,
        sql: &str,
        params: &[&dyn Param],
        mut each: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.ensure_read_only(name)?;
        let types: Vec<Type> = params.iter().map(|p| p.pg_type()).collect();
        let stmt = self.statement(name, sql, &types)?;
        let values = params.iter().map(|p| *p as &dyn ToSql);
        let mut rows = self
            .conn
            .query_raw(&stmt, values)
            .map_err(|source| Error::Query { what: name, source })?;
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)
            .map_err(|source| Error::Query { what: name, source })?
        {
            each(&row)?;
        }
        Ok(())
    }
}

fn is_cached_plan_changed(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code() == CACHED_PLAN_CHANGED)
}

impl Drop for Reader {
    fn drop(&mut self) {
        let session = std::mem::take(&mut self.session);
        r2d2::PooledConnection::extensions_mut(&mut self.conn).insert(session);
    }
}
