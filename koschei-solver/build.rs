//! Refuse to build against anything but the system libsolv with RPM support.
//!
//! libsolv-sys silently builds a bundled, Debian-only libsolv when the system
//! one is missing; that copy has no rpm-md reader and no RPM semantics.

fn main() {
    for (lib, version) in [("libsolv", "0.7.20"), ("libsolvext", "0.7.20")] {
        if let Err(err) = pkg_config::Config::new()
            .atleast_version(version)
            .cargo_metadata(false)
            .probe(lib)
        {
            panic!(
                "koschei-solver needs the system {lib} >= {version} (with rpm-md support): {err}\n\
                 hint: apt-get install libsolv-dev libsolvext-dev libclang1-14 libclang-common-14-dev pkg-config"
            );
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
