//! Repository loading: checksums, compression, the `.solv` cache, errors.

use std::path::{Path, PathBuf};

use koschei_solver::{LoadOptions, Repository, SolverError, read_source_packages};
use sha2::Digest;

use crate::support::{TempDir, copy_tree, fixture, load, options};

fn solv_files(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache)
        .map(|d| d.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A private copy of the `problems` binary repo.
fn copy_problems(tmp: &TempDir) -> PathBuf {
    let dir = tmp.path().join("repo");
    copy_tree(&fixture("problems").join("binary"), &dir);
    dir
}

/// Replaces the `primary` file with `content` stored as plain `repodata/primary.xml`,
/// with a matching sha512 in repomd.xml.
fn replace_primary(dir: &Path, content: &[u8]) {
    std::fs::write(dir.join("repodata/primary.xml"), content).expect("write");
    let repomd_path = dir.join("repodata/repomd.xml");
    let repomd = std::fs::read_to_string(&repomd_path).expect("read repomd");
    let start = repomd
        .find("<data type=\"primary\">")
        .expect("primary entry");
    let end = start + repomd[start..].find("</data>").expect("end");
    let entry = format!(
        "<data type=\"primary\">\n    <checksum type=\"sha512\">{}</checksum>\n    <location href=\"repodata/primary.xml\"/>\n  ",
        hex::encode(sha2::Sha512::digest(content))
    );
    std::fs::write(
        &repomd_path,
        format!("{}{}{}", &repomd[..start], entry, &repomd[end..]),
    )
    .expect("write repomd");
}

#[test]
fn second_load_comes_from_the_cache_keyed_by_repomd_checksum() {
    let cache = TempDir::new("cache");
    let dir = fixture("problems").join("binary");
    let first = load(&dir, cache.path());
    assert!(!first.loaded_from_cache());
    let second = load(&dir, cache.path());
    assert!(second.loaded_from_cache());
    assert_eq!(first.package_count(), second.package_count());
    assert_eq!(first.package_count(), 26);
    let repomd = std::fs::read(dir.join("repodata/repomd.xml")).expect("repomd");
    let key = hex::encode(sha2::Sha256::digest(&repomd));
    assert_eq!(first.checksum(), key);
    let files = solv_files(cache.path());
    assert_eq!(
        files.len(),
        2,
        "main .solv and filelists .solvx, no temp files: {files:?}"
    );
    assert!(files.iter().all(|f| {
        f.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&key))
    }));
}

#[test]
fn unreadable_cache_is_rebuilt() {
    let cache = TempDir::new("corrupt-cache");
    let dir = fixture("problems").join("binary");
    let first = load(&dir, cache.path());
    for f in solv_files(cache.path()) {
        // Keep the checksum trailer so only libsolv can notice the damage.
        let bytes = std::fs::read(&f).expect("read");
        let mut broken = vec![0xffu8; bytes.len().min(64)];
        broken.extend_from_slice(&bytes[bytes.len() - 32..]);
        std::fs::write(&f, broken).expect("write");
    }
    let again = load(&dir, cache.path());
    assert!(!again.loaded_from_cache(), "a damaged cache is not used");
    assert_eq!(again.package_count(), first.package_count());
    assert!(
        load(&dir, cache.path()).loaded_from_cache(),
        "the rebuilt cache is used next time"
    );
}

#[test]
fn checksum_mismatch_names_the_file() {
    let tmp = TempDir::new("mismatch");
    let dir = copy_problems(&tmp);
    let primary = dir.join("repodata/primary.xml.xz");
    let mut bytes = std::fs::read(&primary).expect("read");
    bytes.push(0);
    std::fs::write(&primary, bytes).expect("write");
    let err = Repository::load(&dir, &options(&tmp.path().join("cache"))).expect_err("mismatch");
    match &err {
        SolverError::Checksum { path, kind, .. } => {
            assert_eq!(path, &primary);
            assert_eq!(kind, "sha512");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("primary.xml.xz"));
    assert!(
        solv_files(&tmp.path().join("cache")).is_empty(),
        "nothing cached from a bad repo"
    );
}

#[test]
fn truncated_primary_is_a_parse_error_naming_the_file() {
    let tmp = TempDir::new("truncated");
    let dir = copy_problems(&tmp);
    // A valid primary document (the source repo's, same format), cut in half.
    let src =
        std::fs::read(fixture("problems").join("source/repodata/primary.xml.gz")).expect("read");
    let xml = gunzip(&src);
    replace_primary(&dir, &xml[..xml.len() / 2]);
    let err = Repository::load(&dir, &options(&tmp.path().join("cache"))).expect_err("truncated");
    match &err {
        SolverError::Parse { path, .. } => assert_eq!(path, &dir.join("repodata/primary.xml")),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        solv_files(&tmp.path().join("cache")).is_empty(),
        "no cache file left behind"
    );
}

/// Decompresses gzip data with the system `gzip` (no gzip crate is a dependency).
fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    let out = child.wait_with_output().expect("gzip output");
    assert!(out.status.success());
    out.stdout
}

#[test]
fn malformed_primary_xml_is_rejected() {
    let tmp = TempDir::new("malformed");
    let dir = copy_problems(&tmp);
    replace_primary(
        &dir,
        b"<?xml version=\"1.0\"?>\n<metadata><package><name>x</name></wrong></metadata>\n",
    );
    let err = Repository::load(&dir, &options(&tmp.path().join("cache"))).expect_err("malformed");
    assert!(matches!(err, SolverError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("primary.xml"), "{err}");
}

#[test]
fn missing_metadata_file_names_the_file() {
    let tmp = TempDir::new("missing");
    let dir = copy_problems(&tmp);
    std::fs::remove_file(dir.join("repodata/filelists.xml.gz")).expect("rm");
    let err = Repository::load(&dir, &options(&tmp.path().join("cache"))).expect_err("missing");
    match &err {
        SolverError::Io { path, .. } => assert_eq!(path, &dir.join("repodata/filelists.xml.gz")),
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn missing_or_malformed_repomd_is_an_error() {
    let tmp = TempDir::new("repomd");
    let err =
        Repository::load(&tmp.path().join("nothing"), &options(tmp.path())).expect_err("no repo");
    assert!(err.to_string().contains("repomd.xml"), "{err}");
    let dir = copy_problems(&tmp);
    std::fs::write(
        dir.join("repodata/repomd.xml"),
        "<repomd><data type=\"primary\"></data></repomd>",
    )
    .expect("write");
    let err = Repository::load(&dir, &options(&tmp.path().join("cache"))).expect_err("bad repomd");
    assert!(matches!(err, SolverError::Repomd { .. }), "{err:?}");
}

#[test]
fn urls_are_refused_for_now() {
    let err = Repository::load(
        Path::new("https://koji.example/repos/f40-build/1/x86_64"),
        &LoadOptions::default(),
    )
    .expect_err("url");
    assert!(matches!(err, SolverError::UrlNotSupported(_)));
    assert!(read_source_packages(Path::new("http://example/src")).is_err());
}

#[test]
fn comps_build_group_and_compressions() {
    // problems: xz primary + gz filelists; distance: zstd primary + plain filelists.
    let cache = TempDir::new("comps");
    let repo = load(&fixture("problems").join("binary"), cache.path());
    assert_eq!(
        repo.build_group().expect("group"),
        ["base", "shell", "grouplib", "not-in-repo"]
    );
    let distance = load(&fixture("distance").join("binary"), cache.path());
    assert_eq!(distance.package_count(), 7);
    let opts = LoadOptions {
        group: "no-such-group".to_owned(),
        ..options(cache.path())
    };
    let repo = Repository::load(&fixture("problems").join("binary"), &opts).expect("load");
    assert_eq!(repo.build_group(), None);
}

#[test]
fn source_packages_keep_order_and_build_requires() {
    let sources = read_source_packages(&fixture("problems").join("source")).expect("sources");
    assert_eq!(sources[0].name, "ok-simple");
    assert_eq!(
        sources[0].build_requires,
        ["tool-x", "multi >= 2", "epochpkg >= 2:1.0"]
    );
    assert_eq!(sources[0].evr(), "0:1-1");
    assert!(
        sources
            .iter()
            .any(|s| s.name == "no-brs" && s.build_requires.is_empty())
    );
}
