//! The first configuration layer: TOML as written, with the built-in defaults.
//!
//! Every struct denies unknown keys and fills missing keys from its `Default`, so one
//! file can be checked on its own (with line numbers) and the merged tables can be
//! deserialised into the same types. The defaults are the original Koschei's
//! `config.cfg.template` values; `docs/configuration.md` lists every key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole configuration as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    /// `[database]`: where the PostgreSQL database is.
    pub database: RawDatabase,
    /// `[koji]`: the primary Koji hub (the original's `koji_config`).
    pub koji: RawKoji,
    /// `[secondary_koji]`: keys that differ for the secondary hub (`secondary_koji_config`).
    pub secondary_koji: RawSecondaryKoji,
    /// `[dependency]`: resolver settings.
    pub dependency: RawDependency,
    /// `[priorities]`: scheduler weights.
    pub priorities: RawPriorities,
    /// `[services.<name>]`: per-service settings.
    pub services: BTreeMap<String, RawService>,
    /// `[directories]`: cache, data and static file locations.
    pub directories: RawDirectories,
    /// `[frontend]`: web frontend settings.
    pub frontend: RawFrontend,
    /// `[[links]]`: links shown on package pages.
    pub links: Vec<RawLink>,
    /// `[bugreport]`: the pre-filled bug report link.
    pub bugreport: RawBugreport,
    /// `[logging]`: log filter.
    pub logging: RawLogging,
    /// Enabled plugins.
    pub plugins: Vec<String>,
    /// How many real builds are inserted per transaction.
    pub real_builds_insert_chunk: u32,
    /// `[fedmsg]`: Koji's message topic and instance.
    pub fedmsg: super::messaging::RawFedmsg,
    /// `[fedmsg-publisher]`: whether and under which name state changes are published.
    #[serde(rename = "fedmsg-publisher")]
    pub fedmsg_publisher: super::messaging::RawFedmsgPublisher,
    /// `[fedora-messaging]`: the broker (what fedora-messaging's own config file held).
    #[serde(rename = "fedora-messaging")]
    pub fedora_messaging: super::messaging::RawFedoraMessaging,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            database: RawDatabase::default(),
            koji: RawKoji::default(),
            secondary_koji: RawSecondaryKoji::default(),
            dependency: RawDependency::default(),
            priorities: RawPriorities::default(),
            services: BTreeMap::from([(
                "polling".to_owned(),
                RawService {
                    interval: Some(1200.0),
                    ..RawService::default()
                },
            )]),
            directories: RawDirectories::default(),
            frontend: RawFrontend::default(),
            links: default_links(),
            bugreport: RawBugreport::default(),
            logging: RawLogging::default(),
            plugins: Vec::new(),
            real_builds_insert_chunk: 50,
            fedmsg: Default::default(),
            fedmsg_publisher: Default::default(),
            fedora_messaging: Default::default(),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawDatabase {
    /// libpq connection string (URL or `key=value` form); unset = private embedded cluster.
    pub url: Option<String>,
    /// Role granted access after migrations (the original's `unpriv_db_username`).
    pub unpriv_username: Option<String>,
    /// Maximum connections in the pool.
    pub pool_size: Option<u32>,
}

/// `[koji]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawKoji {
    /// XML-RPC hub URL.
    pub server: String,
    /// Base URL of the package and work files.
    pub topurl: String,
    /// Base URL of the Koji web UI.
    pub weburl: String,
    /// Path of the SRPMs relative to `topurl/packages`.
    pub srpm_relative_path_root: String,
    /// `logout` (anonymous), `ssl_login`/`ssl` (client certificate) or `gssapi_login`/`krb_login`
    /// (Kerberos).
    pub login_method: String,
    /// Arguments of the login method (certificate files, Kerberos principal and keytab, the hub's
    /// CA).
    pub login_args: RawKojiLogin,
    /// Maximum concurrently running scratch builds.
    pub max_builds: u32,
    /// Arches scratch builds run on.
    pub build_arches: Vec<String>,
    /// Extra options passed to Koji's `build` call.
    pub build_opts: toml::Table,
    /// Koji load above which no build is submitted (0 to 1).
    pub load_threshold: f64,
    /// Koji task priority of scratch builds.
    pub task_priority: i32,
    /// Seconds after which a running build is cancelled.
    pub task_timeout: u64,
    /// Calls per Koji multicall request.
    pub multicall_chunk_size: u32,
    /// Submit builds with `repo_id` set to the repo they were resolved against.
    pub build_from_repo_id: bool,
    /// Repo URL template (secondary mode / repo_regen).
    pub repo_url: Option<String>,
    /// Retries of a failed Koji call (new; the original used Koji's session options).
    pub retries: u32,
    /// Seconds to wait for a TCP connection to the hub (new).
    pub connect_timeout: u64,
    /// Seconds to wait for a whole hub response (new).
    pub timeout: u64,
}

impl Default for RawKoji {
    fn default() -> Self {
        RawKoji {
            server: "https://koji.fedoraproject.org/kojihub".to_owned(),
            topurl: "https://kojipkgs.fedoraproject.org".to_owned(),
            weburl: "https://koji.fedoraproject.org/koji".to_owned(),
            srpm_relative_path_root: "..".to_owned(),
            login_method: "logout".to_owned(),
            login_args: RawKojiLogin::default(),
            max_builds: 30,
            build_arches: vec!["i386".to_owned(), "x86_64".to_owned(), "armhfp".to_owned()],
            build_opts: toml::Table::new(),
            load_threshold: 0.5,
            task_priority: 30,
            task_timeout: 172_800,
            multicall_chunk_size: 100,
            build_from_repo_id: false,
            repo_url: None,
            retries: 3,
            connect_timeout: 30,
            timeout: 600,
        }
    }
}

/// `[koji.login_args]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawKojiLogin {
    /// PEM client certificate (may also contain the key).
    pub cert: Option<String>,
    /// PEM private key, when not inside `cert` (new).
    pub key: Option<String>,
    /// CA certificate of the client certificate.
    pub ca: Option<String>,
    /// CA certificate of the hub.
    pub serverca: Option<String>,
    /// Kerberos client principal for `gssapi_login`.
    pub principal: Option<String>,
    /// Client keytab for `gssapi_login`.
    pub keytab: Option<String>,
    /// Credential cache for `gssapi_login` (koji's `ccache` argument).
    pub ccache: Option<String>,
}

/// `[secondary_koji]`: every key optional; given keys override `[koji]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawSecondaryKoji {
    pub server: Option<String>,
    pub topurl: Option<String>,
    pub weburl: Option<String>,
    pub srpm_relative_path_root: Option<String>,
    pub login_method: Option<String>,
    pub login_args: Option<RawKojiLogin>,
    pub max_builds: Option<u32>,
    pub build_arches: Option<Vec<String>>,
    pub build_opts: Option<toml::Table>,
    pub load_threshold: Option<f64>,
    pub task_priority: Option<i32>,
    pub task_timeout: Option<u64>,
    pub multicall_chunk_size: Option<u32>,
    pub build_from_repo_id: Option<bool>,
    pub repo_url: Option<String>,
    pub retries: Option<u32>,
    pub connect_timeout: Option<u64>,
    pub timeout: Option<u64>,
}

/// `[dependency]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawDependency {
    pub ignore_weak_deps: bool,
    pub persist_chunk_size: u32,
    pub perf_report_interval: u64,
    pub dependency_cache_capacity: u32,
    pub resolver_queue_size: u32,
    pub cache_l2_capacity: u32,
    pub resolve_for_arch: String,
    pub repo_arch: String,
}

impl Default for RawDependency {
    fn default() -> Self {
        RawDependency {
            ignore_weak_deps: false,
            persist_chunk_size: 150,
            perf_report_interval: 60,
            dependency_cache_capacity: 3000,
            resolver_queue_size: 300,
            cache_l2_capacity: 100,
            resolve_for_arch: "x86_64".to_owned(),
            repo_arch: "x86_64".to_owned(),
        }
    }
}

/// `[priorities]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawPriorities {
    pub newly_added: i64,
    pub build_threshold: i64,
    pub package_update: i64,
    pub failed_build_priority: i64,
    pub t0: f64,
    pub t1: f64,
}

impl Default for RawPriorities {
    fn default() -> Self {
        RawPriorities {
            newly_added: 3000,
            build_threshold: 256,
            package_update: 256,
            failed_build_priority: 200,
            t0: 6.0,
            t1: 168.0,
        }
    }
}

/// `[services.<name>]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawService {
    /// Seconds between two cycles (default 3).
    pub interval: Option<f64>,
    /// Resident memory limit in KiB.
    pub memory_limit: Option<u64>,
    /// Virtual memory limit in KiB.
    pub virtual_memory_limit: Option<u64>,
    /// Restart the service when it stops reporting progress.
    pub watchdog: Option<bool>,
}

/// `[directories]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawDirectories {
    pub cachedir: String,
    pub datadir: String,
    pub templates: String,
    pub static_folder: String,
    pub static_url: String,
}

impl Default for RawDirectories {
    fn default() -> Self {
        RawDirectories {
            cachedir: "/var/cache/koschei".to_owned(),
            datadir: "/usr/share/koschei".to_owned(),
            templates: "/usr/share/koschei/templates".to_owned(),
            static_folder: "/usr/share/koschei/static".to_owned(),
            static_url: "/static".to_owned(),
        }
    }
}

/// `[frontend]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawFrontend {
    pub external_url: Option<String>,
    pub frontpage: String,
    pub frontpage_kwargs: toml::Table,
    pub packages_per_page: u32,
    pub builds_per_page: u32,
    /// The original's login settings; refused (the frontend has no login).
    pub auth: Option<RawAuth>,
    /// The original's Fedora Bootstrap URL; refused (the frontend serves its own stylesheet).
    pub fedora_assets_url: Option<String>,
    pub fedmenu_url: Option<String>,
    pub fedmenu_data_url: Option<String>,
    pub bypass_login: Option<String>,
    /// The original's `flask.SECRET_KEY`.
    pub secret_key: Option<String>,
}

impl Default for RawFrontend {
    fn default() -> Self {
        RawFrontend {
            external_url: None,
            frontpage: "package_list".to_owned(),
            frontpage_kwargs: toml::Table::new(),
            packages_per_page: 100,
            builds_per_page: 15,
            auth: None,
            fedora_assets_url: None,
            fedmenu_url: None,
            fedmenu_data_url: None,
            bypass_login: None,
            secret_key: None,
        }
    }
}

/// `[frontend.auth]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawAuth {
    pub user_re: String,
    pub user_env: String,
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            user_re: "(.+)".to_owned(),
            user_env: "REMOTE_USER".to_owned(),
        }
    }
}

/// One `[[links]]` entry; `{package.name}` etc. are interpolated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawLink {
    pub name: String,
    pub url: String,
}

fn default_links() -> Vec<RawLink> {
    let link = |name: &str, url: &str| RawLink {
        name: name.to_owned(),
        url: url.to_owned(),
    };
    vec![
        link(
            "Packages",
            "https://packages.fedoraproject.org/pkgs/{package.name}",
        ),
        link(
            "Bugzilla",
            "https://bugzilla.redhat.com/buglist.cgi?product={package.collection.bugzilla_product}&component={package.name}",
        ),
        link(
            "Bodhi",
            "https://bodhi.fedoraproject.org/updates/?packages={package.name}",
        ),
        link(
            "Dist-git",
            "https://src.fedoraproject.org/rpms/{package.name}",
        ),
        link(
            "Koji",
            "https://koji.fedoraproject.org/koji/search?type=package&match=exact&terms={package.name}",
        ),
    ]
}

/// `[bugreport]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawBugreport {
    /// URL with a `{query}` placeholder for the encoded template.
    pub url: String,
    /// Bug fields; values may use `{name}`, `{version}`, `{release}`, `{arch}`, `{package}`,
    /// `{collection}` and `{url}`.
    pub template: BTreeMap<String, String>,
}

impl Default for RawBugreport {
    fn default() -> Self {
        let template = [
            ("product", "{collection.bugzilla_product}"),
            ("component", "{name}"),
            ("version", "{collection.bugzilla_version}"),
            ("short_desc", "{name}: FTBFS in {collection}"),
            ("bug_file_loc", "{url}"),
            (
                "comment",
                "Description of problem:\nPackage {name} fails to build from source in {collection}.\n\nVersion-Release number of selected component (if applicable):\n{version}-{release}\n\nSteps to Reproduce:\nkoji build --scratch {collection.target} {name}-{version}-{release}.src.rpm\n\nAdditional info:\nThis package is tracked by Koschei. See:\n{url}",
            ),
        ];
        RawBugreport {
            url: "https://bugzilla.redhat.com/enter_bug.cgi?{query}".to_owned(),
            template: template
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

/// `[logging]` (the original passed a `logging.config.dictConfig` dict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLogging {
    /// A `tracing` filter directive such as `info` or `koschei_core=debug`.
    pub filter: String,
}

impl Default for RawLogging {
    fn default() -> Self {
        RawLogging {
            filter: "info".to_owned(),
        }
    }
}
