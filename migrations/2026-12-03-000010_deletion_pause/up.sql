-- Deleting published posts from their platforms, and pausing an account (issue 13, parts 2
-- and 5).

-- A target's lifecycle goes on after `published`: `deleting` while its deletion is requested
-- or under way, `deleted` once the platform no longer has it. A post follows its targets:
-- `deleting`, `deleted`, or `partially_deleted` (some targets gone, others still live because
-- their platform cannot delete through its API, or the deletion failed).
ALTER TABLE post_targets DROP CONSTRAINT post_targets_status_check;
ALTER TABLE post_targets ADD CONSTRAINT post_targets_status_check CHECK (status IN ('scheduled', 'publishing', 'published', 'failed', 'canceled', 'unknown', 'deleting', 'deleted'));
ALTER TABLE posts DROP CONSTRAINT posts_status_check;
ALTER TABLE posts ADD CONSTRAINT posts_status_check CHECK (status IN ('scheduled', 'publishing', 'published', 'partially_failed', 'failed', 'canceled', 'deleting', 'deleted', 'partially_deleted'));

-- One deletion request per published target (the primary key makes a repeated request the
-- same row): written by auth-gateway (`pending`), worked through by the publisher under a
-- fenced lease like publishing (`deleting`), settled as `deleted`, `unsupported` (the platform
-- cannot delete through its API) or `failed`.
CREATE TABLE post_deletions (
    target_id       uuid        PRIMARY KEY REFERENCES post_targets (id) ON DELETE CASCADE,
    post_id         uuid        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id      uuid        NOT NULL REFERENCES social_accounts (id),
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'deleting', 'deleted', 'unsupported', 'failed')),
    -- Delete calls made for this request (the retry policy's count).
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    claim_id        uuid,
    error_code      text,
    last_error      text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The publisher's claim: due requests by time, and claims whose lease ran out.
CREATE INDEX post_deletions_due_idx ON post_deletions (next_attempt_at) WHERE status = 'pending';
CREATE INDEX post_deletions_lease_idx ON post_deletions (lease_until) WHERE status = 'deleting';
CREATE INDEX post_deletions_post_idx ON post_deletions (post_id);

-- Every call to a platform stays in one log; `kind` says what the call was. Publishing
-- limits (Instagram's 100 posts a day, Threads' 250) count `publish` calls only.
ALTER TABLE post_attempts ADD COLUMN kind text NOT NULL DEFAULT 'publish' CHECK (kind IN ('publish', 'delete'));

-- A paused account keeps its tokens fresh and accepts posts, but its due targets wait.
ALTER TABLE social_accounts ADD COLUMN paused_at timestamptz;
-- The dispatcher's claim skips targets of paused accounts with an anti-join on this index,
-- which holds paused accounts only (normally none or a few).
CREATE INDEX social_accounts_paused_idx ON social_accounts (id) WHERE paused_at IS NOT NULL;
