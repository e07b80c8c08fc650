//! Shared setup of the engine benchmarks: the debian-bookworm data and a throwaway database.
#![allow(
    dead_code,
    clippy::expect_used,
    clippy::unwrap_used,
    missing_docs,
    unreachable_pub
)]

use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use postgres::{Client, NoTls};

/// (name, epoch, version, release, arch) of every package in a primary.xml.gz.
pub fn primary(kind: &str) -> Vec<(String, i32, String, String, String)> {
    let rel = format!("shared/data/debian-bookworm/{kind}/repodata/primary.xml.gz");
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = [base.join("../..").join(&rel), base.join("..").join(&rel)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{rel} not found beside the repository"));
    let file = std::fs::File::open(&path).expect("open primary");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    let (mut name, mut arch) = (None, None);
    for line in reader.lines() {
        let line = line.expect("read primary");
        let t = line.trim();
        if let Some(n) = t
            .strip_prefix("<name>")
            .and_then(|r| r.strip_suffix("</name>"))
        {
            name = Some(n.to_owned());
        } else if let Some(a) = t
            .strip_prefix("<arch>")
            .and_then(|r| r.strip_suffix("</arch>"))
        {
            arch = Some(a.to_owned());
        } else if let (Some(rest), Some(n), Some(a)) =
            (t.strip_prefix("<version "), name.take(), arch.take())
        {
            let attr = |k: &str| {
                let key = format!("{k}=\"");
                rest.split_once(key.as_str())
                    .and_then(|(_, r)| r.split_once('"'))
                    .map(|(v, _)| v.to_owned())
                    .unwrap_or_default()
            };
            out.push((
                n,
                attr("epoch").parse().unwrap_or(0),
                attr("ver"),
                attr("rel"),
                a,
            ));
        }
    }
    out
}

#[allow(
    clippy::disallowed_methods,
    reason = "benchmark reads its database URL"
)]
fn admin_url() -> String {
    std::env::var("KOSCHEI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A migrated database, dropped with the value.
pub struct BenchDb {
    admin: String,
    name: String,
    pub url: String,
}

impl BenchDb {
    pub fn new(tag: &str) -> BenchDb {
        let admin = admin_url();
        let name = format!("koschei_bench_{tag}_{}", std::process::id());
        let mut a = Client::connect(&admin, NoTls).expect("connect");
        a.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop old db");
        a.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create db");
        let url = format!("{}/{name}", admin.rsplit_once('/').expect("db url").0);
        let db = BenchDb { admin, name, url };
        db.connect()
            .batch_execute(include_str!("../../src/db/migrations/0001_initial.sql"))
            .expect("migrate");
        db
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.url, NoTls).expect("connect bench db")
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if std::env::args().any(|a| a == "--keep") {
            println!("kept database {}", self.url);
            return;
        }
        if let Ok(mut a) = Client::connect(&self.admin, NoTls) {
            let _ = a.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// One collection `f40` (repo 1, resolved) with one package per source name: 3 % blocked,
/// 10 % untracked, 4 % unresolved, 2 % not resolved yet, dependency priority on a third,
/// manual priority on 1 %, failed-build bumps on 5 %; three finished builds each (the newest
/// 1 h .. 10 days old, one real), 20 running builds.
pub fn load_collection(c: &mut Client, names: &[&str], now: SystemTime) {
    c.batch_execute(
        "INSERT INTO collection (name, display_name, target, dest_tag, build_tag, latest_repo_id, latest_repo_resolved)
         VALUES ('f40', 'Fedora 40', 'f40', 'f40', 'f40-build', 1, true)",
    )
    .expect("collection");
    c.execute(
        "INSERT INTO base_package (name) SELECT unnest($1::text[])",
        &[&names],
    )
    .expect("base");
    c.execute(
        "INSERT INTO package (base_id, name, collection_id, tracked, blocked, resolved,
                              dependency_priority, manual_priority, build_priority, static_priority)
         SELECT b.id, b.name, 1, b.id % 10 <> 0, b.id % 33 = 0,
                CASE WHEN b.id % 25 = 0 THEN false WHEN b.id % 50 = 1 THEN NULL ELSE true END,
                CASE WHEN b.id % 3 = 0 THEN (b.id * 7919) % 400 ELSE 0 END,
                CASE WHEN b.id % 100 = 7 THEN 500 ELSE 0 END,
                CASE WHEN b.id % 20 = 3 THEN 200 ELSE 0 END,
                0
         FROM base_package b",
        &[],
    )
    .expect("packages");
    c.execute(
        "INSERT INTO build (package_id, state, task_id, started, finished, version, release, repo_id, deps_resolved, real)
         SELECT p.id, CASE WHEN (p.id + k) % 6 = 0 THEN 5 ELSE 3 END, p.id * 10 + k,
                $1::timestamptz - make_interval(hours => (p.id * 37) % 240 + 1 + (3 - k) * 240),
                $1::timestamptz - make_interval(hours => (p.id * 37) % 240 + (3 - k) * 240),
                '1', '1', 1, true, k = 1
         FROM package p, generate_series(1, 3) k",
        &[&now],
    )
    .expect("builds");
    c.execute(
        "INSERT INTO build (package_id, state, task_id, started) SELECT id, 2, id * 10 + 9, $1 FROM package WHERE id % 1700 = 5",
        &[&now],
    )
    .expect("running");
    c.batch_execute("ANALYZE").expect("analyze");
}

pub fn count(c: &mut Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).expect(sql).get(0)
}

pub fn report(what: &str, v: &mut [Duration]) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = v.iter().map(|d| ms(*d)).sum::<f64>() / v.len() as f64;
    println!(
        "{what}: n={} min {:.1} ms, median {:.1} ms, mean {:.1} ms, max {:.1} ms",
        v.len(),
        ms(v[0]),
        ms(v[v.len() / 2]),
        mean,
        ms(v[v.len() - 1])
    );
}
