//! Dependency change computation (spec section 3.5): the difference between the installed
//! dependency set of a comparison build and a new installed set, keyed by package name.
//!
//! This module is pure.

use std::collections::BTreeMap;

use crate::model::{Evr, Nevra};

/// One dependency change: `prev` → `curr` for the package `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyChange {
    /// Binary package name.
    pub name: String,
    /// The old NEVRA, `None` when the dependency was added.
    pub prev: Option<Nevra>,
    /// The new NEVRA, `None` when the dependency was removed.
    pub curr: Option<Nevra>,
    /// Distance of the new dependency from the package's BuildRequires (1 = direct),
    /// `None` for removals, build-group-only or far dependencies.
    pub distance: Option<i32>,
}

/// An installed dependency of the new resolution with its distance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledDep {
    /// The installed NEVRA.
    pub nevra: Nevra,
    /// Its distance, when known.
    pub distance: Option<i32>,
}

/// The comparison key of a NEVRA: a missing epoch is 0.
type Key<'a> = (&'a str, i32, &'a str, &'a str, &'a str);

fn key(n: &Nevra) -> Key<'_> {
    (
        n.name.as_str(),
        n.evr.epoch.unwrap_or(0),
        n.evr.version.as_str(),
        n.evr.release.as_str(),
        n.arch.as_str(),
    )
}

/// The NEVRA with its epoch written (0 when missing).
fn normalized(n: &Nevra) -> Nevra {
    Nevra {
        name: n.name.clone(),
        evr: Evr::new(
            Some(n.evr.epoch.unwrap_or(0)),
            n.evr.version.clone(),
            n.evr.release.clone(),
        ),
        arch: n.arch.clone(),
    }
}

/// The changes from `old` to `new`, compared by full NEVRA (a missing epoch equals 0).
///
/// When either set is empty there are no changes (a package without dependencies is not
/// diffed). Each removed NEVRA gives `prev → None`; each added NEVRA is merged into the entry
/// of the same name (an upgrade or downgrade) or gives `None → curr`; `curr` and `distance`
/// come from the new side. When several NEVRAs of one name change, the greatest one wins.
/// The result is sorted by name; NEVRAs in it have their epoch written.
pub fn dependency_changes<'a, I>(old: I, new: &[InstalledDep]) -> Vec<DependencyChange>
where
    I: IntoIterator<Item = &'a Nevra>,
{
    let old_set: BTreeMap<Key<'a>, &'a Nevra> = old.into_iter().map(|n| (key(n), n)).collect();
    if old_set.is_empty() || new.is_empty() {
        return Vec::new();
    }
    let new_map: BTreeMap<Key<'_>, &InstalledDep> =
        new.iter().map(|d| (key(&d.nevra), d)).collect();
    let mut changes: BTreeMap<&str, DependencyChange> = BTreeMap::new();
    for (k, prev) in old_set.iter().filter(|(k, _)| !new_map.contains_key(*k)) {
        changes.insert(
            k.0,
            DependencyChange {
                name: prev.name.clone(),
                prev: Some(normalized(prev)),
                curr: None,
                distance: None,
            },
        );
    }
    for (k, curr) in new_map.iter().filter(|(k, _)| !old_set.contains_key(*k)) {
        let entry = changes.entry(k.0).or_insert_with(|| DependencyChange {
            name: curr.nevra.name.clone(),
            prev: None,
            curr: None,
            distance: None,
        });
        entry.curr = Some(normalized(&curr.nevra));
        entry.distance = curr.distance;
    }
    changes.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Nevra {
        Nevra::parse(s).expect("test NEVRA")
    }

    fn dep(s: &str, distance: Option<i32>) -> InstalledDep {
        InstalledDep {
            nevra: n(s),
            distance,
        }
    }

    #[test]
    fn original_resolver_test_changes() {
        // The old build had C 1:2-1 and no E; the new repo has C 1:3-1 and E.
        let old = [
            n("A-0:1-1.fc22.x86_64"),
            n("B-0:4.1-2.fc22.noarch"),
            n("C-1:2-1.fc22.x86_64"),
            n("D-2:8.b-1.rc1.fc22.x86_64"),
            n("F-0:1-1.fc22.noarch"),
            n("R-0:3.3-2.fc22.x86_64"),
        ];
        let new = [
            dep("A-0:1-1.fc22.x86_64", Some(1)),
            dep("B-0:4.1-2.fc22.noarch", Some(2)),
            dep("C-1:3-1.fc22.x86_64", Some(2)),
            dep("D-2:8.b-1.rc1.fc22.x86_64", Some(3)),
            dep("E-0:0.1-1.fc22.1.noarch", Some(2)),
            dep("F-0:1-1.fc22.noarch", Some(1)),
            dep("R-0:3.3-2.fc22.x86_64", None),
        ];
        let got = dependency_changes(&old, &new);
        assert_eq!(
            got,
            vec![
                DependencyChange {
                    name: "C".into(),
                    prev: Some(n("C-1:2-1.fc22.x86_64")),
                    curr: Some(n("C-1:3-1.fc22.x86_64")),
                    distance: Some(2),
                },
                DependencyChange {
                    name: "E".into(),
                    prev: None,
                    curr: Some(n("E-0:0.1-1.fc22.1.noarch")),
                    distance: Some(2),
                },
            ]
        );
    }

    #[test]
    fn removal_has_no_distance_and_empty_sides_give_nothing() {
        let old = [n("A-0:1-1.x86_64"), n("G-0:1-1.noarch")];
        let new = [dep("A-0:1-1.x86_64", Some(1))];
        assert_eq!(
            dependency_changes(&old, &new),
            vec![DependencyChange {
                name: "G".into(),
                prev: Some(n("G-0:1-1.noarch")),
                curr: None,
                distance: None,
            }]
        );
        assert!(dependency_changes(&[], &new).is_empty());
        assert!(dependency_changes(&old, &[]).is_empty());
    }

    #[test]
    fn missing_epoch_equals_zero() {
        let mut a = n("A-0:1-1.x86_64");
        a.evr.epoch = None;
        assert!(dependency_changes(&[a], &[dep("A-0:1-1.x86_64", Some(1))]).is_empty());
    }

    #[test]
    fn downgrade_is_one_entry() {
        let got = dependency_changes(&[n("A-0:2-1.x86_64")], &[dep("A-0:1-1.x86_64", Some(3))]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].prev, Some(n("A-0:2-1.x86_64")));
        assert_eq!(got[0].curr, Some(n("A-0:1-1.x86_64")));
        assert_eq!(got[0].distance, Some(3));
    }
}
