-- token-refresher takes an account for one refresh under a short, committed claim instead of a
-- row lock held across the platform call: `refresh_fence` names the claim (a fresh uuid per
-- claim; failure writes are guarded by it), `refresh_lease_until` is when it lapses unless its
-- owner renews it (heartbeat). Another replica may take the account once the lease has lapsed.
ALTER TABLE social_accounts
    ADD COLUMN refresh_fence uuid,
    ADD COLUMN refresh_lease_until timestamptz;

-- A claim and its heartbeats change no indexed column: with room left on each page PostgreSQL
-- updates the row in place (HOT) instead of adding an entry to each of the table's indexes.
-- Applies to pages written from now on.
ALTER TABLE social_accounts SET (fillfactor = 80);
