//! Keeps the fake hub honest: the recorded anonymous requests are replayed against it and its answers must
//! have the same shape (field names and value types; faults with the same code) as the real hub's.

use std::collections::BTreeMap;

use koschei_core::koji::xmlrpc::{self, Call};
use koschei_core::koji::{Client, ClientOptions, Login, ScratchBuild, Value};
use koschei_fakehub::{FakeHub, TaskState};

use super::{fixture_dir, read_fixture};

/// Recorded calls the fake hub does not model, and why.
const NOT_MODELLED: &[(&str, &str)] = &[
    ("06-getLoggedInUser-querystring", "legacy URL sessions"),
    ("33-listTaggedRPMS", "not used by Koschei"),
    ("36-getInheritanceData", "not used by Koschei"),
    ("37-getFullInheritance", "not used by Koschei"),
    ("49-getTaskChildren-newRepo", "no newRepo tasks"),
    ("52-getTaskResult-newRepo", "no newRepo tasks"),
    ("57-listTaskOutput", "not used by Koschei"),
    ("58-listTaskOutput-stat", "not used by Koschei"),
    (
        "72-sslLogin-no-cert",
        "plain HTTP: no client certificate to check",
    ),
    ("86-downloadTaskOutput", "not used by Koschei"),
];

/// Compares the shapes of two values; `<nil/>` on either side matches anything (nil-ness is data).
fn same_shape(ours: &Value, theirs: &Value, path: &str) -> Result<(), String> {
    match (ours, theirs) {
        (Value::Nil, _) | (_, Value::Nil) => Ok(()),
        (Value::Struct(a), Value::Struct(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            if ka != kb {
                return Err(format!("{path}: members {ka:?} != {kb:?}"));
            }
            for (k, v) in a {
                same_shape(v, &b[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => match (a.first(), b.first()) {
            (Some(x), Some(y)) => same_shape(x, y, &format!("{path}[0]")),
            _ => Ok(()),
        },
        (a, b) if a.type_name() == b.type_name() => Ok(()),
        (a, b) => Err(format!("{path}: {} != {}", a.type_name(), b.type_name())),
    }
}

/// Fills the hub with tasks in the states of the recorded ones; returns recorded id -> hub id.
fn make_tasks(hub: &FakeHub) -> BTreeMap<i64, i64> {
    let c = Client::new(ClientOptions {
        server: hub.url(),
        login: Login::Password {
            user: "kojiadmin".into(),
            password: "kojiadmin-pw".into(),
        },
        ..ClientOptions::default()
    })
    .expect("client");
    let submit = || {
        c.scratch_build(&ScratchBuild::new(
            "../packages/foo/1.0/1.fc40/src/foo-1.0-1.fc40.src.rpm",
            Some("f40"),
        ))
        .map(|t| i64::from(t.0))
        .expect("submitted")
    };
    let (closed, failed, canceled, free) = (submit(), submit(), submit(), submit());
    hub.finish_task(closed, TaskState::Closed);
    hub.finish_task(failed, TaskState::Failed);
    hub.finish_task(canceled, TaskState::Canceled);
    let children = c
        .task_children(koschei_core::koji::KojiTaskId(
            i32::try_from(closed).expect("small id"),
        ))
        .expect("children");
    let build_arch = children
        .iter()
        .find(|t| t.method == "buildArch")
        .expect("buildArch child")
        .id
        .0
        .into();
    BTreeMap::from([
        (5, closed),
        (7, build_arch),
        (8, failed),
        (12, canceled),
        (13, free),
        (18, free),
    ])
}

fn remap(call: &mut Call, ids: &BTreeMap<i64, i64>) {
    let is_task_method = |m: &str| m.starts_with("getTask") || m == "cancelTask";
    if is_task_method(&call.method)
        && let Some(Value::Int(i)) = call.params.first_mut()
        && let Some(new) = ids.get(i)
    {
        *i = *new;
    }
    if matches!(call.method.as_str(), "multiCall" | "system.multicall")
        && let Some(Value::Array(items)) = call.params.first_mut()
    {
        for item in items {
            let Value::Struct(s) = item else { continue };
            let method = s
                .get("methodName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let Some(Value::Array(params)) = s.get_mut("params") {
                let mut inner = Call::from_wire(method, std::mem::take(params));
                remap(&mut inner, ids);
                *params = inner.wire_params();
            }
        }
    }
}

#[test]
fn fake_hub_answers_recorded_requests_in_the_real_hubs_shape() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let ids = make_tasks(&hub);
    let index: serde_json::Value =
        serde_json::from_slice(&read_fixture("http/index.json")).expect("index.json");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut compared = 0;
    let mut failures = Vec::new();
    for entry in index.as_array().expect("array") {
        let name = entry["file"].as_str().expect("file");
        let anonymous = entry["req_headers"]
            .as_object()
            .is_some_and(|h| h.is_empty());
        let ok = entry["status"]
            .as_str()
            .is_some_and(|s| s.starts_with("200"));
        if !anonymous || !ok || NOT_MODELLED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let request =
            std::fs::read(fixture_dir().join(format!("http/{name}.request.xml"))).expect("request");
        let mut call = xmlrpc::decode_call(&request).expect("decodes");
        remap(&mut call, &ids);
        let path = entry["url"]
            .as_str()
            .expect("url")
            .trim_start_matches("POST ")
            .to_owned();
        let url = hub.url().replace("/kojihub", &path);
        let mut resp = agent
            .post(&url)
            .header("Content-Type", "text/xml")
            .send(&xmlrpc::encode_call(&call)[..])
            .expect("hub answers");
        let body = resp.body_mut().read_to_vec().expect("body");
        let ours = xmlrpc::decode_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs = xmlrpc::decode_response(&read_fixture(&format!("http/{name}.response.xml")))
            .expect("decodes");
        let verdict = match (&ours, &theirs) {
            (Ok(a), Ok(b)) => same_shape(a, b, name),
            (Err(a), Err(b)) if a.code == b.code => Ok(()),
            _ => Err(format!("{name}: {ours:?} vs {theirs:?}")),
        };
        if let Err(e) = verdict {
            failures.push(e);
        }
        compared += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 55, "compared only {compared}");
}

/// The recorded session sequence (login, a write with call number 5, its retry, a lower call number, more
/// writes, logout, use after logout) gets the same answers from the fake hub as from the real one.
#[test]
fn fake_hub_checks_sessions_and_call_numbers_like_the_real_hub() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let send = |call: &Call, session: Option<(&str, &str, i64)>| {
        let mut req = agent.post(hub.url()).header("Content-Type", "text/xml");
        if let Some((id, key, n)) = session {
            req = req
                .header("Koji-Session-Id", id)
                .header("Koji-Session-Key", key)
                .header("Koji-Session-Callnum", n.to_string());
        }
        let mut resp = req
            .send(&xmlrpc::encode_call(call)[..])
            .expect("hub answers");
        xmlrpc::decode_response(&resp.body_mut().read_to_vec().expect("body")).expect("decodes")
    };
    let fixture_call = |name: &str| {
        xmlrpc::decode_call(&read_fixture(&format!("http/{name}.request.xml"))).expect("decodes")
    };
    let fixture_result = |name: &str| {
        xmlrpc::decode_response(&read_fixture(&format!("http/{name}.response.xml")))
            .expect("decodes")
    };
    let login = send(&fixture_call("79-login2"), None).expect("logged in");
    same_shape(&login, &fixture_result("79-login2").expect("value"), "79").expect("same shape");
    let id = login
        .get("session-id")
        .and_then(Value::as_i64)
        .expect("id")
        .to_string();
    let key = login
        .get("session-key")
        .and_then(Value::as_str)
        .expect("key")
        .to_owned();
    let mut ids = BTreeMap::new();
    for (name, callnum) in [
        ("80-callnum-write-5", 5),
        ("81-callnum-write-retry-5", 5),
        ("82-callnum-lower-3", 3),
        ("83-cancelTask-2", 6),
        ("84-multiCall-auth-write", 7),
        ("85-logout2", 8),
        ("75-after-logout", 9),
    ] {
        let mut call = fixture_call(name);
        remap(&mut call, &ids);
        let ours = send(&call, Some((&id, &key, callnum)));
        let theirs = fixture_result(name);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => same_shape(a, b, name).unwrap_or_else(|e| panic!("{e}")),
            (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{name}: {} vs {}", a.string, b.string),
            _ => panic!("{name}: {ours:?} vs {theirs:?}"),
        }
        if name == "80-callnum-write-5" {
            ids.insert(19, ours.expect("task id").as_i64().expect("int"));
        }
    }
    assert_eq!(
        hub.submitted_builds().len(),
        1,
        "the refused retry created nothing"
    );
}

/// `listTasks` has no recording: each entry must be a recorded `getTaskInfo(request=True)`
/// struct (http/43) plus the members the hub's `listTasks` adds (`result`, `owner_name`,
/// `owner_type`), with `request` and `result` as XML-RPC text unless `decode` is set, and
/// its filters must select as the hub's SQL does.
#[test]
fn fake_hub_list_tasks_is_task_info_plus_the_hubs_extra_members() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let ids = make_tasks(&hub);
    let recorded = xmlrpc::decode_response(&read_fixture(
        "http/43-getTaskInfo-closed-request.response.xml",
    ))
    .expect("decodes")
    .expect("value");
    let list = |opts: Value| {
        let c = Client::new(ClientOptions {
            server: hub.url(),
            ..ClientOptions::default()
        })
        .expect("client");
        c.call(&Call::new("listTasks").arg(opts))
            .expect("listTasks")
    };
    let opts = |pairs: &[(&str, Value)]| {
        Value::Struct(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    };
    for decode in [true, false] {
        let all = list(opts(&[("decode", Value::Bool(decode))]));
        let entries = all.as_array().expect("array");
        assert!(entries.len() >= 8, "{}", entries.len());
        for entry in entries {
            let mut s = entry.as_struct().expect("struct").clone();
            let result = s.remove("result").expect("result");
            let owner_name = s.remove("owner_name").expect("owner_name");
            let owner_type = s.remove("owner_type").expect("owner_type");
            assert_eq!(owner_name, Value::from("kojiadmin"));
            assert_eq!(owner_type, Value::Int(0));
            let request = s.get("request").expect("request").clone();
            if decode {
                assert!(matches!(request, Value::Array(_)), "{request:?}");
                assert!(
                    matches!(result, Value::Nil | Value::Array(_) | Value::Struct(_)),
                    "{result:?}"
                );
                same_shape(&Value::Struct(s), &recorded, "listTasks")
                    .unwrap_or_else(|e| panic!("{e}"));
            } else {
                let text = request.as_str().expect("request text");
                assert!(text.contains("<methodCall>"), "{text}");
                assert!(
                    matches!(result, Value::Nil | Value::String(_)),
                    "{result:?}"
                );
                s.insert("request".into(), Value::Array(vec![]));
                same_shape(&Value::Struct(s), &recorded, "listTasks")
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    // Filters: method, owner, state and creation time (ISO text with an offset, or seconds).
    let builds = list(opts(&[
        ("method", Value::from("build")),
        ("owner", Value::Int(1)),
    ]));
    let build_ids: Vec<i64> = builds
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t.get("id").and_then(Value::as_i64).expect("id"))
        .collect();
    let mut want: Vec<i64> = [5, 8, 12, 13].iter().map(|i| ids[i]).collect();
    want.sort_unstable();
    assert_eq!(build_ids, want);
    assert!(
        list(opts(&[
            ("method", Value::from("build")),
            ("owner", Value::Int(3))
        ]))
        .as_array()
        .expect("array")
        .is_empty(),
        "another user's tasks"
    );
    let free = list(opts(&[
        ("method", Value::from("build")),
        ("state", Value::Array(vec![Value::Int(0)])),
    ]));
    assert_eq!(free.as_array().expect("array").len(), 1);
    let created = |id: i64| {
        builds
            .as_array()
            .expect("array")
            .iter()
            .find(|t| t.get("id").and_then(Value::as_i64) == Some(id))
            .and_then(|t| Some((t.get("create_ts")?.clone(), t.get("create_time")?.clone())))
            .expect("task")
    };
    let (ts, time) = created(ids[&12]);
    for after in [ts, time] {
        let later = list(opts(&[
            ("method", Value::from("build")),
            ("createdAfter", after),
        ]));
        let later: Vec<i64> = later
            .as_array()
            .expect("array")
            .iter()
            .map(|t| t.get("id").and_then(Value::as_i64).expect("id"))
            .collect();
        assert_eq!(later, vec![ids[&13]], "strictly after");
    }
}

/// `logout` as the hub's `Session.logout(session_id=None)` does it: the recorded python
/// client's call (`session_id=None` as a keyword) closes the caller's session, an anonymous
/// caller gets `AuthError` "Not logged in", and only the owner (or an admin) may close another
/// session (`ActionNotAllowed`).
#[test]
fn fake_hub_logs_out_like_the_real_hub() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let send = |call: &Call, session: Option<&(String, String)>, n: i64| {
        let mut req = agent.post(hub.url()).header("Content-Type", "text/xml");
        if let Some((id, key)) = session {
            req = req
                .header("Koji-Session-Id", id)
                .header("Koji-Session-Key", key)
                .header("Koji-Session-Callnum", n.to_string());
        }
        let mut resp = req
            .send(&xmlrpc::encode_call(call)[..])
            .expect("hub answers");
        xmlrpc::decode_response(&resp.body_mut().read_to_vec().expect("body")).expect("decodes")
    };
    let login = |user: &str, password: &str| {
        let v = send(&Call::new("login").arg(user).arg(password), None, 0).expect("login");
        (
            v.get("session-id")
                .and_then(Value::as_i64)
                .expect("id")
                .to_string(),
            v.get("session-key")
                .and_then(Value::as_str)
                .expect("key")
                .to_owned(),
        )
    };
    let python_logout = xmlrpc::decode_call(&read_fixture(
        "official-python-client/0004-logout.request.xml",
    ))
    .expect("decodes");

    let anonymous = send(&python_logout, None, 0).expect_err("refused");
    assert_eq!(
        (anonymous.code, anonymous.string.as_str()),
        (1002, "Not logged in")
    );

    let mine = login("koschei", "koschei");
    let admin = login("kojiadmin", "kojiadmin-pw");
    assert_eq!(hub.open_sessions(), 2);
    let other = Call::new("logout").kwarg("session_id", admin.0.parse::<i64>().expect("id"));
    let refused = send(&other, Some(&mine), 1).expect_err("not the owner");
    assert_eq!(refused.code, 1004, "{}", refused.string);
    assert_eq!(hub.open_sessions(), 2);

    assert_eq!(send(&python_logout, Some(&mine), 2), Ok(Value::Nil));
    assert_eq!(hub.open_sessions(), 1);
    let after = send(&python_logout, Some(&mine), 3).expect_err("closed");
    assert_eq!(after.code, 1002);

    let mine = login("koschei", "koschei");
    let by_admin = Call::new("logout").kwarg("session_id", mine.0.parse::<i64>().expect("id"));
    assert_eq!(send(&by_admin, Some(&admin), 1), Ok(Value::Nil));
    assert_eq!(send(&Call::new("logout"), Some(&admin), 2), Ok(Value::Nil));
    assert_eq!(hub.open_sessions(), 0);
}
