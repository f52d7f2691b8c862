-- Per-platform extras a target carries to its adapter (Pinterest board, YouTube title, …).
ALTER TABLE post_targets ADD COLUMN options jsonb NOT NULL DEFAULT '{}';

-- When the publisher should next try a target: its due time at first, later the retry time.
-- Always set, so dispatch is one indexed range scan.
UPDATE post_targets SET next_attempt_at = due_at WHERE next_attempt_at IS NULL;
ALTER TABLE post_targets ALTER COLUMN next_attempt_at SET NOT NULL;

-- Dispatch reads waiting targets (scheduled, or unknown and due for reconciliation) by
-- next_attempt_at, and publishing targets whose lease ran out.
DROP INDEX post_targets_status_due_idx;
CREATE INDEX post_targets_dispatch_idx ON post_targets (next_attempt_at) WHERE status IN ('scheduled', 'unknown');
CREATE INDEX post_targets_lease_idx ON post_targets (lease_until) WHERE status = 'publishing';

-- The attempts of one account in a time window, for platform publish limits (Instagram's 24 h).
ALTER TABLE post_attempts ADD COLUMN account_id uuid REFERENCES social_accounts (id);
CREATE INDEX post_attempts_account_started_idx ON post_attempts (account_id, started_at);

-- Image descriptions travel to the platforms that take them (Bluesky, Mastodon, X).
ALTER TABLE media ADD COLUMN alt_text text;

-- A Mastodon instance's own status limits (GET /api/v2/instance), read when the app is registered.
ALTER TABLE mastodon_apps ADD COLUMN max_characters integer;
ALTER TABLE mastodon_apps ADD COLUMN max_media_attachments integer;
ALTER TABLE mastodon_apps ADD COLUMN characters_reserved_per_url integer;
