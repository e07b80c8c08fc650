//! fedora-messaging against the real RabbitMQ: what `koschei run --once` publishes, the
//! outbox across a broker outage, and `koschei messaging listen` acting on Koji's messages.

mod bus;
mod python;

use std::process::Stdio;
use std::time::Duration;

use koschei_fakehub::TaskState;

use crate::support::{KillOnDrop, TAG, World, libfoo};
use bus::{AMQP_URL, Bus, eventually};

const PREFIX: &str = "org.fedoraproject.test";
const KOJI_TOPIC: &str = "org.fedoraproject.test.buildsys";

/// The messaging sections of a test configuration.
fn messaging_config(bus: &Bus, url: &str, queue: &str) -> String {
    format!(
        r#"[fedmsg]
topic = "{KOJI_TOPIC}"
instance = "primary"

[fedmsg-publisher]
enabled = true

[fedora-messaging]
amqp_url = "{url}"
publish_exchange = "{x}"
listen_exchange = "{x}"
topic_prefix = "{PREFIX}"
queue = "{queue}"
queue_durable = false
connect_timeout = 5
publish_timeout = 5
"#,
        x = bus.exchange
    )
}

/// `tracked_app` with messaging configured first: repo 1 with libfoo 1.0, the real build of
/// `app`, tracked, groups `c` and `foo/xml`, one pass.
fn world(name: &str, bus: &mut Bus, url: &str) -> (World, String) {
    let mut w = World::new(name);
    let queue = bus.queue_name("listener");
    w.set_extra_config(&messaging_config(bus, url, &queue));
    w.add_repo(&libfoo("1.0-1"));
    w.hub
        .add_build_with_task(TAG, TAG, "app-1.0-1", &["libfoo-devel", "make"]);
    w.pass(&["--only", "polling"]);
    w.ok(&["add-pkg", "--collection", "e2e", "app"]);
    w.sql()
        .batch_execute(
            "INSERT INTO package_group (namespace, name) VALUES (NULL, 'c'), ('foo', 'xml');
             INSERT INTO package_group_relation (group_id, base_id)
                 SELECT g.id, b.id FROM package_group g, base_package b WHERE b.name = 'app'",
        )
        .unwrap();
    (w, queue)
}

fn outbox_len(w: &World) -> i64 {
    w.scalar("SELECT count(*) FROM message_outbox")
}

#[test]
fn state_changes_are_published_with_the_originals_bodies_and_fedora_messaging_headers() {
    let mut bus = Bus::new("publish");
    let q = bus.bind("all", &["#"]);
    let (mut w, _) = world("msg-publish", &mut bus, AMQP_URL);
    let out = w.pass(&[]);
    assert!(out.contains("messages: 1 published, 0 pending"), "{out}");
    let repo: i32 = w.scalar("SELECT latest_repo_id FROM collection");

    let m = bus
        .get(&q, Duration::from_secs(5))
        .expect("collection message");
    assert_eq!(
        m.routing_key,
        "org.fedoraproject.test.koschei.collection.state.change"
    );
    assert_eq!(
        m.body,
        format!(
            r#"{{"old": "unknown", "new": "ok", "koji_instance": "primary", "collection": "e2e", "collection_name": "E2E", "repo_id": "{repo}"}}"#
        )
    );
    let p = &m.properties;
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(
        p.content_encoding().as_ref().map(|s| s.as_str()),
        Some("utf-8")
    );
    assert_eq!(*p.delivery_mode(), Some(2), "persistent");
    let id = p.message_id().as_ref().expect("message_id").to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(
        m.header("fedora_messaging_schema").as_deref(),
        Some("koschei.collection.state.change")
    );
    assert_eq!(
        m.header("fedora_messaging_schema_package").as_deref(),
        Some("koschei_messages")
    );
    assert_eq!(m.header("fedora_messaging_severity").as_deref(), Some("20"));
    assert_eq!(m.header("priority").as_deref(), Some("0"));
    let sent_at = m.header("sent-at").expect("sent-at");
    assert!(
        sent_at.len() == 25 && sent_at.ends_with("+00:00") && &sent_at[10..11] == "T",
        "{sent_at}"
    );

    // The dependency disappears: ok → unresolved, with the package's groups by name.
    w.add_repo(&[koschei_fakehub::rpmmd::Package::new(
        "libfoo", "1.0-1", "x86_64",
    )]);
    let out = w.pass(&[]);
    assert!(out.contains("messages: 1 published"), "{out}");
    let m = bus
        .get(&q, Duration::from_secs(5))
        .expect("package message");
    assert_eq!(
        m.routing_key,
        "org.fedoraproject.test.koschei.package.state.change"
    );
    assert_eq!(
        m.body,
        r#"{"name": "app", "old": "ok", "new": "unresolved", "koji_instance": "primary", "repo": "e2e", "collection": "e2e", "collection_name": "E2E", "groups": ["c", "foo/xml"]}"#
    );
    assert_eq!(
        m.header("fedora_messaging_schema").as_deref(),
        Some("koschei.package.state.change")
    );
    assert_eq!(
        m.header("fedora_messaging_group_c").as_deref(),
        Some("true")
    );
    assert_eq!(
        m.header("fedora_messaging_group_foo/xml").as_deref(),
        Some("true")
    );
    assert_eq!(
        m.header("fedora_messaging_rpm_app").as_deref(),
        Some("true")
    );
    assert!(
        bus.get(&q, Duration::from_millis(300)).is_none(),
        "one message per change"
    );
    assert_eq!(outbox_len(&w), 0);

    // Publishing disabled: nothing is queued.
    w.set_extra_config("");
    w.add_repo(&libfoo("1.0-1"));
    let out = w.pass(&[]);
    assert!(!out.contains("messages:"), "{out}");
    assert_eq!(outbox_len(&w), 0);
}

#[test]
fn a_message_survives_a_broker_outage_in_the_outbox_and_is_delivered_once() {
    let mut bus = Bus::new("outbox");
    let q = bus.bind("all", &["#"]);
    // Nothing listens on port 1: the broker is "down".
    let down = "amqp://guest:guest@127.0.0.1:1/%2F";
    let (w, queue) = world("msg-outbox", &mut bus, down);
    let out = w.pass(&[]);
    assert!(
        out.contains("messages: not published, kept in the outbox"),
        "{out}"
    );
    assert_eq!(outbox_len(&w), 1);
    let status = w.ok(&["messaging", "status"]);
    assert!(status.contains("1 messages waiting"), "{status}");
    assert!(status.contains("unreachable"), "{status}");
    let (code, _, err) = w.run(&["messaging", "publish-pending"]);
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "cannot connect to the AMQP broker at `amqp://guest:********@127.0.0.1:1/%2F`"
        ),
        "{err}"
    );
    assert_eq!(outbox_len(&w), 1);
    assert!(bus.get(&q, Duration::from_millis(300)).is_none());

    // The broker is back.
    w.set_extra_config(&messaging_config(&bus, AMQP_URL, &queue));
    let out = w.ok(&["messaging", "publish-pending"]);
    assert!(out.contains("1 messages published, 0 pending"), "{out}");
    let m = bus.get(&q, Duration::from_secs(5)).expect("delivered");
    assert!(m.routing_key.ends_with("koschei.collection.state.change"));
    assert!(m.body.contains(r#""new": "ok""#), "{}", m.body);
    let out = w.ok(&["messaging", "publish-pending"]);
    assert!(out.contains("0 messages published"), "{out}");
    assert!(
        bus.get(&q, Duration::from_millis(500)).is_none(),
        "delivered once"
    );
    let json: serde_json::Value =
        serde_json::from_str(&w.ok(&["messaging", "status", "--json"])).unwrap();
    assert_eq!(json["outbox"]["pending"], 0);
    assert_eq!(json["broker_reachable"], true);
}

fn koji_key(name: &str) -> String {
    format!("{KOJI_TOPIC}.{name}")
}

/// Starts `koschei messaging listen` and waits until it consumes from `queue`.
fn listener(w: &World, bus: &Bus, queue: &str) -> KillOnDrop {
    let child = w
        .command(&["messaging", "listen"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    bus.wait_for_consumer(queue, Duration::from_secs(15));
    assert!(child.0.try_wait().unwrap().is_none(), "listener exited");
    child
}

#[test]
fn the_listener_acts_on_koji_messages_and_acknowledges_bad_ones() {
    let mut bus = Bus::new("listen");
    let watch = bus.bind("watch", &["#"]);
    let (mut w, queue) = world("msg-listen", &mut bus, AMQP_URL);
    w.pass(&[]);
    // A dependency update: a scratch build is submitted and runs.
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    let task = w.hub.submitted_builds()[0].task_id;
    assert_eq!(w.builds("app")[1].0, 2, "running");
    while bus.get(&watch, Duration::from_millis(100)).is_some() {}

    let mut child = listener(&w, &bus, &queue);
    // Koji finishes the task; no polling pass runs, the message alone updates the build.
    w.hub.finish_task(task, TaskState::Closed);
    let bad: [&[u8]; 5] = [
        b"not json at all \xff",
        br#"[1, 2, 3]"#,
        br#"{"id": 5, "attribute": "state", "new": "CLOSED"}"#,
        br#"{"id": "five", "attribute": "state", "new": "CLOSED", "instance": "primary"}"#,
        br#"{"id": 99999999999, "attribute": "state", "new": "CLOSED", "instance": "primary"}"#,
    ];
    for body in bad {
        bus.publish(&koji_key("task.state.change"), body);
    }
    // Another instance's message about our task is ignored.
    let other = format!(
        r#"{{"id": {task}, "parent": null, "attribute": "state", "old": "OPEN", "new": "CLOSED", "instance": "s390", "method": "build"}}"#
    );
    bus.publish(&koji_key("task.state.change"), other.as_bytes());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(w.builds("app")[1].0, 2, "still running");
    let good = format!(
        r#"{{"id": {task}, "parent": null, "attribute": "state", "old": "OPEN", "new": "CLOSED", "instance": "primary", "method": "build"}}"#
    );
    bus.publish(&koji_key("task.state.change"), good.as_bytes());
    eventually("the build to complete", Duration::from_secs(15), || {
        w.builds("app")[1].0 == 3
    });
    eventually("every message acknowledged", Duration::from_secs(5), || {
        bus.queue_state(&queue).is_some_and(|(ready, _)| ready == 0)
    });
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the listener survived bad messages"
    );

    // A real build is tagged: registered at once.
    w.hub
        .add_build_with_task(TAG, TAG, "app-1.2-1", &["libfoo-devel", "make"]);
    let tag = r#"{"name": "app", "tag": "e2e", "version": "1.2", "release": "1", "build_id": 9, "tag_id": 1, "user": "u", "owner": "u", "instance": "primary"}"#;
    bus.publish(&koji_key("tag"), tag.as_bytes());
    eventually("the real build", Duration::from_secs(15), || {
        let builds = w.builds("app");
        builds.len() == 3 && builds[2].1
    });

    // A new repo: resolved at once.
    let repo = w.add_repo(&libfoo("1.3-1"));
    let done =
        format!(r#"{{"tag": "e2e-build", "tag_id": 2, "repo_id": {repo}, "instance": "primary"}}"#);
    bus.publish(&koji_key("repo.done"), done.as_bytes());
    eventually("the repo resolution", Duration::from_secs(20), || {
        w.scalar::<Option<i32>>("SELECT latest_repo_id FROM collection")
            == Some(i32::try_from(repo).unwrap())
    });

    // The listener published what its actions changed (the outbox is empty), and SIGTERM
    // stops it cleanly.
    eventually("the outbox to drain", Duration::from_secs(10), || {
        outbox_len(&w) == 0
    });
    let pid = child.0.id();
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    let _watchdog = crate::support::KillAfter::new(pid, crate::support::COMMAND_LIMIT);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn an_unreadable_tls_file_is_named_and_a_refused_broker_is_an_error_not_a_hang() {
    use koschei_core::config::{BrokerConfig, TlsFiles};
    use koschei_core::messaging::Broker;
    let config = BrokerConfig {
        amqp_url: "amqps://guest:secret@127.0.0.1:5671/%2F".into(),
        tls: TlsFiles {
            ca_cert: Some("/nonexistent/koschei-ca.pem".into()),
            client: None,
        },
        ..BrokerConfig::default()
    };
    let e = Broker::connect(&config).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/koschei-ca.pem"), "{e}");
    let started = std::time::Instant::now();
    let e = Broker::connect(&BrokerConfig::new("amqp://guest:secret@127.0.0.1:1/%2F")).unwrap_err();
    let text = koschei_core::db::report(&e);
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
