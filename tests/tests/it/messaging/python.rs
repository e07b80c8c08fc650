//! Interoperability with the real Python client: fedora-messaging from PyPI (in the venv of
//! `scripts/messaging-venv.sh`) consumes Koschei's messages and validates them with the
//! `koschei-messages` schema classes, and publishes a Koji message (the
//! `koji-fedoramessaging-messages` class) that `koschei messaging listen` acts on.
//!
//! Skipped, with a message, only when PyPI cannot be reached and `CI` is not `true`; in CI
//! the venv must be created.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use koschei_fakehub::TaskState;

use super::bus::{AMQP_URL, Bus, eventually};
use super::{PREFIX, listener, world};
use crate::support::libfoo;

/// The venv's python, or `None` (with the reason printed) when the test must be skipped.
#[allow(
    clippy::disallowed_methods,
    clippy::print_stderr,
    reason = "the skip rule depends on `CI`, and a skip must say why"
)]
fn venv_python() -> Option<PathBuf> {
    // Both tests need it; made once per test process (the script also locks across processes).
    static VENV: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    VENV.get_or_init(make_venv).clone()
}

#[allow(
    clippy::disallowed_methods,
    clippy::print_stderr,
    reason = "the skip rule depends on `CI`, and a skip must say why"
)]
fn make_venv() -> Option<PathBuf> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/messaging-venv.sh"))
        .output()
        .expect("run scripts/messaging-venv.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match out.status.code() {
        Some(0) => Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())),
        Some(2) if !in_ci => {
            eprintln!(
                "SKIPPED: PyPI is unreachable, so the fedora-messaging interoperability test cannot run here ({})",
                stderr.trim()
            );
            None
        }
        _ => panic!(
            "scripts/messaging-venv.sh failed ({:?}):\n{stderr}",
            out.status
        ),
    }
}

/// Runs `script` with the venv's python and the fedora-messaging configuration `conf`.
fn python(py: &PathBuf, conf: &str, script: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "koschei-fm-{}-{}",
        std::process::id(),
        script.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf_path = dir.join("config.toml");
    std::fs::write(&conf_path, conf).unwrap();
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .env("FEDORA_MESSAGING_CONF", &conf_path)
        .output()
        .expect("run python");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A fedora-messaging configuration for the test broker.
fn fm_config(exchange: &str, queue: &str, keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        r#"amqp_url = "{AMQP_URL}"
publish_exchange = "{exchange}"
topic_prefix = "{PREFIX}"
passive_declares = false

[exchanges."{exchange}"]
type = "topic"
durable = true
auto_delete = false
arguments = {{}}

[queues."{queue}"]
durable = true
auto_delete = false
exclusive = false
arguments = {{}}

[[bindings]]
queue = "{queue}"
exchange = "{exchange}"
routing_keys = [{keys}]

[log_config]
version = 1
disable_existing_loggers = false
[log_config.root]
level = "WARNING"
"#,
        keys = keys.join(", ")
    )
}

/// Consumes `n` messages with `fedora_messaging.api.consume` and prints, per message, the
/// class, topic, id, severity, summary, URL and body as one JSON line.
const CONSUME: &str = r#"
import json, signal, sys
from fedora_messaging import api, config, exceptions, message
from koschei_messages.package import PackageStateChange
from koschei_messages.collection import CollectionStateChange
signal.alarm(20)
config.conf.setup_logging()
want = int(sys.argv[1]) if len(sys.argv) > 1 else 2
seen = []
def callback(msg):
    msg.validate()
    assert isinstance(msg, (PackageStateChange, CollectionStateChange)), type(msg)
    print(json.dumps({"class": type(msg).__name__, "topic": msg.topic, "id": msg.id,
                      "severity": msg.severity, "summary": msg.summary, "url": msg.url,
                      "body": msg.body, "groups": msg.groups, "packages": msg.packages,
                      "sent_at": msg._headers.get("sent-at")}), flush=True)
    seen.append(msg)
    if len(seen) == want:
        raise exceptions.HaltConsumer()
try:
    api.consume(callback)
except exceptions.HaltConsumer:
    pass
"#;

#[test]
fn fedora_messaging_consumes_and_validates_koschei_messages() {
    let Some(py) = venv_python() else { return };
    let mut bus = Bus::new("py-consume");
    // The queue exists before Koschei publishes; the Python consumer then drains it.
    let q = bus.bind("py", &["#"]);
    let (mut w, _) = world("msg-py-consume", &mut bus, AMQP_URL);
    w.pass(&[]);
    w.add_repo(&[koschei_fakehub::rpmmd::Package::new(
        "libfoo", "1.0-1", "x86_64",
    )]);
    w.pass(&[]);
    let out = python(&py, &fm_config(&bus.exchange, &q, &["#"]), CONSUME);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let c = &lines[0];
    assert_eq!(c["class"], "CollectionStateChange");
    assert_eq!(
        c["topic"],
        "org.fedoraproject.test.koschei.collection.state.change"
    );
    assert_eq!(c["summary"], "E2E added to Koschei");
    assert_eq!(c["url"], "https://koschei.fedoraproject.org/collection/e2e");
    assert_eq!(c["severity"], 20);
    let p = &lines[1];
    assert_eq!(p["class"], "PackageStateChange");
    assert_eq!(p["summary"], "app's dependencies failed to resolve in e2e");
    assert_eq!(p["groups"], serde_json::json!(["c", "foo/xml"]));
    assert_eq!(p["packages"], serde_json::json!(["app"]));
    assert_eq!(p["body"]["koji_instance"], "primary");
    assert_eq!(p["body"]["repo"], "e2e");
    assert_ne!(c["id"], p["id"]);
    assert!(
        p["sent_at"].as_str().is_some_and(|s| s.ends_with("+00:00")),
        "{p}"
    );
}

/// Publishes a Koji task state message with `fedora_messaging.api.publish` and the
/// koji-fedoramessaging-messages class.
const PUBLISH_TASK: &str = r#"
import signal, sys
from fedora_messaging import api, config
from koji_fedoramessaging_messages.task import TaskStateChangeV1
signal.alarm(20)
config.conf.setup_logging()
task = int(sys.argv[1])
info = {"id": task, "method": "build", "host_id": None, "arch": "noarch", "result": None,
        "state": 2, "parent": None, "create_time": 1700000000.0, "children": [],
        "request": ["app-1.0-1.src.rpm", "e2e", {"scratch": True}]}
msg = TaskStateChangeV1(body={
    "id": task, "info": info, "method": "build", "attribute": "state", "old": "OPEN",
    "new": "CLOSED", "srpm": "app-1.0-1.src.rpm", "owner": "koschei",
    "base_url": "https://koji.example", "files_base_url": "https://kojipkgs.example",
    "instance": "primary"})
msg.validate()
api.publish(msg)
print(msg.id)
"#;

#[test]
fn koschei_acts_on_a_koji_message_published_by_fedora_messaging() {
    let Some(py) = venv_python() else { return };
    let mut bus = Bus::new("py-publish");
    let (mut w, queue) = world("msg-py-publish", &mut bus, AMQP_URL);
    w.pass(&[]);
    w.add_repo(&libfoo("1.1-1"));
    w.pass(&[]);
    let task = w.hub.submitted_builds()[0].task_id;
    assert_eq!(w.builds("app")[1].0, 2, "running");
    let _listener = listener(&w, &bus, &queue);
    w.hub.finish_task(task, TaskState::Closed);
    // The Python side publishes only; its own queue binding is unused.
    let own = bus.queue_name("py-unused");
    let script = PUBLISH_TASK.replace("int(sys.argv[1])", &task.to_string());
    let id = python(&py, &fm_config(&bus.exchange, &own, &["nothing"]), &script);
    assert_eq!(id.trim().len(), 36, "{id}");
    eventually("the build to complete", Duration::from_secs(15), || {
        w.builds("app")[1].0 == 3
    });
}
