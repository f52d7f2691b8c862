-- A finished OAuth authorization waiting for the user who started it (issue 16). The callback
-- exchanges the code and parks the result here under a one-time ticket; only
-- `POST /v1/connections/complete` with the starting user's token turns it into accounts. A
-- browser that merely follows someone else's authorize URL therefore connects nothing to them.
CREATE TABLE pending_connections (
    -- sha256 of the ticket handed to the browser: a leaked row cannot be redeemed.
    ticket_hash   bytea       PRIMARY KEY,
    owner_id      text        NOT NULL,
    platform      text        NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x', 'linkedin', 'youtube', 'tiktok', 'pinterest', 'bluesky', 'mastodon', 'sandbox')),
    instance_url  text,
    -- The exchanged profiles and tokens, one vault ciphertext bound to this row.
    payload_enc   bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);

CREATE INDEX pending_connections_expires_idx ON pending_connections (expires_at);
CREATE INDEX pending_connections_owner_idx ON pending_connections (owner_id);
CREATE INDEX oauth_states_owner_idx ON oauth_states (owner_id, expires_at);
