//! The web's queries (`db::web`) against straightforward SQL on a real database: the stored
//! list keys and counts of migration 0007 give the same pages and totals as evaluating the
//! order and counting, and the web's connections cannot write.

use koschei_core::db::testing::TestDb;
use koschei_core::db::web::{
    self, Direction, ListFilter, ListQuery, OrderKey, Reader, TimePriority, UnifiedOrderKey,
    UnifiedQuery,
};
use koschei_core::model::{CollectionId, PackageGroupId};
use postgres::Client;

/// Two collections with packages in every state: tracked or not, blocked or not, resolved
/// true/false/null, no build, running build, failed or complete last build, in groups.
fn seed(c: &mut Client) {
    c.batch_execute(
        "INSERT INTO collection (id, name, display_name, target, dest_tag, build_tag,
                                 latest_repo_id, latest_repo_resolved)
         VALUES (1, 'f1', 'F 1', 'f1', 'f1', 'f1-build', 10, true),
                (2, 'f2', 'F 2', 'f2', 'f2', 'f2-build', NULL, NULL);
         INSERT INTO base_package (name)
         SELECT 'pkg' || lpad(i::text, 3, '0') FROM generate_series(1, 120) i;
         INSERT INTO package (base_id, name, collection_id, tracked, blocked, resolved,
                              manual_priority, dependency_priority)
         SELECT b.id, b.name, c.id, b.id % 7 <> 0, b.id % 11 = 0,
                CASE WHEN b.id % 5 = 0 THEN false WHEN b.id % 13 = 0 THEN NULL ELSE true END,
                (b.id * 37) % 300, (b.id % 4) * 50
         FROM base_package b CROSS JOIN collection c
         WHERE c.id = 1 OR b.id % 3 = 0;
         -- Builds: none for every 9th package, else one or two; the newest runs for every
         -- 8th, failed for every 6th.
         INSERT INTO build (package_id, state, task_id, started, finished, version, release,
                            repo_id, deps_resolved)
         SELECT p.id,
                CASE WHEN g.i = 2 AND p.id % 8 = 0 THEN 2 WHEN p.id % 6 = 0 THEN 5 ELSE 3 END,
                1000 + p.id * 4 + g.i,
                now() - ((p.id % 17) + 3 - g.i) * interval '7 hours',
                CASE WHEN g.i = 2 AND p.id % 8 = 0 THEN NULL
                     ELSE now() - ((p.id % 17) + 3 - g.i) * interval '7 hours' + interval '1 hour'
                END,
                '1', '1.' || g.i, 5, true
         FROM package p CROSS JOIN generate_series(1, 2) g(i)
         WHERE p.id % 9 <> 0 AND (g.i = 1 OR p.id % 2 = 0);
         INSERT INTO package_group (namespace, name) VALUES (NULL, 'g1'), ('ns', 'g2');
         INSERT INTO package_group_relation (group_id, base_id)
         SELECT 1 + b.id % 2, b.id FROM base_package b WHERE b.id % 4 = 0;
         INSERT INTO package_group_relation (group_id, base_id)
         SELECT 2, b.id FROM base_package b WHERE b.id % 8 = 0 AND b.id % 2 = 0
         ON CONFLICT DO NOTHING;",
    )
    .unwrap();
}

/// The listed packages of a collection counted directly, as the list did before the stored
/// counts.
fn counted(c: &mut Client, collection: i32, untracked: bool) -> i64 {
    c.query_one(
        "SELECT count(*) FROM package
         WHERE collection_id = $1 AND NOT blocked AND (tracked OR $2)",
        &[&collection, &untracked],
    )
    .unwrap()
    .get(0)
}

/// `package_count` against a direct count, for every collection and both views.
fn check_counts(c: &mut Client, db: &TestDb, step: &str) {
    let pool = db.pool(1).unwrap();
    let mut r = Reader::new(pool.get().unwrap());
    for cid in [1, 2, 3] {
        for untracked in [false, true] {
            let page =
                web::package_list(&mut r, &query(cid, untracked, ListFilter::All, 0, 5)).unwrap();
            assert_eq!(
                page.total,
                counted(c, cid, untracked),
                "{step}: collection {cid}, untracked {untracked}"
            );
        }
    }
}

fn query(cid: i32, untracked: bool, filter: ListFilter, offset: i64, limit: i64) -> ListQuery {
    ListQuery {
        collection: CollectionId(cid),
        filter,
        untracked,
        order: vec![
            (OrderKey::Running, Direction::Asc),
            (OrderKey::State, Direction::Asc),
            (OrderKey::Name, Direction::Asc),
        ],
        offset,
        limit,
        time_priority: TimePriority {
            a: 177.0,
            b: -137.0,
            now: koschei_core::service::now(),
        },
    }
}

#[test]
fn stored_counts_follow_inserts_flag_changes_moves_and_deletes() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    seed(&mut c);
    check_counts(&mut c, &db, "seeded");
    let steps = [
        (
            "untrack",
            "UPDATE package SET tracked = false WHERE id % 5 = 1",
        ),
        (
            "track",
            "UPDATE package SET tracked = true WHERE id % 10 = 1",
        ),
        (
            "block",
            "UPDATE package SET blocked = true WHERE id % 6 = 2",
        ),
        (
            "block and untrack",
            "UPDATE package SET blocked = NOT blocked, tracked = NOT tracked WHERE id % 9 = 4",
        ),
        (
            "no flag change",
            "UPDATE package SET manual_priority = 7, tracked = tracked WHERE id % 2 = 0",
        ),
        ("delete", "DELETE FROM package WHERE id % 7 = 3"),
        (
            "insert",
            "INSERT INTO collection (id, name, display_name, target, dest_tag, build_tag)
             VALUES (3, 'f3', 'F 3', 'f3', 'f3', 'f3-build');
             INSERT INTO package (base_id, name, collection_id, tracked, blocked)
             SELECT id, name, 3, id % 2 = 0, id % 3 = 0 FROM base_package WHERE id < 40",
        ),
        (
            "move",
            "UPDATE package SET collection_id = 3
             WHERE collection_id = 2 AND base_id >= 40 AND base_id < 60",
        ),
        ("delete a collection", "DELETE FROM collection WHERE id = 2"),
    ];
    for (step, sql) in steps {
        c.batch_execute(sql).unwrap();
        check_counts(&mut c, &db, step);
    }
    // The deleted collection's count went with it.
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM package_count WHERE collection_id = 2",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    // A statement rolled back leaves the counts as they were.
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("UPDATE package SET tracked = NOT tracked")
        .unwrap();
    tx.rollback().unwrap();
    check_counts(&mut c, &db, "rolled back");
}

/// The names of a list page in the order of the original single query (order expressions
/// evaluated per row, `LIMIT`/`OFFSET` over the joined rows).
fn reference_page(c: &mut Client, q: &ListQuery, order_sql: &str) -> Vec<String> {
    let (filter, value): (&str, Box<dyn postgres::types::ToSql + Sync>) = match &q.filter {
        ListFilter::NameLike(p) => ("p.name ILIKE $5", Box::new(p.clone())),
        ListFilter::Group(g) => (
            "p.base_id IN (SELECT base_id FROM package_group_relation WHERE group_id = $5)",
            Box::new(g.0),
        ),
        _ => ("$5::int IS NULL", Box::new(None::<i32>)),
    };
    // The test's own order and filter texts; every value is a parameter.
    let sql = format!(
        "SELECT p.name FROM package p JOIN collection c ON c.id = p.collection_id
         LEFT JOIN build lb ON lb.id = p.last_build_id
         WHERE p.collection_id = $1 AND NOT p.blocked AND (p.tracked OR $2) AND {filter}
         ORDER BY {order_sql} LIMIT $3 OFFSET $4"
    );
    c.query(
        &sql,
        &[&q.collection.0, &q.untracked, &q.limit, &q.offset, &*value],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

const STATE_RANK: &str = "(CASE WHEN p.resolved = false THEN 0 WHEN p.resolved THEN 10 ELSE 20 END
     + CASE WHEN p.last_build_id IS DISTINCT FROM p.last_complete_build_id THEN 3
            WHEN p.last_complete_build_state = 5 THEN 1
            WHEN p.last_complete_build_state = 3 THEN 2
            ELSE 0 END)";
const RUNNING: &str = "(p.last_build_id IS DISTINCT FROM p.last_complete_build_id)";

#[test]
fn list_pages_and_totals_match_the_evaluated_order_and_a_count() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    seed(&mut c);
    let pool = db.pool(1).unwrap();
    let mut r = Reader::new(pool.get().unwrap());
    let orders: Vec<(Vec<(OrderKey, Direction)>, String)> = vec![
        (
            vec![
                (OrderKey::Running, Direction::Asc),
                (OrderKey::State, Direction::Asc),
                (OrderKey::Name, Direction::Asc),
            ],
            format!("{RUNNING} DESC, {STATE_RANK} ASC, p.name ASC"),
        ),
        (
            vec![(OrderKey::State, Direction::Desc)],
            format!("{STATE_RANK} DESC, p.name"),
        ),
        (
            vec![(OrderKey::Running, Direction::Desc)],
            format!("{RUNNING} ASC, p.name"),
        ),
        (
            vec![(OrderKey::Name, Direction::Desc)],
            "p.name DESC".to_owned(),
        ),
        (
            vec![(OrderKey::TaskId, Direction::Asc)],
            "lb.task_id ASC NULLS LAST, p.name".to_owned(),
        ),
        (
            vec![
                (OrderKey::Started, Direction::Desc),
                (OrderKey::State, Direction::Asc),
            ],
            format!("lb.started DESC NULLS LAST, {STATE_RANK} ASC, p.name"),
        ),
    ];
    let filters = [
        ListFilter::All,
        ListFilter::NameLike("%1%".to_owned()),
        ListFilter::Group(PackageGroupId(1)),
    ];
    for cid in [1, 2] {
        for untracked in [false, true] {
            for filter in &filters {
                for (order, order_sql) in &orders {
                    let total = {
                        let mut q = query(cid, untracked, filter.clone(), 0, 1000);
                        q.order = order.clone();
                        reference_page(&mut c, &q, order_sql).len()
                    };
                    // Pages of 7 over the whole list, and one past the end.
                    for offset in (0..=total + 7).step_by(7) {
                        let mut q = query(cid, untracked, filter.clone(), offset as i64, 7);
                        q.order = order.clone();
                        let page = web::package_list(&mut r, &q).unwrap();
                        let names: Vec<String> = page.rows.iter().map(|p| p.name.clone()).collect();
                        let what = format!(
                            "collection {cid}, untracked {untracked}, {filter:?}, {order:?}, offset {offset}"
                        );
                        assert_eq!(names, reference_page(&mut c, &q, order_sql), "{what}");
                        assert_eq!(page.total, total as i64, "{what}");
                    }
                }
            }
        }
    }
    // A page's rows carry their groups as `groups_of` gives them.
    let mut q = query(1, true, ListFilter::All, 0, 1000);
    q.order = vec![(OrderKey::Name, Direction::Asc)];
    let page = web::package_list(&mut r, &q).unwrap();
    let bases: Vec<_> = page.rows.iter().map(|p| p.base_id).collect();
    let groups = web::groups_of(&mut r, &bases).unwrap();
    for row in &page.rows {
        let expected: Vec<String> = groups
            .iter()
            .filter(|(b, _)| *b == row.base_id)
            .map(|(_, g)| g.clone())
            .collect();
        assert_eq!(row.groups, expected, "{}", row.name);
    }
    assert!(page.rows.iter().any(|p| p.groups.len() == 2));
    // The unified list's totals and order over both collections.
    let unified = web::unified_list(
        &mut r,
        &UnifiedQuery {
            collections: vec![CollectionId(1), CollectionId(2)],
            filter: ListFilter::All,
            untracked: false,
            order: vec![(UnifiedOrderKey::Running, Direction::Asc)],
            offset: 0,
            limit: 1000,
        },
    )
    .unwrap();
    let expected: Vec<String> = c
        .query(
            &format!(
                "SELECT p.name FROM package p WHERE p.collection_id IN (1, 2)
                 AND NOT p.blocked AND p.tracked
                 GROUP BY p.base_id, p.name ORDER BY bool_or({RUNNING}) DESC, p.name"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let names: Vec<String> = unified.rows.iter().map(|u| u.name.clone()).collect();
    assert_eq!(names, expected);
    assert_eq!(unified.total, expected.len() as i64);
}

#[test]
fn the_web_session_refuses_writes() {
    let db = TestDb::new().unwrap();
    let mut c = db.connect().unwrap();
    seed(&mut c);
    let pool = db.pool(1).unwrap();
    {
        let mut r = Reader::new(pool.get().unwrap());
        assert_eq!(web::collections(&mut r).unwrap().len(), 2);
    }
    // The same connection, back from the pool, is read-only for good.
    let mut conn = pool.get().unwrap();
    let e = conn
        .batch_execute("UPDATE collection SET \"order\" = 5")
        .unwrap_err();
    assert_eq!(
        e.code().map(|c| c.code()),
        Some("25006"),
        "read-only transaction expected: {e}"
    );
    // And its prepared statements are reused by the next request on it.
    let mut r = Reader::new(conn);
    assert_eq!(web::collections(&mut r).unwrap().len(), 2);
    assert!(format!("{r:?}").contains("statements: 1"), "{r:?}");
}
