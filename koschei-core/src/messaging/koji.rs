//! Koji's messages the listener acts on (pure): `<topic>.task.state.change`, `<topic>.tag`
//! and `<topic>.repo.done` of the configured instance, with the bodies of the
//! koji-fedoramessaging plugin (`koji-fedoramessaging-messages` on PyPI).

use crate::model::{KojiTaskId, RepoId};

/// What a Koji message asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KojiEvent {
    /// A task changed state: poll the build of that task (or of its parent) now.
    TaskStateChange {
        /// The task.
        task_id: KojiTaskId,
        /// Its parent task, for subtasks such as `buildArch`.
        parent: Option<KojiTaskId>,
        /// The new state name (`CLOSED`, `FAILED`, ...), for the log.
        new: String,
    },
    /// A build was tagged: look for a newer real build of the package now.
    Tag {
        /// Package name.
        name: String,
        /// The tag, when the message names it.
        tag: Option<String>,
    },
    /// A repo was generated: run the repo resolver now for collections with this build tag.
    RepoDone {
        /// The tag the repo was generated for.
        tag: String,
        /// The repo id.
        repo_id: RepoId,
    },
}

/// Why a message is not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Skip {
    /// Not one of the three topics under the configured prefix (not an error).
    #[error("topic `{0}` is not followed")]
    Topic(String),
    /// The body's `instance` is another Koji's (not an error).
    #[error("message of Koji instance `{0}`")]
    Instance(String),
    /// A followed topic with a body that cannot be used: logged as a bad message.
    #[error("bad `{topic}` message: {reason}")]
    Bad {
        /// The routing key.
        topic: String,
        /// What is wrong.
        reason: String,
    },
}

/// Parses a delivery: `routing_key` and the raw `body`. `topic` is `fedmsg.topic`, `instance`
/// is `fedmsg.instance`. A bad body is [`Skip::Bad`], never a panic.
pub fn parse(
    topic: &str,
    instance: &str,
    routing_key: &str,
    body: &[u8],
) -> Result<KojiEvent, Skip> {
    let Some(rest) = routing_key
        .strip_prefix(topic)
        .and_then(|r| r.strip_prefix('.'))
    else {
        return Err(Skip::Topic(routing_key.to_owned()));
    };
    if !matches!(rest, "task.state.change" | "tag" | "repo.done") {
        return Err(Skip::Topic(routing_key.to_owned()));
    }
    let bad = |reason: String| Skip::Bad {
        topic: routing_key.to_owned(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("body is not JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("body is not a JSON object".to_owned()))?;
    // The original's watcher: `content.get('instance') == fedmsg.instance`.
    match obj.get("instance").and_then(|v| v.as_str()) {
        Some(i) if i == instance => {}
        Some(i) => return Err(Skip::Instance(i.to_owned())),
        None => return Err(bad("no string `instance`".to_owned())),
    }
    let int = |key: &str| -> Result<i64, Skip> {
        obj.get(key)
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| bad(format!("no integer `{key}`")))
    };
    let int32 = |key: &str| -> Result<i32, Skip> {
        let v = int(key)?;
        i32::try_from(v).map_err(|_| bad(format!("`{key}` {v} is out of range")))
    };
    let string = |key: &str| -> Result<String, Skip> {
        obj.get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("no string `{key}`")))
    };
    match rest {
        "task.state.change" => {
            let attribute = string("attribute")?;
            if attribute != "state" {
                return Err(bad(format!("attribute `{attribute}` is not `state`")));
            }
            // The plugin puts the parent in `info`; older messages had it at the top.
            let parent = match obj.get("parent").or_else(|| obj.get("info")?.get("parent")) {
                None | Some(serde_json::Value::Null) => None,
                Some(v) => {
                    let v = v
                        .as_i64()
                        .ok_or_else(|| bad("`parent` is not an integer".to_owned()))?;
                    Some(KojiTaskId(
                        i32::try_from(v)
                            .map_err(|_| bad(format!("`parent` {v} is out of range")))?,
                    ))
                }
            };
            Ok(KojiEvent::TaskStateChange {
                task_id: KojiTaskId(int32("id")?),
                parent,
                new: string("new")?,
            })
        }
        "tag" => {
            let name = string("name")?;
            if name.is_empty() {
                return Err(bad("empty `name`".to_owned()));
            }
            Ok(KojiEvent::Tag {
                name,
                tag: obj.get("tag").and_then(|v| v.as_str()).map(str::to_owned),
            })
        }
        _ => Ok(KojiEvent::RepoDone {
            tag: string("tag")?,
            repo_id: RepoId(int32("repo_id")?),
        }),
    }
}

/// The routing keys the listener's queue is bound to.
pub fn binding_keys(topic: &str) -> [String; 3] {
    [
        format!("{topic}.task.state.change"),
        format!("{topic}.tag"),
        format!("{topic}.repo.done"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "org.fedoraproject.prod.buildsys";

    fn p(key: &str, body: &str) -> Result<KojiEvent, Skip> {
        parse(T, "primary", key, body.as_bytes())
    }

    #[test]
    fn parses_the_three_topics() {
        assert_eq!(
            p(
                "org.fedoraproject.prod.buildsys.task.state.change",
                r#"{"id": 666, "parent": null, "attribute": "state", "old": "OPEN", "new": "CLOSED", "instance": "primary", "method": "build"}"#
            ),
            Ok(KojiEvent::TaskStateChange {
                task_id: KojiTaskId(666),
                parent: None,
                new: "CLOSED".into()
            })
        );
        assert_eq!(
            p(
                "org.fedoraproject.prod.buildsys.task.state.change",
                r#"{"id": 667, "parent": 666, "attribute": "state", "new": "OPEN", "instance": "primary"}"#
            ),
            Ok(KojiEvent::TaskStateChange {
                task_id: KojiTaskId(667),
                parent: Some(KojiTaskId(666)),
                new: "OPEN".into()
            })
        );
        assert_eq!(
            p(
                "org.fedoraproject.prod.buildsys.tag",
                r#"{"name": "rnv", "tag": "f29", "version": "1.7.11", "release": "15.fc28", "build_id": 1, "instance": "primary"}"#
            ),
            Ok(KojiEvent::Tag {
                name: "rnv".into(),
                tag: Some("f29".into())
            })
        );
        assert_eq!(
            p(
                "org.fedoraproject.prod.buildsys.repo.done",
                r#"{"tag": "f29-build", "repo_id": 123, "tag_id": 5, "instance": "primary"}"#
            ),
            Ok(KojiEvent::RepoDone {
                tag: "f29-build".into(),
                repo_id: RepoId(123)
            })
        );
    }

    #[test]
    fn other_topics_and_instances_are_ignored() {
        // The original's watcher_test: wrong topic prefix or instance → ignored.
        let body = r#"{"id": 1, "attribute": "state", "new": "CLOSED", "instance": "primary"}"#;
        assert!(matches!(
            p("org.fedoraproject.stg.buildsys.task.state.change", body),
            Err(Skip::Topic(_))
        ));
        assert!(matches!(
            p("org.fedoraproject.prod.buildsys.build.state.change", body),
            Err(Skip::Topic(_))
        ));
        assert!(matches!(
            p("org.fedoraproject.prod.buildsysx.tag", body),
            Err(Skip::Topic(_))
        ));
        let s390 = r#"{"id": 1, "attribute": "state", "new": "CLOSED", "instance": "s390"}"#;
        assert_eq!(
            p("org.fedoraproject.prod.buildsys.task.state.change", s390),
            Err(Skip::Instance("s390".into()))
        );
    }

    #[test]
    fn bad_bodies_are_reported_not_panicked_on() {
        let key = "org.fedoraproject.prod.buildsys.task.state.change";
        let cases = [
            ("not json", "not JSON"),
            ("[1, 2]", "not a JSON object"),
            (r#"{"id": 1}"#, "instance"),
            (
                r#"{"instance": "primary", "attribute": "state", "new": "x"}"#,
                "`id`",
            ),
            (
                r#"{"instance": "primary", "attribute": "state", "id": 99999999999, "new": "x"}"#,
                "out of range",
            ),
            (
                r#"{"instance": "primary", "attribute": "weight", "id": 1, "new": "x"}"#,
                "attribute",
            ),
            ("\u{0}\u{1}", "not JSON"),
        ];
        for (body, want) in cases {
            match p(key, body) {
                Err(Skip::Bad { reason, .. }) => assert!(reason.contains(want), "{body}: {reason}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            p(
                "org.fedoraproject.prod.buildsys.tag",
                r#"{"instance": "primary", "name": ""}"#
            ),
            Err(Skip::Bad { .. })
        ));
        assert!(matches!(
            p(
                "org.fedoraproject.prod.buildsys.repo.done",
                r#"{"instance": "primary", "tag": "x", "repo_id": "1"}"#
            ),
            Err(Skip::Bad { .. })
        ));
    }
}
