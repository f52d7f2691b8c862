ALTER TABLE post_targets DROP COLUMN claim_id;
