//! `/metrics` in Prometheus text format, against the seeded database.

use crate::harness::App;

/// The value of the sample `name{labels}` (exact series text), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_report_package_states_repos_and_requests() {
    let app = App::start();
    let r = app.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        r.headers
    );
    let t = &r.body;
    assert_eq!(sample(t, "koschei_database_up"), Some(1.0), "{t}");
    for (state, n) in [
        ("ok", 3.0),
        ("failing", 2.0),
        ("unknown", 1.0),
        ("unresolved", 1.0),
        ("untracked", 1.0),
        ("blocked", 1.0),
    ] {
        let series = format!("koschei_packages{{collection=\"f25\",state=\"{state}\"}}");
        assert_eq!(sample(t, &series), Some(n), "{series}\n{t}");
    }
    assert_eq!(
        sample(t, "koschei_packages{collection=\"epel7\",state=\"ok\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(t, "koschei_running_builds{collection=\"f25\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(t, "koschei_collection_latest_repo_id{collection=\"f25\"}"),
        Some(123.0)
    );
    assert_eq!(
        sample(
            t,
            "koschei_collection_buildroot_resolved{collection=\"epel7\"}"
        ),
        Some(0.0)
    );
    let age = "koschei_collection_latest_repo_age_seconds{collection=\"f25\"}";
    assert!(sample(t, age).is_some_and(|a| a < 60.0), "{t}");

    // The age follows the trigger on latest_repo_id.
    let mut c = app.db.client();
    c.batch_execute(
        "UPDATE collection SET latest_repo_time = now() - interval '2 hours' WHERE name = 'f25'",
    )
    .unwrap();
    let t = app.get("/metrics").body;
    assert!(sample(&t, age).is_some_and(|a| a >= 7200.0), "{t}");
    c.batch_execute("UPDATE collection SET latest_repo_id = 124 WHERE name = 'f25'")
        .unwrap();
    let t = app.get("/metrics").body;
    assert!(sample(&t, age).is_some_and(|a| a < 60.0), "{t}");
    assert_eq!(
        sample(&t, "koschei_collection_latest_repo_id{collection=\"f25\"}"),
        Some(124.0)
    );

    // Requests are counted by route and status, cached answers included.
    for _ in 0..3 {
        assert_eq!(app.get("/package/rnv").status, 200);
    }
    assert_eq!(app.get("/no/such/page").status, 404);
    let t = app.get("/metrics").body;
    assert_eq!(
        sample(
            &t,
            "koschei_web_requests_total{route=\"package\",status=\"200\"}"
        ),
        Some(3.0),
        "{t}"
    );
    assert_eq!(
        sample(
            &t,
            "koschei_web_requests_total{route=\"other\",status=\"404\"}"
        ),
        Some(1.0),
        "{t}"
    );
    assert_eq!(
        sample(
            &t,
            "koschei_web_request_duration_seconds_count{route=\"package\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &t,
            "koschei_web_requests_total{route=\"metrics\",status=\"200\"}"
        ),
        Some(3.0),
        "{t}"
    );
}

#[test]
fn metrics_answer_with_database_down_zero_when_the_schema_is_not_current() {
    let db = crate::harness::TestDb::empty();
    let server = koschei_web::serve(
        "127.0.0.1:0",
        db.lazy_pool(2),
        koschei_web::Options::default(),
    )
    .unwrap();
    let r = crate::harness::get(&server.url(), "/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(
        sample(&r.body, "koschei_database_up"),
        Some(0.0),
        "{}",
        r.body
    );
    assert!(!r.body.contains("koschei_packages{"), "{}", r.body);
}
