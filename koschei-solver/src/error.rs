//! The solver crate's error type.

use std::path::PathBuf;

/// What can go wrong loading repositories or setting up a solver.
///
/// An unresolvable package is not an error: it is a [`crate::Resolution`]
/// with problems.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SolverError {
    /// A file could not be read or written.
    #[error("cannot access `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `repomd.xml` is malformed or lacks a required entry.
    #[error("invalid repository metadata `{path}`: {message}")]
    Repomd {
        /// The `repomd.xml` file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A metadata file does not match the checksum `repomd.xml` records.
    #[error("checksum mismatch for `{path}`: repomd.xml says {kind} {expected}, file has {actual}")]
    Checksum {
        /// The metadata file.
        path: PathBuf,
        /// Checksum type (`sha256`, ...).
        kind: String,
        /// The value in `repomd.xml`.
        expected: String,
        /// The value computed over the file.
        actual: String,
    },
    /// A metadata file could not be parsed (truncated, malformed, bad compression).
    #[error("cannot parse `{path}`: {message}")]
    Parse {
        /// The metadata file.
        path: PathBuf,
        /// What libsolv or the XML parser reported.
        message: String,
    },
    /// The `.solv` cache could not be written.
    #[error("cannot write solver cache `{path}`: {message}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The system libsolv cannot be set up as required (e.g. no RPM support).
    #[error("libsolv setup failed: {0}")]
    Setup(String),
    /// A URL was given where only local directories are supported.
    #[error("`{0}` is a URL: fetching repositories over HTTP is not supported yet")]
    UrlNotSupported(String),
    /// A resolver thread failed.
    #[error("resolver worker failed: {0}")]
    Worker(String),
}

impl SolverError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SolverError::Io {
            path: path.into(),
            source,
        }
    }
}
