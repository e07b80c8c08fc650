//! The real client over real HTTP against the fake hub: typed calls, sessions, retries, faults.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use koschei_core::koji::{
    self, Call, Client, ClientOptions, Error, FaultKind, KojiTaskId as TaskId, Login, ScratchBuild,
    SslLogin, Value,
};
use koschei_fakehub::{FakeHub, TaskState};

fn options(hub: &FakeHub, login: Login) -> ClientOptions {
    ClientOptions {
        server: hub.url(),
        topurl: hub.topurl(),
        weburl: hub.weburl(),
        max_retries: 3,
        retry_interval: Duration::from_millis(5),
        offline_retry_interval: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
        auth_timeout: Duration::from_secs(10),
        login,
        ..ClientOptions::default()
    }
}

fn password() -> Login {
    Login::Password {
        user: "koschei".into(),
        password: "koschei".into(),
    }
}

fn client(hub: &FakeHub, login: Login) -> Client {
    Client::new(options(hub, login)).expect("client")
}

fn calls_of(hub: &FakeHub, method: &str) -> Vec<koschei_fakehub::RecordedCall> {
    hub.calls()
        .into_iter()
        .filter(|c| c.method == method)
        .collect()
}

#[test]
fn defaults_are_koschei_session_options() {
    let o = ClientOptions::default();
    assert_eq!(o.server, "https://koji.fedoraproject.org/kojihub");
    assert_eq!(o.topurl, "https://kojipkgs.fedoraproject.org");
    assert_eq!(o.weburl, "https://koji.fedoraproject.org/koji");
    assert_eq!(o.max_retries, 1000);
    assert_eq!(o.retry_interval, Duration::from_secs(20));
    assert_eq!(o.offline_retry_interval, Duration::from_secs(120));
    assert_eq!(o.timeout, Duration::from_secs(3600));
    assert!(o.anon_retry && o.offline_retry);
    assert_eq!(o.multicall_chunk_size, 100);
    assert!(matches!(o.login, Login::None));
    assert_eq!(
        o.task_url(TaskId(42)),
        "https://koji.fedoraproject.org/koji/taskinfo?taskID=42"
    );
}

#[test]
fn anonymous_typed_calls_against_the_fake_hub() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, Login::None);
    let repo = c
        .latest_repo("f40-build")
        .expect("call")
        .expect("a ready repo");
    assert_eq!(repo.state, koji::RepoState::Ready);
    let info = c.repo_info(repo.id).expect("call").expect("present");
    assert_eq!(info.create_event, repo.create_event);
    assert!(c.repo_info(koji::RepoId(999)).expect("call").is_none());
    let groups = c
        .tag_groups("f40-build", Some(repo.create_event))
        .expect("call");
    assert_eq!(
        koji::build_group_packages(&groups, "build").expect("group"),
        ["bash", "coreutils", "rpm-build", "gcc"]
    );
    assert_eq!(
        c.build_config("f40-build").expect("call").arch_list(),
        ["x86_64", "aarch64", "i686"]
    );
    let tagged = c.list_tagged_latest("f40", None).expect("call");
    assert_eq!(tagged.len(), 2);
    let foo = c.list_tagged_latest("f40", Some("foo")).expect("call");
    assert_eq!(foo.len(), 1);
    let srpms = c.source_rpms(foo[0].build_id).expect("call");
    assert_eq!(
        srpms[0].srpm_path(".."),
        "../packages/foo/1.0/1.fc40/src/foo-1.0-1.fc40.src.rpm"
    );
    let reqs = c
        .rpm_requires(&[
            srpms[0].nvra(),
            koji::Nvra {
                name: "nope".into(),
                version: "1".into(),
                release: "1".into(),
                arch: "src".into(),
            },
        ])
        .expect("call");
    assert_eq!(
        reqs[0].as_deref(),
        Some(
            &[
                "bar >= 2.0".to_string(),
                "python3-devel".into(),
                "(baz or qux)".into()
            ][..]
        )
    );
    assert_eq!(reqs[1].as_deref(), Some(&[][..]));
    let pkgs = c.list_packages("f40").expect("call");
    assert_eq!(pkgs.iter().filter(|p| !p.blocked).count(), 2);
    assert!(c.build_target("f40").expect("call").is_some());
    hub.set_host_load(1.0, 2.0, true);
    let all = vec!["x86_64".to_string(), "aarch64".to_string()];
    assert_eq!(
        c.koji_load(&all, &["x86_64".to_string()]).expect("call"),
        0.5
    );
    let headers = c
        .rpm_headers(&srpms[0].nvra(), &["BUILDARCHS", "EXCLUSIVEARCH"])
        .expect("call");
    assert_eq!(headers["BUILDARCHS"], Value::from(vec!["noarch"]));
}

#[test]
fn unknown_tag_is_a_typed_fault() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, Login::None);
    let err = c.latest_repo("no-such-tag").expect_err("fault");
    assert_eq!(err.fault_kind(), Some(FaultKind::Generic));
    assert!(err.to_string().contains("No such tagInfo"), "{err}");
    assert!(err.to_string().contains("getRepo"), "{err}");
}

#[test]
fn scratch_build_lifecycle() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    let api = &c;
    let build = ScratchBuild {
        arch_override: Some(vec!["x86_64".into(), "aarch64".into()]),
        ..ScratchBuild::new(
            "../packages/foo/1.0/1.fc40/src/foo-1.0-1.fc40.src.rpm",
            Some("f40"),
        )
    };
    let task = api.scratch_build(&build).expect("submitted");
    let submitted = hub.submitted_builds();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].task_id, i64::from(task.0));
    assert_eq!(submitted[0].priority, Some(30));
    assert_eq!(submitted[0].opts["scratch"], Value::Bool(true));
    assert_eq!(
        submitted[0].opts["arch_override"],
        Value::from("x86_64 aarch64")
    );
    let infos = api.task_infos(&[task, TaskId(9999)]).expect("call");
    assert_eq!(
        infos[0].as_ref().expect("present").state,
        koschei_core::TaskState::Free
    );
    assert_eq!(infos[0].as_ref().expect("present").priority, Some(50));
    assert!(infos[1].is_none());
    hub.finish_task(i64::from(task.0), TaskState::Failed);
    let info = api
        .task_infos(&[task])
        .expect("call")
        .remove(0)
        .expect("present");
    assert!(info.is_finished());
    let children = api
        .tasks_children(&[task])
        .expect("call")
        .remove(0)
        .expect("children");
    let arches: Vec<&str> = children
        .iter()
        .filter(|c| c.method == "buildArch")
        .map(|c| c.arch.as_str())
        .collect();
    assert_eq!(arches, ["x86_64", "aarch64"]);
    let result = api.task_result(task).expect("call");
    let fault = result.expect_err("failed build");
    assert_eq!(fault.kind(), FaultKind::Build);
    assert!(!koji::is_koji_fault(&fault));
    // A second build, canceled.
    let task2 = api
        .scratch_build(&ScratchBuild::new("../x.src.rpm", Some("f40")))
        .expect("ok");
    api.cancel_task(task2).expect("cancel");
    assert_eq!(
        hub.task_state(i64::from(task2.0)),
        Some(koschei_core::TaskState::Canceled.to_koji().into())
    );
}

#[test]
fn dropped_connections_are_retried_with_the_same_callnum() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.call(&Call::new("getLoggedInUser")).expect("first call");
    hub.drop_connections(2);
    let user = c.call(&Call::new("getLoggedInUser")).expect("retried");
    assert_eq!(user.get("name"), Some(&Value::from("koschei")));
    let seen = calls_of(&hub, "getLoggedInUser");
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0].callnum, Some(0));
    assert!(seen[1..].iter().all(|c| c.callnum == Some(1)), "{seen:?}");
}

#[test]
fn a_timed_out_call_is_retried_with_the_same_callnum() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        timeout: Duration::from_millis(300),
        ..options(&hub, password())
    })
    .expect("client");
    c.login().expect("login");
    hub.slow_replies(1, Duration::from_millis(1500));
    let user = c
        .call(&Call::new("getLoggedInUser"))
        .expect("retried after the timeout");
    assert_eq!(user.get("name"), Some(&Value::from("koschei")));
    let seen = calls_of(&hub, "getLoggedInUser");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].callnum, seen[1].callnum);
}

#[test]
fn retries_give_up_after_max_retries() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, Login::None);
    hub.drop_connections(10);
    let err = c.call(&Call::new("getAPIVersion")).expect_err("gives up");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(
        calls_of(&hub, "getAPIVersion").len(),
        4,
        "one try and 3 retries"
    );
}

#[test]
fn anonymous_calls_are_not_retried_without_anon_retry() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        anon_retry: false,
        ..options(&hub, Login::None)
    })
    .expect("client");
    hub.drop_connections(1);
    assert!(c.call(&Call::new("getAPIVersion")).is_err());
    assert_eq!(calls_of(&hub, "getAPIVersion").len(), 1);
}

#[test]
fn server_offline_is_waited_out_beyond_max_retries() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        max_retries: 0,
        ..options(&hub, Login::None)
    })
    .expect("client");
    hub.set_offline(5);
    assert_eq!(
        c.call(&Call::new("getAPIVersion")).expect("eventually"),
        Value::Int(1)
    );
    assert_eq!(calls_of(&hub, "getAPIVersion").len(), 6);
}

#[test]
fn server_offline_is_a_fault_when_offline_retry_is_off() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        offline_retry: false,
        ..options(&hub, Login::None)
    })
    .expect("client");
    hub.set_offline(1);
    let err = c.call(&Call::new("getAPIVersion")).expect_err("offline");
    assert_eq!(err.fault_kind(), Some(FaultKind::ServerOffline));
}

#[test]
fn auth_expired_renews_the_session_and_repeats_the_call() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.call(&Call::new("getLoggedInUser")).expect("logged in");
    let first_session = calls_of(&hub, "getLoggedInUser")[0].session_id;
    hub.expire_sessions();
    let user = c.call(&Call::new("getLoggedInUser")).expect("renewed");
    assert_eq!(user.get("name"), Some(&Value::from("koschei")));
    let logins = calls_of(&hub, "login");
    assert_eq!(logins.len(), 2, "initial login and one renewal");
    assert_eq!(
        logins[1].session_id, first_session,
        "renewal sends the old session"
    );
    let seen = calls_of(&hub, "getLoggedInUser");
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[2].session_id, first_session,
        "renewal keeps the session id"
    );
    assert!(
        seen[2].callnum > seen[1].callnum,
        "the repeat is a new call"
    );
}

#[test]
fn a_session_the_hub_closed_is_replaced_by_a_new_login_and_the_call_repeated() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.call(&Call::new("getLoggedInUser")).expect("logged in");
    let first_session = calls_of(&hub, "getLoggedInUser")[0].session_id;
    // A hub restart (or an administrator) closes the session: its key now gets 1002.
    hub.close_sessions();
    let user = c
        .call(&Call::new("getLoggedInUser"))
        .expect("logged in again");
    assert_eq!(user.get("name"), Some(&Value::from("koschei")));
    let logins = calls_of(&hub, "login");
    assert_eq!(logins.len(), 2, "initial login and one new login");
    assert_eq!(logins[1].session_id, None, "a fresh login, not a renewal");
    let seen = calls_of(&hub, "getLoggedInUser");
    assert_eq!(seen.len(), 3, "the failed call is repeated once");
    assert_ne!(seen[2].session_id, first_session, "a new session");
    assert_eq!(seen[2].callnum, Some(0), "the new session counts from 0");
    // A write works in the new session too.
    c.scratch_build(&ScratchBuild::new("../x.src.rpm", Some("f40")))
        .expect("build in the new session");
    assert_eq!(hub.submitted_builds().len(), 1);
}

#[test]
fn a_session_refused_again_after_a_new_login_is_an_error() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.login().expect("login");
    hub.fail_calls(
        "getLoggedInUser",
        2,
        koschei_fakehub::Failure::Fault(koji::Fault::new(
            1002,
            "Invalid session or bad credentials",
        )),
    );
    let err = c
        .call(&Call::new("getLoggedInUser"))
        .expect_err("refused twice");
    assert_eq!(err.fault_kind(), Some(FaultKind::Auth));
    assert_eq!(calls_of(&hub, "login").len(), 2, "one new login only");
    assert_eq!(calls_of(&hub, "getLoggedInUser").len(), 2);
}

#[test]
fn a_lost_build_reply_is_maybe_submitted_and_never_submitted_twice() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.login().expect("login");
    hub.drop_after_commit(1);
    let err = c
        .scratch_build(&ScratchBuild::new("../x.src.rpm", Some("f40")))
        .expect_err("maybe submitted");
    assert!(matches!(err, Error::MaybeSubmitted { .. }), "{err:?}");
    assert_eq!(err.fault_kind(), Some(FaultKind::Retry));
    assert_eq!(
        hub.submitted_builds().len(),
        1,
        "the hub created exactly one task"
    );
    let builds = calls_of(&hub, "build");
    assert_eq!(builds.len(), 2);
    assert_eq!(
        builds[0].callnum, builds[1].callnum,
        "the retry re-sent the same call number"
    );
    // The session stays usable afterwards.
    let next = c
        .scratch_build(&ScratchBuild::new("../y.src.rpm", Some("f40")))
        .expect("ok");
    assert_eq!(hub.submitted_builds().len(), 2);
    assert_eq!(hub.submitted_builds()[1].task_id, i64::from(next.0));
}

#[test]
fn multicall_is_chunked_and_keeps_per_item_faults() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        multicall_chunk_size: 2,
        ..options(&hub, Login::None)
    })
    .expect("client");
    let mut calls: Vec<Call> = (1..=4).map(|i| Call::new("getTaskInfo").arg(i)).collect();
    calls.push(Call::new("getTaskResult").arg(1));
    let results = c.multicall(&calls).expect("multicall");
    assert_eq!(results.len(), 5);
    assert!(results[..4].iter().all(|r| r == &Ok(Value::Nil)));
    assert_eq!(
        results[4].as_ref().expect_err("fault").kind(),
        FaultKind::Generic
    );
    assert_eq!(
        calls_of(&hub, "multiCall").len(),
        3,
        "5 calls in chunks of 2"
    );
}

#[test]
fn default_multicall_chunk_is_100() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, Login::None);
    let ids: Vec<TaskId> = (1..=250).map(TaskId).collect();
    let infos = c.task_infos(&ids).expect("multicall");
    assert_eq!(infos.len(), 250);
    assert_eq!(calls_of(&hub, "multiCall").len(), 3);
}

#[test]
fn http_error_pages_are_typed_errors_quoting_the_first_line() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        max_retries: 0,
        ..options(&hub, Login::None)
    })
    .expect("client");
    hub.http_errors(1, 503);
    let err = c.call(&Call::new("getAPIVersion")).expect_err("503");
    match &err {
        Error::Http {
            status,
            first_line,
            method,
            ..
        } => {
            assert_eq!(*status, 503);
            assert_eq!(method, "getAPIVersion");
            assert!(
                first_line.contains("503 Service Unavailable"),
                "{first_line}"
            );
        }
        other => panic!("{other:?}"),
    }
    // With retries the call goes through once the errors stop.
    let c = client(&hub, Login::None);
    hub.http_errors(2, 502);
    assert_eq!(
        c.call(&Call::new("getAPIVersion")).expect("retried"),
        Value::Int(1)
    );
}

#[test]
fn recorded_non_xml_error_bodies_are_http_errors_quoting_their_first_line() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        max_retries: 0,
        ..options(&hub, Login::None)
    })
    .expect("client");
    for (fixture, status, line) in [
        ("76-GET-not-allowed", 405, "Method Not Allowed"),
        ("77-empty-post", 400, "Invalid request: Empty request"),
    ] {
        hub.http_error_pages(
            1,
            status,
            &super::read_fixture(&format!("http/{fixture}.response.xml")),
        );
        let err = c.call(&Call::new("getAPIVersion")).expect_err("error page");
        match &err {
            Error::Http {
                status: s,
                first_line,
                ..
            } => {
                assert_eq!((*s, first_line.as_str()), (status, line), "{fixture}");
            }
            other => panic!("{fixture}: {other:?}"),
        }
        assert!(err.to_string().contains(line), "{err}");
    }
}

#[test]
fn malformed_and_truncated_xml_are_decode_errors() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        max_retries: 1,
        ..options(&hub, Login::None)
    })
    .expect("client");
    let full = super::read_fixture("http/19-listTagged-latest-inherit.response.xml");
    for body in [
        &full[..full.len() / 2],
        b"<methodResponse><params><param><value><int>x</int>".as_slice(),
        b"not xml at all",
    ] {
        hub.raw_responses(2, body);
        let err = c
            .call(&Call::new("listTagged").arg("f40"))
            .expect_err("bad body");
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }
}

#[test]
fn an_html_page_with_status_200_is_a_content_type_error() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = Client::new(ClientOptions {
        max_retries: 1,
        ..options(&hub, Login::None)
    })
    .expect("client");
    hub.html_pages(2);
    let err = c.call(&Call::new("getAPIVersion")).expect_err("html");
    match &err {
        Error::ContentType {
            content_type,
            first_line,
            ..
        } => {
            assert!(content_type.starts_with("text/html"), "{content_type}");
            assert!(first_line.contains("down for maintenance"), "{first_line}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_result_types_are_typed_errors() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, Login::None);
    hub.raw_responses(1, &super::read_fixture("http/28-listPackages.response.xml"));
    let err = c
        .latest_repo("f40-build")
        .expect_err("array instead of struct");
    assert!(matches!(err, Error::UnexpectedResult { .. }), "{err:?}");
    assert!(err.to_string().contains("getRepo"), "{err}");
    // A fault where a value was expected.
    hub.raw_responses(
        1,
        &super::read_fixture("http/10-getTag-missing-strict.response.xml"),
    );
    let err = c.latest_repo("f40-build").expect_err("fault");
    assert_eq!(err.fault_kind(), Some(FaultKind::Generic));
}

#[test]
fn session_keys_and_passwords_stay_out_of_messages() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.call(&Call::new("getLoggedInUser")).expect("logged in");
    hub.drop_connections(10);
    let err = c.call(&Call::new("getLoggedInUser")).expect_err("fails");
    for text in [format!("{err}"), format!("{err:?}"), format!("{c:?}")] {
        assert!(!text.contains("FakeKey"), "{text}");
        assert!(!text.contains("password: \"koschei\""), "{text}");
    }
}

#[test]
fn logout_closes_the_session() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.login().expect("login");
    assert!(c.is_logged_in());
    c.logout().expect("logout");
    assert!(!c.is_logged_in());
    assert_eq!(calls_of(&hub, "logout").len(), 1);
}

#[test]
fn ssl_login_posts_to_ssllogin_with_certificate_files() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/koji-tls");
    for ssl in [
        SslLogin {
            cert: dir.join("client-combined.pem"),
            key: None,
            ca: None,
        },
        SslLogin {
            cert: dir.join("client.crt"),
            key: Some(dir.join("client.key")),
            ca: Some(dir.join("client.crt")),
        },
    ] {
        let c = client(&hub, Login::Ssl(ssl));
        let user = c.call(&Call::new("getLoggedInUser")).expect("logged in");
        assert_eq!(user.get("authtype"), Some(&Value::Int(2)));
    }
    assert_eq!(calls_of(&hub, "sslLogin").len(), 2);
}

#[test]
fn unusable_certificate_files_are_typed_errors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/koji-tls");
    let cases = [
        SslLogin {
            cert: dir.join("missing.pem"),
            key: None,
            ca: None,
        },
        SslLogin {
            cert: dir.join("client.crt"),
            key: None,
            ca: None,
        },
        SslLogin {
            cert: dir.join("client.key"),
            key: None,
            ca: None,
        },
        SslLogin {
            cert: dir.join("client.crt"),
            key: Some(dir.join("client.crt")),
            ca: None,
        },
        SslLogin {
            cert: dir.join("client-combined.pem"),
            key: None,
            ca: Some(dir.join("client.key")),
        },
        SslLogin {
            cert: dir.join("README.md"),
            key: None,
            ca: None,
        },
    ];
    for ssl in cases {
        let err = Client::new(ClientOptions {
            login: Login::Ssl(ssl.clone()),
            ..ClientOptions::default()
        })
        .expect_err("bad files");
        assert!(matches!(err, Error::TlsFile { .. }), "{ssl:?}: {err:?}");
    }
}

/// Each typed call sends exactly the request recorded from Koschei's calls (spec section 10).
#[test]
fn typed_calls_send_the_recorded_requests() {
    use koji::{KojiBuildId as BuildId, KojiEventId as EventId, RepoId};
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    let foo = koji::Nvra {
        name: "foo".into(),
        version: "1.0".into(),
        release: "1.fc40".into(),
        arch: "src".into(),
    };
    let nvra = |n: &str, v: &str, r: &str| koji::Nvra {
        name: n.into(),
        version: v.into(),
        release: r.into(),
        arch: "src".into(),
    };
    type Step<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let steps: Vec<Step<'_>> = vec![
        (
            "07-getBuildConfig",
            Box::new(|| drop(c.build_config("f40-build"))),
        ),
        (
            "11-getBuildTarget",
            Box::new(|| drop(c.build_target("f40"))),
        ),
        ("13-getRepo", Box::new(|| drop(c.latest_repo("f40-build")))),
        (
            "15-repoInfo-ready",
            Box::new(|| drop(c.repo_info(RepoId(2)))),
        ),
        (
            "18-getTagGroups",
            Box::new(|| drop(c.tag_groups("f40-build", Some(EventId(24))))),
        ),
        (
            "19-listTagged-latest-inherit",
            Box::new(|| drop(c.list_tagged_latest("f40", None))),
        ),
        (
            "20-listTagged-package",
            Box::new(|| drop(c.list_tagged_latest("f40", Some("foo")))),
        ),
        (
            "21-listTagged-event",
            Box::new(|| drop(c.list_tagged_at("f40", EventId(24)))),
        ),
        (
            "22-listRPMs-src",
            Box::new(|| drop(c.source_rpms(BuildId(2)))),
        ),
        ("23-getRPMDeps", Box::new(|| drop(c.rpm_deps(&foo)))),
        (
            "24-getRPMHeaders",
            Box::new(|| drop(c.rpm_headers(&foo, &["BUILDARCHS", "EXCLUDEARCH", "EXCLUSIVEARCH"]))),
        ),
        ("26-getChannel", Box::new(|| drop(c.channel("default")))),
        (
            "27-listHosts",
            Box::new(|| drop(c.list_hosts(&["x86_64".to_string()], 1))),
        ),
        ("28-listPackages", Box::new(|| drop(c.list_packages("f40")))),
        (
            "29-getBuild",
            Box::new(|| drop(c.build_info("foo-1.0-1.fc40"))),
        ),
        (
            "32-listBuilds",
            Box::new(|| drop(c.list_builds(Some(1), None, None))),
        ),
        (
            "34-getPackageConfig",
            Box::new(|| drop(c.package_config("f40", "foo"))),
        ),
        (
            "39-build-scratch",
            Box::new(|| {
                drop(c.scratch_build(&ScratchBuild::new(
                    "../packages/foo/1.0/1.fc40/src/foo-1.0-1.fc40.src.rpm",
                    Some("f40"),
                )))
            }),
        ),
        (
            "41-getTaskInfo-free",
            Box::new(|| drop(c.task_info(TaskId(18), false))),
        ),
        (
            "43-getTaskInfo-closed-request",
            Box::new(|| drop(c.task_info(TaskId(5), true))),
        ),
        (
            "47-getTaskChildren-request",
            Box::new(|| drop(c.task_children(TaskId(5)))),
        ),
        (
            "50-getTaskResult-closed",
            Box::new(|| drop(c.task_result(TaskId(5)))),
        ),
        (
            "59-cancelTask",
            Box::new(|| drop(c.cancel_task(TaskId(18)))),
        ),
        (
            "63-multiCall-getRPMDeps",
            Box::new(|| {
                drop(c.rpm_requires(&[
                    foo.clone(),
                    nvra("bar", "2.0", "3.fc40"),
                    nvra("gone", "1", "1"),
                ]))
            }),
        ),
    ];
    for (fixture, step) in steps {
        let before = hub.calls().len();
        step();
        let sent = hub.calls()[before..]
            .iter()
            .find(|r| r.session_id.is_some())
            .map(|r| r.call.clone())
            .unwrap_or_else(|| panic!("{fixture}: nothing sent"));
        let recorded =
            koji::xmlrpc::decode_call(&super::read_fixture(&format!("http/{fixture}.request.xml")))
                .expect("decodes");
        assert_eq!(sent, recorded, "{fixture}");
    }
}

#[test]
fn own_build_tasks_are_the_sessions_build_tasks_since_a_hub_time() {
    use koschei_core::koji::KojiApi;
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    let other = client(
        &hub,
        Login::Password {
            user: "kojiadmin".into(),
            password: "kojiadmin-pw".into(),
        },
    );
    let srpm = "../packages/foo/1.0/1.fc40/src/foo-1.0-1.fc40.src.rpm";
    let first = c
        .submit_scratch_build(&ScratchBuild::new(srpm, Some("f40")))
        .expect("first");
    let between = c.hub_time().expect("getLastEvent");
    let second = c
        .submit_scratch_build(&ScratchBuild::new(srpm, Some("f40")))
        .expect("second");
    other
        .submit_scratch_build(&ScratchBuild::new(srpm, Some("f40")))
        .expect("another user's");
    hub.finish_task(i64::from(second.0), TaskState::Closed);
    let all = c
        .own_build_tasks(std::time::SystemTime::UNIX_EPOCH)
        .expect("listTasks")
        .expect("logged in");
    let ids: Vec<TaskId> = all.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![first, second], "only this user's build tasks");
    let request = all[1].request.as_ref().expect("decoded request");
    assert_eq!(request[0], Value::from(srpm));
    assert_eq!(request[1], Value::from("f40"));
    let since = c
        .own_build_tasks(between)
        .expect("listTasks")
        .expect("logged in");
    assert_eq!(since.iter().map(|t| t.id).collect::<Vec<_>>(), vec![second]);
    let sent = calls_of(&hub, "listTasks");
    let opts = sent.last().expect("sent").call.params[0].clone();
    assert_eq!(opts.get("method"), Some(&Value::from("build")));
    assert_eq!(opts.get("decode"), Some(&Value::Bool(true)));
    assert!(
        opts.get("createdAfter")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("+00:00")),
        "{opts:?}"
    );
    // Anonymous: no user, nothing to tell its tasks by.
    let anon = client(&hub, Login::None);
    assert_eq!(
        anon.own_build_tasks(std::time::SystemTime::UNIX_EPOCH)
            .expect("answers"),
        None
    );
}

/// A client whose waits are as long as Koschei's defaults (a 120 s offline wait, 20 s between
/// retries) and that obeys `stop`.
fn stoppable(hub: &FakeHub, login: Login, stop: &Arc<AtomicBool>) -> Client {
    Client::new(ClientOptions {
        retry_interval: Duration::from_secs(20),
        offline_retry_interval: Duration::from_secs(120),
        stop: Some(Arc::clone(stop)),
        ..options(hub, login)
    })
    .expect("client")
}

/// Runs `f` on a thread, sets `stop` once `ready` holds, and returns `f`'s result, which
/// must come within 5 s of the stop request (the waits it interrupts are minutes long).
fn stop_during<T: Send + 'static>(
    stop: &Arc<AtomicBool>,
    ready: impl Fn() -> bool,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "never got ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the call get into its wait.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the call ends soon after the stop request")
}

#[test]
fn a_stop_request_ends_a_server_offline_wait() {
    let hub = Arc::new(FakeHub::start_with_fixture_data().expect("hub"));
    hub.set_offline(u32::MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let c = stoppable(&hub, Login::None, &stop);
    let h = Arc::clone(&hub);
    let err = stop_during(
        &stop,
        move || !calls_of(&h, "getAPIVersion").is_empty(),
        move || c.call(&Call::new("getAPIVersion")),
    )
    .expect_err("interrupted");
    match &err {
        Error::Interrupted {
            method,
            maybe_done,
            last: Some(last),
        } => {
            assert_eq!(method, "getAPIVersion");
            assert!(!maybe_done, "an offline hub ran nothing");
            assert_eq!(last.fault_kind(), Some(FaultKind::ServerOffline));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_interrupted());
    let text = koschei_core::error::chain(&err);
    assert!(text.contains("stopped while waiting for the hub"), "{text}");
    assert!(text.contains("ServerOffline 1014"), "{text}");
    assert_eq!(
        calls_of(&hub, "getAPIVersion").len(),
        1,
        "no attempt after the stop"
    );
}

#[test]
fn a_stop_request_ends_the_pause_before_a_retry() {
    let hub = Arc::new(FakeHub::start_with_fixture_data().expect("hub"));
    hub.drop_connections(u32::MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let c = stoppable(&hub, Login::None, &stop);
    let h = Arc::clone(&hub);
    // The first retry is immediate; the second waits 20 s.
    let err = stop_during(
        &stop,
        move || calls_of(&h, "getAPIVersion").len() >= 2,
        move || c.call(&Call::new("getAPIVersion")),
    )
    .expect_err("interrupted");
    match &err {
        Error::Interrupted {
            maybe_done: true,
            last: Some(last),
            ..
        } => assert!(matches!(**last, Error::Transport { .. }), "{last:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls_of(&hub, "getAPIVersion").len(), 2);
}

#[test]
fn a_stop_request_ends_a_login_to_an_offline_hub_and_no_call_starts_after_it() {
    let hub = Arc::new(FakeHub::start_with_fixture_data().expect("hub"));
    hub.set_offline(u32::MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let c = Arc::new(stoppable(&hub, password(), &stop));
    let h = Arc::clone(&hub);
    let c2 = Arc::clone(&c);
    let err = stop_during(
        &stop,
        move || !calls_of(&h, "login").is_empty(),
        move || c2.login(),
    )
    .expect_err("interrupted");
    assert!(err.is_interrupted(), "{err:?}");
    assert!(!c.is_logged_in());
    let before = hub.calls().len();
    let err = c.call(&Call::new("getAPIVersion")).expect_err("refused");
    assert!(
        matches!(
            err,
            Error::Interrupted {
                maybe_done: false,
                last: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("not sent"), "{err}");
    assert_eq!(hub.calls().len(), before, "nothing sent after the stop");
}

#[test]
fn a_stop_request_is_the_engine_vocabularys_interrupted() {
    use koschei_core::koji::{KojiApi, KojiError};
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let stop = Arc::new(AtomicBool::new(true));
    let c = stoppable(&hub, Login::None, &stop);
    let err = KojiApi::latest_repo(&c, "f40-build").expect_err("interrupted");
    assert!(
        matches!(
            err,
            KojiError::Interrupted {
                maybe_done: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_interrupted());
}

#[test]
fn dropping_a_logged_in_client_logs_out() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let c = client(&hub, password());
    c.call(&Call::new("getLoggedInUser")).expect("logged in");
    assert_eq!(hub.open_sessions(), 1);
    drop(c);
    assert_eq!(hub.open_sessions(), 0);
    let logouts = calls_of(&hub, "logout");
    assert_eq!(logouts.len(), 1);
    assert!(logouts[0].session_id.is_some(), "{logouts:?}");
    // An anonymous client has nothing to close and sends nothing.
    drop(client(&hub, Login::None));
    assert_eq!(calls_of(&hub, "logout").len(), 1);
}

#[test]
fn logout_is_one_attempt_and_survives_a_stop_request() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let stop = Arc::new(AtomicBool::new(false));
    let c = stoppable(&hub, password(), &stop);
    c.login().expect("login");
    // After a stop request the session is still closed.
    stop.store(true, Ordering::Relaxed);
    c.logout().expect("logout");
    assert_eq!(hub.open_sessions(), 0);

    // An offline hub: one attempt, an error, and the session is forgotten (no wait).
    let c = client(&hub, password());
    c.login().expect("login");
    hub.set_offline(u32::MAX);
    let err = c.logout().expect_err("offline");
    assert_eq!(err.fault_kind(), Some(FaultKind::ServerOffline));
    assert!(!c.is_logged_in());
    assert_eq!(calls_of(&hub, "logout").len(), 2);
    drop(c);
    assert_eq!(calls_of(&hub, "logout").len(), 2, "nothing left to close");
    hub.set_offline(0);

    // A session the hub closed already counts as logged out.
    let c = client(&hub, password());
    c.login().expect("login");
    hub.close_sessions();
    c.logout().expect("closed already");
}
