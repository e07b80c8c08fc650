//! The crate-level error, for functions that span several modules (service steps).

/// Any error of this crate; each variant wraps one module's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    /// Database.
    #[error(transparent)]
    Db(#[from] crate::db::Error),
}
