//! Choosing what to build (spec section 4.2): the candidate walk, build arches from SRPM
//! headers and the arch override, Koji's `canonArch`, and the Koji load.
//!
//! This module is pure: the scheduler service loads the data and persists the outcome.

use std::collections::BTreeSet;

use crate::model::PackageId;

/// Koji's `canonArch`: the canonical name of an architecture (`i686` → `i386`,
/// `armv7hl` → `armhfp`, `ppc64p7` → `ppc64`, ...).
pub fn canon_arch(arch: &str) -> &str {
    let bytes = arch.as_bytes();
    let i_86 = bytes.len() == 4 && bytes[0] == b'i' && &bytes[2..] == b"86";
    if i_86 || arch == "athlon" {
        "i386"
    } else if arch == "ia32e" {
        "x86_64"
    } else if arch == "ppc64le" {
        "ppc64le"
    } else if arch.starts_with("ppc64") {
        "ppc64"
    } else if arch.starts_with("sparc64") {
        "sparc64"
    } else if arch.starts_with("sparc") {
        "sparc"
    } else if arch.starts_with("alpha") {
        "alpha"
    } else if arch.starts_with("arm") && arch[3..].contains('h') {
        "armhfp"
    } else if arch.starts_with("arm") {
        "arm"
    } else {
        arch
    }
}

/// The arch headers of an SRPM (`getRPMHeaders` with BUILDARCHS, EXCLUDEARCH, EXCLUSIVEARCH).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SrpmArchHeaders {
    /// `BuildArch` values (`noarch` for noarch packages).
    pub buildarchs: Vec<String>,
    /// `ExcludeArch` values.
    pub excludearch: Vec<String>,
    /// `ExclusiveArch` values.
    pub exclusivearch: Vec<String>,
}

/// The arches to build an SRPM for, computed like Koji's `getArchList`, then restricted by
/// the package's arch override (`a b` replaces the list, `^a b` removes arches whose
/// canonical arch is listed) and by the configured `build_arches` intersected with the
/// build tag's arches. `noarch` is kept whenever the list has it. An empty result means no
/// allowed arch.
pub fn srpm_arches(
    all_arches: &[String],
    headers: &SrpmArchHeaders,
    arch_override: Option<&str>,
    build_arches: &[String],
) -> BTreeSet<String> {
    let tag_arches: BTreeSet<&str> = all_arches.iter().map(|a| canon_arch(a)).collect();
    let mut archlist: Vec<String> = if headers.buildarchs.is_empty() {
        all_arches.to_vec()
    } else {
        headers.buildarchs.clone()
    };
    if !headers.exclusivearch.is_empty() {
        archlist.retain(|a| headers.exclusivearch.contains(a));
    }
    if !headers.excludearch.is_empty() {
        archlist.retain(|a| !headers.excludearch.contains(a));
    }
    let noarch = "noarch".to_owned();
    if !headers.excludearch.contains(&noarch)
        && (headers.buildarchs.contains(&noarch) || headers.exclusivearch.contains(&noarch))
    {
        archlist.push(noarch);
    }
    if let Some(ov) = arch_override.map(str::trim).filter(|o| !o.is_empty()) {
        if let Some(excl) = ov.strip_prefix('^') {
            let excluded: BTreeSet<&str> = excl.split_whitespace().map(canon_arch).collect();
            archlist.retain(|a| !excluded.contains(canon_arch(a)));
        } else {
            archlist = ov.split_whitespace().map(str::to_owned).collect();
        }
    }
    let build: BTreeSet<&str> = build_arches.iter().map(|a| canon_arch(a)).collect();
    archlist
        .into_iter()
        .filter(|a| {
            a == "noarch" || {
                let c = canon_arch(a);
                tag_arches.contains(c) && build.contains(c)
            }
        })
        .collect()
}

/// The `arch_override` build option to submit with: none for a noarch package (Koji picks
/// the arch), otherwise the computed arch set.
pub fn submit_arch_override(arches: &BTreeSet<String>) -> Option<Vec<String>> {
    if arches.contains("noarch") {
        None
    } else {
        Some(arches.iter().cloned().collect())
    }
}

pub use crate::koji::Host;

/// Koji load for building `arches` (0 idle .. 1 full): per canonical arch, the load of the
/// hosts building it over their capacity (1.0 without capacity); the minimum over arches for
/// noarch packages (which use all arches), the maximum otherwise. Empty `arches` gives 1.0.
pub fn koji_load(all_arches: &[String], arches: &BTreeSet<String>, hosts: &[Host]) -> f64 {
    let noarch = arches.contains("noarch");
    let considered: BTreeSet<&str> = if noarch {
        all_arches.iter().map(|a| canon_arch(a)).collect()
    } else {
        arches.iter().map(|a| canon_arch(a)).collect()
    };
    if considered.is_empty() {
        return 1.0;
    }
    let mut min_load: f64 = 1.0;
    let mut max_load: f64 = 0.0;
    for arch in considered {
        let arch_hosts = hosts
            .iter()
            .filter(|h| h.arches.split_whitespace().any(|a| a == arch));
        let (mut capacity, mut load) = (0.0, 0.0);
        for h in arch_hosts {
            capacity += h.capacity;
            load += if h.ready {
                h.task_load.min(h.capacity)
            } else {
                h.capacity
            };
        }
        let arch_load = if capacity > 0.0 { load / capacity } else { 1.0 };
        min_load = min_load.min(arch_load);
        max_load = max_load.max(arch_load);
    }
    if noarch { min_load } else { max_load }
}

/// A package that may be scheduled, with its current priority.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The package.
    pub package_id: PackageId,
    /// Its current priority.
    pub priority: f64,
}

/// The packages to try this cycle, best first: none when `running_builds >= max_builds`;
/// otherwise every candidate whose priority reaches `threshold`, by descending priority
/// (ties by package id). The scheduler submits at most one of them.
pub fn candidates_to_try(
    running_builds: usize,
    max_builds: usize,
    candidates: &[Candidate],
    threshold: f64,
) -> Vec<Candidate> {
    if running_builds >= max_builds {
        return Vec::new();
    }
    let mut picked: Vec<Candidate> = candidates
        .iter()
        .copied()
        .filter(|c| c.priority >= threshold)
        .collect();
    picked.sort_by(|a, b| {
        b.priority
            .total_cmp(&a.priority)
            .then(a.package_id.cmp(&b.package_id))
    });
    picked
}

/// What the scheduler does with one candidate once its arches are known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchDecision {
    /// No SRPM (or no headers) in Koji: record skip reason 1 and retry after a backoff.
    NoSrpm,
    /// No allowed arch: record skip reason 2 and lower the manual priority by 1000.
    NoArch,
    /// Submit, with this `arch_override` option.
    Build {
        /// The arches to pass, `None` for noarch packages.
        arch_override: Option<Vec<String>>,
    },
}

/// The decision for one candidate given its SRPM headers (`None` when Koji has none).
pub fn decide_arches(
    all_arches: &[String],
    headers: Option<&SrpmArchHeaders>,
    arch_override: Option<&str>,
    build_arches: &[String],
) -> (ArchDecision, BTreeSet<String>) {
    let Some(headers) = headers else {
        return (ArchDecision::NoSrpm, BTreeSet::new());
    };
    let arches = srpm_arches(all_arches, headers, arch_override, build_arches);
    if arches.is_empty() {
        (ArchDecision::NoArch, arches)
    } else {
        (
            ArchDecision::Build {
                arch_override: submit_arch_override(&arches),
            },
            arches,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn canon_arch_matches_koji() {
        let cases = [
            ("i686", "i386"),
            ("i386", "i386"),
            ("i586", "i386"),
            ("athlon", "i386"),
            ("ia32e", "x86_64"),
            ("x86_64", "x86_64"),
            ("armv7hl", "armhfp"),
            ("armhfp", "armhfp"),
            ("armv7l", "arm"),
            ("ppc64le", "ppc64le"),
            ("ppc64", "ppc64"),
            ("ppc64p7", "ppc64"),
            ("sparc64v", "sparc64"),
            ("sparcv9", "sparc"),
            ("alphaev6", "alpha"),
            ("aarch64", "aarch64"),
            ("s390x", "s390x"),
            ("noarch", "noarch"),
            ("i7686", "i7686"),
        ];
        for (a, want) in cases {
            assert_eq!(canon_arch(a), want, "{a}");
        }
    }

    #[test]
    fn srpm_arches_match_original_koji_util_tests() {
        let all = strs(&[
            "aarch64", "armv7hl", "i686", "ppc64", "ppc64le", "s390x", "x86_64",
        ]);
        let build = strs(&["i386", "x86_64", "armhfp"]);
        let plain = SrpmArchHeaders::default();
        let h = |b: &[&str], excl: &[&str], only: &[&str]| SrpmArchHeaders {
            buildarchs: strs(b),
            excludearch: strs(excl),
            exclusivearch: strs(only),
        };
        type Case<'a> = (
            SrpmArchHeaders,
            Option<&'a str>,
            &'a [String],
            BTreeSet<String>,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                plain.clone(),
                None,
                &build,
                set(&["i686", "x86_64", "armv7hl"]),
            ),
            (h(&["noarch"], &[], &[]), None, &build, set(&["noarch"])),
            (h(&[], &[], &["armv7hl"]), None, &build, set(&["armv7hl"])),
            (
                h(&[], &["armv7hl"], &[]),
                None,
                &build,
                set(&["i686", "x86_64"]),
            ),
            (
                plain.clone(),
                Some("x86_64 i386"),
                &build,
                set(&["i386", "x86_64"]),
            ),
            (plain.clone(), Some("i686"), &build, set(&["i686"])),
            (
                plain.clone(),
                Some("^armhfp"),
                &build,
                set(&["i686", "x86_64"]),
            ),
            (
                plain.clone(),
                Some("^armv7hl"),
                &build,
                set(&["i686", "x86_64"]),
            ),
            (
                plain.clone(),
                None,
                &all,
                set(&[
                    "aarch64", "armv7hl", "i686", "ppc64", "ppc64le", "s390x", "x86_64",
                ]),
            ),
        ];
        for (headers, ov, build_arches, want) in cases {
            assert_eq!(
                srpm_arches(&all, &headers, ov, build_arches),
                want,
                "{headers:?} {ov:?}"
            );
        }
    }

    /// The hub recorded in `../shared/koji-wire` (f40-build arches `x86_64 aarch64 i686`,
    /// bar with ExclusiveArch x86_64 aarch64, foo noarch, one idle host `x86_64 aarch64 i686`).
    #[test]
    fn recorded_hub_arches_and_load() {
        let all = strs(&["x86_64", "aarch64", "i686"]);
        let defaults = strs(&["i386", "x86_64", "armhfp"]);
        let bar = SrpmArchHeaders {
            exclusivearch: strs(&["x86_64", "aarch64"]),
            ..Default::default()
        };
        let foo = SrpmArchHeaders {
            buildarchs: strs(&["noarch"]),
            ..Default::default()
        };
        assert_eq!(srpm_arches(&all, &bar, None, &defaults), set(&["x86_64"]));
        assert_eq!(
            srpm_arches(&all, &bar, None, &all),
            set(&["aarch64", "x86_64"])
        );
        assert_eq!(
            decide_arches(&all, Some(&foo), None, &defaults).0,
            ArchDecision::Build {
                arch_override: None
            }
        );
        let hosts = [Host::new("x86_64 aarch64 i686", 2.0, 0.0, true)];
        assert_eq!(koji_load(&all, &set(&["x86_64"]), &hosts), 0.0);
        // As in the original, hosts are matched by canonical arch: a host listing `i686`
        // does not count for `i386`, which then has no capacity (load 1.0).
        assert_eq!(koji_load(&all, &set(&["i686", "x86_64"]), &hosts), 1.0);
        assert_eq!(koji_load(&all, &set(&["noarch"]), &hosts), 0.0);
    }

    #[test]
    fn excluded_noarch_is_not_added() {
        let all = strs(&["x86_64"]);
        let h = SrpmArchHeaders {
            buildarchs: strs(&["noarch"]),
            excludearch: strs(&["noarch"]),
            exclusivearch: vec![],
        };
        assert!(srpm_arches(&all, &h, None, &all).is_empty());
    }

    #[test]
    fn decision_per_candidate() {
        let all = strs(&["x86_64", "i686"]);
        let build = strs(&["x86_64", "i386"]);
        assert_eq!(
            decide_arches(&all, None, None, &build).0,
            ArchDecision::NoSrpm
        );
        let only_arm = SrpmArchHeaders {
            exclusivearch: strs(&["armv7hl"]),
            ..Default::default()
        };
        assert_eq!(
            decide_arches(&all, Some(&only_arm), None, &build).0,
            ArchDecision::NoArch
        );
        assert_eq!(
            decide_arches(&all, Some(&SrpmArchHeaders::default()), None, &build).0,
            ArchDecision::Build {
                arch_override: Some(strs(&["i686", "x86_64"]))
            }
        );
        let noarch = SrpmArchHeaders {
            buildarchs: strs(&["noarch"]),
            ..Default::default()
        };
        assert_eq!(
            decide_arches(&all, Some(&noarch), None, &build).0,
            ArchDecision::Build {
                arch_override: None
            }
        );
    }

    #[test]
    fn koji_load_min_for_noarch_max_otherwise() {
        let all = strs(&["x86_64", "i686", "armv7hl"]);
        let host = Host::new;
        let hosts = [
            host("x86_64 i386", 10.0, 2.0, true),
            host("x86_64", 10.0, 20.0, true),
            host("armhfp", 4.0, 1.0, false),
        ];
        // x86_64: (2 + 10) / 20 = 0.6; i386: 2 / 10 = 0.2; armhfp: not ready → 1.0.
        let cases = [
            (set(&["x86_64"]), 0.6),
            (set(&["i686", "x86_64"]), 0.6),
            (set(&["i686"]), 0.2),
            (set(&["armv7hl"]), 1.0),
            (set(&["noarch"]), 0.2),
            (set(&["s390x"]), 1.0),
        ];
        for (arches, want) in cases {
            let got = koji_load(&all, &arches, &hosts);
            assert!((got - want).abs() < 1e-12, "{arches:?}: {got} != {want}");
        }
    }

    #[test]
    fn candidates_respect_capacity_threshold_and_order() {
        let c = |id, priority| Candidate {
            package_id: PackageId(id),
            priority,
        };
        let cands = [
            c(1, 100.0),
            c(2, 300.0),
            c(3, 256.0),
            c(4, 280.0),
            c(5, 300.0),
        ];
        let ids = |v: Vec<Candidate>| v.into_iter().map(|c| c.package_id.0).collect::<Vec<_>>();
        assert_eq!(
            ids(candidates_to_try(0, 2, &cands, 256.0)),
            vec![2, 5, 4, 3]
        );
        assert_eq!(
            ids(candidates_to_try(1, 2, &cands, 256.0)),
            vec![2, 5, 4, 3]
        );
        assert!(candidates_to_try(2, 2, &cands, 256.0).is_empty());
        assert!(candidates_to_try(0, 2, &[c(1, 10.0)], 256.0).is_empty());
        assert!(candidates_to_try(0, 2, &[], 256.0).is_empty());
    }
}
