//! The message outbox (`message_outbox`, migration 3): fedora-messaging messages written in
//! the transaction of the state change they announce, and sent later by
//! [`crate::messaging`]'s publisher, which deletes each row once the broker confirmed it.

use postgres::GenericClient;

use super::{Error, QueryContext, column};
use crate::messaging::message::{Event, OutgoingMessage};
use crate::model::{CollectionId, PackageId};

/// Result of the outbox queries.
type Result<T> = std::result::Result<T, Error>;

/// Where messages come from: the publisher settings the services need to queue them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// `fedmsg-publisher.modname`.
    pub modname: String,
    /// `fedmsg.instance` (the `koji_instance` of every body).
    pub koji_instance: String,
}

/// Queues `message`.
pub fn queue(c: &mut impl GenericClient, message: &OutgoingMessage) -> Result<()> {
    c.execute(
        "INSERT INTO message_outbox (topic, schema_name, body) VALUES ($1, $2, $3)",
        &[&message.topic, &message.schema_name, &message.body],
    )
    .ctx("queue a message")?;
    Ok(())
}

/// The package state change event of `package` (name, collection and groups read now, in
/// the caller's transaction); `None` when the package is gone.
pub fn package_event(
    c: &mut impl GenericClient,
    package: PackageId,
    old: &str,
    new: &str,
) -> Result<Option<Event>> {
    const Q: &str = "load a package state change message";
    let row = c
        .query_opt(
            "SELECT p.name, c.name AS collection, c.display_name,
                    ARRAY(SELECT CASE WHEN g.namespace IS NULL THEN g.name
                                      ELSE g.namespace || '/' || g.name END
                          FROM package_group_relation r
                          JOIN package_group g ON g.id = r.group_id
                          WHERE r.base_id = p.base_id
                          ORDER BY g.name, g.namespace NULLS FIRST) AS groups
             FROM package p JOIN collection c ON c.id = p.collection_id
             WHERE p.id = $1",
            &[&package.0],
        )
        .ctx(Q)?;
    row.map(|r| {
        Ok(Event::PackageState {
            name: column(&r, Q, "name")?,
            old: old.to_owned(),
            new: new.to_owned(),
            collection: column(&r, Q, "collection")?,
            collection_name: column(&r, Q, "display_name")?,
            groups: column(&r, Q, "groups")?,
        })
    })
    .transpose()
}

/// The collection state change event of `collection`; `None` when it is gone.
pub fn collection_event(
    c: &mut impl GenericClient,
    collection: CollectionId,
    old: &str,
    new: &str,
) -> Result<Option<Event>> {
    const Q: &str = "load a collection state change message";
    let row = c
        .query_opt(
            "SELECT name, display_name, coalesce(latest_repo_id::text, '') AS repo_id
             FROM collection WHERE id = $1",
            &[&collection.0],
        )
        .ctx(Q)?;
    row.map(|r| {
        Ok(Event::CollectionState {
            old: old.to_owned(),
            new: new.to_owned(),
            collection: column(&r, Q, "name")?,
            collection_name: column(&r, Q, "display_name")?,
            repo_id: column(&r, Q, "repo_id")?,
        })
    })
    .transpose()
}

/// Queues the message of a package state change when publishing is on (`publication` is
/// `Some`) and the message state really changed.
pub fn queue_package_change(
    c: &mut impl GenericClient,
    publication: Option<&Publication>,
    package: PackageId,
    old: &str,
    new: &str,
) -> Result<()> {
    let Some(p) = publication else { return Ok(()) };
    if old == new {
        return Ok(());
    }
    if let Some(event) = package_event(c, package, old, new)? {
        queue(c, &event.to_message(&p.modname, &p.koji_instance))?;
    }
    Ok(())
}

/// Queues the message of a collection state change (see [`queue_package_change`]).
pub fn queue_collection_change(
    c: &mut impl GenericClient,
    publication: Option<&Publication>,
    collection: CollectionId,
    old: &str,
    new: &str,
) -> Result<()> {
    let Some(p) = publication else { return Ok(()) };
    if old == new {
        return Ok(());
    }
    if let Some(event) = collection_event(c, collection, old, new)? {
        queue(c, &event.to_message(&p.modname, &p.koji_instance))?;
    }
    Ok(())
}

/// A queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    /// Row id (publication order).
    pub id: i64,
    /// The AMQP `message_id` (a UUID).
    pub message_id: String,
    /// Topic without the bus prefix.
    pub topic: String,
    /// The `fedora_messaging_schema` header.
    pub schema_name: String,
    /// JSON body.
    pub body: String,
    /// When it was queued, as fedora-messaging writes `sent-at` (`2024-05-01T12:00:00+00:00`).
    pub sent_at: String,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// The oldest `limit` queued messages, oldest first.
pub fn pending(c: &mut impl GenericClient, limit: i64) -> Result<Vec<PendingMessage>> {
    const Q: &str = "list queued messages";
    let rows = c
        .query(
            "SELECT id, message_id::text AS message_id, topic, schema_name, body,
                    to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')
                      AS sent_at,
                    attempts
             FROM message_outbox ORDER BY id LIMIT $1",
            &[&limit],
        )
        .ctx(Q)?;
    rows.iter()
        .map(|r| {
            Ok(PendingMessage {
                id: column(r, Q, "id")?,
                message_id: column(r, Q, "message_id")?,
                topic: column(r, Q, "topic")?,
                schema_name: column(r, Q, "schema_name")?,
                body: column(r, Q, "body")?,
                sent_at: column(r, Q, "sent_at")?,
                attempts: column(r, Q, "attempts")?,
            })
        })
        .collect()
}

/// Removes a message the broker confirmed.
pub fn delete(c: &mut impl GenericClient, id: i64) -> Result<()> {
    c.execute("DELETE FROM message_outbox WHERE id = $1", &[&id])
        .ctx("delete a published message")?;
    Ok(())
}

/// Records a failed attempt to publish message `id`.
pub fn record_failure(c: &mut impl GenericClient, id: i64, error: &str) -> Result<()> {
    c.execute(
        "UPDATE message_outbox SET attempts = attempts + 1, last_attempt = clock_timestamp(),
                last_error = $2 WHERE id = $1",
        &[&id, &error],
    )
    .ctx("record a failed publication")?;
    Ok(())
}

/// What the outbox holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct OutboxStatus {
    /// Queued messages.
    pub pending: i64,
    /// When the oldest one was queued (UTC, ISO 8601).
    pub oldest: Option<String>,
    /// The most recent publication error.
    pub last_error: Option<String>,
}

/// Counts the queued messages.
pub fn status(c: &mut impl GenericClient) -> Result<OutboxStatus> {
    const Q: &str = "count queued messages";
    let row = c
        .query_one(
            "SELECT count(*) AS pending,
                    to_char(min(created) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                      AS oldest,
                    (SELECT last_error FROM message_outbox WHERE last_error IS NOT NULL
                     ORDER BY last_attempt DESC LIMIT 1) AS last_error
             FROM message_outbox",
            &[],
        )
        .ctx(Q)?;
    Ok(OutboxStatus {
        pending: column(&row, Q, "pending")?,
        oldest: column(&row, Q, "oldest")?,
        last_error: column(&row, Q, "last_error")?,
    })
}

/// Advisory lock key of the publisher (namespace 5, key 0): one publisher sends at a time,
/// so two processes never send the same row.
pub const PUBLISHER_LOCK: (i32, i32) = (5, 0);

/// Tries to take the publisher's session lock.
pub fn try_lock_publisher(c: &mut impl GenericClient) -> Result<bool> {
    let row = c
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2) AS locked",
            &[&PUBLISHER_LOCK.0, &PUBLISHER_LOCK.1],
        )
        .ctx("take the publisher lock")?;
    column(&row, "take the publisher lock", "locked")
}

/// Releases the publisher's session lock.
pub fn unlock_publisher(c: &mut impl GenericClient) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_unlock($1, $2)",
        &[&PUBLISHER_LOCK.0, &PUBLISHER_LOCK.1],
    )
    .ctx("release the publisher lock")?;
    Ok(())
}
