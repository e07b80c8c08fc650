//! The crate-level error: every module's error converts into it, so an embedder's `?` works
//! across the Koji client, the repo cache, the resolver, the database and the services.

/// Any error of this crate; each variant wraps one module's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    /// A Koji call.
    #[error(transparent)]
    Koji(#[from] crate::koji::Error),
    /// The repodata cache.
    #[error(transparent)]
    Repo(#[from] crate::repo::Error),
    /// Dependency resolution.
    #[error(transparent)]
    Resolve(#[from] crate::resolve::ResolveError),
    /// Database.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Db(#[from] crate::db::Error),
    /// An engine service pass.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Service(#[from] crate::service::Error),
}

impl Error {
    /// Whether a Koji call was given up because a stop was requested
    /// ([`crate::koji::ClientOptions::stop`]).
    pub fn is_interrupted(&self) -> bool {
        match self {
            Error::Koji(e) => e.is_interrupted(),
            #[cfg(feature = "postgres")]
            Error::Service(e) => e.is_interrupted(),
            _ => false,
        }
    }
}

/// An error with its causes, `: `-separated (`koji call failed: connection refused`), for
/// logs and one-line summaries.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_lists_every_cause_once() {
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&e), "outer: inner");
        let plain = std::io::Error::other("alone");
        assert_eq!(chain(&plain), "alone");
    }
}
