//! Admin commands that ask Koji, against the fake hub over real XML-RPC.

use koschei_core::db::testing::TestDb;
use koschei_fakehub::FakeHub;

use crate::support::{koschei, run};

fn config_for(hub: &FakeHub, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("koschei.toml");
    std::fs::write(
        &path,
        format!(
            "[koji]\nserver = \"{}\"\ntopurl = \"{}\"\nweburl = \"{}\"\n",
            hub.url(),
            hub.topurl(),
            hub.weburl()
        ),
    )
    .unwrap();
    path
}

#[test]
fn create_collection_takes_tags_from_the_koji_target() {
    let db = TestDb::new().unwrap();
    let hub = FakeHub::start_with_fixture_data().unwrap();
    let dir = std::env::temp_dir().join(format!("koschei-cli-koji-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config_for(&hub, &dir);

    let mut c = koschei(Some(&db));
    c.arg("--config").arg(&config);
    c.args(["create-collection", "f40", "-d", "Fedora 40", "-t", "f40"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("build tag f40-build, dest tag f40"),
        "unexpected output: {out}"
    );
    assert!(hub.calls().iter().any(|c| c.method == "getBuildTarget"));

    let mut c = koschei(Some(&db));
    c.arg("--config").arg(&config);
    c.args([
        "create-collection",
        "f41",
        "-d",
        "Fedora 41",
        "-t",
        "no-such-target",
    ]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("no build target `no-such-target`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
