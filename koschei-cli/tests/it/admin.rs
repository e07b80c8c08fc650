//! Admin commands: effects, admin log, refusals that change nothing.

use koschei_core::db::testing::TestDb;
use koschei_core::db::{collection, package};

use crate::support::{fails, ok};

pub(crate) fn with_collection(db: &TestDb, name: &str, packages: &[&str]) {
    ok(
        db,
        &[
            "create-collection",
            name,
            "-d",
            &format!("Fedora {name}"),
            "-t",
            &format!("{name}-target"),
            "--build-tag",
            &format!("{name}-build"),
        ],
    );
    let mut c = db.connect().unwrap();
    let coll = collection::get(&mut c, name).unwrap();
    for p in packages {
        package::insert(&mut c, coll.id, p).unwrap();
    }
}

pub(crate) fn scalar<T: for<'a> postgres::types::FromSql<'a>>(db: &TestDb, sql: &str) -> T {
    db.connect().unwrap().query_one(sql, &[]).unwrap().get(0)
}

pub(crate) fn log_messages(db: &TestDb) -> Vec<String> {
    db.connect()
        .unwrap()
        .query(
            "SELECT u.name || ': ' || l.message FROM log_entry l JOIN users u ON u.id = l.user_id
             WHERE l.environment = 'admin' ORDER BY l.id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn create_and_edit_collection_are_logged_and_listed() {
    let db = TestDb::new().unwrap();
    let out = ok(
        &db,
        &[
            "create-collection",
            "f40",
            "-d",
            "Fedora 40",
            "-t",
            "f40-candidate",
            "--build-tag",
            "f40-build",
            "--bugzilla-version",
            "40",
            "--poll-untracked",
            "false",
        ],
    );
    assert_eq!(
        out.trim(),
        "Created collection f40 (Fedora 40), target f40-candidate, build tag f40-build, dest tag f40-build"
    );
    let list: serde_json::Value =
        serde_json::from_str(&ok(&db, &["collection", "list", "--json"])).unwrap();
    assert_eq!(list[0]["name"], "f40");
    assert_eq!(list[0]["state"], "unknown");
    assert_eq!(list[0]["bugzilla_version"], "40");
    assert_eq!(list[0]["poll_untracked"], false);
    assert_eq!(list[0]["packages"], 0);

    let out = ok(
        &db,
        &[
            "edit-collection",
            "f40",
            "--order",
            "7",
            "--bugzilla-version",
            "",
        ],
    );
    assert!(out.contains("order 100 -> 7"), "{out}");
    assert!(out.contains("bugzilla version 40 -> none"), "{out}");
    let log = log_messages(&db);
    assert_eq!(log.len(), 2);
    assert!(
        log[0].starts_with("tester: Created collection f40"),
        "{log:?}"
    );

    let err = fails(
        &db,
        &[
            "create-collection",
            "f40",
            "-d",
            "x",
            "-t",
            "y",
            "--build-tag",
            "z",
        ],
        1,
    );
    assert!(err.contains("collection `f40` already exists"), "{err}");
    let err = fails(&db, &["create-collection", "f41", "-d", "x"], 1);
    assert!(err.contains("`--target` is required"), "{err}");
}

#[test]
fn add_pkg_refuses_unknown_names_and_changes_nothing() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm", "zsh"]);
    let err = fails(&db, &["add-pkg", "-c", "f40", "bash", "nope2", "nope1"], 1);
    assert!(err.contains("Packages don't exist: nope1,nope2"), "{err}");
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM package WHERE tracked"),
        0
    );
    assert_eq!(
        log_messages(&db).len(),
        1,
        "only the create-collection entry"
    );

    let out = ok(&db, &["add-pkg", "-c", "f40", "bash", "rpm"]);
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): tracked set from False to True\n\
         Package rpm (collection f40): tracked set from False to True"
    );
    // The original logs only the newly tracked package.
    let out = ok(&db, &["add-pkg", "-c", "f40", "bash", "zsh"]);
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): already tracked\n\
         Package zsh (collection f40): tracked set from False to True"
    );
    assert_eq!(
        log_messages(&db)[1..],
        [
            "tester: Package bash (collection f40): tracked set from False to True",
            "tester: Package rpm (collection f40): tracked set from False to True",
            "tester: Package zsh (collection f40): tracked set from False to True",
        ]
    );
    ok(
        &db,
        &["edit-package", "-c", "f40", "zsh", "--tracked", "false"],
    );
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM package WHERE tracked"),
        2
    );
    let status = ok(&db, &["status"]);
    assert!(
        status.contains("f40") && status.contains("unknown"),
        "{status}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&db, &["status", "--json"])).unwrap();
    assert_eq!(json["collections"][0]["packages"], 3);
    assert_eq!(json["collections"][0]["tracked"], 2);
}

#[test]
fn set_priority_is_all_or_nothing() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm"]);
    let err = fails(
        &db,
        &["set-priority", "-c", "f40", "bash", "ghost", "100"],
        1,
    );
    assert!(err.contains("Packages not found: ghost"), "{err}");
    assert_eq!(
        scalar::<i64>(
            &db,
            "SELECT count(*) FROM package WHERE manual_priority <> 0"
        ),
        0
    );

    ok(&db, &["set-priority", "-c", "f40", "bash", "rpm", "-50"]);
    ok(&db, &["set-priority", "--static", "-c", "f40", "rpm", "7"]);
    let p: serde_json::Value =
        serde_json::from_str(&ok(&db, &["package", "show", "rpm", "--json"])).unwrap();
    assert_eq!(p[0]["manual_priority"], -50);
    assert_eq!(p[0]["static_priority"], 7);
    assert!(
        log_messages(&db)
            .iter()
            .any(|m| m.ends_with("Package rpm (collection f40): static_priority set from 0 to 7"))
    );
}

#[test]
fn set_arch_override_validates_and_says_where() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash"]);
    with_collection(&db, "f41", &["bash"]);
    let err = fails(&db, &["set-arch-override", "bash", "x86_64 amd64"], 1);
    assert!(err.contains("unknown arch `amd64`"), "{err}");

    let out = ok(&db, &["set-arch-override", "bash", "x86_64 ^i686"]);
    assert!(
        out.contains("Package bash (collection f40): arch_override set from None to x86_64 ^i686"),
        "{out}"
    );
    assert!(
        out.contains("Package bash (collection f41): arch_override set from None to x86_64 ^i686"),
        "{out}"
    );

    let out = ok(&db, &["set-arch-override", "bash", "", "-c", "f41"]);
    assert_eq!(
        out.trim(),
        "Package bash (collection f41): arch_override set from x86_64 ^i686 to None"
    );
    let p: serde_json::Value =
        serde_json::from_str(&ok(&db, &["package", "show", "bash", "--json"])).unwrap();
    let by_coll = |c: &str| {
        p.as_array()
            .unwrap()
            .iter()
            .find(|x| x["collection"] == c)
            .unwrap()["arch_override"]
            .clone()
    };
    assert_eq!(by_coll("f40"), "x86_64 ^i686");
    assert_eq!(by_coll("f41"), serde_json::Value::Null);

    let err = fails(&db, &["set-arch-override", "nope", "x86_64"], 1);
    assert!(
        err.contains("no packages found for package `nope`"),
        "{err}"
    );

    ok(&db, &["add-group", "core", "bash"]);
    let out = ok(
        &db,
        &[
            "set-arch-override",
            "--group",
            "core",
            "noarch",
            "-c",
            "f40",
        ],
    );
    assert_eq!(
        out.trim(),
        "Package bash (collection f40): arch_override set from x86_64 ^i686 to noarch"
    );
}

#[test]
fn package_groups_create_edit_and_add() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash", "rpm", "zsh"]);
    let file = std::env::temp_dir().join(format!("koschei-group-{}.txt", std::process::id()));
    std::fs::write(&file, "bash\nrpm  \n").unwrap();
    let file_arg = file.to_str().unwrap();
    let out = ok(
        &db,
        &[
            "create-group",
            "alice/shells",
            "--content-from-file",
            file_arg,
        ],
    );
    assert_eq!(
        out.trim(),
        "Created group alice/shells with 2 packages\n\
         Group alice/shells modified: package bash added\n\
         Group alice/shells modified: package rpm added"
    );
    let err = fails(&db, &["create-group", "alice/shells"], 1);
    assert!(
        err.contains("package group `alice/shells` already exists"),
        "{err}"
    );

    std::fs::write(&file, "zsh ghost").unwrap();
    let err = fails(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--content-from-file",
            file_arg,
            "--append",
        ],
        1,
    );
    assert!(err.contains("Packages don't exist: ghost"), "{err}");
    std::fs::write(&file, "zsh").unwrap();
    let out = ok(
        &db,
        &[
            "edit-group",
            "alice/shells",
            "--content-from-file",
            file_arg,
            "--append",
            "--make-global",
            "--new-name",
            "sh",
        ],
    );
    assert!(out.contains("Renamed group alice/shells to sh"), "{out}");
    assert!(
        out.contains("Group sh modified: package zsh added"),
        "{out}"
    );
    assert!(out.contains("Group sh now has 3 packages"), "{out}");
    std::fs::remove_file(&file).unwrap();

    // add-group (broken in the original) creates or extends a group with maintainers.
    let out = ok(
        &db,
        &["add-group", "bob/tools", "rpm", "-m", "bob", "carol"],
    );
    assert_eq!(
        out.trim(),
        "Created group bob/tools\n\
         Group bob/tools modified: package rpm added\n\
         Group bob/tools modified: maintainer bob added\n\
         Group bob/tools modified: maintainer carol added\n\
         Group bob/tools now has 1 packages"
    );
    let out = ok(&db, &["add-group", "bob/tools", "bash"]);
    assert_eq!(
        out.trim(),
        "Group bob/tools modified: package bash added\n\
         Group bob/tools now has 2 packages"
    );
    assert_eq!(scalar::<i64>(&db, "SELECT count(*) FROM group_acl"), 2);
    let err = fails(&db, &["add-group", "bad name!", "bash"], 1);
    assert!(err.contains("invalid group name"), "{err}");
}

#[test]
fn collection_groups_and_delete_collection() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "f40", &["bash"]);
    with_collection(&db, "f41", &[]);
    ok(
        &db,
        &[
            "create-collection-group",
            "fedora",
            "-d",
            "Fedora",
            "-c",
            "f40",
            "f41",
        ],
    );
    let err = fails(
        &db,
        &["edit-collection-group", "fedora", "-c", "f40", "epel9"],
        1,
    );
    assert!(err.contains("collection `epel9` does not exist"), "{err}");
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM collection_group_relation"),
        2
    );
    ok(&db, &["edit-collection-group", "fedora", "-c", "f41"]);
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM collection_group_relation"),
        1
    );

    let err = fails(&db, &["delete-collection", "f40"], 1);
    assert!(err.contains("has 1 packages; use `--force`"), "{err}");
    ok(&db, &["delete-collection", "f41"]);
    ok(&db, &["delete-collection", "f40", "--force"]);
    assert_eq!(scalar::<i64>(&db, "SELECT count(*) FROM package"), 0);
    ok(&db, &["delete-collection-group", "fedora"]);
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM collection_group"),
        0
    );
}

pub(crate) fn add_build(db: &TestDb, coll: &str, pkg: &str, task: i32, age: &str, state: i32) {
    db.connect()
        .unwrap()
        .execute(
            "INSERT INTO build (package_id, state, task_id, started, finished, version, release, repo_id)
             SELECT p.id, $3, $4, now() - $5::text::interval, now() - $5::text::interval, '1', '1', 7
             FROM package p JOIN collection c ON c.id = p.collection_id WHERE c.name = $1 AND p.name = $2",
            &[&coll, &pkg, &state, &task, &age],
        )
        .unwrap();
}

#[test]
fn branch_and_fork_copy_packages_and_builds() {
    let db = TestDb::new().unwrap();
    with_collection(&db, "rawhide", &["bash", "rpm"]);
    ok(&db, &["add-pkg", "-c", "rawhide", "bash"]);
    ok(
        &db,
        &[
            "create-collection-group",
            "fedora",
            "-d",
            "Fedora",
            "-c",
            "rawhide",
        ],
    );
    add_build(&db, "rawhide", "bash", 1, "3 months", 3);
    add_build(&db, "rawhide", "bash", 2, "2 days", 5);
    add_build(&db, "rawhide", "bash", 3, "1 day", 3);

    let out = ok(
        &db,
        &[
            "branch-collection",
            "rawhide",
            "f42",
            "-d",
            "Fedora 41",
            "-t",
            "f42",
            "--build-tag",
            "f42-build",
            "--bugzilla-version",
            "41",
        ],
    );
    assert!(out.contains("Branched collection rawhide into rawhide (2 packages, 2 builds copied); f42 now targets f42"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&ok(&db, &["collection", "list", "--json"])).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["f42", "rawhide"], "master moved up one in order");
    let frozen = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rawhide")
        .unwrap();
    assert_eq!(frozen["display_name"], "Fedora 41");
    assert_eq!(frozen["target"], "rawhide-target");
    assert_eq!(frozen["tracked"], 1);
    assert_eq!(
        scalar::<i64>(&db, "SELECT count(*) FROM collection_group_relation"),
        2
    );
    // The copied package points at its copied last builds (trigger-maintained).
    let p: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["package", "show", "bash", "-c", "rawhide", "--json"],
    ))
    .unwrap();
    assert_eq!(p[0]["state"], "ok");
    assert_eq!(p[0]["last_build"]["task_id"], 3);

    let out = ok(
        &db,
        &[
            "fork-collection",
            "f42",
            "side",
            "-d",
            "Side",
            "-t",
            "side-target",
            "--build-tag",
            "side-build",
        ],
    );
    assert!(
        out.contains("Forked collection side from f42 (2 packages, 1 builds copied)"),
        "{out}"
    );
}

#[test]
fn notice_and_cleanup() {
    let db = TestDb::new().unwrap();
    ok(&db, &["set-notice", "Koji outage <today>"]);
    assert_eq!(
        scalar::<String>(
            &db,
            "SELECT content FROM admin_notice WHERE key = 'global_notice'"
        ),
        "Koji outage <today>"
    );
    ok(&db, &["clear-notice"]);
    assert_eq!(scalar::<i64>(&db, "SELECT count(*) FROM admin_notice"), 0);

    with_collection(&db, "f40", &["bash"]);
    add_build(&db, "f40", "bash", 1, "9 months", 3);
    add_build(&db, "f40", "bash", 2, "8 months", 5);
    add_build(&db, "f40", "bash", 3, "7 months", 3);
    fails(&db, &["cleanup", "--older-than", "1"], 2);
    let out = ok(&db, &["cleanup", "--older-than", "6"]);
    assert_eq!(
        out.trim(),
        "Cleanup: Deleted 2 builds, 0 resolution changes"
    );
    assert_eq!(scalar::<i32>(&db, "SELECT task_id FROM build"), 3);
}
