-- The outbox of fedora-messaging messages (docs/messaging.md).
--
-- A state change and its message are written in one transaction; the publisher sends the
-- rows in id order and deletes each one after the broker confirmed it, so a message that
-- cannot be published waits here until the broker is back.
CREATE TABLE message_outbox (
    id           bigserial PRIMARY KEY,
    -- The AMQP message_id, the same on every attempt.
    message_id   uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- The topic without the bus prefix, e.g. koschei.package.state.change.
    topic        text NOT NULL CHECK (topic <> ''),
    -- The fedora_messaging_schema header (the koschei-messages entry point name).
    schema_name  text NOT NULL CHECK (schema_name <> ''),
    -- The JSON body, byte for byte as sent.
    body         text NOT NULL CHECK (body::json IS NOT NULL),
    -- When the state changed (the sent-at header).
    created      timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts     integer NOT NULL DEFAULT 0,
    last_attempt timestamptz,
    last_error   text
);
