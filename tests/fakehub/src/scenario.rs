//! The demo's generated Koji content (also used by the examples' tests): a small tag, its build group, source packages with
//! their BuildRequires, and two repos of the build tag that differ in one library.

use std::path::Path;

use crate::FakeHub;
use crate::rpmmd::{Group, Package, write_repo};

/// Dest tag and target.
pub const TAG: &str = "demo";
/// Build tag.
pub const BUILD_TAG: &str = "demo-build";
/// Build group.
pub const GROUP: [&str; 6] = [
    "bash",
    "coreutils",
    "gcc",
    "make",
    "rpm-build",
    "redhat-rpm-config",
];

/// Source packages: NVR and BuildRequires. `legacy-app` needs a library the tag lacks.
pub const SOURCES: [(&str, &[&str]); 6] = [
    ("foo-cli-2.1-1", &["libfoo-devel >= 1.0", "pkgconf"]),
    ("pyfoo-1.4-2", &["python3-devel", "libfoo-devel"]),
    ("bar-tools-0.9-3", &["zlib-devel"]),
    ("netutil-3.2-1", &["openssl-devel", "pkgconf"]),
    ("docs-gen-1.0-1", &["python3"]),
    ("legacy-app-0.1-1", &["libbar-devel"]),
];

/// The package that fails to build after the update (to show a failing package).
pub const FAILS: &str = "pyfoo";

/// The binary packages of the build tag's repo, with libfoo at `libfoo_evr`.
pub fn binary_packages(libfoo_evr: &str) -> Vec<Package> {
    let p = |name: &str, evr: &str| Package::new(name, evr, "x86_64");
    vec![
        p("bash", "5.2.26-3").files(&["/bin/sh", "/usr/bin/bash"]),
        p("coreutils", "9.4-6").requires(&["glibc"]),
        p("glibc", "2.39-5"),
        p("gcc", "14.1.1-6").requires(&["glibc", "binutils"]),
        p("binutils", "2.42-3"),
        p("make", "4.4.1-6"),
        p("rpm-build", "4.19.1-3").requires(&["bash", "coreutils"]),
        Package::new("redhat-rpm-config", "287-1", "noarch"),
        p("pkgconf", "2.1.1-1"),
        p("libfoo", libfoo_evr).requires(&["glibc"]),
        p("libfoo-devel", libfoo_evr).requires(&[&format!("libfoo = {libfoo_evr}")]),
        p("zlib", "1.3.1-1"),
        p("zlib-devel", "1.3.1-1").requires(&["zlib = 1.3.1-1"]),
        p("openssl-libs", "3.2.1-2"),
        p("openssl-devel", "3.2.1-2").requires(&["openssl-libs = 3.2.1-2", "pkgconf"]),
        p("python3", "3.12.3-2"),
        p("python3-devel", "3.12.3-2").requires(&["python3 = 3.12.3-2"]),
    ]
}

/// The comps groups of the repo.
pub fn groups() -> Vec<Group> {
    vec![Group {
        id: "build".to_owned(),
        packages: GROUP.iter().map(|s| (*s).to_owned()).collect(),
    }]
}

/// Sets `hub` up with the scenario: the tags, the target, the build group, repo 1 of the build
/// tag (written under `repo_dir` with libfoo at `libfoo_evr`) and a tagged build of every
/// source package. Returns the repo id.
pub fn setup(hub: &FakeHub, repo_dir: &Path, libfoo_evr: &str) -> std::io::Result<i64> {
    hub.add_tag(TAG, &["x86_64"], None);
    hub.add_tag(BUILD_TAG, &["x86_64"], Some(TAG));
    hub.add_target(TAG, BUILD_TAG, TAG);
    hub.add_group(BUILD_TAG, "build", &GROUP);
    write_repo(
        &repo_dir.join("x86_64"),
        &binary_packages(libfoo_evr),
        &groups(),
        1,
    )?;
    let repo = hub.add_repo(BUILD_TAG, repo_dir);
    for (nvr, brs) in SOURCES {
        hub.add_build_with_task(TAG, TAG, nvr, brs);
    }
    Ok(repo)
}
