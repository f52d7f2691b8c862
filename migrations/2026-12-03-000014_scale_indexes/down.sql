DROP INDEX post_targets_deleting_idx;
