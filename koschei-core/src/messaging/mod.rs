//! fedora-messaging: Koschei's state change messages and the Koji messages it acts on.
//!
//! * [`message`] (pure): the original's message bodies and the headers and properties
//!   fedora-messaging puts on the wire.
//! * [`koji`] (pure): parsing Koji's `task.state.change`, `tag` and `repo.done` messages.
//! * [`listener::act`] (shell): what the engine does for one Koji message.
//! * `broker`, `publisher` and the listener loop (shell, cargo feature `messaging`): the
//!   AMQP 0-9-1 connection over `lapin`, with its async runtime hidden behind a synchronous
//!   API, the outbox publisher, and the consumer loop.
//!
//! Every message goes through the outbox (`crate::db::outbox`): the services write it in
//! the transaction of the state change, and the publisher sends it with publisher
//! confirms and deletes it afterwards, so a message that cannot be published waits in
//! PostgreSQL until the broker is back. docs/messaging.md describes the whole design.

#[cfg(feature = "messaging")]
mod broker;
pub mod koji;
#[cfg(feature = "postgres")]
pub mod listener;
pub mod message;
#[cfg(feature = "messaging")]
mod publisher;

#[cfg(feature = "messaging")]
pub use broker::{Broker, Delivery, Listener};
#[cfg(feature = "messaging")]
pub use listener::{HandlerResult, ListenOptions, ListenReport, listen};
#[cfg(feature = "messaging")]
pub use publisher::{PublishReport, publish_pending};

pub use crate::config::{BrokerConfig, MessagingConfig};
#[cfg(feature = "postgres")]
pub use crate::db::outbox::Publication;

/// A messaging operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker cannot be reached or refused the connection.
    #[error("cannot connect to the AMQP broker at `{url}`")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A TLS file cannot be read.
    #[error("cannot read the TLS file `{}`", path.display())]
    TlsFile {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A broker operation (channel, exchange, queue, publish, ack) failed.
    #[error("AMQP broker operation failed: {what}")]
    Broker {
        /// What was being done, e.g. ``publish to `amq.topic` ``.
        what: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The broker refused (nacked) a message.
    #[error("the AMQP broker refused message `{message_id}` on `{routing_key}`")]
    Nacked {
        /// The message.
        message_id: String,
        /// Its routing key.
        routing_key: String,
    },
    /// No answer in time.
    #[error("no answer from the AMQP broker within {seconds} s while trying to {what}")]
    Timeout {
        /// What was being done.
        what: String,
        /// The limit.
        seconds: u64,
    },
    /// The async runtime could not start.
    #[error("cannot start the messaging runtime")]
    Runtime(#[source] std::io::Error),
    /// A database query failed.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Db(#[from] crate::db::Error),
    /// The database connection was lost.
    #[error("the database connection was lost")]
    DbClosed,
}
