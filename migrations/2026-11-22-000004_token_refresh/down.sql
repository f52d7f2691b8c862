ALTER TABLE social_accounts DROP COLUMN refresh_claimed_until;
