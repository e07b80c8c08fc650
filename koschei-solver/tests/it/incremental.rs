//! Incremental re-resolution must give the answers of a full run.
//!
//! The `incremental` fixture holds one trap per clause of the affect rule:
//! a source whose answer changes although nothing in its old install set
//! did (so carrying the old answer would be wrong). The generated deltas of
//! `small` and of debian-bookworm (tests/delta.py, seeds stated) check the
//! rule on real package graphs.

use std::path::Path;
use std::process::Command;

use koschei_solver::{
    Affected, Repository, Resolution, ResolveOptions, SourcePackage, States, Verdict,
    plan_incremental, read_source_packages, resolve_all, resolve_incremental,
};

use crate::support::{TempDir, fixture, load, manifest_dir, shared_data};

fn full(repo: &Repository, requests: &[Vec<String>]) -> Vec<Resolution> {
    let group = repo.build_group().unwrap_or_default().to_vec();
    let mut out = Vec::new();
    resolve_all(
        &[repo],
        &group,
        requests,
        ResolveOptions::default(),
        2,
        |r| out.push(r.resolution),
    )
    .expect("full run");
    out
}

/// The plan and the incremental answers of `new` given `old`'s answers.
fn incremental(
    old: &Repository,
    new: &Repository,
    requests: &[Vec<String>],
    previous: &[Resolution],
) -> (Vec<Verdict>, Vec<(Resolution, bool)>) {
    let old_group = old.build_group().unwrap_or_default().to_vec();
    let new_group = new.build_group().unwrap_or_default().to_vec();
    let states = States {
        old: &[old],
        new: &[new],
        old_options: ResolveOptions::default(),
        new_options: ResolveOptions::default(),
        old_group: &old_group,
        new_group: &new_group,
    };
    let prev: Vec<Option<&Resolution>> = previous.iter().map(Some).collect();
    let plan = plan_incremental(&states, requests, &prev).expect("plan");
    let mut out = Vec::new();
    let (summary, stats) = resolve_incremental(&states, requests, &prev, 2, |r| {
        out.push((r.resolution, r.reused));
    })
    .expect("incremental run");
    let untimed = |mut s: koschei_solver::PlanSummary| {
        s.time = std::time::Duration::ZERO;
        s.delta.time = std::time::Duration::ZERO;
        s
    };
    assert_eq!(
        untimed(plan.summary()),
        untimed(summary),
        "planning is deterministic"
    );
    let carried = plan
        .verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Carried(_)))
        .count();
    assert_eq!(stats.reused, carried, "carried answers are not solved");
    (plan.verdicts, out)
}

fn requests_of(sources: &[SourcePackage]) -> Vec<Vec<String>> {
    sources.iter().map(|s| s.build_requires.clone()).collect()
}

#[test]
fn every_trap_is_solved_again_and_controls_carry_over() {
    let cache = TempDir::new("incremental-traps");
    let dir = fixture("incremental");
    let old = load(&dir.join("old"), cache.path());
    let new = load(&dir.join("new"), cache.path());
    let sources = read_source_packages(&dir.join("source")).expect("sources");
    let requests = requests_of(&sources);
    let before = full(&old, &requests);
    let after = full(&new, &requests);
    let (verdicts, answers) = incremental(&old, &new, &requests, &before);

    for (i, src) in sources.iter().enumerate() {
        let name = src.name.as_str();
        assert_eq!(
            answers[i].0, after[i],
            "{name}: incremental differs from full"
        );
        match name {
            "stable" => {
                assert_eq!(before[i], after[i]);
                assert_eq!(verdicts[i], Verdict::Carried(after[i].clone()), "{name}");
                assert!(answers[i].1, "{name} was carried");
            }
            "bumped" => {
                // Carried through the successor build: the strings change.
                assert_ne!(before[i], after[i]);
                assert!(
                    after[i]
                        .installs
                        .contains(&"bumped-lib-0:1.0-1.1.x86_64".to_owned())
                );
                assert_eq!(verdicts[i], Verdict::Carried(after[i].clone()), "{name}");
            }
            "multilib-rebuilt" => {
                // Both builds rebuilt together: still in lock-step, carried.
                for nevra in ["mlib-c-0:1.0-2.i686", "mlib-c-0:1.0-2.x86_64"] {
                    assert!(after[i].installs.contains(&nevra.to_owned()), "{nevra}");
                }
                assert_eq!(verdicts[i], Verdict::Carried(after[i].clone()), "{name}");
            }
            _ => {
                // Each trap's answer really changes, so carrying it would be wrong.
                assert_ne!(
                    before[i], after[i],
                    "{name}: the trap does not change the answer"
                );
                let Verdict::Solve(reason) = &verdicts[i] else {
                    panic!("{name}: carried although its answer changed");
                };
                assert!(!answers[i].1, "{name} was solved again");
                let expected = match name {
                    "removed" => "installed-package-changed",
                    _ => "installed-package-tainted",
                };
                assert_eq!(reason.kind(), expected, "{name}: {reason}");
            }
        }
    }
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    for trap in [
        "deep-alternative",
        "new-provider",
        "strict-pin",
        "supplemented",
        "conflicting-successor",
        "removed",
        "rich-operator",
        "multilib-mate-added",
        "multilib-mate-rebuilt",
    ] {
        assert!(names.contains(&trap), "fixture lacks {trap}");
    }
}

#[test]
fn unresolved_and_unknown_packages_are_always_solved() {
    let cache = TempDir::new("incremental-unresolved");
    let dir = fixture("incremental");
    let old = load(&dir.join("old"), cache.path());
    let requests = vec![vec!["stable-user".to_owned()], vec!["missing".to_owned()]];
    let before = full(&old, &requests);
    assert!(before[0].resolved && !before[1].resolved);
    let group = old.build_group().unwrap_or_default().to_vec();
    let states = States {
        old: &[&old],
        new: &[&old],
        old_options: ResolveOptions::default(),
        new_options: ResolveOptions::default(),
        old_group: &group,
        new_group: &group,
    };
    let plan =
        plan_incremental(&states, &requests, &[Some(&before[0]), Some(&before[1])]).expect("plan");
    assert_eq!(plan.verdicts[0], Verdict::Carried(before[0].clone()));
    assert_eq!(
        plan.verdicts[1],
        Verdict::Solve(Affected::PreviouslyUnresolved)
    );
    assert_eq!(plan.delta.tainted, 0, "a repo compared with itself");
    let plan = plan_incremental(&states, &requests, &[None, None]).expect("plan");
    assert_eq!(plan.to_solve(), 2);
    assert_eq!(plan.reasons().get("no-previous-answer"), Some(&2));
}

/// Writes a delta of `repo` with tests/delta.py into `out`.
fn delta(repo: &Path, out: &Path, args: &[&str]) -> serde_json::Value {
    let script = manifest_dir().join("tests").join("delta.py");
    let o = Command::new("python3")
        .arg(script)
        .arg("--repo")
        .arg(repo)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run tests/delta.py");
    assert!(
        o.status.success(),
        "delta.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("delta.py summary")
}

/// Checks incremental == full for each delta; returns (solved again, carried) per delta.
fn check_deltas(base: &Path, sources: &[SourcePackage], deltas: &[&[&str]]) -> Vec<(usize, usize)> {
    let tmp = TempDir::new("incremental-deltas");
    let cache = tmp.path().join("cache");
    let old = load(base, &cache);
    let requests = requests_of(sources);
    let before = full(&old, &requests);
    let mut figures = Vec::new();
    for (n, args) in deltas.iter().enumerate() {
        let dir = tmp.path().join(format!("delta-{n}"));
        let summary = delta(base, &dir, args);
        let new = load(&dir, &cache);
        let after = full(&new, &requests);
        let (verdicts, answers) = incremental(&old, &new, &requests, &before);
        let mut differ = Vec::new();
        for (i, src) in sources.iter().enumerate() {
            if answers[i].0 != after[i] {
                differ.push(src.name.clone());
            }
        }
        assert!(
            differ.is_empty(),
            "delta {args:?} ({summary}): incremental differs from full for {} packages: {:?}",
            differ.len(),
            &differ[..differ.len().min(10)]
        );
        let solved = verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Solve(_)))
            .count();
        figures.push((solved, verdicts.len() - solved));
    }
    figures
}

#[test]
fn incremental_equals_full_on_generated_deltas_of_small() {
    let base = shared_data("small").join("binary");
    let sources = read_source_packages(&shared_data("small").join("source")).expect("sources");
    let figures = check_deltas(
        &base,
        &sources,
        &[
            &[
                "--seed",
                "1",
                "--rebuild-fraction",
                "0.01",
                "--avoid-build-group",
            ],
            &[
                "--seed",
                "2",
                "--rebuild-fraction",
                "0.05",
                "--new-provider-fraction",
                "0.01",
                "--remove-fraction",
                "0.005",
                "--requires-fraction",
                "0.01",
            ],
            &[
                "--seed",
                "3",
                "--shuffle-fraction",
                "0.02",
                "--rebuild-fraction",
                "0.01",
            ],
            &["--seed", "4", "--new-provider-fraction", "0.002"],
            &["--seed", "5", "--bump", "libc6"],
        ],
    );
    // A release-bump rebuild carries every resolved package over.
    assert_eq!(figures[0].0, 14, "only the 14 unresolved are solved again");
    // Removals and changed requires hit the build group: everything is solved.
    assert_eq!(figures[1].1, 0);
}

#[test]
fn incremental_equals_full_on_a_bookworm_delta() {
    let data = shared_data("debian-bookworm");
    let all = read_source_packages(&data.join("source")).expect("sources");
    // Every 50th source keeps the test short; the bench covers all of them.
    let sources: Vec<SourcePackage> = all.into_iter().step_by(50).collect();
    let figures = check_deltas(
        &data.join("binary"),
        &sources,
        &[
            &[
                "--seed",
                "1",
                "--rebuild-fraction",
                "0.001",
                "--avoid-build-group",
            ],
            &["--seed", "2", "--new-provider-fraction", "0.0005"],
        ],
    );
    assert!(figures[0].1 > 0, "something is carried over: {figures:?}");
}
