//! Route tests over real HTTP against a seeded PostgreSQL database.

use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;

use crate::harness::{App, get, request};

fn visible(html: &str, needle: &str) {
    assert!(html.contains(needle), "expected {needle:?} in:\n{html}");
}

fn absent(html: &str, needle: &str) {
    assert!(
        !html.contains(needle),
        "did not expect {needle:?} in:\n{html}"
    );
}

/// Index of `needle` in `html`, failing when absent.
fn pos(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("expected {needle:?} in:\n{html}"))
}

#[test]
fn package_list_shows_states_orders_and_pages() {
    let app = App::start();
    let r = app.get("/?collection=f25");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = &r.body;
    visible(html, "Package summary");
    visible(html, "Packages from 1 to 7 from total 7");
    // Default order running,state,name: the running build first, unresolved next,
    // failing before ok, the not-yet-resolved package last.
    let order = [
        "/package/eclipse",
        "/package/bar",
        "/package/baz",
        "/package/rnv",
        "/package/xpp3",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|n| pos(html, &format!("href=\"{n}?collection=f25\"")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    visible(
        html,
        r#"<span class="state state-failing" title="failing">failing</span>"#,
    );
    visible(
        html,
        r#"<span class="state state-unresolved" title="unresolved">unresolved</span>"#,
    );
    visible(
        html,
        r#"<a href="https://koji.example/koji/taskinfo?taskID=456789">456789</a>"#,
    );
    visible(html, "2017-10-05 10:00");
    visible(html, r#"href="/groups/java?collection=f25">java</a>"#);
    absent(html, "untracked-pkg");
    absent(html, "blocked-pkg");
    // Hostile names are text.
    visible(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    absent(html, "<script>");

    let r = app.get("/packages?collection=f25&untracked=1&order_by=-name");
    visible(&r.body, "Packages from 1 to 8 from total 8");
    assert!(pos(&r.body, ">xpp3<") < pos(&r.body, ">untracked-pkg<"));
    assert!(pos(&r.body, ">untracked-pkg<") < pos(&r.body, ">rnv<"));
    absent(&r.body, "blocked-pkg");

    // Highest priority first; packages that cannot be scheduled last.
    let r = app.get("/packages?collection=f25&order_by=-current_priority");
    assert!(pos(&r.body, ">rnv<") < pos(&r.body, ">baz<"));
    assert!(pos(&r.body, ">baz<") < pos(&r.body, ">eclipse<"));

    // Unknown order keys are ignored, not an error.
    assert_eq!(
        app.get("/packages?collection=f25&order_by=drop,name")
            .status,
        200
    );
    assert_eq!(app.get("/packages?collection=f25&page=0").status, 400);
    assert_eq!(app.get("/packages?collection=f25&page=x").status, 400);
    assert_eq!(app.get("/packages?collection=nope").status, 404);
    visible(
        &app.get("/packages?collection=nope").body,
        "Collection nope not found",
    );
}

#[test]
fn pagination_splits_the_list() {
    let app = App::start_with(koschei_web::Options {
        packages_per_page: 3,
        ..koschei_web::Options::default()
    });
    let p1 = app.get("/packages?collection=f25&order_by=name");
    visible(&p1.body, "Packages from 1 to 3 from total 7");
    visible(&p1.body, "Page 1 of 3");
    visible(
        &p1.body,
        r#"href="/packages?collection=f25&amp;order_by=name&amp;page=2""#,
    );
    let p3 = app.get("/packages?collection=f25&order_by=name&page=3");
    visible(&p3.body, "Packages from 7 to 7 from total 7");
    visible(&p3.body, ">xpp3<");
    absent(&p3.body, ">rnv<");
}

#[test]
fn unified_view_has_a_column_per_collection_and_banners() {
    let app = App::start();
    let r = app.get("/");
    assert_eq!(r.status, 200);
    let html = &r.body;
    visible(html, ">Fedora Rawhide</a></th>");
    visible(html, ">EPEL 7</a></th>");
    visible(html, r#"href="/package/rnv?collection=epel7""#);
    // Admin notice and the unresolvable buildroot of epel7, escaped.
    visible(html, "Koji outage &lt;tonight&gt;");
    visible(html, "Base buildroot for EPEL 7 is not installable.");
    visible(html, "nothing provides &lt;gcc&gt; needed by build group");
    // Failing (or unresolved) in any collection sorts before ok.
    assert!(pos(html, ">bar<") < pos(html, "&gt;alert(1)&lt;"));
    // Only the selected collection's banner.
    let f25 = app.get("/?collection=f25");
    absent(&f25.body, "Base buildroot for EPEL 7");
    visible(&f25.body, "Koji outage &lt;tonight&gt;");
    let r = app.get("/?order_by=state-epel7,name");
    assert!(
        pos(&r.body, ">rnv<") < pos(&r.body, ">bar<"),
        "packages in epel7 first"
    );
}

#[test]
fn search_matches_substrings_and_wildcards() {
    let app = App::start();
    let r = app.get("/search?q=r*v&collection=f25");
    assert_eq!(r.status, 200);
    visible(&r.body, "Search results for “r*v”");
    visible(&r.body, "Packages from 1 to 1 from total 1");
    visible(&r.body, ">rnv<");
    let r = app.get("/search?q=XPP&collection=f25");
    visible(&r.body, ">xpp3<");
    // LIKE metacharacters match literally.
    let r = app.get("/search?q=_&collection=f25");
    visible(&r.body, "Packages from 1 to 0 from total 0");
    let r = app.get("/search?q=%25&collection=f25");
    visible(&r.body, "from total 0");
    assert_eq!(app.get("/search?q=a%00b").status, 400);
    assert_eq!(app.get("/package/a%00b").status, 400);
    let r = app.get("/search?q=&collection=f25");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/?collection=f25"));
}

#[test]
fn package_page_shows_scheduler_changes_history_and_tasks() {
    let app = App::start_with(koschei_web::Options {
        builds_per_page: 2,
        ..koschei_web::Options::default()
    });
    let r = app.get("/package/rnv");
    assert_eq!(r.status, 200);
    let html = &r.body;
    visible(html, "<h1>rnv <span class=\"state state-failing\"");
    visible(html, "Fedora Rawhide</a>");
    visible(html, "<th>Manual priority</th><td>5</td>");
    visible(html, "<th>Static priority</th><td>7</td>");
    visible(html, "<th>Arch override</th><td>x86_64 ^armhfp</td>");
    // Unapplied changes, first differing part highlighted.
    visible(html, r#"<span class="evr">3.1-<mark>2</mark></span>"#);
    visible(html, r#"<span class="evr">3.1-<mark>10</mark></span>"#);
    visible(html, r#"<span class="evr"><mark>5.0</mark>-1</span>"#);
    assert!(
        pos(html, ">libx<") < pos(html, ">foo<"),
        "distance 2 before no distance"
    );
    // Other collections and groups.
    visible(html, r#"href="/package/rnv?collection=epel7">EPEL 7</a>"#);
    visible(html, r#"href="/groups/java">java</a>"#);
    // Newest history first: build 2 with its tasks and changes, then the resolution change.
    visible(html, r#"href="/build/2">Build 2</a>"#);
    visible(
        html,
        r#"href="https://pkgs.example/work/tasks/6790/456790/build.log">build.log</a>"#,
    );
    visible(
        html,
        r#"href="https://pkgs.example/work/tasks/6791/456791/root.log">root.log</a>"#,
    );
    visible(
        html,
        r#"href="https://koji.example/koji/taskinfo?taskID=456790">456790</a>"#,
    );
    visible(html, "Dependencies became resolvable");
    assert!(
        pos(html, "i386") < pos(html, "x86_64</span>"),
        "tasks ordered by arch"
    );
    visible(
        html,
        "/affected-by/foo?collection=f25&amp;epoch1=0&amp;version1=1.0&amp;release1=1&amp;epoch2=0&amp;version2=2.0&amp;release2=1",
    );
    absent(html, ">Build 1</a>");
    // Two entries per page: the link leads to the older build.
    let link = "/package/rnv?collection=f25&amp;last_seen_ts=1506988800";
    visible(html, link);
    let older = app.get(&link.replace("&amp;", "&"));
    visible(&older.body, "Older history");
    visible(&older.body, ">Build 1</a>");
    absent(&older.body, ">Build 2</a>");
    for bad in ["yesterday", "-1", "99999999999999999", "1e9"] {
        let r = app.get(&format!("/package/rnv?last_seen_ts={bad}"));
        assert_eq!(r.status, 400, "{bad}");
        visible(&r.body, "invalid value");
    }
    // Far in the past is just an empty history page.
    visible(
        &app.get("/package/rnv?last_seen_ts=0").body,
        "No builds or resolution changes.",
    );

    // The same package in the other collection; unresolved packages list their problems.
    let r = app.get("/package/rnv?collection=epel7");
    visible(&r.body, "Dependency changes weren't processed yet.");
    visible(&r.body, "Base buildroot for EPEL 7 is not resolvable");
    let r = app.get("/package/bar");
    visible(
        &r.body,
        "nothing provides libfoo.so.2()(64bit) needed by bar-1-1.fc25.x86_64",
    );
    visible(&r.body, "Package dependencies are not resolvable");
    visible(&r.body, "Dependencies became unresolvable");
    let r = app.get("/package/eclipse");
    visible(&r.body, "Package has a running build");
    visible(&r.body, "real</span>");

    let r = app.get("/package/nope");
    assert_eq!(r.status, 404);
    visible(&r.body, "Package nope not found");
    assert_eq!(app.get("/package/rnv?collection=nope").status, 404);
}

#[test]
fn build_collection_group_and_stats_pages() {
    let app = App::start();
    let r = app.get("/build/2");
    assert_eq!(r.status, 200);
    visible(&r.body, "Build 2 of");
    visible(&r.body, ">foo<");
    visible(&r.body, "added");
    assert_eq!(app.get("/build/999").status, 404);
    assert_eq!(app.get("/build/abc").status, 400);

    let r = app.get("/collections");
    visible(&r.body, "<h2>Fedora</h2>");
    visible(&r.body, "<h2>Uncategorized</h2>");
    assert!(pos(&r.body, "Fedora Rawhide") < pos(&r.body, "Uncategorized"));
    let rest = &r.body[pos(&r.body, "Uncategorized")..];
    visible(rest, ">EPEL 7</a>");
    let r = app.get("/collection/f25");
    visible(&r.body, "<th>Build tag</th><td>f25-build</td>");
    assert_eq!(app.get("/collection/nope").status, 404);

    let r = app.get("/groups");
    visible(
        &r.body,
        r#"href="/groups/java">java</a></td><td class="num">2</td>"#,
    );
    absent(&r.body, "alice/tools");
    let r = app.get("/groups/java?collection=f25");
    visible(&r.body, "Group java");
    visible(&r.body, ">rnv<");
    visible(&r.body, ">eclipse<");
    absent(&r.body, ">xpp3<");
    let r = app.get("/groups/alice/tools?collection=f25");
    visible(&r.body, ">xpp3<");
    assert_eq!(app.get("/groups/nope").status, 404);

    let r = app.get("/stats");
    visible(&r.body, "<th>Packages</th><td class=\"num\">11</td>");
    visible(&r.body, "<th>Blocked packages</th><td class=\"num\">1</td>");
    visible(&r.body, "<th>Real builds</th><td class=\"num\">1</td>");
    visible(&r.body, "<th>Scratch builds</th><td class=\"num\">8</td>");
    visible(&r.body, "1 h 26 min 00 s");
    visible(&r.body, "81.90 %");

    let r = app.get("/documentation");
    visible(&r.body, "How it works?");
    assert_eq!(app.get("/no/such/page").status, 404);
}

#[test]
fn affected_by_lists_packages_that_started_failing() {
    let app = App::start();
    let q = "epoch1=0&version1=1.2&release1=3&epoch2=0&version2=4.5&release2=6";
    let r = app.get(&format!("/affected-by/foo?collection=f25&{q}"));
    assert_eq!(r.status, 200);
    visible(&r.body, ">rnv<");
    // baz failed after the same move, but its previous build had failed already.
    absent(&r.body, ">baz<");
    // A range that excludes 2.0-1 in RPM order.
    let r =
        app.get("/affected-by/foo?collection=f25&version1=2.0&release1=1&version2=4.5&release2=6");
    visible(&r.body, "No failed builds were affected");
    // Needs exactly one collection and both EVRs.
    assert_eq!(app.get(&format!("/affected-by/foo?{q}")).status, 400);
    assert_eq!(
        app.get("/affected-by/foo?collection=f25&version1=1").status,
        400
    );
    assert_eq!(
        app.get(
            "/affected-by/foo?collection=f25&epoch1=x&version1=1&release1=1&version2=2&release2=1"
        )
        .status,
        400
    );
}

#[test]
fn badges_static_files_and_methods() {
    let app = App::start();
    let r = app.get("/badge/f25/rnv.svg");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/svg+xml"));
    visible(&r.body, ">failing</text>");
    visible(&app.get("/badge/f25/eclipse.svg").body, ">ok</text>");
    assert_eq!(app.get("/badge/f25/nope.svg").status, 404);
    assert_eq!(app.get("/badge/nope/rnv.svg").status, 404);

    let css = app.get("/static/koschei.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=86400"));
    visible(&css.body, ".state-failing");

    let url = app.server.url();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = request(&url, method, "/package/rnv");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    let head = request(&url, "HEAD", "/");
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
    let page = app.get("/");
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("default-src 'none'"))
    );
    assert_eq!(app.get("/healthz").body, "ok\n");
}

#[test]
fn json_api_matches_the_original_shapes() {
    let app = App::start();
    let r = app.get("/api/v1/packages?name=rnv");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"name": "rnv", "collection": "f25", "state": "failing",
             "last_complete_build": {"task_id": 456789, "time_started": "2017-10-05T10:00:00",
                                     "time_finished": "2017-10-05T10:30:00", "epoch": null,
                                     "version": "1.7.11", "release": "15.fc25"}},
            {"name": "rnv", "collection": "epel7", "state": "ok",
             "last_complete_build": {"task_id": 11001, "time_started": "2017-10-04T09:00:00",
                                     "time_finished": "2017-10-04T09:10:00", "epoch": null,
                                     "version": "1.7.11", "release": "15.el7"}}
        ])
    );
    let all = app.get("/api/v1/packages").json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 11, "blocked and untracked included");
    let names: Vec<&str> = all.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names.len(), sorted.len());
    let xpp3 = all.iter().find(|p| p["name"] == "xpp3").unwrap();
    assert_eq!(xpp3["state"], "unknown");
    assert_eq!(xpp3["last_complete_build"], serde_json::Value::Null);
    let blocked = all.iter().find(|p| p["name"] == "blocked-pkg").unwrap();
    assert_eq!(blocked["state"], "blocked");

    let r = app
        .get("/api/v1/packages?name=rnv&name=xpp3&collection=epel7")
        .json();
    let got: Vec<(&str, &str)> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["collection"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("rnv", "epel7"), ("xpp3", "epel7")]);
    assert_eq!(
        app.get("/api/v1/packages?name=nope").json(),
        serde_json::json!([])
    );
    let r = app.get("/api/v1/packages?collection=nope");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "collection `nope` not found");

    let r = app.get("/api/v1/collections/diff/f25/epel7");
    assert_eq!(
        r.json(),
        serde_json::json!([{"name": "rnv", "state": {"f25": "failing", "epel7": "ok"}}])
    );
    assert_eq!(app.get("/api/v1/collections/diff/f25/nope").status, 404);

    let d = app.get("/api/v1/packages/rnv").json();
    assert_eq!(d["name"], "rnv");
    let f25 = &d["collections"][0];
    assert_eq!(f25["collection"], "f25");
    assert_eq!(f25["state"], "failing");
    assert_eq!(f25["manual_priority"], 5);
    assert!(f25["current_priority"].as_f64().unwrap() > 42.0);
    assert_eq!(f25["last_build"]["build_id"], 2);
    assert_eq!(
        f25["dependency_changes"],
        serde_json::json!([
            {"name": "libx", "prev_evr": "0:3.1-2", "curr_evr": "0:3.1-10", "distance": 2},
            {"name": "foo", "prev_evr": "0:2.0-1", "curr_evr": "0:5.0-1", "distance": null}
        ])
    );
    let bar = app.get("/api/v1/packages/bar").json();
    assert_eq!(
        bar["collections"][0]["current_priority"],
        serde_json::Value::Null
    );
    assert_eq!(
        bar["collections"][0]["problems"],
        serde_json::json!(["nothing provides libfoo.so.2()(64bit) needed by bar-1-1.fc25.x86_64"])
    );
    assert_eq!(app.get("/api/v1/packages/nope").status, 404);
    assert_eq!(app.get("/api/v1/nothing").status, 404);
}

#[test]
fn database_down_gives_503_plain_text() {
    // Nothing listens on port 1.
    let config: postgres::Config = "host=127.0.0.1 port=1 user=postgres connect_timeout=1"
        .parse()
        .unwrap();
    let pool = r2d2::Pool::builder()
        .max_size(1)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_millis(500))
        .build_unchecked(PostgresConnectionManager::new(config, postgres::NoTls));
    let server = koschei_web::serve("127.0.0.1:0", pool, koschei_web::Options::default()).unwrap();
    for path in [
        "/healthz",
        "/",
        "/package/rnv",
        "/api/v1/packages",
        "/badge/f25/rnv.svg",
    ] {
        let r = get(&server.url(), path);
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert!(
            r.body.contains("database unavailable"),
            "{path}: {}",
            r.body
        );
    }
    // Static files do not need the database.
    assert_eq!(get(&server.url(), "/static/koschei.css").status, 200);
    server.shutdown();
}

#[test]
fn responses_are_cached_for_the_ttl_only() {
    let cached = App::start_with(koschei_web::Options {
        cache_ttl: Duration::from_secs(600),
        ..koschei_web::Options::default()
    });
    let uncached = App::start_with(koschei_web::Options {
        cache_ttl: Duration::ZERO,
        ..koschei_web::Options::default()
    });
    for app in [&cached, &uncached] {
        visible(
            &app.get("/package/rnv").body,
            "<th>Manual priority</th><td>5</td>",
        );
        app.db
            .client()
            .execute("UPDATE package SET manual_priority = 77 WHERE id = 1", &[])
            .unwrap();
    }
    visible(
        &cached.get("/package/rnv").body,
        "<th>Manual priority</th><td>5</td>",
    );
    visible(
        &uncached.get("/package/rnv").body,
        "<th>Manual priority</th><td>77</td>",
    );
    // List totals are exact on every page (a stored count, not one shared for the cache's
    // lifetime).
    visible(&cached.get("/packages?collection=f25").body, "from total 7");
    visible(
        &uncached.get("/packages?collection=f25").body,
        "from total 7",
    );
    for app in [&cached, &uncached] {
        app.db
            .client()
            .execute("UPDATE package SET blocked = true WHERE name = 'baz'", &[])
            .unwrap();
    }
    let fresh_rows = cached.get("/packages?collection=f25&order_by=name").body;
    visible(&fresh_rows, "Packages from 1 to 6 from total 6");
    absent(&fresh_rows, ">baz<");
    visible(
        &uncached.get("/packages?collection=f25&order_by=name").body,
        "Packages from 1 to 6 from total 6",
    );
    // Another target is computed afresh; errors are never cached.
    visible(
        &cached.get("/package/rnv?collection=f25").body,
        "<td>77</td>",
    );
    assert_eq!(cached.get("/package/nope").status, 404);
}

#[test]
fn real_builds_of_secondary_mode_collections_link_to_the_secondary_koji() {
    let app = App::start_with(koschei_web::Options {
        secondary_koji_weburl: Some("https://secondary.example/koji".into()),
        secondary_koji_topurl: Some("https://secondary-pkgs.example".into()),
        cache_ttl: Duration::ZERO,
        ..koschei_web::Options::default()
    });
    // Primary mode: every build links to the primary Koji.
    let r = app.get("/package/eclipse");
    visible(
        &r.body,
        r#"href="https://koji.example/koji/taskinfo?taskID=2001""#,
    );
    absent(&r.body, "secondary.example");
    app.db
        .client()
        .execute(
            "UPDATE collection SET secondary_mode = true WHERE id = 1",
            &[],
        )
        .unwrap();
    // Secondary mode: the real build 3 (task 2001) links to the secondary Koji, the
    // running scratch build 4 (task 2002) still to the primary one.
    let r = app.get("/package/eclipse");
    visible(
        &r.body,
        r#"href="https://secondary.example/koji/taskinfo?taskID=2001""#,
    );
    visible(
        &r.body,
        r#"href="https://koji.example/koji/taskinfo?taskID=2002""#,
    );
    let r = app.get("/build/3");
    visible(
        &r.body,
        r#"href="https://secondary.example/koji/taskinfo?taskID=2001""#,
    );
}

#[test]
fn suspended_and_rate_limited_packages_have_no_priority_and_say_why() {
    let app = App::start_with(koschei_web::Options {
        cache_ttl: Duration::ZERO,
        ..koschei_web::Options::default()
    });
    // rnv has the highest priority of f25 (package_list_shows_states_orders_and_pages).
    let r = app.get("/packages?collection=f25&order_by=-current_priority");
    assert!(pos(&r.body, ">rnv<") < pos(&r.body, ">baz<"));
    app.db
        .client()
        .execute(
            "UPDATE package SET suspended_until = '2099-06-01 12:30+00' WHERE name = 'rnv'",
            &[],
        )
        .unwrap();
    let page = app.get("/package/rnv?collection=f25").body;
    visible(&page, "Scheduling is suspended until 2099-06-01 12:30 UTC");
    let api = app.get("/api/v1/packages/rnv").json();
    let f25 = &api["collections"][0];
    assert_eq!(f25["current_priority"], serde_json::Value::Null);
    assert_eq!(
        f25["skip_reasons"],
        serde_json::json!(["Scheduling is suspended until 2099-06-01 12:30 UTC"])
    );
    // The list's SQL ordering agrees: rnv sorts with the unschedulable packages.
    let r = app.get("/packages?collection=f25&order_by=-current_priority");
    assert!(pos(&r.body, ">baz<") < pos(&r.body, ">rnv<"), "{}", r.body);

    // A suspension that ended counts for nothing; a rebuild interval not yet elapsed does.
    app.db
        .client()
        .batch_execute(
            "UPDATE package SET suspended_until = now() - interval '1 hour',
                    min_rebuild_interval_hours = 24, last_submitted = '2099-01-01 00:00+00'
             WHERE name = 'rnv'",
        )
        .unwrap();
    let page = app.get("/package/rnv?collection=f25").body;
    absent(&page, "Scheduling is suspended");
    visible(
        &page,
        "Minimum rebuild interval not elapsed: no build before 2099-01-02 00:00 UTC",
    );
    let r = app.get("/packages?collection=f25&order_by=-current_priority");
    assert!(pos(&r.body, ">baz<") < pos(&r.body, ">rnv<"), "{}", r.body);
    app.db
        .client()
        .execute(
            "UPDATE package SET min_rebuild_interval_hours = NULL WHERE name = 'rnv'",
            &[],
        )
        .unwrap();
    let r = app.get("/packages?collection=f25&order_by=-current_priority");
    assert!(pos(&r.body, ">rnv<") < pos(&r.body, ">baz<"));
    absent(
        &app.get("/package/rnv?collection=f25").body,
        "Minimum rebuild interval",
    );
}
