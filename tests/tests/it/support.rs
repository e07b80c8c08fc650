//! The world of one end-to-end test: a fake Koji hub, a fresh database, a configuration
//! file pointing at both, and the real `koschei` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub(crate) use koschei_fakehub::process::{KillAfter, output_within};

use koschei_core::db::testing::TestDb;
use koschei_fakehub::FakeHub;
use koschei_fakehub::rpmmd::{Group, Package, write_repo};
use koschei_fakehub::tls::TestCa;

/// Dest tag, build tag and target of the test collection.
pub(crate) const TAG: &str = "e2e";
pub(crate) const BUILD_TAG: &str = "e2e-build";

/// The `koschei` binary of this workspace (built by cargo before the tests from
/// koschei-cli's sources, as this package's `e2e-koschei`).
pub(crate) fn koschei_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_e2e-koschei"))
}

/// The `koschei-web` binary of this workspace (as `e2e-koschei-web`).
pub(crate) fn koschei_web_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_e2e-koschei-web"))
}

/// How long one `koschei` command of a test may take before the test fails (generous: a
/// loaded 2-core machine; a command of these tests takes a few seconds).
pub(crate) const COMMAND_LIMIT: Duration = Duration::from_secs(120);

/// The BuildRequires-free packages every repo of the tests has (the build group and tools).
fn base_packages() -> Vec<Package> {
    vec![
        Package::new("bash", "5.2-1", "x86_64").files(&["/bin/sh", "/usr/bin/bash"]),
        Package::new("glibc", "2.40-1", "x86_64"),
        Package::new("gcc", "14.2-1", "x86_64").requires(&["glibc"]),
        Package::new("rpm-build", "4.20-1", "x86_64").requires(&["bash"]),
        Package::new("make", "4.4-1", "x86_64"),
    ]
}

/// A test world.
pub(crate) struct World {
    pub(crate) hub: FakeHub,
    pub(crate) db: TestDb,
    pub(crate) dir: PathBuf,
    config: PathBuf,
    base_config: String,
    repos: u64,
}

impl World {
    /// A hub with tag `e2e`, build tag `e2e-build` (x86_64, aarch64, i686) with group `build`,
    /// target `e2e`; a database; a configuration building for x86_64 and aarch64 only; and the collection `e2e` created with the CLI.
    pub(crate) fn new(name: &str) -> World {
        World::with_hub(name, None)
    }

    /// [`World::new`] with the hub and its files behind HTTPS, signed by a private CA that only
    /// the configuration's `login_args.serverca` names.
    pub(crate) fn new_https(name: &str) -> World {
        World::with_hub(name, Some(TestCa::new().expect("test CA")))
    }

    fn with_hub(name: &str, tls: Option<TestCa>) -> World {
        let hub = match &tls {
            None => FakeHub::start(),
            Some(ca) => FakeHub::start_https(ca),
        }
        .expect("fake hub");
        hub.add_tag(TAG, &["x86_64"], None);
        hub.add_tag(BUILD_TAG, &["x86_64", "aarch64", "i686"], Some(TAG));
        hub.add_target(TAG, BUILD_TAG, TAG);
        hub.add_group(BUILD_TAG, "build", &["bash", "gcc", "rpm-build"]);
        let db = TestDb::new().expect("test database");
        let dir = std::env::temp_dir().join(format!("koschei-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let serverca = match &tls {
            None => String::new(),
            Some(ca) => format!(
                "serverca = \"{}\"\n",
                ca.write_ca(&dir).expect("write CA").display()
            ),
        };
        let cert = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../koschei-core/tests/data/koji-tls/client-combined.pem"
        );
        // Time priority stays at its -30 floor (t0 far away): the fake hub's clock is fixed
        // in 2026, so only dependency and build priority decide what gets built.
        let config = format!(
            r#"[koji]
server = "{server}"
topurl = "{topurl}"
weburl = "{weburl}"
login_method = "ssl"
build_arches = ["x86_64", "aarch64"]
max_builds = 3
load_threshold = 0.9
retries = 1
timeout = 20
connect_timeout = 5

[koji.login_args]
cert = "{cert}"
{serverca}
[directories]
cachedir = "{cache}"

[priorities]
t0 = 1000000.0
t1 = 10000000.0

[services.polling]
interval = 0.3
[services.repo_resolver]
interval = 0.3
[services.build_resolver]
interval = 0.3
[services.scheduler]
interval = 0.3
"#,
            server = hub.url(),
            topurl = hub.topurl(),
            weburl = hub.weburl(),
            cache = dir.join("cache").display(),
        );
        let config_path = dir.join("koschei.toml");
        std::fs::write(&config_path, &config).expect("write config");
        let w = World {
            hub,
            db,
            dir,
            config: config_path,
            base_config: config,
            repos: 0,
        };
        w.ok(&[
            "create-collection",
            "e2e",
            "--display-name",
            "E2E",
            "--target",
            TAG,
            "--build-tag",
            BUILD_TAG,
            "--dest-tag",
            TAG,
        ]);
        w
    }

    /// Writes a repo with the base packages plus `extra` and makes it the build tag's latest
    /// READY repo; returns its id.
    pub(crate) fn add_repo(&mut self, extra: &[Package]) -> i64 {
        self.repos += 1;
        let dir = self.dir.join(format!("repo{}", self.repos));
        let mut packages = base_packages();
        packages.extend(extra.iter().cloned());
        let group = Group {
            id: "build".to_owned(),
            packages: vec!["bash".into(), "gcc".into(), "rpm-build".into()],
        };
        write_repo(&dir.join("x86_64"), &packages, &[group], self.repos).expect("write repo");
        self.hub.add_repo(BUILD_TAG, &dir)
    }

    /// Rewrites the configuration file with `from` replaced by `to` in the base configuration
    /// (e.g. the hub's URL by another one).
    pub(crate) fn replace_in_config(&self, from: &str, to: &str) {
        assert!(
            self.base_config.contains(from),
            "`{from}` not in the configuration"
        );
        std::fs::write(&self.config, self.base_config.replace(from, to)).expect("write config");
    }

    /// Replaces the sections added to the base configuration with `extra` (TOML).
    pub(crate) fn set_extra_config(&self, extra: &str) {
        std::fs::write(&self.config, format!("{}\n{extra}", self.base_config))
            .expect("write config");
    }

    /// `koschei <args>` with this world's configuration and database.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(koschei_bin());
        c.env_remove("KOSCHEI_CONFIG")
            .env_remove("RUST_LOG")
            .env("KOSCHEI_DATABASE_URL", self.db.url().expose())
            .env("SUDO_USER", "e2e")
            .arg("--config")
            .arg(&self.config)
            .args(args);
        c
    }

    /// Runs `koschei <args>`; returns (exit code, stdout, stderr).
    pub(crate) fn run(&self, args: &[&str]) -> (i32, String, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = output_within(&mut self.command(args), COMMAND_LIMIT);
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// Runs `koschei <args>` and expects success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "koschei {args:?} failed:\n{out}\n{err}");
        out
    }

    /// `koschei run --once` plus `extra` arguments, expecting success.
    pub(crate) fn pass(&self, extra: &[&str]) -> String {
        let mut args = vec!["run", "--once"];
        args.extend_from_slice(extra);
        self.ok(&args)
    }

    /// A database connection for reading state.
    pub(crate) fn sql(&self) -> postgres::Client {
        self.db.connect().expect("connect")
    }

    /// One scalar of a query without parameters.
    pub(crate) fn scalar<T>(&self, query: &str) -> T
    where
        T: for<'a> postgres::types::FromSql<'a>,
    {
        self.sql()
            .query_one(query, &[])
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .get(0)
    }

    /// A package's column.
    pub(crate) fn package_col<T>(&self, package: &str, column: &str) -> T
    where
        T: for<'a> postgres::types::FromSql<'a>,
    {
        // The column name is a test constant, never input.
        let q = format!("SELECT {column} FROM package WHERE name = $1");
        self.sql()
            .query_one(&q, &[&package])
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .get(0)
    }

    /// The unapplied changes of a package: (name, previous EVR, current EVR, distance), by name.
    pub(crate) fn unapplied(&self, package: &str) -> Vec<(String, String, String, Option<i32>)> {
        self.changes(
            "SELECT coalesce(c.name, p.name), \
                    coalesce(p.version || '-' || p.release, ''), \
                    coalesce(c.version || '-' || c.release, ''), u.distance \
             FROM unapplied_change u JOIN package k ON k.id = u.package_id \
             LEFT JOIN dependency p ON p.id = u.prev_dep_id \
             LEFT JOIN dependency c ON c.id = u.curr_dep_id \
             WHERE k.name = $1 ORDER BY 1",
            package,
        )
    }

    /// The applied changes of the newest build of a package.
    pub(crate) fn applied(&self, package: &str) -> Vec<(String, String, String, Option<i32>)> {
        self.changes(
            "SELECT coalesce(c.name, p.name), \
                    coalesce(p.version || '-' || p.release, ''), \
                    coalesce(c.version || '-' || c.release, ''), a.distance \
             FROM applied_change a \
             LEFT JOIN dependency p ON p.id = a.prev_dep_id \
             LEFT JOIN dependency c ON c.id = a.curr_dep_id \
             WHERE a.build_id = (SELECT b.id FROM build b JOIN package k ON k.id = b.package_id \
                                 WHERE k.name = $1 ORDER BY b.started DESC, b.id DESC LIMIT 1) \
             ORDER BY 1",
            package,
        )
    }

    fn changes(&self, q: &str, package: &str) -> Vec<(String, String, String, Option<i32>)> {
        self.sql()
            .query(q, &[&package])
            .expect("changes")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }

    /// (state, real, task id) of the builds of a package, oldest first.
    pub(crate) fn builds(&self, package: &str) -> Vec<(i32, bool, i32)> {
        self.sql()
            .query(
                "SELECT b.state, b.real, b.task_id FROM build b JOIN package k ON k.id = b.package_id \
                 WHERE k.name = $1 ORDER BY b.id",
                &[&package],
            )
            .expect("builds")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The library and its -devel package at `evr`.
pub(crate) fn libfoo(evr: &str) -> Vec<Package> {
    vec![
        Package::new("libfoo", evr, "x86_64").requires(&["glibc"]),
        Package::new("libfoo-devel", evr, "x86_64").requires(&[&format!("libfoo = {evr}")]),
    ]
}

/// The standard world: repo 1 with libfoo 1.0, package `app` (BuildRequires
/// `libfoo-devel`) built in it and tracked, and one engine pass run.
pub(crate) fn tracked_app(name: &str) -> World {
    let mut w = World::new(name);
    w.add_repo(&libfoo("1.0-1"));
    w.hub
        .add_build_with_task(TAG, TAG, "app-1.0-1", &["libfoo-devel", "make"]);
    w.pass(&["--only", "polling"]);
    w.ok(&["add-pkg", "--collection", "e2e", "app"]);
    w.pass(&[]);
    w
}

/// A child process killed when the test ends early.
pub(crate) struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
