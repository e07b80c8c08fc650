//! The configuration loader (`Config::from_texts`): random mixes of known keys with valid
//! values load and keep the value of the last file that set them; an unknown key or a value
//! of the wrong type anywhere is refused naming its file, line and dotted key; damaged text
//! never panics.

use std::path::Path;

use koschei_core::config::{Config, Error, ErrorKind};

use koschei_fakehub::rng::{Rng, for_all};

const CASES: u64 = 400;

/// The type and valid range of a key.
#[derive(Clone, Copy)]
enum Kind {
    /// Integer in `lo..=hi`.
    Int(i64, i64),
    /// Float in `lo..hi` (integers are accepted too).
    Float(f64, f64),
    Bool,
    /// An http(s) URL.
    Url,
    /// A path or any text.
    Text,
    /// A non-empty list of arch names.
    Arches,
    /// An arch name.
    Arch,
}

/// Known keys: table (`""` for the root), key, kind.
const KEYS: &[(&str, &str, Kind)] = &[
    ("database", "pool_size", Kind::Int(1, 64)),
    ("koji", "server", Kind::Url),
    ("koji", "topurl", Kind::Url),
    ("koji", "weburl", Kind::Url),
    ("koji", "max_builds", Kind::Int(0, 1000)),
    ("koji", "build_arches", Kind::Arches),
    ("koji", "load_threshold", Kind::Float(0.0, 1.0)),
    ("koji", "task_priority", Kind::Int(-1000, 1000)),
    ("koji", "task_timeout", Kind::Int(1, 1_000_000)),
    ("koji", "multicall_chunk_size", Kind::Int(1, 1000)),
    ("koji", "build_from_repo_id", Kind::Bool),
    ("koji", "retries", Kind::Int(0, 100)),
    ("koji", "connect_timeout", Kind::Int(1, 600)),
    ("koji", "timeout", Kind::Int(1, 7200)),
    ("dependency", "ignore_weak_deps", Kind::Bool),
    ("dependency", "persist_chunk_size", Kind::Int(1, 1000)),
    ("dependency", "cache_l2_capacity", Kind::Int(1, 500)),
    ("dependency", "repo_arch", Kind::Arch),
    ("priorities", "newly_added", Kind::Int(-100_000, 100_000)),
    (
        "priorities",
        "build_threshold",
        Kind::Int(-100_000, 100_000),
    ),
    ("priorities", "package_update", Kind::Int(-100_000, 100_000)),
    (
        "priorities",
        "failed_build_priority",
        Kind::Int(-100_000, 100_000),
    ),
    ("priorities", "t0", Kind::Float(0.0, 100.0)),
    ("priorities", "t1", Kind::Float(200.0, 1000.0)),
    ("services.polling", "interval", Kind::Float(0.0, 10_000.0)),
    ("dependency", "perf_report_interval", Kind::Int(0, 3600)),
    ("services.scheduler", "interval", Kind::Float(0.0, 10_000.0)),
    (
        "services.repo_resolver",
        "interval",
        Kind::Float(0.0, 10_000.0),
    ),
    ("directories", "cachedir", Kind::Text),
    ("frontend", "packages_per_page", Kind::Int(1, 10_000)),
    ("frontend", "builds_per_page", Kind::Int(1, 10_000)),
];

fn valid(rng: &mut Rng, kind: Kind) -> toml::Value {
    use toml::Value as V;
    match kind {
        Kind::Int(lo, hi) => V::Integer(lo + (rng.next() % (hi - lo + 1) as u64) as i64),
        Kind::Float(lo, hi) => {
            if rng.chance(30) {
                V::Integer((lo.ceil() as i64).max(0))
            } else {
                V::Float(lo + (hi - lo) * (rng.below(1_000_000) as f64 / 1_000_000.0))
            }
        }
        Kind::Bool => V::Boolean(rng.chance(50)),
        Kind::Url => V::String(format!(
            "{}://{}.example.org/{}",
            rng.pick(&["http", "https"]),
            rng.word(8),
            rng.text(10)
        )),
        Kind::Text => V::String(format!("/srv/{}", rng.text(20))),
        Kind::Arches => V::Array(
            (0..1 + rng.below(4))
                .map(|_| {
                    V::String(
                        (*rng.pick(&["x86_64", "aarch64", "i686", "ppc64le", "s390x"])).to_owned(),
                    )
                })
                .collect(),
        ),
        Kind::Arch => V::String((*rng.pick(&["x86_64", "aarch64", "i686"])).to_owned()),
    }
}

/// A value of another TOML type than `kind` accepts.
fn wrong(rng: &mut Rng, kind: Kind) -> toml::Value {
    use toml::Value as V;
    let text = || V::String("seven".to_owned());
    match kind {
        Kind::Int(..) => rng
            .pick(&[text(), V::Boolean(true), V::Float(1.5), V::Array(vec![])])
            .clone(),
        Kind::Float(..) => rng.pick(&[text(), V::Boolean(false)]).clone(),
        Kind::Bool => rng.pick(&[text(), V::Integer(1)]).clone(),
        Kind::Url | Kind::Text | Kind::Arch => rng
            .pick(&[V::Integer(3), V::Boolean(true), V::Array(vec![text()])])
            .clone(),
        Kind::Arches => rng.pick(&[text(), V::Integer(3)]).clone(),
    }
}

/// TOML text of `v`, in one of its spellings.
fn spell(rng: &mut Rng, v: &toml::Value) -> String {
    match v {
        toml::Value::Integer(i) if *i >= 0 && rng.chance(20) => format!("0x{i:x}"),
        toml::Value::Integer(i) if *i > 1000 && rng.chance(30) => {
            let s = i.to_string();
            let (a, b) = s.split_at(s.len() - 3);
            format!("{a}_{b}")
        }
        toml::Value::String(s) if rng.chance(30) && !s.contains(['\'', '\n', '\r']) => {
            format!("'{s}'")
        }
        other => other.to_string(),
    }
}

/// One configuration file being written: its lines, and the line each key landed on.
struct File {
    lines: Vec<String>,
    /// (dotted key, value, 1-based line).
    keys: Vec<(String, toml::Value, usize)>,
}

/// Writes `entries` (table, key, TOML text) as a file: root keys first, then one header per
/// table in random order, with comments and blank lines between.
fn write_file(rng: &mut Rng, entries: &[(&str, &str, String, toml::Value)]) -> File {
    let mut tables: Vec<&str> = Vec::new();
    for (t, ..) in entries {
        if !tables.contains(t) {
            tables.push(t);
        }
    }
    tables.sort_by_key(|t| (!t.is_empty(), rng.next()));
    let mut f = File {
        lines: Vec::new(),
        keys: Vec::new(),
    };
    for table in tables {
        if rng.chance(20) {
            f.lines
                .push(format!("# {}", rng.text(20).replace(['\n', '\r'], " ")));
        }
        if !table.is_empty() {
            f.lines.push(format!("[{table}]"));
        }
        for (t, key, text, value) in entries.iter().filter(|e| e.0 == table) {
            if rng.chance(10) {
                f.lines.push(String::new());
            }
            let sep = rng.pick(&[" = ", "=", "  =  "]);
            let comment = if rng.chance(15) { " # set here" } else { "" };
            f.lines.push(format!("{key}{sep}{text}{comment}"));
            let dotted = if t.is_empty() {
                (*key).to_owned()
            } else {
                format!("{t}.{key}")
            };
            f.keys.push((dotted, value.clone(), f.lines.len()));
        }
    }
    f
}

/// A random set of distinct known keys with valid values, as (table, key, text, value).
fn valid_entries(rng: &mut Rng) -> Vec<(&'static str, &'static str, String, toml::Value)> {
    let mut out = Vec::new();
    for (t, k, kind) in KEYS {
        if rng.chance(35) {
            let v = valid(rng, *kind);
            out.push((*t, *k, spell(rng, &v), v));
        }
    }
    out
}

fn load(files: &[(&str, &File)]) -> Result<Config, Error> {
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|(name, f)| ((*name).to_owned(), f.lines.join("\n") + "\n"))
        .collect();
    let refs: Vec<(&Path, &str)> = texts
        .iter()
        .map(|(n, t)| (Path::new(n.as_str()), t.as_str()))
        .collect();
    Config::from_texts(&refs, None)
}

/// The merged raw configuration's value at a dotted key.
fn raw_value(config: &Config, dotted: &str) -> Option<toml::Value> {
    let mut v = toml::Value::try_from(config.raw()).ok()?;
    // `services.polling.interval` has two dots inside a table name; walk known tables.
    let (table, key) = match dotted.rsplit_once('.') {
        Some((t, k)) => (Some(t), k),
        None => (None, dotted),
    };
    if let Some(table) = table {
        for part in table.split('.') {
            v = v.get(part)?.clone();
        }
    }
    v.get(key).cloned()
}

fn same(a: &toml::Value, b: &toml::Value) -> bool {
    match (a, b) {
        (toml::Value::Float(x), toml::Value::Integer(y))
        | (toml::Value::Integer(y), toml::Value::Float(x)) => *x == *y as f64,
        _ => a == b,
    }
}

#[test]
fn valid_values_load_and_the_last_file_wins() {
    let mut checked = 0u64;
    for_all(21, CASES, |rng, case| {
        let first = valid_entries(rng);
        let second = valid_entries(rng);
        let a = write_file(rng, &first);
        let b = write_file(rng, &second);
        let text = || format!("{}\n----\n{}", a.lines.join("\n"), b.lines.join("\n"));
        let config = match load(&[("10-a.toml", &a), ("20-b.toml", &b)]) {
            Ok(c) => c,
            Err(e) => panic!("case {case}: {e}\n{}", text()),
        };
        for (key, value, _) in &a.keys {
            let want = b
                .keys
                .iter()
                .find(|(k, ..)| k == key)
                .map_or(value, |(_, v, _)| v);
            let got = raw_value(&config, key).unwrap_or_else(|| panic!("case {case}: no {key}"));
            assert!(
                same(&got, want),
                "case {case}: {key} = {got:?}, wrote {want:?}\n{}",
                text()
            );
        }
        for (key, value, _) in &b.keys {
            let got = raw_value(&config, key).unwrap_or_else(|| panic!("case {case}: no {key}"));
            assert!(
                same(&got, value),
                "case {case}: {key} = {got:?}, wrote {value:?}\n{}",
                text()
            );
        }
        checked += (a.keys.len() + b.keys.len()) as u64;
    });
    assert!(checked > CASES * 10, "only {checked} keys checked");
}

#[test]
fn an_unknown_key_is_refused_naming_file_line_and_key() {
    for_all(22, CASES, |rng, case| {
        let mut entries = valid_entries(rng);
        let tables = [
            "",
            "koji",
            "dependency",
            "priorities",
            "directories",
            "services.polling",
        ];
        let table = *rng.pick(&tables);
        let bogus = format!("bogus_{}", rng.word(6));
        let v = valid(rng, Kind::Int(0, 9));
        let at = rng.below(entries.len() + 1);
        entries.insert(
            at,
            (
                table,
                Box::leak(bogus.clone().into_boxed_str()),
                spell(rng, &v),
                v,
            ),
        );
        let good_entries = valid_entries(rng);
        let good = write_file(rng, &good_entries);
        let bad = write_file(rng, &entries);
        let dotted = if table.is_empty() {
            bogus.clone()
        } else {
            format!("{table}.{bogus}")
        };
        let line = bad
            .keys
            .iter()
            .find(|(k, ..)| *k == dotted)
            .expect("written")
            .2;
        let err = load(&[("good.toml", &good), ("bad.toml", &bad)])
            .expect_err(&format!("case {case}: {dotted} accepted"));
        match &err {
            Error::File {
                path,
                line: l,
                key,
                kind: ErrorKind::UnknownKey,
                ..
            } => {
                assert_eq!(path, Path::new("bad.toml"), "case {case}: {err}");
                assert_eq!(*l, line, "case {case}: {err}\n{}", bad.lines.join("\n"));
                assert_eq!(key, &dotted, "case {case}: {err}");
            }
            other => panic!("case {case}: {other}\n{}", bad.lines.join("\n")),
        }
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("`bad.toml` line {line}")),
            "case {case}: {msg}"
        );
    });
}

#[test]
fn a_value_of_the_wrong_type_is_refused_naming_file_line_and_key() {
    for_all(23, CASES, |rng, case| {
        let mut entries = valid_entries(rng);
        let (table, key, kind) = *rng.pick(KEYS);
        entries.retain(|e| !(e.0 == table && e.1 == key));
        let v = wrong(rng, kind);
        let at = rng.below(entries.len() + 1);
        entries.insert(at, (table, key, spell(rng, &v), v));
        let bad = write_file(rng, &entries);
        let dotted = if table.is_empty() {
            key.to_owned()
        } else {
            format!("{table}.{key}")
        };
        let line = bad
            .keys
            .iter()
            .find(|(k, ..)| *k == dotted)
            .expect("written")
            .2;
        let err = load(&[("bad.toml", &bad)]).expect_err(&format!("case {case}: accepted"));
        match &err {
            Error::File {
                path,
                line: l,
                key: k,
                kind: ErrorKind::WrongType,
                ..
            } => {
                assert_eq!(path, Path::new("bad.toml"), "case {case}: {err}");
                assert_eq!(*l, line, "case {case}: {err}\n{}", bad.lines.join("\n"));
                assert_eq!(k, &dotted, "case {case}: {err}");
            }
            other => panic!("case {case}: {other}\n{}", bad.lines.join("\n")),
        }
    });
}

#[test]
fn damaged_files_never_panic_and_errors_point_into_the_file() {
    for_all(24, CASES * 2, |rng, case| {
        let entries = valid_entries(rng);
        let f = write_file(rng, &entries);
        let text = f.lines.join("\n") + "\n";
        let damaged = String::from_utf8_lossy(&rng.mutate(text.as_bytes())).into_owned();
        let lines = damaged.lines().count().max(1);
        match Config::from_texts(&[(Path::new("x.toml"), &damaged)], None) {
            Ok(_) => {}
            Err(Error::File { path, line, .. }) => {
                assert_eq!(path, Path::new("x.toml"), "case {case}");
                assert!(
                    line >= 1 && line <= lines + 1,
                    "case {case}: line {line} of {lines}\n{damaged}"
                );
            }
            Err(e) => assert!(!e.to_string().is_empty(), "case {case}"),
        }
    });
}
