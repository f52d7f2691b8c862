CREATE TABLE media (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    text        NOT NULL,
    mime_type   text        NOT NULL,
    size_bytes  bigint      NOT NULL CHECK (size_bytes >= 0),
    sha256      bytea       NOT NULL,
    width       integer,
    height      integer,
    duration_ms integer,
    -- Key in the blob store (local directory by default, S3-compatible in production).
    storage_key text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX media_owner_idx ON media (owner_id, created_at);

CREATE TABLE drafts (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    text        NOT NULL,
    text        text        NOT NULL DEFAULT '',
    -- {"<platform>": {"text": "...", "media_ids": [...]}}
    variants    jsonb       NOT NULL DEFAULT '{}',
    media_ids   uuid[]      NOT NULL DEFAULT '{}',
    account_ids uuid[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX drafts_owner_idx ON drafts (owner_id, updated_at);

CREATE TABLE posts (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id        text        NOT NULL,
    draft_id        uuid        REFERENCES drafts (id) ON DELETE SET NULL,
    text            text        NOT NULL,
    media_ids       uuid[]      NOT NULL DEFAULT '{}',
    variants        jsonb       NOT NULL DEFAULT '{}',
    idempotency_key text,
    -- sha256 of the canonical request body: same key + different body is a conflict.
    request_hash    bytea,
    scheduled_at    timestamptz,
    status          text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'publishing', 'published', 'partially_failed', 'failed', 'canceled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT posts_owner_idempotency_key UNIQUE (owner_id, idempotency_key)
);

CREATE INDEX posts_owner_created_idx ON posts (owner_id, created_at DESC, id DESC);

CREATE TABLE post_targets (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id          uuid        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id       uuid        NOT NULL REFERENCES social_accounts (id),
    platform         text        NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x', 'linkedin', 'youtube', 'tiktok', 'pinterest', 'bluesky', 'mastodon', 'sandbox')),
    text             text        NOT NULL,
    media_ids        uuid[]      NOT NULL DEFAULT '{}',
    status           text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'publishing', 'published', 'failed', 'canceled', 'unknown')),
    due_at           timestamptz NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    -- A publisher's claim; a lease that runs out (publisher died) is recovered by another.
    lease_until      timestamptz,
    platform_post_id text,
    url              text,
    error_code       text,
    last_error       text,
    published_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The publisher's due dispatch: scheduled targets by due time.
CREATE INDEX post_targets_status_due_idx ON post_targets (status, due_at);
CREATE INDEX post_targets_post_idx ON post_targets (post_id);
CREATE INDEX post_targets_account_idx ON post_targets (account_id, status);

CREATE TABLE post_attempts (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    target_id     uuid        NOT NULL REFERENCES post_targets (id) ON DELETE CASCADE,
    attempt_no    integer     NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    http_status   integer,
    outcome       text        NOT NULL DEFAULT 'in_flight' CHECK (outcome IN ('in_flight', 'success', 'transient', 'rate_limited', 'needs_reauth', 'rejected', 'unsupported', 'unknown')),
    error_code    text,
    error_message text,
    -- Sanitized platform response (never a token).
    response      jsonb,
    CONSTRAINT post_attempts_target_attempt_key UNIQUE (target_id, attempt_no)
);
