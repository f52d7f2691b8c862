DROP TABLE IF EXISTS retention_marks;
DROP INDEX IF EXISTS account_metrics_synced_idx;
DROP INDEX IF EXISTS post_metrics_fetched_idx;
DROP INDEX IF EXISTS post_attempts_started_idx;
