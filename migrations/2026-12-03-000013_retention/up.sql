-- Retention (issue 14): the services prune what grows with use. Each sweep walks its table in
-- (time, id) order from where its previous batch stopped, a bounded batch at a time, so every
-- batch is an index range scan of at most `batch_size` entries whatever the table's size, and
-- rows a rule keeps (a target's last attempt or latest read, a day's last account sample) are
-- not read again on the next batch, nor on the next pass (the mark is in retention_marks). The rules' own probes use the existing indexes:
-- post_attempts_target_attempt_key, post_metrics_target_idx, account_metrics_account_idx.
-- outbox (outbox_sent_at_idx) and processed_events (processed_events_processed_at_idx) already
-- had theirs.

-- publisher: the attempt log, kept `post_attempts_days` (90) except each target's last attempt.
CREATE INDEX post_attempts_started_idx ON post_attempts (started_at, id);

-- publisher: engagement reads, kept `post_metrics_days` (400) except each target's latest.
CREATE INDEX post_metrics_fetched_idx ON post_metrics (fetched_at, id);

-- account-registry: account samples, every one for 30 days, then the last of each UTC day,
-- until 400 days.
CREATE INDEX account_metrics_synced_idx ON account_metrics (synced_at, id);

-- Where each sweep stands (the last row it examined) and when it last started from the oldest
-- row: shared by the replicas and kept across restarts, so a restarted service continues where
-- the last pass stopped instead of reading every kept row again.
CREATE TABLE retention_marks (
    sweep      text        PRIMARY KEY,
    mark_at    timestamptz NOT NULL,
    mark_id    text        NOT NULL,
    rewound_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
