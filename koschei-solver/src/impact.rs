//! Impact of a repository change on one source package (issue "impact"):
//! the resolution against the old and the new state, a status, the
//! dependency changes with distances over the new state and the priority
//! Koschei's repo resolver would give them.

use std::collections::HashMap;

use koschei_core::model::Nevra;
use koschei_core::priority::{Priorities, dependency_priority};
use koschei_core::resolve::InstalledDep;
use koschei_core::resolve::diff::dependency_changes;

use crate::resolver::{Resolution, Resolver};

/// One changed build dependency as `koschei impact --json` writes it: koschei-core's
/// [`koschei_core::resolve::DependencyChange`] (the engine's computation, the only one) with
/// `E:V-R` strings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DependencyChange {
    /// Package name of the dependency.
    pub dep_name: String,
    /// `E:V-R` in the old install set, `None` when added.
    pub prev_evr: Option<String>,
    /// `E:V-R` in the new install set, `None` when removed.
    pub curr_evr: Option<String>,
    /// Distance of the new package (1..=4), `None` when removed or unknown.
    pub distance: Option<u32>,
}

impl From<&koschei_core::resolve::DependencyChange> for DependencyChange {
    fn from(c: &koschei_core::resolve::DependencyChange) -> Self {
        DependencyChange {
            dep_name: c.name.clone(),
            prev_evr: c.prev.as_ref().map(|n| n.evr.to_string()),
            curr_evr: c.curr.as_ref().map(|n| n.evr.to_string()),
            distance: c.distance.and_then(|d| u32::try_from(d).ok()),
        }
    }
}

/// The engine's dependency changes between two install sets of NEVRA strings, with the
/// new side's distances by name (strings that are not NEVRAs are skipped).
fn changes(
    old: &[String],
    new: &[String],
    distances: &HashMap<String, u32>,
) -> Vec<koschei_core::resolve::DependencyChange> {
    let old: Vec<Nevra> = old.iter().filter_map(|s| Nevra::parse(s).ok()).collect();
    let new: Vec<InstalledDep> = new
        .iter()
        .filter_map(|s| Nevra::parse(s).ok())
        .map(|nevra| InstalledDep {
            distance: distances
                .get(&nevra.name)
                .and_then(|d| i32::try_from(*d).ok()),
            nevra,
        })
        .collect();
    dependency_changes(&old, &new)
}

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
    /// `int(sum(package_update / (distance or 8)))` over the changes, with the configured
    /// `[priorities]` (koschei-core's `priority::dependency_priority`, as the engine).
    pub dependency_priority: i32,
}

/// Builds the impact from two answers; `distances` is called only when
/// some dependency was added or upgraded (it is the expensive part).
pub fn package_impact(
    old: Resolution,
    new: Resolution,
    priorities: &Priorities,
    distances: impl FnOnce(&[String]) -> HashMap<String, u32>,
) -> PackageImpact {
    let status = ImpactStatus::of(&old, &new);
    let mut found = changes(&old.installs, &new.installs, &HashMap::new());
    if found.iter().any(|c| c.curr.is_some()) {
        let d = distances(&new.installs);
        found = changes(&old.installs, &new.installs, &d);
    }
    let dependency_priority = dependency_priority(priorities, found.iter().map(|c| c.distance));
    PackageImpact {
        status,
        old,
        new,
        changes: found.iter().map(DependencyChange::from).collect(),
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
    priorities: &Priorities,
) -> PackageImpact {
    let old_res = old.resolve(old_group, build_requires);
    let new_res = new.resolve(new_group, build_requires);
    package_impact(old_res, new_res, priorities, |installs| {
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
        let i = package_impact(a.clone(), removed, &Priorities::default(), |_| {
            panic!("not needed")
        });
        assert_eq!(i.changes.len(), 1);
        assert_eq!(i.dependency_priority, 32);
        let upgraded = res(true, &["a-0:2-1.noarch", "b-0:1-1.noarch"]);
        let i = package_impact(a, upgraded, &Priorities::default(), |_| {
            [("a".to_owned(), 1)].into_iter().collect()
        });
        assert_eq!(i.status, ImpactStatus::Changed);
        assert_eq!(i.changes[0].distance, Some(1));
        assert_eq!(i.dependency_priority, 256);
    }

    #[test]
    fn no_changes_for_unresolved_sides() {
        let a = res(true, &["a-0:1-1.noarch"]);
        let i = package_impact(a, res(false, &[]), &Priorities::default(), |_| {
            panic!("not needed")
        });
        assert_eq!(i.status, ImpactStatus::Broken);
        assert!(i.changes.is_empty());
        assert_eq!(i.dependency_priority, 0);
    }

    #[test]
    fn changes_by_name_with_upgrades_additions_and_removals() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let old = Resolution {
            resolved: true,
            installs: s(&[
                "a-0:1-1.x86_64",
                "b-0:1-1.noarch",
                "gone-1:2-3.x86_64",
                "same-0:1-1.x86_64",
            ]),
            problems: vec![],
        };
        let new = Resolution {
            resolved: true,
            installs: s(&[
                "a-0:2-1.x86_64",
                "b-0:1-1.noarch",
                "fresh-0:5-1.noarch",
                "same-0:1-1.x86_64",
            ]),
            problems: vec![],
        };
        let i = package_impact(old, new, &Priorities::default(), |_| {
            [("a".to_owned(), 2), ("fresh".to_owned(), 1)]
                .into_iter()
                .collect()
        });
        let change = |n: &str, p: Option<&str>, c: Option<&str>, d| DependencyChange {
            dep_name: n.into(),
            prev_evr: p.map(Into::into),
            curr_evr: c.map(Into::into),
            distance: d,
        };
        assert_eq!(
            i.changes,
            vec![
                change("a", Some("0:1-1"), Some("0:2-1"), Some(2)),
                change("fresh", None, Some("0:5-1"), Some(1)),
                change("gone", Some("1:2-3"), None, None),
            ]
        );
        assert_eq!(i.dependency_priority, 128 + 256 + 32);
        // The configured weight is used, not a built-in 256.
        let doubled = Priorities {
            package_update: 512,
            ..Priorities::default()
        };
        let j = package_impact(i.old.clone(), i.new.clone(), &doubled, |_| {
            [("a".to_owned(), 2), ("fresh".to_owned(), 1)]
                .into_iter()
                .collect()
        });
        assert_eq!(j.dependency_priority, 2 * (128 + 256 + 32));
    }
}
