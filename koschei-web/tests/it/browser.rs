//! The main pages in headless Chromium (Debian's `chromium` package): what a person sees,
//! screenshots kept as artefacts, and the hostile package name staying text.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::harness::App;

#[allow(
    clippy::disallowed_methods,
    reason = "tests locate the browser and the artefact directory from the environment"
)]
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn chromium() -> PathBuf {
    if let Some(p) = env("KOSCHEI_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = env("PATH").unwrap_or_default();
    for dir in path.split(':') {
        for name in ["chromium", "chromium-browser"] {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("headless Chromium is needed for the browser tests: apt-get install -y chromium");
}

/// `$KOSCHEI_TEST_ARTEFACTS`, or `target/artefacts` of the workspace.
fn artefacts() -> PathBuf {
    let dir = env("KOSCHEI_TEST_ARTEFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("artefacts")
        });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs Chromium headless on `url` with a fresh profile; returns stdout.
fn run_chromium(extra: &[String], url: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let profile = std::env::temp_dir().join(format!(
        "koschei-web-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--virtual-time-budget=3000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("chromium output");
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dump_dom(url: &str) -> String {
    let dom = run_chromium(&["--dump-dom".to_owned()], url);
    assert!(
        dom.contains("</html>"),
        "no DOM from chromium for {url}: {dom}"
    );
    dom
}

fn screenshot(url: &str, name: &str) -> PathBuf {
    let path = artefacts().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&path);
    run_chromium(
        &[
            format!("--screenshot={}", path.display()),
            "--window-size=1280,900".to_owned(),
        ],
        url,
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("no screenshot {path:?}: {e}"));
    assert!(bytes.starts_with(b"\x89PNG"), "{path:?} is not a PNG");
    // A blank page compresses to a few kilobytes; a rendered table does not.
    assert!(
        bytes.len() > 20_000,
        "{path:?} looks blank ({} bytes)",
        bytes.len()
    );
    path
}

/// The `<title>` text of a serialized DOM.
fn title(dom: &str) -> &str {
    let start = dom.find("<title>").map(|i| i + 7).unwrap_or(0);
    let end = dom[start..]
        .find("</title>")
        .map(|i| start + i)
        .unwrap_or(start);
    &dom[start..end]
}

#[test]
fn main_pages_render_in_chromium() {
    let app = App::start();
    let base = app.server.url();

    let dom = dump_dom(&format!("{base}/?collection=f25"));
    assert_eq!(title(&dom), "Package summary – Koschei");
    for text in [
        "Package summary",
        "Packages from 1 to 7 from total 7",
        ">rnv<",
        ">failing<",
        ">running<",
        "Koji outage &lt;tonight&gt;",
    ] {
        assert!(dom.contains(text), "{text:?} not in list page DOM:\n{dom}");
    }
    screenshot(&format!("{base}/?collection=f25"), "package-list");
    screenshot(&format!("{base}/"), "package-list-unified");

    let dom = dump_dom(&format!("{base}/package/rnv"));
    for text in [
        "Scheduler parameters",
        "Unapplied dependency changes",
        "<mark>10</mark>",
        "build.log",
        "EPEL 7",
    ] {
        assert!(dom.contains(text), "{text:?} not in package page DOM");
    }
    screenshot(&format!("{base}/package/rnv"), "package-detail");

    let dom = dump_dom(&format!("{base}/stats"));
    assert!(dom.contains("Build time per package and architecture"));
    screenshot(&format!("{base}/collections"), "collections");
}

#[test]
fn hostile_package_name_is_text_and_runs_no_script() {
    let app = App::start();
    let base = app.server.url();
    let pages = [
        format!("{base}/?collection=f25"),
        format!("{base}/package/%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        format!("{base}/package/%3Cscript%3Edocument.title%3D'XSS'%3C%2Fscript%3E"),
        format!("{base}/search?q=script"),
    ];
    for url in &pages {
        let dom = dump_dom(url);
        // Text nodes are serialized escaped; a parsed element would appear as `<script>`.
        assert!(
            dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || dom.contains("&lt;script&gt;document.title='XSS'&lt;/script&gt;"),
            "hostile name not shown as text on {url}:\n{dom}"
        );
        assert!(
            !dom.contains("<script"),
            "a script element reached the DOM on {url}"
        );
        // The injected script would set the title to exactly `XSS`.
        assert!(
            title(&dom).ends_with(" – Koschei"),
            "the injected script ran on {url}"
        );
    }
    let dom = dump_dom(&pages[2]);
    assert_eq!(
        title(&dom),
        "&lt;script&gt;document.title='XSS'&lt;/script&gt; – Koschei"
    );
    screenshot(&pages[1], "hostile-package");
}
