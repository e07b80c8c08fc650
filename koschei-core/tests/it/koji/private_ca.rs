//! A hub behind HTTPS with a private CA made by the test: the configured CA (`serverca`, else
//! `ca`) verifies the hub for every login method, anonymous clients and repodata downloads
//! included.

use std::path::Path;
use std::time::Duration;

use koschei_core::Config;
use koschei_core::koji::{Call, Client, ClientOptions, Error, Login};
use koschei_core::repo::{CacheOptions, RepoCache, RepoDescriptor};
use koschei_fakehub::FakeHub;
use koschei_fakehub::tls::TestCa;

use crate::support::TempDir;

/// The configuration of a hub at `hub` with `login` lines under `[koji]` and `args` under
/// `[koji.login_args]`.
fn config(hub: &FakeHub, login: &str, args: &str) -> Config {
    let text = format!(
        "[koji]\nserver = \"{}\"\ntopurl = \"{}\"\nweburl = \"{}\"\nretries = 1\n{login}\n[koji.login_args]\n{args}\n",
        hub.url(),
        hub.topurl(),
        hub.weburl()
    );
    Config::from_texts(&[(Path::new("koschei.toml"), text.as_str())], None).expect("config")
}

fn fast(mut o: ClientOptions) -> ClientOptions {
    o.retry_interval = Duration::from_millis(5);
    o.max_retries = 1;
    o
}

#[test]
fn an_anonymous_client_verifies_the_hub_with_the_configured_ca() {
    let ca = TestCa::new().expect("CA");
    let dir = TempDir::new("private-ca");
    let ca_path = ca.write_ca(dir.path()).expect("write CA");
    let hub = FakeHub::start_https_with_fixture_data(&ca).expect("https hub");
    for key in ["serverca", "ca"] {
        let c = config(
            &hub,
            "login_method = \"logout\"",
            &format!("{key} = \"{}\"", ca_path.display()),
        );
        assert_eq!(c.koji.hub_ca().as_deref(), Some(ca_path.as_path()));
        let client = Client::new(fast(c.koji.client_options())).expect("client");
        let repo = client
            .latest_repo("f40-build")
            .expect("anonymous call over https")
            .expect("a repo");
        assert_eq!(repo.id.0, 2);
    }
    // The passive engine and create-collection drop the login but keep the CA.
    let c = config(
        &hub,
        "login_method = \"ssl\"",
        &format!(
            "cert = \"{}\"\nserverca = \"{}\"",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/koji-tls/client-combined.pem")
                .display(),
            ca_path.display()
        ),
    );
    let mut options = fast(c.koji.client_options());
    options.login = Login::None;
    let client = Client::new(options).expect("client");
    client
        .call(&Call::new("getAPIVersion"))
        .expect("an anonymous client of a logged-in configuration trusts the CA too");
    // Without the CA the hub is not trusted, and that is not retried.
    let c = config(&hub, "login_method = \"logout\"", "");
    let client = Client::new(fast(c.koji.client_options())).expect("client");
    let err = client
        .call(&Call::new("getAPIVersion"))
        .expect_err("untrusted");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[test]
fn a_password_login_over_https_uses_the_configured_ca() {
    let ca = TestCa::new().expect("CA");
    let dir = TempDir::new("private-ca");
    let ca_path = ca.write_ca(dir.path()).expect("write CA");
    let hub = FakeHub::start_https_with_fixture_data(&ca).expect("https hub");
    let client = Client::new(fast(ClientOptions {
        server: hub.url(),
        login: Login::Password {
            user: "koschei".into(),
            password: "koschei".into(),
        },
        ca: Some(ca_path),
        ..ClientOptions::default()
    }))
    .expect("client");
    let user = client
        .call(&Call::new("getLoggedInUser"))
        .expect("logged in over https");
    assert_eq!(user.get("name").and_then(|v| v.as_str()), Some("koschei"));
}

#[test]
fn repodata_downloads_verify_the_file_server_with_the_configured_ca() {
    let ca = TestCa::new().expect("CA");
    let dir = TempDir::new("private-ca");
    let ca_path = ca.write_ca(dir.path()).expect("write CA");
    let hub = FakeHub::start_https_with_fixture_data(&ca).expect("https hub");
    let src = dir.path().join("repo");
    let packages = [koschei_fakehub::rpmmd::Package::new(
        "bash", "5.2-1", "x86_64",
    )];
    koschei_fakehub::rpmmd::write_repo(&src.join("x86_64"), &packages, &[], 1).expect("repo");
    let repo_id = hub.add_repo("f40-build", &src);
    let descriptor = RepoDescriptor {
        koji_id: "primary".into(),
        build_tag: "f40-build".into(),
        repo_id: koschei_core::koji::RepoId(i32::try_from(repo_id).expect("small repo id")),
        arch: "x86_64".into(),
    };
    // What the engine opens its cache with, for an anonymous configuration.
    let c = config(
        &hub,
        "login_method = \"logout\"",
        &format!("serverca = \"{}\"", ca_path.display()),
    );
    let cache = RepoCache::open(
        dir.path().join("cache"),
        CacheOptions {
            ca: c.koji.hub_ca(),
            ..CacheOptions::default()
        },
    )
    .expect("cache");
    let repo = cache
        .fetch(&c.koji.topurl, &descriptor)
        .expect("downloaded over https");
    assert!(repo.path().join("repodata/repomd.xml").is_file());
    let untrusting =
        RepoCache::open(dir.path().join("cache2"), CacheOptions::default()).expect("cache");
    untrusting
        .fetch(&c.koji.topurl, &descriptor)
        .expect_err("the system roots do not know the private CA");
}
