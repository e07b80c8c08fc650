//! Repodata download into the cache, over HTTP from the fake hub's topurl.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use koschei_core::repo::{CacheOptions, Error, RepoCache, RepoDescriptor};
use koschei_fakehub::FakeHub;
use sha2::Digest as _;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "koschei-it-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sha256(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

/// Writes `<dir>/x86_64/repodata/{repomd.xml, primary, filelists, comps}`; `lie` corrupts primary's checksum.
fn write_repo(dir: &Path, tag: &str, lie: bool) {
    let rd = dir.join("x86_64/repodata");
    std::fs::create_dir_all(&rd).expect("mkdir");
    let primary = format!("<metadata packages=\"0\"><!-- {tag} --></metadata>\n").into_bytes();
    let filelists = b"<filelists packages=\"0\"/>\n".to_vec();
    let comps = b"<comps/>\n".to_vec();
    std::fs::write(rd.join("aa-primary.xml"), &primary).expect("write");
    std::fs::write(rd.join("bb-filelists.xml"), &filelists).expect("write");
    std::fs::write(rd.join("comps.xml"), &comps).expect("write");
    std::fs::write(rd.join("other.xml"), b"<otherdata/>").expect("write");
    let p_sum = if lie {
        sha256(b"something else")
    } else {
        sha256(&primary)
    };
    let rec = |t: &str, href: &str, sum: &str, size: usize| {
        format!(
            "<data type=\"{t}\">\n<checksum type=\"sha256\">{sum}</checksum>\n<location href=\"repodata/{href}\"/>\n<size>{size}</size>\n</data>\n"
        )
    };
    let md = format!(
        "<?xml version=\"1.0\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n<revision>1</revision>\n{}{}{}{}</repomd>\n",
        rec("primary", "aa-primary.xml", &p_sum, primary.len()),
        rec(
            "filelists",
            "bb-filelists.xml",
            &sha256(&filelists),
            filelists.len()
        ),
        rec("group", "comps.xml", &sha256(&comps), comps.len()),
        rec("other", "other.xml", &sha256(b"<otherdata/>"), 12),
    );
    std::fs::write(rd.join("repomd.xml"), md).expect("write");
}

fn descriptor(repo_id: impl TryInto<i32>) -> RepoDescriptor {
    let Ok(repo_id) = repo_id.try_into() else {
        panic!("repo id out of range")
    };
    RepoDescriptor {
        koji_id: "primary".into(),
        build_tag: "f40-build".into(),
        repo_id: koschei_core::koji::RepoId(repo_id),
        arch: "x86_64".into(),
    }
}

fn hub_with_repos(n: usize, src: &TempDir) -> (FakeHub, Vec<i32>) {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let mut ids = Vec::new();
    for i in 0..n {
        let d = src.0.join(format!("r{i}"));
        write_repo(&d, "f40-build", false);
        let id = hub.add_repo("f40-build", &d);
        ids.push(i32::try_from(id).expect("small repo id"));
    }
    (hub, ids)
}

fn cache(dir: &TempDir, capacity: usize) -> RepoCache {
    RepoCache::open(
        &dir.0,
        CacheOptions {
            capacity,
            ..CacheOptions::default()
        },
    )
    .expect("cache")
}

#[test]
fn fetch_downloads_verified_repodata_and_reuses_it() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(1, &src);
    let c = cache(&dir, 100);
    let repo = c
        .fetch(&hub.topurl(), &descriptor(ids[0]))
        .expect("fetched");
    assert_eq!(
        repo.path(),
        dir.0.join(format!("primary-f40-build-{}-x86_64", ids[0]))
    );
    for f in [
        "repomd.xml",
        "aa-primary.xml",
        "bb-filelists.xml",
        "comps.xml",
    ] {
        assert!(repo.path().join("repodata").join(f).is_file(), "{f}");
    }
    assert!(
        !repo.path().join("repodata/other.xml").exists(),
        "only the configured types are fetched"
    );
    let gets = hub.file_requests().len();
    assert_eq!(gets, 4);
    drop(repo);
    drop(hub);
    // The hub is gone: a second fetch is served from the cache.
    let again = c
        .fetch("http://127.0.0.1:9", &descriptor(ids[0]))
        .expect("cached");
    assert!(again.path().join("repodata/aa-primary.xml").is_file());
}

#[test]
fn checksum_mismatch_is_an_error_and_leaves_nothing_behind() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    write_repo(&src.0, "f40-build", true);
    let id = hub.add_repo("f40-build", &src.0);
    let c = cache(&dir, 100);
    let err = c
        .fetch(&hub.topurl(), &descriptor(id))
        .expect_err("bad checksum");
    assert!(matches!(err, Error::Checksum { .. }), "{err:?}");
    assert!(err.to_string().contains("aa-primary.xml"), "{err}");
    assert!(c.entries().expect("entries").is_empty());
    let tmp: Vec<_> = std::fs::read_dir(dir.0.join(".tmp"))
        .expect("tmp")
        .collect();
    assert!(tmp.is_empty(), "temporary download removed");
}

#[test]
fn missing_repo_is_an_http_error() {
    let dir = TempDir::new("cache");
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let err = cache(&dir, 100)
        .fetch(&hub.topurl(), &descriptor(77))
        .expect_err("404");
    assert!(matches!(err, Error::Http { status: 404, .. }), "{err:?}");
}

#[test]
fn corrupt_repomd_is_a_typed_error() {
    let dir = TempDir::new("cache");
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    hub.add_file(
        "repos/f40-build/5/x86_64/repodata/repomd.xml",
        b"<repomd><data type='primary'>",
    );
    let err = cache(&dir, 100)
        .fetch(&hub.topurl(), &descriptor(5))
        .expect_err("bad xml");
    assert!(matches!(err, Error::Repomd { .. }), "{err:?}");
    hub.add_file(
        "repos/f40-build/6/x86_64/repodata/repomd.xml",
        b"<repomd></repomd>",
    );
    let err = cache(&dir, 100)
        .fetch(&hub.topurl(), &descriptor(6))
        .expect_err("no primary");
    assert!(matches!(err, Error::MissingRecord { .. }), "{err:?}");
}

#[test]
fn cache_keeps_the_newest_repos_and_never_prunes_one_in_use() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(4, &src);
    let c = cache(&dir, 2);
    let in_use = c.fetch(&hub.topurl(), &descriptor(ids[0])).expect("first");
    for id in &ids[1..] {
        drop(c.fetch(&hub.topurl(), &descriptor(*id)).expect("fetched"));
    }
    let names = c.entries().expect("entries");
    let want: Vec<String> = [ids[3], ids[2], ids[0]]
        .iter()
        .map(|i| descriptor(*i).cache_name())
        .collect();
    assert_eq!(names, want, "repo {} is in use and survives", ids[0]);
    drop(in_use);
    drop(c.fetch(&hub.topurl(), &descriptor(ids[3])).expect("cached"));
    let names = c.entries().expect("entries");
    assert_eq!(names.len(), 3, "a cache hit does not prune");
    let src5 = src.0.join("r5");
    write_repo(&src5, "f40-build", false);
    let id5 = hub.add_repo("f40-build", &src5);
    drop(c.fetch(&hub.topurl(), &descriptor(id5)).expect("fetched"));
    let names = c.entries().expect("entries");
    assert_eq!(
        names,
        [
            descriptor(id5).cache_name(),
            descriptor(ids[3]).cache_name()
        ]
    );
}

#[test]
fn concurrent_fetches_download_once() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(1, &src);
    let topurl = hub.topurl();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let c = cache(&dir, 100);
                let r = c.fetch(&topurl, &descriptor(ids[0])).expect("fetched");
                assert!(r.path().join("repodata/aa-primary.xml").is_file());
            });
        }
    });
    let repomd_gets = hub
        .file_requests()
        .iter()
        .filter(|p| p.ends_with("repomd.xml"))
        .count();
    assert_eq!(repomd_gets, 1);
}

#[test]
fn stale_temporary_downloads_are_cleaned_and_never_look_complete() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(1, &src);
    let name = descriptor(ids[0]).cache_name();
    // A download that died half way.
    let stale = dir.0.join(".tmp").join(format!("{name}.999999.0"));
    std::fs::create_dir_all(stale.join("repodata")).expect("mkdir");
    std::fs::write(stale.join("repodata/repomd.xml"), b"partial").expect("write");
    let c = cache(&dir, 100);
    assert!(
        c.entries().expect("entries").is_empty(),
        "a temporary download is not an entry"
    );
    drop(
        c.fetch(&hub.topurl(), &descriptor(ids[0]))
            .expect("fetched"),
    );
    assert!(!stale.exists());
}

#[test]
fn descriptor_from_the_hubs_repo_info_fetches() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, _) = hub_with_repos(1, &src);
    let client = koschei_core::koji::Client::anonymous(&hub.url()).expect("client");
    let info = client
        .latest_repo("f40-build")
        .expect("call")
        .expect("repo");
    let d = RepoDescriptor::from_repo_info("primary", &info, "x86_64").expect("tag named");
    assert_eq!(d.build_tag, "f40-build");
    let repo = cache(&dir, 10).fetch(&hub.topurl(), &d).expect("fetched");
    assert!(repo.path().join("repodata/repomd.xml").is_file());
}

#[test]
fn unusable_names_are_refused() {
    let dir = TempDir::new("cache");
    let bad = RepoDescriptor {
        build_tag: "../../etc".into(),
        ..descriptor(1)
    };
    let err = cache(&dir, 1)
        .fetch("http://127.0.0.1:9", &bad)
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
}

/// A file server: `<src>/<name>/x86_64/repodata/...` at `{topurl}/mirror/<name>/x86_64/`.
fn mirror(src: &TempDir) -> (FakeHub, String) {
    let hub = FakeHub::start().expect("hub");
    hub.serve_dir("mirror", &src.0);
    let base = format!("{}/mirror", hub.topurl());
    (hub, base)
}

#[test]
fn a_url_is_downloaded_once_and_then_costs_only_its_repomd_xml() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    write_repo(&src.0.join("copr"), "copr", false);
    let (hub, base) = mirror(&src);
    let url = format!("{base}/copr/x86_64/");
    let c = cache(&dir, 10);
    let first = c.fetch_url(&url).expect("fetched");
    assert!(first.downloaded());
    assert!(first.path().join("repodata/aa-primary.xml").is_file());
    let name = first
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("url-"), "{name}");
    drop(first);
    let gets = hub.file_requests().len();
    assert_eq!(gets, 4, "repomd.xml, primary, filelists, comps");
    let again = c.fetch_url(&format!("{base}/copr/x86_64")).expect("cached");
    assert!(!again.downloaded());
    assert_eq!(
        again.path(),
        dir.0.join(&name),
        "the trailing slash does not matter"
    );
    assert_eq!(
        hub.file_requests()[gets..],
        ["/kojifiles/mirror/copr/x86_64/repodata/repomd.xml".to_owned()]
    );
}

#[test]
fn a_changed_url_is_a_new_entry_and_the_old_one_is_pruned() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let repo = src.0.join("copr");
    write_repo(&repo, "copr", false);
    let (_hub, base) = mirror(&src);
    let url = format!("{base}/copr/x86_64/");
    let c = cache(&dir, 1);
    let old = c.fetch_url(&url).expect("fetched").path().to_owned();
    // A new build in the project: other primary, other repomd.xml.
    write_repo(&repo, "copr-after-a-build", false);
    let new = c.fetch_url(&url).expect("fetched again");
    assert!(new.downloaded());
    assert_ne!(new.path(), old);
    let primary = std::fs::read_to_string(new.path().join("repodata/aa-primary.xml")).unwrap();
    assert!(primary.contains("copr-after-a-build"), "{primary}");
    assert_eq!(
        c.entries().expect("entries"),
        [new.path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()],
        "capacity 1: the outdated copy is gone"
    );
}

#[test]
fn a_koji_repo_and_url_entries_are_pruned_apart() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(2, &src);
    for n in ["a", "b"] {
        write_repo(&src.0.join(n), n, false);
    }
    hub.serve_dir("mirror", &src.0);
    let c = cache(&dir, 1);
    for id in &ids {
        drop(c.fetch(&hub.topurl(), &descriptor(*id)).expect("koji repo"));
    }
    let a = c
        .fetch_url(&format!("{}/mirror/a/x86_64", hub.topurl()))
        .expect("a");
    drop(a);
    let b = c
        .fetch_url(&format!("{}/mirror/b/x86_64", hub.topurl()))
        .expect("b");
    let names = c.entries().expect("entries");
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[0], descriptor(ids[1]).cache_name(), "{names:?}");
    assert_eq!(names[1], b.path().file_name().unwrap().to_string_lossy());
}

#[test]
fn a_vanished_or_corrupt_url_is_an_error_naming_it() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    write_repo(&src.0.join("good"), "good", false);
    write_repo(&src.0.join("bad"), "bad", true);
    let (_hub, base) = mirror(&src);
    let c = cache(&dir, 10);
    drop(
        c.fetch_url(&format!("{base}/good/x86_64"))
            .expect("fetched"),
    );
    std::fs::remove_dir_all(src.0.join("good")).unwrap();
    let err = c
        .fetch_url(&format!("{base}/good/x86_64"))
        .expect_err("vanished");
    assert!(matches!(err, Error::Http { status: 404, .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("{base}/good/x86_64/repodata/repomd.xml")),
        "{err}"
    );
    let err = c
        .fetch_url(&format!("{base}/bad/x86_64"))
        .expect_err("corrupt");
    assert!(matches!(err, Error::Checksum { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("{base}/bad/x86_64/repodata/aa-primary.xml")),
        "{err}"
    );
    for bad in [
        "ftp://example.org/r",
        "http://",
        "https://h/r?x=1",
        "/local/dir",
    ] {
        let err = c.fetch_url(bad).expect_err(bad);
        assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err:?}");
    }
    assert_eq!(c.entries().expect("entries").len(), 1, "only the good copy");
}

#[test]
fn concurrent_fetches_of_a_url_download_its_files_once() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    write_repo(&src.0.join("copr"), "copr", false);
    let (hub, base) = mirror(&src);
    let url = format!("{base}/copr/x86_64");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let r = cache(&dir, 10).fetch_url(&url).expect("fetched");
                assert!(r.path().join("repodata/aa-primary.xml").is_file());
            });
        }
    });
    let primary_gets = hub
        .file_requests()
        .iter()
        .filter(|p| p.ends_with("aa-primary.xml"))
        .count();
    assert_eq!(primary_gets, 1);
}

#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

impl koschei_core::repo::DownloadProgress for Recorder {
    fn started(&self, url: &str, size: Option<u64>) {
        self.0.lock().unwrap().push(format!(
            "start {} {size:?}",
            url.rsplit('/').next().unwrap()
        ));
    }
    fn advanced(&self, url: &str, done: u64) {
        self.0
            .lock()
            .unwrap()
            .push(format!("at {} {done}", url.rsplit('/').next().unwrap()));
    }
    fn finished(&self, url: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("end {}", url.rsplit('/').next().unwrap()));
    }
}

#[test]
fn downloads_are_reported_to_the_progress_hook() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    write_repo(&src.0.join("copr"), "copr", false);
    let (_hub, base) = mirror(&src);
    let recorder = std::sync::Arc::new(Recorder::default());
    let c = RepoCache::open(
        &dir.0,
        CacheOptions {
            progress: Some(recorder.clone()),
            ..CacheOptions::default()
        },
    )
    .expect("cache");
    drop(
        c.fetch_url(&format!("{base}/copr/x86_64"))
            .expect("fetched"),
    );
    let events = recorder.0.lock().unwrap().clone();
    let primary = std::fs::metadata(src.0.join("copr/x86_64/repodata/aa-primary.xml"))
        .unwrap()
        .len();
    for e in [
        "start repomd.xml None".to_owned(),
        "end repomd.xml".to_owned(),
        format!("start aa-primary.xml Some({primary})"),
        format!("at aa-primary.xml {primary}"),
        "end aa-primary.xml".to_owned(),
    ] {
        assert!(events.contains(&e), "{e} in {events:?}");
    }
}

fn stoppable_cache(
    dir: &TempDir,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> RepoCache {
    RepoCache::open(
        &dir.0,
        CacheOptions {
            stop: Some(std::sync::Arc::clone(stop)),
            ..CacheOptions::default()
        },
    )
    .expect("cache")
}

#[test]
fn a_stop_request_ends_the_wait_for_another_processs_download() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(1, &src);
    let repo = descriptor(ids[0]);
    // Another process downloads this repo: it holds the entry's lock exclusively.
    let other = std::fs::File::create(dir.0.join(format!("{}.lock", repo.cache_name())))
        .expect("lock file");
    other.lock().expect("exclusive lock");
    let stop = Arc::new(AtomicBool::new(false));
    let c = stoppable_cache(&dir, &stop);
    let topurl = hub.topurl();
    let (tx, rx) = std::sync::mpsc::channel();
    let r = repo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(c.fetch(&topurl, &r).map(|_| ()));
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        rx.try_recv().is_err(),
        "waits while the other download runs"
    );
    stop.store(true, Ordering::Relaxed);
    let err = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the wait ends soon after the stop request")
        .expect_err("interrupted");
    assert!(err.is_interrupted(), "{err:?}");
    assert!(err.to_string().contains(".lock"), "{err}");
    other.unlock().expect("unlock");
    // Without a stop request the repo is fetched as usual.
    cache(&dir, 100)
        .fetch(&hub.topurl(), &repo)
        .expect("fetched");
}

#[test]
fn a_download_given_up_on_a_stop_request_leaves_nothing_in_the_cache() {
    let src = TempDir::new("src");
    let dir = TempDir::new("cache");
    let (hub, ids) = hub_with_repos(1, &src);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let c = stoppable_cache(&dir, &stop);
    let err = c
        .fetch(&hub.topurl(), &descriptor(ids[0]))
        .expect_err("interrupted");
    match &err {
        Error::Interrupted { what } => assert!(what.starts_with("GET http"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(c.entries().expect("entries").is_empty());
    let tmp: Vec<_> = std::fs::read_dir(dir.0.join(".tmp"))
        .expect("tmp dir")
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}
