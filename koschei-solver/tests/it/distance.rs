//! Dependency distances over a real repository (spec 3.4 worked example).

use std::collections::HashMap;

use koschei_core::priority::Priorities;
use koschei_solver::{Resolution, ResolveOptions, Resolver, package_impact, read_source_packages};

use crate::support::{TempDir, fixture, load};

#[test]
fn spec_worked_example_over_a_repository() {
    let case = fixture("distance");
    let cache = TempDir::new("distance");
    let repo = load(&case.join("binary"), cache.path());
    let group = repo
        .build_group()
        .expect("comps has the build group")
        .to_vec();
    assert_eq!(group, ["R"]);
    let sources = read_source_packages(&case.join("source")).expect("sources");
    let brs = &sources[0].build_requires;
    assert_eq!(brs, &["A", "F"]);
    let mut resolver = Resolver::new(&[&repo], ResolveOptions::default()).expect("resolver");
    let res = resolver.resolve(&group, brs);
    assert!(res.resolved, "{:?}", res.problems);
    assert_eq!(res.installs.len(), 7);
    let d = resolver.dependency_distances(brs, &res.installs);
    let expect: HashMap<String, u32> = [("A", 1), ("F", 1), ("B", 2), ("C", 2), ("E", 2), ("D", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(d, expect);
    assert!(!d.contains_key("R"), "the build group is not a BFS root");

    // Changes against an older install set carry the new side's distance.
    let old: Vec<String> = res
        .installs
        .iter()
        .map(|n| n.replace("D-0:1.0-1", "D-0:0.9-1"))
        .filter(|n| !n.starts_with("R-"))
        .collect();
    let old = Resolution {
        resolved: true,
        installs: old,
        problems: Vec::new(),
    };
    let impact = package_impact(old, res.clone(), &Priorities::default(), |_| d.clone());
    let changes = impact.changes;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].dep_name, "D");
    assert_eq!(changes[0].prev_evr.as_deref(), Some("0:0.9-1"));
    assert_eq!(changes[0].curr_evr.as_deref(), Some("0:1.0-1"));
    assert_eq!(changes[0].distance, Some(3));
    assert_eq!(changes[1].dep_name, "R");
    assert_eq!(changes[1].prev_evr, None);
    assert_eq!(changes[1].distance, None);
}
