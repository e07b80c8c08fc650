//! The demo's generated Koji content: a small tag, its build group, source packages with
//! their BuildRequires, and two repos of the build tag that differ in one library.

use koschei_fakehub::rpmmd::{Group, Package};

/// Dest tag and target.
pub(super) const TAG: &str = "demo";
/// Build tag.
pub(super) const BUILD_TAG: &str = "demo-build";
/// Build group.
pub(super) const GROUP: [&str; 6] = [
    "bash",
    "coreutils",
    "gcc",
    "make",
    "rpm-build",
    "redhat-rpm-config",
];

/// Source packages: NVR and BuildRequires. `legacy-app` needs a library the tag lacks.
pub(super) const SOURCES: [(&str, &[&str]); 6] = [
    ("foo-cli-2.1-1", &["libfoo-devel >= 1.0", "pkgconf"]),
    ("pyfoo-1.4-2", &["python3-devel", "libfoo-devel"]),
    ("bar-tools-0.9-3", &["zlib-devel"]),
    ("netutil-3.2-1", &["openssl-devel", "pkgconf"]),
    ("docs-gen-1.0-1", &["python3"]),
    ("legacy-app-0.1-1", &["libbar-devel"]),
];

/// The package that fails to build after the update (to show a failing package).
pub(super) const FAILS: &str = "pyfoo";

/// The binary packages of the build tag's repo, with libfoo at `libfoo_evr`.
pub(super) fn binary_packages(libfoo_evr: &str) -> Vec<Package> {
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
pub(super) fn groups() -> Vec<Group> {
    vec![Group {
        id: "build".to_owned(),
        packages: GROUP.iter().map(|s| (*s).to_owned()).collect(),
    }]
}
