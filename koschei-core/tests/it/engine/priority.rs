//! A package's priority explained (`db::priority::inputs` + `priority::breakdown`) is the
//! priority the scheduler computes and acts on, for packages in every state.

use koschei_core::db::{engine::schedule_rows, priority::inputs, priority::inputs_by_name};
use koschei_core::model::PackageId;
use koschei_core::priority::{Priorities, SkipReason, breakdown};
use koschei_core::service::Settings;
use koschei_core::service::scheduler::{Outcome, candidates, run_once};

use super::fakes::FakeKoji;
use super::harness::*;

/// A tracked, resolved package with a complete build started `minutes` ago.
fn pkg(
    c: &mut postgres::Client,
    coll: koschei_core::model::CollectionId,
    name: &str,
    minutes: u64,
    task: i32,
) -> PackageId {
    let p = package(c, coll, name);
    build(c, p, 3, task, ago(minutes));
    p
}

#[test]
fn breakdown_is_the_priority_the_scheduler_computes() {
    let db = TestDb::new();
    let mut c = db.connect();
    let f25 = collection(&mut c, "f25");
    let epel = collection(&mut c, "epel9");
    set(
        &mut c,
        "UPDATE collection SET priority_coefficient = 0.5, display_name = 'EPEL 9' WHERE id = $1",
        epel.0,
    );
    let prio = Priorities::default();
    // (package, the skip reasons breakdown must give).
    let mut cases: Vec<(PackageId, Vec<SkipReason>)> = Vec::new();

    let plain = pkg(&mut c, f25, "plain", 45, 1);
    cases.push((plain, vec![]));
    let old = pkg(&mut c, f25, "old", 60 * 24 * 30, 2);
    cases.push((old, vec![]));
    let terms = pkg(&mut c, f25, "terms", 60 * 34, 3);
    c.execute(
        "UPDATE package SET manual_priority = 7, static_priority = 11, dependency_priority = 341,
                build_priority = 200 WHERE id = $1",
        &[&terms.0],
    )
    .expect("terms");
    cases.push((terms, vec![]));
    let halved = pkg(&mut c, epel, "terms", 60 * 10, 4);
    c.execute(
        "UPDATE package SET manual_priority = 3, dependency_priority = 1312 WHERE id = $1",
        &[&halved.0],
    )
    .expect("halved");
    cases.push((halved, vec![]));
    let skip_res = pkg(&mut c, f25, "skip-resolution", 60 * 200, 5);
    set(
        &mut c,
        "UPDATE package SET resolved = NULL, skip_resolution = true WHERE id = $1",
        skip_res.0,
    );
    cases.push((skip_res, vec![]));
    let no_arch = pkg(&mut c, f25, "no-arch", 60 * 300, 6);
    set(
        &mut c,
        "UPDATE package SET scheduler_skip_reason = 2, manual_priority = -1000 WHERE id = $1",
        no_arch.0,
    );
    cases.push((no_arch, vec![SkipReason::NoBuildArch]));
    let no_srpm = pkg(&mut c, f25, "no-srpm", 60 * 300, 7);
    set(
        &mut c,
        "UPDATE package SET scheduler_skip_reason = 1 WHERE id = $1",
        no_srpm.0,
    );
    cases.push((no_srpm, vec![SkipReason::NoSrpm]));
    let running = pkg(&mut c, f25, "running", 60 * 300, 8);
    build(&mut c, running, 2, 9, ago(5));
    cases.push((running, vec![SkipReason::RunningBuild]));
    let unresolved = pkg(&mut c, f25, "unresolved", 60 * 300, 10);
    set(
        &mut c,
        "UPDATE package SET resolved = false WHERE id = $1",
        unresolved.0,
    );
    cases.push((unresolved, vec![SkipReason::Unresolved]));
    let not_yet = pkg(&mut c, f25, "not-yet", 60 * 300, 11);
    set(
        &mut c,
        "UPDATE package SET resolved = NULL WHERE id = $1",
        not_yet.0,
    );
    cases.push((not_yet, vec![SkipReason::NotResolvedYet]));
    let untracked = pkg(&mut c, f25, "untracked", 60 * 300, 12);
    set(
        &mut c,
        "UPDATE package SET tracked = false WHERE id = $1",
        untracked.0,
    );
    cases.push((untracked, vec![SkipReason::Untracked]));
    let blocked = pkg(&mut c, f25, "blocked", 60 * 300, 13);
    set(
        &mut c,
        "UPDATE package SET blocked = true WHERE id = $1",
        blocked.0,
    );
    cases.push((blocked, vec![SkipReason::Blocked]));
    let no_build = package(&mut c, f25, "no-build");
    cases.push((no_build, vec![SkipReason::NoBuild]));

    let rows = schedule_rows(&mut c).expect("schedule rows");
    let chosen = candidates(&rows, &prio, now());
    for (id, reasons) in &cases {
        let p = inputs(&mut c, *id)
            .expect("inputs")
            .expect("the package exists");
        let again = inputs_by_name(&mut c, &p.collection, &p.name)
            .expect("inputs by name")
            .expect("the package exists");
        assert_eq!(again, p);
        let b = breakdown(&p.input, &prio, now());
        assert_eq!(&b.reasons, reasons, "{}", p.name);
        match chosen.iter().find(|cand| cand.package_id == *id) {
            // Bit for bit: the same computation, not a second formula.
            Some(cand) => assert_eq!(
                b.priority.map(f64::to_bits),
                Ok(cand.priority.to_bits()),
                "{}: {b}",
                p.name
            ),
            None => assert_eq!(
                b.priority.err(),
                reasons.iter().copied().find(|r| r.blocks()),
                "{} is not a scheduler candidate: {b}",
                p.name
            ),
        }
    }
    assert_eq!(chosen.len(), 6, "{chosen:?}");
    // The terms add up as the spec's formula says.
    let p = inputs(&mut c, halved).expect("inputs").expect("exists");
    let b = breakdown(&p.input, &prio, now());
    let time = b.time.expect("has a build");
    assert!((time - 39.2446980024098).abs() < 1e-9, "{time}");
    assert_eq!(b.total, b.priority.ok());
    let want = 3.0 + 0.5 * (1312.0 + time);
    assert!((b.total.expect("total") - want).abs() < 1e-9, "{b}");
    assert!(b.schedulable());

    // The buildroot reasons name the collection; the scheduler then has no candidate there.
    set(
        &mut c,
        "UPDATE collection SET latest_repo_resolved = false WHERE id = $1",
        epel.0,
    );
    let p = inputs(&mut c, halved).expect("inputs").expect("exists");
    let b = breakdown(&p.input, &prio, now());
    assert_eq!(b.priority, Err(SkipReason::BuildrootUnresolved));
    assert_eq!(
        b.reasons[0].text(&p.collection_display_name),
        "Base buildroot for EPEL 9 is not resolvable"
    );
    let rows = schedule_rows(&mut c).expect("schedule rows");
    assert!(
        !candidates(&rows, &prio, now())
            .iter()
            .any(|x| x.package_id == halved)
    );

    // The scheduler submits the package whose breakdown is highest.
    let best = cases
        .iter()
        .filter_map(|(id, _)| {
            let p = inputs(&mut c, *id).ok()??;
            Some((*id, breakdown(&p.input, &prio, now()).priority.ok()?))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a schedulable package");
    assert_eq!(best.0, terms);
    let settings = Settings {
        load_threshold: 1.0,
        ..Settings::default()
    };
    let out = run_once(&mut c, &FakeKoji::new(), &settings, now()).expect("pass");
    assert!(
        matches!(out, Outcome::Submitted { package_id, .. } if package_id == best.0),
        "{out:?}"
    );
}

#[test]
fn no_such_package_has_no_inputs() {
    let db = TestDb::new();
    let mut c = db.connect();
    collection(&mut c, "f25");
    assert_eq!(inputs_by_name(&mut c, "f25", "nope").expect("query"), None);
    assert_eq!(inputs_by_name(&mut c, "f99", "rnv").expect("query"), None);
    assert_eq!(inputs(&mut c, PackageId(12345)).expect("query"), None);
}
