//! One module per verb; each `run` parses nothing, calls the library and renders.

pub(crate) mod admin;
pub(crate) mod collection;
pub(crate) mod config;
pub(crate) mod db;
pub(crate) mod demo;
pub(crate) mod generate;
pub(crate) mod impact;
pub(crate) mod messaging;
mod offline;
pub(crate) mod package;
pub(crate) mod psql;
mod remote;
pub(crate) mod resolve;
pub(crate) mod run;
pub(crate) mod status;
pub(crate) mod submit;

use crate::exit::outln;
use koschei_core::config::Config;
use koschei_core::db::{Database, migrate};

/// What every command gets.
#[derive(Debug)]
pub(crate) struct Context {
    /// The loaded configuration.
    pub(crate) config: Config,
}

impl Context {
    /// The configured database, or the private cluster (stopped when the value drops).
    pub(crate) fn open_database(&self) -> anyhow::Result<Database> {
        Ok(Database::open(
            &self.config.database,
            koschei_core::config::state_dir(),
        )?)
    }

    /// A connection to a database whose schema is current.
    pub(crate) fn connect_current(&self) -> anyhow::Result<(Database, postgres::Client)> {
        let db = self.open_database()?;
        let mut client = db.connect()?;
        migrate::check_current(&mut client)?;
        Ok((db, client))
    }
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}
