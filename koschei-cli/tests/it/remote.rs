//! `koschei resolve` and `koschei impact` on repositories where they live: http(s) URLs
//! (the fake hub as a plain file server of the solver's `impact` fixture), Koji tags and side
//! tags (the fake hub over XML-RPC), a proxy and a CA from the environment and the flags, and
//! the repo cache between runs. Every answer is compared with the run on the same data as
//! directories.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use koschei_fakehub::FakeHub;
use serde_json::Value;

use crate::support::{koschei, run};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../koschei-solver/tests/data/impact")
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(label: &str) -> Tmp {
        let p =
            std::env::temp_dir().join(format!("koschei-cli-remote-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A configuration naming the hub, in `tmp`.
fn config(tmp: &Tmp, hub: &FakeHub) -> PathBuf {
    let path = tmp.path("koschei.toml");
    std::fs::write(
        &path,
        format!(
            "[koji]\nserver = \"{}\"\ntopurl = \"{}\"\nweburl = \"{}\"\n",
            hub.url(),
            hub.topurl(),
            hub.weburl()
        ),
    )
    .unwrap();
    path
}

/// `koschei --config CONFIG ARGS --cache-dir <tmp>/<cache>`.
fn cmd(tmp: &Tmp, config: &Path, cache: &str, args: &[&str]) -> Command {
    let mut c = koschei(None);
    c.arg("--config")
        .arg(config)
        .args(args)
        .arg("--cache-dir")
        .arg(tmp.path(cache));
    c
}

fn ok(c: Command) -> String {
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    out
}

/// The package lines of a `--json` output, sorted by name (the summary dropped).
fn packages(out: &str) -> Vec<Value> {
    let mut lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v.get("summary").is_none())
        .collect();
    lines.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    assert!(!lines.is_empty(), "{out}");
    lines
}

fn summary(out: &str) -> Value {
    let last = out.lines().last().unwrap();
    serde_json::from_str::<Value>(last).unwrap()["summary"].clone()
}

/// Copies a fixture repository (its `repodata/`) to `dest`.
fn copy_repo(from: &Path, dest: &Path) {
    std::fs::create_dir_all(dest.join("repodata")).unwrap();
    for e in std::fs::read_dir(from.join("repodata")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dest.join("repodata").join(e.file_name())).unwrap();
    }
}

/// The fixture served at `{topurl}/mirror/impact/{old,new,source}/`, the side repository as
/// a Copr chroot at `{topurl}/results/owner/project/fedora-rawhide-x86_64/`.
fn file_server() -> (FakeHub, String) {
    let hub = FakeHub::start().unwrap();
    hub.serve_dir("mirror/impact", &fixture());
    hub.serve_dir(
        "results/owner/project/fedora-rawhide-x86_64",
        &fixture().join("side"),
    );
    let base = format!("{}/mirror/impact", hub.topurl());
    (hub, base)
}

#[test]
fn impact_and_resolve_over_http_urls_equal_the_directory_runs() {
    let tmp = Tmp::new("urls");
    let (hub, base) = file_server();
    let cfg = config(&tmp, &hub);
    let fx = fixture();
    let (old, new, src) = (fx.join("old"), fx.join("new"), fx.join("source"));
    let dirs = ok(cmd(
        &tmp,
        &cfg,
        "dir-cache",
        &[
            "impact",
            "--old-repo",
            s(&old),
            "--new-repo",
            s(&new),
            "--sources",
            s(&src),
            "--json",
        ],
    ));
    let (old_url, new_url, src_url) = (
        format!("{base}/old/"),
        format!("{base}/new"),
        format!("{base}/source/"),
    );
    let urls = ok(cmd(
        &tmp,
        &cfg,
        "url-cache",
        &[
            "impact",
            "--old-repo",
            &old_url,
            "--new-repo",
            &new_url,
            "--sources",
            &src_url,
            "--json",
        ],
    ));
    assert_eq!(packages(&urls), packages(&dirs));
    assert_eq!(summary(&urls)["old_repo"].as_str(), Some(old_url.as_str()));
    assert!(
        hub.file_requests()
            .iter()
            .any(|p| p.ends_with("/mirror/impact/new/repodata/repomd.xml")),
        "{:?}",
        hub.file_requests()
    );

    // A Copr chroot added to the old repository.
    let copr = format!(
        "{}/results/owner/project/fedora-rawhide-x86_64/",
        hub.topurl()
    );
    let add = |repo: &str, cache: &str| {
        ok(cmd(
            &tmp,
            &cfg,
            cache,
            &[
                "impact",
                "--old-repo",
                s(&old),
                "--add-repo",
                repo,
                "--sources",
                s(&src),
                "--json",
            ],
        ))
    };
    assert_eq!(
        packages(&add(&copr, "url-cache")),
        packages(&add(s(&fx.join("side")), "dir-cache"))
    );

    let resolve = |repo: &str, src: &str, cache: &str| {
        ok(cmd(
            &tmp,
            &cfg,
            cache,
            &["resolve", "--repo", repo, "--sources", src, "--json"],
        ))
    };
    let by_url = resolve(&new_url, &src_url, "url-cache");
    assert_eq!(
        packages(&by_url),
        packages(&resolve(s(&new), s(&src), "dir-cache"))
    );
    assert_eq!(summary(&by_url)["repo"].as_str(), Some(new_url.as_str()));
}

#[test]
fn a_second_run_over_the_same_urls_downloads_only_repomd_xml() {
    let tmp = Tmp::new("reuse");
    let (hub, base) = file_server();
    let cfg = config(&tmp, &hub);
    let args = [
        "impact",
        "--old-repo",
        &format!("{base}/old"),
        "--new-repo",
        &format!("{base}/new"),
        "--sources",
        &format!("{base}/source"),
        "--json",
    ]
    .map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = ok(cmd(&tmp, &cfg, "cache", &args));
    let after_first = hub.file_requests();
    assert!(
        after_first.len() > 3,
        "the first run downloads the files: {after_first:?}"
    );
    let second = ok(cmd(&tmp, &cfg, "cache", &args));
    let second_gets = &hub.file_requests()[after_first.len()..];
    let expected: Vec<String> = ["old", "new", "source"]
        .iter()
        .map(|r| format!("/kojifiles/mirror/impact/{r}/repodata/repomd.xml"))
        .collect();
    assert_eq!(
        second_gets, expected,
        "only repomd.xml, once per repository"
    );
    assert_eq!(packages(&second), packages(&first));
    let bytes: u64 = ["old", "new", "source"]
        .iter()
        .map(|r| {
            std::fs::metadata(fixture().join(r).join("repodata/repomd.xml"))
                .unwrap()
                .len()
        })
        .sum();
    eprintln!(
        "first run: {} GETs, second run: {} GETs ({bytes} bytes of repomd.xml)",
        after_first.len(),
        second_gets.len()
    );
}

#[test]
fn a_corrupt_remote_repository_is_an_error_naming_the_url_and_no_report() {
    let tmp = Tmp::new("corrupt");
    let hub = FakeHub::start().unwrap();
    let cfg = config(&tmp, &hub);
    let served = tmp.path("served");
    copy_repo(&fixture().join("new"), &served.join("new"));
    hub.serve_dir("repo", &served);
    // Same size, other bytes: the checksum catches it.
    let primary = served.join("new/repodata/primary.xml.gz");
    let len = std::fs::metadata(&primary).unwrap().len();
    std::fs::write(&primary, vec![b'x'; usize::try_from(len).unwrap()]).unwrap();
    let url = format!("{}/repo/new/", hub.topurl());
    let (code, out, err) = run(cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "impact",
            "--old-repo",
            s(&fixture().join("old")),
            "--new-repo",
            &url,
            "--sources",
            s(&fixture().join("source")),
            "--format",
            "markdown",
        ],
    ));
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(out, "", "no partial report");
    assert!(
        err.contains(&format!(
            "{}/repo/new/repodata/primary.xml.gz",
            hub.topurl()
        )) && err.contains("checksum mismatch"),
        "{err}"
    );
    let entries: Vec<_> = std::fs::read_dir(tmp.path("cache/repodata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".lock"))
        .collect();
    assert!(entries.is_empty(), "nothing entered the cache: {entries:?}");
}

#[test]
fn a_vanished_remote_repository_is_an_error_even_when_an_old_copy_is_cached() {
    let tmp = Tmp::new("vanished");
    let hub = FakeHub::start().unwrap();
    let cfg = config(&tmp, &hub);
    let served = tmp.path("served");
    copy_repo(&fixture().join("new"), &served.join("new"));
    hub.serve_dir("repo", &served);
    let url = format!("{}/repo/new", hub.topurl());
    let src = fixture().join("source");
    let args = ["resolve", "--repo", &url, "--sources", s(&src)];
    ok(cmd(&tmp, &cfg, "cache", &args));
    std::fs::remove_dir_all(&served).unwrap();
    let (code, out, err) = run(cmd(&tmp, &cfg, "cache", &args));
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(out, "", "no answers from the stale copy");
    assert!(
        err.contains(&format!("GET {url}/repodata/repomd.xml: HTTP 404")),
        "{err}"
    );

    // A server that is not there at all.
    let (code, out, err) = run(cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "resolve",
            "--repo",
            "http://127.0.0.1:9/gone/",
            "--sources",
            s(&fixture().join("source")),
        ],
    ));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("GET http://127.0.0.1:9/gone/repodata/repomd.xml failed"),
        "{err}"
    );
}

/// The hub with the fixture as Koji data: dest tag `f44` with one build per fixture source
/// package (its BuildRequires as `getRPMDeps` answers them), build tag `f44-build` (group
/// `build` as the fixture's comps) whose repo is `old`, and a side tag of it whose repo is
/// `new`. Returns the hub and the side tag's name.
fn koji_hub() -> (FakeHub, String) {
    let hub = FakeHub::start().unwrap();
    hub.add_tag("f44", &["x86_64"], None);
    hub.add_tag("f44-build", &["x86_64"], Some("f44"));
    hub.add_target("f44", "f44-build", "f44");
    hub.add_group("f44-build", "build", &["glibc", "shell"]);
    let sources = koschei_solver::read_source_packages(&fixture().join("source")).unwrap();
    for p in &sources {
        let brs: Vec<&str> = p.build_requires.iter().map(String::as_str).collect();
        let id = hub.add_build(
            "f44",
            &format!("{}-{}-{}", p.name, p.version, p.release),
            &brs,
        );
        hub.set_build_epoch(id, Some(i64::try_from(p.epoch).unwrap()));
    }
    // A blocked package is not a source, as in the engine.
    hub.add_build("f44", "retired-1-1", &["missing"]);
    hub.add_package("f44", "retired", true);
    hub.add_arch_repo("f44-build", "x86_64", &fixture().join("old"));
    let side = hub.add_side_tag("f44-build");
    hub.add_arch_repo(&side, "x86_64", &fixture().join("new"));
    (hub, side)
}

#[test]
fn koji_tags_and_side_tags_give_the_answers_of_the_same_data_as_directories() {
    let tmp = Tmp::new("koji");
    let (hub, side) = koji_hub();
    let cfg = config(&tmp, &hub);
    let fx = fixture();
    let dirs = ok(cmd(
        &tmp,
        &cfg,
        "dir-cache",
        &[
            "impact",
            "--old-repo",
            s(&fx.join("old")),
            "--new-repo",
            s(&fx.join("new")),
            "--sources",
            s(&fx.join("source")),
            "--json",
        ],
    ));
    let new_arg = format!("koji:{side}");
    let koji = ok(cmd(
        &tmp,
        &cfg,
        "koji-cache",
        &[
            "impact",
            "--old-repo",
            "koji:f44-build",
            "--new-repo",
            &new_arg,
            "--sources",
            "koji:f44",
            "--json",
        ],
    ));
    assert_eq!(packages(&koji), packages(&dirs));
    let sum = summary(&koji);
    assert!(
        sum["old_repo"]
            .as_str()
            .is_some_and(|s| s.starts_with("koji:f44-build (repo ")),
        "{sum}"
    );
    assert_eq!(sum["packages"], 7, "the blocked package is left out: {sum}");
    // What the engine asks: the repos, the build group at each repo's event, the builds and
    // their SRPMs' BuildRequires in one multicall.
    let calls = hub.calls();
    let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
    for m in [
        "getRepo",
        "getTagGroups",
        "listPackages",
        "listTagged",
        "multiCall",
    ] {
        assert!(methods.contains(&m), "{m} in {methods:?}");
    }
    assert_eq!(
        methods.iter().filter(|m| **m == "getRPMDeps").count(),
        7,
        "{methods:?}"
    );
    // The side tag looks like one made by Koji's sidetag plugin.
    let tag = hub
        .dispatch(
            "getTag",
            vec![koschei_core::koji::Value::from(side.as_str())],
        )
        .unwrap();
    assert_eq!(
        tag.get("extra").and_then(|e| e.get("sidetag")),
        Some(&koschei_core::koji::Value::Bool(true)),
        "{tag:?}"
    );
    let files = hub.file_requests();
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("/kojifiles/repos/{side}/"))),
        "{files:?}"
    );

    // resolve on the Koji repo and sources, against the directory run; the Koji repo is
    // immutable, so the cached copy is used without downloading anything.
    let gets = hub.file_requests().len();
    let by_koji = ok(cmd(
        &tmp,
        &cfg,
        "koji-cache",
        &[
            "resolve",
            "--repo",
            "koji:f44-build",
            "--sources",
            "koji:f44",
            "--json",
        ],
    ));
    let by_dir = ok(cmd(
        &tmp,
        &cfg,
        "dir-cache",
        &[
            "resolve",
            "--repo",
            s(&fx.join("old")),
            "--sources",
            s(&fx.join("source")),
            "--json",
        ],
    ));
    assert_eq!(packages(&by_koji), packages(&by_dir));
    assert_eq!(
        hub.file_requests().len(),
        gets,
        "a cached Koji repo is not downloaded again"
    );
    assert_eq!(summary(&by_koji)["repo"].as_str(), Some("koji:f44-build"));
    assert!(summary(&by_koji)["koji_repo_id"].is_u64());
}

#[test]
fn a_koji_repo_without_files_or_an_unknown_tag_is_a_clear_error() {
    let tmp = Tmp::new("koji-errors");
    let (hub, _) = koji_hub();
    let cfg = config(&tmp, &hub);
    // Koji names a repo whose directory is gone (kojira deleted it).
    let gone = hub.add_repo_state("f44-build", None, 1);
    let (code, out, err) = run(cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "resolve",
            "--repo",
            "koji:f44-build",
            "--sources",
            "koji:f44",
        ],
    ));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains(&format!(
            "GET {}/repos/f44-build/{gone}/x86_64/repodata/repomd.xml: HTTP 404",
            hub.topurl()
        )),
        "{err}"
    );
    let (code, _, err) = run(cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "resolve",
            "--repo",
            "koji:no-such-tag",
            "--sources",
            "koji:f44",
        ],
    ));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("koji:no-such-tag") && err.contains("no-such-tag"),
        "{err}"
    );
}

#[test]
fn markdown_report_for_a_ci_with_fail_on_breakage() {
    let tmp = Tmp::new("markdown");
    let hub = FakeHub::start().unwrap();
    let cfg = config(&tmp, &hub);
    let fx = fixture();
    let (old, new, src) = (fx.join("old"), fx.join("new"), fx.join("source"));
    let args = [
        "impact",
        "--old-repo",
        s(&old),
        "--new-repo",
        s(&new),
        "--sources",
        s(&src),
        "--format",
        "markdown",
        "--fail-on-breakage",
    ];
    let (code, out, err) = run(cmd(&tmp, &cfg, "cache", &args));
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        out.starts_with(
            "<!-- koschei-impact -->\n### koschei impact: 2 broken, 1 fixed, 2 changed\n"
        ),
        "{out}"
    );
    for row in [
        "| `uses-bar-0:1-1` | Problem: conflicting requests<br> - nothing provides libbar needed by bar-devel-1.0-1.x86_64 |",
        "| `old-libfoo-0:1-1` | No package found for: libfoo &lt; 2.0 |",
        "#### Fixed by the change (1)\n\n`wants-newlib-0:1-1`\n",
        "| 256 | `direct-libfoo-0:1-1` | libfoo 0:1.0-1 → 0:2.0-1 |",
        "| 213 | `uses-foo-0:1-1` | foo-devel 0:1.0-1 → 0:2.0-1, libfoo 0:1.0-1 → 0:2.0-1 |",
    ] {
        assert!(out.contains(row), "{row}\nnot in\n{out}");
    }
    let mut both = args.to_vec();
    both.push("--json");
    let (code, _, err) = run(cmd(&tmp, &cfg, "cache", &both));
    assert_eq!(code, 2, "--json and --format conflict: {err}");
}

/// An HTTP CONNECT proxy on loopback that tunnels every request to `upstream` (whatever host
/// it names) and records the targets it was asked for.
struct ConnectProxy {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start(upstream: u16) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { return };
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, upstream, &seen));
            }
        });
        ConnectProxy { port, targets }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, upstream: u16, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    seen.lock().unwrap().push(target);
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let mut client_w = client;
    if client_w
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let mut server_w = server.try_clone().unwrap();
    let mut server_r = server;
    let mut client_r = reader;
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut server_w);
        let _ = server_w.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = [0u8; 1 << 14];
    while let Ok(n) = server_r.read(&mut buf) {
        if n == 0 || client_w.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client_w.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

#[test]
fn downloads_go_through_the_proxy_of_the_environment_unless_no_proxy_lists_the_host() {
    let tmp = Tmp::new("proxy");
    let (hub, _) = file_server();
    let cfg = config(&tmp, &hub);
    let proxy = ConnectProxy::start(hub.port());
    // A name only the proxy can reach.
    let base = format!(
        "http://repos.koschei.invalid:{}/kojifiles/mirror/impact",
        hub.port()
    );
    let args = [
        "resolve",
        "--repo",
        &format!("{base}/new"),
        "--sources",
        &format!("{base}/source"),
        "--json",
    ]
    .map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = cmd(&tmp, &cfg, "cache", &args);
    c.env("http_proxy", proxy.url());
    let via_proxy = ok(c);
    let wanted = format!("repos.koschei.invalid:{}", hub.port());
    let targets = proxy.targets();
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == wanted),
        "{targets:?}"
    );
    let direct = ok(cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "resolve",
            "--repo",
            s(&fixture().join("new")),
            "--sources",
            s(&fixture().join("source")),
            "--json",
        ],
    ));
    assert_eq!(packages(&via_proxy), packages(&direct));

    // NO_PROXY: the loopback hub is reached directly although the proxy is dead.
    let loopback = format!("{}/mirror/impact", hub.topurl());
    let mut c = cmd(
        &tmp,
        &cfg,
        "cache2",
        &[
            "resolve",
            "--repo",
            &format!("{loopback}/new"),
            "--sources",
            &format!("{loopback}/source"),
        ],
    );
    c.env("http_proxy", "http://127.0.0.1:9")
        .env("NO_PROXY", "localhost,127.0.0.1");
    ok(c);
    // Without NO_PROXY the dead proxy is used, and the error says which URL failed.
    let mut c = cmd(
        &tmp,
        &cfg,
        "cache3",
        &[
            "resolve",
            "--repo",
            &format!("{loopback}/new"),
            "--sources",
            &format!("{loopback}/source"),
        ],
    );
    c.env("http_proxy", "http://127.0.0.1:9");
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("GET {loopback}/new/repodata/repomd.xml failed")),
        "{err}"
    );
}

#[test]
fn https_repositories_are_verified_with_the_ca_file_given() {
    let tmp = Tmp::new("https");
    let ca = koschei_fakehub::tls::TestCa::new().unwrap();
    let hub = FakeHub::start_https(&ca).unwrap();
    hub.serve_dir("mirror/impact", &fixture());
    let cfg = config(&tmp, &hub);
    let ca_file = ca.write_ca(&tmp.0).unwrap();
    let base = format!("{}/mirror/impact", hub.topurl());
    let args = [
        "resolve",
        "--repo",
        &format!("{base}/new/"),
        "--sources",
        &format!("{base}/source/"),
        "--json",
    ]
    .map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The system roots do not know the test CA.
    let (code, out, err) = run(cmd(&tmp, &cfg, "cache", &args));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains(&format!("GET {base}/new/repodata/repomd.xml failed")),
        "{err}"
    );
    let mut with_ca = args.clone();
    with_ca.extend(["--ca", s(&ca_file)]);
    let out = ok(cmd(&tmp, &cfg, "cache", &with_ca));
    let direct = ok(cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "resolve",
            "--repo",
            s(&fixture().join("new")),
            "--sources",
            s(&fixture().join("source")),
            "--json",
        ],
    ));
    assert_eq!(packages(&out), packages(&direct));
}

#[test]
fn koji_calls_and_koji_repos_go_through_the_proxy_too() {
    let tmp = Tmp::new("koji-proxy");
    let (hub, side) = koji_hub();
    let proxy = ConnectProxy::start(hub.port());
    // The hub under a name only the proxy can reach.
    let host = format!("koji.koschei.invalid:{}", hub.port());
    let cfg = tmp.path("koschei.toml");
    std::fs::write(
        &cfg,
        format!(
            "[koji]\nserver = \"http://{host}/kojihub\"\ntopurl = \"http://{host}/kojifiles\"\nweburl = \"http://{host}/koji\"\n"
        ),
    )
    .unwrap();
    let new_arg = format!("koji:{side}");
    let mut c = cmd(
        &tmp,
        &cfg,
        "cache",
        &[
            "impact",
            "--old-repo",
            "koji:f44-build",
            "--new-repo",
            &new_arg,
            "--sources",
            "koji:f44",
            "--json",
        ],
    );
    c.env("http_proxy", proxy.url());
    let out = ok(c);
    assert_eq!(summary(&out)["packages"], 7, "{out}");
    let targets = proxy.targets();
    assert!(targets.iter().all(|t| *t == host), "{targets:?}");
    assert!(!hub.calls().is_empty() && !hub.file_requests().is_empty());
}
