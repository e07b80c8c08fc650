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
    ApiBuild, ApiPackage, AppliedChange, BuildSummary, CollectionRow, PackageDetail, StateDiffRow,
};

use crate::format::iso8601;
use crate::priority::{current_priority, skip_reasons};
use koschei_core::priority::Priorities;

fn api_build(b: &ApiBuild) -> Value {
    json!({
        "task_id": b.task_id.0,
        "time_started": iso8601(b.time_started),
        "time_finished": b.time_finished.map(iso8601),
        "epoch": b.epoch,
        "version": b.version,
        "release": b.release,
    })
}

/// The body of `/api/v1/packages`.
pub(crate) fn packages(list: &[ApiPackage]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "collection": p.collection,
                    "state": p.state.as_str(),
                    "last_complete_build": p.last_complete_build.as_ref().map(api_build),
                })
            })
            .collect(),
    )
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
    use koschei_core::model::{KojiTaskId, PackageState};

    #[test]
    fn package_list_shape_matches_the_original() {
        let list = [
            ApiPackage {
                name: "rnv".into(),
                collection: "f25".into(),
                state: PackageState::Failing,
                last_complete_build: Some(ApiBuild {
                    task_id: KojiTaskId(1337),
                    time_started: from_unix(1337),
                    time_finished: None,
                    epoch: None,
                    version: Some("1".into()),
                    release: Some("1.fc25".into()),
                }),
            },
            ApiPackage {
                name: "xpp3".into(),
                collection: "f25".into(),
                state: PackageState::Unknown,
                last_complete_build: None,
            },
        ];
        assert_eq!(
            packages(&list).to_string(),
            concat!(
                r#"[{"collection":"f25","last_complete_build":{"epoch":null,"release":"1.fc25","#,
                r#""task_id":1337,"time_finished":null,"time_started":"1970-01-01T00:22:17","#,
                r#""version":"1"},"name":"rnv","state":"failing"},"#,
                r#"{"collection":"f25","last_complete_build":null,"name":"xpp3","state":"unknown"}]"#
            )
        );
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
