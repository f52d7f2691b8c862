-- Templates (issue 13, part 4): a named base text and per-platform texts with `{placeholders}`,
-- from which drafts are made. Checked by auth-gateway before they are written.
CREATE TABLE templates (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    text        NOT NULL,
    name        text        NOT NULL,
    text        text        NOT NULL DEFAULT '',
    -- {"<platform>": {"text": "..."}}
    variants    jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- A user picks a template by its name: two of theirs never share one.
    CONSTRAINT templates_owner_name UNIQUE (owner_id, name)
);

-- The list's keyset order (most recently edited first).
CREATE INDEX templates_owner_updated_idx ON templates (owner_id, updated_at DESC, id DESC);

-- The template a draft was made from (seed 004's `templateId`), forgotten if it is deleted.
ALTER TABLE drafts ADD COLUMN template_id uuid REFERENCES templates (id) ON DELETE SET NULL;

-- The env account (issue 13, part 6): the deployment's Facebook Page, configured by token, is a
-- row of social_accounts owned by the reserved owner 'postbridge:env' (no user can have that
-- id: the gateway refuses it as a token subject). A Page token does not expire, so the row is
-- never scheduled for a refresh; this makes a stray write that would schedule one fail.
ALTER TABLE social_accounts
    ADD CONSTRAINT social_accounts_env_never_refreshed
    CHECK (owner_id <> 'postbridge:env' OR next_refresh_at IS NULL);
