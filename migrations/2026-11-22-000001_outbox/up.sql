-- Transactional outbox: producers insert the event in the same transaction as the state
-- change; the relay publishes unsent rows to RabbitMQ and stamps sent_at.
CREATE TABLE outbox (
    id          uuid        PRIMARY KEY,
    -- Publication order; a bigserial rather than created_at so rows of one transaction keep
    -- their insertion order.
    seq         bigserial   NOT NULL,
    event_type  text        NOT NULL,
    -- The whole envelope, exactly as it will be published.
    envelope    jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    publish_attempts integer NOT NULL DEFAULT 0,
    last_error  text
);

-- The relay's hot path: the oldest unsent rows.
CREATE INDEX outbox_unsent_idx ON outbox (seq) WHERE sent_at IS NULL;
-- Retention sweeps of sent rows.
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Wake relays as soon as a transaction that wrote events commits (NOTIFY is delivered on
-- commit only, never for a rolled-back transaction). Polling remains the fallback.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('postbridge_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify_after_insert
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Consumer inbox: one row per (consumer, event) handled, written in the handler's own
-- transaction, so a redelivered event is recognised and acknowledged without effect.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);
