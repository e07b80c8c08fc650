//! JSON bodies of the API. Pure.
//!
//! * `GET /api/v1/packages[?name=N...][&collection=C...]`: an array ordered by package name,
//!   every package (blocked and untracked too) as
//!   `{"name", "collection", "state", "last_complete_build": null | {"task_id", "time_started",
//!   "time_finished", "epoch", "version", "release"}}`, times in ISO 8601 without a zone (UTC).
//! * `GET /api/v1/collections/diff/<c1>/<c2>`: `[{"name", "state": {"<c1>": s1, "<c2>": s2}}]`
//!   for packages present in both with different states.
//! * `GET /api/v1/packages/<name>[?collection=C]`: `{"name", "collections": [...]}` with one
//!   object per selected collection that has the package: `collection`, `state`, `tracked`,
//!   `blocked`, `resolved`, `running`, `current_priority` (null when not schedulable),
//!   `skip_reasons`, `manual_priority`, `static_priority`, `dependency_priority`,
//!   `build_priority`, `arch_override`, `last_build` and `last_complete_build` (same shape as
//!   above plus `build_id` and `state`), `dependency_changes`
//!   (`[{"name", "prev_evr", "curr_evr", "distance"}]`, EVRs as `E:V-R` or null) and
//!   `problems` (dependency problems when unresolvable).

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use koschei_core::db::web::{
    ApiPackage, AppliedChange, BuildSummary, CollectionRow, PackageDetail, StateDiffRow,
};

use serde::Serialize;

use crate::format::{Iso8601, iso8601};
use crate::priority::{current_priority, skip_reasons};
use koschei_core::priority::Priorities;

/// One build of `/api/v1/packages`, serialised as the original's (keys in order).
#[derive(Serialize)]
struct BuildJson<'a> {
    epoch: Option<i32>,
    release: Option<&'a str>,
    task_id: i32,
    time_finished: Option<Iso8601>,
    time_started: Iso8601,
    version: Option<&'a str>,
}

/// One package of `/api/v1/packages` (keys in the order `serde_json` sorts them).
#[derive(Serialize)]
struct PackageJson<'a> {
    collection: &'a str,
    last_complete_build: Option<BuildJson<'a>>,
    name: &'a str,
    state: &'static str,
}

/// The body of `/api/v1/packages`, written one package at a time as the rows arrive: typed
/// rows serialised straight into the body, no JSON values in between.
pub(crate) struct PackagesWriter {
    body: Vec<u8>,
    empty: bool,
}

impl PackagesWriter {
    pub(crate) fn new() -> Self {
        PackagesWriter {
            body: b"[".to_vec(),
            empty: true,
        }
    }

    pub(crate) fn push(&mut self, p: &ApiPackage<'_>) {
        if !self.empty {
            self.body.push(b',');
        }
        self.empty = false;
        let json = PackageJson {
            collection: p.collection,
            last_complete_build: p.last_complete_build.as_ref().map(|b| BuildJson {
                epoch: b.epoch,
                release: b.release,
                task_id: b.task_id.0,
                time_finished: b.time_finished.map(Iso8601),
                time_started: Iso8601(b.time_started),
                version: b.version,
            }),
            name: p.name,
            state: p.state.as_str(),
        };
        // Writing to a Vec cannot fail, and these types always serialise.
        let _ = serde_json::to_writer(&mut self.body, &json);
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.body.push(b']');
        self.body
    }
}

/// The body of `/api/v1/collections/diff/<c1>/<c2>`.
pub(crate) fn diff(c1: &str, c2: &str, rows: &[StateDiffRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                let mut state = Map::new();
                state.insert(c1.to_owned(), Value::from(r.state1.as_str()));
                state.insert(c2.to_owned(), Value::from(r.state2.as_str()));
                json!({ "name": r.name, "state": state })
            })
            .collect(),
    )
}

fn summary(b: &BuildSummary) -> Value {
    json!({
        "build_id": b.id.0,
        "task_id": b.task_id.0,
        "state": b.state.as_str(),
        "time_started": iso8601(b.started),
        "time_finished": b.finished.map(iso8601),
        "epoch": b.evr.as_ref().and_then(|e| e.epoch),
        "version": b.evr.as_ref().map(|e| e.version.clone()),
        "release": b.evr.as_ref().map(|e| e.release.clone()),
    })
}

/// One collection's entry of `/api/v1/packages/<name>`.
pub(crate) fn package_detail(
    d: &PackageDetail,
    c: &CollectionRow,
    changes: &[AppliedChange],
    weights: &Priorities,
    now: SystemTime,
) -> Value {
    json!({
        "collection": c.name,
        "state": d.flags.state().as_str(),
        "tracked": d.flags.tracked,
        "blocked": d.flags.blocked,
        "resolved": d.flags.resolved,
        "running": d.flags.running,
        "current_priority": current_priority(&d.flags, weights, now),
        "skip_reasons": skip_reasons(&d.flags, c, now),
        "manual_priority": d.flags.manual_priority,
        "static_priority": d.flags.static_priority,
        "dependency_priority": d.flags.dependency_priority,
        "build_priority": d.flags.build_priority,
        "arch_override": d.arch_override,
        "last_build": d.last_build.as_ref().map(summary),
        "last_complete_build": d.last_complete_build.as_ref().map(summary),
        "dependency_changes": changes.iter().map(|ch| json!({
            "name": ch.dep_name,
            "prev_evr": ch.prev.as_ref().map(|e| e.to_full_string()),
            "curr_evr": ch.curr.as_ref().map(|e| e.to_full_string()),
            "distance": ch.distance,
        })).collect::<Vec<_>>(),
        "problems": d.problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::from_unix;
    use koschei_core::db::web::ApiBuild;
    use koschei_core::model::{KojiTaskId, PackageState};

    #[test]
    fn package_list_shape_matches_the_original() {
        let list = [
            ApiPackage {
                name: "rnv",
                collection: "f25",
                state: PackageState::Failing,
                last_complete_build: Some(ApiBuild {
                    task_id: KojiTaskId(1337),
                    time_started: from_unix(1337),
                    time_finished: None,
                    epoch: None,
                    version: Some("1"),
                    release: Some("1.fc25"),
                }),
            },
            ApiPackage {
                name: "xpp3",
                collection: "f25",
                state: PackageState::Unknown,
                last_complete_build: None,
            },
        ];
        let mut w = PackagesWriter::new();
        for p in &list {
            w.push(p);
        }
        assert_eq!(
            String::from_utf8(w.finish()).unwrap_or_default(),
            concat!(
                r#"[{"collection":"f25","last_complete_build":{"epoch":null,"release":"1.fc25","#,
                r#""task_id":1337,"time_finished":null,"time_started":"1970-01-01T00:22:17","#,
                r#""version":"1"},"name":"rnv","state":"failing"},"#,
                r#"{"collection":"f25","last_complete_build":null,"name":"xpp3","state":"unknown"}]"#
            )
        );
    }

    #[test]
    fn package_list_writer_matches_json_values() {
        // Names and versions that need escaping, fractions of seconds, an epoch.
        let list = [ApiPackage {
            name: "a\"b\\c\u{1}é",
            collection: "f\n25",
            state: PackageState::Ok,
            last_complete_build: Some(ApiBuild {
                task_id: KojiTaskId(7),
                time_started: from_unix(951_782_400) + std::time::Duration::from_micros(5),
                time_finished: Some(from_unix(951_782_401)),
                epoch: Some(2),
                version: Some("1<2"),
                release: None,
            }),
        }];
        let mut w = PackagesWriter::new();
        w.push(&list[0]);
        let expected = serde_json::json!([{
            "name": list[0].name,
            "collection": list[0].collection,
            "state": "ok",
            "last_complete_build": {
                "task_id": 7,
                "time_started": "2000-02-29T00:00:00.000005",
                "time_finished": "2000-02-29T00:00:01",
                "epoch": 2,
                "version": "1<2",
                "release": null,
            },
        }]);
        assert_eq!(
            String::from_utf8(w.finish()).unwrap_or_default(),
            expected.to_string()
        );
        assert_eq!(PackagesWriter::new().finish(), b"[]");
    }

    #[test]
    fn diff_keys_states_by_collection_name() {
        let rows = [StateDiffRow {
            name: "foo".into(),
            state1: PackageState::Ok,
            state2: PackageState::Failing,
        }];
        assert_eq!(
            diff("f25", "f26", &rows).to_string(),
            r#"[{"name":"foo","state":{"f25":"ok","f26":"failing"}}]"#
        );
    }
}
