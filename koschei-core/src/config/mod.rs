//! Configuration: loading, merging, validation and defaults.
//!
//! Two layers, as in the style guide: [`RawConfig`] is the TOML as written (every struct
//! denies unknown keys), and [`Config`] is the validated result the rest of the code sees.
//! Files are merged recursively over the built-in defaults, in this order:
//!
//! 1. `/etc/koschei/config.toml` (the directory is [`ConfigSources::system_dir`]);
//! 2. every `/etc/koschei/config.d/*.toml`, in name order;
//! 3. the files of `--config` or `KOSCHEI_CONFIG` ([`ConfigSources::extra_files`]).
//!
//! Then `KOSCHEI_DATABASE_URL` replaces `database.url`, and the proxy variables
//! (`https_proxy`, `NO_PROXY`, ...) become [`Config::proxies`].
//! This module is the only place that reads environment variables ([`ConfigSources::from_env`],
//! [`state_dir`], [`test_database_url`], [`invoking_user`]).
//!
//! ```
//! use koschei_core::config::{Config, ConfigSources};
//! let sources = ConfigSources { system_dir: None, ..ConfigSources::default() };
//! let config = Config::load(&sources)?;
//! assert_eq!(config.koji.max_builds, 30);
//! # Ok::<(), koschei_core::config::Error>(())
//! ```

mod convert;
mod messaging;
mod proxy;
pub mod raw;
mod secret;
mod source;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use messaging::{BrokerConfig, MessagingConfig, TlsFiles};
pub use proxy::{PROXY_VARIABLES, Proxies, ProxyUrl};
pub use raw::RawConfig;
pub use secret::{DatabaseUrl, mask_url_password};

use raw::{RawBugreport, RawDirectories, RawFrontend, RawKoji, RawKojiLogin, RawLink};
use source::Origins;

/// What kind of mistake a configuration file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not valid TOML.
    Syntax,
    /// A key Koschei does not know.
    UnknownKey,
    /// A value of the wrong type.
    WrongType,
    /// A value of the right type that is not allowed.
    Invalid,
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::UnknownKey => "unknown key",
            ErrorKind::WrongType => "wrong type",
            ErrorKind::Invalid => "invalid value",
        })
    }
}

/// A configuration that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory that exists but cannot be read.
    #[error("cannot read configuration `{}`", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A mistake in one file.
    #[error("`{}` line {line}, key `{key}`: {kind}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Dotted key, `-` when the error is not inside a key.
        key: String,
        /// What kind of mistake.
        kind: ErrorKind,
        /// The parser's message.
        message: String,
    },
    /// A merged value that fails validation.
    #[error("key `{key}` (from {origin}): {message}")]
    Value {
        /// Dotted key.
        key: String,
        /// The file and line that set it, `built-in defaults` or the environment variable.
        origin: String,
        /// Why the value is refused.
        message: String,
    },
}

impl Error {
    /// The kind of mistake, `None` for read errors.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Read { .. } => None,
            Error::File { kind, .. } => Some(*kind),
            Error::Value { .. } => Some(ErrorKind::Invalid),
        }
    }
}

/// Where configuration comes from. Only [`ConfigSources::from_env`] looks at the real
/// environment, so tests build this struct by hand.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// Directory holding `config.toml` and `config.d/` (`/etc/koschei`); `None` skips it.
    pub system_dir: Option<PathBuf>,
    /// Files merged last, in order (`--config`, else `KOSCHEI_CONFIG`, colon-separated).
    pub extra_files: Vec<PathBuf>,
    /// Overrides `database.url` (`KOSCHEI_DATABASE_URL`).
    pub database_url: Option<String>,
    /// The proxy variables that are set (name, value): [`PROXY_VARIABLES`], read into
    /// [`Config::proxies`].
    pub proxy_vars: Vec<(String, String)>,
}

/// The system configuration directory.
pub const SYSTEM_DIR: &str = "/etc/koschei";

impl ConfigSources {
    /// The real sources: [`SYSTEM_DIR`], then `cli_file` or else `KOSCHEI_CONFIG`, and
    /// `KOSCHEI_DATABASE_URL`.
    #[allow(clippy::disallowed_methods, reason = "config reads the environment")]
    pub fn from_env(cli_file: Option<PathBuf>) -> Self {
        let extra_files = match cli_file {
            Some(f) => vec![f],
            None => std::env::var_os("KOSCHEI_CONFIG")
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        };
        ConfigSources {
            system_dir: Some(PathBuf::from(SYSTEM_DIR)),
            extra_files,
            database_url: std::env::var("KOSCHEI_DATABASE_URL")
                .ok()
                .filter(|s| !s.is_empty()),
            proxy_vars: PROXY_VARIABLES
                .iter()
                .filter_map(|n| std::env::var(n).ok().map(|v| ((*n).to_owned(), v)))
                .collect(),
        }
    }

    /// The files to read, in merge order (missing system files are skipped).
    pub fn files(&self) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        if let Some(dir) = &self.system_dir {
            let main = dir.join("config.toml");
            if main.is_file() {
                files.push(main);
            }
            files.extend(source::toml_files_in(&dir.join("config.d"))?);
        }
        files.extend(self.extra_files.iter().cloned());
        Ok(files)
    }
}

/// The state directory of the private database cluster: `$XDG_STATE_HOME/koschei`, else
/// `~/.local/state/koschei`; `None` when neither variable is set.
#[allow(clippy::disallowed_methods, reason = "config reads the environment")]
pub fn state_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| Path::new(&h).join(".local/state"))
        })?;
    Some(base.join("koschei"))
}

/// Default server the test harness uses.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

/// `KOSCHEI_TEST_DATABASE_URL`, else [`DEFAULT_TEST_DATABASE_URL`].
#[allow(clippy::disallowed_methods, reason = "config reads the environment")]
pub fn test_database_url() -> String {
    std::env::var("KOSCHEI_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// The directories of `PATH`, for finding programs.
#[allow(clippy::disallowed_methods, reason = "config reads the environment")]
pub fn executable_search_path() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

/// The person running an admin command: `$SUDO_USER`, else `$USER`, else `$LOGNAME`.
#[allow(clippy::disallowed_methods, reason = "config reads the environment")]
pub fn invoking_user() -> Option<String> {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}

/// The validated configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// `[database]`.
    pub database: DatabaseConfig,
    /// `[koji]`.
    pub koji: KojiConfig,
    /// `[koji]` updated with `[secondary_koji]`; `Some` exactly when secondary mode is
    /// configured (any `[secondary_koji]` key given).
    pub secondary_koji: Option<KojiConfig>,
    /// `[dependency]`.
    pub dependency: DependencyConfig,
    /// `[priorities]`.
    pub priorities: PriorityConfig,
    /// `[services.<name>]`; see [`Config::service`].
    pub services: BTreeMap<String, ServiceConfig>,
    /// `[directories]`.
    pub directories: DirectoryConfig,
    /// `[frontend]`.
    pub frontend: FrontendConfig,
    /// `[[links]]`, in order.
    pub links: Vec<Link>,
    /// `[bugreport]`.
    pub bugreport: BugreportConfig,
    /// `[logging] filter`.
    pub log_filter: String,
    /// `plugins`.
    pub plugins: Vec<String>,
    /// `real_builds_insert_chunk`.
    pub real_builds_insert_chunk: u32,
    /// `[fedmsg]`, `[fedmsg-publisher]` and `[fedora-messaging]`.
    pub messaging: MessagingConfig,
    /// The HTTP(S) proxies of the environment (`https_proxy`, `NO_PROXY`, ...: see
    /// [`Proxies`]), for repo downloads and Koji calls; none unless [`Config::load`] found some.
    pub proxies: Proxies,
    raw: RawConfig,
    files: Vec<PathBuf>,
}

/// `[database]`, validated.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The server; `None` = the private embedded cluster.
    pub url: Option<DatabaseUrl>,
    /// Role granted access after migrations.
    pub unpriv_username: Option<String>,
    /// Maximum pool connections.
    pub pool_size: u32,
}

/// How Koschei logs in to Koji.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KojiLogin {
    /// No login (`login_method = "logout"`).
    Anonymous,
    /// TLS client certificate (`login_method = "ssl_login"` or `"ssl"`).
    Ssl {
        /// PEM certificate (may contain the key).
        cert: PathBuf,
        /// PEM key when separate.
        key: Option<PathBuf>,
        /// CA of the client certificate.
        ca: Option<PathBuf>,
        /// CA of the hub.
        serverca: Option<PathBuf>,
    },
    /// Kerberos through GSSAPI/SPNEGO (`login_method = "gssapi_login"` or `"krb_login"`); all
    /// `None` = the default credential cache (`KRB5CCNAME`).
    Gssapi {
        /// Client principal.
        principal: Option<String>,
        /// Client keytab.
        keytab: Option<PathBuf>,
        /// Credential cache.
        ccache: Option<String>,
    },
}

/// `[koji]` or `[secondary_koji]`, validated (URLs without a trailing `/`).
#[derive(Debug, Clone)]
pub struct KojiConfig {
    /// XML-RPC hub URL.
    pub server: String,
    /// Base URL of package and work files.
    pub topurl: String,
    /// Base URL of the web UI.
    pub weburl: String,
    /// SRPM path relative to `topurl/packages`.
    pub srpm_relative_path_root: String,
    /// How to log in.
    pub login: KojiLogin,
    /// CA bundle verifying the hub and the file server (`login_args.serverca`, else
    /// `login_args.ca`), for every login method.
    pub serverca: Option<PathBuf>,
    /// Maximum running scratch builds.
    pub max_builds: u32,
    /// Arches of scratch builds.
    pub build_arches: Vec<String>,
    /// Extra options of Koji's `build` call.
    pub build_opts: toml::Table,
    /// Koji load (0 to 1) above which nothing is submitted.
    pub load_threshold: f64,
    /// Koji task priority.
    pub task_priority: i32,
    /// Running builds older than this are cancelled.
    pub task_timeout: Duration,
    /// Calls per multicall request.
    pub multicall_chunk_size: usize,
    /// Build in the repo the package was resolved against.
    pub build_from_repo_id: bool,
    /// Repo URL template (secondary mode).
    pub repo_url: Option<String>,
    /// Retries of a failed call.
    pub retries: u32,
    /// Time to connect to the hub.
    pub connect_timeout: Duration,
    /// Time for a whole response.
    pub timeout: Duration,
    /// The environment's proxies ([`Config::proxies`]) for calls to this hub.
    pub proxies: Proxies,
}

/// `[dependency]`, validated.
#[derive(Debug, Clone)]
pub struct DependencyConfig {
    /// Leave weak dependencies out of resolution.
    pub ignore_weak_deps: bool,
    /// Packages persisted per transaction.
    pub persist_chunk_size: usize,
    /// Interval of progress reports.
    pub perf_report_interval: Duration,
    /// Capacity of the dependency cache.
    pub dependency_cache_capacity: usize,
    /// Length of the resolver queue.
    pub resolver_queue_size: usize,
    /// Repos kept in the on-disk cache.
    pub cache_l2_capacity: usize,
    /// Arch resolution is done for.
    pub resolve_for_arch: String,
    /// Arch of the repos downloaded.
    pub repo_arch: String,
}

/// `[priorities]`, validated: the scheduler's weights.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityConfig {
    /// Priority of a package with no build yet.
    pub newly_added: i64,
    /// Priority above which a package is scheduled.
    pub build_threshold: i64,
    /// Priority added by an update of a direct dependency.
    pub package_update: i64,
    /// Priority added after a failed build.
    pub failed_build_priority: i64,
    /// Hours after the last build at which the time priority starts growing.
    pub t0: f64,
    /// Hours after the last build at which the time priority reaches `build_threshold`.
    pub t1: f64,
}

/// `[services.<name>]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// Pause between two cycles.
    pub interval: Duration,
    /// Resident memory limit in KiB: always `None` (the key is refused; systemd limits
    /// memory).
    pub memory_limit: Option<u64>,
    /// Virtual memory limit in KiB: always `None` (refused, as `memory_limit`).
    pub virtual_memory_limit: Option<u64>,
    /// Watchdog: always false (refused; systemd restarts failed services).
    pub watchdog: bool,
}

/// The interval of a service that sets none.
pub const DEFAULT_SERVICE_INTERVAL: Duration = Duration::from_secs(3);

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            interval: DEFAULT_SERVICE_INTERVAL,
            memory_limit: None,
            virtual_memory_limit: None,
            watchdog: false,
        }
    }
}

/// `[frontend]`, validated: what the web frontend uses.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontendConfig {
    /// Public URL of the web frontend, without a trailing `/` (the base of the package URL
    /// in pre-filled bug reports); `None` = the `Host` of the request.
    pub external_url: Option<String>,
    /// What `/` shows.
    pub frontpage: Frontpage,
    /// Rows per package list page.
    pub packages_per_page: u32,
    /// History entries per package page.
    pub builds_per_page: u32,
}

impl Default for FrontendConfig {
    fn default() -> Self {
        FrontendConfig {
            external_url: None,
            frontpage: Frontpage::PackageList,
            packages_per_page: 100,
            builds_per_page: 15,
        }
    }
}

/// One `[[links]]` entry: a link on the package page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The text shown.
    pub name: String,
    /// The URL; its variables are `package` and its attributes, URL-encoded when rendered.
    pub url: template::Template,
}

/// `[bugreport]`: the pre-filled bug report of "File new FTBFS bug".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugreportConfig {
    /// The URL of the bug form; its one variable is `query`, the encoded fields.
    pub url: template::Template,
    /// The bug fields (name, template), in name order.
    pub template: Vec<(String, template::Template)>,
}

/// The page `/` shows (`frontend.frontpage`, by the original's view names, with
/// `frontend.frontpage_kwargs`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frontpage {
    /// `package_list`: the package list (the default).
    PackageList,
    /// `collection_list`: the collections.
    CollectionList,
    /// `groups_overview`: the global groups.
    GroupsOverview,
    /// `statistics`: the statistics page.
    Statistics,
    /// `documentation`: the user guide.
    Documentation,
    /// `group_detail` with `frontpage_kwargs = { name = "…", namespace = "…" }`: the package
    /// list of one group.
    GroupDetail {
        /// The group's namespace (`None` = a global group).
        namespace: Option<String>,
        /// The group's name.
        name: String,
    },
}

/// The front pages `frontend.frontpage` accepts.
pub const FRONTPAGES: &[&str] = &[
    "package_list",
    "collection_list",
    "groups_overview",
    "statistics",
    "documentation",
    "group_detail",
];

/// `[directories]`.
#[derive(Debug, Clone)]
pub struct DirectoryConfig {
    /// Cache (repodata) directory.
    pub cachedir: PathBuf,
    /// Shared data directory.
    pub datadir: PathBuf,
    /// Templates directory.
    pub templates: PathBuf,
    /// Static files of the web UI.
    pub static_folder: PathBuf,
    /// URL prefix of the static files.
    pub static_url: String,
}

impl Config {
    /// Loads, merges and validates the configuration from `sources`.
    pub fn load(sources: &ConfigSources) -> Result<Config, Error> {
        let files = sources.files()?;
        let mut texts = Vec::with_capacity(files.len());
        for path in &files {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            texts.push((path.as_path(), text));
        }
        let texts: Vec<(&Path, &str)> = texts.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let mut config = Config::from_texts(&texts, sources.database_url.as_deref())?;
        config.files = files;
        config.proxies = Proxies::from_vars(
            sources
                .proxy_vars
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        config.koji.proxies = config.proxies.clone();
        if let Some(secondary) = &mut config.secondary_koji {
            secondary.proxies = config.proxies.clone();
        }
        Ok(config)
    }

    /// Merges the given file contents (in order) over the defaults and validates; for
    /// callers that already hold the text. `database_url` overrides `database.url`.
    pub fn from_texts(
        texts: &[(&Path, &str)],
        database_url: Option<&str>,
    ) -> Result<Config, Error> {
        let mut origins = Origins::default();
        let mut merged = toml::Table::try_from(RawConfig::default()).map_err(|e| Error::Value {
            key: "-".to_owned(),
            origin: "built-in defaults".to_owned(),
            message: e.to_string(),
        })?;
        for (path, text) in texts {
            let parsed = source::parse_file(path, text, &mut origins)?;
            source::merge(&mut merged, parsed.table);
        }
        let mut raw: RawConfig = merged
            .try_into()
            .map_err(|e: toml::de::Error| Error::Value {
                key: "-".to_owned(),
                origin: "merged configuration".to_owned(),
                message: e.message().to_owned(),
            })?;
        if let Some(url) = database_url {
            raw.database.url = Some(url.to_owned());
            origins.set(
                "database.url".to_owned(),
                "environment variable `KOSCHEI_DATABASE_URL`".to_owned(),
            );
        }
        validate(raw, &origins)
    }

    /// The service settings of `name`, with the defaults for keys it does not set.
    pub fn service(&self, name: &str) -> ServiceConfig {
        self.services.get(name).cloned().unwrap_or_default()
    }

    /// Whether a secondary Koji is configured (the original's `secondary_mode`).
    pub fn secondary_mode(&self) -> bool {
        self.secondary_koji.is_some()
    }

    /// The merged configuration as written, before validation.
    pub fn raw(&self) -> &RawConfig {
        &self.raw
    }

    /// The files that were read, in merge order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The merged configuration as TOML with secrets masked.
    pub fn to_masked_toml(&self) -> String {
        let value = secret::masked_value(&self.raw);
        toml::to_string_pretty(&value).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// The merged configuration as JSON with secrets masked.
    pub fn to_masked_json(&self) -> serde_json::Value {
        let value = secret::masked_value(&self.raw);
        serde_json::to_value(&value).unwrap_or(serde_json::Value::Null)
    }
}

/// The `[services.<name>]` names (the engine's services).
const SERVICE_NAMES: [&str; 4] = ["polling", "repo_resolver", "build_resolver", "scheduler"];

/// The longest service interval accepted: a week.
const MAX_SERVICE_INTERVAL_SECS: f64 = 604_800.0;

/// Refuses the original's keys that would do nothing here when they are given a value other
/// than the default (a default changes nothing, so a copied original configuration loads):
/// every key either works or is refused.
fn refuse_inert(v: &Validator<'_>, raw: &RawConfig) -> Result<(), Error> {
    if let Some(plugin) = raw.plugins.first() {
        return Err(v.err(
            "plugins",
            format!(
                "plugin `{plugin}` is not available: this version has no plugins (fedmsg is built in as `[fedmsg-publisher]`, Copr repositories are `--add-repo` URLs of `koschei impact`)"
            ),
        ));
    }
    let defaults = RawConfig::default();
    let mut inert: Vec<(&str, bool, &str)> = vec![
        (
            "real_builds_insert_chunk",
            raw.real_builds_insert_chunk != defaults.real_builds_insert_chunk,
            "real builds are inserted in one statement per pass",
        ),
        (
            "dependency.dependency_cache_capacity",
            raw.dependency.dependency_cache_capacity
                != defaults.dependency.dependency_cache_capacity,
            "the resolver keeps no dependency object cache (`cache_l2_capacity` bounds the repo cache)",
        ),
        (
            "dependency.resolver_queue_size",
            raw.dependency.resolver_queue_size != defaults.dependency.resolver_queue_size,
            "the resolver has no queue; it solves a whole pass at once",
        ),
        (
            "dependency.resolve_for_arch",
            raw.dependency.resolve_for_arch != defaults.dependency.resolve_for_arch,
            "the repo is resolved for `dependency.repo_arch`",
        ),
        (
            "koji.repo_url",
            raw.koji.repo_url.is_some(),
            "repos are always `{topurl}/repos/{build tag}/{repo id}/{arch}`",
        ),
        (
            "secondary_koji.repo_url",
            raw.secondary_koji.repo_url.is_some(),
            "repos are always `{topurl}/repos/{build tag}/{repo id}/{arch}`",
        ),
    ];
    let d = &defaults.directories;
    let r = &raw.directories;
    for (key, changed) in [
        ("directories.datadir", r.datadir != d.datadir),
        ("directories.templates", r.templates != d.templates),
        (
            "directories.static_folder",
            r.static_folder != d.static_folder,
        ),
        ("directories.static_url", r.static_url != d.static_url),
    ] {
        inert.push((
            key,
            changed,
            "the web's templates and static files are built into koschei-web",
        ));
    }
    if let Some((key, _, why)) = inert.into_iter().find(|(_, changed, _)| *changed) {
        return Err(v.err(
            key,
            format!("has no effect in this version ({why}); remove it"),
        ));
    }
    check_log_filter(v, &raw.logging.filter)
}

/// `logging.filter`: comma-separated directives, each `LEVEL`, `TARGET` or `TARGET=LEVEL`
/// (the subset of tracing's `EnvFilter` syntax without span filters).
fn check_log_filter(v: &Validator<'_>, filter: &str) -> Result<(), Error> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let is_level = |s: &str| LEVELS.iter().any(|l| l.eq_ignore_ascii_case(s));
    let is_target = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
    };
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let ok = match directive.split_once('=') {
            Some((target, level)) => is_target(target) && is_level(level),
            None => is_level(directive) || is_target(directive),
        };
        if !ok {
            return Err(v.err(
                "logging.filter",
                format!(
                    "`{directive}` is not a log directive: use LEVEL, TARGET or TARGET=LEVEL, with LEVEL one of {}",
                    LEVELS.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

struct Validator<'a> {
    origins: &'a Origins,
}

impl Validator<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> Error {
        Error::Value {
            key: key.to_owned(),
            origin: self.origins.of(key),
            message: message.into(),
        }
    }

    fn http_url(&self, key: &str, value: &str) -> Result<String, Error> {
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .ok_or_else(|| self.err(key, format!("`{value}` is not an http(s) URL")))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(self.err(key, format!("`{value}` has no host")));
        }
        Ok(value.trim_end_matches('/').to_owned())
    }

    fn positive(&self, key: &str, value: u64) -> Result<u64, Error> {
        if value == 0 {
            return Err(self.err(key, "must be greater than 0"));
        }
        Ok(value)
    }

    fn koji(&self, section: &str, k: &RawKoji) -> Result<KojiConfig, Error> {
        let key = |name: &str| format!("{section}.{name}");
        let RawKojiLogin {
            cert,
            key: pkey,
            ca,
            serverca,
            principal,
            keytab,
            ccache,
        } = &k.login_args;
        let method = k.login_method.as_str();
        // Arguments that belong to another method are refused, not ignored.
        let refuse = |name: &str, given: bool, for_methods: &str| -> Result<(), Error> {
            if given {
                return Err(self.err(
                    &key(&format!("login_args.{name}")),
                    format!("is not used by `login_method = \"{method}\"` (only by {for_methods})"),
                ));
            }
            Ok(())
        };
        let certificate = "`ssl_login`";
        let kerberos = "`gssapi_login` and `krb_login`";
        let login = match method {
            // Anonymous sessions use only the hub's CA; the other arguments may be inherited by
            // `[secondary_koji]` from a logged-in `[koji]` and are left unused.
            "logout" | "" => KojiLogin::Anonymous,
            "ssl_login" | "ssl" => {
                refuse("principal", principal.is_some(), kerberos)?;
                refuse("keytab", keytab.is_some(), kerberos)?;
                refuse("ccache", ccache.is_some(), kerberos)?;
                let cert = cert.as_ref().ok_or_else(|| {
                    self.err(
                        &key("login_args.cert"),
                        format!("required when `login_method = \"{method}\"`"),
                    )
                })?;
                KojiLogin::Ssl {
                    cert: PathBuf::from(cert),
                    key: pkey.as_ref().map(PathBuf::from),
                    ca: ca.as_ref().map(PathBuf::from),
                    serverca: serverca.as_ref().map(PathBuf::from),
                }
            }
            "gssapi_login" | "krb_login" => {
                if !cfg!(feature = "gssapi") {
                    return Err(self.err(
                        &key("login_method"),
                        format!(
                            "`{method}` needs Kerberos support, and this build of Koschei has none (cargo feature `gssapi`)"
                        ),
                    ));
                }
                refuse("cert", cert.is_some(), certificate)?;
                refuse("key", pkey.is_some(), certificate)?;
                if principal.as_deref().is_some_and(|p| p.trim().is_empty()) {
                    return Err(self.err(&key("login_args.principal"), "must not be empty"));
                }
                KojiLogin::Gssapi {
                    principal: principal.clone(),
                    keytab: keytab.as_ref().map(PathBuf::from),
                    ccache: ccache.clone(),
                }
            }
            other => {
                return Err(self.err(
                    &key("login_method"),
                    format!(
                        "`{other}` is not a login method (use `logout`, `ssl_login` or `gssapi_login`)"
                    ),
                ));
            }
        };
        let hub_ca = serverca.as_ref().or(ca.as_ref()).map(PathBuf::from);
        if !(0.0..=1.0).contains(&k.load_threshold) {
            return Err(self.err(&key("load_threshold"), "must be between 0 and 1"));
        }
        if k.build_arches.is_empty() {
            return Err(self.err(&key("build_arches"), "must name at least one arch"));
        }
        let repo_url = k
            .repo_url
            .as_deref()
            .map(|u| self.http_url(&key("repo_url"), u))
            .transpose()?;
        Ok(KojiConfig {
            server: self.http_url(&key("server"), &k.server)?,
            topurl: self.http_url(&key("topurl"), &k.topurl)?,
            weburl: self.http_url(&key("weburl"), &k.weburl)?,
            srpm_relative_path_root: k.srpm_relative_path_root.clone(),
            login,
            serverca: hub_ca,
            max_builds: k.max_builds,
            build_arches: k.build_arches.clone(),
            build_opts: k.build_opts.clone(),
            load_threshold: k.load_threshold,
            task_priority: k.task_priority,
            task_timeout: Duration::from_secs(self.positive(&key("task_timeout"), k.task_timeout)?),
            multicall_chunk_size: self
                .positive(&key("multicall_chunk_size"), k.multicall_chunk_size.into())?
                as usize,
            build_from_repo_id: k.build_from_repo_id,
            repo_url,
            retries: k.retries,
            connect_timeout: Duration::from_secs(
                self.positive(&key("connect_timeout"), k.connect_timeout)?,
            ),
            timeout: Duration::from_secs(self.positive(&key("timeout"), k.timeout)?),
            proxies: Proxies::none(),
        })
    }
}

/// Most rows or entries per page (a page this long is already several megabytes).
const MAX_PER_PAGE: u32 = 10_000;

impl Validator<'_> {
    fn frontend(&self, f: &RawFrontend) -> Result<FrontendConfig, Error> {
        const NO_LOGIN: &str = "the web frontend is read-only and has no login or sessions \
             (edits are made with the `koschei` command); remove this key";
        const NO_ASSETS: &str = "the web frontend serves its own stylesheet and no scripts; \
             remove this key";
        let refused: [(&str, bool, &str); 6] = [
            ("frontend.auth", f.auth.is_some(), NO_LOGIN),
            ("frontend.bypass_login", f.bypass_login.is_some(), NO_LOGIN),
            ("frontend.secret_key", f.secret_key.is_some(), NO_LOGIN),
            (
                "frontend.fedora_assets_url",
                f.fedora_assets_url.is_some(),
                NO_ASSETS,
            ),
            ("frontend.fedmenu_url", f.fedmenu_url.is_some(), NO_ASSETS),
            (
                "frontend.fedmenu_data_url",
                f.fedmenu_data_url.is_some(),
                NO_ASSETS,
            ),
        ];
        if let Some((key, _, why)) = refused.iter().find(|(_, set, _)| *set) {
            return Err(self.err(key, *why));
        }
        for (key, value) in [
            ("frontend.packages_per_page", f.packages_per_page),
            ("frontend.builds_per_page", f.builds_per_page),
        ] {
            if value == 0 || value > MAX_PER_PAGE {
                return Err(self.err(key, format!("must be from 1 to {MAX_PER_PAGE}")));
            }
        }
        let external_url = f
            .external_url
            .as_deref()
            .map(|u| self.http_url("frontend.external_url", u))
            .transpose()?;
        Ok(FrontendConfig {
            external_url,
            frontpage: self.frontpage(&f.frontpage, &f.frontpage_kwargs)?,
            packages_per_page: f.packages_per_page,
            builds_per_page: f.builds_per_page,
        })
    }

    fn links(&self, raw: &[RawLink]) -> Result<Vec<Link>, Error> {
        raw.iter()
            .enumerate()
            .map(|(i, link)| {
                if link.name.is_empty() || link.url.is_empty() {
                    return Err(self.err(
                        "links",
                        format!("entry {} needs both `name` and `url`", i + 1),
                    ));
                }
                let url =
                    template::Template::parse(&link.url, template::link_variable).map_err(|m| {
                        self.err("links", format!("entry {} (`{}`): {m}", i + 1, link.name))
                    })?;
                Ok(Link {
                    name: link.name.clone(),
                    url,
                })
            })
            .collect()
    }

    fn bugreport(&self, raw: &RawBugreport) -> Result<BugreportConfig, Error> {
        let url = template::Template::parse(&raw.url, |path| match path {
            ["query"] => Ok(()),
            _ => Err(format!(
                "the only variable is `query`, not `{}`",
                path.join(".")
            )),
        })
        .map_err(|m| self.err("bugreport.url", m))?;
        if url.variables().count() != 1 {
            return Err(self.err("bugreport.url", "must contain `{query}` once"));
        }
        let template = raw
            .template
            .iter()
            .map(|(field, text)| {
                template::Template::parse(text, template::bugreport_variable)
                    .map(|t| (field.clone(), t))
                    .map_err(|m| self.err(&format!("bugreport.template.{field}"), m))
            })
            .collect::<Result<_, _>>()?;
        Ok(BugreportConfig { url, template })
    }

    fn frontpage(&self, name: &str, kwargs: &toml::Table) -> Result<Frontpage, Error> {
        const KW: &str = "frontend.frontpage_kwargs";
        let simple = match name {
            "package_list" => Some(Frontpage::PackageList),
            "collection_list" => Some(Frontpage::CollectionList),
            "groups_overview" => Some(Frontpage::GroupsOverview),
            "statistics" => Some(Frontpage::Statistics),
            "documentation" => Some(Frontpage::Documentation),
            "group_detail" => None,
            other => {
                return Err(self.err(
                    "frontend.frontpage",
                    format!(
                        "`{other}` is not a front page (use one of {})",
                        FRONTPAGES.join(", ")
                    ),
                ));
            }
        };
        if let Some(page) = simple {
            if let Some(key) = kwargs.keys().next() {
                return Err(self.err(
                    KW,
                    format!("`{name}` takes no arguments, but `{key}` is given"),
                ));
            }
            return Ok(page);
        }
        let text = |key: &str| -> Result<Option<String>, Error> {
            match kwargs.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(self.err(KW, format!("`{key}` must be a non-empty string"))),
            }
        };
        if let Some(key) = kwargs
            .keys()
            .find(|k| !matches!(k.as_str(), "name" | "namespace"))
        {
            return Err(self.err(
                KW,
                format!("`group_detail` takes `name` and `namespace`, not `{key}`"),
            ));
        }
        let name =
            text("name")?.ok_or_else(|| self.err(KW, "`group_detail` needs the group's `name`"))?;
        Ok(Frontpage::GroupDetail {
            namespace: text("namespace")?,
            name,
        })
    }
}

fn secondary_overlay(primary: &RawKoji, s: &raw::RawSecondaryKoji) -> Option<RawKoji> {
    if *s == raw::RawSecondaryKoji::default() {
        return None;
    }
    let p = primary.clone();
    Some(RawKoji {
        server: s.server.clone().unwrap_or(p.server),
        topurl: s.topurl.clone().unwrap_or(p.topurl),
        weburl: s.weburl.clone().unwrap_or(p.weburl),
        srpm_relative_path_root: s
            .srpm_relative_path_root
            .clone()
            .unwrap_or(p.srpm_relative_path_root),
        login_method: s.login_method.clone().unwrap_or(p.login_method),
        login_args: s.login_args.clone().unwrap_or(p.login_args),
        max_builds: s.max_builds.unwrap_or(p.max_builds),
        build_arches: s.build_arches.clone().unwrap_or(p.build_arches),
        build_opts: s.build_opts.clone().unwrap_or(p.build_opts),
        load_threshold: s.load_threshold.unwrap_or(p.load_threshold),
        task_priority: s.task_priority.unwrap_or(p.task_priority),
        task_timeout: s.task_timeout.unwrap_or(p.task_timeout),
        multicall_chunk_size: s.multicall_chunk_size.unwrap_or(p.multicall_chunk_size),
        build_from_repo_id: s.build_from_repo_id.unwrap_or(p.build_from_repo_id),
        repo_url: s.repo_url.clone().or(p.repo_url),
        retries: s.retries.unwrap_or(p.retries),
        connect_timeout: s.connect_timeout.unwrap_or(p.connect_timeout),
        timeout: s.timeout.unwrap_or(p.timeout),
    })
}

fn validate(raw: RawConfig, origins: &Origins) -> Result<Config, Error> {
    let v = Validator { origins };
    let url = raw
        .database
        .url
        .as_deref()
        .map(|u| DatabaseUrl::parse(u).map_err(|message| v.err("database.url", message)))
        .transpose()?;
    let pool_size = raw.database.pool_size.unwrap_or(4);
    if pool_size == 0 {
        return Err(v.err("database.pool_size", "must be greater than 0"));
    }
    let koji = v.koji("koji", &raw.koji)?;
    let secondary_koji = secondary_overlay(&raw.koji, &raw.secondary_koji)
        .map(|k| v.koji("secondary_koji", &k))
        .transpose()?;
    let d = &raw.dependency;
    let dependency = DependencyConfig {
        ignore_weak_deps: d.ignore_weak_deps,
        persist_chunk_size: v
            .positive("dependency.persist_chunk_size", d.persist_chunk_size.into())?
            as usize,
        perf_report_interval: Duration::from_secs(d.perf_report_interval),
        dependency_cache_capacity: d.dependency_cache_capacity as usize,
        resolver_queue_size: v.positive(
            "dependency.resolver_queue_size",
            d.resolver_queue_size.into(),
        )? as usize,
        cache_l2_capacity: d.cache_l2_capacity as usize,
        resolve_for_arch: d.resolve_for_arch.clone(),
        repo_arch: d.repo_arch.clone(),
    };
    let p = &raw.priorities;
    if !(p.t0 >= 0.0 && p.t1 > p.t0) {
        return Err(v.err(
            "priorities.t1",
            format!("must be greater than t0 ({}) and t0 at least 0", p.t0),
        ));
    }
    let priorities = PriorityConfig {
        newly_added: p.newly_added,
        build_threshold: p.build_threshold,
        package_update: p.package_update,
        failed_build_priority: p.failed_build_priority,
        t0: p.t0,
        t1: p.t1,
    };
    refuse_inert(&v, &raw)?;
    let mut services = BTreeMap::new();
    for (name, s) in &raw.services {
        if !SERVICE_NAMES.contains(&name.as_str()) {
            let hint = match name.as_str() {
                "watcher" => {
                    " (the original's watcher is `koschei messaging listen`, which waits for messages and has no interval)"
                }
                _ => "",
            };
            return Err(v.err(
                &format!("services.{name}"),
                format!(
                    "unknown service `{name}`{hint}: the services are {}",
                    SERVICE_NAMES.join(", ")
                ),
            ));
        }
        let interval = match s.interval {
            None => DEFAULT_SERVICE_INTERVAL,
            Some(i) if i.is_finite() && (0.0..=MAX_SERVICE_INTERVAL_SECS).contains(&i) => {
                Duration::from_secs_f64(i)
            }
            Some(_) => {
                return Err(v.err(
                    &format!("services.{name}.interval"),
                    format!("must be a number of seconds from 0 to {MAX_SERVICE_INTERVAL_SECS}"),
                ));
            }
        };
        let systemd = |key: &str, instead: &str| {
            v.err(
                &format!("services.{name}.{key}"),
                format!("is not supported here: {instead}; remove this key"),
            )
        };
        if s.memory_limit.is_some() {
            return Err(systemd(
                "memory_limit",
                "limit the memory with systemd's MemoryHigh=/MemoryMax= (the packaged units of the resolvers set them)",
            ));
        }
        if s.virtual_memory_limit.is_some() {
            return Err(systemd(
                "virtual_memory_limit",
                "limit the memory with systemd's MemoryMax= or LimitAS=",
            ));
        }
        if s.watchdog == Some(true) {
            return Err(systemd(
                "watchdog",
                "systemd restarts a service that fails (Restart=on-failure in the packaged units), and `service run` never hangs in a wait (a stop request ends any wait)",
            ));
        }
        services.insert(
            name.clone(),
            ServiceConfig {
                interval,
                memory_limit: None,
                virtual_memory_limit: None,
                watchdog: false,
            },
        );
    }
    let RawDirectories {
        cachedir,
        datadir,
        templates,
        static_folder,
        static_url,
    } = raw.directories.clone();
    let links = v.links(&raw.links)?;
    let bugreport = v.bugreport(&raw.bugreport)?;
    let frontend = v.frontend(&raw.frontend)?;
    let messaging = messaging::validate(
        &raw.fedmsg,
        &raw.fedmsg_publisher,
        &raw.fedora_messaging,
        &|key, message| v.err(key, message),
    )?;
    Ok(Config {
        messaging,
        proxies: Proxies::none(),
        database: DatabaseConfig {
            url,
            unpriv_username: raw.database.unpriv_username.clone(),
            pool_size,
        },
        koji,
        secondary_koji,
        dependency,
        priorities,
        services,
        directories: DirectoryConfig {
            cachedir: cachedir.into(),
            datadir: datadir.into(),
            templates: templates.into(),
            static_folder: static_folder.into(),
            static_url,
        },
        frontend,
        links,
        bugreport,
        log_filter: raw.logging.filter.clone(),
        plugins: raw.plugins.clone(),
        real_builds_insert_chunk: raw.real_builds_insert_chunk,
        raw,
        files: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(texts: &[(&str, &str)]) -> Result<Config, Error> {
        let texts: Vec<(&Path, &str)> = texts.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
        Config::from_texts(&texts, None)
    }

    #[test]
    fn defaults_match_the_original() {
        let c = load(&[]).unwrap();
        assert_eq!(c.koji.server, "https://koji.fedoraproject.org/kojihub");
        assert_eq!(c.koji.task_timeout, Duration::from_secs(172_800));
        assert_eq!(c.koji.build_arches, ["i386", "x86_64", "armhfp"]);
        assert_eq!(c.priorities.newly_added, 3000);
        assert_eq!(c.priorities.t1, 168.0);
        assert_eq!(c.service("polling").interval, Duration::from_secs(1200));
        assert!(
            !c.services.contains_key("watcher"),
            "the original's watcher is refused here"
        );
        assert_eq!(c.service("scheduler").interval, DEFAULT_SERVICE_INTERVAL);
        assert_eq!(c.links.len(), 5);
        assert_eq!(c.links[0].name, "Packages");
        assert_eq!(c.bugreport.template.len(), 6);
        assert!(c.secondary_koji.is_none());
        assert!(c.database.url.is_none());
    }

    #[test]
    fn secondary_koji_inherits_primary_keys() {
        let c = load(&[(
            "a.toml",
            "[secondary_koji]\nserver = \"https://s.example/kojihub\"\n",
        )])
        .unwrap();
        let s = c.secondary_koji.unwrap();
        assert_eq!(s.server, "https://s.example/kojihub");
        assert_eq!(s.topurl, c.koji.topurl);
        assert_eq!(s.max_builds, 30);
    }

    #[test]
    fn ssl_login_requires_cert() {
        let e = load(&[("k.toml", "[koji]\nlogin_method = \"ssl\"\n")]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("koji.login_args.cert"), "{msg}");
        assert!(msg.contains("from `k.toml` line 1"), "{msg}");
    }

    #[test]
    fn the_originals_login_method_names_are_accepted() {
        let c = load(&[(
            "k.toml",
            "[koji]\nlogin_method = \"ssl_login\"\n[koji.login_args]\ncert = \"/c.pem\"\nca = \"/ca.pem\"\n",
        )])
        .unwrap();
        assert!(matches!(c.koji.login, KojiLogin::Ssl { .. }));
        assert_eq!(c.koji.serverca, Some(PathBuf::from("/ca.pem")));
        for method in ["gssapi_login", "krb_login"] {
            let c = load(&[(
                "k.toml",
                &format!(
                    "[koji]\nlogin_method = \"{method}\"\n[koji.login_args]\nprincipal = \"koschei/h@R\"\nkeytab = \"/k.keytab\"\nserverca = \"/hub-ca.pem\"\n"
                ),
            )])
            .unwrap();
            assert_eq!(
                c.koji.login,
                KojiLogin::Gssapi {
                    principal: Some("koschei/h@R".into()),
                    keytab: Some(PathBuf::from("/k.keytab")),
                    ccache: None,
                },
                "{method}"
            );
            assert_eq!(c.koji.serverca, Some(PathBuf::from("/hub-ca.pem")));
        }
        let c = load(&[("k.toml", "[koji]\nlogin_method = \"gssapi_login\"\n")]).unwrap();
        assert_eq!(
            c.koji.login,
            KojiLogin::Gssapi {
                principal: None,
                keytab: None,
                ccache: None
            }
        );
    }

    #[test]
    fn login_args_of_another_method_are_refused() {
        let e = load(&[(
            "k.toml",
            "[koji]\nlogin_method = \"gssapi_login\"\n[koji.login_args]\ncert = \"/c.pem\"\n",
        )])
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("koji.login_args.cert"), "{msg}");
        assert!(msg.contains("ssl_login"), "{msg}");
        let e = load(&[(
            "k.toml",
            "[koji]\nlogin_method = \"ssl\"\n[koji.login_args]\ncert = \"/c.pem\"\nkeytab = \"/k\"\n",
        )])
        .unwrap_err();
        assert!(e.to_string().contains("koji.login_args.keytab"), "{e}");
        let e = load(&[("k.toml", "[koji]\nlogin_method = \"password\"\n")]).unwrap_err();
        assert!(e.to_string().contains("gssapi_login"), "{e}");
    }

    #[test]
    fn validation_names_the_origin() {
        let e = load(&[("p.toml", "[priorities]\nt0 = 10\nt1 = 5\n")]).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::Invalid));
        let msg = e.to_string();
        assert!(
            msg.contains("`priorities.t1` (from `p.toml` line 3)"),
            "{msg}"
        );
    }

    #[test]
    fn frontend_keys_work_or_are_refused() {
        let c = load(&[(
            "f.toml",
            "[frontend]\nexternal_url = \"https://koschei.example/\"\npackages_per_page = 7\nbuilds_per_page = 3\nfrontpage = \"group_detail\"\nfrontpage_kwargs = { name = \"java\" }\n",
        )])
        .unwrap();
        assert_eq!(
            c.frontend,
            FrontendConfig {
                external_url: Some("https://koschei.example".into()),
                frontpage: Frontpage::GroupDetail {
                    namespace: None,
                    name: "java".into()
                },
                packages_per_page: 7,
                builds_per_page: 3,
            }
        );
        assert_eq!(load(&[]).unwrap().frontend, FrontendConfig::default());
        let cases = [
            ("secret_key = \"s\"", "frontend.secret_key", "no login"),
            (
                "bypass_login = \"admin\"",
                "frontend.bypass_login",
                "no login",
            ),
            ("auth = { user_env = \"X\" }", "frontend.auth", "no login"),
            (
                "fedora_assets_url = \"https://a.example\"",
                "frontend.fedora_assets_url",
                "own stylesheet",
            ),
            (
                "fedmenu_url = \"https://a.example\"",
                "frontend.fedmenu_url",
                "no scripts",
            ),
            (
                "fedmenu_data_url = \"https://a.example\"",
                "frontend.fedmenu_data_url",
                "no scripts",
            ),
            (
                "packages_per_page = 0",
                "frontend.packages_per_page",
                "from 1 to",
            ),
            (
                "builds_per_page = 100000",
                "frontend.builds_per_page",
                "from 1 to",
            ),
            (
                "external_url = \"koschei.example\"",
                "frontend.external_url",
                "not an http(s) URL",
            ),
            (
                "frontpage = \"user_packages\"",
                "frontend.frontpage",
                "not a front page",
            ),
            (
                "frontpage_kwargs = { x = 1 }",
                "frontend.frontpage_kwargs",
                "takes no arguments",
            ),
            (
                "frontpage = \"group_detail\"",
                "frontend.frontpage_kwargs",
                "needs the group's `name`",
            ),
            (
                "frontpage = \"group_detail\"\nfrontpage_kwargs = { name = \"a\", page = \"2\" }",
                "frontend.frontpage_kwargs",
                "not `page`",
            ),
        ];
        for (text, key, why) in cases {
            let e = load(&[("f.toml", &format!("[frontend]\n{text}\n"))]).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("`{key}` (from `f.toml` line")),
                "{text}: {msg}"
            );
            assert!(msg.contains(why), "{text}: {msg}");
        }
        for page in [
            "collection_list",
            "groups_overview",
            "statistics",
            "documentation",
        ] {
            let text = format!("[frontend]\nfrontpage = \"{page}\"\n");
            assert!(load(&[("f.toml", &text)]).is_ok(), "{page}");
        }
    }

    #[test]
    fn link_and_bug_report_templates_are_checked_at_load() {
        let c = load(&[(
            "l.toml",
            "[[links]]\nname = \"Koji\"\nurl = \"https://k.example/p?n={package.name}\"\n[bugreport]\nurl = \"https://b.example/enter?{query}\"\n[bugreport.template]\ncomponent = \"{name}\"\n",
        )])
        .unwrap();
        assert_eq!(c.links.len(), 1, "a file's links replace the defaults");
        assert_eq!(
            c.links[0].url.source(),
            "https://k.example/p?n={package.name}"
        );
        assert!(c.bugreport.template.iter().any(|(k, _)| k == "component"));
        let cases = [
            (
                "[[links]]\nname = \"X\"\nurl = \"https://x.example/{collection.name}\"\n",
                "links",
                "entry 1 (`X`): only `package`",
            ),
            (
                "[[links]]\nname = \"X\"\nurl = \"https://x.example/{package.nosuch}\"\n",
                "links",
                "not an attribute of a package",
            ),
            (
                "[bugreport]\nurl = \"https://b.example/enter\"\n",
                "bugreport.url",
                "`{query}` once",
            ),
            (
                "[bugreport]\nurl = \"https://b.example/{query}/{name}\"\n",
                "bugreport.url",
                "only variable is `query`",
            ),
            (
                "[bugreport.template]\ncomment = \"{koji_id}\"\n",
                "bugreport.template.comment",
                "not a bug report variable",
            ),
            (
                "[bugreport.template]\ncomment = \"{name:>9}\"\n",
                "bugreport.template.comment",
                "not supported",
            ),
        ];
        for (text, key, why) in cases {
            let msg = load(&[("l.toml", text)]).unwrap_err().to_string();
            assert!(
                msg.contains(&format!("`{key}` (from `l.toml` line")),
                "{text}: {msg}"
            );
            assert!(msg.contains(why), "{text}: {msg}");
        }
    }

    #[test]
    fn bad_koji_url_is_refused() {
        let e = load(&[("k.toml", "[koji]\nserver = \"koji.example\"\n")]).unwrap_err();
        assert!(e.to_string().contains("not an http(s) URL"), "{e}");
    }
}
