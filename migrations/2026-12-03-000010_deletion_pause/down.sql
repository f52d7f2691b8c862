DROP INDEX social_accounts_paused_idx;
ALTER TABLE social_accounts DROP COLUMN paused_at;
ALTER TABLE post_attempts DROP COLUMN kind;
DROP TABLE post_deletions;
-- A deleted or deleting target was published; the older vocabulary has only that word.
UPDATE post_targets SET status = 'published' WHERE status IN ('deleting', 'deleted');
UPDATE posts SET status = 'published' WHERE status IN ('deleting', 'deleted', 'partially_deleted');
ALTER TABLE posts DROP CONSTRAINT posts_status_check;
ALTER TABLE posts ADD CONSTRAINT posts_status_check CHECK (status IN ('scheduled', 'publishing', 'published', 'partially_failed', 'failed', 'canceled'));
ALTER TABLE post_targets DROP CONSTRAINT post_targets_status_check;
ALTER TABLE post_targets ADD CONSTRAINT post_targets_status_check CHECK (status IN ('scheduled', 'publishing', 'published', 'failed', 'canceled', 'unknown'));
