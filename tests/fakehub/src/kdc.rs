//! A real MIT Kerberos KDC for tests: a realm created in a temp dir, `krb5kdc` on a free port of
//! 127.0.0.1, principals and keytabs made with `kadmin.local` (Debian `krb5-kdc`,
//! `krb5-admin-server`, `krb5-user`).
//!
//! libkrb5 finds its configuration through the environment (`KRB5_CONFIG`), which is process-wide,
//! so a test that talks to the realm runs its body in a child process: [`in_realm`] creates the
//! realm, runs the same test binary again for just that test with the realm's environment, and
//! reports the child's outcome. Tests never touch the machine's `/etc/krb5.conf` realms.
//!
//! ```no_run
//! # fn some_test() {
//! koschei_fakehub::kdc::in_realm("koji::gssapi::some_test", |realm| {
//!     let keytab = realm.keytab("koschei/localhost");
//!     assert!(keytab.exists());
//! });
//! # }
//! ```

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The realm name of every test realm.
pub const REALM: &str = "KOSCHEI.TEST";

/// The service principal of the fake hub (`HTTP/localhost`): clients reach it as `localhost`.
pub const HTTP_SERVICE: &str = "HTTP/localhost";

/// The client principal made for Koschei (`koschei/localhost`, like Fedora's `koschei/<host>`).
pub const CLIENT: &str = "koschei/localhost";

const CHILD_ENV: &str = "KOSCHEI_TEST_REALM_DIR";

/// A test realm. The process that created it owns the KDC and stops it (and removes the directory)
/// when dropped; the child running the test body only uses it.
#[derive(Debug)]
pub struct Realm {
    dir: PathBuf,
    port: u16,
    kdc: Option<Child>,
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {what}: {e} (apt-get install krb5-kdc krb5-admin-server krb5-user)")
    });
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Realm {
    /// Creates the realm with [`HTTP_SERVICE`] and [`CLIENT`] (each with a keytab, see
    /// [`Realm::keytab`]) and starts the KDC.
    pub fn start() -> Realm {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "koschei-kdc-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("realm dir");
        let port = free_port();
        let d = dir.display();
        std::fs::write(
            dir.join("krb5.conf"),
            format!(
                "[libdefaults]\n  default_realm = {REALM}\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  dns_canonicalize_hostname = false\n  rdns = false\n  udp_preference_limit = 1\n[realms]\n  {REALM} = {{\n    kdc = 127.0.0.1:{port}\n  }}\n[domain_realm]\n  localhost = {REALM}\n"
            ),
        )
        .expect("krb5.conf");
        std::fs::write(
            dir.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n  kdc_listen = 127.0.0.1:{port}\n  kdc_tcp_listen = 127.0.0.1:{port}\n[realms]\n  {REALM} = {{\n    database_name = {d}/principal\n    key_stash_file = {d}/stash\n    acl_file = {d}/kadm5.acl\n    max_life = 10h\n    max_renewable_life = 0\n  }}\n[logging]\n  kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .expect("kdc.conf");
        std::fs::write(dir.join("port"), port.to_string()).expect("port file");
        let mut realm = Realm {
            dir,
            port,
            kdc: None,
        };
        run(
            realm.command("kdb5_util").args([
                "create",
                "-s",
                "-r",
                REALM,
                "-P",
                "koschei-test-master",
            ]),
            "kdb5_util create",
        );
        for p in [HTTP_SERVICE, CLIENT] {
            realm.add_principal(p);
        }
        let kdc = realm
            .command("krb5kdc")
            .args(["-n", "-r", REALM])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start krb5kdc (apt-get install krb5-kdc)");
        realm.kdc = Some(kdc);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "krb5kdc did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        realm
    }

    fn attach(dir: PathBuf) -> Realm {
        let port = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .expect("realm port file");
        Realm {
            dir,
            port,
            kdc: None,
        }
    }

    /// The realm's directory (configuration, database, keytabs, caches).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The KDC's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The environment that points libkrb5 at this realm (and nowhere else): `KRB5_CONFIG`, a
    /// default credential cache and client keytab inside the realm dir, a replay cache dir.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let d = &self.dir;
        vec![
            ("KRB5_CONFIG", d.join("krb5.conf").display().to_string()),
            ("KRB5_KDC_PROFILE", d.join("kdc.conf").display().to_string()),
            (
                "KRB5CCNAME",
                format!("FILE:{}", d.join("default.ccache").display()),
            ),
            (
                "KRB5_CLIENT_KTNAME",
                d.join("no-default-client.keytab").display().to_string(),
            ),
            ("KRB5RCACHEDIR", d.display().to_string()),
            (CHILD_ENV, d.display().to_string()),
        ]
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env());
        c
    }

    /// `principal@REALM`.
    pub fn full(&self, principal: &str) -> String {
        format!("{principal}@{REALM}")
    }

    /// The keytab file of a principal made by [`Realm::add_principal`].
    pub fn keytab(&self, principal: &str) -> PathBuf {
        self.dir
            .join(format!("{}.keytab", principal.replace('/', "_")))
    }

    /// Adds a principal with a random key and exports the key to [`Realm::keytab`].
    pub fn add_principal(&self, principal: &str) -> PathBuf {
        self.kadmin(&format!("addprinc -randkey {principal}"));
        let keytab = self.keytab(principal);
        self.kadmin(&format!("ktadd -k {} {principal}", keytab.display()));
        keytab
    }

    /// Removes a principal from the KDC (its keytab stays, and no longer works).
    pub fn delete_principal(&self, principal: &str) {
        self.kadmin(&format!("delprinc -force {principal}"));
    }

    /// Sets the longest ticket lifetime of a principal (e.g. `"3 seconds"`).
    pub fn set_max_life(&self, principal: &str, life: &str) {
        self.kadmin(&format!("modprinc -maxlife \"{life}\" {principal}"));
    }

    /// Runs a `kadmin.local` query on the realm.
    pub fn kadmin(&self, query: &str) {
        run(
            self.command("kadmin.local")
                .args(["-r", REALM, "-q", query]),
            &format!("kadmin.local -q {query:?}"),
        );
    }

    /// `kinit -k -t keytab [-l lifetime] principal` into credential cache `ccache` (a file path).
    pub fn kinit(&self, principal: &str, lifetime: Option<&str>, ccache: &Path) {
        let mut c = self.command("kinit");
        c.env("KRB5CCNAME", format!("FILE:{}", ccache.display()));
        if let Some(l) = lifetime {
            c.args(["-l", l]);
        }
        c.args(["-k", "-t"])
            .arg(self.keytab(principal))
            .arg(principal);
        run(&mut c, &format!("kinit {principal}"));
    }
}

impl Drop for Realm {
    fn drop(&mut self) {
        if let Some(mut kdc) = self.kdc.take() {
            let _ = kdc.kill();
            let _ = kdc.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs `body` with a fresh realm in a child process whose environment points libkrb5 at it.
///
/// `test` is the test's path as the test harness names it (`module::test_name`, without the
/// crate); the child runs exactly that test, which calls `in_realm` again and, seeing the realm's
/// environment, runs `body`. The parent fails when the child fails or takes over 25 s.
#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test support: passes the child's output on to the harness"
)]
pub fn in_realm(test: &str, body: impl FnOnce(&Realm)) {
    #[allow(
        clippy::disallowed_methods,
        reason = "test support: the child learns its realm from the environment its parent set"
    )]
    let child_dir = std::env::var_os(CHILD_ENV);
    if let Some(dir) = child_dir {
        body(&Realm::attach(PathBuf::from(dir)));
        return;
    }
    let test = test.split_once("::").map_or(test, |(first, rest)| {
        // `module_path!()` starts with the crate name, which the harness leaves out.
        if first == "it" || first.starts_with("koschei") {
            rest
        } else {
            test
        }
    });
    let realm = Realm::start();
    let exe = std::env::current_exe().expect("current test binary");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .envs(realm.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the test in a child process");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(25);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    let kdc_log = std::fs::read_to_string(realm.dir.join("kdc.log")).unwrap_or_default();
    match status {
        Some(s) if s.success() && out.contains("1 passed") => {
            print!("{out}");
            eprint!("{err}");
        }
        Some(s) => panic!(
            "test {test} failed in its realm ({s}):\n{out}\n{err}\n--- kdc.log ---\n{kdc_log}"
        ),
        None => panic!("test {test} took over 25 s in its realm:\n{out}\n{err}"),
    }
}
