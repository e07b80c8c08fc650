//! Messaging configuration: the original's `[fedmsg]` and `[fedmsg-publisher]` sections, and
//! `[fedora-messaging]`, which holds what the original left to fedora-messaging's own
//! `config.toml` (broker URL, exchange, topic prefix, TLS files, the listener's queue).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Error;
use super::secret::mask_url_password;

/// `[fedmsg]`: the Koji messages the listener follows and the `koji_instance` of Koschei's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFedmsg {
    /// Topic prefix of Koji's messages (`<topic>.task.state.change`, `<topic>.tag`, ...).
    pub topic: String,
    /// Koji instance: messages whose body `instance` differs are ignored; also the
    /// `koji_instance` of published messages.
    pub instance: String,
}

impl Default for RawFedmsg {
    fn default() -> Self {
        RawFedmsg {
            topic: "org.fedoraproject.prod.buildsys".to_owned(),
            instance: "primary".to_owned(),
        }
    }
}

/// `[fedmsg-publisher]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFedmsgPublisher {
    /// Publish state change messages.
    pub enabled: bool,
    /// First word of the topics (`<modname>.package.state.change`).
    pub modname: String,
}

impl Default for RawFedmsgPublisher {
    fn default() -> Self {
        RawFedmsgPublisher {
            enabled: false,
            modname: "koschei".to_owned(),
        }
    }
}

/// `[fedora-messaging]`: keys named as in fedora-messaging's `config.toml` where it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFedoraMessaging {
    /// Broker URL, `amqp://` or `amqps://` (fedora-messaging: `amqp_url`).
    pub amqp_url: String,
    /// Exchange messages are published to (fedora-messaging: `publish_exchange`).
    pub publish_exchange: String,
    /// Prefix of every published routing key, e.g. `org.fedoraproject.prod`
    /// (fedora-messaging: `topic_prefix`).
    pub topic_prefix: String,
    /// Exchange the listener's queue is bound to (fedora-messaging: `bindings[].exchange`).
    pub listen_exchange: String,
    /// Name of the listener's queue (fedora-messaging: the `queues` table's key).
    pub queue: String,
    /// The queue survives a broker restart (fedora-messaging: `queues.<name>.durable`).
    pub queue_durable: bool,
    /// Unacknowledged messages the broker sends at once (fedora-messaging: `qos.prefetch_count`).
    pub prefetch_count: u16,
    /// Seconds to wait for the broker's confirmation of a message (fedora-messaging's
    /// `api.publish` timeout).
    pub publish_timeout: u64,
    /// Seconds to wait for a connection to the broker (new).
    pub connect_timeout: u64,
    /// Name this client gives the broker (fedora-messaging: `client_properties.app`).
    pub app: String,
    /// TLS files for `amqps://` (fedora-messaging: `[tls]`).
    pub tls: RawMessagingTls,
}

impl Default for RawFedoraMessaging {
    fn default() -> Self {
        RawFedoraMessaging {
            amqp_url: "amqp://guest:guest@localhost:5672/%2F".to_owned(),
            publish_exchange: "amq.topic".to_owned(),
            topic_prefix: String::new(),
            listen_exchange: "amq.topic".to_owned(),
            queue: "koschei".to_owned(),
            queue_durable: true,
            prefetch_count: 10,
            publish_timeout: 30,
            connect_timeout: 30,
            app: "Koschei".to_owned(),
            tls: RawMessagingTls::default(),
        }
    }
}

/// `[fedora-messaging.tls]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMessagingTls {
    /// PEM CA certificate(s) the broker's certificate must chain to (default: the system's).
    pub ca_cert: Option<String>,
    /// PEM client certificate; with `keyfile`, Koschei logs in with SASL EXTERNAL.
    pub certfile: Option<String>,
    /// PEM private key of `certfile`.
    pub keyfile: Option<String>,
}

/// TLS files of the broker connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFiles {
    /// CA certificates for verifying the broker (system roots when `None`).
    pub ca_cert: Option<PathBuf>,
    /// Client certificate and key; when set, the login is SASL EXTERNAL.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// Where and how to reach the AMQP broker.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// `amqp://` or `amqps://` URL (may contain a password: see [`BrokerConfig::masked_url`]).
    pub amqp_url: String,
    /// Exchange of published messages.
    pub publish_exchange: String,
    /// Prefix of published routing keys, without a trailing dot (may be empty).
    pub topic_prefix: String,
    /// Exchange the listener binds its queue to.
    pub listen_exchange: String,
    /// The listener's queue.
    pub queue: String,
    /// Whether that queue is durable.
    pub queue_durable: bool,
    /// Prefetch count of the listener.
    pub prefetch_count: u16,
    /// Time to wait for a publisher confirmation.
    pub publish_timeout: Duration,
    /// Time to wait for a connection.
    pub connect_timeout: Duration,
    /// Client name shown by the broker.
    pub app: String,
    /// TLS files (used with `amqps://` only).
    pub tls: TlsFiles,
}

impl BrokerConfig {
    /// The URL with its password masked, for messages.
    pub fn masked_url(&self) -> String {
        mask_url_password(&self.amqp_url)
    }

    /// A plain `amqp://` broker with fedora-messaging's other defaults (tests, examples).
    pub fn new(amqp_url: impl Into<String>) -> BrokerConfig {
        BrokerConfig {
            amqp_url: amqp_url.into(),
            ..BrokerConfig::default()
        }
    }
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let raw = RawFedoraMessaging::default();
        BrokerConfig {
            amqp_url: raw.amqp_url,
            publish_exchange: raw.publish_exchange,
            topic_prefix: raw.topic_prefix,
            listen_exchange: raw.listen_exchange,
            queue: raw.queue,
            queue_durable: raw.queue_durable,
            prefetch_count: raw.prefetch_count,
            publish_timeout: Duration::from_secs(raw.publish_timeout),
            connect_timeout: Duration::from_secs(raw.connect_timeout),
            app: raw.app,
            tls: TlsFiles::default(),
        }
    }
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("amqp_url", &self.masked_url())
            .field("publish_exchange", &self.publish_exchange)
            .field("topic_prefix", &self.topic_prefix)
            .field("listen_exchange", &self.listen_exchange)
            .field("queue", &self.queue)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// The validated messaging configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagingConfig {
    /// `fedmsg.topic`: prefix of the Koji topics the listener acts on.
    pub koji_topic: String,
    /// `fedmsg.instance`.
    pub koji_instance: String,
    /// `fedmsg-publisher.enabled`.
    pub publish: bool,
    /// `fedmsg-publisher.modname`.
    pub modname: String,
    /// `[fedora-messaging]`.
    pub broker: BrokerConfig,
}

/// A dotted topic word list: non-empty words of letters, digits, `-` and `_`.
fn is_topic(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// Validates the three sections; `err(key, message)` builds the error with the key's origin.
pub(super) fn validate(
    fedmsg: &RawFedmsg,
    publisher: &RawFedmsgPublisher,
    fm: &RawFedoraMessaging,
    err: &dyn Fn(&str, String) -> Error,
) -> Result<MessagingConfig, Error> {
    if !is_topic(&fedmsg.topic) {
        return Err(err(
            "fedmsg.topic",
            format!(
                "`{}` is not a dotted topic such as `org.fedoraproject.prod.buildsys`",
                fedmsg.topic
            ),
        ));
    }
    if fedmsg.instance.is_empty() {
        return Err(err("fedmsg.instance", "must not be empty".to_owned()));
    }
    if !is_topic(&publisher.modname) || publisher.modname.contains('.') {
        return Err(err(
            "fedmsg-publisher.modname",
            format!(
                "`{}` is not one topic word (letters, digits, `-`, `_`)",
                publisher.modname
            ),
        ));
    }
    let tls_scheme = if fm.amqp_url.starts_with("amqps://") {
        true
    } else if fm.amqp_url.starts_with("amqp://") {
        false
    } else {
        return Err(err(
            "fedora-messaging.amqp_url",
            format!(
                "`{}` is not an amqp:// or amqps:// URL",
                mask_url_password(&fm.amqp_url)
            ),
        ));
    };
    let prefix = fm.topic_prefix.trim_end_matches('.');
    if !prefix.is_empty() && !is_topic(prefix) {
        return Err(err(
            "fedora-messaging.topic_prefix",
            format!(
                "`{}` is not a dotted topic prefix such as `org.fedoraproject.prod`",
                fm.topic_prefix
            ),
        ));
    }
    for (key, value) in [
        ("publish_exchange", &fm.publish_exchange),
        ("listen_exchange", &fm.listen_exchange),
        ("queue", &fm.queue),
    ] {
        if value.is_empty() || value.len() > 255 {
            return Err(err(
                &format!("fedora-messaging.{key}"),
                "must be 1 to 255 characters".to_owned(),
            ));
        }
    }
    if fm.prefetch_count == 0 {
        return Err(err(
            "fedora-messaging.prefetch_count",
            "must be greater than 0".to_owned(),
        ));
    }
    for (key, value) in [
        ("publish_timeout", fm.publish_timeout),
        ("connect_timeout", fm.connect_timeout),
    ] {
        if value == 0 || value > 86_400 {
            return Err(err(
                &format!("fedora-messaging.{key}"),
                "must be between 1 and 86400 seconds".to_owned(),
            ));
        }
    }
    let t = &fm.tls;
    let client = match (&t.certfile, &t.keyfile) {
        (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(err(
                "fedora-messaging.tls.keyfile",
                "required when `certfile` is set".to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "fedora-messaging.tls.certfile",
                "required when `keyfile` is set".to_owned(),
            ));
        }
    };
    if !tls_scheme && (client.is_some() || t.ca_cert.is_some()) {
        return Err(err(
            "fedora-messaging.tls",
            "TLS files need an `amqps://` URL in `fedora-messaging.amqp_url`".to_owned(),
        ));
    }
    Ok(MessagingConfig {
        koji_topic: fedmsg.topic.clone(),
        koji_instance: fedmsg.instance.clone(),
        publish: publisher.enabled,
        modname: publisher.modname.clone(),
        broker: BrokerConfig {
            amqp_url: fm.amqp_url.clone(),
            publish_exchange: fm.publish_exchange.clone(),
            topic_prefix: prefix.to_owned(),
            listen_exchange: fm.listen_exchange.clone(),
            queue: fm.queue.clone(),
            queue_durable: fm.queue_durable,
            prefetch_count: fm.prefetch_count,
            publish_timeout: Duration::from_secs(fm.publish_timeout),
            connect_timeout: Duration::from_secs(fm.connect_timeout),
            app: fm.app.clone(),
            tls: TlsFiles {
                ca_cert: t.ca_cert.as_ref().map(PathBuf::from),
                client,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;

    fn load(text: &str) -> Result<Config, super::Error> {
        Config::from_texts(&[(Path::new("m.toml"), text)], None)
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = load("").expect("defaults");
        let m = &c.messaging;
        assert_eq!(m.koji_topic, "org.fedoraproject.prod.buildsys");
        assert_eq!(m.koji_instance, "primary");
        assert!(!m.publish);
        assert_eq!(m.modname, "koschei");
        assert_eq!(m.broker.publish_exchange, "amq.topic");
        assert_eq!(m.broker.topic_prefix, "");
    }

    #[test]
    fn original_section_names_are_accepted() {
        let c = load(
            "[fedmsg]\ntopic = \"org.fedoraproject.stg.buildsys\"\ninstance = \"s390\"\n\
             [fedmsg-publisher]\nenabled = true\nmodname = \"koschei-stg\"\n\
             [fedora-messaging]\namqp_url = \"amqps://koschei:pw@broker.example/%2Fpubsub\"\n\
             topic_prefix = \"org.fedoraproject.stg.\"\n\
             [fedora-messaging.tls]\nca_cert = \"/etc/ca.pem\"\ncertfile = \"/etc/c.pem\"\nkeyfile = \"/etc/k.pem\"\n",
        )
        .expect("loads");
        let m = &c.messaging;
        assert!(m.publish);
        assert_eq!(m.modname, "koschei-stg");
        assert_eq!(m.koji_instance, "s390");
        assert_eq!(m.broker.topic_prefix, "org.fedoraproject.stg");
        assert!(m.broker.tls.client.is_some());
        assert!(!format!("{:?}", m.broker).contains("pw@"));
    }

    #[test]
    fn broken_values_are_refused_with_their_key() {
        let cases = [
            ("[fedora-messaging]\nnosuch = 1\n", "nosuch"),
            ("[fedmsg]\nbogus = 1\n", "bogus"),
            ("[fedmsg-publisher]\nenable = true\n", "enable"),
            (
                "[fedora-messaging]\namqp_url = \"http://u:secret@x\"\n",
                "fedora-messaging.amqp_url",
            ),
            (
                "[fedora-messaging.tls]\ncertfile = \"/c.pem\"\n",
                "fedora-messaging.tls.keyfile",
            ),
            (
                "[fedora-messaging.tls]\nca_cert = \"/c.pem\"\n",
                "fedora-messaging.tls",
            ),
            (
                "[fedmsg-publisher]\nmodname = \"a.b\"\n",
                "fedmsg-publisher.modname",
            ),
            ("[fedmsg]\ntopic = \"a..b\"\n", "fedmsg.topic"),
            ("[fedora-messaging]\nprefetch_count = 0\n", "prefetch_count"),
            (
                "[fedora-messaging]\npublish_timeout = 0\n",
                "publish_timeout",
            ),
            (
                "[fedora-messaging]\nqueue = \"\"\n",
                "fedora-messaging.queue",
            ),
        ];
        for (text, key) in cases {
            let e = load(text).expect_err(text).to_string();
            assert!(e.contains(key), "{text}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
