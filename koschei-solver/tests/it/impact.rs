//! Impact of a repository change, field for field against python3-hawkey
//! plus Koschei's change and distance rules (tests/hawkey_impact_reference.py).

use std::path::Path;
use std::process::Command;

use koschei_solver::{
    ImpactStatus, PackageImpact, Repository, ResolveOptions, Resolver, read_source_packages,
    resolve_impact, run_batch,
};
use serde_json::{Value, json};

use crate::support::{TempDir, fixture, load, manifest_dir};

fn reference(args: &[&str]) -> Vec<Value> {
    let script = manifest_dir()
        .join("tests")
        .join("hawkey_impact_reference.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .args(args)
        .output()
        .expect("run /usr/bin/python3 (python3-hawkey)");
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

fn ours(old: &Repository, new_state: &[&Repository], sources_dir: &Path) -> Vec<Value> {
    ours_with(old, new_state, sources_dir, ResolveOptions::default())
}

fn ours_with(
    old: &Repository,
    new_state: &[&Repository],
    sources_dir: &Path,
    new_options: ResolveOptions,
) -> Vec<Value> {
    let sources = read_source_packages(sources_dir).expect("sources");
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    let old_group = old.build_group().unwrap_or_default().to_vec();
    let new_group = new_state[0].build_group().unwrap_or_default().to_vec();
    let mut out = Vec::new();
    run_batch(
        &requests,
        2,
        || {
            Ok((
                Resolver::new(&[old], ResolveOptions::default())?,
                Resolver::new(new_state, new_options)?,
            ))
        },
        |(o, n): &mut (Resolver, Resolver), brs: &[String]| {
            resolve_impact(
                o,
                n,
                &old_group,
                &new_group,
                brs,
                &koschei_core::priority::Priorities::default(),
            )
        },
        |r| {
            let i: PackageImpact = r.resolution;
            let s = &sources[r.index];
            out.push(json!({
                "name": s.name, "evr": s.evr(), "status": i.status,
                "old": {"resolved": i.old.resolved, "problems": i.old.problems},
                "new": {"resolved": i.new.resolved, "problems": i.new.problems},
                "changes": i.changes, "dependency_priority": i.dependency_priority,
            }));
        },
    )
    .expect("batch");
    out
}

#[test]
fn impact_of_a_new_repo_matches_hawkey_field_for_field() {
    let case = fixture("impact");
    let cache = TempDir::new("impact");
    let old = load(&case.join("old"), cache.path());
    let new = load(&case.join("new"), cache.path());
    let got = ours(&old, &[&new], &case.join("source"));
    let (o, n, s) = (case.join("old"), case.join("new"), case.join("source"));
    let want = reference(&[
        "--old-repo",
        o.to_str().expect("utf-8"),
        "--new-repo",
        n.to_str().expect("utf-8"),
        "--sources",
        s.to_str().expect("utf-8"),
    ]);
    assert_eq!(got, want);
    let statuses: Vec<&str> = got
        .iter()
        .map(|v| v["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        [
            "changed",
            "broken",
            "fixed",
            "unchanged",
            "still-broken",
            "changed",
            "broken"
        ]
    );
    // uses-foo: foo-tools -> foo-devel (2) -> libfoo (3): 256/2 + 256/3.
    assert_eq!(got[0]["dependency_priority"], 213);
}

#[test]
fn added_side_repo_overrides_a_library() {
    let case = fixture("impact");
    let cache = TempDir::new("impact-add");
    let old = load(&case.join("old"), cache.path());
    let side = load(&case.join("side"), cache.path());
    assert_eq!(side.build_group(), None, "the side repo has no comps");
    let got = ours(&old, &[&old, &side], &case.join("source"));
    let (o, a, s) = (case.join("old"), case.join("side"), case.join("source"));
    let want = reference(&[
        "--old-repo",
        o.to_str().expect("utf-8"),
        "--add-repo",
        a.to_str().expect("utf-8"),
        "--sources",
        s.to_str().expect("utf-8"),
    ]);
    assert_eq!(got, want);
    // The side tag's libfoo 3.0 wins over the base's 1.0.
    assert_eq!(got[5]["changes"][0]["curr_evr"], "0:3.0-1");
    assert_eq!(got[0]["status"], json!(ImpactStatus::Changed));
}

#[test]
fn override_by_exclusion_keeps_only_the_highest_evr() {
    let case = fixture("impact");
    let cache = TempDir::new("impact-override");
    let old = load(&case.join("old"), cache.path());
    let side = load(&case.join("side"), cache.path());
    let options = ResolveOptions {
        override_by_exclusion: true,
        ..ResolveOptions::default()
    };
    let got = ours_with(&old, &[&old, &side], &case.join("source"), options);
    let (o, a, s) = (case.join("old"), case.join("side"), case.join("source"));
    let want = reference(&[
        "--old-repo",
        o.to_str().expect("utf-8"),
        "--add-repo",
        a.to_str().expect("utf-8"),
        "--sources",
        s.to_str().expect("utf-8"),
        "--override-by-exclusion",
    ]);
    assert_eq!(got, want);
    let old_libfoo = got
        .iter()
        .find(|v| v["name"] == "old-libfoo")
        .expect("old-libfoo");
    assert_eq!(old_libfoo["status"], "broken");
    assert!(
        old_libfoo["new"]["problems"][0]
            .as_str()
            .expect("text")
            .contains("filtered out by exclude filtering")
    );
}

#[test]
fn impact_of_a_generated_delta_of_small_matches_hawkey() {
    // A 1% rebuild of `small` made by tests/delta.py (seed 1): real package
    // graph with rich deps, pre-requires and weak deps.
    let tmp = TempDir::new("small-delta");
    let small = crate::support::shared_data("small");
    let delta = tmp.path().join("delta");
    let script = manifest_dir().join("tests").join("delta.py");
    let status = Command::new("python3")
        .arg(script)
        .arg("--repo")
        .arg(small.join("binary"))
        .arg("--out")
        .arg(&delta)
        .args(["--seed", "1", "--rebuild-fraction", "0.01"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run tests/delta.py");
    assert!(status.success());
    let old = load(&small.join("binary"), tmp.path());
    let new = load(&delta, tmp.path());
    let got = ours(&old, &[&new], &small.join("source"));
    let (o, n, s) = (small.join("binary"), delta.clone(), small.join("source"));
    let want = reference(&[
        "--old-repo",
        o.to_str().expect("utf-8"),
        "--new-repo",
        n.to_str().expect("utf-8"),
        "--sources",
        s.to_str().expect("utf-8"),
    ]);
    assert_eq!(got.len(), 300);
    let differing: Vec<_> = got.iter().zip(&want).filter(|(a, b)| a != b).collect();
    assert!(
        differing.is_empty(),
        "{} differ; first:\nours:   {}\nhawkey: {}",
        differing.len(),
        differing[0].0,
        differing[0].1
    );
    assert!(
        got.iter().filter(|v| v["status"] == "changed").count() > 100,
        "the delta changes many packages"
    );
    assert!(got.iter().any(|v| {
        v["changes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["distance"].as_u64() == Some(3)))
    }));
}
