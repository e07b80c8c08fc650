//! Repo resolver pass benchmark: a new repo for a collection of the 34,288 source packages
//! of `../shared/data/debian-bookworm`, each last build holding a stored dependency set
//! (~200 real binary NEVRAs of the data), 3 % of the binaries bumped in the new repo.
//!
//! The resolver is a stub that returns precomputed install sets instantly (koschei-core does
//! not link libsolv), so the figure is the engine's own cost: candidate load, BuildRequires
//! plumbing, diffs, dependency ids, and persisting resolutions, history and unapplied
//! changes. Add `koschei resolve`'s solve time for the end-to-end figure.
//!
//! Run: `cargo bench -p koschei-core --bench repo_resolver`.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use koschei_core::db::engine as db;
use koschei_core::model::{Evr, Nevra, RepoId};
use koschei_core::resolve::{InstalledDep, RepoDescriptor, Resolution, ResolveError, Resolver};
use koschei_core::service::{Settings, now, repo_resolver};
use koschei_fakehub::scripted::{ScriptedKoji, ready_repo};

/// Koji answering instantly: repo 2 of `f40-build` is the latest, build group `base`, and
/// every package BuildRequires its own name.
fn koji(names: &[&str]) -> ScriptedKoji {
    let koji = ScriptedKoji::new();
    koji.with(|s| {
        s.latest_repo.insert("f40-build".into(), RepoId(2));
        for id in 1..=2 {
            s.repos.insert(RepoId(id), ready_repo(id, "f40-build", id));
        }
        s.group = Some(vec!["base".into()]);
        s.requires = names
            .iter()
            .map(|n| ((*n).to_owned(), vec![(*n).to_owned()]))
            .collect();
    });
    koji
}

/// Install sets by package name: 120 shared "build group" binaries plus 80 chosen by a hash
/// of the name, at distances 1..4; 5 % of packages unresolvable.
struct StubResolver {
    binaries: Vec<Nevra>,
    spent: Mutex<Duration>,
}

fn hash(s: &str) -> usize {
    s.bytes().fold(1_469_598_103_934_665_603_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
    }) as usize
}

impl StubResolver {
    fn set(&self, name: &str, repo: RepoId) -> Resolution {
        let n = self.binaries.len();
        let h = hash(name);
        if h.is_multiple_of(20) && repo.0 == 2 {
            return Resolution {
                resolved: false,
                installs: vec![],
                problems: BTreeSet::from([format!("No package found for: missing-{}", h % 7)]),
            };
        }
        let mut seen = BTreeSet::new();
        let mut installs = Vec::with_capacity(200);
        let picks = (0..120)
            .map(|k| ((k * 104_729) % n, None))
            .chain((0..80).map(|k| {
                let d = match k {
                    0..5 => 1,
                    5..20 => 2,
                    20..50 => 3,
                    _ => 4,
                };
                ((h / 3 + k * 7919) % n, Some(d))
            }));
        for (i, distance) in picks {
            if !seen.insert(i) {
                continue;
            }
            let mut nevra = self.binaries[i].clone();
            if repo.0 == 2 && i.is_multiple_of(33) {
                nevra.evr.release.push_str(".1");
            }
            installs.push(InstalledDep { nevra, distance });
        }
        Resolution {
            resolved: true,
            installs,
            problems: BTreeSet::new(),
        }
    }
}

impl Resolver for StubResolver {
    fn resolve_many(
        &mut self,
        repo: &RepoDescriptor,
        _group: &[String],
        brs: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError> {
        let t = Instant::now();
        let out = brs
            .iter()
            .map(|b| self.set(b.first().map_or("", String::as_str), repo.repo_id))
            .collect();
        *self.spent.lock().expect("lock") += t.elapsed();
        Ok(out)
    }
}

fn main() {
    let sources = common::primary("source");
    let binaries: Vec<Nevra> = common::primary("binary")
        .into_iter()
        .map(|(name, epoch, v, r, arch)| Nevra {
            name,
            evr: Evr::new(Some(epoch), v, r),
            arch,
        })
        .collect();
    assert_eq!((sources.len(), binaries.len()), (34_288, 63_436));
    let db = common::BenchDb::new("repo_resolver");
    let mut c = db.connect();
    let now_ts = now();
    let names: Vec<&str> = sources.iter().map(|p| p.0.as_str()).collect();
    common::load_collection(&mut c, &names, now_ts);
    let mut resolver = StubResolver {
        binaries,
        spent: Mutex::new(Duration::ZERO),
    };

    // Stored sets of repo 1 on every last complete build.
    let t = Instant::now();
    let rows = c
        .query("SELECT p.name, p.last_complete_build_id FROM package p WHERE p.last_complete_build_id IS NOT NULL", &[])
        .expect("packages");
    let mut dep_id: HashMap<Nevra, i32> = HashMap::new();
    for chunk in resolver.binaries.chunks(5000) {
        let ids = db::dependency_ids(&mut c, chunk).expect("dependency ids");
        dep_id.extend(chunk.iter().cloned().zip(ids.into_iter().map(|d| d.0)));
    }
    for chunk in rows.chunks(2000) {
        let mut builds = Vec::new();
        let mut sets = Vec::new();
        for r in chunk {
            let name: String = r.get(0);
            let res = resolver.set(&name, RepoId(1));
            let mut ids: Vec<i32> = res.installs.iter().map(|d| dep_id[&d.nevra]).collect();
            ids.sort_unstable();
            builds.push(r.get::<_, i32>(1));
            sets.push(format!(
                "{{{}}}",
                ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
            ));
        }
        c.execute(
            "UPDATE build b SET dependency_ids = u.ids::int4[], deps_resolved = true
             FROM unnest($1::int4[], $2::text[]) AS u(id, ids) WHERE b.id = u.id",
            &[&builds, &sets],
        )
        .expect("store sets");
    }
    c.batch_execute("VACUUM ANALYZE").expect("analyze");
    *resolver.spent.lock().expect("lock") = Duration::ZERO;
    println!(
        "stored {} dependency sets in {:.1} s",
        rows.len(),
        t.elapsed().as_secs_f64()
    );

    let settings = Settings::default();
    let koji = koji(&names);
    let t = Instant::now();
    let report =
        repo_resolver::run_once(&mut c, &koji, &mut resolver, &settings, now_ts).expect("pass");
    let total = t.elapsed();
    let stub = *resolver.spent.lock().expect("lock");
    println!(
        "repo resolver pass: {} packages persisted, {} unapplied changes, {} resolution changes",
        report.resolved_packages,
        common::count(&mut c, "SELECT count(*) FROM unapplied_change"),
        common::count(&mut c, "SELECT count(*) FROM resolution_change"),
    );
    println!(
        "repo resolver pass: total {:.2} s, of which stub resolution {:.2} s; engine cost {:.2} s = {:.2} ms per package",
        total.as_secs_f64(),
        stub.as_secs_f64(),
        (total - stub).as_secs_f64(),
        (total - stub).as_secs_f64() * 1000.0 / report.resolved_packages.max(1) as f64
    );
    let repo: Option<i32> = c
        .query_one("SELECT latest_repo_id FROM collection", &[])
        .expect("collection")
        .get(0);
    assert_eq!(repo, Some(2));
    let t = report.timings;
    println!(
        "phases: koji stub {:.2} s, resolve (stub) {:.2} s, comparison load + diff {:.2} s, persist {:.2} s",
        t.koji.as_secs_f64(),
        t.resolve.as_secs_f64(),
        t.compare.as_secs_f64(),
        t.persist.as_secs_f64()
    );
}
