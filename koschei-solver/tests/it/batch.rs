//! The whole-repo API: order, sharing of identical requests, threads.

use koschei_solver::{ResolveOptions, Resolver, read_source_packages, resolve_all};

use crate::support::{TempDir, fixture, load};

#[test]
fn results_stream_in_input_order_and_match_single_solves() {
    let case = fixture("problems");
    let cache = TempDir::new("batch");
    let repo = load(&case.join("binary"), cache.path());
    let group = repo.build_group().unwrap_or_default().to_vec();
    let sources = read_source_packages(&case.join("source")).expect("sources");
    // Every request twice, interleaved, so identical lists are shared.
    let mut requests: Vec<Vec<String>> = Vec::new();
    for s in &sources {
        requests.push(s.build_requires.clone());
    }
    for s in &sources {
        requests.push(s.build_requires.clone());
    }
    let mut got = Vec::new();
    let stats = resolve_all(
        &[&repo],
        &group,
        &requests,
        ResolveOptions::default(),
        3,
        |r| got.push(r),
    )
    .expect("batch");
    assert_eq!(stats.requests, requests.len());
    assert_eq!(
        stats.solves,
        sources.len(),
        "identical lists are solved once"
    );
    assert_eq!(
        got.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..requests.len()).collect::<Vec<_>>()
    );
    assert!(got[..sources.len()].iter().all(|r| !r.shared));
    assert!(got[sources.len()..].iter().all(|r| r.shared));

    let mut single = Resolver::new(&[&repo], ResolveOptions::default()).expect("resolver");
    for (r, req) in got.iter().zip(&requests) {
        assert_eq!(
            r.resolution,
            single.resolve(&group, req),
            "request {}",
            r.index
        );
    }
}

#[test]
fn a_reused_solver_answers_like_a_fresh_one() {
    let case = fixture("problems");
    let cache = TempDir::new("reuse");
    let repo = load(&case.join("binary"), cache.path());
    let group = repo.build_group().unwrap_or_default().to_vec();
    let sources = read_source_packages(&case.join("source")).expect("sources");
    let mut reused = Resolver::new(&[&repo], ResolveOptions::default()).expect("resolver");
    // Solve in reverse, then forward, on one solver; compare with fresh solvers.
    for s in sources.iter().rev().chain(sources.iter()) {
        let mut fresh = Resolver::new(&[&repo], ResolveOptions::default()).expect("resolver");
        assert_eq!(
            reused.resolve(&group, &s.build_requires),
            fresh.resolve(&group, &s.build_requires),
            "{}",
            s.name
        );
    }
}

#[test]
fn empty_input_gives_no_results() {
    let case = fixture("distance");
    let cache = TempDir::new("empty");
    let repo = load(&case.join("binary"), cache.path());
    let stats = resolve_all(&[&repo], &[], &[], ResolveOptions::default(), 2, |_| {
        panic!("no results expected")
    })
    .expect("ok");
    assert_eq!(stats.requests, 0);
}
