//! The binary reads the shared configuration (`--config`): database, `[priorities]`,
//! `[frontend]`, Koji URLs; flags override the file; keys that would do nothing are refused.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use koschei_core::priority::{self, Priorities};

use crate::harness::{App, TestDb, seed, try_request};
use crate::process::{WebProcess, run_to_exit};

/// A configuration file in the temporary directory, removed when dropped.
pub(crate) struct ConfigFile(PathBuf);

impl ConfigFile {
    pub(crate) fn new(text: &str) -> ConfigFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "koschei-web-test-{}-{}.toml",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn get(web: &WebProcess, path: &str) -> String {
    let r = try_request(&web.url(), "GET", path, Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body
}

fn pos(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("expected {needle:?} in:\n{html}"))
}

#[allow(
    clippy::disallowed_methods,
    reason = "compares with what the server computes from its own clock"
)]
/// `rnv`'s current priority as the engine computes it with `weights`: manual 5 + static 7
/// + dependency 30 + the time priority since its last build (2017-10-05 10:00 UTC).
fn rnv_priority(weights: &Priorities) -> f64 {
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_197_600);
    let hours = priority::hours_between(started, SystemTime::now());
    42.0 + priority::time_priority(weights, hours)
}

#[test]
fn configuration_file_sets_database_priorities_pages_and_koji_links() {
    let db = TestDb::new();
    seed(&mut db.client());
    // `baz` built 50 hours ago with manual priority 200: below `rnv` (built in 2017) with the
    // default weights, above it with a low threshold.
    db.client()
        .batch_execute(
            "UPDATE build SET started = now() - interval '50 hours' WHERE id = 7;
             UPDATE package SET manual_priority = 200 WHERE name = 'baz';",
        )
        .unwrap();
    let weights = Priorities {
        build_threshold: 50,
        t0: 2.0,
        t1: 100.0,
        ..Priorities::default()
    };
    let file = ConfigFile::new(&format!(
        "[database]\nurl = \"{}\"\n\
         [koji]\nweburl = \"https://koji.conf.example/koji\"\ntopurl = \"https://pkgs.conf.example\"\n\
         [priorities]\nbuild_threshold = 50\nt0 = 2\nt1 = 100\n\
         [frontend]\npackages_per_page = 2\nbuilds_per_page = 1\nexternal_url = \"https://koschei.conf.example\"\n\
         [[links]]\nname = \"Sources\"\nurl = \"https://src.conf.example/rpms/{{package.name}}\"\n\
         [bugreport]\nurl = \"https://bugs.conf.example/new?{{query}}\"\n",
        db.url()
    ));
    let web = WebProcess::start_args(&["--config", file.path(), "--cache-ttl-ms", "0"], None);
    // The database of the file, its page size and Koji.
    let list = get(&web, "/packages?collection=f25&order_by=name");
    assert!(list.contains("Packages from 1 to 2 from total 7"), "{list}");
    let rnv = get(&web, "/package/rnv");
    assert!(
        rnv.contains("https://koji.conf.example/koji/taskinfo?taskID=456789"),
        "{rnv}"
    );
    assert!(
        rnv.contains("https://pkgs.conf.example/work/tasks/"),
        "{rnv}"
    );
    // The configured links replace the defaults; the bug form is the configured one.
    assert!(
        rnv.contains(r#"<a href="https://src.conf.example/rpms/rnv">Sources</a>"#),
        "{rnv}"
    );
    assert!(!rnv.contains(">Bodhi</a>"), "{rnv}");
    let r = try_request(
        &web.url(),
        "GET",
        "/bugreport/rnv?collection=f25",
        Duration::from_secs(5),
    )
    .unwrap();
    let location = r.header("location").unwrap_or_default();
    assert!(
        location.starts_with("https://bugs.conf.example/new?"),
        "{location}"
    );
    assert!(
        location.contains("bug_file_loc=https%3A%2F%2Fkoschei.conf.example%2Fpackage%2Frnv"),
        "{location}"
    );
    // One history entry per page: a link to older ones.
    assert!(rnv.contains("last_seen_ts="), "{rnv}");
    // The priority shown is the engine's with the configured weights.
    let api: serde_json::Value = serde_json::from_str(&get(&web, "/api/v1/packages/rnv")).unwrap();
    let shown = api["collections"][0]["current_priority"].as_f64().unwrap();
    assert!(
        (shown - rnv_priority(&weights)).abs() < 0.01,
        "{shown} != {}",
        rnv_priority(&weights)
    );
    assert!((shown - rnv_priority(&Priorities::default())).abs() > 100.0);
    // And the list sorts by it.
    let by_priority = get(&web, "/packages?collection=f25&order_by=-current_priority");
    assert!(
        pos(&by_priority, ">baz<") < pos(&by_priority, ">rnv<"),
        "{by_priority}"
    );

    // Flags override the file.
    let flagged = WebProcess::start_args(
        &[
            "--config",
            file.path(),
            "--packages-per-page",
            "3",
            "--koji-weburl",
            "https://koji.flag.example/koji",
        ],
        None,
    );
    assert!(
        get(&flagged, "/packages?collection=f25&order_by=name")
            .contains("Packages from 1 to 3 from total 7")
    );
    assert!(get(&flagged, "/package/rnv").contains("https://koji.flag.example/koji/taskinfo"));

    // Without a configuration, the default weights order them the other way.
    let default = WebProcess::start(&db.url(), &[], None);
    let by_priority = get(
        &default,
        "/packages?collection=f25&order_by=-current_priority",
    );
    assert!(
        pos(&by_priority, ">rnv<") < pos(&by_priority, ">baz<"),
        "{by_priority}"
    );
}

#[test]
fn frontend_keys_that_would_do_nothing_are_refused_at_start() {
    for (text, key) in [
        ("[frontend]\nsecret_key = \"s\"\n", "frontend.secret_key"),
        ("[frontend]\nfrontpage = \"nosuch\"\n", "frontend.frontpage"),
        (
            "[frontend]\npackages_per_page = 0\n",
            "frontend.packages_per_page",
        ),
    ] {
        let file = ConfigFile::new(text);
        let (code, err) = run_to_exit(&["--config", file.path()]);
        assert_eq!(code, Some(5), "{text}: {err}");
        assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
        assert!(err.contains(file.path()), "{text}: {err}");
    }
}

#[test]
fn the_configured_front_page_is_shown_at_the_root() {
    use koschei_core::config::Frontpage;
    let app = App::start_with(koschei_web::Options {
        frontpage: Frontpage::GroupDetail {
            namespace: None,
            name: "java".into(),
        },
        ..koschei_web::Options::default()
    });
    let r = app.get("/?collection=f25");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Group java"), "{}", r.body);
    assert!(
        r.body.contains(">rnv<") && !r.body.contains(">baz<"),
        "{}",
        r.body
    );
    // Other pages are where they were.
    assert!(app.get("/packages?collection=f25").body.contains(">baz<"));
    let app = App::start_with(koschei_web::Options {
        frontpage: Frontpage::CollectionList,
        ..koschei_web::Options::default()
    });
    let r = app.get("/");
    assert!(r.body.contains("Fedora Rawhide"), "{}", r.body);
    assert!(!r.body.contains("Package summary"), "{}", r.body);
}
