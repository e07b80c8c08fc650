//! `koschei resolve` and `koschei impact` with `--previous`, through the binary,
//! on the solver's `incremental` fixture (no database).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{koschei, run};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../koschei-solver/tests/data/incremental")
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(label: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!(
            "koschei-cli-offline-{}-{label}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `koschei <args> --cache-dir <tmp>/cache`; returns (code, stdout, stderr).
fn offline(tmp: &Tmp, args: &[&str]) -> (i32, String, String) {
    let mut c = koschei(None);
    c.args(args).arg("--cache-dir").arg(tmp.0.join("cache"));
    run(c)
}

fn ok(tmp: &Tmp, args: &[&str]) -> (String, String) {
    let (code, out, err) = offline(tmp, args);
    assert_eq!(code, 0, "koschei {args:?}:\n{out}\n{err}");
    (out, err)
}

/// The package lines and the summary of a `--json` output.
fn split(out: &str) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.pop().unwrap()["summary"].clone();
    assert!(summary.is_object(), "last line is the summary: {out}");
    (lines, summary)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The fixture's states, and `koschei resolve --json` of the old one written
/// to `<tmp>/old.json`.
struct Setup {
    old: PathBuf,
    new: PathBuf,
    src: PathBuf,
    prev: PathBuf,
    old_out: String,
}

fn setup(tmp: &Tmp) -> Setup {
    let fx = fixture();
    let (old, new, src) = (fx.join("old"), fx.join("new"), fx.join("source"));
    let (old_out, _) = resolve_json(tmp, &old, &src, &[]);
    let prev = tmp.0.join("old.json");
    std::fs::write(&prev, &old_out).unwrap();
    Setup {
        old,
        new,
        src,
        prev,
        old_out,
    }
}

/// `koschei resolve --repo REPO --sources SRC --json EXTRA...`, expected to succeed.
fn resolve_json(tmp: &Tmp, repo: &Path, src: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "resolve",
        "--repo",
        path(repo),
        "--sources",
        path(src),
        "--json",
    ];
    args.extend(extra);
    ok(tmp, &args)
}

#[test]
fn resolve_with_previous_equals_a_full_run_and_says_what_it_solved() {
    let tmp = Tmp::new("resolve");
    let s = setup(&tmp);
    let (full, _) = resolve_json(&tmp, &s.new, &s.src, &[]);
    let (inc, _) = resolve_json(&tmp, &s.new, &s.src, &["--previous", path(&s.prev)]);
    let (full_lines, _) = split(&full);
    let (inc_lines, summary) = split(&inc);
    assert_eq!(inc_lines, full_lines);
    let incremental = &summary["incremental"];
    assert!(incremental.get("fallback").is_none(), "{summary}");
    let solved = incremental["solved_again"].as_u64().unwrap();
    let reused = incremental["reused"].as_u64().unwrap();
    assert_eq!(solved + reused, full_lines.len() as u64);
    assert_eq!(
        reused, 3,
        "stable, bumped and multilib-rebuilt are carried over: {summary}"
    );
    // The old repository is found through the path the previous summary records.
    let (old_lines, old_summary) = split(&s.old_out);
    let canonical = std::fs::canonicalize(&s.old).unwrap();
    assert_eq!(old_summary["repo"].as_str(), Some(path(&canonical)));
    assert_eq!(old_lines.len(), full_lines.len());
}

#[test]
fn previous_output_for_another_repository_means_a_full_run_and_says_so() {
    let tmp = Tmp::new("fallback");
    let s = setup(&tmp);
    let (full, _) = resolve_json(&tmp, &s.new, &s.src, &[]);
    // Claim the previous output belongs to the new repository: the checksums differ.
    let extra = ["--previous", path(&s.prev), "--old-repo", path(&s.new)];
    let (out, err) = resolve_json(&tmp, &s.new, &s.src, &extra);
    assert!(err.contains("cannot use previous output"), "{err}");
    let (lines, summary) = split(&out);
    assert_eq!(lines, split(&full).0);
    let why = summary["incremental"]["fallback"].as_str().unwrap();
    assert!(why.contains("checksum"), "{why}");
    assert_eq!(summary["solves"].as_u64(), Some(lines.len() as u64));
}

#[test]
fn previous_output_of_another_answers_version_means_a_full_run_and_says_so() {
    let tmp = Tmp::new("answers-version");
    let s = setup(&tmp);
    let (full, _) = resolve_json(&tmp, &s.new, &s.src, &[]);
    // An output of a resolver with other rules: an older one records no
    // version, a newer one a higher number.
    let (lines, summary) = split(&s.old_out);
    for version in [None, Some(99)] {
        let mut summary = summary.clone();
        match version {
            None => summary.as_object_mut().unwrap().remove("answers_version"),
            Some(v) => summary
                .as_object_mut()
                .unwrap()
                .insert("answers_version".into(), v.into()),
        };
        let mut text = String::new();
        for l in lines
            .iter()
            .chain([&serde_json::json!({ "summary": summary })])
        {
            text.push_str(&l.to_string());
            text.push('\n');
        }
        let prev = tmp.0.join("other-version.json");
        std::fs::write(&prev, text).unwrap();
        let (out, err) = resolve_json(&tmp, &s.new, &s.src, &["--previous", path(&prev)]);
        assert!(err.contains("cannot use previous output"), "{err}");
        let (new_lines, new_summary) = split(&out);
        assert_eq!(new_lines, split(&full).0);
        let why = new_summary["incremental"]["fallback"].as_str().unwrap();
        assert!(why.contains("answers version"), "{why}");
        assert_eq!(new_summary["solves"].as_u64(), Some(new_lines.len() as u64));
    }
}

#[test]
fn impact_with_previous_equals_a_full_impact() {
    let tmp = Tmp::new("impact");
    let s = setup(&tmp);
    let args = [
        "impact",
        "--old-repo",
        path(&s.old),
        "--new-repo",
        path(&s.new),
        "--sources",
        path(&s.src),
        "--json",
    ];
    let (full, _) = ok(&tmp, &args);
    let mut with_previous = args.to_vec();
    with_previous.extend(["--previous", path(&s.prev)]);
    let (inc, _) = ok(&tmp, &with_previous);
    let (full_lines, _) = split(&full);
    let (inc_lines, summary) = split(&inc);
    assert_eq!(inc_lines, full_lines);
    assert!(summary["incremental"]["solved_again"].as_u64().unwrap() < full_lines.len() as u64);
    // The carried-over `bumped` has its change with a distance, as in the full run.
    let bumped = inc_lines.iter().find(|l| l["name"] == "bumped").unwrap();
    assert_eq!(bumped["status"], "changed");
    assert!(bumped["changes"][0]["distance"].is_u64(), "{bumped}");
}

#[test]
fn a_malformed_previous_output_is_an_error_naming_file_and_line() {
    let tmp = Tmp::new("malformed");
    let fx = fixture();
    let prev = tmp.0.join("broken.json");
    std::fs::write(&prev, "{\"name\":\"x\",\"evr\":\"0:1-1\",\"resolved\":true,\"installs\":[],\"problems\":[]}\nnot json\n").unwrap();
    let (code, _, err) = offline(
        &tmp,
        &[
            "resolve",
            "--repo",
            path(&fx.join("new")),
            "--sources",
            path(&fx.join("source")),
            "--previous",
            path(&prev),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("broken.json") && err.contains("line 2"),
        "{err}"
    );
}

/// The `dependency_priority` of package `name` in an `impact --json` output.
fn impact_priority(out: &str, name: &str) -> i64 {
    let (lines, _) = split(out);
    lines
        .iter()
        .find(|l| l["name"] == name)
        .and_then(|l| l["dependency_priority"].as_i64())
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

#[test]
fn impact_uses_the_configured_priority_weight_and_the_flag_overrides_it() {
    let tmp = Tmp::new("impact-priorities");
    let data =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../koschei-solver/tests/data/impact");
    let (old, new, src) = (data.join("old"), data.join("new"), data.join("source"));
    let args = [
        "impact",
        "--old-repo",
        path(&old),
        "--new-repo",
        path(&new),
        "--sources",
        path(&src),
        "--json",
    ];
    // Defaults: 256 / 2 + 256 / 3 for uses-foo (README example).
    let (out, _) = ok(&tmp, &args);
    assert_eq!(impact_priority(&out, "uses-foo"), 213);
    // The configuration's [priorities] package_update (as the scheduler uses it).
    let config = tmp.0.join("koschei.toml");
    std::fs::write(&config, "[priorities]\npackage_update = 512\n").unwrap();
    let mut c = koschei(None);
    c.args(args)
        .arg("--cache-dir")
        .arg(tmp.0.join("cache"))
        .env("KOSCHEI_CONFIG", &config);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(impact_priority(&out, "uses-foo"), 426);
    // The flag wins over the file.
    let mut c = koschei(None);
    c.args(args)
        .args(["--package-update", "100", "--cache-dir"])
        .arg(tmp.0.join("cache"))
        .env("KOSCHEI_CONFIG", &config);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(impact_priority(&out, "uses-foo"), 83);
}
