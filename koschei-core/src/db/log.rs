//! Users and the admin log (`log_entry`).

use postgres::GenericClient;
use serde::Serialize;

use super::{Error, QueryContext, column};
use crate::model::{BasePackageId, UserId};

/// Where a log entry comes from (`log_environment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Environment {
    /// The `koschei` admin commands.
    Admin,
    /// The services.
    Backend,
    /// The web frontend.
    Frontend,
}

impl Environment {
    /// The enum label in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Admin => "admin",
            Environment::Backend => "backend",
            Environment::Frontend => "frontend",
        }
    }
}

/// The id of user `name`, creating the user if needed.
pub fn user_id(client: &mut impl GenericClient, name: &str) -> Result<UserId, Error> {
    let row = client
        .query_one(
            "INSERT INTO users (name) VALUES ($1)
             ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            &[&name],
        )
        .ctx("find or create a user")?;
    Ok(UserId(column(&row, "find or create a user", "id")?))
}

/// Appends an entry to the admin log.
pub fn record(
    client: &mut impl GenericClient,
    environment: Environment,
    user: Option<UserId>,
    message: &str,
    base: Option<BasePackageId>,
) -> Result<(), Error> {
    client
        .execute(
            "INSERT INTO log_entry (environment, user_id, message, base_id)
             VALUES ($1::text::log_environment, $2, $3, $4)",
            &[
                &environment.as_str(),
                &user.map(|u| u.0),
                &message,
                &base.map(|b| b.0),
            ],
        )
        .ctx("write the admin log")?;
    Ok(())
}

/// One `log_entry` with its user's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// `admin`, `backend` or `frontend`.
    pub environment: String,
    /// User name, if any.
    pub user: Option<String>,
    /// UTC time, ISO 8601.
    pub timestamp: String,
    /// The message.
    pub message: String,
}

/// The newest `limit` entries, newest first.
pub fn recent(client: &mut impl GenericClient, limit: i64) -> Result<Vec<LogEntry>, Error> {
    const Q: &str = "read the admin log";
    let rows = client
        .query(
            "SELECT l.environment::text AS environment, u.name AS user_name,
                    to_char(l.timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS timestamp,
                    l.message
             FROM log_entry l LEFT JOIN users u ON u.id = l.user_id
             ORDER BY l.timestamp DESC, l.id DESC LIMIT $1",
            &[&limit],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(LogEntry {
                environment: column(r, Q, "environment")?,
                user: column(r, Q, "user_name")?,
                timestamp: column(r, Q, "timestamp")?,
                message: column(r, Q, "message")?,
            })
        })
        .collect()
}
