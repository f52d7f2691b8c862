-- The targets gauge counts each live status from a partial index (PostTarget::count_by_status):
-- scheduled and unknown from post_targets_dispatch_idx, publishing from post_targets_lease_idx,
-- and deleting from this one, so a table of millions of published targets is never read for it.
CREATE INDEX post_targets_deleting_idx ON post_targets (id) WHERE status = 'deleting';
