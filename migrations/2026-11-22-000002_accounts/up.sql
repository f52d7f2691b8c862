CREATE TABLE social_accounts (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id            text        NOT NULL,
    platform            text        NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x', 'linkedin', 'youtube', 'tiktok', 'pinterest', 'bluesky', 'mastodon', 'sandbox')),
    platform_account_id text        NOT NULL,
    account_kind        text        NOT NULL CHECK (account_kind IN ('profile', 'page', 'business', 'channel', 'organization')),
    display_name        text,
    handle              text,
    avatar_url          text,
    profile_url         text,
    -- Mastodon instance or Bluesky PDS the account lives on.
    instance_url        text,
    scopes              text[]      NOT NULL DEFAULT '{}',
    -- AES-256-GCM ciphertexts (crates/vault); the associated data binds each to this row and
    -- column, so a value copied elsewhere cannot be decrypted.
    access_token_enc    bytea,
    refresh_token_enc   bytea,
    token_key_id        text,
    token_expires_at    timestamptz,
    refresh_expires_at  timestamptz,
    status              text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expiring', 'needs_reauth', 'rate_limited', 'disconnecting', 'disconnected')),
    health_score        smallint    NOT NULL DEFAULT 100 CHECK (health_score BETWEEN 0 AND 100),
    last_error          text,
    followers_count     bigint,
    following_count     bigint,
    posts_count         bigint,
    last_synced_at      timestamptz,
    last_refreshed_at   timestamptz,
    refresh_attempts    integer     NOT NULL DEFAULT 0,
    next_refresh_at     timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- A user may connect several pages or channels of one platform; reconnecting the same one
    -- updates this row instead of adding a duplicate.
    CONSTRAINT social_accounts_owner_platform_account_key UNIQUE (owner_id, platform, platform_account_id)
);

CREATE INDEX social_accounts_owner_idx ON social_accounts (owner_id, created_at);
-- token-refresher's scheduler: accounts whose refresh is due.
CREATE INDEX social_accounts_next_refresh_idx ON social_accounts (next_refresh_at)
    WHERE next_refresh_at IS NOT NULL AND status NOT IN ('disconnecting', 'disconnected', 'needs_reauth');
-- "seconds until the soonest expiry" and expiry sweeps.
CREATE INDEX social_accounts_token_expires_idx ON social_accounts (token_expires_at)
    WHERE token_expires_at IS NOT NULL;

CREATE TABLE oauth_states (
    -- sha256 of the state parameter: a leaked database row cannot be replayed as a state.
    state_hash        bytea       PRIMARY KEY,
    owner_id          text        NOT NULL,
    platform          text        NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x', 'linkedin', 'youtube', 'tiktok', 'pinterest', 'bluesky', 'mastodon', 'sandbox')),
    pkce_verifier_enc bytea,
    redirect_to       text        NOT NULL,
    instance          text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL
);

CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);

CREATE TABLE mastodon_apps (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Normalized instance origin, e.g. https://mastodon.social
    instance          text        NOT NULL UNIQUE,
    client_id         text        NOT NULL,
    client_secret_enc bytea       NOT NULL,
    key_id            text        NOT NULL,
    redirect_uri      text        NOT NULL,
    scopes            text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
