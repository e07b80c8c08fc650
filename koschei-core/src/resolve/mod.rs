//! Dependency resolution seam (spec section 3): what the repo and build resolver services
//! need from a resolver, and the change diff.
//!
//! The [`Resolver`] trait is the I/O seam: an implementation downloads (or finds in its cache)
//! the Koji repo named by a [`RepoDescriptor`], loads it into a solver and resolves. The CLI
//! implements it over `koschei-solver` and the repo cache, so `koschei-core` does not depend
//! on libsolv. Everything else in this module is pure.

pub mod diff;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Nevra, RepoId};
pub use diff::{DependencyChange, InstalledDep, dependency_changes};

/// A Koji repo of a build tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoDescriptor {
    /// The build tag (`f29-build`).
    pub build_tag: String,
    /// The Koji repo id.
    pub repo_id: RepoId,
}

/// The outcome of resolving one set of BuildRequires plus the build group.
///
/// An unresolvable package is data, not an error: `resolved` is false and `problems` says why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolution {
    /// Whether everything could be installed.
    pub resolved: bool,
    /// The installed binary packages with their distance from the BuildRequires
    /// (1 = direct, up to 4; `None` for build-group-only or farther dependencies).
    /// Empty when unresolved.
    pub installs: Vec<InstalledDep>,
    /// Problem texts (`No package found for: foo`, `Problem: ...`), empty when resolved.
    pub problems: BTreeSet<String>,
}

/// Why a resolver could not produce results for a repo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The repo is gone from Koji or cannot be downloaded (dead repo); results for it will
    /// never come, so builds in it are marked unresolvable.
    #[error("repo {repo_id} of `{build_tag}` is not available")]
    RepoUnavailable {
        /// The build tag.
        build_tag: String,
        /// The repo id.
        repo_id: RepoId,
    },
    /// Any other failure (I/O, cache, solver); the work is retried on the next pass.
    #[error("resolving in repo {repo_id} of `{build_tag}` failed")]
    Failed {
        /// The build tag.
        build_tag: String,
        /// The repo id.
        repo_id: RepoId,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A dependency resolver over Koji repos.
pub trait Resolver {
    /// Resolves the build group alone (the base buildroot of a collection).
    fn resolve_buildroot(
        &mut self,
        repo: &RepoDescriptor,
        build_group: &[String],
    ) -> Result<Resolution, ResolveError> {
        let mut all = self.resolve_many(repo, build_group, &[Vec::new()])?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Resolves the build group plus each entry of `build_requires`, independently; returns
    /// one [`Resolution`] per entry, in order.
    fn resolve_many(
        &mut self,
        repo: &RepoDescriptor,
        build_group: &[String],
        build_requires: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError>;

    /// Ends a service pass (the engine calls it after every resolver service pass):
    /// `succeeded` tells whether the pass completed, so a resolver that remembers answers
    /// across passes persists only complete ones. Returns what the resolver did since the
    /// last call. The default does nothing and reports nothing.
    fn finish_pass(&mut self, succeeded: bool) -> PassStats {
        let _ = succeeded;
        PassStats::default()
    }
}

/// What the resolver did since the last [`Resolver::finish_pass`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PassStats {
    /// Requests answered (one per package, plus the buildroot).
    pub requests: usize,
    /// Requests solved.
    pub solved: usize,
    /// Requests answered by carrying a remembered answer over.
    pub carried: usize,
    /// Why requests were solved, by reason kind.
    pub reasons: BTreeMap<&'static str, usize>,
}

impl std::fmt::Display for PassStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests: {} solved, {} carried over",
            self.requests, self.solved, self.carried
        )?;
        if !self.reasons.is_empty() {
            let reasons: Vec<String> = self
                .reasons
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            write!(f, " (solved because {})", reasons.join(", "))?;
        }
        Ok(())
    }
}

/// The NEVRAs of a resolution's installs (helper for persisting dependency sets).
pub fn install_nevras(resolution: &Resolution) -> Vec<Nevra> {
    resolution
        .installs
        .iter()
        .map(|d| d.nevra.clone())
        .collect()
}
