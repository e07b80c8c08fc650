//! Koschei's own messages as fedora-messaging puts them on the wire (pure).
//!
//! The bodies are the original's (`koschei/plugins/fedmsg_plugin/backend/publisher.py`) and
//! validate against the `koschei-messages` 1.0.1 schemas; the JSON text is what Python's
//! `json.dumps` writes (`", "` and `": "` separators, non-ASCII as `\uXXXX`, keys in the
//! original's order). The headers and properties are those of fedora-messaging's
//! `Message._build_properties`.

use std::fmt::Write as _;

/// Schema (entry point) name of package state changes in `koschei-messages`.
pub const PACKAGE_SCHEMA: &str = "koschei.package.state.change";
/// Schema (entry point) name of collection state changes in `koschei-messages`.
pub const COLLECTION_SCHEMA: &str = "koschei.collection.state.change";
/// The `fedora_messaging_schema_package` header: the distribution holding the schemas.
pub const SCHEMA_PACKAGE: &str = "koschei_messages";
/// fedora-messaging's `INFO` severity, the default of Koschei's message classes.
pub const SEVERITY_INFO: i64 = 20;

/// What changed, with the data of the message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A package's message state changed (`ok`, `failing`, `unresolved`, `ignored`).
    PackageState {
        /// Package name.
        name: String,
        /// Previous message state.
        old: String,
        /// New message state.
        new: String,
        /// Collection (machine) name.
        collection: String,
        /// Collection display name.
        collection_name: String,
        /// Full names (`namespace/name` or `name`) of the package's groups, by group name.
        groups: Vec<String>,
    },
    /// A collection's state changed (`ok`, `unresolved`, `unknown`).
    CollectionState {
        /// Previous state.
        old: String,
        /// New state.
        new: String,
        /// Collection (machine) name.
        collection: String,
        /// Collection display name.
        collection_name: String,
        /// The collection's latest repo id (a string in the schema), empty when none.
        repo_id: String,
    },
}

/// A message ready to be queued: topic without the bus prefix, schema name and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// `<modname>.package.state.change` or `<modname>.collection.state.change`.
    pub topic: String,
    /// The `fedora_messaging_schema` header.
    pub schema_name: &'static str,
    /// The JSON body.
    pub body: String,
}

impl Event {
    /// The message of this event under `modname` for Koji instance `koji_instance`.
    pub fn to_message(&self, modname: &str, koji_instance: &str) -> OutgoingMessage {
        match self {
            Event::PackageState {
                name,
                old,
                new,
                collection,
                collection_name,
                groups,
            } => OutgoingMessage {
                topic: format!("{modname}.package.state.change"),
                schema_name: PACKAGE_SCHEMA,
                body: py_json_object(&[
                    ("name", Json::Str(name)),
                    ("old", Json::Str(old)),
                    ("new", Json::Str(new)),
                    ("koji_instance", Json::Str(koji_instance)),
                    // Compat only, same as collection (as in the original).
                    ("repo", Json::Str(collection)),
                    ("collection", Json::Str(collection)),
                    ("collection_name", Json::Str(collection_name)),
                    ("groups", Json::List(groups)),
                ]),
            },
            Event::CollectionState {
                old,
                new,
                collection,
                collection_name,
                repo_id,
            } => OutgoingMessage {
                topic: format!("{modname}.collection.state.change"),
                schema_name: COLLECTION_SCHEMA,
                body: py_json_object(&[
                    ("old", Json::Str(old)),
                    ("new", Json::Str(new)),
                    ("koji_instance", Json::Str(koji_instance)),
                    ("collection", Json::Str(collection)),
                    ("collection_name", Json::Str(collection_name)),
                    ("repo_id", Json::Str(repo_id)),
                ]),
            },
        }
    }
}

enum Json<'a> {
    Str(&'a str),
    List(&'a [String]),
}

/// A flat JSON object as Python's `json.dumps` writes it.
fn py_json_object(fields: &[(&str, Json<'_>)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        py_json_string(&mut out, key);
        out.push_str(": ");
        match value {
            Json::Str(s) => py_json_string(&mut out, s),
            Json::List(items) => {
                out.push('[');
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        out.push_str(", ");
                    }
                    py_json_string(&mut out, item);
                }
                out.push(']');
            }
        }
    }
    out.push('}');
    out
}

/// A JSON string with `ensure_ascii=True` escaping: everything outside `' '..='~'` escaped.
fn py_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// The AMQP routing key of `topic` under `prefix` (fedora-messaging's `topic_prefix`).
pub fn routing_key(prefix: &str, topic: &str) -> String {
    let prefix = prefix.trim_end_matches('.');
    if prefix.is_empty() {
        topic.to_owned()
    } else {
        format!("{prefix}.{topic}")
    }
}

/// An AMQP header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// The headers fedora-messaging sets: schema, schema package, `sent-at`, severity,
/// priority, and the filter headers (`fedora_messaging_group_<g>`, `fedora_messaging_rpm_<p>`)
/// of the message class's `groups` and `packages` properties. `sent_at` is ISO 8601 in UTC
/// with `+00:00`, without fractions (Python's `isoformat()`).
pub fn headers(schema_name: &str, body: &str, sent_at: &str) -> Vec<(String, HeaderValue)> {
    let mut h = vec![
        (
            "fedora_messaging_schema".to_owned(),
            HeaderValue::Str(schema_name.to_owned()),
        ),
        (
            "fedora_messaging_schema_package".to_owned(),
            HeaderValue::Str(SCHEMA_PACKAGE.to_owned()),
        ),
        ("sent-at".to_owned(), HeaderValue::Str(sent_at.to_owned())),
        (
            "fedora_messaging_severity".to_owned(),
            HeaderValue::Int(SEVERITY_INFO),
        ),
        ("priority".to_owned(), HeaderValue::Int(0)),
    ];
    if schema_name == PACKAGE_SCHEMA
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(body)
    {
        let strings = |key: &str| -> Vec<String> {
            match &v[key] {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        for group in strings("groups") {
            h.push((
                format!("fedora_messaging_group_{group}"),
                HeaderValue::Bool(true),
            ));
        }
        if let Some(name) = v["name"].as_str() {
            h.push((
                format!("fedora_messaging_rpm_{name}"),
                HeaderValue::Bool(true),
            ));
        }
    }
    h
}

/// AMQP basic properties of every message (besides `message_id` and the headers).
pub const CONTENT_TYPE: &str = "application/json";
/// The body's encoding.
pub const CONTENT_ENCODING: &str = "utf-8";
/// Persistent delivery.
pub const DELIVERY_MODE_PERSISTENT: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn package(groups: &[&str]) -> Event {
        Event::PackageState {
            name: "rnv".into(),
            old: "ok".into(),
            new: "failing".into(),
            collection: "f25".into(),
            collection_name: "Fedora 25".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn package_body_is_the_originals_in_pythons_json() {
        // The original's fedmsg_publisher_test: groups ['c', 'foo/xml'].
        let m = package(&["c", "foo/xml"]).to_message("koschei", "primary");
        assert_eq!(m.topic, "koschei.package.state.change");
        assert_eq!(m.schema_name, "koschei.package.state.change");
        assert_eq!(
            m.body,
            r#"{"name": "rnv", "old": "ok", "new": "failing", "koji_instance": "primary", "repo": "f25", "collection": "f25", "collection_name": "Fedora 25", "groups": ["c", "foo/xml"]}"#
        );
    }

    #[test]
    fn collection_body_is_the_originals_with_a_string_repo_id() {
        let m = Event::CollectionState {
            old: "unknown".into(),
            new: "ok".into(),
            collection: "f25".into(),
            collection_name: "Fedora 25".into(),
            repo_id: "123".into(),
        }
        .to_message("koschei-stg", "s390");
        assert_eq!(m.topic, "koschei-stg.collection.state.change");
        assert_eq!(m.schema_name, COLLECTION_SCHEMA);
        assert_eq!(
            m.body,
            r#"{"old": "unknown", "new": "ok", "koji_instance": "s390", "collection": "f25", "collection_name": "Fedora 25", "repo_id": "123"}"#
        );
    }

    #[test]
    fn strings_are_escaped_as_python_does() {
        let cases = [
            ("plain", r#""plain""#),
            ("quo\"te\\", r#""quo\"te\\""#),
            ("tab\tnl\n\u{1}", r#""tab\tnl\n\u0001""#),
            (
                "Fedora Ελλάδα",
                r#""Fedora \u0395\u03bb\u03bb\u03ac\u03b4\u03b1""#,
            ),
            ("emoji 🦀", r#""emoji \ud83e\udd80""#),
            ("del\u{7f}", r#""del\u007f""#),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            py_json_string(&mut out, input);
            assert_eq!(out, want, "{input:?}");
            let back: String = serde_json::from_str(&out).expect("valid JSON");
            assert_eq!(back, input);
        }
    }

    #[test]
    fn routing_key_adds_the_prefix_once() {
        assert_eq!(routing_key("", "koschei.x"), "koschei.x");
        assert_eq!(
            routing_key("org.fedoraproject.prod", "koschei.x"),
            "org.fedoraproject.prod.koschei.x"
        );
        assert_eq!(
            routing_key("org.fedoraproject.prod.", "koschei.x"),
            "org.fedoraproject.prod.koschei.x"
        );
    }

    #[test]
    fn headers_carry_schema_severity_and_filters() {
        let m = package(&["c", "foo/xml"]).to_message("koschei", "primary");
        let h = headers(m.schema_name, &m.body, "2024-05-01T12:00:00+00:00");
        let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("fedora_messaging_schema"),
            Some(HeaderValue::Str(PACKAGE_SCHEMA.into()))
        );
        assert_eq!(
            get("fedora_messaging_schema_package"),
            Some(HeaderValue::Str("koschei_messages".into()))
        );
        assert_eq!(
            get("sent-at"),
            Some(HeaderValue::Str("2024-05-01T12:00:00+00:00".into()))
        );
        assert_eq!(get("fedora_messaging_severity"), Some(HeaderValue::Int(20)));
        assert_eq!(get("priority"), Some(HeaderValue::Int(0)));
        assert_eq!(
            get("fedora_messaging_group_foo/xml"),
            Some(HeaderValue::Bool(true))
        );
        assert_eq!(
            get("fedora_messaging_rpm_rnv"),
            Some(HeaderValue::Bool(true))
        );
        assert_eq!(h.len(), 8);
        let c = headers(COLLECTION_SCHEMA, "{}", "x");
        assert_eq!(c.len(), 5);
    }
}
