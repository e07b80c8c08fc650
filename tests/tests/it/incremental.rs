//! Incremental repo resolution through `koschei run --once`: a new repo re-resolves only the
//! packages it can affect, each process carrying the other answers over from the memory file
//! the previous process wrote, and stores what a full resolution stores.

use koschei_fakehub::rpmmd::Package;

use crate::support::{TAG, World, libfoo};

/// Tracked packages and their BuildRequires.
const PACKAGES: [(&str, &[&str]); 5] = [
    ("app-1.0-1", &["libfoo-devel", "make"]),
    ("foo-tool-1.0-1", &["libfoo"]),
    ("bar-app-1.0-1", &["libbar-devel"]),
    ("py-app-1.0-1", &["python3-devel"]),
    ("plain-1.0-1", &["make"]),
];

fn names() -> Vec<&'static str> {
    PACKAGES
        .iter()
        .map(|(nvr, _)| nvr.strip_suffix("-1.0-1").expect("nvr"))
        .collect()
}

fn libbar(release: &str) -> Vec<Package> {
    let evr = format!("2.0-{release}");
    vec![
        Package::new("libbar", &evr, "x86_64").requires(&["glibc"]),
        Package::new("libbar-devel", &evr, "x86_64").requires(&["libbar"]),
    ]
}

fn python() -> Vec<Package> {
    vec![
        Package::new("python3", "3.12-1", "x86_64").requires(&["glibc"]),
        Package::new("python3-devel", "3.12-1", "x86_64").requires(&["python3"]),
    ]
}

/// Repo 1, the packages built and tracked, one engine pass (a full resolution: no memory).
fn first_repo(name: &str) -> World {
    let mut w = World::new(name);
    let mut repo = libfoo("1.0-1");
    repo.extend(libbar("1"));
    repo.extend(python());
    w.add_repo(&repo);
    for (nvr, brs) in PACKAGES {
        w.hub.add_build_with_task(TAG, TAG, nvr, brs);
    }
    w.pass(&["--only", "polling"]);
    let mut args = vec!["add-pkg", "--collection", "e2e"];
    args.extend(names());
    w.ok(&args);
    w.pass(&[]);
    w
}

/// Repo 2: libfoo 1.1 gains a requirement on a new package (so libfoo and everything needing
/// it is affected), libbar is rebuilt with the same dependencies (its users carry their
/// answers over, mapped to the rebuild), python is unchanged.
fn second_repo(w: &mut World) {
    let mut repo = vec![
        Package::new("libfoo", "1.1-1", "x86_64").requires(&["glibc", "libfoo-data"]),
        Package::new("libfoo-devel", "1.1-1", "x86_64").requires(&["libfoo = 1.1-1"]),
        Package::new("libfoo-data", "1.1-1", "noarch"),
    ];
    repo.extend(libbar("2"));
    repo.extend(python());
    w.add_repo(&repo);
}

type Changes = Vec<(String, String, String, Option<i32>)>;

/// What the repo resolver stored for each package: resolved flag, dependency priority and
/// unapplied changes with distances.
fn stored(w: &World) -> Vec<(String, Option<bool>, i32, Changes)> {
    names()
        .into_iter()
        .map(|n| {
            (
                n.to_owned(),
                w.package_col::<Option<bool>>(n, "resolved"),
                w.package_col::<i32>(n, "dependency_priority"),
                w.unapplied(n),
            )
        })
        .collect()
}

/// The `repo_resolver:` line of a pass's output.
fn repo_resolver_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("repo_resolver:"))
        .unwrap_or_else(|| panic!("no repo_resolver line in {out}"))
}

fn change(name: &str, prev: &str, curr: &str, distance: Option<i32>) -> Changes {
    vec![(name.to_owned(), prev.to_owned(), curr.to_owned(), distance)]
}

#[test]
fn new_repo_resolves_only_affected_packages_and_stores_what_a_full_run_stores() {
    let mut incremental = first_repo("incr-memory");
    let mut full = first_repo("incr-full");
    let memory_file = |w: &World| w.dir.join("cache/solv/memory/primary-e2e-build-x86_64.bin");
    assert!(
        memory_file(&incremental).is_file(),
        "the first pass remembers its answers"
    );
    std::fs::remove_file(memory_file(&full)).expect("remove the memory file");

    second_repo(&mut incremental);
    second_repo(&mut full);
    let (code, out, err) = incremental.run(&["run", "--once"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, full_out, full_err) = full.run(&["run", "--once"]);
    assert_eq!(code, 0, "{full_out}\n{full_err}");

    // (1) The same stored results as a full resolution.
    let got = stored(&incremental);
    assert_eq!(got, stored(&full));
    // Carried answers keep their distances: libbar's rebuild shows up with them.
    let bar = &got[2];
    assert_eq!(bar.1, Some(true));
    let mut want = change("libbar", "2.0-1", "2.0-2", Some(2));
    want.extend(change("libbar-devel", "2.0-1", "2.0-2", Some(1)));
    assert_eq!(bar.3, want);
    assert!(got[0].3.iter().any(|c| c.0 == "libfoo-data"), "{got:?}");
    assert!(got[3].3.is_empty() && got[4].3.is_empty(), "{got:?}");

    // (2) Fewer packages solved than tracked: app and foo-tool; the buildroot and the other
    // three packages are carried over.
    let line = repo_resolver_line(&out);
    assert!(
        line.contains("resolver: 6 requests: 2 solved, 4 carried over"),
        "{line}"
    );
    assert!(line.contains("installed-package-tainted: 2"), "{line}");
    assert!(err.contains("incremental resolution against"), "{err}");
    let line = repo_resolver_line(&full_out);
    assert!(
        line.contains("resolver: 6 requests: 6 solved, 0 carried over")
            && line.contains("no-memory-file: 6"),
        "{line}"
    );
    assert!(full_err.contains("no remembered answers"), "{full_err}");
    assert!(
        memory_file(&full).is_file(),
        "the full run remembers its answers"
    );
}

#[test]
fn corrupt_memory_file_means_a_full_run_not_an_error() {
    let mut w = first_repo("incr-corrupt");
    let path = w.dir.join("cache/solv/memory/primary-e2e-build-x86_64.bin");
    std::fs::write(&path, b"not a memory file").expect("spoil the memory file");
    second_repo(&mut w);
    let (code, out, err) = w.run(&["run", "--once"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let line = repo_resolver_line(&out);
    assert!(line.contains("6 solved, 0 carried over"), "{line}");
    assert!(line.contains("memory-file-unusable: 6"), "{line}");
    assert!(err.contains("cannot use remembered answers"), "{err}");
    assert_eq!(
        w.package_col::<Option<bool>>("bar-app", "resolved"),
        Some(true)
    );
    assert_eq!(w.unapplied("bar-app").len(), 2);
}

#[test]
fn failed_pass_writes_nothing_and_its_redo_is_incremental() {
    let mut w = first_repo("incr-redo");
    second_repo(&mut w);
    // getRPMDeps (a multicall) fails after the buildroot of repo 2 was resolved.
    w.hub.fail_calls(
        "multiCall",
        1,
        koschei_fakehub::Failure::Fault(koschei_core::koji::Fault::new(1000, "GenericError: boom")),
    );
    let (code, _, err) = w.run(&["run", "--once", "--only", "repo_resolver"]);
    assert_eq!(code, 1, "{err}");
    // The memory file still holds repo 1, so the redo carries answers over.
    let (code, out, err) = w.run(&["run", "--once"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let line = repo_resolver_line(&out);
    assert!(line.contains("2 solved, 4 carried over"), "{line}");
    assert_eq!(w.unapplied("bar-app").len(), 2);
}
