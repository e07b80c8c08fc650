//! What the RPM package ships: the spec parses, every systemd unit starts a command line the
//! binaries accept, the example configuration loads, and the generated man pages and
//! completions cover every subcommand.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use koschei_core::service::ServiceName;

use crate::support::{koschei_bin, koschei_web_bin, output_within};

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging")
}

/// `bin` with none of the caller's Koschei environment.
fn clean(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("KOSCHEI_CONFIG")
        .env_remove("KOSCHEI_DATABASE_URL")
        .env_remove("RUST_LOG");
    c
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = output_within(cmd, Duration::from_secs(60));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The expanded spec (`rpmspec -P`), as rpm sees it.
fn parsed_spec() -> String {
    let (ok, out, err) = run(Command::new("rpmspec")
        .arg("-P")
        .arg(packaging().join("koschei.spec")));
    assert!(ok, "rpmspec -P packaging/koschei.spec failed:\n{err}");
    out
}

fn spec_field<'a>(spec: &'a str, field: &str) -> &'a str {
    spec.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{field}:` in the spec"))
}

fn unit_files() -> Vec<PathBuf> {
    let mut units: Vec<PathBuf> = std::fs::read_dir(packaging().join("systemd"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    units.sort();
    units
}

#[test]
fn the_spec_parses_and_matches_the_workspace() {
    let spec = parsed_spec();
    assert_eq!(spec_field(&spec, "Version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(spec_field(&spec, "License"), "GPL-2.0-or-later");
    // Every unit in packaging/systemd is installed and listed, and nothing else is.
    let listed: BTreeSet<String> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("/usr/lib/systemd/system/"))
        .map(str::to_owned)
        .collect();
    let shipped: BTreeSet<String> = unit_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed, shipped, "%files vs packaging/systemd");
    for unit in &shipped {
        let service = unit
            .strip_prefix("koschei-")
            .and_then(|u| u.strip_suffix(".service"))
            .unwrap();
        let services = spec
            .lines()
            .find(|l| l.starts_with("for s in "))
            .expect("the install loop over the units");
        assert!(
            services
                .split_whitespace()
                .any(|w| w.trim_end_matches(';') == service),
            "{unit} is not installed by `{services}`"
        );
    }
}

#[test]
fn every_unit_runs_a_command_line_the_binaries_accept() {
    let units = unit_files();
    assert!(units.len() >= 6, "{units:?}");
    let mut engine_services = BTreeSet::new();
    for unit in &units {
        let text = std::fs::read_to_string(unit).unwrap();
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{}: no {key}=", unit.display()))
        };
        assert_eq!(get("User"), "koschei", "{}", unit.display());
        assert_eq!(get("Restart"), "on-failure", "{}", unit.display());
        assert_eq!(get("NoNewPrivileges"), "yes", "{}", unit.display());
        assert_eq!(get("RestartPreventExitStatus"), "5", "{}", unit.display());
        let mut words = get("ExecStart").split_whitespace();
        let bin = match words.next().unwrap() {
            "/usr/bin/koschei" => koschei_bin(),
            "/usr/bin/koschei-web" => koschei_web_bin(),
            other => panic!("{}: unknown program {other}", unit.display()),
        };
        let args: Vec<&str> = words.collect();
        if let Some(i) = args.iter().position(|a| *a == "--only") {
            let names: Vec<&str> = args[i + 1].split(',').collect();
            for name in ServiceName::parse_list(&names).unwrap() {
                engine_services.insert(name.to_string());
            }
        }
        let (ok, _, err) = run(clean(bin).args(&args).arg("--help"));
        assert!(ok, "{}: `{args:?} --help` refused:\n{err}", unit.display());
    }
    // One unit per engine service.
    let all: BTreeSet<String> = ServiceName::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(engine_services, all);
}

#[test]
fn the_example_configuration_loads_and_a_broken_copy_is_refused() {
    let config = packaging().join("config/config.toml");
    let messaging = packaging().join("config/config.d/50-messaging.toml");
    let files = format!("{}:{}", config.display(), messaging.display());
    let (ok, out, err) = run(clean(koschei_bin())
        .env("KOSCHEI_CONFIG", &files)
        .args(["config", "show", "--json"]));
    assert!(ok, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["koji"]["login_method"], "gssapi_login");
    assert_eq!(shown["fedmsg-publisher"]["enabled"], true);
    assert_eq!(
        shown["fedora-messaging"]["topic_prefix"],
        "org.fedoraproject.prod"
    );
    // The same file with a misspelt key is refused naming it: the check above can fail.
    let dir = std::env::temp_dir().join(format!("koschei-e2e-packaging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&broken, text.replace("max_builds", "max_bilds")).unwrap();
    let (ok, _, err) = run(clean(koschei_bin())
        .arg("--config")
        .arg(&broken)
        .args(["config", "show"]));
    assert!(!ok);
    assert!(err.contains("koji.max_bilds"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn man_pages_and_completions_cover_every_subcommand() {
    let dir = std::env::temp_dir().join(format!("koschei-e2e-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, _, err) = run(clean(koschei_bin()).arg("generate").arg("man").arg(&dir));
    assert!(ok, "{err}");
    let (ok, _, err) = run(clean(koschei_web_bin()).arg("--generate-man").arg(&dir));
    assert!(ok, "{err}");
    for page in [
        "koschei.1",
        "koschei-service-run.1",
        "koschei-run.1",
        "koschei-impact.1",
        "koschei-messaging-listen.1",
        "koschei-web.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
        assert!(text.contains(".SH NAME"), "{page}");
    }
    let service_run = std::fs::read_to_string(dir.join("koschei-service-run.1")).unwrap();
    assert!(service_run.contains("only"), "{service_run}");
    std::fs::remove_dir_all(&dir).unwrap();

    let (ok, bash, err) = run(clean(koschei_bin()).args(["generate", "completions", "bash"]));
    assert!(ok, "{err}");
    for word in ["service", "impact", "messaging", "--only", "--passive"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let (ok, zsh, err) = run(clean(koschei_web_bin()).args(["--generate-completions", "zsh"]));
    assert!(ok, "{err}");
    assert!(zsh.contains("--listen"), "{zsh}");
    let (ok, _, err) = run(clean(koschei_bin()).args(["generate", "completions", "tcsh"]));
    assert!(!ok && err.contains("tcsh"), "{err}");
}
