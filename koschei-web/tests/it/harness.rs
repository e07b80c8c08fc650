//! Test support: a private database per test (created on the PostgreSQL server named by
//! `KOSCHEI_TEST_DATABASE_URL`, schema applied from the migrations, dropped afterwards),
//! a seeded scenario, a running server and a minimal HTTP client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use koschei_core::model::Evr;
use postgres::Client;

/// A fresh migrated database (the shared harness of `koschei_core::db::testing`), dropped
/// with the value.
pub(crate) struct TestDb(koschei_core::db::testing::TestDb);

impl TestDb {
    pub(crate) fn new() -> TestDb {
        TestDb(
            koschei_core::db::testing::TestDb::new()
                .unwrap_or_else(|e| panic!("{}", koschei_core::db::report(&e))),
        )
    }

    /// A database without any tables (not migrated).
    pub(crate) fn empty() -> TestDb {
        TestDb(
            koschei_core::db::testing::TestDb::empty()
                .unwrap_or_else(|e| panic!("{}", koschei_core::db::report(&e))),
        )
    }

    /// The connection string (with its password, for a spawned server).
    pub(crate) fn url(&self) -> String {
        self.0.url().expose().to_owned()
    }

    /// The database name.
    pub(crate) fn name(&self) -> &str {
        self.0.name()
    }

    /// A pool as the `koschei-web` binary opens it (lazy, no test on checkout).
    pub(crate) fn lazy_pool(&self, size: u32) -> koschei_web::Pool {
        koschei_web::lazy_pool(self.url().parse().unwrap(), size)
    }

    pub(crate) fn client(&self) -> Client {
        self.0.connect().expect("connect to the test database")
    }

    pub(crate) fn pool(&self) -> koschei_web::Pool {
        self.0.pool(4).expect("pool on the test database")
    }
}

/// A response as the tests look at it.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole response.
pub(crate) fn request(base: &str, method: &str, path: &str) -> Resp {
    try_request(base, method, path, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// [`request`] that reports connection errors and gives up after `timeout`.
pub(crate) fn try_request(
    base: &str,
    method: &str,
    path: &str,
    timeout: Duration,
) -> std::io::Result<Resp> {
    let addr = base.trim_start_matches("http://");
    let sockaddr: std::net::SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    let mut s = TcpStream::connect_timeout(&sockaddr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    // tiny_http may answer with chunked encoding; undo it.
    let body = if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n..];
        s = s.strip_prefix("\r\n").unwrap_or(s);
    }
    out
}

pub(crate) fn get(base: &str, path: &str) -> Resp {
    request(base, "GET", path)
}

/// Seeds the scenario most tests use and returns nothing; ids are fixed by insertion order.
///
/// Collections: `f25` "Fedora Rawhide" (order 100, buildroot ok) and `epel7` "EPEL 7"
/// (order 50, buildroot unresolved with one problem), collection group "Fedora" = {f25}.
/// Packages in f25: `rnv` (failing; builds 1001 complete, 1002 failed with tasks and applied
/// changes), `eclipse` (ok, then a running build), `xpp3` (no builds, unknown), `bar`
/// (unresolved with problems), `<script>alert(1)</script>` (ok), `untracked-pkg`,
/// `blocked-pkg`; `baz` (failed twice). In epel7: `rnv` (ok), `xpp3` (unknown).
pub(crate) fn seed(c: &mut Client) {
    c.batch_execute(
        "INSERT INTO collection (id, \"order\", name, display_name, target, dest_tag, build_tag,
                                 bugzilla_product, bugzilla_version, latest_repo_id, latest_repo_resolved)
         VALUES (1, 100, 'f25', 'Fedora Rawhide', 'f25', 'f25', 'f25-build', 'Fedora', '25', 123, true),
                (2, 50, 'epel7', 'EPEL 7', 'epel7', 'epel7', 'epel7-build', NULL, NULL, 77, false);
         INSERT INTO buildroot_problem (collection_id, problem)
         VALUES (2, 'nothing provides <gcc> needed by build group');
         INSERT INTO collection_group (id, name, display_name) VALUES (1, 'fedora', 'Fedora');
         INSERT INTO collection_group_relation VALUES (1, 1);
         INSERT INTO admin_notice VALUES ('global_notice', 'Koji outage <tonight>');
         INSERT INTO base_package (id, name) VALUES
            (1, 'rnv'), (2, 'eclipse'), (3, 'xpp3'), (4, 'bar'),
            (5, '<script>alert(1)</script>'), (6, 'untracked-pkg'), (7, 'blocked-pkg'), (8, 'baz'),
            (9, '<script>document.title=''XSS''</script>');
         INSERT INTO package (id, base_id, name, collection_id, tracked, blocked, resolved,
                              manual_priority, static_priority, dependency_priority, arch_override)
         VALUES (1, 1, 'rnv', 1, true, false, true, 5, 7, 30, 'x86_64 ^armhfp'),
                (2, 2, 'eclipse', 1, true, false, true, 0, 0, 0, NULL),
                (3, 3, 'xpp3', 1, true, false, NULL, 0, 0, 0, NULL),
                (4, 4, 'bar', 1, true, false, false, 0, 0, 0, NULL),
                (5, 5, '<script>alert(1)</script>', 1, true, false, true, 0, 0, 0, NULL),
                (6, 6, 'untracked-pkg', 1, false, false, NULL, 0, 0, 0, NULL),
                (7, 7, 'blocked-pkg', 1, true, true, NULL, 0, 0, 0, NULL),
                (8, 8, 'baz', 1, true, false, true, 0, 0, 0, NULL),
                (9, 9, '<script>document.title=''XSS''</script>', 1, true, false, true, 0, 0, 0, NULL),
                (11, 1, 'rnv', 2, true, false, true, 0, 0, 0, NULL),
                (13, 3, 'xpp3', 2, true, false, NULL, 0, 0, 0, NULL);
         INSERT INTO build (id, package_id, state, task_id, started, finished, epoch, version, release,
                            repo_id, deps_resolved, real)
         VALUES (1, 1, 3, 1001, '2017-10-01 10:00:00+00', '2017-10-01 11:00:00+00', NULL, '1.7.11', '14.fc25', 120, true, false),
                (2, 1, 5, 456789, '2017-10-05 10:00:00+00', '2017-10-05 10:30:00+00', NULL, '1.7.11', '15.fc25', 121, true, false),
                (3, 2, 3, 2001, '2017-10-02 10:00:00+00', '2017-10-02 12:00:00+00', 1, '4.7.2', '2.fc25', 120, true, true),
                (4, 2, 2, 2002, '2017-10-09 10:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, false),
                (5, 5, 3, 5001, '2017-10-03 10:00:00+00', '2017-10-03 10:10:00+00', NULL, '1', '1.fc25', 120, true, false),
                (6, 8, 5, 8001, '2017-10-01 09:00:00+00', '2017-10-01 09:10:00+00', NULL, '1', '1.fc25', 120, true, false),
                (7, 8, 5, 8002, '2017-10-06 09:00:00+00', '2017-10-06 09:10:00+00', NULL, '1', '2.fc25', 121, true, false),
                (8, 11, 3, 11001, '2017-10-04 09:00:00+00', '2017-10-04 09:10:00+00', NULL, '1.7.11', '15.el7', 70, NULL, false),
                (9, 9, 3, 9001, '2017-10-03 10:00:00+00', '2017-10-03 10:10:00+00', NULL, '1', '1.fc25', 120, true, false);
         INSERT INTO koji_task (build_id, task_id, arch, state, started, finished)
         VALUES (2, 456790, 'x86_64', 5, '2017-10-05 10:01:00+00', '2017-10-05 10:29:00+00'),
                (2, 456791, 'i386', 2, '2017-10-05 10:01:00+00', '2017-10-05 10:20:00+00'),
                (1, 1003, 'x86_64', 2, '2017-10-01 10:01:00+00', '2017-10-01 10:59:00+00');
         INSERT INTO resolution_change (id, package_id, resolved, \"timestamp\")
         VALUES (1, 4, true, '2017-09-01 00:00:00+00'), (2, 4, false, '2017-10-07 00:00:00+00'),
                (3, 1, true, '2017-10-03 00:00:00+00');
         INSERT INTO resolution_problem (resolution_id, problem)
         VALUES (2, 'nothing provides libfoo.so.2()(64bit) needed by bar-1-1.fc25.x86_64');
         INSERT INTO package_group (id, namespace, name) VALUES (1, NULL, 'java'), (2, 'alice', 'tools');
         INSERT INTO package_group_relation VALUES (1, 1), (1, 2), (1, 7), (2, 3);",
    )
    .unwrap();
    let deps: [(i32, &str, &str); 5] = [
        (1, "foo", "1.0-1"),
        (2, "foo", "2.0-1"),
        (3, "foo", "5.0-1"),
        (4, "libx", "3.1-2"),
        (5, "libx", "3.1-10"),
    ];
    for (id, name, evr) in deps {
        let e = Evr::parse(evr).unwrap();
        c.execute(
            "INSERT INTO dependency (id, name, epoch, version, release, arch, evr_key)
             VALUES ($1, $2, $3, $4, $5, 'x86_64', $6)",
            &[&id, &name, &e.epoch, &e.version, &e.release, &e.sort_key()],
        )
        .unwrap();
    }
    c.batch_execute(
        "INSERT INTO applied_change (build_id, prev_dep_id, curr_dep_id, distance)
         VALUES (2, 1, 2, 1), (2, NULL, 4, 2),
                (7, 2, 3, 1);
         INSERT INTO unapplied_change (package_id, prev_dep_id, curr_dep_id, distance)
         VALUES (1, 4, 5, 2), (1, 2, 3, NULL);
         REFRESH MATERIALIZED VIEW scalar_stats;
         REFRESH MATERIALIZED VIEW resource_consumption_stats;",
    )
    .unwrap();
}

/// A seeded database and a server on a free port.
pub(crate) struct App {
    pub(crate) server: koschei_web::Server,
    pub(crate) db: TestDb,
}

impl App {
    pub(crate) fn start() -> App {
        Self::start_with(koschei_web::Options::default())
    }

    pub(crate) fn start_with(options: koschei_web::Options) -> App {
        let db = TestDb::new();
        seed(&mut db.client());
        let pool = db.pool();
        Self::serve(db, pool, options)
    }

    /// Like [`App::start_with`] over a pool as the binary opens it.
    pub(crate) fn start_lazy(options: koschei_web::Options) -> App {
        let db = TestDb::new();
        seed(&mut db.client());
        let pool = db.lazy_pool(4);
        Self::serve(db, pool, options)
    }

    fn serve(db: TestDb, pool: koschei_web::Pool, options: koschei_web::Options) -> App {
        let options = koschei_web::Options {
            workers: 2,
            koji_weburl: "https://koji.example/koji".into(),
            koji_topurl: "https://pkgs.example".into(),
            ..options
        };
        let server = koschei_web::serve("127.0.0.1:0", pool, options).unwrap();
        App { server, db }
    }

    pub(crate) fn get(&self, path: &str) -> Resp {
        get(&self.server.url(), path)
    }
}
