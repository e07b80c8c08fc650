//! Schema migrations: numbered SQL files embedded in the binary.
//!
//! Each migration runs in its own transaction together with the row that records it in
//! `schema_migration` (version, name, SHA-256 of the SQL), so a failed migration leaves
//! nothing behind. [`migrate`] holds a session advisory lock, so concurrent runs wait for
//! each other instead of racing. A database with versions this binary does not know is
//! refused.

use postgres::Client;
use postgres::GenericClient;
use sha2::{Digest, Sha256};

use super::error::{Error, QueryContext, column};

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number; migrations run in increasing order.
    pub version: i32,
    /// Short name (the file name without number and extension).
    pub name: &'static str,
    /// The SQL, possibly several statements.
    pub sql: &'static str,
}

impl Migration {
    /// Hex SHA-256 of the SQL.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// The built-in migrations, in order.
///
/// Every file in `migrations/` must be listed here (the integration test
/// `db_migrate::every_migration_file_is_registered_and_applied` checks it).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "web_indexes",
        sql: include_str!("migrations/0002_web_indexes.sql"),
    },
    Migration {
        version: 3,
        name: "message_outbox",
        sql: include_str!("migrations/0003_message_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "latest_repo_time",
        sql: include_str!("migrations/0004_latest_repo_time.sql"),
    },
    Migration {
        version: 5,
        name: "changes_build",
        sql: include_str!("migrations/0005_changes_build.sql"),
    },
    Migration {
        version: 6,
        name: "suspension_rate_limit",
        sql: include_str!("migrations/0006_suspension_rate_limit.sql"),
    },
    Migration {
        version: 7,
        name: "web_list",
        sql: include_str!("migrations/0007_web_list.sql"),
    },
];

/// The schema version this binary works with.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Advisory lock key taken by [`migrate`] ("koschei" in ASCII).
const MIGRATE_LOCK_KEY: i64 = 0x006b_6f73_6368_6569;

/// A migration recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedMigration {
    /// Its number.
    pub version: i32,
    /// Its name.
    pub name: String,
    /// SHA-256 of the SQL that was applied.
    pub checksum: String,
    /// When it was applied (server time, ISO 8601).
    pub applied_at: String,
}

/// The schema state of a database compared with a list of migrations.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SchemaStatus {
    /// Migrations recorded in the database, in order.
    pub applied: Vec<AppliedMigration>,
    /// Known migrations not yet applied, by version.
    pub pending: Vec<i32>,
    /// Highest known version.
    pub latest_known: i32,
}

impl SchemaStatus {
    /// Highest applied version, `None` for an empty database.
    pub fn current(&self) -> Option<i32> {
        self.applied.last().map(|m| m.version)
    }

    /// Whether everything known is applied and nothing unknown is.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.current().unwrap_or(0) == self.latest_known
    }
}

fn version_table_exists(client: &mut impl GenericClient) -> Result<bool, Error> {
    let row = client
        .query_one(
            "SELECT to_regclass('schema_migration') IS NOT NULL AS exists",
            &[],
        )
        .ctx("look for the schema_migration table")?;
    column(&row, "look for the schema_migration table", "exists")
}

fn applied(client: &mut impl GenericClient) -> Result<Vec<AppliedMigration>, Error> {
    const Q: &str = "read the schema_migration table";
    if !version_table_exists(client)? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT version, name, checksum,
                    to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS applied_at
             FROM schema_migration ORDER BY version",
            &[],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(AppliedMigration {
                version: column(r, Q, "version")?,
                name: column(r, Q, "name")?,
                checksum: column(r, Q, "checksum")?,
                applied_at: column(r, Q, "applied_at")?,
            })
        })
        .collect()
}

/// Compares the database with `migrations`; refuses unknown versions and changed SQL.
pub fn status(
    client: &mut impl GenericClient,
    migrations: &[Migration],
) -> Result<SchemaStatus, Error> {
    let applied = applied(client)?;
    let latest_known = migrations.last().map_or(0, |m| m.version);
    for a in &applied {
        match migrations.iter().find(|m| m.version == a.version) {
            None if a.version > latest_known => {
                return Err(Error::SchemaTooNew {
                    found: applied.last().map_or(a.version, |l| l.version),
                    known: latest_known,
                });
            }
            None => {
                return Err(Error::Invalid {
                    what: "schema",
                    message: format!(
                        "the database records migration {} `{}`, which this koschei does not have",
                        a.version, a.name
                    ),
                });
            }
            Some(m) if m.checksum() != a.checksum => {
                return Err(Error::ChecksumMismatch {
                    version: a.version,
                    name: a.name.clone(),
                    found: a.checksum.clone(),
                    expected: m.checksum(),
                });
            }
            Some(_) => {}
        }
    }
    let pending = migrations
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .map(|m| m.version)
        .collect();
    Ok(SchemaStatus {
        applied,
        pending,
        latest_known,
    })
}

/// Checks that the database is exactly at the built-in schema version.
pub fn check_current(client: &mut impl GenericClient) -> Result<i32, Error> {
    let status = status(client, MIGRATIONS)?;
    if !status.is_current() {
        return Err(Error::SchemaOutdated {
            found: status.current(),
            known: status.latest_known,
        });
    }
    Ok(status.latest_known)
}

/// Applies the pending built-in migrations; returns the versions applied (empty when the
/// database was current).
pub fn migrate(client: &mut Client) -> Result<Vec<i32>, Error> {
    migrate_with(client, MIGRATIONS)
}

/// Applies the pending ones of `migrations` (for tests that need their own list).
pub fn migrate_with(client: &mut Client, migrations: &[Migration]) -> Result<Vec<i32>, Error> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK_KEY])
        .ctx("take the migration lock")?;
    let result = apply_pending(client, migrations);
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK_KEY])
        .ctx("release the migration lock");
    let applied = result?;
    unlock?;
    Ok(applied)
}

fn apply_pending(client: &mut Client, migrations: &[Migration]) -> Result<Vec<i32>, Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migration (
                 version     integer PRIMARY KEY,
                 name        text NOT NULL,
                 checksum    text NOT NULL,
                 applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
             )",
        )
        .ctx("create the schema_migration table")?;
    let status = status(client, migrations)?;
    let mut done = Vec::new();
    for m in migrations
        .iter()
        .filter(|m| status.pending.contains(&m.version))
    {
        let fail = |source| Error::Migration {
            version: m.version,
            name: m.name.to_owned(),
            source,
        };
        let mut tx = client.transaction().map_err(fail)?;
        tx.batch_execute(m.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &m.checksum()],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        done.push(m.version);
    }
    Ok(done)
}

/// Grants `role` the rights the services need on every table and sequence (the original
/// granted `unpriv_db_username` after creating or migrating the database). The role name
/// is quoted by the server (`format('%I')`), never pasted into SQL here.
pub fn grant_access(client: &mut impl GenericClient, role: &str) -> Result<(), Error> {
    let statements = [
        "SELECT format('GRANT USAGE ON SCHEMA public TO %I', $1::text)",
        "SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', $1::text)",
        "SELECT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', $1::text)",
    ];
    for build in statements {
        const Q: &str = "quote the unprivileged role";
        let row = client.query_one(build, &[&role]).ctx(Q)?;
        let sql: String = column(&row, Q, "format")?;
        client.batch_execute(&sql).map_err(|source| Error::Query {
            what: "grant access to the unprivileged role",
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "migration `{}`", m.name);
            assert!(!m.sql.trim().is_empty());
        }
        assert_eq!(latest_version(), MIGRATIONS.len() as i32);
    }
}
