DROP INDEX post_targets_metrics_due_idx;
ALTER TABLE post_targets DROP COLUMN metrics_round, DROP COLUMN metrics_due_at;
DROP TABLE account_metrics;
DROP TABLE post_metrics;
