//! The AMQP 0-9-1 connection (shell): `lapin` on a private single-worker tokio runtime,
//! behind a synchronous API. Publishing uses one channel in confirm mode; the listener
//! uses its own channel.

use std::future::Future;
use std::time::Duration;

use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::uri::{AMQPScheme, AMQPUri, SASLMechanism};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use super::Error;
use super::message::{
    CONTENT_ENCODING, CONTENT_TYPE, DELIVERY_MODE_PERSISTENT, HeaderValue, headers, routing_key,
};
use crate::config::BrokerConfig;

fn boxed(
    e: impl std::error::Error + Send + Sync + 'static,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

fn broker_err(what: impl Into<String>) -> impl FnOnce(lapin::Error) -> Error {
    let what = what.into();
    move |e| Error::Broker {
        what,
        source: boxed(e),
    }
}

/// A connection to the broker.
pub struct Broker {
    publish: Option<Channel>,
    // `None` only while dropping: lapin's objects must drop inside the runtime's context.
    connection: Option<Connection>,
    config: BrokerConfig,
    rt: tokio::runtime::Runtime,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.publish = None;
        self.connection = None;
    }
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("url", &self.config.masked_url())
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// A message received by the listener.
#[derive(Debug)]
pub struct Delivery {
    /// The routing key (the topic with the bus prefix).
    pub routing_key: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The `message_id` property.
    pub message_id: Option<String>,
    tag: u64,
}

/// The listener's consumer on its own channel.
pub struct Listener {
    // `None` only while dropping (see `Broker`).
    inner: Option<(Channel, lapin::Consumer)>,
    queue: String,
    handle: tokio::runtime::Handle,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _guard = self.handle.enter();
        self.inner = None;
    }
}

impl Listener {
    fn channel(&self) -> Option<&Channel> {
        self.inner.as_ref().map(|(c, _)| c)
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::TlsFile {
        path: path.to_owned(),
        source,
    })
}

impl Broker {
    /// Connects to `config.amqp_url`; with `amqps://`, verifies the broker against
    /// `tls.ca_cert` (or the system roots) and, with a client certificate, logs in with SASL
    /// EXTERNAL, as fedora-messaging does.
    pub fn connect(config: &BrokerConfig) -> Result<Broker, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("koschei-amqp")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let url = config.masked_url();
        let connect_err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Connect {
            url: url.clone(),
            source,
        };
        let mut uri: AMQPUri = config
            .amqp_url
            .parse()
            .map_err(|e: String| connect_err(e.into()))?;
        let mut tls = lapin::tcp::OwnedTLSConfig::default();
        if uri.scheme == AMQPScheme::AMQPS {
            if let Some(ca) = &config.tls.ca_cert {
                let pem = read(ca)?;
                tls.cert_chain = Some(String::from_utf8_lossy(&pem).into_owned());
            }
            if let Some((cert, key)) = &config.tls.client {
                tls.identity = Some(lapin::tcp::OwnedIdentity::PKCS8 {
                    pem: read(cert)?,
                    key: read(key)?,
                });
                uri.query.auth_mechanism = Some(SASLMechanism::External);
            }
        }
        let timeout = config.connect_timeout;
        if uri.query.connection_timeout.is_none() {
            uri.query.connection_timeout = Some(timeout.as_millis().try_into().unwrap_or(u64::MAX));
        }
        let properties = ConnectionProperties::default()
            .with_client_property("app".into(), LongString::from(config.app.as_str()))
            .with_client_property(
                "product".into(),
                LongString::from("Koschei (Rust) with lapin"),
            )
            .with_connection_name(LongString::from(config.app.as_str()));
        let connection = {
            let _guard = rt.enter();
            let runtime = lapin::runtime::default_runtime().map_err(|e| connect_err(boxed(e)))?;
            let fut = Connection::connect_uri_with_config(uri, properties, tls, runtime);
            match rt.block_on(tokio::time::timeout(timeout, fut)) {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return Err(connect_err(boxed(e))),
                Err(_) => {
                    return Err(Error::Timeout {
                        what: format!("connect to `{url}`"),
                        seconds: timeout.as_secs(),
                    });
                }
            }
        };
        tracing::debug!(url = %url, "connected to the AMQP broker");
        Ok(Broker {
            publish: None,
            connection: Some(connection),
            config: config.clone(),
            rt,
        })
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.connection
            .as_ref()
            .is_some_and(|c| c.status().connected())
    }

    fn connection(&self) -> Result<&Connection, Error> {
        self.connection.as_ref().ok_or_else(|| Error::Broker {
            what: "use the connection".to_owned(),
            source: "the connection is closed".into(),
        })
    }

    /// The configuration this broker was connected with.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// Runs the future `make` builds (built inside the runtime's context, as lapin needs).
    fn run<T, F: Future<Output = Result<T, lapin::Error>>>(
        &self,
        what: &str,
        limit: Duration,
        make: impl FnOnce() -> F,
    ) -> Result<T, Error> {
        let _guard = self.rt.enter();
        let fut = make();
        match self.rt.block_on(tokio::time::timeout(limit, fut)) {
            Ok(r) => r.map_err(broker_err(what)),
            Err(_) => Err(Error::Timeout {
                what: what.to_owned(),
                seconds: limit.as_secs(),
            }),
        }
    }

    /// Declares `exchange` as a durable topic exchange; `amq.*` exchanges exist already and
    /// are only checked (the broker refuses to declare them).
    fn declare_exchange(&self, channel: &Channel, exchange: &str) -> Result<(), Error> {
        let options = ExchangeDeclareOptions {
            passive: exchange.starts_with("amq."),
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        self.run(
            &format!("declare exchange `{exchange}`"),
            self.config.publish_timeout,
            || {
                channel.exchange_declare(
                    exchange.into(),
                    ExchangeKind::Topic,
                    options,
                    FieldTable::default(),
                )
            },
        )
    }

    fn publish_channel(&mut self) -> Result<Channel, Error> {
        if let Some(c) = &self.publish
            && c.status().connected()
        {
            return Ok(c.clone());
        }
        let limit = self.config.publish_timeout;
        let connection = self.connection()?;
        let channel = self.run("open a channel", limit, || connection.create_channel())?;
        self.run("enable publisher confirms", limit, || {
            channel.confirm_select(ConfirmSelectOptions::default())
        })?;
        self.declare_exchange(&channel, &self.config.publish_exchange)?;
        self.publish = Some(channel.clone());
        Ok(channel)
    }

    /// Publishes one message to the publish exchange with routing key
    /// `topic_prefix + "." + topic` and waits for the broker's confirmation.
    pub fn publish(
        &mut self,
        message_id: &str,
        topic: &str,
        schema_name: &str,
        body: &str,
        sent_at: &str,
    ) -> Result<(), Error> {
        let channel = self.publish_channel()?;
        let key = routing_key(&self.config.topic_prefix, topic);
        let mut table = FieldTable::default();
        for (name, value) in headers(schema_name, body, sent_at) {
            let value = match value {
                HeaderValue::Str(s) => AMQPValue::LongString(LongString::from(s)),
                HeaderValue::Int(i) => AMQPValue::LongInt(i32::try_from(i).unwrap_or(i32::MAX)),
                HeaderValue::Bool(b) => AMQPValue::Boolean(b),
            };
            table.insert(ShortString::from(name), value);
        }
        let properties = BasicProperties::default()
            .with_content_type(CONTENT_TYPE.into())
            .with_content_encoding(CONTENT_ENCODING.into())
            .with_delivery_mode(DELIVERY_MODE_PERSISTENT)
            .with_message_id(message_id.into())
            .with_headers(table);
        let exchange = self.config.publish_exchange.clone();
        let what = format!("publish `{key}` to `{exchange}`");
        let confirmation = self.run(&what, self.config.publish_timeout, || async {
            channel
                .basic_publish(
                    exchange.as_str().into(),
                    key.as_str().into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
                    properties,
                )
                .await?
                .await
        });
        let confirmation = match confirmation {
            Ok(c) => c,
            Err(e) => {
                // A failed channel is reopened on the next call.
                self.publish = None;
                return Err(e);
            }
        };
        if confirmation.is_nack() {
            return Err(Error::Nacked {
                message_id: message_id.to_owned(),
                routing_key: key,
            });
        }
        Ok(())
    }

    /// Declares the listener's queue, binds it to `keys` on the listen exchange, and
    /// starts consuming with the configured prefetch count.
    pub fn listen(&mut self, keys: &[String]) -> Result<Listener, Error> {
        let c = &self.config;
        let limit = c.publish_timeout;
        let connection = self.connection()?;
        let channel = self.run("open the listener channel", limit, || {
            connection.create_channel()
        })?;
        self.declare_exchange(&channel, &c.listen_exchange)?;
        self.run(&format!("declare queue `{}`", c.queue), limit, || {
            channel.queue_declare(
                c.queue.as_str().into(),
                QueueDeclareOptions {
                    durable: c.queue_durable,
                    auto_delete: !c.queue_durable,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
        })?;
        for key in keys {
            self.run(
                &format!("bind queue `{}` to `{key}`", c.queue),
                limit,
                || {
                    channel.queue_bind(
                        c.queue.as_str().into(),
                        c.listen_exchange.as_str().into(),
                        key.as_str().into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                },
            )?;
        }
        self.run("set the prefetch count", limit, || {
            channel.basic_qos(c.prefetch_count, BasicQosOptions::default())
        })?;
        let consumer = self.run(&format!("consume from `{}`", c.queue), limit, || {
            channel.basic_consume(
                c.queue.as_str().into(),
                "koschei".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
        })?;
        Ok(Listener {
            inner: Some((channel, consumer)),
            queue: c.queue.clone(),
            handle: self.rt.handle().clone(),
        })
    }

    /// The next delivery, `None` when none arrives within `wait`.
    pub fn next(&self, listener: &mut Listener, wait: Duration) -> Result<Option<Delivery>, Error> {
        use futures_core::Stream;
        let what = format!("consume from `{}`", listener.queue);
        let Some((_, consumer)) = listener.inner.as_mut() else {
            return Err(Error::Broker {
                what,
                source: "the listener is closed".into(),
            });
        };
        let _guard = self.rt.enter();
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *consumer).poll_next(cx));
        match self.rt.block_on(tokio::time::timeout(wait, next)) {
            Err(_) => Ok(None),
            Ok(None) => Err(Error::Broker {
                what,
                source: "the consumer was canceled".into(),
            }),
            Ok(Some(Err(e))) => Err(broker_err(what)(e)),
            Ok(Some(Ok(d))) => Ok(Some(Delivery {
                routing_key: d.routing_key.to_string(),
                message_id: d.properties.message_id().as_ref().map(|m| m.to_string()),
                body: d.data,
                tag: d.delivery_tag,
            })),
        }
    }

    /// Acknowledges `delivery`.
    pub fn ack(&self, listener: &Listener, delivery: &Delivery) -> Result<(), Error> {
        let channel = listener.channel().ok_or_else(|| Error::Broker {
            what: "acknowledge a message".to_owned(),
            source: "the listener is closed".into(),
        })?;
        self.run("acknowledge a message", self.config.publish_timeout, || {
            channel.basic_ack(delivery.tag, BasicAckOptions::default())
        })
    }

    /// Closes the connection (a dropped broker closes it too, less politely).
    pub fn close(mut self) {
        let _guard = self.rt.enter();
        self.publish = None;
        if let Some(c) = self.connection.take() {
            let _ = self.rt.block_on(tokio::time::timeout(
                Duration::from_secs(2),
                c.close(200, "bye".into()),
            ));
        }
    }
}
