//! Collection repository functions on a real database.

use koschei_core::db::collection::{self, CollectionUpdate, NewCollection};
use koschei_core::db::testing::TestDb;
use koschei_core::db::{Error, package};
use koschei_core::model::CollectionState;

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn create_update_and_delete() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    let f40 = collection::create(
        &mut c,
        &NewCollection::new("f40", "Fedora 40", "f40", "f40-build"),
    )
    .unwrap();
    assert_eq!(f40.dest_tag, "f40-build");
    assert_eq!(f40.state, CollectionState::Unknown);
    let e = collection::create(&mut c, &NewCollection::new("f40", "x", "y", "z")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::AlreadyExists {
                what: "collection",
                ..
            }
        ),
        "{e}"
    );
    let e = collection::create(&mut c, &NewCollection::new("bad name", "x", "y", "z")).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e}");

    let u = CollectionUpdate {
        bugzilla_product: Some(Some("Fedora".to_owned())),
        order: Some(3),
        ..CollectionUpdate::default()
    };
    let f40 = collection::update(&mut c, f40.id, &u).unwrap();
    assert_eq!(
        (f40.order, f40.bugzilla_product.as_deref()),
        (3, Some("Fedora"))
    );
    let u = CollectionUpdate {
        bugzilla_product: Some(None),
        ..CollectionUpdate::default()
    };
    assert_eq!(
        collection::update(&mut c, f40.id, &u)
            .unwrap()
            .bugzilla_product,
        None
    );

    package::insert(&mut c, f40.id, "bash").unwrap();
    assert_eq!(collection::package_count(&mut c, f40.id).unwrap(), 1);
    collection::delete(&mut c, f40.id).unwrap();
    assert!(collection::find(&mut c, "f40").unwrap().is_none());
    assert_eq!(count(&mut c, "SELECT count(*) FROM package"), 0);
    assert!(matches!(
        collection::get(&mut c, "f40").unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[test]
fn copy_contents_copies_history_but_not_unapplied_changes() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    let src = collection::create(&mut c, &NewCollection::new("src", "S", "t", "b")).unwrap();
    let dst = collection::create(&mut c, &NewCollection::new("dst", "D", "t2", "b2")).unwrap();
    let bash = package::insert(&mut c, src.id, "bash").unwrap();
    c.execute(
        "UPDATE package SET tracked = true, manual_priority = 5, arch_override = 'x86_64' WHERE id = $1",
        &[&bash.0],
    )
    .unwrap();
    c.batch_execute(&format!(
        "INSERT INTO dependency (name, version, release, arch, evr_key) VALUES ('glibc', '1', '1', 'x86_64', '\\x00'), ('glibc', '2', '1', 'x86_64', '\\x01');
         INSERT INTO build (package_id, state, task_id, started, finished, version, release, repo_id)
             VALUES ({p}, 3, 10, now() - interval '3 months', now() - interval '3 months', '1', '1', 1),
                    ({p}, 5, 11, now() - interval '2 days', now() - interval '2 days', '1', '2', 2),
                    ({p}, 2, 12, now() - interval '1 hour', NULL, NULL, NULL, NULL);
         INSERT INTO koji_task (build_id, task_id, arch, state, started)
             SELECT id, task_id + 1000, 'x86_64', 2, started FROM build;
         INSERT INTO applied_change (build_id, prev_dep_id, curr_dep_id, distance)
             SELECT b.id, d1.id, d2.id, 1 FROM build b, dependency d1, dependency d2
             WHERE b.task_id = 11 AND d1.version = '1' AND d2.version = '2';
         INSERT INTO unapplied_change (package_id, prev_dep_id, curr_dep_id)
             SELECT {p}, d1.id, d2.id FROM dependency d1, dependency d2 WHERE d1.version = '1' AND d2.version = '2';
         WITH rc AS (INSERT INTO resolution_change (package_id, resolved) VALUES ({p}, false) RETURNING id)
         INSERT INTO resolution_problem (resolution_id, problem) SELECT id, 'nothing provides foo' FROM rc;",
        p = bash.0
    ))
    .unwrap();

    let (packages, builds) = collection::copy_contents(&mut c, src.id, dst.id, false).unwrap();
    assert_eq!(
        (packages, builds),
        (1, 2),
        "the last complete build and the recent running one"
    );
    let copy = package::by_name(&mut c, "bash", Some(dst.id))
        .unwrap()
        .remove(0);
    assert!(copy.tracked);
    assert_eq!(copy.manual_priority, 5);
    assert_eq!(copy.arch_override.as_deref(), Some("x86_64"));
    assert_eq!(copy.last_build.as_ref().unwrap().task_id, 12);
    assert_eq!(copy.state.as_str(), "failing");
    let in_dst = |what: &str| {
        format!(
            "SELECT count(*) FROM {what} x JOIN build b ON b.id = x.build_id JOIN package p ON p.id = b.package_id WHERE p.collection_id = {}",
            dst.id
        )
    };
    assert_eq!(count(&mut c, &in_dst("koji_task")), 2);
    assert_eq!(count(&mut c, &in_dst("applied_change")), 1);
    assert_eq!(
        count(
            &mut c,
            &format!(
                "SELECT count(*) FROM unapplied_change WHERE package_id = {}",
                copy.id
            )
        ),
        0
    );
    assert_eq!(
        count(
            &mut c,
            &format!(
                "SELECT count(*) FROM resolution_problem rp JOIN resolution_change rc ON rc.id = rp.resolution_id WHERE rc.package_id = {}",
                copy.id
            )
        ),
        1
    );

    // A minimal copy takes only the last complete build.
    let min = collection::create(&mut c, &NewCollection::new("min", "M", "t3", "b3")).unwrap();
    assert_eq!(
        collection::copy_contents(&mut c, src.id, min.id, true).unwrap(),
        (1, 1)
    );
}

#[test]
fn unknown_collection_in_group_contents_changes_nothing() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    collection::create(&mut c, &NewCollection::new("f40", "F", "t", "b")).unwrap();
    let g = collection::create_group(&mut c, "fedora", "Fedora").unwrap();
    collection::set_group_contents(&mut c, g, &["f40".to_owned()]).unwrap();
    let e = collection::set_group_contents(&mut c, g, &["f39".to_owned(), "epel".to_owned()])
        .unwrap_err();
    assert_eq!(e.to_string(), "collection `f39, epel` does not exist");
    assert_eq!(
        collection::get_group(&mut c, "fedora").unwrap().collections,
        ["f40"]
    );
}
