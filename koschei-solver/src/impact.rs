//! Impact of a repository change on one source package (issue "impact"):
//! the resolution against the old and the new state, a status, the
//! dependency changes with distances over the new state and the priority
//! Koschei's repo resolver would give them.

use std::collections::HashMap;

use crate::diff::{DependencyChange, dependency_changes, dependency_priority};
use crate::resolver::{Resolution, Resolver};

/// How a package's resolution changes between two repository states.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ImpactStatus {
    /// Resolved before, not after.
    Broken,
    /// Not resolved before, resolved after.
    Fixed,
    /// Resolved in both, with different install sets.
    Changed,
    /// Resolved in both, same install set.
    Unchanged,
    /// Unresolved in both.
    StillBroken,
}

impl ImpactStatus {
    /// Every status, in report order.
    pub const ALL: [ImpactStatus; 5] = [
        ImpactStatus::Broken,
        ImpactStatus::Fixed,
        ImpactStatus::Changed,
        ImpactStatus::Unchanged,
        ImpactStatus::StillBroken,
    ];

    /// The status of a package whose answers were `old` and `new`.
    pub fn of(old: &Resolution, new: &Resolution) -> ImpactStatus {
        match (old.resolved, new.resolved) {
            (true, false) => ImpactStatus::Broken,
            (false, true) => ImpactStatus::Fixed,
            (false, false) => ImpactStatus::StillBroken,
            (true, true) if old.installs != new.installs => ImpactStatus::Changed,
            (true, true) => ImpactStatus::Unchanged,
        }
    }

    /// The name used in output: `broken`, `fixed`, `changed`, `unchanged`, `still-broken`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImpactStatus::Broken => "broken",
            ImpactStatus::Fixed => "fixed",
            ImpactStatus::Changed => "changed",
            ImpactStatus::Unchanged => "unchanged",
            ImpactStatus::StillBroken => "still-broken",
        }
    }
}

/// The impact of a repository change on one source package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageImpact {
    /// Status derived from the two resolutions.
    pub status: ImpactStatus,
    /// The answer against the old state.
    pub old: Resolution,
    /// The answer against the new state.
    pub new: Resolution,
    /// Dependency changes (spec 3.5), distances over the new state (spec 3.4).
    pub changes: Vec<DependencyChange>,
    /// `int(sum(package_update / (distance or 8)))` over the changes.
    pub dependency_priority: i64,
}

/// Builds the impact from two answers; `distances` is called only when
/// some dependency was added or upgraded (it is the expensive part).
pub fn package_impact(
    old: Resolution,
    new: Resolution,
    package_update: f64,
    distances: impl FnOnce(&[String]) -> HashMap<String, u32>,
) -> PackageImpact {
    let status = ImpactStatus::of(&old, &new);
    let mut changes = dependency_changes(&old.installs, &new.installs, &HashMap::new());
    if changes.iter().any(|c| c.curr_evr.is_some()) {
        let d = distances(&new.installs);
        changes = dependency_changes(&old.installs, &new.installs, &d);
    }
    let dependency_priority = dependency_priority(&changes, package_update);
    PackageImpact {
        status,
        old,
        new,
        changes,
        dependency_priority,
    }
}

/// Resolves one package against both states and builds its impact.
pub fn resolve_impact(
    old: &mut Resolver,
    new: &mut Resolver,
    old_group: &[String],
    new_group: &[String],
    build_requires: &[String],
    package_update: f64,
) -> PackageImpact {
    let old_res = old.resolve(old_group, build_requires);
    let new_res = new.resolve(new_group, build_requires);
    package_impact(old_res, new_res, package_update, |installs| {
        new.dependency_distances(build_requires, installs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(resolved: bool, installs: &[&str]) -> Resolution {
        Resolution {
            resolved,
            installs: installs.iter().map(|s| (*s).to_owned()).collect(),
            problems: if resolved {
                vec![]
            } else {
                vec!["No package found for: x".to_owned()]
            },
        }
    }

    #[test]
    fn statuses() {
        let a = res(true, &["a-0:1-1.noarch"]);
        let b = res(true, &["a-0:2-1.noarch"]);
        let u = res(false, &[]);
        assert_eq!(ImpactStatus::of(&a, &u), ImpactStatus::Broken);
        assert_eq!(ImpactStatus::of(&u, &a), ImpactStatus::Fixed);
        assert_eq!(ImpactStatus::of(&a, &b), ImpactStatus::Changed);
        assert_eq!(ImpactStatus::of(&a, &a), ImpactStatus::Unchanged);
        assert_eq!(ImpactStatus::of(&u, &u), ImpactStatus::StillBroken);
        assert_eq!(
            serde_json::to_string(&ImpactStatus::StillBroken).expect("json"),
            "\"still-broken\""
        );
    }

    #[test]
    fn distances_only_computed_when_something_was_added() {
        let a = res(true, &["a-0:1-1.noarch", "b-0:1-1.noarch"]);
        let removed = res(true, &["a-0:1-1.noarch"]);
        let i = package_impact(a.clone(), removed, 256.0, |_| panic!("not needed"));
        assert_eq!(i.changes.len(), 1);
        assert_eq!(i.dependency_priority, 32);
        let upgraded = res(true, &["a-0:2-1.noarch", "b-0:1-1.noarch"]);
        let i = package_impact(a, upgraded, 256.0, |_| {
            [("a".to_owned(), 1)].into_iter().collect()
        });
        assert_eq!(i.status, ImpactStatus::Changed);
        assert_eq!(i.changes[0].distance, Some(1));
        assert_eq!(i.dependency_priority, 256);
    }

    #[test]
    fn no_changes_for_unresolved_sides() {
        let a = res(true, &["a-0:1-1.noarch"]);
        let i = package_impact(a, res(false, &[]), 256.0, |_| panic!("not needed"));
        assert_eq!(i.status, ImpactStatus::Broken);
        assert!(i.changes.is_empty());
        assert_eq!(i.dependency_priority, 0);
    }
}
