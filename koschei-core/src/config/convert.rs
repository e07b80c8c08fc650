//! From the validated configuration to the settings structs of the Koji client and the
//! engine services (pure conversions).

use super::{Config, KojiConfig, KojiLogin};
use crate::koji::{ClientOptions, GssapiLogin, Login, SslLogin, Struct, Value};
use crate::priority::Priorities;
#[cfg(feature = "postgres")]
use crate::service::Settings;

impl KojiConfig {
    /// The CA bundle that verifies the hub and its top URL: `login_args.serverca`, else
    /// `login_args.ca`, whatever the login method (`None` means the system roots).
    pub fn hub_ca(&self) -> Option<std::path::PathBuf> {
        self.serverca.clone()
    }

    /// Options of a Koji client for this hub. `serverca` (the hub's CA) wins over `ca`
    /// for verifying the hub, as in the original's `ssl_login(cert, ca, serverca)`, and is used
    /// with every login method (anonymous and Kerberos too).
    pub fn client_options(&self) -> ClientOptions {
        let login = match &self.login {
            KojiLogin::Anonymous => Login::None,
            KojiLogin::Ssl {
                cert,
                key,
                ca,
                serverca,
            } => Login::Ssl(SslLogin {
                cert: cert.clone(),
                key: key.clone(),
                ca: serverca.clone().or_else(|| ca.clone()),
            }),
            KojiLogin::Gssapi {
                principal,
                keytab,
                ccache,
            } => Login::Gssapi(GssapiLogin {
                principal: principal.clone(),
                keytab: keytab.clone(),
                ccache: ccache.clone(),
            }),
        };
        ClientOptions {
            server: self.server.clone(),
            topurl: self.topurl.clone(),
            weburl: self.weburl.clone(),
            max_retries: self.retries,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            multicall_chunk_size: self.multicall_chunk_size,
            login,
            srpm_relative_path_root: self.srpm_relative_path_root.clone(),
            build_opts: self.build_opts_struct(),
            ca: self.hub_ca(),
            proxies: self.proxies.clone(),
            ..ClientOptions::default()
        }
    }
}

fn toml_to_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Double(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_value).collect()),
        toml::Value::Table(t) => Value::Struct(table_to_struct(t)),
    }
}

fn table_to_struct(t: &toml::Table) -> Struct {
    t.iter()
        .map(|(k, v)| (k.clone(), toml_to_value(v)))
        .collect()
}

impl KojiConfig {
    /// `koji_config.build_opts` as the XML-RPC struct passed to `build` (before Koschei adds
    /// `scratch`, `arch_override` and `repo_id`).
    pub fn build_opts_struct(&self) -> Struct {
        table_to_struct(&self.build_opts)
    }
}

impl Config {
    /// The priority weights of `[priorities]`, as the scheduler, the web and `koschei impact`
    /// use them (values outside `i32` are clamped).
    pub fn priorities(&self) -> Priorities {
        let p = &self.priorities;
        let clamp = |v: i64| i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX });
        Priorities {
            newly_added: clamp(p.newly_added),
            build_threshold: clamp(p.build_threshold),
            package_update: clamp(p.package_update),
            failed_build_priority: clamp(p.failed_build_priority),
            t0: p.t0,
            t1: p.t1,
        }
    }

    /// Settings of the engine services.
    #[cfg(feature = "postgres")]
    pub fn service_settings(&self) -> Settings {
        Settings {
            priorities: self.priorities(),
            max_builds: i64::from(self.koji.max_builds),
            build_arches: self.koji.build_arches.clone(),
            load_threshold: self.koji.load_threshold,
            task_priority: self.koji.task_priority,
            task_timeout: self.koji.task_timeout,
            build_from_repo_id: self.koji.build_from_repo_id,
            persist_chunk_size: self.dependency.persist_chunk_size,
            publication: self
                .messaging
                .publish
                .then(|| crate::db::outbox::Publication {
                    modname: self.messaging.modname.clone(),
                    koji_instance: self.messaging.koji_instance.clone(),
                }),
            ..Settings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigSources};

    #[test]
    fn defaults_convert_to_the_originals_settings() {
        let config = Config::load(&ConfigSources::default()).expect("defaults load");
        let s = config.service_settings();
        assert_eq!(s.max_builds, 30);
        assert_eq!(s.priorities.build_threshold, 256);
        assert_eq!(s.priorities.package_update, 256);
        assert_eq!(s.task_priority, 30);
        assert_eq!(s.build_arches, ["i386", "x86_64", "armhfp"]);
        let o = config.koji.client_options();
        assert_eq!(o.server, "https://koji.fedoraproject.org/kojihub");
        assert_eq!(o.multicall_chunk_size, 100);
        assert!(config.koji.build_opts_struct().is_empty());
    }

    #[test]
    fn build_opts_become_an_xmlrpc_struct() {
        let config = Config::from_texts(
            &[(
                std::path::Path::new("test.toml"),
                "[koji.build_opts]\nskip_tag = true\nchannel_override = \"x\"\n",
            )],
            None,
        )
        .expect("config loads");
        let opts = config.koji.build_opts_struct();
        assert_eq!(opts.get("skip_tag"), Some(&crate::koji::Value::Bool(true)));
        assert_eq!(
            opts.get("channel_override"),
            Some(&crate::koji::Value::String("x".into()))
        );
    }
}
