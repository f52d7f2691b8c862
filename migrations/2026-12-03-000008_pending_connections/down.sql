DROP INDEX IF EXISTS oauth_states_owner_idx;
DROP TABLE IF EXISTS pending_connections;
