//! Tests of the engine's memory: answers, distances and files against full runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::{LoadOptions, read_source_packages};

use super::*;

/// A fresh directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "koschei-cli-memory-{}-{label}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The solver's trap fixture: `old`, `new` and `source`.
fn traps() -> PathBuf {
    manifest_dir().join("tests/data/incremental")
}

fn small() -> PathBuf {
    manifest_dir().join("../../shared/data/small")
}

fn load(dir: &Path, cache: &Path) -> Repository {
    Repository::load(
        dir,
        &LoadOptions {
            name: "binary".to_owned(),
            cache_dir: cache.to_owned(),
            ..LoadOptions::default()
        },
    )
    .expect("load repository")
}

fn settings(dir: Option<&Path>) -> MemorySettings {
    MemorySettings {
        koji_id: "primary".to_owned(),
        arch: "x86_64".to_owned(),
        options: ResolveOptions::default(),
        jobs: 2,
        dir: dir.map(Path::to_owned),
        progress_interval: None,
    }
}

fn requests(source: &Path) -> Vec<Vec<String>> {
    read_source_packages(source)
        .expect("sources")
        .into_iter()
        .map(|s| s.build_requires)
        .collect()
}

fn group(repo: &Repository) -> Vec<String> {
    repo.build_group().unwrap_or_default().to_vec()
}

/// One `resolve` call for build tag `tag` and repo id `id` that never
/// needs to load an older repo.
fn pass(
    memory: &mut Memory,
    id: i32,
    repo: &Repository,
    group: &[String],
    requests: &[Vec<String>],
    what: &str,
) -> Vec<Answer> {
    memory
        .resolve("tag", RepoId(id), repo, group, requests, &mut no_old_repo)
        .expect(what)
}

fn no_old_repo(_: RepoId) -> Option<Repository> {
    None
}

/// The answers of a full resolution (a memory that has seen nothing).
fn full(repo: &Repository, requests: &[Vec<String>]) -> Vec<Answer> {
    let mut memory = Memory::new(settings(None));
    pass(
        &mut memory,
        1,
        repo,
        &group(repo),
        requests,
        "full resolution",
    )
}

/// Writes a delta of `repo` with the solver's tests/delta.py into `out`.
fn delta(repo: &Path, out: &Path, args: &[&str]) {
    let o = std::process::Command::new("python3")
        .arg(manifest_dir().join("../koschei-solver/tests/delta.py"))
        .arg("--repo")
        .arg(repo)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run delta.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Resolves `old` as repo 1 and then `new` as repo 2 (in two chunks) with one memory;
/// returns the answers for `new` and the second pass's figures.
fn two_passes(
    old: &Repository,
    new: &Repository,
    requests: &[Vec<String>],
) -> (Vec<Answer>, PassStats) {
    let mut memory = Memory::new(settings(None));
    pass(&mut memory, 1, old, &group(old), requests, "first pass");
    memory.finish_pass(false);
    let (a, b) = requests.split_at(requests.len() / 2);
    let mut answers = Vec::new();
    for chunk in [a, b] {
        answers.extend(pass(&mut memory, 2, new, &group(new), chunk, "second pass"));
    }
    (answers, memory.finish_pass(false))
}

#[test]
fn packed_answers_round_trip_with_distances() {
    let mut nevras = Interner::default();
    let answer = Answer {
        resolved: true,
        installs: vec![
            ("a-0:1-1.noarch".to_owned(), Some(1)),
            ("b-0:1-1.noarch".to_owned(), None),
            ("c-2:3-4.x86_64".to_owned(), Some(4)),
        ],
        problems: Vec::new(),
    };
    nevras.intern("c-2:3-4.x86_64");
    let packed = Packed::pack(&mut nevras, &answer);
    let mut pairs: Vec<(String, Option<u32>)> = packed
        .unpack(nevras.len())
        .expect("unpack")
        .into_iter()
        .map(|(i, d)| (nevras.get(i).expect("interned").to_owned(), d))
        .collect();
    pairs.sort();
    assert_eq!(pairs, answer.installs);
    assert_eq!(
        packed.unpack(2),
        None,
        "an index past the strings is refused"
    );
}

#[test]
fn carried_answers_and_distances_equal_a_full_resolution_on_the_traps() {
    let tmp = TempDir::new("traps");
    let old = load(&traps().join("old"), &tmp.0);
    let new = load(&traps().join("new"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let (answers, stats) = two_passes(&old, &new, &requests);
    assert_eq!(answers, full(&new, &requests));
    // `stable`, `bumped` and `multilib-rebuilt` are carried over, the nine
    // traps are solved.
    assert_eq!((stats.carried, stats.solved), (3, 9), "{stats}");
}

#[test]
fn carried_distances_are_the_resolvers_distances_on_a_delta_of_small() {
    let tmp = TempDir::new("small");
    let cache = tmp.0.join("cache");
    let old = load(&small().join("binary"), &cache);
    let requests = requests(&small().join("source"));
    for (n, args) in [
        &[
            "--seed",
            "1",
            "--rebuild-fraction",
            "0.01",
            "--avoid-build-group",
        ][..],
        &["--seed", "5", "--bump", "libc6"][..],
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tmp.0.join(format!("delta-{n}"));
        delta(&small().join("binary"), &dir, args);
        let new = load(&dir, &cache);
        let (answers, stats) = two_passes(&old, &new, &requests);
        // Only the 14 packages unresolved before are solved again; a rebuild of libc6
        // (installed everywhere) changes every carried install set, not the distances.
        assert_eq!(
            (stats.solved, stats.carried),
            (14, 286),
            "{args:?}: {stats}"
        );
        // Each carried answer's distances against the resolver's own on the new repo.
        let mut resolver = Resolver::new(&[&new], ResolveOptions::default()).expect("pool");
        let mut far = 0;
        for (brs, a) in requests.iter().zip(&answers) {
            let installs: Vec<String> = a.installs.iter().map(|(s, _)| s.clone()).collect();
            let d = resolver.dependency_distances(brs, &installs);
            for (s, dist) in &a.installs {
                let name = crate::nevra_name(s).expect("nevra");
                assert_eq!(*dist, d.get(name).copied(), "{args:?} {brs:?} {s}");
                far += usize::from(dist.is_some_and(|d| d > 1));
            }
        }
        assert!(far > 0, "some distances are not trivial");
        assert_eq!(answers, full(&new, &requests), "{args:?}");
    }
}

#[test]
fn a_new_process_resolves_incrementally_from_the_file() {
    let tmp = TempDir::new("file");
    let old = load(&traps().join("old"), &tmp.0);
    let new = load(&traps().join("new"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let files = tmp.0.join("memory");
    let mut first = Memory::new(settings(Some(&files)));
    pass(&mut first, 1, &old, &group(&old), &requests, "first pass");
    first.finish_pass(true);
    let path = memory_file::path(&settings(Some(&files)), "tag").expect("path");
    assert!(path.is_file());

    let mut asked = Vec::new();
    let mut second = Memory::new(settings(Some(&files)));
    let answers = second
        .resolve("tag", RepoId(2), &new, &group(&new), &requests, &mut |id| {
            asked.push(id);
            Some(old.clone())
        })
        .expect("second pass");
    assert_eq!(asked, vec![RepoId(1)], "the previous repo is loaded once");
    let stats = second.finish_pass(true);
    assert_eq!(stats.carried, 3, "{stats}");
    assert_eq!(answers, full(&new, &requests));

    // The file now holds repo 2's answers, carried ones included.
    let g = memory_file::read(&path, &settings(Some(&files)), "tag")
        .expect("read")
        .expect("file");
    assert_eq!(g.repo_id, RepoId(2));
    assert_eq!(g.checksum, new.checksum());
    assert_eq!(g.answers.len(), requests.len());
}

/// A second process's run of repo 2 after the first resolved repo 1, with the file
/// changed by `spoil`; returns its figures and checks its answers.
fn second_process(spoil: impl FnOnce(&Path), old_repo_is_new: bool) -> PassStats {
    let tmp = TempDir::new("spoiled");
    let old = load(&traps().join("old"), &tmp.0);
    let new = load(&traps().join("new"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let files = tmp.0.join("memory");
    let mut first = Memory::new(settings(Some(&files)));
    pass(&mut first, 1, &old, &group(&old), &requests, "first pass");
    first.finish_pass(true);
    spoil(&memory_file::path(&settings(Some(&files)), "tag").expect("path"));
    let mut second = Memory::new(settings(Some(&files)));
    let served = if old_repo_is_new { &new } else { &old };
    let answers = second
        .resolve("tag", RepoId(2), &new, &group(&new), &requests, &mut |_| {
            Some(served.clone())
        })
        .expect("second pass");
    assert_eq!(answers, full(&new, &requests));
    second.finish_pass(false)
}

#[test]
fn a_missing_corrupt_or_mismatching_file_means_a_full_run() {
    let only = |stats: &PassStats, reason: &str| {
        assert_eq!(stats.carried, 0, "{stats}");
        assert_eq!(
            stats.reasons.keys().copied().collect::<Vec<_>>(),
            vec![reason]
        );
    };
    let missing = second_process(|p| std::fs::remove_file(p).expect("remove"), false);
    only(&missing, "no-memory-file");
    let flipped = second_process(
        |p| {
            let mut bytes = std::fs::read(p).expect("read");
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x55;
            std::fs::write(p, bytes).expect("write");
        },
        false,
    );
    only(&flipped, "memory-file-unusable");
    let truncated = second_process(
        |p| {
            let bytes = std::fs::read(p).expect("read");
            std::fs::write(p, &bytes[..bytes.len() / 3]).expect("write");
        },
        false,
    );
    only(&truncated, "memory-file-unusable");
    // A whole file of format version 1 holds answers of the rules before
    // issue 16 (no multilib lock-step, no trailing-slash lookup).
    let version_1 = second_process(
        |p| {
            use sha2::Digest;
            let mut bytes = std::fs::read(p).expect("read");
            let at = b"koschei-memory\n".len();
            bytes[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            let body = bytes.len() - 32;
            let digest = sha2::Sha256::digest(&bytes[..body]);
            bytes[body..].copy_from_slice(&digest);
            std::fs::write(p, bytes).expect("write");
        },
        false,
    );
    only(&version_1, "memory-file-unusable");
    // The previous repo as loaded now is not the one the answers were made for.
    let other_repo = second_process(|_| {}, true);
    only(&other_repo, "previous-repo-unavailable");
}

#[test]
fn other_options_make_remembered_answers_unusable() {
    let tmp = TempDir::new("options");
    let old = load(&traps().join("old"), &tmp.0);
    let new = load(&traps().join("new"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let files = tmp.0.join("memory");
    let mut first = Memory::new(settings(Some(&files)));
    pass(&mut first, 1, &old, &group(&old), &requests, "first pass");
    first.finish_pass(true);
    let mut weak = settings(Some(&files));
    weak.options.ignore_weak_deps = true;
    let mut second = Memory::new(weak);
    second
        .resolve("tag", RepoId(2), &new, &group(&new), &requests, &mut |_| {
            Some(old.clone())
        })
        .expect("second pass");
    let stats = second.finish_pass(false);
    assert_eq!(stats.carried, 0, "{stats}");
    assert_eq!(stats.reasons.get("options-changed"), Some(&requests.len()));
}

#[test]
fn a_failed_pass_is_not_written() {
    let tmp = TempDir::new("failed");
    let old = load(&traps().join("old"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let files = tmp.0.join("memory");
    let mut memory = Memory::new(settings(Some(&files)));
    pass(&mut memory, 1, &old, &group(&old), &requests, "pass");
    memory.finish_pass(false);
    assert!(!files.exists());
    memory.finish_pass(true);
    assert!(
        memory_file::path(&settings(Some(&files)), "tag")
            .expect("path")
            .is_file(),
        "the answers are still written by the next successful pass"
    );
}

#[test]
fn older_repos_and_other_build_groups_bypass_the_memory() {
    let tmp = TempDir::new("bypass");
    let old = load(&traps().join("old"), &tmp.0);
    let new = load(&traps().join("new"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let mut memory = Memory::new(settings(None));
    pass(&mut memory, 1, &old, &group(&old), &requests, "repo 1");
    pass(
        &mut memory,
        2,
        &new,
        &group(&new),
        &requests[..1],
        "repo 2, first chunk",
    );
    memory.finish_pass(false);

    // A build in repo 1 (the build resolver): resolved fully, memory untouched.
    let answers = pass(&mut memory, 1, &old, &group(&old), &requests, "older repo");
    assert_eq!(answers, full(&old, &requests));
    let stats = memory.finish_pass(false);
    assert_eq!(stats.reasons.get("older-repo"), Some(&requests.len()));

    // Another build group for repo 2: resolved fully, not remembered.
    let other_group = vec!["glibc".to_owned()];
    let answers = pass(&mut memory, 2, &new, &other_group, &requests, "other group");
    let mut fresh = Memory::new(settings(None));
    let want = pass(
        &mut fresh,
        2,
        &new,
        &other_group,
        &requests,
        "full, other group",
    );
    assert_eq!(answers, want);
    let stats = memory.finish_pass(false);
    assert_eq!(
        stats.reasons.get("other-build-group"),
        Some(&requests.len())
    );

    // The rest of repo 2 is still planned against repo 1.
    let answers = pass(
        &mut memory,
        2,
        &new,
        &group(&new),
        &requests[1..],
        "repo 2, second chunk",
    );
    assert_eq!(answers, full(&new, &requests)[1..]);
    assert_eq!(memory.finish_pass(false).carried, 3);
}

#[test]
fn a_vanished_solv_cache_of_the_previous_repo_means_a_full_run() {
    let tmp = TempDir::new("vanished");
    let old = load(&traps().join("old"), &tmp.0.join("old-cache"));
    let new = load(&traps().join("new"), &tmp.0.join("new-cache"));
    let requests = requests(&traps().join("source"));
    let mut memory = Memory::new(settings(None));
    pass(&mut memory, 1, &old, &group(&old), &requests, "repo 1");
    memory.finish_pass(false);
    std::fs::remove_dir_all(tmp.0.join("old-cache")).expect("remove the old .solv files");
    let answers = pass(
        &mut memory,
        2,
        &new,
        &group(&new),
        &requests,
        "repo 2 is resolved, not an error",
    );
    assert_eq!(answers, full(&new, &requests));
    let stats = memory.finish_pass(false);
    assert_eq!(
        stats.reasons.get("previous-repo-unavailable"),
        Some(&requests.len()),
        "{stats}"
    );
}

#[test]
fn a_changed_build_group_forces_a_full_run() {
    let tmp = TempDir::new("group");
    let old = load(&traps().join("old"), &tmp.0);
    let new = load(&traps().join("new"), &tmp.0);
    let requests = requests(&traps().join("source"));
    let mut memory = Memory::new(settings(None));
    let mut old_group = group(&old);
    old_group.push("bash".to_owned());
    pass(&mut memory, 1, &old, &old_group, &requests, "repo 1");
    memory.finish_pass(false);
    let answers = pass(&mut memory, 2, &new, &group(&new), &requests, "repo 2");
    assert_eq!(answers, full(&new, &requests));
    let stats = memory.finish_pass(false);
    assert_eq!(
        stats.reasons.get("build-group-changed"),
        Some(&requests.len())
    );
}

#[test]
fn progress_is_logged_once_per_interval_and_never_when_off() {
    use std::time::Duration;
    let mut every = super::Progress::new("t", 3, Some(Duration::ZERO));
    let logged: Vec<bool> = (0..3).map(|_| every.tick("resolving")).collect();
    assert_eq!(logged, [true, true, true]);
    let mut hourly = super::Progress::new("t", 3, Some(Duration::from_secs(3600)));
    assert!(!(0..3).any(|_| hourly.tick("resolving")));
    assert_eq!(hourly.done, 3);
    let mut off = super::Progress::new("t", 3, None);
    assert!(!(0..3).any(|_| off.tick("resolving")));
}
