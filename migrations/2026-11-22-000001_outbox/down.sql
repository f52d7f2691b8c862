DROP TABLE processed_events;
DROP TRIGGER outbox_notify_after_insert ON outbox;
DROP FUNCTION outbox_notify();
DROP TABLE outbox;
