//! A hub and file server behind HTTPS with a private CA that only `login_args.serverca` names:
//! every client of the `koschei` command trusts it (create-collection's anonymous one, the
//! logged-in engine, the passive engine, and the repodata downloads).

use crate::support::{World, libfoo};

#[test]
fn every_command_verifies_an_https_hub_with_the_configured_ca() {
    // `World::new_https` runs create-collection (an anonymous client) over https.
    let mut w = World::new_https("private-ca");
    assert!(w.hub.url().starts_with("https://"));
    w.add_repo(&libfoo("1.0-1"));
    w.hub.add_build_with_task(
        crate::support::TAG,
        crate::support::TAG,
        "app-1.0-1",
        &["libfoo-devel"],
    );
    w.pass(&["--only", "polling"]);
    w.ok(&["add-pkg", "--collection", "e2e", "app"]);
    // Logged in, with repodata from the https topurl.
    w.pass(&[]);
    assert_eq!(w.package_col::<Option<bool>>("app", "resolved"), Some(true));
    // Passive: anonymous, still trusting the CA.
    w.add_repo(&libfoo("1.1-1"));
    let out = w.pass(&["--passive"]);
    assert!(!out.contains("error"), "{out}");
    assert_eq!(w.unapplied("app").len(), 2, "resolved against the new repo");
    // Without `--build-tag`, create-collection asks the hub (anonymously) for the target.
    w.ok(&[
        "create-collection",
        "e2e-looked-up",
        "--display-name",
        "Looked up",
        "--target",
        crate::support::TAG,
    ]);
    let build_tag: String =
        w.scalar("SELECT build_tag FROM collection WHERE name = 'e2e-looked-up'");
    assert_eq!(build_tag, crate::support::BUILD_TAG);
}
