ALTER TABLE post_attempts DROP COLUMN part;
ALTER TABLE post_targets DROP COLUMN follow_ups;
DROP TABLE post_target_parts;
DROP TABLE post_parts;
