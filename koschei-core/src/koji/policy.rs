//! Koschei's rules on Koji results (pure): dependency strings from `getRPMDeps`, the build group, and
//! the arch and load rules of [`crate::schedule`] applied to Koji's own result shapes.

use std::collections::BTreeSet;

use super::api::{Host, RpmDep, TagGroup};
use super::xmlrpc::{Struct, Value};

const RPMSENSE_LESS: i64 = 1 << 1;
const RPMSENSE_GREATER: i64 = 1 << 2;
const RPMSENSE_EQUAL: i64 = 1 << 3;
const RPMSENSE_FIND_REQUIRES: i64 = 1 << 14;

/// Koschei's rendering of `getRPMDeps` results into dependency strings: masks out `RPMSENSE_FIND_REQUIRES`,
/// skips deps with other bits than `<`, `>`, `=` (e.g. `rpmlib(...)`), renders `name op version` with the
/// operator built lowest bit first, or just `name`.
pub fn dependency_strings(deps: &[RpmDep]) -> Vec<String> {
    let mut out = Vec::new();
    for dep in deps {
        let mut flags = dep.flags & !RPMSENSE_FIND_REQUIRES;
        if flags & !(RPMSENSE_LESS | RPMSENSE_GREATER | RPMSENSE_EQUAL) != 0 {
            continue;
        }
        let mut op = String::new();
        while flags != 0 {
            let old = flags;
            flags &= flags - 1;
            op.push(match old ^ flags {
                RPMSENSE_LESS => '<',
                RPMSENSE_GREATER => '>',
                _ => '=',
            });
        }
        let s = format!("{} {} {}", dep.name, op, dep.version);
        out.push(s.trim_end().to_owned());
    }
    out
}

/// Koschei's build group: the packages of group `group_name` that are not blocked and of type `default` or
/// `mandatory`; `None` when the tag has no such group.
pub fn build_group_packages(groups: &[TagGroup], group_name: &str) -> Option<Vec<String>> {
    let group = groups.iter().find(|g| g.name == group_name)?;
    Some(
        group
            .packagelist
            .iter()
            .filter(|p| p.blocked != Some(true))
            .filter(|p| matches!(p.kind.as_deref(), Some("default" | "mandatory")))
            .map(|p| p.package.clone())
            .collect(),
    )
}

pub use crate::schedule::canon_arch;

/// Koschei's Koji load: for each canonical arch of `arches` (all of `all_arches` when `arches` contains
/// `noarch`), the hosts serving it give `sum(ready ? min(task_load, capacity) : capacity) / sum(capacity)`
/// (1.0 without capacity); the result is the maximum over arches, or the minimum for noarch packages.
pub fn load(all_arches: &[String], arches: &[String], hosts: &[Host]) -> f64 {
    let arches: BTreeSet<String> = arches.iter().cloned().collect();
    crate::schedule::koji_load(all_arches, &arches, hosts)
}

/// Koschei's `get_srpm_arches`: the arches to build an SRPM on, from the tag's arches (`all_arches`), the
/// SRPM's `BUILDARCHS`/`EXCLUSIVEARCH`/`EXCLUDEARCH` headers (`getRPMHeaders`), an optional arch override
/// (`"x86_64 aarch64"`, or `"^i686"` to exclude) and the configured build arches. `None` when the headers
/// are empty (unknown SRPM); an empty set means no build should be submitted.
pub fn srpm_arches(
    all_arches: &[String],
    headers: &Struct,
    arch_override: Option<&str>,
    build_arches: &[String],
) -> Option<BTreeSet<String>> {
    if headers.is_empty() {
        return None;
    }
    let list = |key: &str| -> Vec<String> {
        headers
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (buildarchs, exclusive, exclude) = (
        list("BUILDARCHS"),
        list("EXCLUSIVEARCH"),
        list("EXCLUDEARCH"),
    );
    let headers = crate::schedule::SrpmArchHeaders {
        buildarchs,
        excludearch: exclude,
        exclusivearch: exclusive,
    };
    Some(crate::schedule::srpm_arches(
        all_arches,
        &headers,
        arch_override,
        build_arches,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::koji::api::GroupPackage;

    fn dep(name: &str, version: &str, flags: i64) -> RpmDep {
        RpmDep {
            name: name.into(),
            version: version.into(),
            flags,
            dep_type: 0,
        }
    }

    #[test]
    fn dependency_strings_follow_koschei() {
        let deps = [
            dep("(baz or qux)", "", 0),
            dep("bar", "2.0", 12),
            dep("a", "1", 10),
            dep("b", "1", 8),
            dep("c", "1", 2),
            dep("d", "1", 4),
            dep("e", "1", 8 | RPMSENSE_FIND_REQUIRES),
            dep("rpmlib(CompressedFileNames)", "3.0.4-1", 16777226),
            dep("f", "", 1 << 9),
        ];
        assert_eq!(
            dependency_strings(&deps),
            [
                "(baz or qux)",
                "bar >= 2.0",
                "a <= 1",
                "b = 1",
                "c < 1",
                "d > 1",
                "e = 1"
            ]
        );
    }

    fn host(arches: &str, load: f64, cap: f64, ready: bool) -> Host {
        Host {
            id: 1,
            name: "h".into(),
            arches: arches.into(),
            task_load: load,
            capacity: cap,
            ready,
            enabled: Some(true),
        }
    }

    #[test]
    fn load_formula() {
        let all: Vec<String> = vec!["x86_64".into(), "aarch64".into(), "i686".into()];
        let hosts = [
            host("x86_64 i386", 1.0, 2.0, true),
            host("x86_64", 5.0, 2.0, true),
            host("aarch64", 0.0, 4.0, false),
        ];
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        // x86_64: (1 + 2) / 4; aarch64: 4 / 4 (not ready); i386: 1 / 2.
        assert_eq!(load(&all, &s(&["x86_64"]), &hosts), 0.75);
        assert_eq!(load(&all, &s(&["x86_64", "aarch64"]), &hosts), 1.0);
        assert_eq!(load(&all, &s(&["i686"]), &hosts), 0.5);
        assert_eq!(load(&all, &s(&["noarch"]), &hosts), 0.5);
        assert_eq!(load(&all, &s(&["s390x"]), &hosts), 1.0);
    }

    fn headers(build: &[&str], exclusive: &[&str], exclude: &[&str]) -> Struct {
        let mut s = Struct::new();
        s.insert("BUILDARCHS".into(), Value::from(build.to_vec()));
        s.insert("EXCLUSIVEARCH".into(), Value::from(exclusive.to_vec()));
        s.insert("EXCLUDEARCH".into(), Value::from(exclude.to_vec()));
        s
    }

    #[test]
    fn srpm_arches_follow_koschei() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let set = |a: &[&str]| Some(a.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
        let all = v(&["x86_64", "aarch64", "i686"]);
        let build = v(&["x86_64", "aarch64", "i386"]);
        type Case<'a> = (Struct, Option<&'a str>, Option<BTreeSet<String>>);
        let cases: &[Case<'_>] = &[
            (
                headers(&[], &[], &[]),
                None,
                set(&["x86_64", "aarch64", "i686"]),
            ),
            (headers(&["noarch"], &[], &[]), None, set(&["noarch"])),
            (
                headers(&[], &["x86_64", "aarch64"], &[]),
                None,
                set(&["x86_64", "aarch64"]),
            ),
            (
                headers(&[], &[], &["i686"]),
                None,
                set(&["x86_64", "aarch64"]),
            ),
            (headers(&[], &["s390x"], &[]), None, set(&[])),
            (
                headers(&[], &[], &[]),
                Some("^i686 aarch64"),
                set(&["x86_64"]),
            ),
            (
                headers(&[], &[], &[]),
                Some("x86_64 ppc64le"),
                set(&["x86_64"]),
            ),
            (Struct::new(), None, None),
        ];
        for (h, o, want) in cases {
            assert_eq!(&srpm_arches(&all, h, *o, &build), want, "{h:?} {o:?}");
        }
    }

    #[test]
    fn canon_arch_maps_families() {
        for (a, c) in [
            ("i686", "i386"),
            ("ia32e", "x86_64"),
            ("amd64", "amd64"), // Koji does not map Debian names.
            ("armv7hl", "armhfp"),
            ("noarch", "noarch"),
        ] {
            assert_eq!(canon_arch(a), c);
        }
    }

    #[test]
    fn build_group_keeps_default_and_mandatory_unblocked() {
        let pkg = |n: &str, t: &str, b: bool| GroupPackage {
            package: n.into(),
            kind: Some(t.into()),
            blocked: Some(b),
        };
        let groups = vec![TagGroup {
            name: "build".into(),
            group_id: Some(1),
            blocked: Some(false),
            packagelist: vec![
                pkg("bash", "mandatory", false),
                pkg("gcc", "default", false),
                pkg("vim", "optional", false),
                pkg("old", "mandatory", true),
            ],
        }];
        assert_eq!(
            build_group_packages(&groups, "build"),
            Some(vec!["bash".to_string(), "gcc".to_string()])
        );
        assert_eq!(build_group_packages(&groups, "srpm-build"), None);
    }
}
