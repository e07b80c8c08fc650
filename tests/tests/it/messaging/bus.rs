//! The test side of the real RabbitMQ on 127.0.0.1:5672 (guest/guest): each test gets its
//! own topic exchange and queues with unique names, deleted when the test ends. This side
//! talks to the broker with `lapin` directly, not through Koschei's `messaging::Broker`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

/// The broker of the tests (`KOSCHEI_TEST_AMQP_URL` is not read: the machine's RabbitMQ).
pub(crate) const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2F";

/// A message taken from a queue.
#[derive(Debug)]
pub(crate) struct Got {
    pub(crate) routing_key: String,
    pub(crate) properties: BasicProperties,
    pub(crate) body: String,
}

impl Got {
    /// A header as a display string (`None` when absent).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let headers = self.properties.headers().as_ref()?;
        let value = headers.inner().get(name)?;
        Some(match value {
            AMQPValue::LongString(s) => s.to_string(),
            AMQPValue::ShortString(s) => s.to_string(),
            AMQPValue::Boolean(b) => b.to_string(),
            AMQPValue::LongInt(i) => i.to_string(),
            AMQPValue::LongLongInt(i) => i.to_string(),
            AMQPValue::ShortShortInt(i) => i.to_string(),
            other => format!("{other:?}"),
        })
    }
}

/// One test's exchange and queues.
pub(crate) struct Bus {
    pub(crate) exchange: String,
    prefix: String,
    queues: Vec<String>,
    channel: Channel,
    connection: Connection,
    rt: tokio::runtime::Runtime,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Bus {
    /// Connects and declares a fresh durable topic exchange `koschei-test-<pid>-<n>-<name>`.
    pub(crate) fn new(name: &str) -> Bus {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let prefix = format!(
            "koschei-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let (connection, channel) = rt.block_on(async {
            let connection = Connection::connect(AMQP_URL, ConnectionProperties::default())
                .await
                .unwrap_or_else(|e| {
                    panic!("RabbitMQ must run on 127.0.0.1:5672 (guest/guest): {e}\n\nhint: bash scripts/setup.sh installs and starts rabbitmq-server")
                });
            let channel = connection.create_channel().await.unwrap();
            (connection, channel)
        });
        let exchange = format!("{prefix}-x");
        rt.block_on(channel.exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        ))
        .unwrap();
        Bus {
            exchange,
            prefix,
            queues: Vec::new(),
            channel,
            connection,
            rt,
        }
    }

    /// A unique queue name of this bus (deleted at the end).
    pub(crate) fn queue_name(&mut self, name: &str) -> String {
        let q = format!("{}-{name}", self.prefix);
        self.queues.push(q.clone());
        q
    }

    /// Declares a durable queue bound to `keys` on the exchange.
    pub(crate) fn bind(&mut self, name: &str, keys: &[&str]) -> String {
        let q = self.queue_name(name);
        self.rt
            .block_on(self.channel.queue_declare(
                q.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            ))
            .unwrap();
        for k in keys {
            self.rt
                .block_on(self.channel.queue_bind(
                    q.as_str().into(),
                    self.exchange.as_str().into(),
                    (*k).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                ))
                .unwrap();
        }
        q
    }

    /// Takes one message from `queue`, waiting up to `wait`.
    pub(crate) fn get(&self, queue: &str, wait: Duration) -> Option<Got> {
        let end = Instant::now() + wait;
        loop {
            let got = self
                .rt
                .block_on(
                    self.channel
                        .basic_get(queue.into(), BasicGetOptions { no_ack: true }),
                )
                .unwrap();
            if let Some(m) = got {
                let d = m.delivery;
                return Some(Got {
                    routing_key: d.routing_key.to_string(),
                    properties: d.properties,
                    body: String::from_utf8(d.data).unwrap(),
                });
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// (messages ready, consumers) of `queue`; `None` when it does not exist.
    pub(crate) fn queue_state(&self, queue: &str) -> Option<(u32, u32)> {
        // A failed passive declare closes the channel: use a throwaway one.
        self.rt.block_on(async {
            let ch = self.connection.create_channel().await.ok()?;
            let q = ch
                .queue_declare(
                    queue.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .ok()?;
            let _ = ch.close(200, "ok".into()).await;
            Some((q.message_count(), q.consumer_count()))
        })
    }

    /// Waits until `queue` has a consumer.
    pub(crate) fn wait_for_consumer(&self, queue: &str, wait: Duration) {
        let end = Instant::now() + wait;
        while Instant::now() < end {
            if self.queue_state(queue).is_some_and(|(_, c)| c > 0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no consumer on `{queue}` after {wait:?}");
    }

    /// Publishes `body` on the exchange with routing key `key`.
    pub(crate) fn publish(&self, key: &str, body: &[u8]) {
        self.rt
            .block_on(async {
                self.channel
                    .basic_publish(
                        self.exchange.as_str().into(),
                        key.into(),
                        BasicPublishOptions::default(),
                        body,
                        BasicProperties::default().with_content_type("application/json".into()),
                    )
                    .await?
                    .await
            })
            .unwrap();
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.rt.block_on(async {
            for q in &self.queues {
                let _ = self
                    .channel
                    .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                    .await;
            }
            let _ = self
                .channel
                .exchange_delete(
                    self.exchange.as_str().into(),
                    ExchangeDeleteOptions::default(),
                )
                .await;
            let _ = self.connection.close(200, "bye".into()).await;
        });
    }
}

/// Waits until `f` returns true, up to `wait`.
pub(crate) fn eventually(what: &str, wait: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + wait;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out after {wait:?} waiting for {what}");
}
