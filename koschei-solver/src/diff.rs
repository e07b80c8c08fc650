//! Pure functions over resolution results: dependency distances (spec 3.4)
//! and dependency changes (spec 3.5), as the original computes them.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// One changed build dependency between two resolutions.
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

/// Splits `name-epoch:version-release.arch` into `(name, "E:V-R", arch)`.
pub fn split_nevra(nevra: &str) -> Option<(&str, &str, &str)> {
    let (nevr, arch) = nevra.rsplit_once('.')?;
    let (nev, _release) = nevr.rsplit_once('-')?;
    let (name, _ev) = nev.rsplit_once('-')?;
    let evr = &nevr[name.len() + 1..];
    if name.is_empty() {
        return None;
    }
    Some((name, evr, arch))
}

/// The name part of a NEVRA string.
pub fn nevra_name(nevra: &str) -> Option<&str> {
    split_nevra(nevra).map(|(n, _, _)| n)
}

/// Koschei's `create_dependency_changes(old, new)`: empty when either side
/// is empty (unresolved); otherwise removed NEVRAs give `prev` entries and
/// added ones fill `curr` and `distance` of the entry with the same name.
/// `distances` maps package names of the new set to their distance.
/// Sorted by `dep_name`.
pub fn dependency_changes(
    old: &[String],
    new: &[String],
    distances: &HashMap<String, u32>,
) -> Vec<DependencyChange> {
    if old.is_empty() || new.is_empty() {
        return Vec::new();
    }
    let old_set: HashSet<&str> = old.iter().map(String::as_str).collect();
    let new_set: HashSet<&str> = new.iter().map(String::as_str).collect();
    let mut removed: Vec<&str> = old_set.difference(&new_set).copied().collect();
    let mut added: Vec<&str> = new_set.difference(&old_set).copied().collect();
    removed.sort_unstable();
    added.sort_unstable();
    let mut changes: HashMap<String, DependencyChange> = HashMap::new();
    for dep in removed {
        let Some((name, evr, _)) = split_nevra(dep) else {
            continue;
        };
        changes.insert(
            name.to_owned(),
            DependencyChange {
                dep_name: name.to_owned(),
                prev_evr: Some(evr.to_owned()),
                curr_evr: None,
                distance: None,
            },
        );
    }
    for dep in added {
        let Some((name, evr, _)) = split_nevra(dep) else {
            continue;
        };
        let entry = changes
            .entry(name.to_owned())
            .or_insert_with(|| DependencyChange {
                dep_name: name.to_owned(),
                prev_evr: None,
                curr_evr: None,
                distance: None,
            });
        entry.curr_evr = Some(evr.to_owned());
        entry.distance = distances.get(name).copied();
    }
    let mut out: Vec<DependencyChange> = changes.into_values().collect();
    out.sort_by(|a, b| a.dep_name.cmp(&b.dep_name));
    out
}

/// The repo resolver's dependency priority: `int(sum(package_update / (distance or 8)))`.
pub fn dependency_priority(changes: &[DependencyChange], package_update: f64) -> i64 {
    let sum: f64 = changes
        .iter()
        .map(|c| package_update / f64::from(c.distance.unwrap_or(8)))
        .sum();
    sum as i64
}

/// Koschei's breadth-first distance search, over any package graph.
///
/// `roots` are the packages matching the BuildRequires (level 1);
/// `next_level` returns every package providing a `requires` of the given
/// (not yet visited) packages; `name` gives a package's name. Each name in
/// `wanted` (the install set) gets the first level it appears on; the search
/// stops after level 4.
pub fn bfs_distances<N, F, G>(
    roots: impl IntoIterator<Item = N>,
    name: F,
    mut next_level: G,
    wanted: &HashSet<String>,
) -> HashMap<String, u32>
where
    N: Eq + Hash + Clone,
    F: Fn(&N) -> String,
    G: FnMut(&[N]) -> Vec<N>,
{
    let mut distances = HashMap::new();
    let mut visited: HashSet<N> = HashSet::new();
    let mut on_level: HashSet<N> = roots.into_iter().collect();
    let mut level = 1;
    while !on_level.is_empty() {
        for pkg in &on_level {
            let n = name(pkg);
            if wanted.contains(&n) {
                distances.entry(n).or_insert(level);
            }
        }
        level += 1;
        if level >= 5 {
            break;
        }
        let fresh: Vec<N> = on_level
            .iter()
            .filter(|p| !visited.contains(*p))
            .cloned()
            .collect();
        visited.extend(on_level.drain());
        on_level = next_level(&fresh).into_iter().collect();
    }
    distances
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn spec_worked_example_distances() {
        // BR A, F; A->B, F->B,C,E; E->D; B->C; R is a build-group member.
        let graph: HashMap<&str, Vec<&str>> = [
            ("A", vec!["B"]),
            ("F", vec!["B", "C", "E"]),
            ("E", vec!["D"]),
            ("B", vec!["C"]),
            ("C", vec![]),
            ("D", vec![]),
            ("R", vec![]),
        ]
        .into_iter()
        .collect();
        let wanted: HashSet<String> = s(&["A", "B", "C", "D", "E", "F", "R"])
            .into_iter()
            .collect();
        let d = bfs_distances(
            ["A", "F"],
            |n| (*n).to_owned(),
            |level| {
                level
                    .iter()
                    .flat_map(|n| graph[n].iter().copied())
                    .collect()
            },
            &wanted,
        );
        let expect: HashMap<String, u32> =
            [("A", 1), ("F", 1), ("B", 2), ("C", 2), ("E", 2), ("D", 3)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        assert_eq!(d, expect);
        assert_eq!(d.get("R"), None);
    }

    #[test]
    fn distances_stop_after_level_four() {
        let chain = ["a", "b", "c", "d", "e", "f"];
        let wanted: HashSet<String> = chain.iter().map(|x| (*x).to_owned()).collect();
        let d = bfs_distances(
            ["a"],
            |n| (*n).to_owned(),
            |level| {
                level
                    .iter()
                    .filter_map(|n| {
                        chain
                            .iter()
                            .position(|c| c == n)
                            .and_then(|i| chain.get(i + 1))
                            .copied()
                    })
                    .collect()
            },
            &wanted,
        );
        assert_eq!(d.get("d"), Some(&4));
        assert_eq!(d.get("e"), None);
    }

    #[test]
    fn changes_by_name_with_upgrades_additions_and_removals() {
        let old = s(&[
            "a-0:1-1.x86_64",
            "b-0:1-1.noarch",
            "gone-1:2-3.x86_64",
            "same-0:1-1.x86_64",
        ]);
        let new = s(&[
            "a-0:2-1.x86_64",
            "b-0:1-1.noarch",
            "fresh-0:5-1.noarch",
            "same-0:1-1.x86_64",
        ]);
        let dist: HashMap<String, u32> = [("a".to_owned(), 2), ("fresh".to_owned(), 1)]
            .into_iter()
            .collect();
        let c = dependency_changes(&old, &new, &dist);
        assert_eq!(
            c,
            vec![
                DependencyChange {
                    dep_name: "a".into(),
                    prev_evr: Some("0:1-1".into()),
                    curr_evr: Some("0:2-1".into()),
                    distance: Some(2)
                },
                DependencyChange {
                    dep_name: "fresh".into(),
                    prev_evr: None,
                    curr_evr: Some("0:5-1".into()),
                    distance: Some(1)
                },
                DependencyChange {
                    dep_name: "gone".into(),
                    prev_evr: Some("1:2-3".into()),
                    curr_evr: None,
                    distance: None
                },
            ]
        );
        assert_eq!(dependency_priority(&c, 256.0), 128 + 256 + 32);
    }

    #[test]
    fn no_changes_when_either_side_is_empty() {
        let some = s(&["a-0:1-1.x86_64"]);
        assert!(dependency_changes(&[], &some, &HashMap::new()).is_empty());
        assert!(dependency_changes(&some, &[], &HashMap::new()).is_empty());
    }

    #[test]
    fn nevra_with_dashes_in_name() {
        assert_eq!(
            split_nevra("lib-foo-bar-2:1.0-3.fc40.x86_64"),
            Some(("lib-foo-bar", "2:1.0-3.fc40", "x86_64"))
        );
        assert_eq!(split_nevra("nonsense"), None);
    }
}
