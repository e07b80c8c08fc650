//! The outbox publisher (shell): sends queued messages in order, each with a publisher
//! confirmation, and deletes each one once confirmed.

use postgres::GenericClient;

use super::{Broker, Error};
use crate::db::outbox;

/// What one run of the publisher did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishReport {
    /// Messages confirmed by the broker and removed from the outbox.
    pub published: usize,
    /// Messages still queued.
    pub pending: i64,
    /// Another process was publishing; nothing was sent.
    pub locked: bool,
}

/// Rows read per round trip.
const BATCH: i64 = 100;

/// Sends every queued message through `broker`, oldest first, and stops at the first
/// failure (recorded on the row; the message stays queued and later ones wait behind it, so
/// the order is kept). Holds the publisher's advisory lock while sending, so two processes
/// never send the same row; a message confirmed but not yet deleted when the process dies
/// is sent again, with the same `message_id` (at-least-once delivery).
pub fn publish_pending(
    client: &mut impl GenericClient,
    broker: &mut Broker,
) -> Result<PublishReport, Error> {
    if !outbox::try_lock_publisher(client)? {
        return Ok(PublishReport {
            locked: true,
            ..PublishReport::default()
        });
    }
    let result = send_all(client, broker);
    let unlocked = outbox::unlock_publisher(client);
    let published = result?;
    unlocked?;
    Ok(PublishReport {
        published,
        pending: outbox::status(client)?.pending,
        locked: false,
    })
}

fn send_all(client: &mut impl GenericClient, broker: &mut Broker) -> Result<usize, Error> {
    let mut published = 0;
    loop {
        let batch = outbox::pending(client, BATCH)?;
        if batch.is_empty() {
            return Ok(published);
        }
        for m in batch {
            if let Err(e) =
                broker.publish(&m.message_id, &m.topic, &m.schema_name, &m.body, &m.sent_at)
            {
                let text = crate::db::report(&e);
                tracing::warn!(message_id = %m.message_id, topic = %m.topic, error = %text, "message not published, kept in the outbox");
                outbox::record_failure(client, m.id, &text)?;
                return Err(e);
            }
            outbox::delete(client, m.id)?;
            tracing::info!(message_id = %m.message_id, topic = %m.topic, body = %m.body, "message published");
            published += 1;
        }
    }
}
