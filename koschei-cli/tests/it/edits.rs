//! The original's web edits from the command line (issue 15 part 3): `edit-package`,
//! `suspend`/`resume`, `resolve-now`, `cancel-build`, `delete-group`, `edit-group`
//! membership and maintainers; their side effects, their admin log lines in the original's
//! words, and refusals that exit with 1 and change nothing.

use koschei_core::db::testing::TestDb;

use crate::admin::{add_build, log_messages, scalar, with_collection};
use crate::support::{fails, ok};

/// Everything an edit can touch, to compare before and after a refused command.
fn snapshot(db: &TestDb) -> Vec<String> {
    db.connect()
        .unwrap()
        .query(
            "SELECT concat_ws(' ', p.name, p.tracked, p.skip_resolution, p.resolved,
                    p.manual_priority, p.static_priority, p.arch_override,
                    p.min_rebuild_interval_hours, p.suspended_until, p.dependency_priority,
                    (SELECT count(*) FROM unapplied_change u WHERE u.package_id = p.id),
                    (SELECT string_agg(b.id || ':' || b.cancel_requested, ',') FROM build b
                     WHERE b.package_id = p.id),
                    (SELECT string_agg(g.name, ',' ORDER BY g.name) FROM package_group g
                     JOIN package_group_relation r ON r.group_id = g.id WHERE r.base_id = p.base_id))
             FROM package p ORDER BY p.collection_id, p.name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .chain(
            db.connect()
                .unwrap()
                .query(
                    "SELECT g.name || ' ' || coalesce(string_agg(u.name, ',' ORDER BY u.name), '')
                     FROM package_group g LEFT JOIN group_acl a ON a.group_id = g.id
                     LEFT JOIN users u ON u.id = a.user_id GROUP BY g.name ORDER BY g.name",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0)),
        )
        .collect()
}

/// Runs a command that must be refused with exit code 1 and change nothing (no data, no
/// log entry); returns its stderr.
fn refused(db: &TestDb, args: &[&str]) -> String {
    let (before, log) = (snapshot(db), log_messages(db));
    let err = fails(db, args, 1);
    assert_eq!(snapshot(db), before, "koschei {args:?} changed data");
    assert_eq!(log_messages(db), log, "koschei {args:?} wrote to the log");
    err
}

/// The log entries written since `since` entries, with the name of their base package.
fn log_since(db: &TestDb, since: usize) -> Vec<String> {
    db.connect()
        .unwrap()
        .query(
            "SELECT l.message || coalesce(' [' || b.name || ']', '') FROM log_entry l
             LEFT JOIN base_package b ON b.id = l.base_id
             WHERE l.environment = 'admin' ORDER BY l.id",
            &[],
        )
        .unwrap()
        .iter()
        .skip(since)
        .map(|r| r.get(0))
        .collect()
}

fn exec(db: &TestDb, sql: &str) {
    db.connect().unwrap().batch_execute(sql).unwrap();
}

#[test]
fn edit_package_sets_each_attribute_and_logs_old_and_new_values() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm", "zsh"]);
    let n = log_messages(&db).len();
    let out = ok(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "rpm",
            "--tracked",
            "true",
            "--manual-priority",
            "2000",
            "--static-priority",
            "-5",
            "--arch-override",
            "x86_64  ^i686",
            "--min-rebuild-interval",
            "24",
        ],
    );
    let expected: Vec<String> = ["bash", "rpm"]
        .iter()
        .flat_map(|p| {
            [
                format!("Package {p} (collection f40): tracked set from False to True"),
                format!("Package {p} (collection f40): manual_priority set from 0 to 2000"),
                format!("Package {p} (collection f40): static_priority set from 0 to -5"),
                format!(
                    "Package {p} (collection f40): arch_override set from None to x86_64 ^i686"
                ),
                format!(
                    "Package {p} (collection f40): min_rebuild_interval_hours set from None to 24"
                ),
            ]
        })
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    let logged = log_since(&db, n);
    assert_eq!(logged.len(), 10);
    assert_eq!(
        logged[1],
        "Package bash (collection f40): manual_priority set from 0 to 2000 [bash]"
    );
    assert_eq!(
        scalar::<String>(
            &db,
            "SELECT string_agg(concat_ws(' ', name, tracked, manual_priority, static_priority,
                    arch_override, min_rebuild_interval_hours), '; ' ORDER BY name) FROM package"
        ),
        "bash t 2000 -5 x86_64 ^i686 24; rpm t 2000 -5 x86_64 ^i686 24; zsh f 0 0"
    );

    // Setting the current values changes and logs nothing; the note says so.
    let n = log_messages(&db).len();
    let out = ok(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "--manual-priority",
            "2000",
        ],
    );
    assert_eq!(out.trim(), "Package bash (collection f40): no change");
    assert_eq!(log_messages(&db).len(), n);

    // Removing: an empty arch override and an interval of 0; old values in the log.
    let out = ok(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "rpm",
            "--arch-override",
            "",
            "--min-rebuild-interval",
            "0",
            "--manual-priority",
            "3000",
            "--tracked",
            "false",
        ],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Package rpm (collection f40): tracked set from True to False",
            "Package rpm (collection f40): manual_priority set from 2000 to 3000",
            "Package rpm (collection f40): arch_override set from x86_64 ^i686 to None",
            "Package rpm (collection f40): min_rebuild_interval_hours set from 24 to None",
        ]
    );
    assert_eq!(
        scalar::<String>(
            &db,
            "SELECT concat_ws(' ', tracked, arch_override, min_rebuild_interval_hours)
             FROM package WHERE name = 'rpm'"
        ),
        "f"
    );
}

#[test]
fn edit_package_refuses_bad_input_and_changes_nothing() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm"]);
    ok(&db, &["add-group", "core", "bash"]);
    let err = refused(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "ghost2",
            "ghost1",
            "--manual-priority",
            "5",
        ],
    );
    assert!(err.contains("Packages not found: ghost1,ghost2"), "{err}");
    let err = refused(
        &db,
        &["edit-package", "-c", "f99", "bash", "--tracked", "true"],
    );
    assert!(err.contains("collection `f99` does not exist"), "{err}");
    let err = refused(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "--manual-priority",
            "1",
            "--arch-override",
            "x86_64 amd64",
        ],
    );
    assert!(err.contains("unknown arch `amd64`"), "{err}");
    let err = refused(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "--group",
            "nogroup",
            "--tracked",
            "true",
        ],
    );
    assert!(
        err.contains("package group `nogroup` does not exist"),
        "{err}"
    );
    // Command-line errors exit with 2.
    fails(&db, &["edit-package", "-c", "f40", "bash"], 2);
    fails(
        &db,
        &["edit-package", "-c", "f40", "bash", "--tracked", "yes"],
        2,
    );
    fails(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "--min-rebuild-interval",
            "-3",
        ],
        2,
    );
    fails(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "--group",
            "core",
            "--tracked",
            "true",
        ],
        2,
    );

    // A group selects its packages of the collection.
    let out = ok(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "--group",
            "core",
            "--tracked",
            "true",
        ],
    );
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): tracked set from False to True"
    );
}

#[test]
fn skip_resolution_resets_resolution_and_deletes_unapplied_changes() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm"]);
    exec(
        &db,
        "UPDATE package SET resolved = false, dependency_priority = 384, tracked = true;
         INSERT INTO dependency (name, epoch, version, release, arch, evr_key)
             VALUES ('libfoo', NULL, '1.1', '1', 'x86_64', '\\x01');
         INSERT INTO unapplied_change (package_id, prev_dep_id, curr_dep_id, distance)
             SELECT p.id, NULL, d.id, 1 FROM package p, dependency d;",
    );
    let n = log_messages(&db).len();
    let out = ok(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "--skip-resolution",
            "true",
        ],
    );
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): skip_resolution set from False to True"
    );
    assert_eq!(
        log_since(&db, n),
        ["Package bash (collection f40): skip_resolution set from False to True [bash]"]
    );
    let state = |name: &str| {
        scalar::<String>(
            &db,
            &format!(
                "SELECT concat_ws(' ', skip_resolution, coalesce(resolved::text, 'null'),
                        dependency_priority,
                        (SELECT count(*) FROM unapplied_change u WHERE u.package_id = p.id))
                 FROM package p WHERE name = '{name}'"
            ),
        )
    };
    assert_eq!(state("bash"), "t null 0 0");
    assert_eq!(state("rpm"), "f false 384 1", "other packages untouched");
    let shown = ok(&db, &["package", "show", "bash", "-c", "f40"]);
    assert!(shown.contains("skip resolution true"), "{shown}");
    assert!(
        !shown.contains("Package dependencies were not resolved yet"),
        "{shown}"
    );

    // Off again: resolved stays unknown until the repo resolver resolves it.
    let out = ok(
        &db,
        &[
            "edit-package",
            "-c",
            "f40",
            "bash",
            "--skip-resolution",
            "false",
        ],
    );
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): skip_resolution set from True to False"
    );
    assert_eq!(state("bash"), "f null 0 0");
    let shown = ok(&db, &["package", "show", "bash", "-c", "f40"]);
    assert!(
        shown.contains("not scheduled: Package dependencies were not resolved yet"),
        "{shown}"
    );
}

#[test]
fn suspend_and_resume_until_a_date_with_the_reason_shown() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm", "zsh"]);
    ok(&db, &["add-group", "shells", "bash", "zsh"]);
    for bad in ["2030-02-30", "tomorrow", "2030-01-01 25:00"] {
        let err = refused(&db, &["suspend", "-c", "f40", "bash", "--until", bad]);
        assert!(err.contains(&format!("invalid date `{bad}`")), "{err}");
    }
    let err = refused(
        &db,
        &["suspend", "-c", "f40", "bash", "--until", "2001-01-01"],
    );
    assert!(
        err.contains("2001-01-01 00:00 UTC is not in the future"),
        "{err}"
    );
    let err = refused(
        &db,
        &[
            "suspend",
            "-c",
            "f40",
            "bash",
            "ghost",
            "--until",
            "2099-01-01",
        ],
    );
    assert!(err.contains("Packages not found: ghost"), "{err}");
    fails(&db, &["suspend", "-c", "f40", "bash"], 2);

    let n = log_messages(&db).len();
    let out = ok(
        &db,
        &[
            "suspend",
            "-c",
            "f40",
            "--group",
            "shells",
            "--until",
            "2099-06-01 12:30",
        ],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Package bash (collection f40): suspended_until set from None to 2099-06-01 12:30 UTC",
            "Package zsh (collection f40): suspended_until set from None to 2099-06-01 12:30 UTC",
        ]
    );
    assert_eq!(log_since(&db, n).len(), 2);
    let shown = ok(&db, &["package", "show", "bash", "-c", "f40"]);
    assert!(
        shown.contains("suspended until 2099-06-01T12:30:00Z"),
        "{shown}"
    );
    assert!(
        shown.contains("not scheduled: Scheduling is suspended until 2099-06-01 12:30 UTC"),
        "{shown}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["package", "show", "bash", "-c", "f40", "--json"],
    ))
    .unwrap();
    assert_eq!(json[0]["suspended_until"], "2099-06-01T12:30:00Z");
    assert!(
        json[0]["priority"]["skip_reasons"]
            .as_array()
            .unwrap()
            .contains(&"Scheduling is suspended until 2099-06-01 12:30 UTC".into()),
        "{json}"
    );

    let out = ok(&db, &["resume", "-c", "f40", "bash", "rpm"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Package bash (collection f40): suspended_until set from 2099-06-01 12:30 UTC to None",
            "Package rpm (collection f40): not suspended",
        ]
    );
    assert_eq!(
        scalar::<String>(
            &db,
            "SELECT string_agg(name, ' ' ORDER BY name) FROM package WHERE suspended_until IS NOT NULL"
        ),
        "zsh"
    );
}

#[test]
fn resolve_now_resets_resolved_for_the_repo_resolver() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm", "zsh"]);
    exec(
        &db,
        "UPDATE package SET resolved = (name = 'bash') WHERE name <> 'zsh';
         UPDATE package SET skip_resolution = true WHERE name = 'zsh';",
    );
    let err = refused(&db, &["resolve-now", "-c", "f40", "bash", "ghost"]);
    assert!(err.contains("Packages not found: ghost"), "{err}");
    let n = log_messages(&db).len();
    let out = ok(&db, &["resolve-now", "-c", "f40", "bash", "rpm", "zsh"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Package bash (collection f40): resolved set from True to None",
            "Package rpm (collection f40): resolved set from False to None",
            "Package zsh (collection f40): skip_resolution is set, nothing to resolve",
        ]
    );
    assert_eq!(
        log_since(&db, n),
        [
            "Package bash (collection f40): resolved set from True to None [bash]",
            "Package rpm (collection f40): resolved set from False to None [rpm]",
        ]
    );
    assert_eq!(
        scalar::<i64>(
            &db,
            "SELECT count(*) FROM package WHERE resolved IS NOT NULL"
        ),
        0
    );
    let out = ok(&db, &["resolve-now", "-c", "f40", "bash"]);
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): not resolved yet, the next repo resolver pass resolves it"
    );
}

#[test]
fn cancel_build_records_the_request_once_for_running_builds() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm"]);
    add_build(&db, "f40", "bash", 101, "2 hours", 3);
    add_build(&db, "f40", "bash", 102, "1 hour", 2);
    add_build(&db, "f40", "rpm", 201, "1 hour", 3);
    let id = |task: i32| {
        scalar::<i32>(&db, &format!("SELECT id FROM build WHERE task_id = {task}")).to_string()
    };
    let err = refused(&db, &["cancel-build", &id(101)]);
    assert!(
        err.contains("Only running builds can be canceled."),
        "{err}"
    );
    let err = refused(&db, &["cancel-build", "99999"]);
    assert!(err.contains("build 99999 does not exist"), "{err}");
    let err = refused(&db, &["cancel-build", "bash"]);
    assert!(err.contains("`bash` is not a build id"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    let err = refused(&db, &["cancel-build", "-c", "f40", "rpm"]);
    assert!(
        err.contains("package `rpm` has no running build in collection `f40`"),
        "{err}"
    );
    let err = refused(&db, &["cancel-build", "-c", "f40", "ghost"]);
    assert!(
        err.contains("package `ghost` does not exist in collection `f40`"),
        "{err}"
    );

    let running = id(102);
    let shown = ok(&db, &["package", "show", "bash"]);
    assert!(
        shown.contains(&format!("last build: build {running}, task 102 running")),
        "{shown}"
    );
    let n = log_messages(&db).len();
    let out = ok(&db, &["cancel-build", "-c", "f40", "bash"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("Build (id={running}, task_id=102) cancelation requested"),
            "Cancelation request sent: the next polling pass cancels the build of bash in f40."
                .to_owned(),
        ]
    );
    assert_eq!(
        log_since(&db, n),
        [format!(
            "Build (id={running}, task_id=102) cancelation requested [bash]"
        )]
    );
    assert!(scalar::<bool>(
        &db,
        "SELECT cancel_requested FROM build WHERE task_id = 102"
    ));
    let err = refused(&db, &["cancel-build", &running]);
    assert!(
        err.contains("Build already has pending cancelation request."),
        "{err}"
    );
}

#[test]
fn edit_group_membership_and_maintainers_and_delete_group() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm", "zsh", "fish"]);
    ok(&db, &["add-group", "alice/shells", "bash", "-m", "alice"]);
    let err = refused(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--add-package",
            "zsh",
            "ghost",
        ],
    );
    assert!(err.contains("Packages don't exist: ghost"), "{err}");
    let err = refused(
        &db,
        &["edit-group", "alice/shells", "--remove-package", "rpm"],
    );
    assert!(err.contains("not in the group: rpm"), "{err}");
    let err = refused(
        &db,
        &["edit-group", "alice/shells", "--remove-maintainer", "bob"],
    );
    assert!(
        err.contains("group `alice/shells`: not maintainers of the group: bob"),
        "{err}"
    );
    let err = refused(&db, &["edit-group", "nobody/none", "--add-package", "zsh"]);
    assert!(
        err.contains("package group `nobody/none` does not exist"),
        "{err}"
    );
    // Packages and maintainers in one transaction: a refused part refuses all.
    let err = refused(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--add-package",
            "zsh",
            "--remove-maintainer",
            "bob",
        ],
    );
    assert!(err.contains("not maintainers of the group: bob"), "{err}");

    let n = log_messages(&db).len();
    let out = ok(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--add-package",
            "zsh",
            "fish",
            "--remove-package",
            "bash",
            "--add-maintainer",
            "bob",
            "carol",
            "--remove-maintainer",
            "alice",
        ],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Group alice/shells modified: package fish added",
            "Group alice/shells modified: package zsh added",
            "Group alice/shells modified: package bash removed",
            "Group alice/shells modified: maintainer bob added",
            "Group alice/shells modified: maintainer carol added",
            "Group alice/shells modified: maintainer alice removed",
            "Group alice/shells now has 2 packages",
        ]
    );
    assert_eq!(
        log_since(&db, n),
        [
            "Group alice/shells modified: package fish added [fish]",
            "Group alice/shells modified: package zsh added [zsh]",
            "Group alice/shells modified: package bash removed [bash]",
            "Group alice/shells modified: maintainer bob added",
            "Group alice/shells modified: maintainer carol added",
            "Group alice/shells modified: maintainer alice removed",
        ]
    );
    let out = ok(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--set-maintainers",
            "carol",
            "dave",
        ],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Group alice/shells modified: maintainer dave added",
            "Group alice/shells modified: maintainer bob removed",
        ]
    );
    let out = ok(&db, &["edit-group", "alice/shells", "--add-package", "zsh"]);
    assert_eq!(out.trim(), "Group alice/shells: no change");
    fails(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--set-maintainers",
            "x",
            "--add-maintainer",
            "y",
        ],
        2,
    );
    assert_eq!(
        snapshot(&db).last().unwrap(),
        "shells carol,dave",
        "{:?}",
        snapshot(&db)
    );

    let err = refused(&db, &["delete-group", "alice/nothing"]);
    assert!(
        err.contains("package group `alice/nothing` does not exist"),
        "{err}"
    );
    let n = log_messages(&db).len();
    let out = ok(&db, &["delete-group", "alice/shells"]);
    assert_eq!(out.trim(), "Group alice/shells deleted");
    assert_eq!(log_since(&db, n), ["Group alice/shells deleted"]);
    assert_eq!(scalar::<i64>(&db, "SELECT count(*) FROM package_group"), 0);
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM package_group_relation"),
        0
    );
    assert_eq!(scalar::<i64>(&db, "SELECT count(*) FROM group_acl"), 0);
}

#[test]
fn package_show_gives_the_current_priority_and_why_it_is_not_scheduled() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm"]);
    // bash: tracked, resolved, a complete build a week ago, in a resolved collection.
    add_build(&db, "f40", "bash", 1, "168 hours", 3);
    exec(
        &db,
        "UPDATE collection SET latest_repo_id = 7, latest_repo_resolved = true;
         UPDATE package SET tracked = true, resolved = true, dependency_priority = 100
             WHERE name = 'bash';",
    );
    let shown = ok(&db, &["package", "show", "bash"]);
    assert!(shown.contains("priority 356.00 (threshold 256)"), "{shown}");
    assert!(
        shown.contains("= manual 0 + static 0 + coefficient 1 * (dependency 100 + build 0 + time 256.00 after 168.0 h)"),
        "{shown}"
    );
    assert!(
        shown.contains("scheduled at the scheduler's next pass"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&db, &["package", "show", "bash", "--json"])).unwrap();
    let p = &json[0]["priority"];
    assert_eq!(p["schedulable"], true);
    assert!((p["current"].as_f64().unwrap() - 356.0).abs() < 0.01, "{p}");
    assert_eq!(p["skip_reasons"], serde_json::json!([]));
    assert_eq!(json[0]["manual_priority"], 0, "the package's fields stay");

    // Below the threshold, and with a rebuild interval since a submission an hour ago.
    exec(
        &db,
        "UPDATE package SET dependency_priority = 0, manual_priority = -100,
                min_rebuild_interval_hours = 24, last_submitted = now() - interval '1 hour'
         WHERE name = 'bash'",
    );
    let shown = ok(&db, &["package", "show", "bash"]);
    assert!(shown.contains("not schedulable (threshold 256)"), "{shown}");
    assert!(
        shown.contains("not scheduled: Minimum rebuild interval not elapsed: no build before "),
        "{shown}"
    );
    assert!(shown.contains("minimum rebuild interval: 24 h"), "{shown}");
    exec(
        &db,
        "UPDATE package SET last_submitted = now() - interval '25 hours' WHERE name = 'bash'",
    );
    let shown = ok(&db, &["package", "show", "bash"]);
    assert!(
        shown.contains("not scheduled: Priority 156.00 is below the threshold 256"),
        "{shown}"
    );

    let shown = ok(&db, &["package", "show", "rpm"]);
    for reason in [
        "not scheduled: Package is not tracked",
        "not scheduled: Package dependencies were not resolved yet",
        "not scheduled: Package has no known build",
    ] {
        assert!(shown.contains(reason), "{reason}: {shown}");
    }
}
