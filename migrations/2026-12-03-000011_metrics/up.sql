-- Post analytics (issue 13): engagement of published targets and account figures, as time
-- series. One row per fetch (post) or per sync (account); a figure the platform does not give
-- for the granted scopes is NULL, never a made-up zero.
CREATE TABLE post_metrics (
    id          bigserial   PRIMARY KEY,
    target_id   uuid        NOT NULL REFERENCES post_targets (id) ON DELETE CASCADE,
    fetched_at  timestamptz NOT NULL,
    likes       bigint,
    replies     bigint,
    reposts     bigint,
    quotes      bigint,
    saves       bigint,
    impressions bigint,
    views       bigint,
    reach       bigint
);

-- A target's series and its latest sample.
CREATE INDEX post_metrics_target_idx ON post_metrics (target_id, fetched_at);

CREATE TABLE account_metrics (
    id          bigserial   PRIMARY KEY,
    account_id  uuid        NOT NULL REFERENCES social_accounts (id) ON DELETE CASCADE,
    synced_at   timestamptz NOT NULL,
    followers   bigint,
    following   bigint,
    posts       bigint
);

CREATE INDEX account_metrics_account_idx ON account_metrics (account_id, synced_at);

-- When the publisher next reads the target's engagement (NULL: not scheduled, or the schedule
-- ended) and how many scheduled reads it made. A claim pushes metrics_due_at to the end of its
-- lease, so a fetcher that dies leaves the target due again when the lease runs out.
ALTER TABLE post_targets
    ADD COLUMN metrics_due_at timestamptz,
    ADD COLUMN metrics_round  integer NOT NULL DEFAULT 0;

-- The fetcher's claim: only targets with a fetch ahead are indexed (most old targets are not).
CREATE INDEX post_targets_metrics_due_idx ON post_targets (metrics_due_at)
    WHERE metrics_due_at IS NOT NULL;
