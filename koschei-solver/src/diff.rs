//! Pure functions over resolution results: NEVRA string splitting and dependency
//! distances (spec 3.4). Dependency changes and priorities are koschei-core's
//! (`resolve::diff`, `priority`), used by [`crate::package_impact`].

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

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
    fn nevra_with_dashes_in_name() {
        assert_eq!(
            split_nevra("lib-foo-bar-2:1.0-3.fc40.x86_64"),
            Some(("lib-foo-bar", "2:1.0-3.fc40", "x86_64"))
        );
        assert_eq!(split_nevra("nonsense"), None);
    }
}
