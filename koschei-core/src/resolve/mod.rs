//! Dependency resolution seam (spec section 3): what the repo and build resolver services
//! need from a resolver, the BuildRequires conversion, and the change diff.
//!
//! The [`Resolver`] trait is the I/O seam: an implementation downloads (or finds in its cache)
//! the Koji repo named by a [`RepoDescriptor`], loads it into a solver and resolves. The CLI
//! implements it over `koschei-solver` and the repo cache, so `koschei-core` does not depend
//! on libsolv. Everything else in this module is pure.

pub mod diff;

use std::collections::BTreeSet;

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
        &self,
        repo: &RepoDescriptor,
        build_group: &[String],
    ) -> Result<Resolution, ResolveError> {
        let mut all = self.resolve_many(repo, build_group, &[Vec::new()])?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Resolves the build group plus each entry of `build_requires`, independently; returns
    /// one [`Resolution`] per entry, in order.
    fn resolve_many(
        &self,
        repo: &RepoDescriptor,
        build_group: &[String],
        build_requires: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError>;
}

/// One requirement of an SRPM as Koji's `getRPMDeps` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmDep {
    /// The dependency name (`maven-local`, `pkgconfig(glib-2.0)`, `rpmlib(...)`).
    pub name: String,
    /// RPMSENSE flags.
    pub flags: i64,
    /// The version (empty when unversioned).
    pub version: String,
}

const RPMSENSE_LESS: i64 = 1 << 1;
const RPMSENSE_GREATER: i64 = 1 << 2;
const RPMSENSE_EQUAL: i64 = 1 << 3;
const RPMSENSE_FIND_REQUIRES: i64 = 1 << 14;

/// BuildRequires strings from Koji's dependency records (spec 3.1): `RPMSENSE_FIND_REQUIRES`
/// is ignored, records with any other flag than LESS/GREATER/EQUAL (such as `rpmlib(...)`)
/// are dropped, and the rest become `name OP version` (`<`, `>`, `=` from the lowest bit up).
pub fn build_requires_from_deps(deps: &[RpmDep]) -> Vec<String> {
    let sense = RPMSENSE_LESS | RPMSENSE_GREATER | RPMSENSE_EQUAL;
    deps.iter()
        .filter_map(|d| {
            let flags = d.flags & !RPMSENSE_FIND_REQUIRES;
            if flags & !sense != 0 {
                return None;
            }
            let mut op = String::new();
            for (bit, ch) in [
                (RPMSENSE_LESS, '<'),
                (RPMSENSE_GREATER, '>'),
                (RPMSENSE_EQUAL, '='),
            ] {
                if flags & bit != 0 {
                    op.push(ch);
                }
            }
            let s = format!("{} {} {}", d.name, op, d.version);
            Some(s.trim_end().to_owned())
        })
        .collect()
}

/// The NEVRAs of a resolution's installs (helper for persisting dependency sets).
pub fn install_nevras(resolution: &Resolution) -> Vec<Nevra> {
    resolution
        .installs
        .iter()
        .map(|d| d.nevra.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_requires_drop_rpmlib_and_write_operators() {
        let d = |name: &str, flags, version: &str| RpmDep {
            name: name.into(),
            flags,
            version: version.into(),
        };
        let deps = [
            d("maven-local", 0, ""),
            d("jetty-toolchain", 0, ""),
            d("rpmlib(CompressedFileNames)", 16_777_226, "3.0.4-1"),
            d("rpmlib(FileDigests)", 16_777_226, "4.6.0-1"),
            d("glib2-devel", 12, "2.50"),
            d("foo", 10 | RPMSENSE_FIND_REQUIRES, "1"),
            d("bar", 8, "2"),
            d("baz", 2, "3"),
        ];
        assert_eq!(
            build_requires_from_deps(&deps),
            vec![
                "maven-local",
                "jetty-toolchain",
                "glib2-devel >= 2.50",
                "foo <= 1",
                "bar = 2",
                "baz < 3"
            ]
        );
    }
}
