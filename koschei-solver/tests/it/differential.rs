//! Differential tests: our answers against python3-hawkey resolving the same
//! repositories exactly as Koschei does (tests/hawkey_reference.py).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use koschei_solver::{ResolveOptions, Resolver, read_source_packages, resolve_all};
use serde_json::Value;

use crate::support::{TempDir, fixture, load, manifest_dir, shared_data};

/// name -> the reference script's whole answer object.
fn hawkey_output(binary: &Path, source: &Path, ignore_weak_deps: bool) -> BTreeMap<String, Value> {
    let cache = TempDir::new("hawkey-cache");
    let script = manifest_dir().join("tests").join("hawkey_reference.py");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(&script)
        .arg("--repo")
        .arg(binary)
        .arg("--sources")
        .arg(source)
        .arg("--cachedir")
        .arg(cache.path());
    if ignore_weak_deps {
        cmd.arg("--ignore-weak-deps");
    }
    let out = cmd.output().expect(
        "cannot run /usr/bin/python3: the differential test needs python3-hawkey and rpm-common \
         (apt-get install python3-hawkey rpm-common)",
    );
    assert!(
        out.status.success(),
        "hawkey reference failed (needs python3-hawkey and rpm-common): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut answers = BTreeMap::new();
    for line in String::from_utf8(out.stdout).expect("utf-8").lines() {
        let v: Value = serde_json::from_str(line).expect("json line");
        if v.get("summary").is_some() {
            continue;
        }
        let name = v["name"].as_str().expect("name").to_owned();
        answers.insert(name, v);
    }
    answers
}

/// name -> (resolved, installs, problems as Koschei stores them) from the reference script.
fn hawkey_answers(binary: &Path, source: &Path, ignore_weak_deps: bool) -> BTreeMap<String, Value> {
    hawkey_output(binary, source, ignore_weak_deps)
        .into_iter()
        .map(|(name, v)| {
            let answer = serde_json::json!([v["resolved"], v["installs"], v["problems"]]);
            (name, answer)
        })
        .collect()
}

fn our_answers(binary: &Path, source: &Path, ignore_weak_deps: bool) -> BTreeMap<String, Value> {
    let cache = TempDir::new("our-cache");
    let repo = load(binary, cache.path());
    let sources = read_source_packages(source).expect("sources");
    let group = repo.build_group().unwrap_or_default().to_vec();
    let requests: Vec<Vec<String>> = sources.iter().map(|s| s.build_requires.clone()).collect();
    let mut answers = BTreeMap::new();
    let mut next = 0;
    resolve_all(
        &[&repo],
        &group,
        &requests,
        ResolveOptions {
            ignore_weak_deps,
            ..ResolveOptions::default()
        },
        2,
        |r| {
            assert_eq!(r.index, next, "results arrive in input order");
            next += 1;
            let res = r.resolution;
            answers.insert(
                sources[r.index].name.clone(),
                serde_json::json!([res.resolved, res.installs, res.problems]),
            );
        },
    )
    .expect("resolve_all");
    answers
}

fn assert_same(binary: &Path, source: &Path, ignore_weak_deps: bool) -> BTreeMap<String, Value> {
    let theirs = hawkey_answers(binary, source, ignore_weak_deps);
    let ours = our_answers(binary, source, ignore_weak_deps);
    assert_eq!(theirs.len(), ours.len(), "same number of source packages");
    let differing: Vec<&String> = theirs
        .keys()
        .filter(|k| theirs.get(*k) != ours.get(*k))
        .collect();
    assert!(
        differing.is_empty(),
        "{} of {} packages differ from hawkey (ignore_weak_deps={ignore_weak_deps}); first: {}\nhawkey: {}\nours:   {}",
        differing.len(),
        theirs.len(),
        differing[0],
        theirs[differing[0]],
        ours.get(differing[0]).cloned().unwrap_or_default()
    );
    ours
}

#[test]
fn small_repo_identical_to_hawkey_with_weak_deps() {
    let small = shared_data("small");
    let ours = assert_same(&small.join("binary"), &small.join("source"), false);
    assert_eq!(ours.len(), 300);
    let unresolved = ours.values().filter(|v| v[0] == false).count();
    assert_eq!(unresolved, 14, "the 14 known unresolvable sources");
}

#[test]
fn small_repo_identical_to_hawkey_ignoring_weak_deps() {
    let small = shared_data("small");
    assert_same(&small.join("binary"), &small.join("source"), true);
}

#[test]
fn solver_problem_texts_identical_to_hawkey() {
    let case = fixture("problems");
    for weak in [false, true] {
        let ours = assert_same(&case.join("binary"), &case.join("source"), weak);
        // The fixture really makes the solver report problems of each kind.
        let all: String = ours.values().map(|v| v[2].to_string()).collect();
        for needle in [
            "conflicts with lib-b provided by lib-b-3.1-1.x86_64",
            "nothing provides libgone.so.1()(64bit) needed by needs-gone-1.0-1.x86_64",
            "requires libz-virtual, but none of the providers can be installed",
            "cannot install both multi-2-1.x86_64 and multi-1-1.x86_64",
            "package newpkg-2-1.x86_64 obsoletes oldpkg < 2 provided by oldpkg-1-1.x86_64",
            "No package found for: missing >= 2",
        ] {
            assert!(
                all.contains(needle),
                "no problem text containing `{needle}` (weak={weak})"
            );
        }
    }
}

#[test]
fn weak_dependencies_change_the_install_set() {
    let case = fixture("problems");
    let with = our_answers(&case.join("binary"), &case.join("source"), false);
    let without = our_answers(&case.join("binary"), &case.join("source"), true);
    let installs = |m: &BTreeMap<String, Value>| m["weak"][1].to_string();
    assert!(installs(&with).contains("app-extra-0:1.0-1.noarch"));
    assert!(installs(&with).contains("plugin-0:1.0-1.noarch"));
    assert!(!installs(&without).contains("app-extra"));
    assert!(!installs(&without).contains("plugin"));
}

/// The three kinds of BuildRequires of issue 16 where our answers used to
/// differ from hawkey's (`tests/data/edge-cases`).
#[test]
fn edge_case_build_requires_identical_to_hawkey() {
    let case = fixture("edge-cases");
    for weak in [false, true] {
        assert_same(&case.join("binary"), &case.join("source"), weak);
    }
}

#[test]
fn isa_qualified_32_bit_build_require_installs_both_arches_in_lock_step() {
    let case = fixture("edge-cases");
    let ours = our_answers(&case.join("binary"), &case.join("source"), false);
    let installs = |name: &str| -> Vec<String> {
        assert_eq!(ours[name][0], true, "{name} resolves");
        serde_json::from_value(ours[name][1].clone()).expect("installs")
    };
    // libsolv's lock-step rule (hawkey's pool has IMPLICITOBSOLETEUSESCOLORS):
    // an inferior-arch package needs the best-arch build of the same version.
    assert_eq!(
        installs("isa32"),
        [
            "base-0:1.0-1.noarch",
            "libfoo-0:1.0-1.i686",
            "libfoo-0:1.0-1.x86_64"
        ]
    );
    assert_eq!(
        installs("isa32-devel"),
        [
            "base-0:1.0-1.noarch",
            "libfoo-0:1.0-1.i686",
            "libfoo-0:1.0-1.x86_64",
            "libfoo-devel-0:1.0-1.i686",
            "libfoo-devel-0:1.0-1.x86_64"
        ]
    );
    // No 64-bit build, or none of the same version: the 32-bit one alone.
    assert_eq!(
        installs("isa32-only"),
        ["base-0:1.0-1.noarch", "only32-0:1.0-1.i686"]
    );
    assert_eq!(
        installs("isa32-skewed"),
        ["base-0:1.0-1.noarch", "libbar-0:1.0-1.i686"]
    );
    assert_eq!(
        installs("isa64"),
        ["base-0:1.0-1.noarch", "libfoo-0:1.0-1.x86_64"]
    );
}

#[test]
fn file_build_require_with_one_trailing_slash_matches_the_path_without_it() {
    let case = fixture("edge-cases");
    let ours = our_answers(&case.join("binary"), &case.join("source"), false);
    for (name, package) in [
        ("dir-slash", "tool-0:1.0-1.x86_64"),
        ("dir", "tool-0:1.0-1.x86_64"),
        ("etc-dir-slash", "etc-tool-0:1.0-1.noarch"),
        ("file-slash", "tool-0:1.0-1.x86_64"),
    ] {
        assert_eq!(ours[name][0], true, "{name}: {}", ours[name]);
        assert!(ours[name][1].to_string().contains(package), "{name}");
    }
    // libdnf drops one slash, and never the path `/` itself.
    for (name, dep) in [("dir-two-slashes", "/usr/share/tool//"), ("root", "/")] {
        assert_eq!(
            ours[name],
            serde_json::json!([false, [], [format!("No package found for: {dep}")]])
        );
    }
}

#[test]
fn missing_build_require_listed_twice_is_stored_once() {
    let case = fixture("edge-cases");
    let (binary, source) = (case.join("binary"), case.join("source"));
    let theirs = hawkey_output(&binary, &source, false);
    let ours = our_answers(&binary, &source, false);
    let missing = "No package found for: missing";
    let broken = "Problem: conflicting requests\n - nothing provides libgone.so.1()(64bit) \
                  needed by broken-1.0-1.x86_64";
    for (name, listed, stored) in [
        ("missing-twice", vec![missing, missing], vec![missing]),
        ("missing-twice-apart", vec![missing, missing], vec![missing]),
        (
            "missing-and-broken-twice",
            vec![missing, missing, broken],
            vec![missing, broken],
        ),
    ] {
        // run_goal lists the problem once per listing; the repo resolver
        // stores `set(problems)`, one row per text, and so do we.
        assert_eq!(
            theirs[name]["listed_problems"],
            serde_json::json!(listed),
            "{name}"
        );
        assert_eq!(
            theirs[name]["problems"],
            serde_json::json!(stored),
            "{name}"
        );
        assert_eq!(ours[name], serde_json::json!([false, [], stored]), "{name}");
    }
}

#[test]
fn answers_do_not_depend_on_what_the_solver_solved_before() {
    // `libbar` is x86_64 2.0 and i686 1.0: after a solve that added the
    // x86_64 build, a reused libsolv solver's infarch rules would block the
    // i686 one that `needs-libbar32` needs; hawkey solves each goal afresh.
    let case = fixture("edge-cases");
    let theirs = hawkey_answers(&case.join("binary"), &case.join("source"), false);
    let cache = TempDir::new("fresh-solver");
    let repo = load(&case.join("binary"), cache.path());
    let group = repo.build_group().unwrap_or_default().to_vec();
    let mut resolver = Resolver::new(&[&repo], ResolveOptions::default()).expect("resolver");
    assert!(!resolver.reuses_solver(), "a pool with a lock-step gap");
    for name in ["isa64-skewed", "needs-isa32-skewed", "isa-skewed-both"] {
        let brs = match name {
            "isa64-skewed" => vec!["libbar(x86-64)".to_owned()],
            "needs-isa32-skewed" => vec!["needs-libbar32".to_owned()],
            _ => vec!["libbar(x86-64)".to_owned(), "needs-libbar32".to_owned()],
        };
        let r = resolver.resolve(&group, &brs);
        assert_eq!(
            serde_json::json!([r.resolved, r.installs, r.problems]),
            theirs[name],
            "{name}"
        );
    }
    assert_eq!(theirs["needs-isa32-skewed"][0], true);
    assert_eq!(theirs["isa-skewed-both"][0], false);

    // Without such a gap the fast path stays: one solver for all solves.
    for data in [
        fixture("problems").join("binary"),
        shared_data("small").join("binary"),
    ] {
        let repo = load(&data, cache.path());
        let resolver = Resolver::new(&[&repo], ResolveOptions::default()).expect("resolver");
        assert!(resolver.reuses_solver(), "{}", data.display());
    }
}
