//! Repodata fetch tests.
