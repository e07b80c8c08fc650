//! Configuration loading: merge order, overrides and every error kind.

use std::time::Duration;

use koschei_core::config::{Config, ConfigSources, Error, ErrorKind};

use crate::support::TempDir;

fn sources(dir: &TempDir, extra: &[&str]) -> ConfigSources {
    ConfigSources {
        system_dir: Some(dir.path().join("etc")),
        extra_files: extra.iter().map(|f| dir.path().join(f)).collect(),
        database_url: None,
        proxy_vars: Vec::new(),
    }
}

#[test]
fn later_files_override_earlier_ones_in_documented_order() {
    let dir = TempDir::new("cfg-order");
    dir.write(
        "etc/config.toml",
        "[koji]\nmax_builds = 1\ntask_priority = 1\nload_threshold = 0.1\n[priorities]\nt0 = 1\n",
    );
    // Name order, not creation order: 20 is written first but merged last of the two.
    dir.write(
        "etc/config.d/20-b.toml",
        "[koji]\ntask_priority = 20\nload_threshold = 0.2\n",
    );
    dir.write(
        "etc/config.d/10-a.toml",
        "[koji]\ntask_priority = 10\nmax_builds = 10\n",
    );
    dir.write("etc/config.d/ignored.txt", "this is not toml [");
    dir.write("local.toml", "[koji]\nload_threshold = 0.9\n");
    let c = Config::load(&sources(&dir, &["local.toml"])).unwrap();
    assert_eq!(c.koji.max_builds, 10);
    assert_eq!(c.koji.task_priority, 20);
    assert_eq!(c.koji.load_threshold, 0.9);
    // Untouched keys keep the defaults, touched tables merge recursively.
    assert_eq!(c.priorities.t0, 1.0);
    assert_eq!(c.priorities.t1, 168.0);
    assert_eq!(c.koji.server, "https://koji.fedoraproject.org/kojihub");
    let files: Vec<String> = c
        .files()
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        files,
        [
            "etc/config.toml",
            "etc/config.d/10-a.toml",
            "etc/config.d/20-b.toml",
            "local.toml"
        ]
    );
}

#[test]
fn lists_are_replaced_not_appended() {
    let dir = TempDir::new("cfg-list");
    dir.write("a.toml", "[koji]\nbuild_arches = [\"x86_64\"]\n");
    let c = Config::load(&sources(&dir, &["a.toml"])).unwrap();
    assert_eq!(c.koji.build_arches, ["x86_64"]);
}

#[test]
fn missing_system_dir_gives_defaults() {
    let dir = TempDir::new("cfg-empty");
    let c = Config::load(&sources(&dir, &[])).unwrap();
    assert!(c.files().is_empty());
    assert_eq!(c.service("polling").interval, Duration::from_secs(1200));
}

#[test]
fn environment_database_url_overrides_files() {
    let dir = TempDir::new("cfg-env");
    dir.write(
        "etc/config.toml",
        "[database]\nurl = \"postgresql://a@file/db\"\n",
    );
    let mut s = sources(&dir, &[]);
    let c = Config::load(&s).unwrap();
    assert_eq!(
        c.database.url.as_ref().unwrap().expose(),
        "postgresql://a@file/db"
    );
    s.database_url = Some("postgresql://b:pw@env/db".to_owned());
    let c = Config::load(&s).unwrap();
    assert_eq!(
        c.database.url.as_ref().unwrap().expose(),
        "postgresql://b:pw@env/db"
    );
}

#[test]
fn proxy_variables_become_the_proxies_and_a_bad_one_names_its_variable() {
    let dir = TempDir::new("cfg-proxy");
    let mut s = sources(&dir, &[]);
    assert_eq!(
        Config::load(&s).unwrap().proxies,
        koschei_core::config::Proxies::none()
    );
    s.proxy_vars = vec![
        (
            "https_proxy".to_owned(),
            "http://proxy.example:3128".to_owned(),
        ),
        ("NO_PROXY".to_owned(), ".example.org".to_owned()),
    ];
    let c = Config::load(&s).unwrap();
    assert_eq!(
        c.proxies
            .for_url("https://kojipkgs.example/repos")
            .map(|p| p.expose()),
        Some("http://proxy.example:3128")
    );
    assert_eq!(c.proxies.for_url("https://copr.example.org/results"), None);
    assert_eq!(c.proxies.for_url("http://kojipkgs.example/repos"), None);
    s.proxy_vars = vec![("ALL_PROXY".to_owned(), "nonsense://x".to_owned())];
    let e = Config::load(&s).unwrap_err();
    assert!(matches!(e, Error::Value { .. }), "{e:?}");
    assert!(e.to_string().contains("`ALL_PROXY`"), "{e}");
}

#[test]
fn missing_extra_file_is_an_error_naming_it() {
    let dir = TempDir::new("cfg-missing");
    let e = Config::load(&sources(&dir, &["nope.toml"])).unwrap_err();
    assert!(matches!(e, Error::Read { .. }));
    assert!(e.to_string().contains("nope.toml"), "{e}");
}

fn file_error(text: &str) -> (Error, String) {
    let dir = TempDir::new("cfg-err");
    dir.write("etc/config.d/50-bad.toml", text);
    let e = Config::load(&sources(&dir, &[])).unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

#[test]
fn syntax_error_names_file_line_and_key() {
    let (e, msg) = file_error("[koji]\nmax_builds = 3\ntask_priority = = 4\n");
    assert_eq!(e.kind(), Some(ErrorKind::Syntax));
    assert!(msg.contains("50-bad.toml` line 3"), "{msg}");
    assert!(
        msg.contains("key `task_priority`") || msg.contains("key `koji.task_priority`"),
        "{msg}"
    );
}

#[test]
fn unclosed_table_header_names_the_table() {
    let (e, msg) = file_error("[priorities]\nt0 = 1\n[koji\nmax_builds = 3\n");
    assert_eq!(e.kind(), Some(ErrorKind::Syntax));
    assert!(msg.contains("line 3, key `koji`"), "{msg}");
}

#[test]
fn wrong_type_names_file_line_and_key() {
    let (e, msg) =
        file_error("# comment\n[koji]\nserver = \"https://k/kojihub\"\nmax_builds = \"thirty\"\n");
    assert_eq!(e.kind(), Some(ErrorKind::WrongType));
    assert!(msg.contains("50-bad.toml` line 4"), "{msg}");
    assert!(msg.contains("key `koji.max_builds`"), "{msg}");
    assert!(msg.contains("wrong type"), "{msg}");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let (e, msg) = file_error(
        "[priorities]\nt0 = 1\n\n[dependency]\nignore_weak_deps = true\nbogus_key = 1\n",
    );
    assert_eq!(e.kind(), Some(ErrorKind::UnknownKey));
    assert!(msg.contains("50-bad.toml` line 6"), "{msg}");
    assert!(msg.contains("key `dependency.bogus_key`"), "{msg}");
}

#[test]
fn unknown_top_level_table_is_refused() {
    let (e, msg) = file_error("[kojii]\nserver = \"x\"\n");
    assert_eq!(e.kind(), Some(ErrorKind::UnknownKey));
    assert!(msg.contains("line 1"), "{msg}");
    assert!(msg.contains("key `kojii`"), "{msg}");
}

#[test]
fn wrong_type_inside_array_of_tables_names_the_key() {
    let (e, msg) = file_error(
        "[[links]]\nname = \"A\"\nurl = \"https://a\"\n[[links]]\nname = 5\nurl = \"https://b\"\n",
    );
    assert_eq!(e.kind(), Some(ErrorKind::WrongType));
    assert!(msg.contains("line 5"), "{msg}");
    assert!(msg.contains("key `links.name`"), "{msg}");
}

#[test]
fn invalid_value_names_origin_file() {
    let (e, msg) = file_error("[koji]\nload_threshold = 1.5\n");
    assert_eq!(e.kind(), Some(ErrorKind::Invalid));
    assert!(msg.contains("koji.load_threshold"), "{msg}");
    assert!(msg.contains("50-bad.toml` line 2"), "{msg}");
}

#[test]
fn config_show_masks_secrets() {
    let dir = TempDir::new("cfg-mask");
    dir.write(
        "etc/config.toml",
        "[database]\nurl = \"postgresql://koschei:hunter2@db/koschei\"\n[[links]]\nname = \"x\"\nurl = \"host=h password=s3cr3t\"\n",
    );
    let c = Config::load(&sources(&dir, &[])).unwrap();
    let toml_text = c.to_masked_toml();
    let json_text = c.to_masked_json().to_string();
    for text in [&toml_text, &json_text] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(
            text.contains("postgresql://koschei:********@db/koschei"),
            "{text}"
        );
    }
    // The rendered TOML is itself a valid configuration.
    let dir2 = TempDir::new("cfg-roundtrip");
    dir2.write("etc/config.toml", &toml_text);
    Config::load(&sources(&dir2, &[])).unwrap();
}

#[test]
fn keys_that_would_do_nothing_or_break_are_refused_naming_the_key() {
    for (text, key, says) in [
        (
            "[services.polling]\ninterval = 1e20\n",
            "services.polling.interval",
            "from 0 to 604800",
        ),
        (
            "[services.polling]\ninterval = -1\n",
            "services.polling.interval",
            "from 0 to 604800",
        ),
        (
            "[services.nosuch]\ninterval = 5\n",
            "services.nosuch",
            "unknown service `nosuch`",
        ),
        (
            "[services.watcher]\ninterval = 5\n",
            "services.watcher",
            "koschei messaging listen",
        ),
        (
            "[services.polling]\nmemory_limit = 100\n",
            "services.polling.memory_limit",
            "MemoryMax",
        ),
        (
            "[services.scheduler]\nvirtual_memory_limit = 1\n",
            "services.scheduler.virtual_memory_limit",
            "LimitAS",
        ),
        (
            "[services.polling]\nwatchdog = true\n",
            "services.polling.watchdog",
            "Restart=on-failure",
        ),
        (
            "plugins = [\"copr\"]\n",
            "plugins",
            "plugin `copr` is not available",
        ),
        (
            "[logging]\nfilter = \"info,[x]=debug\"\n",
            "logging.filter",
            "is not a log directive",
        ),
        (
            "[logging]\nfilter = \"koschei=loud\"\n",
            "logging.filter",
            "is not a log directive",
        ),
        (
            "[dependency]\nresolver_queue_size = 30\n",
            "dependency.resolver_queue_size",
            "has no effect",
        ),
        (
            "[dependency]\ndependency_cache_capacity = 1\n",
            "dependency.dependency_cache_capacity",
            "has no effect",
        ),
        (
            "[dependency]\nresolve_for_arch = \"aarch64\"\n",
            "dependency.resolve_for_arch",
            "repo_arch",
        ),
        (
            "real_builds_insert_chunk = 10\n",
            "real_builds_insert_chunk",
            "has no effect",
        ),
        (
            "[directories]\ntemplates = \"/x\"\n",
            "directories.templates",
            "built into koschei-web",
        ),
        (
            "[koji]\nrepo_url = \"https://k/repos\"\n",
            "koji.repo_url",
            "has no effect",
        ),
    ] {
        let (_, msg) = file_error(text);
        assert!(msg.contains(&format!("key `{key}`")), "{text}: {msg}");
        assert!(msg.contains("50-bad.toml"), "{text}: {msg}");
        assert!(msg.contains(says), "{text}: {msg}");
    }
}

#[test]
fn the_originals_defaults_and_working_values_of_those_keys_load() {
    let dir = TempDir::new("cfg-inert-defaults");
    dir.write(
        "etc/config.toml",
        "real_builds_insert_chunk = 50\nplugins = []\n[dependency]\nresolver_queue_size = 300\n\
         dependency_cache_capacity = 3000\nresolve_for_arch = \"x86_64\"\nperf_report_interval = 0\n\
         [services.polling]\ninterval = 0.5\nwatchdog = false\n[services.repo_resolver]\n\
         [logging]\nfilter = \"info, koschei_core=debug,tiny_http=warn,koschei_web::access=OFF\"\n",
    );
    let c = Config::load(&sources(&dir, &[])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.service("polling").interval, Duration::from_millis(500));
}
